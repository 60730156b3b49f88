package main

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/storemirror/storemirror/store/storetest"
)

func TestDocsCommand(t *testing.T) {
	t.Parallel()
	path, env := dbConfig(t, storetest.NewURL(t))
	out, err := runCommand(t, env, "docs", "--config", path)
	if err != nil {
		t.Fatalf("docs: %v\n%s", err, out)
	}
	for _, want := range []string{"# The mirror's data dictionary\n", "\n## mirror.products\n", "\n## mirror.products_current\n", "| `price` | numeric |"} {
		if !strings.Contains(out, want) {
			t.Errorf("docs (markdown, the default) lacks %q", want)
		}
	}
	out, err = runCommand(t, env, "docs", "--config", path, "--format", "dbt")
	if err != nil {
		t.Fatalf("docs --format dbt: %v\n%s", err, out)
	}
	var f struct {
		Version int `yaml:"version"`
		Sources []struct {
			Name   string           `yaml:"name"`
			Tables []map[string]any `yaml:"tables"`
		} `yaml:"sources"`
	}
	if err := yaml.Unmarshal([]byte(out), &f); err != nil {
		t.Fatalf("parse docs --format dbt: %v\n%s", err, out)
	}
	if f.Version != 2 || len(f.Sources) != 1 || f.Sources[0].Name != "storemirror" || len(f.Sources[0].Tables) < 28 {
		t.Errorf("dbt file: version %d, sources %+v; want version 2 and source storemirror with every table and view", f.Version, f.Sources)
	}
}

func TestDocsCommandRefuses(t *testing.T) {
	t.Parallel()
	path, env := dbConfig(t, storetest.NewURL(t))
	if _, err := runCommand(t, env, "docs", "--config", path, "--format", "html"); err == nil || !strings.Contains(err.Error(), "--format must be markdown or dbt") {
		t.Errorf("docs --format html: %v, want a refusal", err)
	}
	empty, emptyEnv := dbConfig(t, storetest.NewEmptyURL(t))
	if _, err := runCommand(t, emptyEnv, "docs", "--config", empty); err == nil || !strings.Contains(err.Error(), "run storemirror migrate first") {
		t.Errorf("docs on a database never migrated: %v, want a hint to migrate", err)
	}
}
