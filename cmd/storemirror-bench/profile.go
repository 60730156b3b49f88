package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	stdsync "sync"
	"time"
)

// profiler collects the evidence of one run's measured window: the daemon's CPU and blocking
// profiles (from a binary built with -tags pprof), what PostgreSQL's statements cost
// (pg_stat_statements, reset at the window's start), and what its backends were waiting for
// (pg_stat_activity, sampled every 10 ms).
type profiler struct {
	dir    string // where the files go
	name   string // their prefix: binary and scenario
	pprof  string // the daemon's pprof base URL; empty: no daemon profiles
	server *server

	database string
	wg       stdsync.WaitGroup
	errs     []error
	mu       stdsync.Mutex
	waits    map[string]int
	samples  int
	stop     context.CancelFunc
}

func (p *profiler) start(ctx context.Context, database string, d time.Duration) {
	p.waits, p.database = map[string]int{}, database
	if _, err := p.server.admin.ExecContext(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		p.fail(err)
	}
	if p.pprof != "" {
		secs := int(d.Seconds())
		for _, kind := range []string{"profile", "block", "mutex"} {
			p.wg.Go(func() { p.fetch(ctx, kind, secs) })
		}
	}
	sample, stop := context.WithCancel(ctx)
	p.stop = stop
	p.wg.Go(func() { p.sampleWaits(sample, database) })
}

func (p *profiler) fail(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// fetch saves /debug/pprof/<kind>?seconds=secs and its top functions as text.
func (p *profiler) fetch(ctx context.Context, kind string, secs int) {
	client := http.Client{Timeout: time.Duration(secs+30) * time.Second}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", p.pprof, kind, secs), nil)
	resp, err := client.Do(req)
	if err != nil {
		p.fail(fmt.Errorf("fetch %s profile: %w", kind, err))
		return
	}
	defer resp.Body.Close()
	path := filepath.Join(p.dir, p.name+"."+kind+".pprof")
	f, err := os.Create(path)
	if err != nil {
		p.fail(err)
		return
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		p.fail(fmt.Errorf("fetch %s profile: status %d, %v", kind, resp.StatusCode, err))
		return
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=40", path).CombinedOutput()
	if err != nil {
		p.fail(fmt.Errorf("pprof -top %s: %v\n%s", path, err, top))
		return
	}
	cum, _ := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=60", path).CombinedOutput()
	if err := os.WriteFile(strings.TrimSuffix(path, ".pprof")+".txt", append(append(top, "\n-- by cumulative --\n"...), cum...), 0o644); err != nil {
		p.fail(err)
	}
}

// sampleWaits counts what the database's backends are doing, every 10 ms.
func (p *profiler) sampleWaits(ctx context.Context, database string) {
	conn, err := p.server.admin.Connx(ctx)
	if err != nil {
		p.fail(err)
		return
	}
	defer conn.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var states []string
		err := conn.SelectContext(ctx, &states, `
			SELECT coalesce(state, 'none') || ': ' ||
			       CASE WHEN wait_event IS NULL THEN 'on CPU' ELSE wait_event_type || '/' || wait_event END
			FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'storemirror-bench'`, database)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.fail(err)
			return
		}
		p.mu.Lock()
		p.samples++
		for _, s := range states {
			p.waits[s]++
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// finish waits for the profiles and writes the PostgreSQL report.
func (p *profiler) finish(ctx context.Context) error {
	p.stop()
	p.wg.Wait()
	var b strings.Builder
	fmt.Fprintf(&b, "backends of the database, by state and wait event (share of %d samples every 10 ms; 1.00 = one backend all the time):\n", p.samples)
	keys := make([]string, 0, len(p.waits))
	for k := range p.waits {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return p.waits[keys[i]] > p.waits[keys[j]] })
	for _, k := range keys {
		fmt.Fprintf(&b, "  %6.2f  %s\n", float64(p.waits[k])/float64(max(p.samples, 1)), k)
	}
	var stmts []struct {
		Calls   int64   `db:"calls"`
		Rows    int64   `db:"rows"`
		Total   float64 `db:"total_exec_time"`
		Mean    float64 `db:"mean_exec_time"`
		Hit     int64   `db:"shared_blks_hit"`
		Read    int64   `db:"shared_blks_read"`
		Dirtied int64   `db:"shared_blks_dirtied"`
		WAL     float64 `db:"wal_bytes"`
		FPI     int64   `db:"wal_fpi"`
		Query   string  `db:"query"`
	}
	err := p.server.admin.SelectContext(ctx, &stmts, `
		SELECT calls, rows, total_exec_time, mean_exec_time, shared_blks_hit, shared_blks_read, shared_blks_dirtied,
		       wal_bytes::float8 AS wal_bytes, wal_fpi, regexp_replace(left(query, 160), '\s+', ' ', 'g') AS query
		FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1)
		ORDER BY total_exec_time DESC LIMIT 15`, p.database)
	if err != nil {
		p.fail(fmt.Errorf("read pg_stat_statements: %w", err))
	}
	fmt.Fprintf(&b, "\nstatements by total time (pg_stat_statements over the window):\n")
	fmt.Fprintf(&b, "  %8s %9s %10s %8s %9s %7s %8s %11s %7s  %s\n", "calls", "rows", "total ms", "mean ms", "blks hit", "read", "dirtied", "WAL bytes", "FPI", "query")
	for _, s := range stmts {
		fmt.Fprintf(&b, "  %8d %9d %10.0f %8.3f %9d %7d %8d %11.0f %7d  %s\n", s.Calls, s.Rows, s.Total, s.Mean, s.Hit, s.Read, s.Dirtied, s.WAL, s.FPI, s.Query)
	}
	if err := os.WriteFile(filepath.Join(p.dir, p.name+".postgres.txt"), []byte(b.String()), 0o644); err != nil {
		p.fail(err)
	}
	if len(p.errs) > 0 {
		return fmt.Errorf("profile %s: %v", p.name, p.errs)
	}
	return nil
}

// pprofServed reports whether a daemon serves net/http/pprof at base (a -tags pprof build).
func pprofServed(base string) bool {
	client := http.Client{Timeout: 2 * time.Second}
	for range 20 { // the listener starts beside the daemon's own, maybe a moment later
		resp, err := client.Get(base + "/debug/pprof/")
		if err == nil {
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
