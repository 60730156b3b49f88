package faults_test

import (
	"database/sql"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/stickyio/stickyiofake"
)

// SIGKILL the daemon in the middle of its start-up pass: once a daemon runs again, no run is
// left running or queued, the killed one says why it failed, and a pass of the new daemon
// succeeds.
func TestSIGKILLDuringAPass(t *testing.T) {
	t.Parallel()
	fake := &stickyiofake.API{Username: "u", Password: "p"}
	for i := 1; i <= 6; i++ {
		fake.Products = append(fake.Products, stickyiofake.Product(i, "10.0000"))
	}
	// The first page is answered; the next ones wait until the daemon that asked is dead.
	hold := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") != "1" {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		fake.ServeHTTP(w, r)
	}))
	defer api.Close()
	url := storetest.NewURL(t)
	db := openDB(t, url)
	cfg := stickyConfig(url, freeAddr(t))
	cfg.Sources[0].API = &daemon.API{BaseURL: api.URL, Username: "u", Password: "p", RequestsPerSecond: 1000, PageSize: 2}

	d := mustStart(t, cfg)
	var killed mirrorsync.Run
	deadline := time.Now().Add(30 * time.Second)
	for killed.Pages == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the start-up pass did not apply its first page in time (%+v)", killed)
		}
		time.Sleep(50 * time.Millisecond)
		// No row until the start-up pass has begun; any other error fails the test.
		if err := db.SQL().Get(&killed, `SELECT id, status, pages FROM sync.reconcile_runs ORDER BY id LIMIT 1`); err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
	}
	if killed.Status != mirrorsync.RunRunning {
		t.Fatalf("the start-up pass: got %s, want running", killed.Status)
	}
	d.Kill()
	close(hold)

	last := mustStart(t, cfg)
	for {
		var open, succeeded int
		if err := db.SQL().Get(&open, `SELECT count(*) FROM sync.reconcile_runs WHERE status IN ('queued', 'running')`); err != nil {
			t.Fatal(err)
		}
		if err := db.SQL().Get(&succeeded, `SELECT count(*) FROM sync.reconcile_runs WHERE status = 'succeeded'`); err != nil {
			t.Fatal(err)
		}
		if open == 0 && succeeded > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: %d runs still open, %d succeeded", open, succeeded)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got, err := db.GetRun(t.Context(), killed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != mirrorsync.RunFailed || got.Error == nil || *got.Error != mirrorsync.AbandonedRunning || got.FinishedAt == nil {
		t.Errorf("the killed daemon's run: got %s, error %v, finished %v; want failed as abandoned", got.Status, got.Error, got.FinishedAt)
	}
	if err := last.Stop(20 * time.Second); err != nil {
		t.Error(err)
	}
}
