package stickyio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	stdsync "sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

// fakeProducts is sticky.io's GET /api/v2/products with Laravel pagination, behind HTTP Basic.
type fakeProducts struct {
	mu       stdsync.Mutex
	products []map[string]any
	status   int // when set, every request is answered with it
}

func (f *fakeProducts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != "api-user" || p != "api-pass" || r.URL.Path != "/api/v2/products" {
		http.Error(w, `{"status":"FAILURE"}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 {
		w.WriteHeader(f.status)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	last := (len(f.products) + per - 1) / per
	from, to := (page-1)*per, min(page*per, len(f.products))
	var next *string
	if page < last {
		u := fmt.Sprintf("http://%s/api/v2/products?page=%d", r.Host, page+1)
		next = &u
	}
	json.NewEncoder(w).Encode(map[string]any{
		"status": "SUCCESS", "data": f.products[from:to], "current_page": page, "last_page": last,
		"next_page_url": next, "per_page": per, "total": len(f.products),
	})
}

func stickyProduct(id int, price string) map[string]any {
	return map[string]any{
		"id": id, "name": fmt.Sprint("Product ", id), "sku": fmt.Sprint("SKU-", id), "type": "product",
		"price": price, "is_taxable": 1, "updated_at": "2024-12-18T09:25:19-05:00",
		"variants": []map[string]any{{"id": id * 10, "sku_num": fmt.Sprint("V-", id), "price": price, "quantity": 3,
			"attributes": []map[string]any{{"attribute": map[string]any{"name": "size", "option": map[string]any{"name": "small"}}}}}},
	}
}

func TestPullerConvergesAndDetectsDeletes(t *testing.T) {
	fake := &fakeProducts{}
	for i := 1; i <= 5; i++ {
		fake.products = append(fake.products, stickyProduct(i, "10.0000"))
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p, err := stickyio.NewPuller(providerapi.Options{Source: "sticky", BaseURL: srv.URL, Username: "api-user", Password: "api-pass",
		RequestsPerSecond: 1000, Retries: 1, Backoff: time.Millisecond}, 2)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.NewDB(t)
	log := logrus.New()
	log.SetOutput(io.Discard)
	r := &mirrorsync.Reconciler{Store: db, Log: logrus.NewEntry(log),
		Sources: map[string]mirrorsync.ReconcileSource{"sticky": {Name: "sticky", Puller: p}}}
	pass := func() mirrorsync.Run {
		run, err := r.RunOnce(context.Background(), "sticky", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual})
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	if run := pass(); run.Pages != 3 || run.Backfilled != 5 || run.Created != 0 {
		t.Errorf("first pass = %+v, want 3 pages and 5 backfilled", run)
	}
	var got []string
	db.SQL().Select(&got, `SELECT concat_ws('|', p.external_id, p.name, p.price, p.is_taxable, v.sku, a.option_name, p.source_updated_at)
		FROM mirror.products p JOIN mirror.product_variants v ON v.product_external_id = p.external_id
		JOIN mirror.variant_attributes a ON a.product_external_id = p.external_id WHERE p.external_id = '3'`)
	if len(got) != 1 || got[0] != "3|Product 3|10|t|V-3|small|2024-12-18 14:25:19+00" {
		t.Errorf("product 3 = %v", got)
	}
	fake.mu.Lock()
	fake.products = fake.products[:4] // product 5 deleted upstream
	fake.mu.Unlock()
	if run := pass(); run.Deleted != 0 || run.Unchanged != 4 {
		t.Errorf("first pass without product 5 = %+v, want 4 unchanged, nothing deleted", run)
	}
	if run := pass(); run.Deleted != 1 {
		t.Errorf("second pass without product 5 = %+v, want 1 deleted", run)
	}
	fake.mu.Lock()
	fake.status = http.StatusInternalServerError
	fake.mu.Unlock()
	run, err := r.RunOnce(context.Background(), "sticky", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual})
	if err == nil || run.Status != "failed" || run.Error == nil || *run.Error != "sticky: GET /api/v2/products: 500 Internal Server Error" {
		t.Errorf("pass against a failing API: %+v (%v)", run, err)
	}
}
