package barecommerce_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
)

// An incremental pass with no watermark lists everything, oldest-created first; with one, it lists
// the latest-updated first and stops at the page that reaches rows older than the watermark. A
// server that ignores sortBy is noticed, and read to the end.
func TestIncrementalPassStopsEarly(t *testing.T) {
	t.Parallel()
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(10)}}
	g := newRig(t, fake, 3, 5*time.Second)
	run := g.mustPass(t, "products", mirrorsync.ModeIncremental)
	wantRun(t, "first incremental pass", run, counts{Pages: 4, Fetched: 10, Backfilled: 10})
	wantRequests(t, fake, listURI(3, 0, "createdAt", "asc"), listURI(3, 3, "createdAt", "asc"),
		listURI(3, 6, "createdAt", "asc"), listURI(3, 9, "createdAt", "asc"))

	now := time.Now().UTC().Truncate(time.Second)
	for i, id := range []string{"prod_4", "prod_7", "prod_9", "prod_10"} {
		fake.Set("products", id, fakeObject{"stock": 0, "updatedAt": stamp(now.Add(time.Duration(i) * time.Second))})
	}
	// Page 1: three changed rows; page 2: the fourth, then rows older than the watermark.
	run = g.mustPass(t, "products", mirrorsync.ModeIncremental)
	wantRun(t, "incremental pass", run, counts{Pages: 2, Fetched: 4, Updated: 4})
	wantRequests(t, fake, listURI(3, 0, "updatedAt", "desc"), listURI(3, 3, "updatedAt", "desc"))
	if got := dbRows(t, g.db, `SELECT string_agg(external_id, ',' ORDER BY external_id) FROM mirror.products WHERE stock_quantity = 0`); got != "prod_10,prod_4,prod_7,prod_9" {
		t.Errorf("out of stock: %s, want prod_10,prod_4,prod_7,prod_9", got)
	}

	fake.IgnoreSort = true
	fake.Set("products", "prod_2", fakeObject{"title": "Tea Two", "updatedAt": stamp(now.Add(10 * time.Second))})
	run = g.mustPass(t, "products", mirrorsync.ModeIncremental)
	// In creation order, prod_1 then the newer prod_2: out of order, so every page is read; the
	// rows older than the watermark are left out.
	wantRun(t, "incremental pass, sort ignored", run, counts{Pages: 4, Fetched: 5, Updated: 1, Unchanged: 4})
	wantRequests(t, fake, listURI(3, 0, "updatedAt", "desc"), listURI(3, 3, "updatedAt", "desc"),
		listURI(3, 6, "updatedAt", "desc"), listURI(3, 9, "updatedAt", "desc"))
}

// Rows flagged for re-fetching are fetched one by one before the listing; one the API no longer
// has is skipped, another store's is not fetched, and the flags are cleared.
func TestRefetchedFirst(t *testing.T) {
	t.Parallel()
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(3)}}
	g := newRig(t, fake, 3, 5*time.Second)
	g.mustPass(t, "products", mirrorsync.ModeFull)
	fake.Requested()
	// A change upstream that did not move updatedAt: no listing by updatedAt finds it.
	fake.Set("products", "prod_2", fakeObject{"title": "Tea Two"})
	for _, k := range [][2]string{{fakeStore, "prod_2"}, {fakeStore, "prod_gone"}, {"store_9", "prod_3"}} {
		if _, err := g.db.SQL().Exec(`INSERT INTO sync.refetch (source, entity, store_id, external_id, reason)
			VALUES ('bc', 'products', $1, $2, 'drift: name')`, k[0], k[1]); err != nil {
			t.Fatal(err)
		}
	}
	run := g.mustPass(t, "products", mirrorsync.ModeIncremental)
	wantRun(t, "incremental pass", run, counts{Pages: 1, Fetched: 1, Updated: 1})
	wantRequests(t, fake, "/stores/store_1/products/prod_2", "/stores/store_1/products/prod_gone", listURI(3, 0, "updatedAt", "desc"))
	if got := dbRows(t, g.db, `SELECT name, source_updated_at FROM mirror.products WHERE external_id = 'prod_2'`); got != "Tea Two|2024-03-01T12:02:00Z" {
		t.Errorf("prod_2 = %s, want Tea Two|2024-03-01T12:02:00Z", got)
	}
	if got := dbRows(t, g.db, `SELECT count(*) FROM sync.refetch`); got != "0" {
		t.Errorf("%s refetch flags left, want 0", got)
	}
}

// What Pull emits: keyed by the object's store (else the puller's), versioned by updatedAt (else
// the fetch time), no patch, raw byte for byte; and the limit asked is capped at 200.
func TestPullChanges(t *testing.T) {
	products := newProducts(1)
	undated := fakeObject{"id": "prod_x", "title": "Loose Tea", "price": 3, "createdAt": stamp(minute(5))}
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": append(products, undated)}}
	srv := startBare(t, fake)
	p, err := barecommerce.NewPuller(clientOptions(srv.URL, 5*time.Second), fakeStore, 500)
	if err != nil {
		t.Fatal(err)
	}
	var got []mirrorsync.Change
	before := time.Now()
	err = p.Pull(context.Background(), mirrorsync.PullRequest{Entity: "products", Mode: mirrorsync.ModeFull},
		func(cs []mirrorsync.Change) error { got = append(got, cs...); return nil })
	after := time.Now()
	if err != nil || len(got) != 2 {
		t.Fatalf("Pull = %d changes, %v; want 2", len(got), err)
	}
	wantRequests(t, fake, listURI(200, 0, "createdAt", "asc"))
	c := got[0]
	if want := (mirrorsync.Key{Source: "bc", StoreID: fakeStore, ExternalID: "prod_1"}); c.Key != want || !c.Version.At.Equal(minute(1)) {
		t.Errorf("key %v at %v, want %v at %v", c.Key, c.Version.At, want, minute(1))
	}
	if c.Patch || c.Delete || string(c.Raw) != renderObject(products[0]) {
		t.Errorf("patch %v delete %v raw %s; want a snapshot with raw\n%s", c.Patch, c.Delete, c.Raw, renderObject(products[0]))
	}
	e, ok := c.Entity.(*mirrorsync.Product)
	if !ok || e.Name != mirrorsync.Some("Tea 1") || !e.Price.Set || !e.Price.Value.Equal(decimal.RequireFromString("9.50")) ||
		e.StockQuantity != mirrorsync.Some[int64](10) || e.Currency.Set {
		t.Errorf("entity %#v", c.Entity)
	}
	c = got[1]
	if want := (mirrorsync.Key{Source: "bc", StoreID: fakeStore, ExternalID: "prod_x"}); c.Key != want ||
		c.Version.At.Before(before) || c.Version.At.After(after) {
		t.Errorf("undated: key %v at %v, want %v at the fetch time", c.Key, c.Version.At, want)
	}
}

func TestNewPullerRequiresStoreID(t *testing.T) {
	_, err := barecommerce.NewPuller(clientOptions("http://127.0.0.1:1", time.Second), "", 100)
	if err == nil || !strings.Contains(err.Error(), "bc: api.store_id: the store to pull is required") {
		t.Errorf("NewPuller without a store: %v, want an error naming store_id", err)
	}
}

// A wrong API key is answered 401: the pass fails at once (no retries), naming source, path and status.
func TestWrongTokenFails(t *testing.T) {
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(1)}}
	srv := startBare(t, fake)
	o := clientOptions(srv.URL, 5*time.Second)
	o.Token = "sk_live_revoked"
	p, err := barecommerce.NewPuller(o, fakeStore, 10)
	if err != nil {
		t.Fatal(err)
	}
	err = p.Pull(context.Background(), mirrorsync.PullRequest{Entity: "products", Mode: mirrorsync.ModeFull},
		func([]mirrorsync.Change) error { t.Error("emitted changes"); return nil })
	if err == nil || !strings.Contains(err.Error(), "bc: GET /stores/store_1/products: 401 Unauthorized") {
		t.Errorf("err = %v, want bc: GET /stores/store_1/products: 401 Unauthorized", err)
	}
	if n := fake.Requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRateLimitedPassBacksOffAndSucceeds(t *testing.T) {
	t.Parallel()
	limited := 0
	fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(4)}}
	fake.Fail = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if n > 2 {
			return false
		}
		limited++
		w.Header().Set("Retry-After", "0")
		apiError(w, http.StatusTooManyRequests, "RATE_LIMITED", "slow down")
		return true
	}
	g := newRig(t, fake, 3, 5*time.Second)
	run := g.mustPass(t, "products", mirrorsync.ModeFull)
	wantRun(t, fmt.Sprintf("after %d 429s", limited), run, counts{Pages: 2, Fetched: 4, Backfilled: 4})
	first := listURI(3, 0, "createdAt", "asc")
	wantRequests(t, fake, first, first, first, listURI(3, 3, "createdAt", "asc"))
}
