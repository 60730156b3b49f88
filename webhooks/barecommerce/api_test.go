package barecommerce_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

type rig struct {
	fake *fakeBare
	db   *store.DB
	r    *mirrorsync.Reconciler
}

// clientOptions are the API options of the tests' source "bc": fast retries, no real rate limit.
func clientOptions(baseURL string, timeout time.Duration) providerapi.Options {
	return providerapi.Options{
		Source: "bc", BaseURL: baseURL, Token: apiToken,
		RequestsPerSecond: 1000, Timeout: timeout, Retries: 3, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	}
}

// newRig wires the real reconciler and store to a fake BareCommerce API, listing pageSize at a time.
func newRig(t *testing.T, fake *fakeBare, pageSize int, timeout time.Duration) *rig {
	t.Helper()
	srv := startBare(t, fake)
	p, err := barecommerce.NewPuller(clientOptions(srv.URL, timeout), fakeStore, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.NewDB(t)
	return &rig{fake: fake, db: db, r: webhookstest.Reconciler(db, mirrorsync.ReconcileSource{Name: "bc", Puller: p, Overlap: time.Minute})}
}

func (g *rig) pass(entity, mode string) (mirrorsync.Run, error) {
	return g.r.RunOnce(context.Background(), "bc", entity, mirrorsync.PassOptions{Mode: mode, Trigger: mirrorsync.TriggerManual})
}

func (g *rig) mustPass(t *testing.T, entity, mode string) mirrorsync.Run {
	t.Helper()
	run, err := g.pass(entity, mode)
	if err != nil {
		t.Fatalf("%s %s pass: %v", mode, entity, err)
	}
	return run
}

// counts is what a run counted, to compare with one line.
type counts struct{ Pages, Fetched, Created, Updated, Deleted, Unchanged, Backfilled int }

func countsOf(run mirrorsync.Run) counts {
	return counts{run.Pages, run.Fetched, run.Created, run.Updated, run.Deleted, run.Unchanged, run.Backfilled}
}

func wantRun(t *testing.T, what string, run mirrorsync.Run, want counts) {
	t.Helper()
	if run.Status != mirrorsync.RunSucceeded || countsOf(run) != want {
		t.Errorf("%s: %s %+v, want succeeded %+v", what, run.Status, countsOf(run), want)
	}
}

func wantRequests(t *testing.T, fake *fakeBare, want ...string) {
	t.Helper()
	if got := fake.Requested(); !slices.Equal(got, want) {
		t.Errorf("requests:\ngot  %q\nwant %q", got, want)
	}
}

// A listing of several pages, in either response shape, converges; a second pass changes nothing.
func TestListingOfSeveralPagesConverges(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"total", "pagination"} {
		t.Run(shape, func(t *testing.T) {
			fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(7)}, Pagination: shape == "pagination"}
			g := newRig(t, fake, 3, 5*time.Second)
			run := g.mustPass(t, "products", mirrorsync.ModeFull)
			wantRun(t, "first pass", run, counts{Pages: 3, Fetched: 7, Backfilled: 7})
			wantRequests(t, fake, listURI(3, 0, "createdAt", "asc"), listURI(3, 3, "createdAt", "asc"), listURI(3, 6, "createdAt", "asc"))
			if got, want := dbRows(t, g.db, productCols, "prod_2"),
				"store_1|product|Tea 2|tea-2|TEA-2|published|null|null|9.5|20|2024-03-01T12:02:00Z|null"; got != want {
				t.Errorf("prod_2:\ngot  %s\nwant %s", got, want)
			}
			if got, want := dbRows(t, g.db, `SELECT count(*), min(external_id), max(external_id) FROM mirror.products
				WHERE source = 'bc' AND store_id = 'store_1' AND origin = 'reconcile' AND raw->>'trackStock' = 'true'
				AND source_updated_at = provider_created_at`), "7|prod_1|prod_7"; got != want {
				t.Errorf("mirrored products: %s, want %s", got, want)
			}
			stored, err := g.r.Run(context.Background(), run.ID)
			if err != nil || stored.Status != mirrorsync.RunSucceeded || countsOf(stored) != countsOf(run) || stored.FinishedAt == nil {
				t.Errorf("stored run = %+v, %v; want it as returned, finished", stored, err)
			}
			run = g.mustPass(t, "products", mirrorsync.ModeFull)
			wantRun(t, "second pass", run, counts{Pages: 3, Fetched: 7, Unchanged: 7})
		})
	}
}

// listURI is the request of a products page.
func listURI(limit, offset int, sortBy, order string) string {
	return fmt.Sprintf("/stores/store_1/products?limit=%d&offset=%d&sortBy=%s&sortOrder=%s", limit, offset, sortBy, order)
}

// Orders (with their items), customers and categories map as their webhooks do; an order whose
// items changed upstream has them replaced.
func TestEveryEntityMapped(t *testing.T) {
	t.Parallel()
	item := func(product, title string, sku any, price string, qty int) fakeObject {
		return fakeObject{"id": "li_" + product, "productId": product, "titleSnapshot": title, "skuSnapshot": sku,
			"unitPrice": price, "quantity": qty, "createdAt": stamp(minute(1)), "updatedAt": stamp(minute(1))}
	}
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{
		"orders": {
			{"id": "ord_1", "storeId": fakeStore, "customerId": "cust_1", "orderNumber": "ORD-000001", "status": "paid",
				"currency": "USD", "subtotal": "21.50", "total": "21.50", "paymentStatus": "succeeded",
				"shippingAddress": fakeObject{"city": "Springfield", "country": "US"},
				"items":           []fakeObject{item("prod_1", "Tea 1", "TEA-1", "9.50", 2), item("prod_2", "Mug", nil, "2.50", 1)},
				"placedAt":        stamp(minute(1)), "paidAt": stamp(minute(2)), "createdAt": stamp(minute(1)), "updatedAt": stamp(minute(3))},
			// No storeId and no items: the puller's store, and no lines.
			{"id": "ord_2", "orderNumber": "ORD-000002", "status": "pending", "total": "5", "createdAt": stamp(minute(4)), "updatedAt": stamp(minute(4))},
		},
		"customers": {{"id": "cust_1", "storeId": fakeStore, "email": "ann@example.com", "name": "Ann", "phone": "+15550100",
			"marketingOptIn": true, "createdAt": stamp(minute(1)), "updatedAt": stamp(minute(1))}},
		"categories": {{"id": "cat_2", "storeId": fakeStore, "name": "Green", "slug": "green", "status": "active",
			"description": "Green teas", "parentId": "cat_1", "sortOrder": 1, "productCount": 3,
			"createdAt": stamp(minute(1)), "updatedAt": stamp(minute(1))}},
	}}
	g := newRig(t, fake, 3, 5*time.Second)
	for entity, n := range map[string]int{"orders": 2, "customers": 1, "categories": 1} {
		wantRun(t, entity, g.mustPass(t, entity, mirrorsync.ModeFull), counts{Pages: 1, Fetched: n, Backfilled: n})
	}
	for _, c := range []struct{ query, id, want string }{
		{orderCols, "ord_1", "store_1|ORD-000001|cust_1|paid|succeeded|USD|21.5|2024-03-01T12:01:00Z|2024-03-01T12:02:00Z|null|null|null|null|null|null|reconcile"},
		{orderItems, "ord_1", "store_1|1|prod_1|Tea 1|TEA-1|2|9.5; store_1|2|prod_2|Mug|null|1|2.5"},
		{orderCols, "ord_2", "store_1|ORD-000002|null|pending|null|null|5|2024-03-01T12:04:00Z|null|null|null|null|null|null|null|reconcile"},
		{orderItems, "ord_2", ""},
		{`SELECT raw->'shippingAddress'->>'city', source_updated_at FROM mirror.orders WHERE external_id = $1`, "ord_1", "Springfield|2024-03-01T12:03:00Z"},
		{customerCols, "cust_1", "store_1|ann@example.com|Ann|+15550100|null"},
		{categoryCols, "cat_2", "store_1|Green|green|Green teas|active|cat_1|null"},
	} {
		if got := dbRows(t, g.db, c.query, c.id); got != c.want {
			t.Errorf("%s %.40s:\ngot  %s\nwant %s", c.id, c.query, got, c.want)
		}
	}
	// The order's lines changed upstream: the new list replaces the old one.
	fake.Set("orders", "ord_1", fakeObject{"items": []fakeObject{item("prod_3", "Pot", "POT-1", "30", 1)}, "updatedAt": stamp(minute(9))})
	wantRun(t, "orders again", g.mustPass(t, "orders", mirrorsync.ModeFull), counts{Pages: 1, Fetched: 2, Updated: 1, Unchanged: 1})
	if got, want := dbRows(t, g.db, orderItems, "ord_1"), "store_1|1|prod_3|Pot|POT-1|1|30"; got != want {
		t.Errorf("ord_1 items after the change: %s, want %s", got, want)
	}
}

// A row changed only upstream (its webhook lost) is repaired and counted, by an incremental pass
// that asks only for what changed, and by a full pass.
func TestUpstreamChangeIsRepairedAndCounted(t *testing.T) {
	t.Parallel()
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(5)}}
	g := newRig(t, fake, 2, 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	fake.Requested()
	changed := time.Now().UTC().Truncate(time.Second)
	fake.Set("products", "prod_2", fakeObject{"price": "12.50", "updatedAt": stamp(changed)})
	run := g.mustPass(t, "products", mirrorsync.ModeIncremental)
	wantRun(t, "incremental pass", run, counts{Pages: 1, Fetched: 1, Updated: 1})
	// Newest first: prod_2, then prod_5, older than the watermark, ends the listing.
	wantRequests(t, fake, listURI(2, 0, "updatedAt", "desc"))
	if got, want := dbRows(t, g.db, `SELECT price, source_updated_at, origin FROM mirror.products WHERE external_id = 'prod_2'`),
		"12.5|"+stamp(changed)+"|reconcile"; got != want {
		t.Errorf("prod_2 = %s, want %s", got, want)
	}
	if got, want := dbRows(t, g.db, `SELECT old_value, new_value, origin FROM mirror.product_changes
		WHERE product_external_id = 'prod_2' AND field = 'price'`), "9.5|12.5|reconcile"; got != want {
		t.Errorf("prod_2 price history = %q, want %q", got, want)
	}
	fake.Set("products", "prod_4", fakeObject{"title": "Tea Four", "updatedAt": stamp(minute(30))})
	run = g.mustPass(t, "products", mirrorsync.ModeFull)
	wantRun(t, "full pass", run, counts{Pages: 3, Fetched: 5, Updated: 1, Unchanged: 4})
	if got := dbRows(t, g.db, `SELECT name FROM mirror.products WHERE external_id = 'prod_4'`); got != "Tea Four" {
		t.Errorf("prod_4 name = %q, want Tea Four", got)
	}
}

// A row removed upstream is marked deleted by the second complete full pass without it, as of
// the first; an incremental pass in between is no listing.
func TestRemovedUpstreamDeletedAfterSecondFullPass(t *testing.T) {
	t.Parallel()
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(4)}}
	g := newRig(t, fake, 3, 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	fake.Remove("products", "prod_2")
	first := g.mustPass(t, "products", mirrorsync.ModeFull)
	wantRun(t, "first pass without prod_2", first, counts{Pages: 1, Fetched: 3, Unchanged: 3})
	if got := dbRows(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NOT NULL`); got != "0" {
		t.Fatalf("%s rows deleted after one miss, want 0", got)
	}
	g.mustPass(t, "products", mirrorsync.ModeIncremental)
	second := g.mustPass(t, "products", mirrorsync.ModeFull)
	wantRun(t, "second pass without prod_2", second, counts{Pages: 1, Fetched: 3, Deleted: 1, Unchanged: 3})
	if got, want := dbRows(t, g.db, `SELECT external_id, deleted_at = $1 FROM mirror.products WHERE deleted_at IS NOT NULL`, first.StartedAt),
		"prod_2|true"; got != want {
		t.Errorf("deleted rows = %q, want %q (as of the first pass that missed it)", got, want)
	}
	if got := dbRows(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NULL`); got != "3" {
		t.Errorf("%s live products, want 3", got)
	}
}
