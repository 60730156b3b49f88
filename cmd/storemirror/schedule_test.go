package main

import (
	"context"
	"io"
	"maps"
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

// The gap an alert waits for is the longest between two passes, not the next one: a schedule
// that pauses on weekends or over a change of clocks is not overdue meanwhile.
func TestLongestGap(t *testing.T) {
	t.Parallel()
	wednesday := time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		spec string
		from time.Time
		want time.Duration
	}{
		{"@every 15m", wednesday, 15 * time.Minute},
		{"*/15 * * * *", wednesday, 15 * time.Minute},
		{"CRON_TZ=UTC 0 3 * * *", wednesday, 24 * time.Hour},
		{"CRON_TZ=UTC 0 9-17 * * 1-5", wednesday, 64 * time.Hour},                                              // Friday 17:00 to Monday 09:00
		{"CRON_TZ=UTC 0 0 1 * *", wednesday, 31 * 24 * time.Hour},                                              // June 1 to July 1, to August 1
		{"CRON_TZ=America/New_York 0 3 * * *", time.Date(2026, 10, 28, 12, 0, 0, 0, time.UTC), 25 * time.Hour}, // clocks go back on November 1
		{"0 0 30 2 *", wednesday, 0},                                                                           // February 30 never comes
	}
	for _, c := range cases {
		sched, err := cronParser.Parse(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if got := longestGap(sched, c.from); got != c.want {
			t.Errorf("%s from %s: got %v, want %v", c.spec, c.from, got, c.want)
		}
	}
}

// gauges records what a schedule says of its gaps.
type gauges map[string]time.Duration

func (g gauges) Scheduled(source, entity, mode string, every time.Duration) {
	g[source+" "+entity+" "+mode] = every
}

// Each schedule's gap is told from set-up, before the schedule starts; a mode without a
// schedule is not.
func TestScheduleTellsItsGaps(t *testing.T) {
	t.Parallel()
	r := &mirrorsync.Reconciler{Log: logrus.NewEntry(logrus.New()), Sources: map[string]mirrorsync.ReconcileSource{
		"a": {Name: "a", Puller: emptyAPI{}, Schedule: "@every 15m"},
		"b": {Name: "b", Puller: emptyAPI{}, FullSchedule: "CRON_TZ=UTC 0 3 * * *"},
	}}
	got := gauges{}
	s := newSchedule(r, got)
	defer s.Stop()
	want := gauges{"a products incremental": 15 * time.Minute, "b products full": 24 * time.Hour}
	if !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
