package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/internal/loadgen"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
)

// fakeProducts is sticky.io's v2 products listing (Laravel pagination, HTTP Basic): every
// product made so far, at a version older than any webhook's, served slowly enough per page that
// a pass lasts longer than the schedule's interval. It counts the pages it serves and the most
// listings it served at once.
type fakeProducts struct {
	mu                stdsync.Mutex
	ids               []int // the products made so far, in order
	perPage           int
	delay             time.Duration
	pages             atomic.Int64 // pages served that held products
	inFlight, maxConc atomic.Int64
}

const apiUser, apiPass = "api-user", "api-password"

func (f *fakeProducts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != apiUser || p != apiPass {
		http.Error(w, `{"message":"Unauthenticated."}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/v2/products" {
		http.NotFound(w, r)
		return
	}
	c := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.maxConc.Load(); c > m && !f.maxConc.CompareAndSwap(m, c); m = f.maxConc.Load() {
	}
	time.Sleep(f.delay)
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	f.mu.Lock()
	ids := slices.Clone(f.ids)
	f.mu.Unlock()
	products := len(ids)
	if (page-1)*f.perPage < products {
		f.pages.Add(1) // a page with products: the pass records it once applied
	}
	last := max((products+f.perPage-1)/f.perPage, 1)
	gen := loadgen.StickyIO{Base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"data":[`))
	for i := (page - 1) * f.perPage; i < min(page*f.perPage, products); i++ {
		if i > (page-1)*f.perPage {
			w.Write([]byte(","))
		}
		w.Write(gen.Object(0, ids[i], "5.00", 3))
	}
	next := "null"
	if page < last {
		next = fmt.Sprintf(`"http://%s/api/v2/products?page=%d"`, r.Host, page+1)
	}
	fmt.Fprintf(w, `],"current_page":%d,"last_page":%d,"per_page":%d,"total":%d,"next_page_url":%s}`, page, last, f.perPage, products, next)
}

// make adds product id to the listing, if it is not there yet.
func (f *fakeProducts) make(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i, found := slices.BinarySearch(f.ids, id); !found {
		f.ids = slices.Insert(f.ids, i, id)
	}
}

// Three daemons on one database behind round-robin posting: they migrate it together, every
// delivery is applied exactly once, and every reconcile pass is run by exactly one of them: the
// passes of the source never overlap, each appears in one daemon's log only, and the provider
// never serves two listings at once, although each daemon's schedule fires every second and a
// pass takes longer than that.
func TestThreeDaemonsOneDatabase(t *testing.T) {
	t.Parallel()
	url := storetest.NewEmptyURL(t)
	db := openDB(t, url)
	fake := &fakeProducts{perPage: 50, delay: 100 * time.Millisecond}
	api := httptest.NewServer(fake)
	defer api.Close()
	cfg := stickyConfig(url, "")
	cfg.LogLevel = "debug" // the skipped passes are logged at debug
	cfg.Sources[0].API = &daemon.API{BaseURL: api.URL, Username: apiUser, Password: apiPass, RequestsPerSecond: 1000, PageSize: 50}
	cfg.Sources[0].FullSchedule = "@every 1s"

	procs := make([]*daemon.Process, 3)
	errs := make([]error, 3)
	var wg stdsync.WaitGroup
	for i := range procs {
		wg.Go(func() { procs[i], errs[i] = start(t, cfg) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	targets := []string{procs[0].URL, procs[1].URL, procs[2].URL}
	// New products all along, each delivered about twice more within the next hundred
	// deliveries, at all three daemons: their workers (whose batches hold 50) and their
	// reconcile passes create and update the same rows at once.
	p := newPlan("cluster-", func(i int) int { return max(i/3-i*7919%40, 0) + 1 })
	p.made = fake.make
	// At most 6,000 deliveries (and 3 s): the catalog the passes list grows with them, so a
	// faster generator must not make each pass longer than the window that counts them.
	started := time.Now()
	results, err := loadgen.Run(context.Background(), loadgen.Options{Targets: targets, Concurrency: 12, Count: 6000, Duration: 3 * time.Second, Next: p.next})
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger()
	l.add(results)
	if s := loadgen.Summarize(results, started, time.Now()); len(s.Failed) > 0 {
		t.Errorf("answers other than 2xx from healthy daemons: %s", s.FailedString())
	}
	waitApplied(t, db, 30*time.Second)
	time.Sleep(time.Until(started.Add(5 * time.Second))) // a few more passes
	stopping := time.Now()
	for _, d := range procs {
		if err := d.Stop(20 * time.Second); err != nil {
			t.Error(err)
		}
	}
	checkAppliedOnce(t, db, l)
	checkMirror(t, db, l, p)
	checkPasses(t, db, procs, fake, stopping)
}

type run struct {
	ID         int64      `db:"id"`
	Status     string     `db:"status"`
	Pages      int64      `db:"pages"`
	StartedAt  time.Time  `db:"started_at"`
	FinishedAt *time.Time `db:"finished_at"`
	Error      *string    `db:"error"`
}

func checkPasses(t *testing.T, db *store.DB, procs []*daemon.Process, fake *fakeProducts, stopping time.Time) {
	t.Helper()
	var runs []run
	if err := db.SQL().Select(&runs, `SELECT id, status, pages, started_at, finished_at, error FROM sync.reconcile_runs
		WHERE source = 'sticky' AND entity = 'products' ORDER BY started_at`); err != nil {
		t.Fatalf("read runs: %v", err)
	}
	if len(runs) < 2 {
		t.Fatalf("%d passes in 5 s with three daemons scheduling one every second, want several", len(runs))
	}
	var pages int64
	interrupted := 0
	for i, r := range runs {
		pages += r.Pages
		if r.FinishedAt == nil {
			t.Errorf("run %d never finished", r.ID)
			continue
		}
		if r.Status != "succeeded" {
			if r.FinishedAt.Before(stopping) {
				t.Errorf("run %d %s before the daemons were stopped: %v", r.ID, r.Status, r.Error)
			}
			interrupted++
		}
		if i > 0 && runs[i-1].FinishedAt != nil && r.StartedAt.Before(*runs[i-1].FinishedAt) {
			t.Errorf("run %d started at %v, before run %d finished at %v: two passes at once",
				r.ID, r.StartedAt, runs[i-1].ID, *runs[i-1].FinishedAt)
		}
	}
	if got := fake.maxConc.Load(); got != 1 {
		t.Errorf("the provider served %d listings at once, want 1", got)
	}
	// A pass interrupted by the shutdown may have fetched a page it did not get to record.
	if served := fake.pages.Load(); served < pages || served > pages+int64(interrupted) {
		t.Errorf("the provider served %d pages; the runs record %d (%d interrupted)", served, pages, interrupted)
	}
	checkPassLogs(t, runs, procs)
}

// checkPassLogs checks that each run was started by exactly one daemon, and that some daemon
// skipped a pass another was running.
func checkPassLogs(t *testing.T, runs []run, procs []*daemon.Process) {
	t.Helper()
	ran := map[int64]int{}
	skipped := 0
	for i, p := range procs {
		started, err := p.LogEntries("reconcile pass started")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range started {
			id, _ := e["run_id"].(float64)
			ran[int64(id)]++
		}
		skips, err := p.LogEntries("pass running elsewhere; skipped")
		if err != nil {
			t.Fatal(err)
		}
		skipped += len(skips)
		t.Logf("daemon %d ran %d passes and skipped %d", i+1, len(started), len(skips))
	}
	for _, r := range runs {
		if ran[r.ID] != 1 {
			t.Errorf("run %d logged as started by %d daemons, want 1", r.ID, ran[r.ID])
		}
	}
	if len(ran) != len(runs) {
		t.Errorf("the daemons logged %d passes, the database holds %d", len(ran), len(runs))
	}
	if skipped == 0 {
		t.Error("no daemon ever skipped a pass another was running: the test did not make them meet")
	}
}
