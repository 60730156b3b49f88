package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/cmd/internal/kinds"
)

// devEnv reads ../../dev.env: the development values `make run` supplies.
func devEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "dev.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{"STOREMIRROR_DATABASE_URL": "postgres://storemirror@127.0.0.1:5432/storemirror?sslmode=disable"}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	return env
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "..", "config.example.yaml"), lookup(devEnv(t)))
	if err != nil {
		t.Fatalf("config.example.yaml with the development values: %v", err)
	}
	seen := map[string]bool{}
	for _, s := range cfg.Sources {
		seen[s.Kind] = true
	}
	for _, k := range kinds.All {
		if !seen[k.Name] {
			t.Errorf("the example has no source of kind %s: every kind has one (make run and make demo use them)", k.Name)
		}
	}
	if cfg.Admin.Token != "dev-only-admin-token-not-a-secret" || cfg.Sources[0].Secrets[0] == "" {
		t.Errorf("${VAR} not expanded: token %q", cfg.Admin.Token)
	}
	if time.Duration(cfg.Inbox.Retention) != 720*time.Hour || time.Duration(cfg.ShutdownTimeout) != 15*time.Second {
		t.Errorf("durations: retention %v, shutdown %v", time.Duration(cfg.Inbox.Retention), time.Duration(cfg.ShutdownTimeout))
	}
	// dev.env points every source with an api at the sandbox; without those variables, an api
	// whose base_url comes from an unset variable is off.
	for _, s := range cfg.Sources {
		if s.API != nil && (!s.Enabled() || !strings.HasPrefix(s.API.BaseURL, "http://127.0.0.1:")) {
			t.Errorf("source %s: api base_url %q, want the local sandbox's", s.Name, s.API.BaseURL)
		}
	}
	env := devEnv(t)
	for k := range env {
		if strings.HasSuffix(k, "_API_URL") {
			delete(env, k)
		}
	}
	cfg, err = LoadConfig(filepath.Join("..", "..", "config.example.yaml"), lookup(env))
	if err != nil {
		t.Fatalf("config.example.yaml without the API URLs: %v", err)
	}
	for _, s := range cfg.Sources {
		if s.Enabled() {
			t.Errorf("source %s pulls an API although its base_url variable is unset", s.Name)
		}
	}
}

const minimal = `
database:
  url: postgres://localhost/storemirror
sources:
  - name: shop
    kind: barecommerce
    secrets: ["whsec_0123456789abcdef"]
`

func TestDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(minimal), lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	if cfg.HTTP != want.HTTP || cfg.Inbox != want.Inbox || cfg.Log != want.Log || !cfg.Database.AutoMigrate || cfg.Admin.Token != "" {
		t.Errorf("defaults not applied: %+v", cfg)
	}
	if time.Duration(cfg.Sources[0].Reconcile.Overlap) != 10*time.Minute {
		t.Errorf("reconcile.overlap default = %v", time.Duration(cfg.Sources[0].Reconcile.Overlap))
	}
}

func TestConfigProblems(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        map[string]string
		want       []string
	}{
		{"no secrets", `
database: {url: "postgres://x/y"}
sources:
  - {name: a, kind: bamboo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}
  - {name: b, kind: canonical, secrets: []}`, nil,
			[]string{"sources[1].secrets: at least one secret is required"}},
		{"unset secret variable", `
database: {url: "postgres://x/y"}
sources: [{name: a, kind: backinstock, secrets: ["${BIS_KEY}"]}]`, nil,
			[]string{"sources[0].secrets[0]: empty (unset environment variables: BIS_KEY)"}},
		{"unknown keys, with their paths", `
database: {url: "postgres://x/y", auto_migrat: true}
sources: [{name: a, kind: canonical, secrets: [s], api: {base_url: "", tokn: x}}]
extra: 1`, nil,
			[]string{"database.auto_migrat: unknown key", "sources[0].api.tokn: unknown key", "extra: unknown key"}},
		{"bad values", `
database: {url: "mysql://x/y"}
http: {listen: "8080", max_body_bytes: 0}
log: {level: loud, format: xml}
admin: {token: short}
inbox: {workers: 0, max_attempts: 0}
sources:
  - {name: "Bad Name", kind: shopify, secrets: [x]}
  - {name: s, kind: stickyio, secrets: [tooshort]}
  - {name: s, kind: bamboo, secrets: ["whsec_!!"], store_ids: [x]}`, nil,
			[]string{
				"database.url: must be a postgres:// URL",
				"http.listen: must be host:port (127.0.0.1:8080)",
				"http.max_body_bytes: must be positive",
				"admin.token: must be at least 16 characters (or empty to disable the admin API)",
				"log.level: must be debug, info, warn or error",
				"log.format: must be json or text",
				"inbox.workers: must be at least 1",
				"inbox.max_attempts: must be at least 1",
				"sources[0].name: must match [a-z0-9-]+ (it appears in URLs and in every mirror row)",
				"sources[0].kind: must be one of bamboo, stickyio, barecommerce, canonical, backinstock",
				"sources[1].secrets[0]: a sticky.io key phrase is exactly 32 characters (this one has 8)",
				"sources[2].name: \"s\" is already the name of sources[1]",
				"sources[2].secrets[0]: a Svix secret is whsec_ followed by base64",
				"sources[2].store_ids: only the canonical kind resolves stores",
			}},
		{"api needs credentials", `
database: {url: "postgres://x/y"}
sources:
  - {name: a, kind: bamboo, secrets: [k], api: {base_url: "https://api.example", username: "${ID}"}, reconcile: {schedule: "every day"}}
  - {name: b, kind: barecommerce, secrets: [k], api: {base_url: "ftp://x"}}`, nil,
			[]string{
				"sources[0].api: bamboo uses HTTP Basic: username and password are required (unset environment variables: ID)",
				"sources[0].reconcile.schedule: not a cron schedule",
				"sources[1].api.base_url: must be an http(s) URL",
				"sources[1].api.token: a bearer token is required",
				"sources[1].api.store_id: the store to pull is required",
			}},
		{"a duration in the wrong syntax", `
database: {url: "postgres://x/y"}
shutdown_timeout: 15
sources: [{name: a, kind: canonical, secrets: [s]}]`, nil,
			[]string{`not a duration (use Go syntax: 30s, 5m, 720h): "15"`}},
		{"no sources", `database: {url: "postgres://x/y"}`, nil, []string{"sources: at least one source is required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.yaml), lookup(c.env))
			if err == nil {
				t.Fatal("no problems reported")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("problems lack %q; got:\n%v", w, err)
				}
			}
		})
	}
}

// A secret's value is never parsed as YAML: ${VAR} is expanded after parsing.
func TestExpansionCannotInjectYAML(t *testing.T) {
	env := map[string]string{"SECRET": "x\"]\nadmin: {token: injected-token-1234567}"}
	cfg, err := ParseConfig([]byte(`
database: {url: "postgres://x/y"}
sources: [{name: a, kind: canonical, secrets: ["${SECRET}"]}]`), lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.Token != "" || cfg.Sources[0].Secrets[0] != env["SECRET"] {
		t.Errorf("expansion changed the document: token %q secret %q", cfg.Admin.Token, cfg.Sources[0].Secrets[0])
	}
}
