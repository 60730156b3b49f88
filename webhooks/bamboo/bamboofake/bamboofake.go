// Package bamboofake is Bamboo's integration API as a local HTTP server, for the tests and
// for the sandbox `make run` starts: the v2 catalog (brands with their products, zero-based
// PageIndex, a server-side cap on PageSize, the ModifiedDate and ProductId filters) and Get
// Order, behind HTTP Basic, in the formats the real API answers.
package bamboofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"
)

// API is the fake. Set its fields before it serves; change the catalog while it serves with
// Update, Remove and Add (or under Mu).
type API struct {
	Username, Password string
	Mu                 stdsync.Mutex
	Brands             []Brand
	Orders             map[string]string // requestId → the Get Order JSON
	MaxPageSize        int               // the server's cap on PageSize (0: none)
	// Fail, when set, may answer a request instead of the API (the nth request, from 1).
	Fail func(n int64, w http.ResponseWriter, r *http.Request) bool
	// Hold, when set, makes each catalog request wait until it is closed.
	Hold chan struct{}

	Requests      atomic.Int64 // requests received
	MaxConcurrent atomic.Int64 // the most requests in flight at once
	Seen          []string     // request URIs, under Mu
	inFlight      atomic.Int64
}

// Brand is a brand of the catalog, with its products.
type Brand struct {
	Name     string
	Products []Product
}

// Product is a product of the catalog.
type Product struct {
	ID       int
	Name     string
	Price    string // JSON number text: 10.00
	Count    *int   // nil: unlimited
	Modified time.Time
}

// NewCatalog makes brands×perBrand products, ids from 1, all priced 10.00 and modified at t.
func NewCatalog(brands, perBrand int, t time.Time) []Brand {
	out := make([]Brand, brands)
	id := 1
	for b := range out {
		out[b].Name = fmt.Sprintf("Brand %d", b)
		for range perBrand {
			out[b].Products = append(out[b].Products, Product{ID: id, Name: fmt.Sprintf("Card %d", id), Price: "10.00", Modified: t})
			id++
		}
	}
	return out
}

const orderPath = "/api/integration/v1.0/orders/"

// ServeHTTP implements http.Handler.
func (f *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.Requests.Add(1)
	c := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for m := f.MaxConcurrent.Load(); c > m && !f.MaxConcurrent.CompareAndSwap(m, c); m = f.MaxConcurrent.Load() {
	}
	f.Mu.Lock()
	f.Seen = append(f.Seen, r.URL.RequestURI())
	f.Mu.Unlock()
	if u, p, ok := r.BasicAuth(); !ok || u != f.Username || p != f.Password {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if f.Fail != nil && f.Fail(n, w, r) {
		return
	}
	switch {
	case r.URL.Path == "/api/integration/v2.0/catalog":
		if f.Hold != nil {
			<-f.Hold
		}
		f.catalog(w, r)
	case strings.HasPrefix(r.URL.Path, orderPath) && len(r.URL.Path) > len(orderPath):
		f.Mu.Lock()
		body, ok := f.Orders[r.URL.Path[len(orderPath):]]
		f.Mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	default:
		http.NotFound(w, r)
	}
}

func (f *API) catalog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("PageSize"))
	if size <= 0 {
		size = 100
	}
	if f.MaxPageSize > 0 && size > f.MaxPageSize {
		size = f.MaxPageSize // the server caps what was asked for
	}
	index, _ := strconv.Atoi(q.Get("PageIndex"))
	var since time.Time
	if d := q.Get("ModifiedDate"); d != "" {
		since, _ = time.Parse(time.DateOnly, d)
	}
	productID, _ := strconv.Atoi(q.Get("ProductId"))
	f.Mu.Lock()
	var brands []Brand
	for _, b := range f.Brands {
		var ps []Product
		for _, p := range b.Products {
			if (productID == 0 || p.ID == productID) && !p.Modified.Before(since) {
				ps = append(ps, p)
			}
		}
		if len(ps) > 0 {
			brands = append(brands, Brand{Name: b.Name, Products: ps})
		}
	}
	f.Mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	// Written as it goes, so that a catalog of 100,000 products costs the fake little memory.
	fmt.Fprintf(w, `{"pageIndex":%d,"pageSize":%d,"count":%d,"items":[`, index, size, len(brands))
	for i := index * size; i < min((index+1)*size, len(brands)); i++ {
		if i > index*size {
			w.Write([]byte(","))
		}
		writeBrand(w, brands[i])
	}
	w.Write([]byte("]}"))
}

func writeBrand(w http.ResponseWriter, b Brand) {
	name, _ := json.Marshal(b.Name)
	fmt.Fprintf(w, `{"internalId":%s,"name":%s,"countryCode":"US","currencyCode":"USD","description":"","modifiedDate":"2022-08-22T09:06:28.4131483","products":[`, name, name)
	for j, p := range b.Products {
		if j > 0 {
			w.Write([]byte(","))
		}
		count := "null"
		if p.Count != nil {
			count = strconv.Itoa(*p.Count)
		}
		name, _ := json.Marshal(p.Name)
		fmt.Fprintf(w, `{"id":%d,"name":%s,"minFaceValue":10.0000,"maxFaceValue":10.0000,"count":%s,"price":{"min":%s,"max":%s,"currencyCode":"USD"},"modifiedDate":%q}`,
			p.ID, name, count, p.Price, p.Price, p.Modified.UTC().Format("2006-01-02T15:04:05.0000000"))
	}
	w.Write([]byte(`],"categories":[{"id":6,"name":"Airlines & Hotels","description":""}]}`))
}

// Update changes product id upstream.
func (f *API) Update(id int, fn func(p *Product)) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for b := range f.Brands {
		for i := range f.Brands[b].Products {
			if f.Brands[b].Products[i].ID == id {
				fn(&f.Brands[b].Products[i])
			}
		}
	}
}

// Remove deletes product id upstream.
func (f *API) Remove(id int) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for b := range f.Brands {
		ps := f.Brands[b].Products[:0]
		for _, p := range f.Brands[b].Products {
			if p.ID != id {
				ps = append(ps, p)
			}
		}
		f.Brands[b].Products = ps
	}
}

// ResetSeen forgets the request URIs seen so far.
func (f *API) ResetSeen() {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Seen = nil
}
