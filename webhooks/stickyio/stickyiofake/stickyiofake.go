// Package stickyiofake is sticky.io's product API as a local HTTP server, for the tests and for
// the sandbox `make run` starts: GET /api/v2/products with Laravel pagination (data,
// current_page, last_page, next_page_url), product objects as in the webhooks' data.object,
// behind HTTP Basic.
package stickyiofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	stdsync "sync"
)

// API is the fake. Change Products and Status under Mu once it serves.
type API struct {
	Username, Password string
	Mu                 stdsync.Mutex
	Products           []map[string]any
	Status             int // when set, every request is answered with it
}

// ServeHTTP implements http.Handler.
func (f *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != f.Username || p != f.Password || r.URL.Path != "/api/v2/products" {
		http.Error(w, `{"status":"FAILURE"}`, http.StatusUnauthorized)
		return
	}
	f.Mu.Lock()
	defer f.Mu.Unlock()
	if f.Status != 0 {
		w.WriteHeader(f.Status)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	page, per = max(page, 1), max(per, 1)
	last := max((len(f.Products)+per-1)/per, 1)
	from, to := min((page-1)*per, len(f.Products)), min(page*per, len(f.Products))
	var next *string
	if page < last {
		u := fmt.Sprintf("http://%s/api/v2/products?page=%d", r.Host, page+1)
		next = &u
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{ // it fails only when the client went away
		"status": "SUCCESS", "data": f.Products[from:to], "current_page": page, "last_page": last,
		"next_page_url": next, "per_page": per, "total": len(f.Products),
	})
}

// Product is product id as the API lists it, priced price ("10.0000"), with one variant of
// one attribute.
func Product(id int, price string) map[string]any {
	return map[string]any{
		"id": id, "name": fmt.Sprint("Product ", id), "sku": fmt.Sprint("SKU-", id), "type": "product",
		"price": price, "is_taxable": 1, "updated_at": "2024-12-18T09:25:19-05:00",
		"variants": []map[string]any{{"id": id * 10, "sku_num": fmt.Sprint("V-", id), "price": price, "quantity": 3,
			"attributes": []map[string]any{{"attribute": map[string]any{"name": "size", "option": map[string]any{"name": "small"}}}}}},
	}
}
