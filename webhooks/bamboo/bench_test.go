package bamboo_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
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
		fake := &fakeBamboo{brands: newCatalog(brands, perBrand, modified), maxPageSize: 100}
		g := newRig(&testing.T{}, fake, db, time.Minute)
		runtime.GC()
		resetPeakRSS(b)
		start := time.Now()
		run, err := g.pass(&testing.T{}, "products", mirrorsync.ModeFull)
		elapsed := time.Since(start)
		if err != nil || run.Created != brands*perBrand {
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
