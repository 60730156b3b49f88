package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/metrics"
	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// serve runs the daemon until ctx is cancelled (SIGTERM/SIGINT), then stops accepting, drains
// what is in flight, and returns within shutdown_timeout. It returns an error, for systemd's
// Restart=on-failure, if the HTTP server stops on its own.
func (m *Main) serve(ctx context.Context, path string) error {
	tuneGC(os.Getenv)
	cfg, log, db, sources, err := m.open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()

	statusSrcs := statusSources(cfg.Sources, sources)
	met := newDaemonMetrics(db, statusSrcs)
	worker := &mirrorsync.Worker{
		Inbox: db, Decoders: sources.decoders, Workers: cfg.Inbox.Workers, BatchSize: cfg.Inbox.BatchSize,
		Policy: mirrorsync.RetryPolicy{MaxAttempts: cfg.Inbox.MaxAttempts, Backoff: mirrorsync.Backoff},
		Poll:   time.Second, Log: log.WithField("component", "apply"), Metrics: met.apply,
	}
	ingester := webhooks.NewIngester(db, 100, worker.Nudge)
	ingester.IgnoredAtReceipt = met.apply.IgnoredAtReceipt
	go ingester.Run()
	reconciler := newReconciler(db, sources, log, met.passes, cfg.Database.MaxConns)
	state := &stateWatch{db: db, sources: statusSrcs, gauges: met.status, passes: met.passes,
		log: log.WithField("component", "metrics"), sweep: reconciler.Sweep}
	schedule := newSchedule(reconciler, met.passes)
	handler := webhooks.NewHandler(webhooks.Options{
		Sources: sources.verifiers, Ingester: ingester, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Ready: func(ctx context.Context) error { return ready(ctx, db) },
		Admin: webhooks.Admin{Token: cfg.Admin.Token, Resync: reconciler, Store: db, Nudge: worker.Nudge,
			Status: func(ctx context.Context) (mirrorsync.Status, error) {
				return mirrorsync.ReadStatus(ctx, db, version, statusSrcs, schedule.NextRun, time.Now())
			}},
		Log: log.WithField("component", "http"), Registry: met.reg,
	})

	ln, err := m.listener(cfg.HTTP.Listen)
	if err != nil {
		ingester.Close()
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	log.WithFields(logrus.Fields{"address": "http://" + ln.Addr().String(), "sources": len(cfg.Sources), "version": version}).
		Info("storemirror listening")
	if m.Listening != nil {
		m.Listening <- ln.Addr().String()
	}
	d := &daemon{
		cfg: cfg, log: log, db: db, worker: worker, ingester: ingester, reconciler: reconciler,
		schedule: schedule, state: state,
		srv: &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute},
		sd: newSystemd(m.Getenv), schemaPoll: m.schemaPoll,
	}
	return d.run(ctx, ln)
}

// daemonMetrics are what the daemon's /metrics shows: every configured source's series exist
// from start-up, at 0, so that no alert sees "no data" before the first event.
type daemonMetrics struct {
	reg    *prometheus.Registry
	apply  *metrics.Apply
	passes *metrics.Reconcile
	status *metrics.Status
}

func newDaemonMetrics(db *store.DB, srcs []mirrorsync.StatusSource) daemonMetrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics.RegisterBacklog(reg, db)
	metrics.RegisterBuildInfo(reg, version)
	m := daemonMetrics{reg: reg, apply: metrics.NewApply(reg), passes: metrics.NewReconcile(reg), status: metrics.NewStatus(reg, srcs)}
	m.apply.Declare(srcs)
	m.passes.Declare(srcs)
	return m
}

// listener listens on address: with net.Listen, or the test's own listen.
func (m *Main) listener(address string) (net.Listener, error) {
	if m.listen != nil {
		return m.listen("tcp", address)
	}
	return net.Listen("tcp", address)
}

// open loads the configuration and opens what every command works with: the logger (as
// configured, or logCfg when given), the database (migrated when auto_migrate is on) and the
// wired sources.
func (m *Main) open(ctx context.Context, path string, logCfg *LogConfig) (Config, *logrus.Entry, *store.DB, sources, error) {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return cfg, nil, nil, sources{}, err
	}
	if logCfg == nil {
		logCfg = &cfg.Log
	}
	log := m.newLogger(*logCfg)
	srcs, err := buildSources(cfg.Sources)
	if err != nil {
		return cfg, nil, nil, srcs, err
	}
	db, err := m.openDB(ctx, cfg, log)
	return cfg, log, db, srcs, err
}

// openDB connects, and migrates when auto_migrate is on. With it off, the daemon still starts;
// /readyz answers 503 until someone runs `storemirror migrate`.
func (m *Main) openDB(ctx context.Context, cfg Config, log *logrus.Entry) (*store.DB, error) {
	db, err := store.Open(ctx, cfg.Database.URL, cfg.Database.MaxConns)
	if err != nil {
		return nil, err
	}
	if !cfg.Database.AutoMigrate {
		return db, nil
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.WithField("migrations", n).Info("schema migrated")
	}
	return db, nil
}

// ready reports whether the daemon can serve: the database answers and the schema is current.
func ready(ctx context.Context, db *store.DB) error {
	if err := db.Ping(ctx); err != nil {
		return &webhooks.NotReady{Reason: "the database does not answer", Err: err}
	}
	current, err := db.SchemaCurrent(ctx)
	if err != nil {
		return &webhooks.NotReady{Reason: "the schema version could not be read", Err: err}
	}
	if !current {
		return &webhooks.NotReady{Reason: "the schema has pending migrations (run storemirror migrate)"}
	}
	return nil
}

func (m *Main) migrate(ctx context.Context, path string) error {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "applied %d migrations; the schema is current\n", n)
	return nil
}

// gcPercent is the daemon's garbage-collection target (GOGC) unless the environment sets one:
// the heap may grow to 5 times what is live before a collection, not twice. The daemon's live
// heap is small (batches in flight) and it allocates fast (each delivery's body, its decoding,
// the apply's arrays), so at Go's default it collects many times a second. Measured end to end
// (docs/tuning.md): GOGC=400 applied 7 to 13 % more than the default in each of 3 rounds.
const gcPercent = 400

// tuneGC sets gcPercent unless GOGC is set (an operator's choice wins), and reports whether it
// did.
func tuneGC(getenv func(string) string) bool {
	if getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(gcPercent)
	return true
}
