package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// openTwice opens one fresh database from two pools: two processes on one database.
func openTwice(t *testing.T) (*store.DB, *store.DB) {
	t.Helper()
	url := storetest.NewURL(t)
	var dbs [2]*store.DB
	for i := range dbs {
		db, err := store.Open(context.Background(), url, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs[0], dbs[1]
}

// cutLocks ends, as a dead process's would end, every database session that holds an advisory
// lock other than db's own sessions: what PostgreSQL does when the socket of a killed process
// closes.
func cutLocks(t *testing.T, db *store.DB) {
	t.Helper()
	var pids []int
	err := db.SQL().Select(&pids, `SELECT DISTINCT l.pid FROM pg_locks AS l JOIN pg_stat_activity AS a USING (pid)
		WHERE l.locktype = 'advisory' AND a.datname = current_database()`)
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) == 0 {
		t.Fatal("no session holds an advisory lock: nothing to cut")
	}
	for _, pid := range pids {
		if _, err := db.SQL().Exec(`SELECT pg_terminate_backend($1, 5000)`, pid); err != nil {
			t.Fatal(err)
		}
	}
}

func runStatus(t *testing.T, db *store.DB, id int64) mirrorsync.Run {
	t.Helper()
	run, err := db.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// A running pass whose process dies (its session ends, and the pass lock with it) is marked
// failed by the next sweep of any process, counted in its day, and its scratch rows go; while
// the lock is held it is left alone, and the pass cannot write over the end afterwards.
func TestSweepRunningRunWhoseProcessDied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, other := openTwice(t)
	unlock, ok, err := other.LockPass(ctx, "a", "products", false)
	if err != nil || !ok {
		t.Fatalf("lock pass: %v %v", ok, err)
	}
	defer unlock()
	run, err := other.StartRun(ctx, "a", "products", mirrorsync.ModeFull, mirrorsync.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	run.Pages, run.Fetched, run.Updated = 1, 2, 1
	if err := other.UpdateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO sync.reconcile_seen (run_id, store_id, external_id) VALUES ($1, '', 'p1')`, run.ID); err != nil {
		t.Fatal(err)
	}
	// Another pass, elsewhere, that ended well: never swept.
	done, err := db.StartRun(ctx, "a", "orders", mirrorsync.ModeFull, mirrorsync.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	done.Status, done.FinishedAt = mirrorsync.RunSucceeded, &end
	if err := db.UpdateRun(ctx, done); err != nil {
		t.Fatal(err)
	}

	swept, err := db.SweepRuns(ctx)
	if err != nil || len(swept) != 0 {
		t.Fatalf("sweep while the pass's lock is held: got %v, %v; want nothing", swept, err)
	}
	if got := runStatus(t, db, run.ID); got.Status != mirrorsync.RunRunning {
		t.Fatalf("live pass: got %s, want running", got.Status)
	}

	cutLocks(t, db)
	swept, err = db.SweepRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(swept) != 1 || swept[0].ID != run.ID {
		t.Fatalf("swept %+v, want run %d", swept, run.ID)
	}
	got := runStatus(t, db, run.ID)
	if got.Status != mirrorsync.RunFailed || got.FinishedAt == nil || got.Error == nil || *got.Error != mirrorsync.AbandonedRunning {
		t.Errorf("abandoned run: got status %s, finished %v, error %v; want failed, now, %q", got.Status, got.FinishedAt, got.Error, mirrorsync.AbandonedRunning)
	}
	if got.Fetched != 2 || got.Updated != 1 {
		t.Errorf("abandoned run's counts: got fetched %d, updated %d; want what it recorded (2, 1)", got.Fetched, got.Updated)
	}
	if s := runStatus(t, db, done.ID); s.Status != mirrorsync.RunSucceeded || s.Error != nil {
		t.Errorf("ended run: got %s %v, want succeeded as it was", s.Status, s.Error)
	}
	var day struct{ Runs, Failed, Repairs int }
	if err := db.SQL().Get(&day, `SELECT runs, failed, repairs FROM sync.reconcile_days WHERE source = 'a' AND entity = 'products'`); err != nil {
		t.Fatal(err)
	}
	if day.Runs != 1 || day.Failed != 1 || day.Repairs != 1 {
		t.Errorf("day of the abandoned run: got %+v, want 1 run, 1 failed, 1 repair", day)
	}
	var seen int
	if err := db.SQL().Get(&seen, `SELECT count(*) FROM sync.reconcile_seen WHERE run_id = $1`, run.ID); err != nil || seen != 0 {
		t.Errorf("abandoned run's scratch rows: %d left (%v), want none", seen, err)
	}
	// The process was not dead after all (it had only lost its session): it cannot revive the run.
	run.Pages++
	if err := db.UpdateRun(ctx, run); !errors.Is(err, mirrorsync.ErrRunEnded) {
		t.Errorf("progress of a swept run: got %v, want ErrRunEnded", err)
	}
	now := time.Now()
	run.Status, run.FinishedAt = mirrorsync.RunSucceeded, &now
	if err := db.UpdateRun(ctx, run); !errors.Is(err, mirrorsync.ErrRunEnded) {
		t.Errorf("end of a swept run: got %v, want ErrRunEnded", err)
	}
	if got := runStatus(t, db, run.ID); got.Status != mirrorsync.RunFailed {
		t.Errorf("swept run after the late updates: got %s, want failed", got.Status)
	}
	if swept, err := db.SweepRuns(ctx); err != nil || len(swept) != 0 {
		t.Errorf("second sweep: got %v, %v; want nothing", swept, err)
	}
}

// A queued run is left alone while the process that queued it lives, and marked failed once
// that process is gone; the runs another live process queued stay queued.
func TestSweepQueuedRunWhoseProcessDied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, other := openTwice(t)
	mine, err := db.QueueRun(ctx, "a", "products", mirrorsync.ModeFull, mirrorsync.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := other.QueueRun(ctx, "a", "products", mirrorsync.ModeIncremental, mirrorsync.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*store.DB{db, other} {
		if swept, err := d.SweepRuns(ctx); err != nil || len(swept) != 0 {
			t.Fatalf("sweep while both processes live: got %v, %v; want nothing", swept, err)
		}
	}
	// Its owner lock goes with its session, which the server ends once it sees the socket
	// closed: soon, not at once. Until then a sweep finds nothing to do.
	other.Close()
	var swept []mirrorsync.Run
	for deadline := time.Now().Add(10 * time.Second); len(swept) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if swept, err = db.SweepRuns(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(swept) != 1 || swept[0].ID != theirs.ID {
		t.Fatalf("swept %+v, want run %d", swept, theirs.ID)
	}
	got := runStatus(t, db, theirs.ID)
	if got.Status != mirrorsync.RunFailed || got.Error == nil || *got.Error != mirrorsync.AbandonedQueued || got.StartedAt != nil {
		t.Errorf("abandoned queued run: got %s, error %v, started %v; want failed, %q, never started", got.Status, got.Error, got.StartedAt, mirrorsync.AbandonedQueued)
	}
	if got := runStatus(t, db, mine.ID); got.Status != mirrorsync.RunQueued {
		t.Errorf("run of the live process: got %s, want queued", got.Status)
	}
	if _, err := db.BeginRun(ctx, theirs.ID); !errors.Is(err, mirrorsync.ErrNotFound) {
		t.Errorf("begin a swept run: got %v, want ErrNotFound", err)
	}
	// A process whose session was cut (the database restarted) looks gone until it takes its
	// owner lock again, which it does when it next queues a run.
	cutLocks(t, db)
	swept, err = db.SweepRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(swept) != 1 || swept[0].ID != mine.ID {
		t.Errorf("after the cut: swept %+v, want run %d", swept, mine.ID)
	}
	again, err := db.QueueRun(ctx, "a", "orders", mirrorsync.ModeFull, mirrorsync.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if swept, err := db.SweepRuns(ctx); err != nil || len(swept) != 0 {
		t.Errorf("sweep after the owner lock was taken again: got %v, %v; want nothing", swept, err)
	}
	if got := runStatus(t, db, again.ID); got.Status != mirrorsync.RunQueued {
		t.Errorf("run queued after the cut: got %s, want queued", got.Status)
	}
}

// Pruning deletes the runs that ended before the cutoff, in batches, and keeps each source and
// entity's latest run, latest ended run and latest success of each mode, however old.
func TestPruneRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.NewDB(t)
	old := time.Now().Add(-60 * 24 * time.Hour)
	id := map[string]int64{}
	insert := func(name, entity, mode, status string, ended *time.Time) {
		t.Helper()
		var n int64
		err := db.SQL().Get(&n, `INSERT INTO sync.reconcile_runs (source, entity, mode, trigger, status, queued_at, started_at, finished_at)
			VALUES ('a', $1, $2, 'schedule', $3, $4, $4, $5) RETURNING id`, entity, mode, status, old, ended)
		if err != nil {
			t.Fatal(err)
		}
		id[name] = n
	}
	recent := time.Now().Add(-time.Hour)
	at := func(d time.Duration) *time.Time { v := old.Add(d); return &v }
	// products: old full success, old incremental successes, old failures, then a recent one.
	insert("full-ok", "products", "full", "succeeded", at(time.Minute))
	insert("inc-ok-1", "products", "incremental", "succeeded", at(2*time.Minute))
	insert("inc-ok-2", "products", "incremental", "succeeded", at(3*time.Minute))
	insert("inc-failed", "products", "incremental", "failed", at(4*time.Minute))
	insert("recent", "products", "incremental", "failed", &recent)
	// orders: only old runs, the last still running, and an old failure before it.
	insert("orders-ok", "orders", "incremental", "succeeded", at(time.Minute))
	insert("orders-failed-1", "orders", "incremental", "failed", at(2*time.Minute))
	insert("orders-failed-2", "orders", "incremental", "failed", at(3*time.Minute))
	insert("orders-running", "orders", "incremental", "running", nil)

	cutoff := time.Now().Add(-30 * 24 * time.Hour)
	// Three can go: inc-ok-1, inc-failed and orders-failed-1. In batches of two: 2, then 1.
	for i, want := range []int64{2, 1, 0} {
		n, err := db.PruneRuns(ctx, cutoff, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("batch %d: pruned %d, want %d", i+1, n, want)
		}
	}
	var left []int64
	if err := db.SQL().Select(&left, `SELECT id FROM sync.reconcile_runs ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, name := range []string{"full-ok", "inc-ok-2", "recent", "orders-ok", "orders-failed-2", "orders-running"} {
		want = append(want, id[name])
	}
	if fmt.Sprint(left) != fmt.Sprint(want) {
		t.Errorf("runs left: got %v, want %v (%v)", left, want, id)
	}
}

// sync.advisory_lock_held finds a lock another session holds by its key, whatever its sign,
// and no other.
func TestAdvisoryLockHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.NewDB(t)
	conn, err := db.SQL().Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, key := range []int64{1, -1, 1<<40 + 5, -(1 << 40) - 5, -1 << 63, 1<<63 - 1} {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
			t.Fatal(err)
		}
		for _, probe := range []int64{key, key ^ 1, key ^ (1 << 33)} {
			var held bool
			if err := db.SQL().Get(&held, `SELECT sync.advisory_lock_held($1)`, probe); err != nil {
				t.Fatal(err)
			}
			if held != (probe == key) {
				t.Errorf("lock %d held: probe %d says %v", key, probe, held)
			}
		}
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			t.Fatal(err)
		}
	}
}
