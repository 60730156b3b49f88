package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/storemirror/storemirror/internal/daemon"
)

// fakeCatalog is Bamboo's catalog API (GET /api/integration/v2.0/catalog, HTTP Basic): brands
// of 100 products, PageSize brands a page (zero-based PageIndex), every product modified at the
// same fixed time, so that a second full pass finds nothing changed. Pages are written as they
// are generated: the fake holds no catalog in memory.
type fakeCatalog struct {
	products int
}

const catalogUser, catalogPassword = "bench-client", "bench-secret"

func (f fakeCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != catalogUser || p != catalogPassword {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if r.URL.Path != "/api/integration/v2.0/catalog" {
		http.NotFound(w, r)
		return
	}
	const perBrand = 100
	q := r.URL.Query()
	size, _ := strconv.Atoi(q.Get("PageSize"))
	size = min(max(size, 1), 100)
	index, _ := strconv.Atoi(q.Get("PageIndex"))
	brands := (f.products + perBrand - 1) / perBrand
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"pageIndex":%d,"pageSize":%d,"count":%d,"items":[`, index, size, brands)
	for b := index * size; b < min((index+1)*size, brands); b++ {
		if b > index*size {
			w.Write([]byte(","))
		}
		fmt.Fprintf(w, `{"internalId":"brand-%d","name":"Brand %d","countryCode":"US","currencyCode":"USD","description":"","modifiedDate":"2026-01-01T00:00:00.0000000","products":[`, b, b)
		for id := b*perBrand + 1; id <= min((b+1)*perBrand, f.products); id++ {
			if id > b*perBrand+1 {
				w.Write([]byte(","))
			}
			fmt.Fprintf(w, `{"id":%d,"name":"Card %d","minFaceValue":10.0000,"maxFaceValue":10.0000,"count":null,"price":{"min":9.5,"max":9.5,"currencyCode":"USD"},"modifiedDate":"2026-01-01T00:00:00.0000000"}`, id, id)
		}
		w.Write([]byte(`],"categories":[{"id":6,"name":"Airlines & Hotels","description":""}]}`))
	}
	w.Write([]byte("]}"))
}

// pass is one `storemirror resync` full pass.
type pass struct {
	took    time.Duration
	peakRSS int64 // bytes
	written int64 // mirror rows written (inserted or changed) and product changes recorded
}

// scaleCatalog runs two full passes (the second with nothing changed) over catalogs of each
// size, each with the real binary's resync command, and reports time, peak RSS and rows written.
func (b *bench) scaleCatalog(ctx context.Context, bin binary, sizes []int, out *strings.Builder) error {
	fmt.Fprintf(out, "| full pass over a Bamboo catalog of | first pass | products/s | peak RSS | second pass (nothing changed) | its peak RSS | rows it wrote |\n|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		api := httptest.NewServer(fakeCatalog{products: n})
		first, second, err := b.catalogPasses(ctx, bin, api.URL, n)
		api.Close()
		if err != nil {
			return fmt.Errorf("catalog of %d: %w", n, err)
		}
		fmt.Fprintf(os.Stderr, "catalog %d: %v (RSS %d MiB), then %v writing %d rows\n", n, first.took.Round(time.Second), first.peakRSS>>20, second.took.Round(time.Second), second.written)
		fmt.Fprintf(out, "| %s products | %s | %s | %d MiB | %s | %d MiB | %d |\n", count(float64(n)), ms(first.took),
			count(float64(n)/first.took.Seconds()), first.peakRSS>>20, ms(second.took), second.peakRSS>>20, second.written)
	}
	out.WriteString("\nTime should grow linearly with the catalog, the peak RSS stay flat, and a pass with nothing changed write 0 rows.\n\n")
	return nil
}

func (b *bench) catalogPasses(ctx context.Context, bin binary, apiURL string, n int) (pass, pass, error) {
	d, err := b.newScaleDB(ctx, bin, "scale_catalog")
	if err != nil {
		return pass{}, pass{}, err
	}
	defer d.close(context.Background(), b.server)
	cfg := b.daemon
	cfg.DatabaseURL = d.url
	cfg.Sources = []daemon.Source{{Name: "bamboo", Kind: "bamboo", Secrets: []string{"whsec_YmVuY2gtc2VjcmV0LWtleS0wMTIzNDU2Nzg5"},
		API: &daemon.API{BaseURL: apiURL, Username: catalogUser, Password: catalogPassword, RequestsPerSecond: 1000, PageSize: 100}}}
	var passes [2]pass
	for i := range passes {
		start := time.Now()
		cmd, err := daemon.Command(bin.Path, b.tmp, cfg, "resync", "--source", "bamboo", "--entity", "products", "--mode", "full")
		if err != nil {
			return pass{}, pass{}, err
		}
		logPath := filepath.Join(b.tmp, fmt.Sprintf("resync-%d-%d.log", n, i))
		logFile, err := os.Create(logPath)
		if err != nil {
			return pass{}, pass{}, err
		}
		cmd.Stdout, cmd.Stderr = logFile, logFile
		passes[i].peakRSS, err = runPeakRSS(cmd)
		_ = logFile.Close() // the resync's output: read only to explain a failure
		if err != nil {
			log, _ := os.ReadFile(logPath)
			return pass{}, pass{}, fmt.Errorf("resync: %w\n%s", err, log)
		}
		passes[i].took = time.Since(start)
		if err := d.sql.GetContext(ctx, &passes[i].written, `
			SELECT (SELECT count(*) FROM mirror.products WHERE mirrored_at >= $1)
			     + (SELECT count(*) FROM mirror.product_changes WHERE recorded_at >= $1)`, start); err != nil {
			return pass{}, pass{}, fmt.Errorf("count rows written: %w", err)
		}
	}
	var mirrored int
	if err := d.sql.GetContext(ctx, &mirrored, `SELECT count(*) FROM mirror.products WHERE source = 'bamboo'`); err != nil {
		return pass{}, pass{}, err
	}
	if mirrored != n {
		return pass{}, pass{}, fmt.Errorf("%d products mirrored after the passes, want %d", mirrored, n)
	}
	return passes[0], passes[1], nil
}

// runPeakRSS runs cmd and returns its peak resident set, read from its VmHWM every 20 ms while
// it runs (the last reading before it exits). Not the rusage of its wait: a child forked from
// this process starts with this process's own peak as its ru_maxrss, which hid the daemon's.
func runPeakRSS(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if hwm, ok := vmHWM(status); ok {
			peak = max(peak, hwm)
		}
		select {
		case err := <-done:
			if peak == 0 && err == nil {
				return 0, fmt.Errorf("no VmHWM read from %s", status)
			}
			return peak, err
		case <-tick.C:
		}
	}
}

// vmHWM reads a /proc/<pid>/status file's VmHWM, in bytes.
func vmHWM(status string) (int64, bool) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
