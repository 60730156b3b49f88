// Package barecommercefake is BareCommerce's store API as a local HTTP server, for the tests
// and for the sandbox `make run` starts: store-scoped listings
// GET /stores/{storeId}/{products,orders,customers,categories}?limit=&offset= (limit 50 by
// default, capped at 200) with sortBy/sortOrder, single objects at .../{id} as {"item":{...}},
// errors as {"error":{...}}, behind a Bearer token.
package barecommercefake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"
)

// API is the fake. Objects are written indented, so that a client that re-encodes them instead
// of keeping their bytes is caught. The fields after Mu are changed under Mu once it serves.
type API struct {
	Token   string // the Bearer token it takes
	StoreID string // the one store it has
	Mu      stdsync.Mutex
	Objects map[string][]Object // entity → objects, in creation order
	// Pagination answers BareMCP's {"items","pagination"} instead of the docs' {"items","total"}.
	Pagination bool
	IgnoreSort bool // answer in creation order whatever sortBy says (a server without sorting)
	ExtraTotal int  // announced beyond the objects listed (a listing that ends before its total)
	// Fail, when set, may answer a request instead (the nth request, from 1).
	Fail     func(n int64, w http.ResponseWriter, r *http.Request) bool
	Requests atomic.Int64 // requests received
	seen     []string     // request URIs, until Requested
}

// Object is one resource as the API returns it.
type Object map[string]any

// Minute is a fixed clock for the fake's objects: minute i after 2024-03-01 12:00 UTC.
func Minute(i int) time.Time {
	return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
}

func Stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// NewProducts makes products prod_1..prod_n of store_1, product i created and updated at minute(i).
func NewProducts(n int) []Object {
	out := make([]Object, n)
	for i := range out {
		id := i + 1
		out[i] = Object{
			"id": fmt.Sprintf("prod_%d", id), "storeId": "store_1", "title": fmt.Sprintf("Tea %d", id),
			"slug": fmt.Sprintf("tea-%d", id), "status": "published", "price": "9.50", "sku": fmt.Sprintf("TEA-%d", id),
			"stock": id * 10, "trackStock": true, "categoryIds": []string{"cat_1"},
			"createdAt": Stamp(Minute(id)), "updatedAt": Stamp(Minute(id)),
		}
	}
	return out
}

func APIError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

// ServeHTTP implements http.Handler.
func (f *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.Requests.Add(1)
	f.Mu.Lock()
	f.seen = append(f.seen, r.URL.RequestURI())
	fail := f.Fail
	f.Mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+f.Token {
		APIError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid api key")
		return
	}
	if fail != nil && fail(n, w, r) {
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/stores/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/stores/") || len(parts) < 2 || len(parts) > 3 || parts[0] != f.StoreID {
		APIError(w, http.StatusNotFound, "NOT_FOUND", "no such route")
		return
	}
	f.Mu.Lock()
	objects, ok := f.Objects[parts[1]]
	objects = slices.Clone(objects)
	for i, o := range objects {
		objects[i] = maps.Clone(o) // answered outside the lock
	}
	shape := listShape{pagination: f.Pagination, ignoreSort: f.IgnoreSort, extraTotal: f.ExtraTotal}
	f.Mu.Unlock()
	if !ok {
		APIError(w, http.StatusNotFound, "NOT_FOUND", "no such resource")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if len(parts) == 3 {
		f.item(w, objects, parts[2])
		return
	}
	shape.list(w, r, objects)
}

func (f *API) item(w http.ResponseWriter, objects []Object, id string) {
	for _, o := range objects {
		if o["id"] == id {
			fmt.Fprintf(w, `{"item":%s}`, Render(o))
			return
		}
	}
	APIError(w, http.StatusNotFound, "NOT_FOUND", "no such "+id)
}

// listShape is how the fake answers listings, read under its lock.
type listShape struct {
	pagination, ignoreSort bool
	extraTotal             int
}

func (f listShape) list(w http.ResponseWriter, r *http.Request, objects []Object) {
	q := r.URL.Query()
	limit, offset := 50, 0
	var err error
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			APIError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be a positive integer")
			return
		}
	}
	limit = min(limit, 200) // the API's maximum
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			APIError(w, http.StatusBadRequest, "VALIDATION_ERROR", "offset must be a non-negative integer")
			return
		}
	}
	if err := sortObjects(objects, q.Get("sortBy"), q.Get("sortOrder"), f.ignoreSort); err != nil {
		APIError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	page := objects[min(offset, len(objects)):min(offset+limit, len(objects))]
	rendered := make([]string, len(page))
	for i, o := range page {
		rendered[i] = Render(o)
	}
	total := len(objects) + f.extraTotal
	fmt.Fprintf(w, "{\"items\":[%s],", strings.Join(rendered, ",\n"))
	if f.pagination {
		pages := (total + limit - 1) / limit
		fmt.Fprintf(w, `"pagination":{"page":%d,"limit":%d,"total":%d,"totalPages":%d,"hasNext":%t,"hasPrev":%t}}`,
			offset/limit+1, limit, total, pages, offset+len(page) < total, offset > 0)
	} else {
		fmt.Fprintf(w, `"total":%d}`, total)
	}
}

// sortObjects orders objects by sortBy (createdAt or updatedAt; none: creation order).
func sortObjects(objects []Object, by, order string, ignore bool) error {
	if by == "" || ignore {
		return nil
	}
	if by != "createdAt" && by != "updatedAt" {
		return fmt.Errorf("sortBy %q is not supported", by)
	}
	if order != "asc" && order != "desc" {
		return fmt.Errorf("sortOrder %q must be asc or desc", order)
	}
	slices.SortStableFunc(objects, func(a, b Object) int {
		sa, _ := a[by].(string)
		sb, _ := b[by].(string)
		ta, _ := time.Parse(time.RFC3339Nano, sa)
		tb, _ := time.Parse(time.RFC3339Nano, sb)
		if order == "desc" {
			return tb.Compare(ta)
		}
		return ta.Compare(tb)
	})
	return nil
}

// Render writes an object as the fake sends it: indented, keys sorted.
func Render(o Object) string {
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// Set changes keys of object id of entity upstream.
func (f *API) Set(entity, id string, keys Object) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	for _, o := range f.Objects[entity] {
		if o["id"] == id {
			for k, v := range keys {
				o[k] = v
			}
		}
	}
}

// Remove deletes object id of entity upstream.
func (f *API) Remove(entity, id string) {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	f.Objects[entity] = slices.DeleteFunc(f.Objects[entity], func(o Object) bool { return o["id"] == id })
}

// Requested returns the request URIs seen since the last call, and forgets them.
func (f *API) Requested() []string {
	f.Mu.Lock()
	defer f.Mu.Unlock()
	seen := f.seen
	f.seen = nil
	return seen
}
