package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/store/storetest"
)

// runCommand runs the real Main with args and returns its output.
func runCommand(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	out := &syncBuffer{}
	m := &Main{Stdout: out, Stderr: out, Getenv: lookup(env)}
	err := m.Run(context.Background(), args)
	return out.String(), err
}

func writeConfig(t *testing.T, apiURL string) (string, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	config := fmt.Sprintf(`
database: {url: "${DB_URL}"}
sources:
  - name: bamboo
    kind: bamboo
    secrets: ["${BAMBOO_SECRET}"]
    api: {base_url: %q, username: id, password: pw, requests_per_second: 100}
`, apiURL)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, map[string]string{"DB_URL": storetest.NewURL(t), "BAMBOO_SECRET": e2eSecret}
}

func TestResyncCommand(t *testing.T) {
	api := fakeCatalog(t)
	path, env := writeConfig(t, api.URL)
	out, err := runCommand(t, env, "resync", "--config", path, "--source", "bamboo", "--entity", "products", "--mode", "full")
	if err != nil {
		t.Fatalf("resync: %v\n%s", err, out)
	}
	if !strings.Contains(out, "bamboo/products (full, run 1): succeeded in") || !strings.Contains(out, "1 pages, 2 fetched, 0 created, 0 updated, 0 deleted, 0 unchanged, 2 backfilled") {
		t.Errorf("summary:\n%s", out)
	}
	if _, err := runCommand(t, env, "resync", "--config", path, "--source", "bamboo", "--entity", "pages"); err == nil {
		t.Error("resync of an entity the source lacks succeeded")
	}
	if _, err := runCommand(t, env, "resync", "--config", path); err == nil {
		t.Error("resync without --source succeeded")
	}
}

func TestResyncCommandFails(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such account", http.StatusForbidden) // not retried: the pass fails at once
	}))
	defer broken.Close()
	path, env := writeConfig(t, broken.URL)
	out, err := runCommand(t, env, "resync", "--config", path, "--source", "bamboo", "--entity", "products", "--mode", "full")
	if err == nil || !strings.Contains(out, "failed") || !strings.Contains(out, "bamboo: GET /api/integration/v2.0/catalog: 403 Forbidden: no such account") {
		t.Errorf("resync against a failing API: err %v\n%s", err, out)
	}
}

// The inbox is enough to rebuild the mirror: replay re-applies every stored event.
func TestReplayRestoresTheMirror(t *testing.T) {
	d := startDaemon(t, "")
	wh, _ := svix.NewWebhook(e2eSecret)
	for i, status := range []string{"processing", "succeeded"} {
		body := fmt.Sprintf(`{"orderId":1,"status":%q,"totalCards":%d,"completedOn":"2026-04-01T08:0%d:00Z","requestId":"r-1"}`, status, i+1, i)
		id := fmt.Sprint("msg_", i)
		sig, _ := wh.Sign(id, time.Now(), []byte(body))
		h := http.Header{"Svix-Id": {id}, "Svix-Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Svix-Signature": {sig}}
		if status, _ := d.do(t, http.MethodPost, "/webhooks/bamboo", h, body); status != http.StatusOK {
			t.Fatalf("post: %d", status)
		}
	}
	state := func() string {
		var rows []string
		storetest.Select(t, d.db, &rows, `SELECT concat_ws('|', external_id, status, total_cards, completed_at, raw::text) FROM mirror.orders ORDER BY 1`)
		return strings.Join(rows, "\n")
	}
	eventually(t, "both events applied", func() bool {
		return d.count(t, `SELECT count(*) FROM sync.webhook_events WHERE status = 'applied'`) == 2
	})
	before := state()
	if !strings.Contains(before, "1|succeeded|2|") {
		t.Fatalf("mirror before replay: %q", before)
	}
	d.stop(t)
	if _, err := d.db.SQL().Exec(`TRUNCATE mirror.orders, mirror.order_items`); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, d.env, "replay", "--config", d.config, "--source", "bamboo", "--status", "all")
	if err != nil || !strings.Contains(out, "replayed 2 events of bamboo: 2 applied, 0 ignored, 0 failed") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	if after := state(); after != before {
		t.Errorf("mirror after replay:\n%s\nwant:\n%s", after, before)
	}
	var origin string
	storetest.Get(t, d.db, &origin, `SELECT origin FROM mirror.orders`)
	if origin != "replay" {
		t.Errorf("origin = %q, want replay", origin)
	}
	var replayed, total int
	if err := d.db.SQL().QueryRow(`SELECT count(replayed_at), count(*) FROM sync.webhook_events WHERE source = 'bamboo'`).Scan(&replayed, &total); err != nil {
		t.Fatal(err)
	}
	if total != 2 || replayed != 2 {
		t.Errorf("events marked replayed: %d of %d, want 2 of 2", replayed, total)
	}
	// Only failed events by default: none now.
	if out, err := runCommand(t, d.env, "replay", "--config", d.config, "--source", "bamboo"); err != nil || !strings.Contains(out, "replayed 0 events") {
		t.Errorf("replay --status failed: %v\n%s", err, out)
	}
}
