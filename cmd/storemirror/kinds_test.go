package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/internal/kinds"
	"github.com/storemirror/storemirror/provider"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// Every registered kind is complete (docs/adding-a-provider.md): a source of it in the example
// config, a demo sample that its own verifier accepts and that fills the mirror rows the demo
// shows, a fuzz target that `make fuzz` finds, testdata fixtures, and a worked example of its
// signature in the reference.
func TestEveryKindIsComplete(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "..", "config.example.yaml"), lookup(devEnv(t)))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	srcs, err := buildSources(cfg.Sources)
	if err != nil {
		t.Fatalf("build the example's sources: %v", err)
	}
	fuzzed := fuzzTargets(t)
	seen := map[string]bool{}
	for _, k := range kinds.All {
		if k.Name == "" || k.New == nil || seen[k.Name] {
			t.Fatalf("kind %q: a kind needs a name of its own and New", k.Name)
		}
		seen[k.Name] = true
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			i := sourceOfKind(cfg, k.Name)
			if i < 0 {
				t.Fatalf("config.example.yaml has no source of kind %s (make run and make demo use it)", k.Name)
			}
			c := cfg.Sources[i]
			src := srcs.verifiers[c.Name].(provider.Source)
			checkSample(t, k, c, src)
			pkg := reflect.TypeOf(src).Elem().PkgPath()
			if len(fuzzed[pkg]) == 0 {
				t.Errorf("make fuzz finds no fuzz target in %s: add a FuzzDecode (see docs/adding-a-provider.md)", pkg)
			}
			fixtures, err := filepath.Glob(filepath.Join(packageDir(t, pkg), "testdata", "*"))
			if err != nil || len(fixtures) == 0 {
				t.Errorf("%s has no testdata/ fixtures (%v): keep real payloads there", pkg, err)
			}
			if !strings.Contains(signaturesDoc, "\n- kind: `"+k.Name+"`\n") {
				t.Errorf("docs/reference/signatures.md has no worked example of kind %s (see docs/adding-a-provider.md)", k.Name)
			}
		})
	}
}

// signaturesDoc is docs/reference/signatures.md, whose worked examples package docs verifies.
var signaturesDoc = func() string {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference", "signatures.md"))
	if err != nil {
		return ""
	}
	return string(b)
}()

func sourceOfKind(cfg Config, kind string) int {
	for i, s := range cfg.Sources {
		if s.Kind == kind {
			return i
		}
	}
	return -1
}

// checkSample posts nothing: it verifies the kind's sample as the handler would, stores it,
// applies it through the apply worker, and reads the rows the demo would show.
func checkSample(t *testing.T, k provider.Kind, c SourceConfig, src provider.Source) {
	t.Helper()
	if k.Sample == nil {
		t.Fatalf("kind %s has no Sample for make demo", k.Name)
	}
	now := time.Now()
	s, err := k.Sample(c.Secrets, "test", now)
	if err != nil {
		t.Fatalf("sample: %v", err)
	}
	header := http.Header{} // as it comes off the wire: canonical keys
	for key, vs := range s.Header {
		for _, v := range vs {
			header.Add(key, v)
		}
	}
	d, err := src.Verify(webhooks.Request{Path: s.Path, Header: header, Body: s.Body, Now: now})
	if err != nil || d.Invalid != nil {
		t.Fatalf("the kind's own verifier refuses its sample: %v (invalid: %v)", err, d.Invalid)
	}
	db := storetest.NewDB(t)
	ctx := context.Background()
	d.Source = c.Name
	if _, err := db.InsertEvents(ctx, []mirrorsync.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	w := &mirrorsync.Worker{Inbox: db, Decoders: mirrorsync.Registry{c.Name: src}, BatchSize: 1, Log: logrus.NewEntry(log),
		Policy: mirrorsync.RetryPolicy{MaxAttempts: 1}}
	batch, err := w.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Outcomes) != 1 || batch.Outcomes[0].Status != "applied" {
		t.Fatalf("sample outcomes %+v, want one applied", batch.Outcomes)
	}
	if len(s.Show) == 0 {
		t.Error("the sample shows no mirror rows")
	}
	for _, r := range s.Show {
		cols := make([]string, len(r.Columns))
		for i, col := range r.Columns {
			cols[i] = pq.QuoteIdentifier(col)
		}
		var n int
		q := fmt.Sprintf(`SELECT count(*) FROM (SELECT %s FROM mirror.%s WHERE source = $1) AS shown`, strings.Join(cols, ", "), pq.QuoteIdentifier(r.Table))
		if err := db.SQL().Get(&n, q, c.Name); err != nil || n == 0 {
			t.Errorf("the demo would show %d rows of mirror.%s %v (%v), want the sample's", n, r.Table, r.Columns, err)
		}
	}
}

// fuzzTargets returns the fuzz targets of each package, as `make fuzz` finds them.
func fuzzTargets(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command(filepath.Join("..", "..", "scripts", "fuzz"), "--list").Output()
	if err != nil {
		t.Fatalf("scripts/fuzz --list: %v", err)
	}
	targets := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if pkg, name, ok := strings.Cut(sc.Text(), " "); ok {
			targets[pkg] = append(targets[pkg], name)
		}
	}
	return targets
}

// packageDir returns the directory of the module's package pkg.
func packageDir(t *testing.T, pkg string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	module := strings.TrimSpace(strings.TrimPrefix(first, "module"))
	rel, ok := strings.CutPrefix(pkg, module+"/")
	if !ok {
		t.Fatalf("%s is not a package of module %s", pkg, module)
	}
	return filepath.Join("..", "..", filepath.FromSlash(rel))
}
