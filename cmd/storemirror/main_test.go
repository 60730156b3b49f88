package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	"github.com/storemirror/storemirror/webhooks/bamboo/bamboofake"
)

const (
	e2eSecret = "whsec_ZTJlLXRlc3Qtc2VjcmV0LWtleQ=="
	e2eToken  = "e2e-admin-token-0123456789"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines to write to.
type syncBuffer struct {
	mu stdsync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fakeCatalog is a Bamboo API with a catalog of two products, 7 and 8, of one brand.
func fakeCatalog(t *testing.T) *httptest.Server {
	count := 3
	modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(&bamboofake.API{Username: "id", Password: "pw", Brands: []bamboofake.Brand{{Name: "Brand", Products: []bamboofake.Product{
		{ID: 7, Name: "Gift 7", Price: "4.50", Count: &count, Modified: modified},
		{ID: 8, Name: "Gift 8", Price: "8", Modified: modified},
	}}}})
	t.Cleanup(srv.Close)
	return srv
}

type runningDaemon struct {
	config string            // the config file
	env    map[string]string // its environment
	addr   string
	db     *store.DB
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startDaemon runs the real Main's serve on port 0 against a fresh database.
func startDaemon(t *testing.T, adminToken string) *runningDaemon {
	t.Helper()
	return startDaemonWith(t, daemonOptions{adminToken: adminToken})
}

// daemonOptions vary what startDaemonWith runs.
type daemonOptions struct {
	adminToken      string
	dbURL           string            // "": a fresh, migrated database
	autoMigrateOff  bool              // database.auto_migrate: false
	shutdownTimeout string            // Go syntax; "": 10s
	env             map[string]string // added to the daemon's environment (NOTIFY_SOCKET...)
	listen          func(network, address string) (net.Listener, error)
	schemaPoll      time.Duration
	reconcile       string // the bamboo source's reconcile settings, a YAML flow mapping; "": none
}

// startDaemonWith runs the real Main's serve on port 0, as o says, and returns once it listens.
func startDaemonWith(t *testing.T, o daemonOptions) *runningDaemon {
	t.Helper()
	if o.shutdownTimeout == "" {
		o.shutdownTimeout = "10s"
	}
	dbURL := o.dbURL
	if dbURL == "" {
		dbURL = storetest.NewURL(t)
	}
	api := fakeCatalog(t)
	config := fmt.Sprintf(`
database: {url: "${DB_URL}", auto_migrate: %t}
http: {listen: "127.0.0.1:0"}
shutdown_timeout: %s
admin: {token: "${ADMIN_TOKEN}"}
log: {level: debug}
sources:
  - name: bamboo
    kind: bamboo
    secrets: ["${BAMBOO_SECRET}"]
    api: {base_url: %q, username: id, password: pw, requests_per_second: 100}
    reconcile: %s
`, !o.autoMigrateOff, o.shutdownTimeout, api.URL, cmp.Or(o.reconcile, "{}"))
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DB_URL": dbURL, "ADMIN_TOKEN": o.adminToken, "BAMBOO_SECRET": e2eSecret}
	maps.Copy(env, o.env)
	listening := make(chan string, 1)
	logs := &syncBuffer{}
	m := &Main{Stdout: logs, Stderr: logs, Getenv: lookup(env), Listening: listening, listen: o.listen, schemaPoll: o.schemaPoll}
	ctx, cancel := context.WithCancel(context.Background())
	d := &runningDaemon{config: path, env: env, logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { d.done <- m.Run(ctx, []string{"serve", "--config", path}) }()
	select {
	case d.addr = <-listening:
	case err := <-d.done:
		t.Fatalf("serve ended at start: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start\n%s", logs)
	}
	t.Cleanup(func() { d.stop(t) })
	db, err := store.Open(context.Background(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d.db = db
	return d
}

func (d *runningDaemon) stop(t *testing.T) {
	d.cancel()
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("serve returned %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(15 * time.Second):
		t.Errorf("serve did not stop within shutdown_timeout")
	}
	d.done <- nil // for a second stop
}

func (d *runningDaemon) do(t *testing.T, method, path string, header http.Header, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+d.addr+path, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond for up to ten seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// count runs a count(*) query on the daemon's database, failing t if the query fails.
func (d *runningDaemon) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	storetest.Get(t, d.db, &n, query)
	return n
}

func TestServeEndToEnd(t *testing.T) {
	d := startDaemon(t, e2eToken)

	// A signed Bamboo webhook is stored, answered 200, and applied by the workers.
	body := `{"orderId":100123,"status":"succeeded","totalCards":5,"createdOn":"2026-04-01T08:00:00+00:00","completedOn":"2026-04-01T08:05:00+00:00","requestId":"r-1"}`
	wh, _ := svix.NewWebhook(e2eSecret)
	sig, _ := wh.Sign("msg_e2e", time.Now(), []byte(body))
	h := http.Header{"Svix-Id": {"msg_e2e"}, "Svix-Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Svix-Signature": {sig}}
	if status, resp := d.do(t, http.MethodPost, "/webhooks/bamboo", h, body); status != http.StatusOK {
		t.Fatalf("signed webhook: %d %s", status, resp)
	}
	eventually(t, "the order in the mirror", func() bool {
		return d.count(t, `SELECT count(*) FROM mirror.orders WHERE source = 'bamboo' AND external_id = '100123' AND total_cards = 5`) == 1
	})
	if status, _ := d.do(t, http.MethodPost, "/webhooks/bamboo", http.Header{"Svix-Id": {"x"}}, body); status != http.StatusUnauthorized {
		t.Errorf("unsigned webhook: %d, want 401", status)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "storemirror_inbox_backlog"} {
		if status, resp := d.do(t, http.MethodGet, path, nil, ""); status != http.StatusOK || !strings.Contains(resp, want) {
			t.Errorf("GET %s: %d %.200s", path, status, resp)
		}
	}

	// The admin API: no token, a wrong token, then the right one.
	req := `{"source":"bamboo","entities":["products"],"mode":"full"}`
	if status, _ := d.do(t, http.MethodPost, "/admin/resync", nil, req); status != http.StatusUnauthorized {
		t.Errorf("resync without a token: %d, want 401", status)
	}
	if status, _ := d.do(t, http.MethodPost, "/admin/resync", http.Header{"Authorization": {"Bearer wrong-token-0123456789"}}, req); status != http.StatusUnauthorized {
		t.Errorf("resync with a wrong token: %d, want 401", status)
	}
	auth := http.Header{"Authorization": {"Bearer " + e2eToken}}
	status, resp := d.do(t, http.MethodPost, "/admin/resync", auth, req)
	if status != http.StatusAccepted {
		t.Fatalf("resync: %d %s, want 202", status, resp)
	}
	var started struct {
		RunID  int64   `json:"run_id"`
		RunIDs []int64 `json:"run_ids"`
	}
	if err := json.Unmarshal([]byte(resp), &started); err != nil {
		t.Fatalf("resync answer %s: %v", resp, err)
	}
	if started.RunID == 0 || len(started.RunIDs) != 1 || started.RunIDs[0] != started.RunID {
		t.Fatalf("resync answer %s", resp)
	}
	var run struct {
		Status     string `json:"status"`
		Fetched    int    `json:"fetched"`
		Created    int    `json:"created"`
		Unchanged  int    `json:"unchanged"`
		Backfilled int    `json:"backfilled"`
		Mode       string `json:"mode"`
		Trigger    string `json:"trigger"`
	}
	eventually(t, "the run to finish", func() bool {
		_, resp := d.do(t, http.MethodGet, fmt.Sprintf("/admin/runs/%d", started.RunID), auth, "")
		if err := json.Unmarshal([]byte(resp), &run); err != nil {
			t.Fatalf("run answer %s: %v", resp, err)
		}
		return run.Status != "queued" && run.Status != "running"
	})
	if run.Status != "succeeded" || run.Fetched != 2 || run.Backfilled+run.Unchanged != 2 || run.Created != 0 || run.Mode != "full" || run.Trigger != "manual" {
		t.Errorf("run = %+v, want a succeeded manual full pass over the 2 products", run)
	}
	// The daemon also starts an incremental pass at startup (skipped if the manual one held the
	// lock); between them, the products were backfilled once, and nothing was a repair.
	eventually(t, "every pass to finish", func() bool {
		return d.count(t, `SELECT count(*) FROM sync.reconcile_runs WHERE status IN ('queued', 'running')`) == 0
	})
	var backfilled, created int
	if err := d.db.SQL().QueryRow(`SELECT sum(backfilled), sum(created) FROM sync.reconcile_runs WHERE entity = 'products'`).Scan(&backfilled, &created); err != nil {
		t.Fatal(err)
	}
	if backfilled != 2 || created != 0 {
		t.Errorf("the passes backfilled %d products and created %d, want 2 and 0", backfilled, created)
	}
	if status, _ := d.do(t, http.MethodGet, "/admin/runs/999999", auth, ""); status != http.StatusNotFound {
		t.Errorf("unknown run: %d, want 404", status)
	}
	if status, _ := d.do(t, http.MethodPost, "/admin/resync", auth, `{"source":"nope"}`); status != http.StatusNotFound {
		t.Errorf("resync of an unknown source: %d, want 404", status)
	}
	if status, _ := d.do(t, http.MethodPost, "/admin/resync", auth, `{"source":"bamboo","entities":["pages"]}`); status != http.StatusBadRequest {
		t.Errorf("resync of an entity the source lacks: %d, want 400", status)
	}

	d.stop(t)
	if logs := d.logs.String(); strings.Contains(logs, e2eSecret) || strings.Contains(logs, e2eToken) {
		t.Error("a secret appears in the logs")
	}
}

func TestAdminDisabledWithoutToken(t *testing.T) {
	d := startDaemon(t, "")
	if status, _ := d.do(t, http.MethodPost, "/admin/resync", http.Header{"Authorization": {"Bearer anything-at-all-123"}}, `{"source":"bamboo"}`); status != http.StatusNotFound {
		t.Errorf("admin API without a configured token: %d, want 404", status)
	}
}

func TestCheckConfigCommand(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: lookup(devEnv(t))}
	if err := m.Run(context.Background(), []string{"check-config", "--config", filepath.Join("..", "..", "config.example.yaml")}); err != nil {
		t.Errorf("check-config of the example: %v\n%s", err, out.String())
	}
	// Every problem at once, in the file's order, each as FILE:LINE: PATH: MESSAGE.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(`database:
  url: "postgres://x/y"
  max_con: 4
shutdown_timeout: 15
sources:
  - name: a
    kind: canonical
    secrets: []
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	m = &Main{Stdout: &stdout, Stderr: &stderr, Getenv: lookup(nil)}
	err := m.Run(context.Background(), []string{"check-config", "--config", bad})
	want := bad + ":3: database.max_con: unknown key\n" +
		bad + `:4: shutdown_timeout: must be a duration in Go syntax (30s, 5m, 720h), not "15"` + "\n" +
		bad + ":8: sources[0].secrets: at least one secret is required\n"
	if err == nil || exitCode(err) != 1 || stdout.String() != want || stderr.String() != "" {
		t.Errorf("check-config of a bad file: err %v, stdout:\n%s\nstderr: %q\nwant stdout:\n%s", err, stdout.String(), stderr.String(), want)
	}
}
