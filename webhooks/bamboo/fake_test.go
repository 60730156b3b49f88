package bamboo_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeBamboo is Bamboo's API as CONTRACT §7 and providers.md §1 describe it: the v2 catalog
// (brands with their products, zero-based PageIndex, a server-side cap on PageSize, ModifiedDate
// and ProductId filters) and Get Order, behind HTTP Basic. It writes pages as it goes, so that a
// large catalog costs the test process little memory.
type fakeBamboo struct {
	mu          stdsync.Mutex
	brands      []fakeBrand
	orders      map[string]string // requestId → JSON
	maxPageSize int
	// fail, when set, may answer a request instead of the catalog (the nth request, from 1).
	fail     func(n int64, w http.ResponseWriter, r *http.Request) bool
	requests atomic.Int64
	inFlight atomic.Int64
	maxConc  atomic.Int64
	hold     chan struct{} // when set, each catalog request waits for it
	seen     []string      // request URIs
}

type fakeBrand struct {
	name     string
	products []fakeProduct
}

type fakeProduct struct {
	id       int
	name     string
	price    string
	count    *int
	modified time.Time
}

const apiUser, apiPass = "client-id", "client-secret"

// newCatalog makes brands×perBrand products, ids from 1, all modified at t.
func newCatalog(brands, perBrand int, t time.Time) []fakeBrand {
	out := make([]fakeBrand, brands)
	id := 1
	for b := range out {
		out[b].name = fmt.Sprintf("Brand %d", b)
		for p := 0; p < perBrand; p++ {
			out[b].products = append(out[b].products, fakeProduct{id: id, name: fmt.Sprintf("Card %d", id), price: "10.00", modified: t})
			id++
		}
	}
	return out
}

func (f *fakeBamboo) start(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeBamboo) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	c := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.maxConc.Load(); c > m && !f.maxConc.CompareAndSwap(m, c); m = f.maxConc.Load() {
	}
	f.mu.Lock()
	f.seen = append(f.seen, r.URL.RequestURI())
	f.mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != apiUser || p != apiPass {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if f.fail != nil && f.fail(n, w, r) {
		return
	}
	if f.hold != nil {
		<-f.hold
	}
	switch {
	case r.URL.Path == "/api/integration/v2.0/catalog":
		f.catalog(w, r)
	case len(r.URL.Path) > len("/api/integration/v1.0/orders/") && r.URL.Path[:len("/api/integration/v1.0/orders/")] == "/api/integration/v1.0/orders/":
		f.mu.Lock()
		body, ok := f.orders[r.URL.Path[len("/api/integration/v1.0/orders/"):]]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeBamboo) catalog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 {
		size = 100
	}
	if f.maxPageSize > 0 && size > f.maxPageSize {
		size = f.maxPageSize // the server caps what was asked for
	}
	index, _ := strconv.Atoi(q.Get("PageIndex"))
	var since time.Time
	if d := q.Get("ModifiedDate"); d != "" {
		since, _ = time.Parse(time.DateOnly, d)
	}
	productID, _ := strconv.Atoi(q.Get("ProductId"))
	f.mu.Lock()
	var brands []fakeBrand
	for _, b := range f.brands {
		var ps []fakeProduct
		for _, p := range b.products {
			if (productID == 0 || p.id == productID) && !p.modified.Before(since) {
				ps = append(ps, p)
			}
		}
		if len(ps) > 0 {
			brands = append(brands, fakeBrand{name: b.name, products: ps})
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"pageIndex":%d,"pageSize":%d,"count":%d,"items":[`, index, size, len(brands))
	for i := index * size; i < min((index+1)*size, len(brands)); i++ {
		if i > index*size {
			w.Write([]byte(","))
		}
		writeBrand(w, brands[i])
	}
	w.Write([]byte("]}"))
}

func writeBrand(w http.ResponseWriter, b fakeBrand) {
	fmt.Fprintf(w, `{"internalId":"%s","name":%q,"countryCode":"US","currencyCode":"USD","description":"","modifiedDate":"2022-08-22T09:06:28.4131483","products":[`, b.name, b.name)
	for j, p := range b.products {
		if j > 0 {
			w.Write([]byte(","))
		}
		count := "null"
		if p.count != nil {
			count = strconv.Itoa(*p.count)
		}
		name, _ := json.Marshal(p.name)
		fmt.Fprintf(w, `{"id":%d,"name":%s,"minFaceValue":10.0000,"maxFaceValue":10.0000,"count":%s,"price":{"min":%s,"max":%s,"currencyCode":"USD"},"modifiedDate":%q}`,
			p.id, name, count, p.price, p.price, p.modified.UTC().Format("2006-01-02T15:04:05.0000000"))
	}
	w.Write([]byte(`],"categories":[{"id":6,"name":"Airlines & Hotels","description":""}]}`))
}

// update changes product id upstream (and its modifiedDate).
func (f *fakeBamboo) update(id int, fn func(p *fakeProduct)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for b := range f.brands {
		for i := range f.brands[b].products {
			if f.brands[b].products[i].id == id {
				fn(&f.brands[b].products[i])
			}
		}
	}
}

// remove deletes product id upstream.
func (f *fakeBamboo) remove(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for b := range f.brands {
		ps := f.brands[b].products[:0]
		for _, p := range f.brands[b].products {
			if p.id != id {
				ps = append(ps, p)
			}
		}
		f.brands[b].products = ps
	}
}
