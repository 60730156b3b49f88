package sync_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// stalled lists one page of two products, then waits for ever: a pass that is running.
type stalled struct{ catalog }

func (s *stalled) Pull(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	s.failAfter(1)
	if err := s.catalog.Pull(ctx, req, emit); err == nil {
		return errors.New("stalled: the catalog fits one page")
	}
	<-ctx.Done()
	return ctx.Err()
}

// childDatabase is where the child process of TestPassOfAKilledProcess runs its pass.
const childDatabase = "STOREMIRROR_TEST_ABANDONED_PASS_URL"

// The child of TestPassOfAKilledProcess (it does nothing in the test binary's own run): a
// process that starts a pass of shop/products and is killed in the middle of it.
func TestStalledPassChild(t *testing.T) {
	url := os.Getenv(childDatabase)
	if url == "" {
		return
	}
	db, err := store.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	cat := &stalled{catalog{names: map[string]string{"p1": "Tea 1", "p2": "Tea 2", "p3": "Tea 3"}}}
	log := logrus.New()
	log.SetOutput(io.Discard)
	r := &mirrorsync.Reconciler{Store: db, Log: logrus.NewEntry(log),
		Sources: map[string]mirrorsync.ReconcileSource{"shop": {Name: "shop", Puller: cat}}}
	// Killed before it returns; should it return, whatever it answers, the test fails.
	_, _ = r.RunOnce(context.Background(), "shop", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerSchedule})
	t.Fatal("the pass ended: it should have been killed")
}

// A process SIGKILLed in the middle of a pass leaves its run running; the next pass (here, of
// another process) marks it failed as abandoned, keeps the counts it had recorded, and runs.
func TestPassOfAKilledProcess(t *testing.T) {
	t.Parallel()
	url := storetest.NewURL(t)
	child := exec.Command(os.Args[0], "-test.run=^TestStalledPassChild$", "-test.count=1")
	child.Env = append(os.Environ(), childDatabase+"="+url)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	t.Cleanup(func() { _ = child.Process.Kill() }) // gone already, unless the test failed first

	g := newReconcileRig(t, 3)
	g.db.Close()
	db, err := store.Open(context.Background(), url, 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	g.db, g.r.Store = db, db

	var killed mirrorsync.Run
	deadline := time.Now().Add(20 * time.Second)
	for killed.Pages == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the child's pass did not apply its first page in time (run %+v)", killed)
		}
		select {
		case err := <-exited:
			t.Fatalf("the child ended before its pass ran: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		// No row until the child's pass has begun; any other error fails the test.
		if err := db.SQL().Get(&killed, `SELECT id, status, pages, fetched FROM sync.reconcile_runs ORDER BY id LIMIT 1`); err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
	}
	if killed.Status != mirrorsync.RunRunning {
		t.Fatalf("child's run: got %s, want running", killed.Status)
	}
	// While the child lives, its pass holds the lock: another pass is skipped, the run stays.
	if _, err := g.pass(t, mirrorsync.ModeFull); !errors.Is(err, mirrorsync.ErrBusy) {
		t.Fatalf("pass while the child's runs: got %v, want ErrBusy", err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Fatal("the child exited cleanly, want it killed")
	}

	// PostgreSQL ends the child's session when its socket closes: soon, not at once.
	var run mirrorsync.Run
	for {
		run, err = g.pass(t, mirrorsync.ModeFull)
		if !errors.Is(err, mirrorsync.ErrBusy) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed child's pass lock was never released")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || run.Status != mirrorsync.RunSucceeded || run.Fetched != 3 {
		t.Fatalf("the next pass: got %s, fetched %d, %v; want succeeded, 3", run.Status, run.Fetched, err)
	}
	got, err := db.GetRun(context.Background(), killed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != mirrorsync.RunFailed || got.FinishedAt == nil || got.Error == nil || *got.Error != mirrorsync.AbandonedRunning {
		t.Errorf("killed child's run: got %s, finished %v, error %v; want failed as abandoned", got.Status, got.FinishedAt, got.Error)
	}
	if got.Pages != 1 || got.Fetched != 2 {
		t.Errorf("killed child's run: got %d pages, %d fetched; want what it recorded (1, 2)", got.Pages, got.Fetched)
	}
}
