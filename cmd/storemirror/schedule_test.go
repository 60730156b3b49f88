package main

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// emptyAPI is a provider API with nothing in it.
type emptyAPI struct{}

func (emptyAPI) Entities() []string { return []string{"products"} }
func (emptyAPI) Lists(string) bool  { return true }
func (emptyAPI) StoreID() string    { return "" }
func (emptyAPI) Pull(context.Context, mirrorsync.PullRequest, func([]mirrorsync.Change) error) error {
	return nil
}

// The schedule runs a catch-up pass at start and then the source's schedules; Stop leaves no
// pass running.
func TestScheduleTriggersPasses(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	// Two sources, so that no two of the passes waited for compete for one pass lock.
	r := &mirrorsync.Reconciler{Store: db, Log: logrus.NewEntry(log), Sources: map[string]mirrorsync.ReconcileSource{
		"a": {Name: "a", Puller: emptyAPI{}, Schedule: "@every 1s"},
		"b": {Name: "b", Puller: emptyAPI{}, FullSchedule: "@every 1s"},
	}}
	s := startSchedule(r)
	count := func(query string) int {
		var n int
		if err := db.SQL().Get(&n, query); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	eventually(t, "a startup pass of each source, and a pass of each schedule", func() bool {
		return count(`SELECT count(DISTINCT (source, trigger, mode)) FROM sync.reconcile_runs
			WHERE entity = 'products' AND status = 'succeeded' AND (source, trigger, mode) IN
			(('a', 'startup', 'incremental'), ('b', 'startup', 'incremental'), ('a', 'schedule', 'incremental'), ('b', 'schedule', 'full'))`) == 4
	})
	s.Stop()
	if n := count(`SELECT count(*) FROM sync.reconcile_runs WHERE status = 'running'`); n != 0 {
		t.Errorf("%d passes still running after Stop", n)
	}
	if n := count(`SELECT count(*) FROM sync.reconcile_runs WHERE trigger = 'startup'`); n != 2 {
		t.Errorf("%d startup passes, want one per source", n)
	}
	if n := count(`SELECT count(*) FROM sync.reconcile_runs WHERE source = 'b' AND trigger = 'schedule' AND mode = 'incremental'`); n != 0 {
		t.Errorf("%d incremental passes of b, which has no incremental schedule", n)
	}
	stopped := count(`SELECT count(*) FROM sync.reconcile_runs`)
	time.Sleep(1500 * time.Millisecond) // past the next tick of both schedules
	if n := count(`SELECT count(*) FROM sync.reconcile_runs`); n != stopped {
		t.Errorf("%d passes ran after Stop", n-stopped)
	}
}
