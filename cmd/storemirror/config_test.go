package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/kinds"
)

// devEnv reads ../../dev.env: the development values `make run` supplies.
func devEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "dev.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
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
	t.Parallel()
	cases := []struct {
		name, yaml string
		env        map[string]string
		want       []string // every problem, in order, as LINE: PATH: MESSAGE
	}{
		{"no secrets", `
database: {url: "postgres://x/y"}
sources:
  - {name: a, kind: bamboo, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]}
  - {name: b, kind: canonical, secrets: []}`, nil,
			[]string{"5: sources[1].secrets: at least one secret is required"}},
		{"unset secret variable", `
database: {url: "postgres://x/y"}
sources: [{name: a, kind: backinstock, secrets: ["${BIS_KEY}"]}]`, nil,
			[]string{"3: sources[0].secrets[0]: empty (unset environment variables: BIS_KEY)"}},
		{"the hint names only the field's own variables", `
database:
  url: ${DB_URL}
sources:
  - name: a
    kind: bamboo
    secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "${OLD_SECRET}"]
    api: {base_url: "https://api.example", username: "${CLIENT_ID}", password: "${CLIENT_SECRET}", store_id: "${STORE}"}
  - {name: b, kind: barecommerce, secrets: [k], api: {base_url: "https://api.example", token: "${TOKEN}", store_id: "${STORE}"}}`,
			map[string]string{"CLIENT_SECRET": "set"},
			[]string{
				"3: database.url: required (unset environment variables: DB_URL)",
				"7: sources[0].secrets[1]: empty (unset environment variables: OLD_SECRET)",
				"8: sources[0].api: bamboo uses HTTP Basic: username and password are required (unset environment variables: CLIENT_ID)",
				"9: sources[1].api.token: a bearer token is required (unset environment variables: TOKEN)",
				"9: sources[1].api.store_id: the store to pull is required (every barecommerce resource is store-scoped)",
			}},
		{"unknown keys do not hide the other problems", `
database: {url: "postgres://x/y", auto_migrat: true}
log: {level: loud}
sources: [{name: a, kind: canonical, secrets: [s], api: {base_url: "", tokn: x}}]
extra: 1`, nil,
			[]string{
				"2: database.auto_migrat: unknown key",
				"3: log.level: must be debug, info, warn or error",
				"4: sources[0].api.tokn: unknown key",
				"4: sources[0].api: the canonical kind has no API to pull",
				"5: extra: unknown key",
			}},
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
				"2: database.url: must be a postgres:// URL",
				"3: http.listen: must be host:port (127.0.0.1:8080)",
				"3: http.max_body_bytes: must be positive",
				"4: log.level: must be debug, info, warn or error",
				"4: log.format: must be json or text",
				"5: admin.token: must be at least 16 characters (or empty to disable the admin API)",
				"6: inbox.workers: must be at least 1",
				"6: inbox.max_attempts: must be at least 1",
				"8: sources[0].name: must match [a-z0-9-]+ (it appears in URLs and in every mirror row)",
				"8: sources[0].kind: must be one of bamboo, stickyio, barecommerce, canonical, backinstock",
				"9: sources[1].secrets[0]: a sticky.io key phrase is exactly 32 characters (this one has 8)",
				"10: sources[2].name: \"s\" is already the name of sources[1]",
				"10: sources[2].store_ids: only the canonical kind resolves stores",
				"10: sources[2].secrets[0]: a Svix secret is whsec_ followed by base64",
			}},
		{"api needs credentials", `
database: {url: "postgres://x/y"}
sources:
  - {name: a, kind: bamboo, secrets: [k], api: {base_url: "https://api.example", username: "${ID}"}, reconcile: {schedule: "every day"}}
  - name: b
    kind: barecommerce
    secrets: [k]
    api:
      base_url: "ftp://x"`, nil,
			[]string{
				"4: sources[0].api: bamboo uses HTTP Basic: username and password are required (unset environment variables: ID)",
				"4: sources[0].reconcile.schedule: not a cron schedule: expected exactly 5 fields, found 2: [every day]",
				"8: sources[1].api.token: a bearer token is required",
				"8: sources[1].api.store_id: the store to pull is required (every barecommerce resource is store-scoped)",
				"9: sources[1].api.base_url: must be an http(s) URL",
			}},
		{"values of the wrong type, each at its path, and the rest still checked", `
database:
  url: "postgres://x/y"
  max_conns: lots
  auto_migrate: sometimes
shutdown_timeout: 15
inbox:
  retention: forever
  workers: 0
sources:
  - name: a
    kind: canonical
    secrets: s
    api: {requests_per_second: fast, base_url: "https://x", token: t}
    reconcile: {overlap: "${MINUTES}m"}
  - "b"`, nil,
			[]string{
				`4: database.max_conns: must be a whole number, not "lots"`,
				`5: database.auto_migrate: must be true or false, not "sometimes"`,
				`6: shutdown_timeout: must be a duration in Go syntax (30s, 5m, 720h), not "15"`,
				`8: inbox.retention: must be a duration in Go syntax (30s, 5m, 720h), not "forever"`,
				`9: inbox.workers: must be at least 1`,
				`13: sources[0].secrets: must be a list`,
				`14: sources[0].api.requests_per_second: must be a number, not "fast"`,
				`14: sources[0].api: the canonical kind has no API to pull`,
				`15: sources[0].reconcile.overlap: must be a duration in Go syntax (30s, 5m, 720h), not "${MINUTES}m" (unset environment variables: MINUTES)`,
				`16: sources[1]: must be a mapping of keys to values`,
			}},
		{"a value is quoted as written, not as its variable's value", `
database: {url: "postgres://x/y", max_conns: "${CONNS}"}
sources: [{name: a, kind: canonical, secrets: [s]}]`, map[string]string{"CONNS": "not-a-number-but-a-secret"},
			[]string{`2: database.max_conns: must be a whole number, not "${CONNS}"`}},
		{"a key given twice", `
database: {url: "postgres://x/y"}
sources: [{name: a, kind: canonical, secrets: [s]}]
database: {url: "postgres://x/z"}`, nil,
			[]string{"4: database: given twice (first at line 2)"}},
		{"a section that is not a mapping", `
database: postgres://x/y
sources: [{name: a, kind: canonical, secrets: [s]}]`, nil,
			[]string{"2: database: must be a mapping of keys to values"}},
		{"not YAML", "database: {url: x\nsources: [", nil, []string{"1: not valid YAML: did not find expected ',' or '}'"}},
		{"not a mapping", "- a\n- b\n", nil, []string{"1: must be a mapping of keys to values"}},
		{"no sources", `database: {url: "postgres://x/y"}`, nil, []string{"0: sources: at least one source is required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfig([]byte(c.yaml), lookup(c.env))
			problems, ok := errors.AsType[Problems](err)
			if !ok {
				t.Fatalf("err = %v, want Problems", err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, fmt.Sprintf("%d: %s", p.Line, p))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// ${VAR} works in a value of any type: a number, a boolean, a duration read the variable's
// value, quoted or not; an unset one leaves the default, as an empty value does.
func TestExpansionInValuesOfEveryType(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CONNS": "7", "MIGRATE": "false", "SHUTDOWN": "40s", "RATE": "2.5", "SECRET": "123"}
	cfg, err := ParseConfig([]byte(`
database:
  url: postgres://x/y
  max_conns: ${CONNS}
  auto_migrate: "${MIGRATE}"
shutdown_timeout: ${SHUTDOWN}
inbox: {workers: "${UNSET}", retention: "${UNSET}"}
sources:
  - name: a
    kind: barecommerce
    secrets: ["${SECRET}"]
    api: {base_url: "https://x", token: t, store_id: s, requests_per_second: "${RATE}"}`), lookup(env))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{cfg.Database.MaxConns, cfg.Database.AutoMigrate, time.Duration(cfg.ShutdownTimeout), cfg.Sources[0].API.RequestsPerSecond,
		cfg.Sources[0].Secrets[0], cfg.Inbox.Workers, time.Duration(cfg.Inbox.Retention)}
	want := []any{7, false, 40 * time.Second, 2.5, "123", DefaultConfig().Inbox.Workers, time.Duration(DefaultConfig().Inbox.Retention)}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// ${credential:NAME} reads a systemd credential: the file NAME in $CREDENTIALS_DIRECTORY, which
// LoadCredential= in the unit fills, less its trailing line break.
func TestCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, value := range map[string]string{
		"database_url": "postgres://storemirror:pw@db/storemirror\n", "admin.token": "admin-token-0123456789",
		"bamboo-webhook": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\r\n", "conns": "9\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := ParseConfig([]byte(`
database: {url: "${credential:database_url}", max_conns: "${credential:conns}"}
admin: {token: "${credential:admin.token}"}
sources: [{name: a, kind: canonical, secrets: ["${credential:bamboo-webhook}", "v${credential:conns}-${credential:conns}"]}]`),
		lookup(map[string]string{"CREDENTIALS_DIRECTORY": dir}))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{cfg.Database.URL, cfg.Database.MaxConns, cfg.Admin.Token, cfg.Sources[0].Secrets[0], cfg.Sources[0].Secrets[1]}
	want := []any{"postgres://storemirror:pw@db/storemirror", 9, "admin-token-0123456789", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "v9-9"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}

	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"outside systemd", nil, "3: sources[0].secrets[0]: ${credential:bamboo-webhook}: $CREDENTIALS_DIRECTORY is not set: the unit passes credentials with LoadCredential="},
		{"a credential the unit does not pass", map[string]string{"CREDENTIALS_DIRECTORY": t.TempDir()},
			"3: sources[0].secrets[0]: ${credential:bamboo-webhook}: not in $CREDENTIALS_DIRECTORY"},
	} {
		_, err := ParseConfig([]byte(`
database: {url: "postgres://x/y"}
sources: [{name: a, kind: bamboo, secrets: ["${credential:bamboo-webhook}"]}]`), lookup(c.env))
		problems, _ := errors.AsType[Problems](err)
		if len(problems) != 1 || !strings.HasPrefix(fmt.Sprintf("%d: %s", problems[0].Line, problems[0]), c.want) {
			t.Errorf("%s: problems %v, want one that starts %q", c.name, err, c.want)
		}
	}
	// A name that could leave the directory is not read.
	_, err = ParseConfig([]byte(`
database: {url: "postgres://x/y"}
sources: [{name: a, kind: canonical, secrets: ["${credential:../bamboo-webhook}", "${credential:}"]}]`),
		lookup(map[string]string{"CREDENTIALS_DIRECTORY": filepath.Join(dir, "sub")}))
	for _, want := range []string{"sources[0].secrets[0]: ${credential:../bamboo-webhook}: not a credential name", "sources[0].secrets[1]: ${credential:}: not a credential name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("problems %v, want %q", err, want)
		}
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
