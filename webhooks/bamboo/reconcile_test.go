package bamboo_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storemirror/storemirror/metrics"
	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/bamboo/bamboofake"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const apiUser, apiPass = "client-id", "client-secret"

var modified = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type rig struct {
	fake    *bamboofake.API
	db      *store.DB
	r       *mirrorsync.Reconciler
	metrics *metrics.Reconcile
	reg     *prometheus.Registry
}

// newRig wires the real reconciler and store to a fake Bamboo API.
func newRig(t *testing.T, fake *bamboofake.API, db *store.DB, timeout time.Duration) *rig {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := bamboo.NewPuller(providerapi.Options{
		Source: "bamboo", BaseURL: srv.URL, Username: apiUser, Password: apiPass,
		RequestsPerSecond: 1000, Timeout: timeout, Retries: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	}, 5)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	g := &rig{fake: fake, db: db, reg: reg, metrics: metrics.NewReconcile(reg),
		r: webhookstest.Reconciler(db, mirrorsync.ReconcileSource{Name: "bamboo", Puller: p, Overlap: 10 * time.Minute})}
	g.r.Metrics = g.metrics
	return g
}

func (g *rig) pass(t *testing.T, entity, mode string) (mirrorsync.Run, error) {
	t.Helper()
	return g.r.RunOnce(context.Background(), "bamboo", entity, mirrorsync.PassOptions{Mode: mode, Trigger: mirrorsync.TriggerManual})
}

func (g *rig) mustPass(t *testing.T, entity, mode string) mirrorsync.Run {
	t.Helper()
	run, err := g.pass(t, entity, mode)
	if err != nil {
		t.Fatalf("%s %s pass: %v", mode, entity, err)
	}
	return run
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL().Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestCatalogOfSeveralPagesConverges(t *testing.T) {
	t.Parallel()
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(7, 3, modified), MaxPageSize: 3}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	run := g.mustPass(t, "products", mirrorsync.ModeFull)
	// Seven brands, three per page (the server's cap, not the 5 asked for): three pages.
	// The first pass into an empty mirror backfills it: nothing it creates is a repair.
	if run.Status != "succeeded" || run.Pages != 3 || run.Fetched != 21 || run.Backfilled != 21 || run.Repairs() != 0 || run.Unchanged != 0 {
		t.Errorf("run = %+v, want succeeded, 3 pages, 21 fetched and backfilled, no repairs", run)
	}
	if n := count(t, g.db, `SELECT count(*) FROM mirror.products WHERE source = 'bamboo' AND origin = 'reconcile'
		AND brand_name LIKE 'Brand %' AND price_min = 10 AND currency = 'USD' AND stock_quantity IS NULL
		AND category_name = 'Airlines & Hotels' AND source_updated_at = $1`, modified); n != 21 {
		t.Errorf("%d products mirrored with the catalog's values, want 21", n)
	}
	stored, _ := g.r.Run(context.Background(), run.ID)
	if stored.Status != "succeeded" || stored.Backfilled != 21 || stored.Created != 0 || stored.FinishedAt == nil {
		t.Errorf("stored run = %+v", stored)
	}
	// Nothing changed upstream: a second pass changes nothing.
	run = g.mustPass(t, "products", mirrorsync.ModeFull)
	if run.Unchanged != 21 || run.Created+run.Updated+run.Deleted != 0 {
		t.Errorf("second pass = %+v, want 21 unchanged", run)
	}
}

func TestUpstreamChangeIsRepairedAndCounted(t *testing.T) {
	t.Parallel()
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(2, 2, modified)}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	// A price change whose webhook never arrived.
	fake.Update(3, func(p *bamboofake.Product) { p.Price = "12.50"; p.Modified = time.Now() })
	run := g.mustPass(t, "products", mirrorsync.ModeIncremental)
	if run.Fetched != 1 || run.Updated != 1 || run.Created != 0 {
		t.Errorf("incremental pass = %+v, want the one modified product fetched and updated", run)
	}
	if got := g.repairs(t, "products"); got != 1 {
		t.Errorf("repairs metric = %v, want 1 (the update; the first pass's 4 were a backfill)", got)
	}
	if got := g.counter(t, "storemirror_reconcile_backfilled_total", "products"); got != 4 {
		t.Errorf("backfilled metric = %v, want 4", got)
	}
	if n := count(t, g.db, `SELECT count(*) FROM mirror.products WHERE external_id = '3' AND price_min = 12.5`); n != 1 {
		t.Error("product 3 not repaired")
	}
	if n := count(t, g.db, `SELECT count(*) FROM mirror.product_changes WHERE product_external_id = '3' AND field = 'price_min'
		AND old_value = '10' AND new_value = '12.5' AND origin = 'reconcile'`); n != 1 {
		t.Error("the repair is not in the product history")
	}
	// The incremental pass asked only for what changed since the last pass (less the overlap).
	last := fake.Seen[len(fake.Seen)-1]
	if !strings.Contains(last, "ModifiedDate="+time.Now().UTC().Add(-10*time.Minute).Format(time.DateOnly)) {
		t.Errorf("incremental request %q lacks the watermark's ModifiedDate", last)
	}
}

// repairs reads storemirror_reconcile_repairs_total{source="bamboo",entity=entity}.
func (g *rig) repairs(t *testing.T, entity string) float64 {
	t.Helper()
	return g.counter(t, "storemirror_reconcile_repairs_total", entity)
}

// counter reads a counter of the rig's reconciler by name, for the bamboo source and entity.
func (g *rig) counter(t *testing.T, name, entity string) float64 {
	t.Helper()
	mfs, err := g.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["source"] == "bamboo" && labels["entity"] == entity {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestRemovedUpstreamDeletedAfterSecondFullPass(t *testing.T) {
	t.Parallel()
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(2, 2, modified)}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	fake.Remove(2)
	first := g.mustPass(t, "products", mirrorsync.ModeFull)
	if first.Deleted != 0 || count(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NOT NULL`) != 0 {
		t.Fatalf("first pass without product 2 deleted it: %+v", first)
	}
	// An incremental pass in between does not count as a listing.
	g.mustPass(t, "products", mirrorsync.ModeIncremental)
	second := g.mustPass(t, "products", mirrorsync.ModeFull)
	if second.Deleted != 1 {
		t.Errorf("second pass = %+v, want 1 deleted", second)
	}
	var deletedAt time.Time
	if err := g.db.SQL().Get(&deletedAt, `SELECT deleted_at FROM mirror.products WHERE external_id = '2'`); err != nil {
		t.Fatal(err)
	}
	if !deletedAt.Equal(*first.StartedAt) {
		t.Errorf("deleted_at = %v, want the start of the first pass that missed it (%v)", deletedAt, first.StartedAt)
	}
	if n := count(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NULL`); n != 3 {
		t.Errorf("%d live products, want 3", n)
	}
	if got := g.repairs(t, "products"); got != 1 {
		t.Errorf("repairs metric = %v, want 1 (the delete; the first pass's 4 were a backfill)", got)
	}
	// Seen again (restored upstream, newer): revived.
	fake.Mu.Lock()
	fake.Brands[0].Products = append(fake.Brands[0].Products, bamboofake.Product{ID: 2, Name: "Card 2", Price: "10.00", Modified: time.Now().Add(time.Hour)})
	fake.Mu.Unlock()
	g.mustPass(t, "products", mirrorsync.ModeFull)
	if n := count(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NULL`); n != 4 {
		t.Errorf("%d live products after the product came back, want 4", n)
	}
}

// A row missed, then seen, then missed again is not two consecutive misses.
func TestMissesMustBeConsecutive(t *testing.T) {
	t.Parallel()
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(1, 2, modified)}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	saved := fake.Brands[0].Products
	fake.Remove(2)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	fake.Mu.Lock()
	fake.Brands[0].Products = saved
	fake.Mu.Unlock()
	g.mustPass(t, "products", mirrorsync.ModeFull)
	fake.Remove(2)
	if run := g.mustPass(t, "products", mirrorsync.ModeFull); run.Deleted != 0 {
		t.Errorf("deleted after non-consecutive misses: %+v", run)
	}
}

func TestFailedPassDeletesNothing(t *testing.T) {
	t.Parallel()
	for name, fail := range map[string]func(n int64, w http.ResponseWriter, r *http.Request) bool{
		"5xx": func(n int64, w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Get("PageIndex") == "1" {
				http.Error(w, "upstream exploded", http.StatusBadGateway)
				return true
			}
			return false
		},
		"timeout": func(n int64, w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Get("PageIndex") == "1" {
				time.Sleep(300 * time.Millisecond) // longer than the client's timeout
			}
			return false
		},
	} {
		t.Run(name, func(t *testing.T) {
			fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(3, 1, modified), MaxPageSize: 1}
			g := newRig(t, fake, storetest.NewDB(t), 100*time.Millisecond)
			g.mustPass(t, "products", mirrorsync.ModeFull)
			wm1 := watermark(t, g.db)
			fake.Remove(3)
			g.mustPass(t, "products", mirrorsync.ModeFull) // first miss of product 3
			fake.Fail = fail                               // the next listing fails on its second page
			run, err := g.pass(t, "products", mirrorsync.ModeFull)
			if err == nil || run.Status != "failed" || run.Error == nil {
				t.Fatalf("run = %+v, err %v; want failed with the error", run, err)
			}
			if name == "5xx" && !strings.Contains(*run.Error, "bamboo: GET /api/integration/v2.0/catalog: 502") {
				t.Errorf("error %q does not name the source, path and status", *run.Error)
			}
			if n := count(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NOT NULL`); n != 0 {
				t.Errorf("a failed pass deleted %d rows", n)
			}
			stored, _ := g.r.Run(context.Background(), run.ID)
			if stored.Status != "failed" || stored.FinishedAt == nil {
				t.Errorf("stored run = %+v, want failed and finished", stored)
			}
			if wm := watermark(t, g.db); wm.Before(wm1) {
				t.Errorf("watermark moved back")
			}
			if n := count(t, g.db, `SELECT count(*) FROM sync.reconcile_seen`); n != 0 {
				t.Errorf("the failed pass left %d scratch rows", n)
			}
		})
	}
}

func watermark(t *testing.T, db *store.DB) time.Time {
	t.Helper()
	wm, err := db.Watermark(context.Background(), "bamboo", "products")
	if err != nil {
		t.Fatal(err)
	}
	return wm
}

func TestRateLimitedPassBacksOffAndSucceeds(t *testing.T) {
	t.Parallel()
	limited := 0
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(2, 2, modified)}
	fake.Fail = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if n <= 2 {
			limited++
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		return false
	}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	run := g.mustPass(t, "products", mirrorsync.ModeFull)
	if limited != 2 || run.Status != "succeeded" || run.Backfilled != 4 {
		t.Errorf("after %d 429s: run %+v, want succeeded with 4 backfilled", limited, run)
	}
}

// Two daemons' reconcilers on one database: a pass runs in one of them only.
func TestTwoReconcilersNeverOverlap(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(4, 1, modified), MaxPageSize: 1, Hold: make(chan struct{})}
	a := newRig(t, fake, db, 5*time.Second)
	b := newRig(t, fake, db, 5*time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := a.pass(t, "products", mirrorsync.ModeFull)
		done <- err
	}()
	for fake.Requests.Load() == 0 { // a holds the lock and is inside its first request
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := b.pass(t, "products", mirrorsync.ModeFull); !errors.Is(err, mirrorsync.ErrBusy) {
		t.Errorf("second reconciler: %v, want ErrBusy", err)
	}
	// A manual pass waits for the lock instead, and runs after.
	waited := make(chan mirrorsync.Run, 1)
	go func() {
		run, _ := b.r.RunOnce(context.Background(), "bamboo", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual, Wait: true})
		waited <- run
	}()
	close(fake.Hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if run := <-waited; run.Status != "succeeded" || run.Unchanged != 4 {
		t.Errorf("waiting pass = %+v, want succeeded after the first (4 unchanged)", run)
	}
	if c := fake.MaxConcurrent.Load(); c != 1 {
		t.Errorf("the API saw %d concurrent requests, want 1", c)
	}
	if n := count(t, db, `SELECT count(*) FROM sync.reconcile_runs`); n != 2 {
		t.Errorf("%d runs recorded, want 2 (the skipped pass records none)", n)
	}
}

func TestOpenOrdersRefetchedWithoutCardSecrets(t *testing.T) {
	t.Parallel()
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Orders: map[string]string{
		"r-open": `{"orderId":6779294,"requestId":"r-open","status":"Succeeded","createdDate":"2024-05-16T04:36:35.3673422",
			"total":18.9401,"currency":"USD","orderType":"Sandbox","errorMessage":null,
			"items":[{"brandCode":null,"productId":439685,"productFaceValue":10,"quantity":2,"countryCode":"BH","currencyCode":"USD",
			"cards":[{"id":24153984,"serialNumber":"SN-1","cardCode":"SECRET-CODE","pin":"392","status":"Sold"}]}]}`,
	}}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	open := mirrorsync.Change{Key: mirrorsync.Key{Source: "bamboo", ExternalID: "6779294"}, Version: mirrorsync.Version{At: modified},
		Entity: &mirrorsync.Order{RequestID: mirrorsync.Some("r-open"), Status: mirrorsync.Some("Pending")}}
	done := mirrorsync.Change{Key: mirrorsync.Key{Source: "bamboo", ExternalID: "1"}, Version: mirrorsync.Version{At: modified},
		Entity: &mirrorsync.Order{RequestID: mirrorsync.Some("r-done"), Status: mirrorsync.Some("succeeded")}}
	if _, err := g.db.ApplyChanges(context.Background(), mirrorsync.OriginWebhook, []mirrorsync.Change{open, done}); err != nil {
		t.Fatal(err)
	}
	run := g.mustPass(t, "orders", mirrorsync.ModeIncremental)
	if run.Fetched != 1 || run.Updated != 1 {
		t.Errorf("orders pass = %+v, want the one open order fetched and updated", run)
	}
	if len(fake.Seen) != 1 || fake.Seen[0] != "/api/integration/v1.0/orders/r-open" {
		t.Errorf("requests = %v, want only the open order's", fake.Seen)
	}
	var got string
	storetest.Get(t, g.db, &got, `SELECT concat_ws('|', status, total, currency, placed_at, raw::text LIKE '%SECRET-CODE%', raw::text LIKE '%"pin"%',
		(SELECT string_agg(concat_ws(':', product_external_id, quantity, unit_price), ',') FROM mirror.order_items WHERE order_external_id = '6779294'))
		FROM mirror.orders WHERE external_id = '6779294'`)
	// Get Order says "Succeeded"; the mirror keeps the webhooks' spelling, "succeeded".
	if got != "succeeded|18.9401|USD|2024-05-16 04:36:35.367342+00|f|f|439685:2:10" {
		t.Errorf("order = %q", got)
	}
}

func TestDriftedProductsRefetchedFirst(t *testing.T) {
	t.Parallel()
	fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(2, 2, modified)}
	g := newRig(t, fake, storetest.NewDB(t), 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	if _, err := g.db.SQL().Exec(`INSERT INTO sync.refetch (source, entity, store_id, external_id, reason)
		VALUES ('bamboo', 'products', '', '3', 'drift: price_min')`); err != nil {
		t.Fatal(err)
	}
	fake.ResetSeen()
	g.mustPass(t, "products", mirrorsync.ModeIncremental)
	if len(fake.Seen) == 0 || !strings.Contains(fake.Seen[0], "ProductId=3") {
		t.Errorf("first request %v, want the drifted product", fake.Seen)
	}
	if n := count(t, g.db, `SELECT count(*) FROM sync.refetch`); n != 0 {
		t.Errorf("%d refetch flags left after the pass", n)
	}
}
