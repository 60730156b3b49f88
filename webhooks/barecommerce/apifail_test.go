package barecommerce_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// A pass that fails part-way (a 5xx past the retries, a timeout, a listing short of its total, an
// object without an id) records failed with an error naming the source and path, deletes nothing,
// and does not count as a listing: the next complete pass is the second miss, not a first.
func TestFailedPassDeletesNothing(t *testing.T) {
	t.Parallel()
	onSecondPage := func(answer func(w http.ResponseWriter)) func(n int64, w http.ResponseWriter, r *http.Request) bool {
		return func(n int64, w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Get("offset") != "1" {
				return false
			}
			answer(w)
			return answer != nil
		}
	}
	cases := []struct {
		name   string
		break_ func(f *fakeBare)
		want   string
	}{
		{"5xx", func(f *fakeBare) {
			f.Fail = onSecondPage(func(w http.ResponseWriter) { apiError(w, http.StatusBadGateway, "UPSTREAM", "exploded") })
		}, "bc: GET /stores/store_1/products: 502 Bad Gateway"},
		{"timeout", func(f *fakeBare) {
			f.Fail = func(n int64, w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Query().Get("offset") == "1" {
					time.Sleep(300 * time.Millisecond) // longer than the client's timeout
				}
				return false
			}
		}, "bc: GET /stores/store_1/products: "},
		{"short listing", func(f *fakeBare) { f.ExtraTotal = 1 },
			"bc: GET /stores/store_1/products: listing ended after 2 of its 3 items"},
		{"object without id", func(f *fakeBare) {
			f.Objects["products"] = append(f.Objects["products"], fakeObject{"title": "Ghost", "createdAt": stamp(minute(9))})
		}, "bc: GET /stores/store_1/products: item 0: decode product: no id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"products": newProducts(3)}}
			g := newRig(t, fake, 1, 100*time.Millisecond)
			g.mustPass(t, "products", mirrorsync.ModeFull)
			fake.Remove("products", "prod_3")
			g.mustPass(t, "products", mirrorsync.ModeFull) // the first miss of prod_3
			fake.Mu.Lock()
			c.break_(fake)
			fake.Mu.Unlock()
			run, err := g.pass("products", mirrorsync.ModeFull)
			if err == nil || run.Status != mirrorsync.RunFailed || run.Error == nil || !strings.Contains(*run.Error, c.want) {
				t.Fatalf("run %s error %v (%v); want failed with %q", run.Status, run.Error, err, c.want)
			}
			if got := dbRows(t, g.db, `SELECT count(*) FROM mirror.products WHERE deleted_at IS NOT NULL`); got != "0" {
				t.Errorf("the failed pass deleted %s rows", got)
			}
			if got := dbRows(t, g.db, `SELECT count(*) FROM sync.reconcile_seen`); got != "0" {
				t.Errorf("the failed pass left %s scratch rows", got)
			}
			stored, err := g.r.Run(context.Background(), run.ID)
			if err != nil || stored.Status != mirrorsync.RunFailed || stored.Error == nil || *stored.Error != *run.Error || stored.FinishedAt == nil {
				t.Errorf("stored run = %+v, %v; want failed and finished, with the error", stored, err)
			}
			// Mended: the next complete pass is prod_3's second miss.
			fake.Mu.Lock()
			fake.Fail, fake.ExtraTotal, fake.Objects["products"] = nil, 0, newProducts(2)
			fake.Mu.Unlock()
			wantRun(t, "mended pass", g.mustPass(t, "products", mirrorsync.ModeFull), counts{Pages: 2, Fetched: 2, Deleted: 1, Unchanged: 2})
		})
	}
}
