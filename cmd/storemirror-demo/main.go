// Command storemirror-demo is `make demo`: for each source of the configuration `make run` uses,
// it posts its kind's correctly signed sample delivery to the daemon, waits for the apply
// workers, and prints the mirror rows the samples produced. The samples come from the provider
// kinds (provider.Kind.Sample), signed with the sources' secrets: the development values of
// dev.env, read from its environment.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lib/pq"
	"go.yaml.in/yaml/v3"

	"github.com/storemirror/storemirror/internal/kinds"
	"github.com/storemirror/storemirror/provider"
)

func main() {
	config := flag.String("config", "config.example.yaml", "the configuration the daemon runs with")
	flag.Parse()
	if err := run(*config); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// sample is one source's sample delivery.
type sample struct {
	source string
	provider.Sample
}

func run(config string) error {
	base := env("STOREMIRROR_DEMO_URL", "http://127.0.0.1:8080")
	if _, err := http.Get(base + "/healthz"); err != nil {
		return fmt.Errorf("no daemon at %s: start it with `make run` in another terminal first", base)
	}
	db, err := openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	run := strconv.FormatInt(time.Now().Unix(), 10) // fresh delivery ids, so every demo stores new events
	samples, err := buildSamples(config, run)
	if err != nil {
		return err
	}
	since := time.Now().Add(-time.Second)
	for _, s := range samples {
		path := "/webhooks/" + s.source + s.Path
		status, answer, err := post(base+path, s.Header, s.Body)
		if err != nil {
			return err
		}
		fmt.Printf("POST %-40s %d %s\n", path, status, strings.TrimSpace(answer))
	}
	if err := waitApplied(db, since); err != nil {
		return err
	}
	for _, s := range samples {
		fmt.Printf("\n== %s\n", s.Title)
		if err := printRows(db, s.source, s.Show); err != nil {
			return err
		}
	}
	fmt.Print("\nEvery delivery is in sync.webhook_events; try: psql \"$(cat .run/database-url)\" -c '\\d+ mirror.products'\n")
	fmt.Printf("\nThe status page: %s/status (sign in with any user name and the admin token, STOREMIRROR_ADMIN_TOKEN in dev.env)\n", base)
	return nil
}

// configSource is what the demo reads of a configured source.
type configSource struct {
	Name    string   `yaml:"name"`
	Kind    string   `yaml:"kind"`
	Secrets []string `yaml:"secrets"`
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// buildSamples returns one sample per configured source, signed with its secrets (${VAR}
// expanded from the environment, as the daemon does).
func buildSamples(config, run string) ([]sample, error) {
	b, err := os.ReadFile(config)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Sources []configSource `yaml:"sources"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", config, err)
	}
	var out []sample
	for _, src := range cfg.Sources {
		kind, ok := kinds.All.Lookup(src.Kind)
		if !ok || kind.Sample == nil {
			return nil, fmt.Errorf("source %s: kind %q has no sample", src.Name, src.Kind)
		}
		secrets := make([]string, len(src.Secrets))
		for i, s := range src.Secrets {
			secrets[i] = envRef.ReplaceAllStringFunc(s, func(ref string) string { return os.Getenv(envRef.FindStringSubmatch(ref)[1]) })
		}
		s, err := kind.Sample(secrets, run, time.Now())
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		out = append(out, sample{src.Name, s})
	}
	return out, nil
}

func post(url string, h http.Header, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// openDB connects to the database `make run` uses (its URL is in .run/database-url).
func openDB() (*sql.DB, error) {
	url := os.Getenv("STOREMIRROR_DATABASE_URL")
	if url == "" {
		b, err := os.ReadFile(filepath.Join(".run", "database-url"))
		if err != nil {
			return nil, fmt.Errorf("no STOREMIRROR_DATABASE_URL and no .run/database-url: is `make run` running?")
		}
		url = strings.TrimSpace(string(b))
	}
	return sql.Open("postgres", url)
}

// waitApplied waits until the workers have handled every event received since since.
func waitApplied(db *sql.DB, since time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		var pending int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sync.webhook_events WHERE received_at >= $1 AND status = 'pending'`, since).Scan(&pending)
		if err != nil {
			return fmt.Errorf("read the inbox: %w", err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d events still pending after 15s", pending)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// printRows prints each set of the source's rows as a table.
func printRows(db *sql.DB, source string, show []provider.Rows) error {
	for _, r := range show {
		if err := printTable(db, source, r); err != nil {
			return fmt.Errorf("mirror.%s: %w", r.Table, err)
		}
		fmt.Println()
	}
	return nil
}

func printTable(db *sql.DB, source string, r provider.Rows) error {
	cols, order := make([]string, len(r.Columns)), make([]string, len(r.Columns))
	for i, c := range r.Columns {
		cols[i], order[i] = pq.QuoteIdentifier(c), strconv.Itoa(i+1)
	}
	rows, err := db.Query(fmt.Sprintf(`SELECT %s FROM mirror.%s WHERE source = $1 ORDER BY %s`,
		strings.Join(cols, ", "), pq.QuoteIdentifier(r.Table), strings.Join(order, ", ")), source)
	if err != nil {
		return err
	}
	defer rows.Close()
	w := tabwriter.NewWriter(os.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(r.Columns, "\t"))
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = "NULL"
			if v.Valid {
				cells[i] = v.String
			}
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return w.Flush()
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
