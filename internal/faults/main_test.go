package faults_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/internal/loadgen"
	"github.com/storemirror/storemirror/store"
)

// The binary under test, built once for the package by the first test that needs it.
var build struct {
	once stdsync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir) // under the system's temporary directory
	}
	os.Exit(code)
}

// binary returns the storemirror binary built from this source tree (with the race detector
// when the tests have it).
func binary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		root, err := daemon.ModuleRoot()
		if err != nil {
			build.err = err
			return
		}
		if build.dir, build.err = os.MkdirTemp("", "storemirror-faults-"); build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "storemirror")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build.err = daemon.Build(ctx, root, build.path, raceBuild)
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

const stickyKey = "0123456789abcdefghijklmnopqrstuv"

// stickyConfig configures one sticky.io source named sticky over the database at url.
func stickyConfig(url, listen string) daemon.Config {
	return daemon.Config{
		DatabaseURL: url, Listen: listen, Workers: 2, BatchSize: 50,
		Sources: []daemon.Source{{Name: "sticky", Kind: "stickyio", Secrets: []string{stickyKey}}},
	}
}

// freeAddr returns a local address nobody listens on, so that a daemon restarted on it is
// found by the load at the same place.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := daemon.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// start starts a daemon with cfg. When the test ends it is stopped with SIGTERM (it must exit
// cleanly) unless it was killed, and its log must show no data race.
func start(t *testing.T, cfg daemon.Config) (*daemon.Process, error) {
	p, err := daemon.Start(context.Background(), binary(t), t.TempDir(), cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		select {
		case <-p.Exited():
		default:
			if err := p.Stop(20 * time.Second); err != nil {
				t.Errorf("stop daemon %s: %v", p.Addr, err)
			}
		}
		logs, _ := p.Logs()
		if strings.Contains(string(logs), "WARNING: DATA RACE") {
			t.Errorf("daemon %s: a data race:\n%s", p.Addr, logs)
		}
		if t.Failed() {
			logTrouble(t, p.Addr, logs)
		}
	})
	return p, nil
}

// logTrouble shows the first warnings and errors a daemon logged, to explain a failure.
func logTrouble(t *testing.T, addr string, logs []byte) {
	shown := 0
	for _, line := range strings.Split(string(logs), "\n") {
		if strings.Contains(line, `"level":"warning"`) || strings.Contains(line, `"level":"error"`) {
			t.Logf("daemon %s: %.600s", addr, line)
			if shown++; shown == 20 {
				return
			}
		}
	}
}

func mustStart(t *testing.T, cfg daemon.Config) *daemon.Process {
	t.Helper()
	p, err := start(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// plan is the deliveries of a test: delivery i (id prefix+i) is a snapshot of product
// product(i) with 3 variants, priced i+1, at version base + i seconds, so that the newest
// delivery of a product is the one with the highest i.
type plan struct {
	prefix  string
	product func(i int) int
	gen     loadgen.StickyIO
	// made, when set, hears of each product before its first delivery is posted (the provider
	// has it from then on).
	made func(product int)
}

func newPlan(prefix string, product func(i int) int) *plan {
	return &plan{prefix: prefix, product: product,
		gen: loadgen.StickyIO{Path: "/webhooks/sticky", Key: stickyKey, Base: time.Now().Add(-30 * 24 * time.Hour)}}
}

func (p *plan) next(i int) (loadgen.Request, error) {
	product := p.product(i)
	if p.made != nil {
		p.made(product)
	}
	return p.gen.Snapshot(fmt.Sprint(p.prefix, i), i, product, fmt.Sprintf("%d.00", i+1), 3)
}

// background runs load o until the returned function is called, which returns its results.
func background(t *testing.T, o loadgen.Options) (stop func() []loadgen.Result) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan []loadgen.Result, 1)
	go func() {
		results, err := loadgen.Run(ctx, o)
		if err != nil {
			t.Error(err)
		}
		done <- results
	}()
	return func() []loadgen.Result {
		cancel()
		return <-done
	}
}

// ledger is what the provider knows: every delivery it made, and which were answered 2xx.
type ledger struct {
	seqs map[int]string // every delivery made, by sequence number → delivery id
	ok   map[int]bool   // answered 2xx at least once
}

func newLedger() *ledger { return &ledger{seqs: map[int]string{}, ok: map[int]bool{}} }

func (l *ledger) add(results []loadgen.Result) {
	for _, r := range results {
		l.seqs[r.Seq] = r.ID
		if r.OK() {
			l.ok[r.Seq] = true
		}
	}
}

// redeliver posts every delivery not yet answered 2xx again, as a provider retries, until each is.
func (l *ledger) redeliver(t *testing.T, targets []string, next func(int) (loadgen.Request, error)) {
	t.Helper()
	for round := 0; round < 20; round++ {
		var missing []int
		for seq := range l.seqs {
			if !l.ok[seq] {
				missing = append(missing, seq)
			}
		}
		if len(missing) == 0 {
			return
		}
		results, err := loadgen.Run(context.Background(), loadgen.Options{
			Targets: targets, Concurrency: 8, Count: len(missing),
			Next: func(i int) (loadgen.Request, error) { return next(missing[i]) },
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range results {
			if r.OK() {
				l.ok[missing[i]] = true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("deliveries still not accepted after 20 rounds of retries")
}

func openDB(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// waitApplied waits until no event of the inbox is pending.
func waitApplied(t *testing.T, db *store.DB, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var pending int
		if err := db.SQL().Get(&pending, `SELECT count(*) FROM sync.webhook_events WHERE status = 'pending'`); err != nil {
			t.Fatalf("count pending events: %v", err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events still pending after %v", pending, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkAppliedOnce checks that the inbox holds exactly the deliveries of l, each once, each
// applied in one attempt (an apply interrupted by a crash or an outage is rolled back whole,
// attempt count included).
func checkAppliedOnce(t *testing.T, db *store.DB, l *ledger) {
	t.Helper()
	var rows []struct {
		DeliveryID string `db:"delivery_id"`
		Status     string `db:"status"`
		Attempts   int    `db:"attempts"`
		LastError  string `db:"last_error"`
	}
	if err := db.SQL().Select(&rows, `SELECT delivery_id, status, attempts, coalesce(last_error, '') AS last_error
		FROM sync.webhook_events WHERE source = 'sticky'`); err != nil {
		t.Fatalf("read the inbox: %v", err)
	}
	stored := map[string]int{}
	for _, r := range rows {
		stored[r.DeliveryID]++
		if r.Status != "applied" || r.Attempts != 1 {
			t.Errorf("delivery %s: %s after %d attempts (%s), want applied after 1", r.DeliveryID, r.Status, r.Attempts, r.LastError)
		}
	}
	for seq, id := range l.seqs {
		if got := stored[id]; got != 1 {
			t.Errorf("delivery %s (answered 2xx: %v) stored %d times, want once", id, l.ok[seq], got)
		}
	}
	if got, want := len(rows), len(l.seqs); got != want {
		t.Errorf("%d events in the inbox, want the %d deliveries made", got, want)
	}
}

// checkMirror checks that the mirror holds exactly the products of the deliveries made, each
// as its newest delivery (the one with the highest sequence number) says, and that no product
// change was recorded twice.
func checkMirror(t *testing.T, db *store.DB, l *ledger, p *plan) {
	t.Helper()
	newest := map[int]int{} // product → highest seq
	for seq := range l.seqs {
		id := p.product(seq)
		if s, ok := newest[id]; !ok || seq > s {
			newest[id] = seq
		}
	}
	var rows []struct {
		ExternalID string `db:"external_id"`
		Price      string `db:"price"`
		Variants   int    `db:"variants"`
	}
	if err := db.SQL().Select(&rows, `
		SELECT p.external_id, p.price::text AS price,
		       (SELECT count(*) FROM mirror.product_variants v
		        WHERE v.source = p.source AND v.store_id = p.store_id AND v.product_external_id = p.external_id) AS variants
		FROM mirror.products p WHERE p.source = 'sticky'`); err != nil {
		t.Fatalf("read products: %v", err)
	}
	if len(rows) != len(newest) {
		t.Errorf("%d products mirrored, want %d", len(rows), len(newest))
	}
	for _, r := range rows {
		var id int
		if _, err := fmt.Sscan(r.ExternalID, &id); err != nil {
			t.Fatalf("product %q: %v", r.ExternalID, err)
		}
		seq, ok := newest[id]
		if !ok {
			t.Errorf("product %s mirrored, but no delivery was about it", r.ExternalID)
			continue
		}
		got, err := decimal.NewFromString(r.Price)
		if want := decimal.NewFromInt(int64(seq + 1)); err != nil || !got.Equal(want) {
			t.Errorf("product %s: price %s, want %s (its newest delivery)", r.ExternalID, r.Price, want)
		}
		if r.Variants != 3 {
			t.Errorf("product %s: %d variants, want 3", r.ExternalID, r.Variants)
		}
	}
	var dups int
	if err := db.SQL().Get(&dups, `
		SELECT count(*) FROM (
			SELECT 1 FROM mirror.product_changes
			GROUP BY source, store_id, product_external_id, field, old_value, new_value, changed_at
			HAVING count(*) > 1) d`); err != nil {
		t.Fatalf("count duplicate product changes: %v", err)
	}
	if dups != 0 {
		t.Errorf("%d product changes recorded more than once", dups)
	}
}
