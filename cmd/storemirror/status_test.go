package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// storemirror status reads the database alone: after a resync it shows the pass, as a table and
// as the JSON of GET /admin/status; a pass a killed process left running shows as abandoned.
func TestStatusCommand(t *testing.T) {
	t.Parallel()
	api := fakeCatalog(t)
	path, env := writeConfig(t, api.URL)
	if out, err := runCommand(t, env, "resync", "--config", path, "--source", "bamboo", "--entity", "products", "--mode", "full"); err != nil {
		t.Fatalf("resync: %v\n%s", err, out)
	}
	db, err := sqlx.Connect("postgres", env["DB_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A pass of orders whose process died: running, and nobody holds its lock.
	if _, err := db.Exec(`INSERT INTO sync.reconcile_runs (source, entity, mode, trigger, status, started_at, pages)
		VALUES ('bamboo', 'orders', 'incremental', 'schedule', 'running', now(), 1)`); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, env, "status", "--config", path)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{"SOURCE", "bamboo  bamboo", "bamboo  products  #1 full succeeded (manual)", "2     0 (+2 backfilled)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status table lacks %q:\n%s", want, out)
		}
	}
	out, err = runCommand(t, env, "status", "--config", path, "--json")
	if err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	var st struct {
		Version string `json:"version"`
		Sources []struct {
			Name     string `json:"name"`
			Kind     string `json:"kind"`
			Entities []struct {
				Entity        string          `json:"entity"`
				LastRun       *mirrorsync.Run `json:"last_run"`
				LastSuccessAt *time.Time      `json:"last_success_at"`
				NextRunAt     *time.Time      `json:"next_run_at"`
			} `json:"entities"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	if len(st.Sources) != 1 || st.Sources[0].Kind != "bamboo" || len(st.Sources[0].Entities) != 2 {
		t.Fatalf("status --json: %s", out)
	}
	products := st.Sources[0].Entities[0]
	if products.Entity != "products" || products.LastRun == nil || products.LastRun.Backfilled != 2 || products.LastSuccessAt == nil || products.NextRunAt != nil {
		t.Errorf("products: got %+v, want the backfill, its success, and no schedule", products)
	}
	orders := st.Sources[0].Entities[1]
	if r := orders.LastRun; orders.Entity != "orders" || r == nil || r.Status != mirrorsync.RunFailed || r.Error == nil || *r.Error != mirrorsync.AbandonedRunning || r.Pages != 1 {
		t.Errorf("orders: got %+v (last run %+v), want its abandoned pass failed", orders, orders.LastRun)
	}
	if _, err := runCommand(t, env, "status", "--config", path, "extra"); err == nil {
		t.Error("status with an extra argument succeeded")
	}
}

func TestNextFromSpecs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 10, 7, 0, 0, time.Local)
	queued := now.Add(-20 * time.Minute)
	scheduled := []mirrorsync.Run{{Trigger: mirrorsync.TriggerManual, QueuedAt: now.Add(-time.Minute)}, {Trigger: mirrorsync.TriggerSchedule, QueuedAt: queued}}
	cases := []struct {
		name   string
		specs  []string
		recent []mirrorsync.Run
		want   time.Time
	}{
		{"cron", []string{"", "0 3 * * *"}, nil, time.Date(2026, 5, 2, 3, 0, 0, 0, time.Local)},
		{"the sooner of two", []string{"*/15 * * * *", "0 3 * * *"}, nil, time.Date(2026, 5, 1, 10, 15, 0, 0, time.Local)},
		{"@every after the last scheduled pass", []string{"@every 15m"}, scheduled, queued.Add(30 * time.Minute)},
		{"@every, never run", []string{"@every 15m"}, nil, now.Add(15 * time.Minute)},
	}
	for _, c := range cases {
		got := nextFromSpecs(c.specs, c.recent, now)
		if got == nil || !got.Equal(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if got := nextFromSpecs([]string{"", ""}, nil, now); got != nil {
		t.Errorf("no schedule: got %v, want nil", got)
	}
}
