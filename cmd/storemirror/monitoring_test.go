package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// What the repository ships for monitoring, relative to this package.
var (
	alertRulesFile = filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml")
	alertTestFiles = []string{"alerts_test.yml", "alerts_weekly_test.yml"} // beside alertRulesFile
	runbookFile    = filepath.Join("..", "..", "docs", "runbook.md")
)

const runbookURL = "https://github.com/storemirror/storemirror/blob/main/docs/runbook.md"

// promtool runs Prometheus's promtool through scripts/promtool, which fetches it when the
// machine has none, and returns its combined output.
func promtool(t *testing.T, dir string, stdin []byte, args ...string) (string, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "promtool"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestAlertRules(t *testing.T) {
	t.Parallel()
	dir := filepath.Dir(alertRulesFile)
	if out, err := promtool(t, dir, nil, "check", "rules", filepath.Base(alertRulesFile)); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	args := append([]string{"test", "rules"}, alertTestFiles...)
	if out, err := promtool(t, dir, nil, args...); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	b, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	return rf
}

// TestAlertsHaveRunbookSections checks that every alert says what it is and links a section of
// docs/runbook.md that exists, and that every alert is tested.
func TestAlertsHaveRunbookSections(t *testing.T) {
	t.Parallel()
	runbook, err := os.ReadFile(runbookFile)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^## (.+)$`).FindAllStringSubmatch(string(runbook), -1) {
		anchors[githubAnchor(m[1])] = true
	}
	var tests []byte
	for _, f := range alertTestFiles {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(alertRulesFile), f))
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, b...)
	}
	alerts := 0
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want a summary and a description", r.Alert)
			}
			if got, want := r.Annotations["runbook_url"], runbookURL+"#"+githubAnchor(r.Alert); got != want {
				t.Errorf("%s: runbook_url %q, want %q", r.Alert, got, want)
			}
			if !anchors[githubAnchor(r.Alert)] {
				t.Errorf("%s: %s has no section \"## %s\"", r.Alert, runbookFile, r.Alert)
			}
			if !bytes.Contains(tests, []byte("alertname: "+r.Alert+"\n")) {
				t.Errorf("%s: no test in %v", r.Alert, alertTestFiles)
			}
		}
	}
	if alerts < 8 {
		t.Errorf("%d alerts in %s, want at least 8", alerts, alertRulesFile)
	}
}

// githubAnchor is the fragment GitHub gives a Markdown heading: lower case, spaces as hyphens,
// punctuation dropped.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
