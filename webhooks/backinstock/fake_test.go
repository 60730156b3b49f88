package backinstock_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"
)

// reportToken is the store's Reports API token: the HTTP Basic username, with no password.
const reportToken = "bis-report-token"

// fakeReport is Back in Stock's Reports API as providers.md §6.2 describes it: GET /api/variants,
// a JSON array of per-variant aggregates, paged by page (from 1, default 1) and per_page, sorted
// by sort and order, behind HTTP Basic with the token as the username and no password.
type fakeReport struct {
	mu         stdsync.Mutex
	variants   []fakeVariant
	maxPerPage int  // when set, the server caps per_page
	ignorePage bool // when set, every request answers page 1
	// fail, when set, may answer a request instead of the report (the nth request, from 1).
	fail     func(n int64, w http.ResponseWriter, r *http.Request) bool
	requests atomic.Int64
	seen     []url.Values // the report requests' queries, after authentication
}

// fakeVariant is one row of the report. The JSON-valued fields hold the JSON text sent.
type fakeVariant struct {
	no, productID       int64
	sku, description    string // JSON
	price               string // JSON: Back in Stock sends a string
	count, sent, unsent int
	lastAdded           string // JSON
	lastAddedAt         time.Time
	override            string // when set, the row's whole JSON
}

// reportBase is when the newest notification of newVariants was added.
var reportBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newVariants makes n variants, numbered from 1, the notification of variant i added i hours
// before reportBase (so the report, newest first, lists them in order). Variant 3 has no SKU and
// no price, variant 4 an empty description and a time with an offset, variant 5 a price no
// float64 holds.
func newVariants(n int) []fakeVariant {
	out := make([]fakeVariant, n)
	for i := range out {
		k := i + 1
		at := reportBase.Add(-time.Duration(k) * time.Hour)
		v := fakeVariant{
			no: variantNo(k), productID: 8339067207900 + int64((k+1)/2),
			sku: strconv.Quote(fmt.Sprintf("TEA-%02d", k)), description: strconv.Quote(fmt.Sprintf("Tea %d - Large", k)),
			price: strconv.Quote(fmt.Sprintf("%d.90", 10+k)), count: k + 2, sent: k % 3,
			lastAdded: strconv.Quote(at.Format("2006-01-02T15:04:05.000Z")), lastAddedAt: at,
		}
		v.unsent = v.count - v.sent
		switch k {
		case 3:
			v.sku, v.price = "null", "null"
		case 5:
			v.price = `"12345678901234567.89"` // more digits than a float64 holds
		case 4:
			v.description = `""`
			v.lastAdded = strconv.Quote(at.In(time.FixedZone("", 10*3600)).Format("2006-01-02T15:04:05.000-07:00"))
		}
		out[i] = v
	}
	return out
}

// variantNo is the Shopify variant id of variant k (int64-sized, as Shopify's are).
func variantNo(k int) int64 { return 44000000000000 + int64(k) }

// JSON is the row as the report sends it (with a key storemirror has no column for).
func (v fakeVariant) JSON() string {
	if v.override != "" {
		return v.override
	}
	return fmt.Sprintf(`{"sku":%s,"product_id":%d,"variant_no":%d,"description":%s,"unsent_notifications_count":%d,`+
		`"sent_notifications_count":%d,"notifications_count":%d,"notification_last_added_at":%s,"notification_last_sent_at":null,"unit_price":%s}`,
		v.sku, v.productID, v.no, v.description, v.unsent, v.sent, v.count, v.lastAdded, v.price)
}

func (f *fakeReport) start(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeReport) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if u, p, ok := r.BasicAuth(); !ok || u != reportToken || p != "" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/variants" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.seen = append(f.seen, r.URL.Query())
	f.mu.Unlock()
	if f.fail != nil && f.fail(n, w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("[" + strings.Join(f.page(r.URL.Query()), ",") + "]"))
}

// page returns the rows of the page q asks for.
func (f *fakeReport) page(q url.Values) []string {
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 {
		perPage = 20
	}
	if f.maxPerPage > 0 && perPage > f.maxPerPage {
		perPage = f.maxPerPage
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 || f.ignorePage {
		page = 1
	}
	f.mu.Lock()
	vs := slices.Clone(f.variants)
	f.mu.Unlock()
	if q.Get("sort") == "notification_last_added_at" {
		slices.SortStableFunc(vs, func(a, b fakeVariant) int { return a.lastAddedAt.Compare(b.lastAddedAt) })
		if q.Get("order") != "asc" {
			slices.Reverse(vs)
		}
	}
	var out []string
	for i := (page - 1) * perPage; i < min(page*perPage, len(vs)); i++ {
		out = append(out, vs[i].JSON())
	}
	return out
}

// update changes variant k upstream.
func (f *fakeReport) update(k int, fn func(v *fakeVariant)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.variants {
		if f.variants[i].no == variantNo(k) {
			fn(&f.variants[i])
		}
	}
}

// remove drops variant k from the report (its notifications are gone).
func (f *fakeReport) remove(k int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.variants = slices.DeleteFunc(f.variants, func(v fakeVariant) bool { return v.no == variantNo(k) })
}

// queries returns the report requests seen since request from (0-based), each as
// "page=N per_page=M sort=S order=O".
func (f *fakeReport) queries(from int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, q := range f.seen[from:] {
		out = append(out, fmt.Sprintf("page=%s per_page=%s sort=%s order=%s", q.Get("page"), q.Get("per_page"), q.Get("sort"), q.Get("order")))
	}
	return out
}

func (f *fakeReport) seenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}
