package bamboo_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/bamboo/bamboofake"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// BenchmarkReconcileFullPass100k runs a full pass over a fake Bamboo catalog of 100,000
// products (1,000 brands of 100) served by a local fake, then a second pass with nothing
// changed. Reported: products per second of the first pass, the process's peak RSS during the
// passes (the fake writes its pages as a stream, so the RSS is the reconciler's), and the rows
// the second pass wrote (it should write none).
func BenchmarkReconcileFullPass100k(b *testing.B) {
	const brands, perBrand = 1000, 100
	for i := 0; i < b.N; i++ {
		db := storetest.NewDB(b)
		fake := &bamboofake.API{Username: apiUser, Password: apiPass, Brands: bamboofake.NewCatalog(brands, perBrand, modified), MaxPageSize: 100}
		g := newRig(&testing.T{}, fake, db, time.Minute)
		runtime.GC()
		resetPeakRSS(b)
		start := time.Now()
		run, err := g.pass(&testing.T{}, "products", mirrorsync.ModeFull)
		elapsed := time.Since(start)
		if err != nil || run.Backfilled != brands*perBrand {
			b.Fatalf("first pass: %v, %+v", err, run)
		}
		second := time.Now()
		run, err = g.pass(&testing.T{}, "products", mirrorsync.ModeFull)
		secondElapsed := time.Since(second)
		if err != nil || run.Unchanged != brands*perBrand {
			b.Fatalf("second pass: %v, %+v", err, run)
		}
		written := rowWrites(b, db, second)
		b.ReportMetric(float64(brands*perBrand)/elapsed.Seconds(), "products/s")
		b.ReportMetric(elapsed.Seconds(), "first-pass-s")
		b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(written), "rows-written-2nd-pass")
		b.ReportMetric(secondElapsed.Seconds(), "second-pass-s")
	}
}

// rowWrites counts the mirror rows written (inserted or changed) since t: every write of a
// mirror row sets its mirrored_at, and every product change is a row of product_changes.
func rowWrites(b *testing.B, db *store.DB, t time.Time) int64 {
	b.Helper()
	var n int64
	err := db.SQL().QueryRowContext(context.Background(), `
		SELECT (SELECT count(*) FROM mirror.products WHERE mirrored_at >= $1)
		     + (SELECT count(*) FROM mirror.product_changes WHERE recorded_at >= $1)`, t).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// resetPeakRSS resets the kernel's peak RSS (VmHWM) of this process.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSS reads VmHWM, the process's peak resident set, in bytes.
func peakRSS(b *testing.B) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkApplyDiffs measures the apply path for Bamboo: productupdated.v1 events of 10
// products each, over a pool of 2,000 products (so most diffs update a product the mirror has,
// with drift checks and history), already in the inbox, applied by two workers. Reported: events
// and products applied per second.
func BenchmarkApplyDiffs(b *testing.B) {
	const events, perEvent, pool = 1000, 10, 2000
	s, err := bamboo.New(bamboo.Options{Name: "bamboo", Secrets: []string{secret}})
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; i < b.N; i++ {
		db := storetest.NewDB(b)
		var ds []mirrorsync.Delivery
		for e := 0; e < events; e++ {
			ds = append(ds, mirrorsync.Delivery{Source: "bamboo", ID: fmt.Sprint("msg_", e), Type: "productupdated.v1", Body: diffEvent(e, perEvent, pool)})
		}
		for len(ds) > 0 {
			n := min(len(ds), 500)
			if _, err := db.InsertEvents(context.Background(), ds[:n]); err != nil {
				b.Fatal(err)
			}
			ds = ds[n:]
		}
		start := time.Now()
		webhookstest.ApplyAll(b, db, mirrorsync.Registry{"bamboo": s}, 2)
		total += time.Since(start)
	}
	b.ReportMetric(float64(events*b.N)/total.Seconds(), "events/s")
	b.ReportMetric(float64(events*perEvent*b.N)/total.Seconds(), "products/s")
}

// diffEvent is event e: perEvent products of the pool, each a price change from its previous state.
func diffEvent(e, perEvent, pool int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"products":[`)
	for p := 0; p < perEvent; p++ {
		id := (e*perEvent + p) % pool
		round := (e*perEvent + p) / pool
		if p > 0 {
			sb.WriteString(",")
		}
		state := func(r int) string {
			return fmt.Sprintf(`{"name":"Card %d","status":"Available","minFaceValue":10,"maxFaceValue":100,"quantity":%d,"price":{"min":%d,"max":%d,"currencyCode":"USD"},"modifiedDate":"2026-01-01T00:%02d:%02d.0000000"}`,
				id, 100-r, 10+r, 100+r, r/60, r%60)
		}
		fmt.Fprintf(&sb, `{"id":%d,"oldState":%s,"newState":%s}`, id, state(round), state(round+1))
	}
	sb.WriteString(`],"timestamp":"2026-04-01T05:17:53.6491931Z"}`)
	return []byte(sb.String())
}
