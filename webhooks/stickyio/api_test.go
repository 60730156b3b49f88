package stickyio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/stickyio"
	"github.com/storemirror/storemirror/webhooks/stickyio/stickyiofake"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

func TestPullerConvergesAndDetectsDeletes(t *testing.T) {
	t.Parallel()
	fake := &stickyiofake.API{Username: "api-user", Password: "api-pass"}
	for i := 1; i <= 5; i++ {
		fake.Products = append(fake.Products, stickyiofake.Product(i, "10.0000"))
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	p, err := stickyio.NewPuller(providerapi.Options{Source: "sticky", BaseURL: srv.URL, Username: "api-user", Password: "api-pass",
		RequestsPerSecond: 1000, Retries: 1, Backoff: time.Millisecond}, 2)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.NewDB(t)
	r := webhookstest.Reconciler(db, mirrorsync.ReconcileSource{Name: "sticky", Puller: p})
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
	storetest.Select(t, db, &got, `SELECT concat_ws('|', p.external_id, p.name, p.price, p.is_taxable, v.sku, a.option_name, p.source_updated_at)
		FROM mirror.products p JOIN mirror.product_variants v ON v.product_external_id = p.external_id
		JOIN mirror.variant_attributes a ON a.product_external_id = p.external_id WHERE p.external_id = '3'`)
	if len(got) != 1 || got[0] != "3|Product 3|10|t|V-3|small|2024-12-18 14:25:19+00" {
		t.Errorf("product 3 = %v", got)
	}
	fake.Mu.Lock()
	fake.Products = fake.Products[:4] // product 5 deleted upstream
	fake.Mu.Unlock()
	if run := pass(); run.Deleted != 0 || run.Unchanged != 4 {
		t.Errorf("first pass without product 5 = %+v, want 4 unchanged, nothing deleted", run)
	}
	if run := pass(); run.Deleted != 1 {
		t.Errorf("second pass without product 5 = %+v, want 1 deleted", run)
	}
	fake.Mu.Lock()
	fake.Status = http.StatusInternalServerError
	fake.Mu.Unlock()
	run, err := r.RunOnce(context.Background(), "sticky", "products", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual})
	if err == nil || run.Status != "failed" || run.Error == nil || *run.Error != "sticky: GET /api/v2/products: 500 Internal Server Error" {
		t.Errorf("pass against a failing API: %+v (%v)", run, err)
	}
}
