package barecommerce_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeBare is BareCommerce's store API as providers.md §4.1 describes it: store-scoped listings
// GET /stores/{storeId}/{products,orders,customers,categories}?limit=&offset= (limit 50 by
// default, capped at 200) with sortBy/sortOrder, single objects at .../{id} as {"item":{...}},
// errors as {"error":{...}}, behind a Bearer token. Objects are written indented, so that a
// client that re-encodes them instead of keeping their bytes is caught.
type fakeBare struct {
	mu      stdsync.Mutex
	objects map[string][]fakeObject // entity → objects, in creation order
	// pagination answers BareMCP's {"items","pagination"} instead of the docs' {"items","total"}.
	pagination bool
	ignoreSort bool // answer in creation order whatever sortBy says (a server without sorting)
	extraTotal int  // announced beyond the objects listed (a listing that ends before its total)
	// fail, when set, may answer a request instead (the nth request, from 1). The fields above
	// and fail are changed under mu once the fake is serving.
	fail     func(n int64, w http.ResponseWriter, r *http.Request) bool
	requests atomic.Int64
	seen     []string // request URIs
}

// fakeObject is one resource as the API returns it.
type fakeObject map[string]any

const (
	apiToken  = "sk_live_0123456789abcdef0123456789abcdef"
	fakeStore = "store_1"
)

// minute is a fixed clock for the fake's objects: minute i after 2024-03-01 12:00 UTC.
func minute(i int) time.Time {
	return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// newProducts makes products prod_1..prod_n, product i created and updated at minute(i).
func newProducts(n int) []fakeObject {
	out := make([]fakeObject, n)
	for i := range out {
		id := i + 1
		out[i] = fakeObject{
			"id": fmt.Sprintf("prod_%d", id), "storeId": fakeStore, "title": fmt.Sprintf("Tea %d", id),
			"slug": fmt.Sprintf("tea-%d", id), "status": "published", "price": "9.50", "sku": fmt.Sprintf("TEA-%d", id),
			"stock": id * 10, "trackStock": true, "categoryIds": []string{"cat_1"},
			"createdAt": stamp(minute(id)), "updatedAt": stamp(minute(id)),
		}
	}
	return out
}

func (f *fakeBare) start(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return srv
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

func (f *fakeBare) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, r.URL.RequestURI())
	fail := f.fail
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+apiToken {
		apiError(w, http.StatusUnauthorized, "UNAUTHORIZED", "invalid api key")
		return
	}
	if fail != nil && fail(n, w, r) {
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/stores/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/stores/") || len(parts) < 2 || len(parts) > 3 || parts[0] != fakeStore {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "no such route")
		return
	}
	f.mu.Lock()
	objects, ok := f.objects[parts[1]]
	objects = slices.Clone(objects)
	for i, o := range objects {
		objects[i] = maps.Clone(o) // answered outside the lock
	}
	shape := listShape{pagination: f.pagination, ignoreSort: f.ignoreSort, extraTotal: f.extraTotal}
	f.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "no such resource")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if len(parts) == 3 {
		f.item(w, objects, parts[2])
		return
	}
	shape.list(w, r, objects)
}

func (f *fakeBare) item(w http.ResponseWriter, objects []fakeObject, id string) {
	for _, o := range objects {
		if o["id"] == id {
			fmt.Fprintf(w, `{"item":%s}`, renderObject(o))
			return
		}
	}
	apiError(w, http.StatusNotFound, "NOT_FOUND", "no such "+id)
}

// listShape is how the fake answers listings, read under its lock.
type listShape struct {
	pagination, ignoreSort bool
	extraTotal             int
}

func (f listShape) list(w http.ResponseWriter, r *http.Request, objects []fakeObject) {
	q := r.URL.Query()
	limit, offset := 50, 0
	var err error
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "limit must be a positive integer")
			return
		}
	}
	limit = min(limit, 200) // the API's maximum
	if s := q.Get("offset"); s != "" {
		if offset, err = strconv.Atoi(s); err != nil || offset < 0 {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "offset must be a non-negative integer")
			return
		}
	}
	if err := sortObjects(objects, q.Get("sortBy"), q.Get("sortOrder"), f.ignoreSort); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	page := objects[min(offset, len(objects)):min(offset+limit, len(objects))]
	rendered := make([]string, len(page))
	for i, o := range page {
		rendered[i] = renderObject(o)
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
func sortObjects(objects []fakeObject, by, order string, ignore bool) error {
	if by == "" || ignore {
		return nil
	}
	if by != "createdAt" && by != "updatedAt" {
		return fmt.Errorf("sortBy %q is not supported", by)
	}
	if order != "asc" && order != "desc" {
		return fmt.Errorf("sortOrder %q must be asc or desc", order)
	}
	slices.SortStableFunc(objects, func(a, b fakeObject) int {
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

// renderObject writes an object as the fake sends it: indented, keys sorted.
func renderObject(o fakeObject) string {
	b, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}

// set changes keys of object id of entity upstream.
func (f *fakeBare) set(entity, id string, keys fakeObject) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.objects[entity] {
		if o["id"] == id {
			for k, v := range keys {
				o[k] = v
			}
		}
	}
}

// remove deletes object id of entity upstream.
func (f *fakeBare) remove(entity, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[entity] = slices.DeleteFunc(f.objects[entity], func(o fakeObject) bool { return o["id"] == id })
}

// requested returns the request URIs seen since the last call, and forgets them.
func (f *fakeBare) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := f.seen
	f.seen = nil
	return seen
}
