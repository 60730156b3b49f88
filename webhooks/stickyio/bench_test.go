package stickyio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/stickyio"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// BenchmarkApplySnapshots measures the apply path for sticky.io: encrypted product.updated
// snapshots with 3 variants (2 attributes each), an image and a custom field, already in the
// inbox, applied by two workers (the machine has 2 cores) in batches of the default size. Reported:
// snapshots applied per second.
func BenchmarkApplySnapshots(b *testing.B) {
	const events = 5000
	s, err := stickyio.New(stickyio.Options{Name: "sticky", Secrets: []string{key}})
	if err != nil {
		b.Fatal(err)
	}
	base := fixture(b, "product-updated-regular")
	var total time.Duration
	for i := 0; i < b.N; i++ {
		db := storetest.NewDB(b)
		fill(b, db, base, events)
		start := time.Now()
		webhookstest.ApplyAll(b, db, mirrorsync.Registry{"sticky": s}, 2)
		total += time.Since(start)
		var n int
		storetest.Get(b, db, &n, `SELECT count(*) FROM mirror.product_variants`)
		if n != 3*events {
			b.Fatalf("%d variants mirrored, want %d", n, 3*events)
		}
	}
	b.ReportMetric(float64(events*b.N)/total.Seconds(), "snapshots/s")
}

// BenchmarkApplySnapshotsTuning is BenchmarkApplySnapshots for each of inbox.workers 1, 2 and
// 4 and inbox.batch_size 50, 250 and 1,000 (docs/tuning.md has its figures). Reported:
// snapshots applied per second.
func BenchmarkApplySnapshotsTuning(b *testing.B) {
	const events = 5000
	s, err := stickyio.New(stickyio.Options{Name: "sticky", Secrets: []string{key}})
	if err != nil {
		b.Fatal(err)
	}
	base := fixture(b, "product-updated-regular")
	for _, workers := range []int{1, 2, 4} {
		for _, batch := range []int{50, 250, 1000} {
			b.Run(fmt.Sprintf("workers=%d/batch=%d", workers, batch), func(b *testing.B) {
				var total time.Duration
				for i := 0; i < b.N; i++ {
					db := storetest.NewDB(b)
					fill(b, db, base, events)
					start := time.Now()
					webhookstest.ApplyAllInBatches(b, db, mirrorsync.Registry{"sticky": s}, workers, batch)
					total += time.Since(start)
				}
				b.ReportMetric(float64(events*b.N)/total.Seconds(), "snapshots/s")
			})
		}
	}
}

// fill stores n snapshots of distinct products, each with 3 variants, in the inbox.
func fill(b *testing.B, db *store.DB, base map[string]any, n int) {
	b.Helper()
	ds := make([]mirrorsync.Delivery, 0, 500)
	for i := 0; i < n; i++ {
		data := base["data"].(map[string]any)
		obj := data["object"].(map[string]any)
		obj["id"] = i + 1
		v := obj["variants"].([]any)[0].(map[string]any)
		variants := make([]any, 3)
		for j := range variants {
			c := map[string]any{}
			for k, val := range v {
				c[k] = val
			}
			c["id"] = (i+1)*10 + j
			c["sku_num"] = fmt.Sprintf("SKU-%d-%d", i, j)
			variants[j] = c
		}
		obj["variants"] = variants
		data["id"] = fmt.Sprint("evt-", i)
		plain, _ := json.Marshal(base)
		body, err := stickyio.Encrypt(plain, key)
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, mirrorsync.Delivery{Source: "sticky", ID: fmt.Sprint("evt-", i), Type: "product.updated", Body: body})
		if len(ds) == cap(ds) || i == n-1 {
			if _, err := db.InsertEvents(context.Background(), ds); err != nil {
				b.Fatal(err)
			}
			ds = ds[:0]
		}
	}
}
