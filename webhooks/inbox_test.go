package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	stdsync "sync"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// Several daemons' workers share one inbox: every event is applied exactly once.
func TestConcurrentWorkersApplyEachEventOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const n = 300
	for i := 0; i < n; i++ {
		// 30 products, 10 events each, the same provider time: the last received must win.
		b := testBody(fmt.Sprint("evt-", i), fmt.Sprint("p", i%30), fmt.Sprint("name ", i), t0)
		if status, _ := h.Post("/webhooks/shop", sign(b, "s3cret"), b); status != http.StatusOK {
			t.Fatalf("post %d: %d", i, status)
		}
	}
	var mu stdsync.Mutex
	seen := map[int64]int{}
	var wg stdsync.WaitGroup
	for d := 0; d < 4; d++ { // four "daemons", each a Worker of its own over the same database
		w := &mirrorsync.Worker{Inbox: h.DB, Decoders: h.Worker.Decoders, BatchSize: 7, Policy: h.Worker.Policy, Log: h.Worker.Log}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b, err := w.RunOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if len(b.Outcomes) == 0 {
					return
				}
				mu.Lock()
				for _, o := range b.Outcomes {
					seen[o.EventID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("applied %d distinct events, want %d", len(seen), n)
	}
	for id, count := range seen {
		if count != 1 {
			t.Errorf("event %d applied %d times", id, count)
		}
	}
	for _, ev := range h.Events() {
		if ev.Status != "applied" || ev.Attempts != 1 {
			t.Errorf("event %s: status %s after %d attempts, want applied after 1", ev.DeliveryID, ev.Status, ev.Attempts)
		}
	}
	// Events of one entity, applied in whatever order the workers took them, leave the mirror
	// as if applied in the order received.
	// Product pK received events K, K+30, ..., K+270: the last is "name K+270".
	var products, wrong int
	storetest.Get(t, h.DB, &products, `SELECT count(*) FROM mirror.products WHERE source = 'shop'`)
	storetest.Get(t, h.DB, &wrong, `SELECT count(*) FROM mirror.products
		WHERE source = 'shop' AND name <> 'name ' || (270 + substr(external_id, 2)::int)`)
	if products != 30 || wrong != 0 {
		t.Errorf("%d products, %d not holding their last received event's name", products, wrong)
	}
}

// countingStore observes the real store's InsertEvents calls, holding the first hold of them
// (1 when 0) until released.
type countingStore struct {
	*store.DB
	hold    int
	mu      stdsync.Mutex
	calls   []int
	held    chan struct{} // when not nil, closed once the first call is in flight
	release chan struct{}
}

func (c *countingStore) InsertEvents(ctx context.Context, ds []mirrorsync.Delivery) ([]bool, error) {
	c.mu.Lock()
	held := len(c.calls) < max(c.hold, 1)
	if len(c.calls) == 0 && c.held != nil {
		close(c.held)
	}
	c.calls = append(c.calls, len(ds))
	c.mu.Unlock()
	if held {
		<-c.release
	}
	return c.DB.InsertEvents(ctx, ds)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// The requests that arrive while a commit is in flight wait, and go in together: every delivery
// is stored once, in batches of at most the maximum, and in fewer INSERTs than deliveries. How
// the waiting ones split into batches depends on when each reached the ingester, so it is not
// asserted.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	const waiting, maxBatch = 40, 16
	cs := &countingStore{DB: storetest.NewDB(t), held: make(chan struct{}), release: make(chan struct{})}
	ing := webhooks.NewIngester(cs, maxBatch, nil)
	ing.Committers = 1 // the one commit in flight is the one held
	go ing.Run()
	defer ing.Close()
	var wg, started stdsync.WaitGroup
	results := make(chan error, waiting+1)
	store := func(id string) {
		defer wg.Done()
		fresh, err := ing.Store(context.Background(), mirrorsync.Delivery{Source: "shop", ID: id, Body: []byte("{}")})
		if err == nil && !fresh {
			err = fmt.Errorf("%s not stored as new", id)
		}
		results <- err
	}
	wg.Add(1)
	go store("first")
	<-cs.held // the first commit is in flight, and stays so until released
	for i := 0; i < waiting; i++ {
		wg.Add(1)
		started.Add(1)
		go func() {
			started.Done()
			store(fmt.Sprint("waiting-", i))
		}()
	}
	started.Wait()
	close(cs.release)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Fatal(err)
		}
	}
	cs.mu.Lock()
	calls := slices.Clone(cs.calls)
	cs.mu.Unlock()
	total := 0
	for _, n := range calls {
		total += n
		if n < 1 || n > maxBatch {
			t.Errorf("an INSERT of %d deliveries, want 1 to %d: batch sizes %v", n, maxBatch, calls)
		}
	}
	if calls[0] != 1 || total != waiting+1 || len(calls) >= waiting+1 {
		t.Errorf("INSERT batch sizes = %v, want the first alone, then the %d others in fewer than %d INSERTs", calls, waiting, waiting)
	}
	var n int
	storetest.Get(t, cs.DB, &n, `SELECT count(*) FROM sync.webhook_events`)
	if n != waiting+1 {
		t.Errorf("stored %d events, want %d", n, waiting+1)
	}
}

// Several batches commit at once: while the first waits on its commit, the next deliveries go
// in a commit of their own instead of queueing behind it. Each answer still waits for its own.
func TestConcurrentCommits(t *testing.T) {
	t.Parallel()
	const committers = 3
	cs := &countingStore{DB: storetest.NewDB(t), hold: committers, release: make(chan struct{})}
	ing := webhooks.NewIngester(cs, 100, nil)
	ing.Committers = committers
	go ing.Run()
	defer ing.Close()
	answered := make(chan error, committers)
	for i := range committers {
		go func() {
			_, err := ing.Store(context.Background(), mirrorsync.Delivery{Source: "shop", ID: fmt.Sprint("held-", i), Body: []byte("{}")})
			answered <- err
		}()
		for deadline := time.Now().Add(5 * time.Second); cs.count() <= i; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) { // each delivery reaches a commit while the ones before it are held
				close(cs.release)
				t.Fatalf("%d commits in flight at once, want %d", cs.count(), committers)
			}
		}
	}
	select {
	case err := <-answered:
		t.Fatalf("a delivery was answered (%v) before its commit was released", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(cs.release)
	for range committers {
		if err := <-answered; err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := cs.DB.SQL().Get(&n, `SELECT count(*) FROM sync.webhook_events`); err != nil || n != committers {
		t.Errorf("stored %d events (%v), want %d", n, err, committers)
	}
}

// With the database stopped, a delivery is answered 503 and nothing is lost: the provider's
// retry is stored once the database is back.
func TestDatabaseDown503AndRecovery(t *testing.T) {
	srv := storetest.NewServer(t)
	ctx := context.Background()
	db, err := store.Open(ctx, srv.URL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ready := func(ctx context.Context) error {
		if err := db.Ping(ctx); err != nil {
			return err
		}
		_, err := db.SchemaCurrent(ctx)
		return err
	}
	h := webhookstest.NewOn(t, db, map[string]webhookstest.Source{"shop": testSource{name: "shop", secret: "s3cret"}},
		func(o *webhooks.Options, _ *webhookstest.Harness) { o.Ready = ready })
	post := func(id string) int {
		b := testBody(id, "p1", "Tea", t0)
		status, _ := h.Post("/webhooks/shop", sign(b, "s3cret"), b)
		return status
	}
	readyz := func() int {
		resp, err := http.Get(h.Server.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("before"); got != http.StatusOK {
		t.Fatalf("with the database up: %d", got)
	}
	srv.Stop(t)
	if got := post("during"); got != http.StatusServiceUnavailable {
		t.Errorf("with the database stopped: %d, want 503", got)
	}
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database stopped: %d, want 503", got)
	}
	srv.Start(t)
	var got int
	for i := 0; i < 50; i++ { // the pool reconnects on its own
		if got = post("during"); got == http.StatusOK {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != http.StatusOK {
		t.Fatalf("after the database came back: %d, want 200", got)
	}
	if got := readyz(); got != http.StatusOK {
		t.Errorf("/readyz after recovery: %d, want 200", got)
	}
	var ids []string
	storetest.Select(t, db, &ids, `SELECT delivery_id FROM sync.webhook_events ORDER BY id`)
	if len(ids) != 2 || ids[0] != "before" || ids[1] != "during" {
		t.Errorf("stored deliveries = %v, want [before during]", ids)
	}
}
