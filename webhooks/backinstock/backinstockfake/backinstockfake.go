// Package backinstockfake is Back in Stock's Reports API as a local HTTP server, for the tests
// and for the sandbox `make run` starts: GET /api/variants, a JSON array of per-variant
// aggregates, paged by page (from 1, default 1) and per_page, sorted by sort and order, behind
// HTTP Basic with the token as the username and no password.
package backinstockfake

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"
)

// API is the fake. Change its fields under Mu once it serves.
type API struct {
	Token      string // the report token: the Basic username
	Mu         stdsync.Mutex
	Variants   []Variant
	MaxPerPage int  // when set, the server caps per_page
	IgnorePage bool // when set, every request answers page 1
	// Fail, when set, may answer a request instead of the report (the nth request, from 1).
	Fail     func(n int64, w http.ResponseWriter, r *http.Request) bool
	Requests atomic.Int64 // requests received
	seen     []url.Values // the report requests' queries, after authentication
}

// Variant is one row of the report. The JSON-valued fields hold the JSON text sent.
type Variant struct {
	No, ProductID       int64
	SKU, Description    string // JSON
	Price               string // JSON: Back in Stock sends a string
	Count, Sent, Unsent int
	LastAdded           string // JSON
	LastAddedAt         time.Time
	Override            string // when set, the row's whole JSON
}

// ReportBase is when the newest notification of NewVariants was added.
var ReportBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// NewVariants makes n variants, numbered from 1, the notification of variant i added i hours
// before ReportBase (so the report, newest first, lists them in order). Variant 3 has no SKU and
// no price, variant 4 an empty description and a time with an offset, variant 5 a price no
// float64 holds.
func NewVariants(n int) []Variant {
	out := make([]Variant, n)
	for i := range out {
		k := i + 1
		at := ReportBase.Add(-time.Duration(k) * time.Hour)
		v := Variant{
			No: VariantNo(k), ProductID: 8339067207900 + int64((k+1)/2),
			SKU: strconv.Quote(fmt.Sprintf("TEA-%02d", k)), Description: strconv.Quote(fmt.Sprintf("Tea %d - Large", k)),
			Price: strconv.Quote(fmt.Sprintf("%d.90", 10+k)), Count: k + 2, Sent: k % 3,
			LastAdded: strconv.Quote(at.Format("2006-01-02T15:04:05.000Z")), LastAddedAt: at,
		}
		v.Unsent = v.Count - v.Sent
		switch k {
		case 3:
			v.SKU, v.Price = "null", "null"
		case 5:
			v.Price = `"12345678901234567.89"` // more digits than a float64 holds
		case 4:
			v.Description = `""`
			v.LastAdded = strconv.Quote(at.In(time.FixedZone("", 10*3600)).Format("2006-01-02T15:04:05.000-07:00"))
		}
		out[i] = v
	}
	return out
}

// VariantNo is the Shopify variant id of variant k (int64-sized, as Shopify's are).
func VariantNo(k int) int64 { return 44000000000000 + int64(k) }

// JSON is the row as the report sends it (with a key storemirror has no column for).
func (v Variant) JSON() string {
	if v.Override != "" {
		return v.Override
	}
	return fmt.Sprintf(`{"sku":%s,"product_id":%d,"variant_no":%d,"description":%s,"unsent_notifications_count":%d,`+
		`"sent_notifications_count":%d,"notifications_count":%d,"notification_last_added_at":%s,"notification_last_sent_at":null,"unit_price":%s}`,
		v.SKU, v.ProductID, v.No, v.Description, v.Unsent, v.Sent, v.Count, v.LastAdded, v.Price)
}

// ServeHTTP implements http.Handler.
func (f *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.Requests.Add(1)
	if u, p, ok := r.BasicAuth(); !ok || u != f.Token || p != "" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/variants" {
		http.NotFound(w, r)
		return
	}
	f.Mu.Lock()
	f.seen = append(f.seen, r.URL.Query())
	f.Mu.Unlock()
	if f.Fail != nil && f.Fail(n, w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("[" + strings.Join(f.page(r.URL.Query()), ",") + "]"))
}

// page returns the rows of the page q asks for.
func (f *API) page(q url.Values) []string {
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 {
		perPage = 20
	}
	if f.MaxPerPage > 0 && perPage > f.MaxPerPage {
		perPage = f.MaxPerPage
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page <= 0 || f.IgnorePage {
		page = 1
	}
	f.Mu.Lock()
	vs := slices.Clone(f.Variants)
	f.Mu.Unlock()
	if q.Get("sort") == "notification_last_added_at" {
		slices.SortStableFunc(vs, func(a, b Variant) int { return a.LastAddedAt.Compare(b.LastAddedAt) })
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

// Update changes variant k upstream.
func (f *API) Update(k int, fn func(v *Variant)) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for i := range f.Variants {
		if f.Variants[i].No == VariantNo(k) {
			fn(&f.Variants[i])
		}
	}
}

// Remove drops variant k from the report (its notifications are gone).
func (f *API) Remove(k int) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Variants = slices.DeleteFunc(f.Variants, func(v Variant) bool { return v.No == VariantNo(k) })
}

// Queries returns the report requests seen since request from (0-based), each as
// "page=N per_page=M sort=S order=O".
func (f *API) Queries(from int) []string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	var out []string
	for _, q := range f.seen[from:] {
		out = append(out, fmt.Sprintf("page=%s per_page=%s sort=%s order=%s", q.Get("page"), q.Get("per_page"), q.Get("sort"), q.Get("order")))
	}
	return out
}

// SeenCount is how many report requests were seen.
func (f *API) SeenCount() int {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	return len(f.seen)
}
