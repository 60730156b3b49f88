package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/internal/loadgen"
)

// stickyKey is the benchmark source's key phrase (the benchmark's own; it protects nothing).
const stickyKey = "bench-key-phrase-0123456789abcde"

// binary is a storemirror binary under test.
type binary struct {
	Name  string // as given on the command line: before, after...
	Path  string
	Label string // what it was built from (a commit), for the report
}

// bench is one benchmark run: the server, the settings and where things go.
type bench struct {
	server          *server
	tmp             string
	warmup, measure time.Duration
	lagRate         float64
	lagFor          time.Duration
	daemon          daemon.Config // workers, batch size, connections (zero: the daemon's defaults)
	profileDir      string        // empty: no profiling
	prebuild        int           // requests built before a run's clock starts (0: built as they are posted)
	rounds          int           // rounds of each figure (see take)
}

// daemonRun is what one binary did in one scenario.
type daemonRun struct {
	Summary loadgen.Summary // the answers in the measured window
	CPU     cpuShare
	WAL     walDelta
	Backlog int // events still pending at the window's end

	// End to end: every delivery answered 2xx, then stored and applied.
	Applied int
	Failed  int // events that ended failed instead of applied
	Elapsed time.Duration
	Rate    float64 // Applied / Elapsed

	Lag *lagResult // the lag scenario
}

// scenario runs load against a started daemon; d is the run's database.
type scenario func(ctx context.Context, b *bench, p *daemon.Process, db *sqlx.DB, w *window) (*daemonRun, error)

// stop stops bin's daemon p, and says on stderr when it did not stop cleanly (a data race is
// such an exit): what was measured stands, but the run needs a look.
func stop(bin binary, p *daemon.Process) {
	if err := p.Stop(30 * time.Second); err != nil {
		fmt.Fprintf(os.Stderr, "storemirror-bench: %s: %v\n", bin.Name, err)
	}
}

// run starts bin on a fresh database, runs sc against it, and stops it.
func (b *bench) run(ctx context.Context, bin binary, name string, sc scenario) (*daemonRun, error) {
	dbName := fmt.Sprintf("sm_%s_%s", name, bin.Name)
	url, err := b.server.createDatabase(ctx, dbName)
	if err != nil {
		return nil, err
	}
	defer b.server.dropDatabase(context.Background(), dbName)
	cfg := b.daemon
	cfg.DatabaseURL = url
	cfg.Sources = []daemon.Source{{Name: "sticky", Kind: "stickyio", Secrets: []string{stickyKey}}}
	dir, err := os.MkdirTemp(b.tmp, "daemon-")
	if err != nil {
		return nil, err
	}
	var env []string
	var prof *profiler
	if b.profileDir != "" {
		addr, err := daemon.FreeAddr()
		if err != nil {
			return nil, err
		}
		env = append(env, "STOREMIRROR_PPROF_LISTEN="+addr, "STOREMIRROR_PPROF_BLOCK_NS=10000")
		prof = &profiler{dir: b.profileDir, name: bin.Name + "-" + name, pprof: "http://" + addr, server: b.server}
	}
	p, err := daemon.Start(ctx, bin.Path, dir, cfg, env...)
	if err != nil {
		return nil, err
	}
	defer func() {
		stop(bin, p)
		if b.profileDir != "" {
			if logs, err := p.Logs(); err == nil {
				if err := os.WriteFile(filepath.Join(b.profileDir, bin.Name+"-"+name+".log"), logs, 0o644); err != nil {
					fmt.Fprintf(os.Stderr, "storemirror-bench: %s: %v\n", bin.Name, err)
				}
			}
		}
	}()
	if prof != nil && !pprofServed(prof.pprof) {
		fmt.Fprintf(os.Stderr, "storemirror-bench: %s was not built with -tags pprof: no daemon profiles\n", bin.Name)
		prof.pprof = ""
	}
	db, err := sqlx.Open("postgres", url+"&application_name=storemirror-bench")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := b.server.checkpoint(ctx); err != nil {
		return nil, err
	}
	w := &window{server: b.server, database: dbName, daemons: []int{p.Pid()}, profile: prof}
	return sc(ctx, b, p, db, w)
}

// generator is the sticky.io deliveries of a run, versioned from a month ago (a provider
// time more than an hour ahead of its receipt would not be trusted).
func generator() loadgen.StickyIO {
	return loadgen.StickyIO{Path: "/webhooks/sticky", Key: stickyKey, Base: time.Now().Add(-30 * 24 * time.Hour)}
}

// closedLoop posts next's requests from clients clients for warmup + measure and summarises
// the measured window; it returns the run so far, every result, and when the load began.
func (b *bench) closedLoop(ctx context.Context, p *daemon.Process, db *sqlx.DB, w *window, clients int,
	next func(int) (loadgen.Request, error)) (*daemonRun, []loadgen.Result, time.Time, error) {
	next, err := b.prebuilt(ctx, b.prebuild, next)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	start := time.Now()
	from, to := start.Add(b.warmup), start.Add(b.warmup+b.measure)
	w.start(ctx, from, to)
	results, err := loadgen.Run(ctx, loadgen.Options{Targets: []string{p.URL}, Concurrency: clients, Duration: b.warmup + b.measure, Next: next})
	if err != nil {
		return nil, nil, start, err
	}
	if err := w.wait(); err != nil {
		return nil, nil, start, err
	}
	r := &daemonRun{Summary: loadgen.Summarize(results, from, to), CPU: w.cpu, WAL: w.wal}
	if r.Backlog, err = pending(ctx, db); err != nil {
		return nil, nil, start, err
	}
	return r, results, start, nil
}

// prebuilt builds up to n of next's requests (no more than b.prebuild) before the run's clock
// starts, as pgbench parses its script before it runs: encrypting a snapshot costs the generator
// about as much CPU as storing it costs the daemon, and on a small machine the two share the cores.
func (b *bench) prebuilt(ctx context.Context, n int, next func(int) (loadgen.Request, error)) (func(int) (loadgen.Request, error), error) {
	if n = min(n, b.prebuild); n <= 0 {
		return next, nil
	}
	return loadgen.Prebuild(ctx, n, next)
}

// ingest posts events of a type storemirror does not mirror (stored, answered 2xx, then marked
// ignored by the workers) from clients clients.
func ingest(clients int) scenario {
	return func(ctx context.Context, b *bench, p *daemon.Process, db *sqlx.DB, w *window) (*daemonRun, error) {
		gen := generator()
		r, _, _, err := b.closedLoop(ctx, p, db, w, clients, func(i int) (loadgen.Request, error) {
			return gen.Unknown(fmt.Sprint("ingest-", i), i)
		})
		return r, err
	}
}

// endToEnd posts 3-variant snapshots of new products from clients clients, then waits until
// every one is applied. Its rate is the deliveries answered 2xx over the time from the first
// request to the last apply.
func endToEnd(clients int) scenario {
	return func(ctx context.Context, b *bench, p *daemon.Process, db *sqlx.DB, w *window) (*daemonRun, error) {
		gen := generator()
		r, results, start, err := b.closedLoop(ctx, p, db, w, clients, func(i int) (loadgen.Request, error) {
			return gen.Snapshot(fmt.Sprint("e2e-", i), i, i+1, fmt.Sprintf("%d.00", i%1000+1), 3)
		})
		if err != nil {
			return nil, err
		}
		if err := waitDrained(ctx, db, 10*time.Minute); err != nil {
			return nil, err
		}
		r.Elapsed = time.Since(start)
		for _, res := range results {
			if res.OK() {
				r.Applied++
			}
		}
		if err := db.GetContext(ctx, &r.Failed, `SELECT count(*) FROM sync.webhook_events WHERE status = 'failed'`); err != nil {
			return nil, fmt.Errorf("count failed events: %w", err)
		}
		var mirrored int
		if err := db.GetContext(ctx, &mirrored, `SELECT count(*) FROM mirror.products WHERE source = 'sticky'`); err != nil {
			return nil, fmt.Errorf("count products: %w", err)
		}
		if mirrored != r.Applied || r.Failed > 0 {
			return nil, fmt.Errorf("end to end: %d deliveries answered 2xx, %d products mirrored, %d events failed", r.Applied, mirrored, r.Failed)
		}
		r.Rate = float64(r.Applied) / r.Elapsed.Seconds()
		return r, nil
	}
}

// pending counts the events still waiting for the workers.
func pending(ctx context.Context, db *sqlx.DB) (int, error) {
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM sync.webhook_events WHERE status = 'pending'`); err != nil {
		return 0, fmt.Errorf("count pending events: %w", err)
	}
	return n, nil
}

// waitDrained polls every 50 ms until no event is pending.
func waitDrained(ctx context.Context, db *sqlx.DB, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := pending(ctx, db)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d events still pending after %v", n, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
