package sync_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// catalog is a provider API in memory: products by id, listed in pages of two.
type catalog struct {
	mu       stdsync.Mutex
	names    map[string]string // external id → name
	failPage int               // when > 0, the pull fails after this many pages
}

func (c *catalog) Entities() []string  { return []string{"products"} }
func (c *catalog) Lists(string) bool   { return true }
func (c *catalog) StoreID() string     { return "" }
func (c *catalog) set(id, name string) { c.mu.Lock(); c.names[id] = name; c.mu.Unlock() }
func (c *catalog) failAfter(pages int) { c.mu.Lock(); c.failPage = pages; c.mu.Unlock() }
func (c *catalog) snapshot() ([]string, map[string]string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.names))
	names := map[string]string{}
	for id, n := range c.names {
		ids = append(ids, id)
		names[id] = n
	}
	return ids, names, c.failPage
}

func (c *catalog) Pull(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	ids, names, failPage := c.snapshot()
	slices.Sort(ids)
	for page := 0; page*2 < len(ids); page++ {
		if failPage > 0 && page == failPage {
			return errors.New("the provider answered 500")
		}
		var changes []mirrorsync.Change
		for _, id := range ids[page*2 : min(page*2+2, len(ids))] {
			changes = append(changes, mirrorsync.Change{
				Key:     mirrorsync.Key{ExternalID: id},
				Version: mirrorsync.Version{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
				Entity:  &mirrorsync.Product{Name: mirrorsync.Some(names[id])},
			})
		}
		if err := emit(changes); err != nil {
			return err
		}
	}
	return nil
}

// observer counts what the reconciler reports, as the daemon's metrics would.
type observer struct {
	mu                  stdsync.Mutex
	repairs, backfilled int
}

func (o *observer) Repaired(source, entity string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.repairs += n
}

func (o *observer) Backfilled(source, entity string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.backfilled += n
}

func (o *observer) Finished(mirrorsync.Run) {}

func (o *observer) counts() (repairs, backfilled int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.repairs, o.backfilled
}

type reconcileRig struct {
	db      *store.DB
	cat     *catalog
	r       *mirrorsync.Reconciler
	metrics *observer
}

func newReconcileRig(t *testing.T, products int) *reconcileRig {
	t.Helper()
	cat := &catalog{names: map[string]string{}}
	for i := 1; i <= products; i++ {
		cat.names[fmt.Sprintf("p%d", i)] = fmt.Sprintf("Tea %d", i)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	db := storetest.NewDB(t)
	m := &observer{}
	return &reconcileRig{db: db, cat: cat, metrics: m, r: &mirrorsync.Reconciler{
		Store: db, Log: logrus.NewEntry(log), Metrics: m,
		Sources: map[string]mirrorsync.ReconcileSource{"shop": {Name: "shop", Puller: cat}},
	}}
}

func (g *reconcileRig) pass(t *testing.T, mode string) (mirrorsync.Run, error) {
	t.Helper()
	return g.r.RunOnce(context.Background(), "shop", "products", mirrorsync.PassOptions{Mode: mode, Trigger: mirrorsync.TriggerManual})
}

// resync starts a full resync of the rig's source, as the admin API does, stopped with the test,
// and returns its one run's id.
func (g *reconcileRig) resync(t *testing.T) int64 {
	t.Helper()
	ids, err := g.r.Resync(context.Background(), "shop", nil, mirrorsync.ModeFull)
	if err != nil || len(ids) != 1 {
		t.Fatalf("resync: %v %v", ids, err)
	}
	t.Cleanup(g.r.Stop)
	return ids[0]
}

// ended waits for run id to end and returns it.
func (g *reconcileRig) ended(t *testing.T, id int64) mirrorsync.Run {
	t.Helper()
	var run mirrorsync.Run
	waitFor(t, fmt.Sprintf("run %d to end", id), func() bool {
		var err error
		run, err = g.db.GetRun(context.Background(), id)
		return err == nil && run.Finished()
	})
	return run
}

type passCounts struct{ Created, Updated, Deleted, Unchanged, Backfilled int }

func countsOf(run mirrorsync.Run) passCounts {
	return passCounts{run.Created, run.Updated, run.Deleted, run.Unchanged, run.Backfilled}
}

// The first complete pass into an empty entity is a backfill: what it creates is counted as
// backfilled, not as repairs; later passes count repairs as always.
func TestBackfillIsNotRepair(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 5)
	run, err := g.pass(t, mirrorsync.ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(run), (passCounts{Backfilled: 5}); got != want {
		t.Errorf("first pass: got %+v, want %+v", got, want)
	}
	g.cat.set("p2", "Green tea") // changed upstream, webhook lost
	g.cat.set("p6", "Black tea") // created upstream, webhook lost
	run, err = g.pass(t, mirrorsync.ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(run), (passCounts{Created: 1, Updated: 1, Unchanged: 4}); got != want {
		t.Errorf("second pass: got %+v, want %+v", got, want)
	}
	if repairs, backfilled := g.metrics.counts(); repairs != 2 || backfilled != 5 {
		t.Errorf("observed: got %d repairs and %d backfilled, want 2 and 5 (the backfill's are not repairs)", repairs, backfilled)
	}
	stored, err := g.db.GetRun(context.Background(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(stored), countsOf(run); got != want {
		t.Errorf("stored run: got %+v, want %+v", got, want)
	}
}

// A backfill that fails halfway is taken up by the next pass, which is a backfill too: the
// rows the failed attempt created do not turn the rest into repairs.
func TestFailedBackfillIsResumedAsBackfill(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 6)
	g.cat.failAfter(1)
	run, err := g.pass(t, mirrorsync.ModeFull)
	if err == nil || run.Status != mirrorsync.RunFailed {
		t.Fatalf("first pass: %+v, %v; want it failed", run, err)
	}
	if got, want := countsOf(run), (passCounts{Backfilled: 2}); got != want {
		t.Errorf("failed first pass: got %+v, want %+v", got, want)
	}
	g.cat.failAfter(0)
	run, err = g.pass(t, mirrorsync.ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := countsOf(run), (passCounts{Backfilled: 4, Unchanged: 2}); got != want {
		t.Errorf("resumed backfill: got %+v, want %+v", got, want)
	}
	if repairs, backfilled := g.metrics.counts(); repairs != 0 || backfilled != 6 {
		t.Errorf("observed: got %d repairs and %d backfilled, want 0 and 6", repairs, backfilled)
	}
}

// An entity the webhooks have filled already is not backfilled: what its first pass creates
// are rows the webhooks did not deliver.
func TestFirstPassOverWebhookRowsRepairs(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 3)
	if _, err := g.db.SQL().Exec(`INSERT INTO mirror.products (source, external_id, name, origin) VALUES ('shop', 'p1', 'Tea 1', 'webhook')`); err != nil {
		t.Fatal(err)
	}
	run, err := g.pass(t, mirrorsync.ModeFull)
	if err != nil {
		t.Fatal(err)
	}
	if got := countsOf(run); got.Created != 2 || got.Backfilled != 0 {
		t.Errorf("first pass over webhook rows: got %+v, want 2 created, none backfilled", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A manual pass asked for while another pass of the same source and entity runs is queued;
// it is running only once it holds the lock, and its started_at is when it did.
func TestResyncQueuedBehindRunningPass(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 2)
	ctx := context.Background()
	unlock, ok, err := g.db.LockPass(ctx, "shop", "products", false) // another daemon's pass
	if err != nil || !ok {
		t.Fatalf("take the pass lock: %v %v", ok, err)
	}
	id := g.resync(t)
	time.Sleep(200 * time.Millisecond) // it would have started by now, were it not waiting
	run, err := g.db.GetRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != mirrorsync.RunQueued || run.StartedAt != nil {
		t.Errorf("while the other pass runs: got status %s started_at %v, want queued and nil", run.Status, run.StartedAt)
	}
	// A scheduled pass does not queue: it finds the lock taken and records nothing.
	if _, err := g.r.RunOnce(ctx, "shop", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeIncremental, Trigger: mirrorsync.TriggerSchedule}); !errors.Is(err, mirrorsync.ErrBusy) {
		t.Errorf("scheduled pass while locked: got %v, want ErrBusy", err)
	}
	released := time.Now()
	unlock()
	run = g.ended(t, id)
	if run.Status != mirrorsync.RunSucceeded || run.StartedAt == nil || run.StartedAt.Before(released.Add(-time.Second)) || !run.QueuedAt.Before(*run.StartedAt) {
		t.Errorf("after the other pass: got %s queued %v started %v, want succeeded, started after %v", run.Status, run.QueuedAt, run.StartedAt, released)
	}
	var rows int
	if err := g.db.SQL().Get(&rows, `SELECT count(*) FROM sync.reconcile_runs`); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("%d runs recorded, want 1 (the skipped scheduled pass records none)", rows)
	}
}

// A pass run in this process (storemirror resync) that must wait is recorded as queued too.
func TestWaitingPassIsQueued(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 2)
	ctx := context.Background()
	unlock, ok, err := g.db.LockPass(ctx, "shop", "products", false)
	if err != nil || !ok {
		t.Fatalf("take the pass lock: %v %v", ok, err)
	}
	done := make(chan mirrorsync.Run, 1)
	go func() {
		run, _ := g.r.RunOnce(ctx, "shop", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual, Wait: true})
		done <- run
	}()
	var status string
	waitFor(t, "a queued run", func() bool {
		return g.db.SQL().Get(&status, `SELECT status FROM sync.reconcile_runs`) == nil && status == mirrorsync.RunQueued
	})
	unlock()
	if run := <-done; run.Status != mirrorsync.RunSucceeded || run.Backfilled != 2 {
		t.Errorf("got %+v, want the queued pass succeeded with 2 backfilled", run)
	}
}

// More passes at once than the database pool has connections: each pass holds a connection for
// its lock and needs another for its pages, so without a limit they would wait on each other
// for ever. The reconciler runs MaxPasses at a time; the others wait their turn.
func TestManyPassesAtOnceShareThePool(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 3) // its pool has 10 connections
	sources := map[string]mirrorsync.ReconcileSource{}
	for i := range 16 {
		name := fmt.Sprintf("shop-%d", i)
		sources[name] = mirrorsync.ReconcileSource{Name: name, Puller: g.cat}
	}
	g.r.Sources, g.r.MaxPasses = sources, 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	errs := make(chan error, len(sources))
	for name := range sources {
		go func() {
			_, err := g.r.RunOnce(ctx, name, "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerStartup})
			errs <- err
		}()
	}
	for range sources {
		if err := <-errs; err != nil {
			t.Errorf("pass: %v", err)
		}
	}
	var succeeded int
	if err := g.db.SQL().Get(&succeeded, `SELECT count(*) FROM sync.reconcile_runs WHERE status = 'succeeded'`); err != nil {
		t.Fatal(err)
	}
	if succeeded != len(sources) {
		t.Errorf("%d passes succeeded, want %d", succeeded, len(sources))
	}
}

// beginFails is a database on which a queued run cannot be started (the connection dropped
// between queueing it and taking its pass lock).
type beginFails struct{ *store.DB }

func (beginFails) BeginRun(context.Context, int64) (mirrorsync.Run, error) {
	return mirrorsync.Run{}, errors.New("connection reset by peer")
}

// A resync whose pass cannot start ends failed, with the reason, and says so in the log: the
// admin API has already answered with the run's id, so the run's row and the log are all the
// operator has.
func TestResyncThatCannotStartFails(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 2)
	log, hook := logtest.NewNullLogger()
	g.r.Store, g.r.Log = beginFails{g.db}, logrus.NewEntry(log)
	id := g.resync(t)
	run := g.ended(t, id)
	if run.Status != mirrorsync.RunFailed || run.Error == nil || !strings.Contains(*run.Error, "connection reset by peer") {
		t.Errorf("run: status %s, error %v; want failed with the start's error", run.Status, run.Error)
	}
	var logged bool
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel && e.Message == "reconcile pass could not start" && e.Data["run_id"] == id {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no error logged for run %d; entries: %v", id, hook.AllEntries())
	}
}

// endedWhileQueued is a database on which a queued run ends before it can begin, as when a
// sweep (this daemon's or another's) found it abandoned.
type endedWhileQueued struct{ *store.DB }

func (d endedWhileQueued) BeginRun(ctx context.Context, id int64) (mirrorsync.Run, error) {
	if _, err := d.SQL().ExecContext(ctx, `UPDATE sync.reconcile_runs SET status = 'failed', finished_at = now(),
		error = 'abandoned: marked by a sweep' WHERE id = $1`, id); err != nil {
		return mirrorsync.Run{}, err
	}
	return d.DB.BeginRun(ctx, id)
}

// A queued run that ended while it waited keeps the reason it ended with.
func TestResyncEndedWhileQueuedKeepsItsReason(t *testing.T) {
	t.Parallel()
	g := newReconcileRig(t, 2)
	g.r.Store = endedWhileQueued{g.db}
	id := g.resync(t)
	g.ended(t, id)
	g.r.Stop() // the background pass has returned: nothing writes the row after this
	run, err := g.db.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != mirrorsync.RunFailed || run.Error == nil || *run.Error != "abandoned: marked by a sweep" {
		t.Errorf("run: status %s, error %q; want failed with the sweep's reason", run.Status, deref(run.Error))
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
