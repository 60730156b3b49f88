package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	stdsync "sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/metrics"
	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// serve runs the daemon until ctx is cancelled (SIGTERM/SIGINT), then stops accepting, drains
// what is in flight, and returns within shutdown_timeout.
func (m *Main) serve(ctx context.Context, path string) error {
	cfg, log, db, sources, err := m.open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics.RegisterBacklog(reg, db)
	worker := &mirrorsync.Worker{
		Inbox: db, Decoders: sources.decoders, Workers: cfg.Inbox.Workers, BatchSize: cfg.Inbox.BatchSize,
		Policy: mirrorsync.RetryPolicy{MaxAttempts: cfg.Inbox.MaxAttempts, Backoff: mirrorsync.Backoff},
		Poll:   time.Second, Log: log.WithField("component", "apply"), Metrics: metrics.NewApply(reg),
	}
	ingester := webhooks.NewIngester(db, 100, worker.Nudge)
	go ingester.Run()
	statusSrcs := statusSources(cfg.Sources, sources)
	passes := metrics.NewReconcile(reg)
	passes.Declare(statusSrcs)
	metrics.RegisterBuildInfo(reg, version)
	state := &stateWatch{db: db, sources: statusSrcs, gauges: metrics.NewStatus(reg, statusSrcs), passes: passes,
		log: log.WithField("component", "metrics")}
	reconciler := newReconciler(db, sources, log, passes, cfg.Database.MaxConns)
	schedule := newSchedule(reconciler)
	handler := webhooks.NewHandler(webhooks.Options{
		Sources: sources.verifiers, Ingester: ingester, MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Ready: func(ctx context.Context) error { return ready(ctx, db) },
		Admin: webhooks.Admin{Token: cfg.Admin.Token, Resync: reconciler, Store: db, Nudge: worker.Nudge,
			Status: func(ctx context.Context) (mirrorsync.Status, error) {
				return mirrorsync.ReadStatus(ctx, db, version, statusSrcs, schedule.NextRun, time.Now())
			}},
		Log: log.WithField("component", "http"), Registry: reg,
	})

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		ingester.Close()
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Listen, err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.WithFields(logrus.Fields{"address": "http://" + ln.Addr().String(), "sources": len(cfg.Sources), "version": version}).
		Info("storemirror listening")
	if m.Listening != nil {
		m.Listening <- ln.Addr().String()
	}

	// Background work runs until shutdown; a batch in flight is finished first.
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var wg stdsync.WaitGroup
	wg.Go(func() { worker.Run(work) })
	wg.Go(func() { worker.Prune(work, time.Duration(cfg.Inbox.Retention), 10*time.Minute) })
	schedule.start()
	wg.Go(func() { state.run(work, 5*time.Second) })
	notifySystemd(work, log)

	select {
	case <-ctx.Done():
	case err := <-served:
		log.WithError(err).Error("HTTP server stopped")
	}
	log.Info("shutting down")
	daemon.SdNotify(false, daemon.SdNotifyStopping)
	deadline, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	if err := srv.Shutdown(deadline); err != nil {
		log.WithError(err).Warn("HTTP requests still in flight at the shutdown deadline")
	}
	ingester.Close()
	stopWork()
	done := make(chan struct{})
	go func() {
		schedule.Stop()   // passes in flight record their end (failed: interrupted)
		reconciler.Stop() // and so do the resyncs the admin API started
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		log.Info("stopped")
	case <-deadline.Done():
		log.Warn("background work still running at the shutdown deadline; exiting")
	}
	return nil
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

// notifySystemd tells systemd the daemon is ready (Type=notify) and, when the unit asks for a
// watchdog, pings it at half its interval until ctx is done. Outside systemd it does nothing.
func notifySystemd(ctx context.Context, log *logrus.Entry) {
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		log.WithError(err).Warn("sd_notify READY failed")
	}
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	go func() {
		ticker := time.NewTicker(interval / 2)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			}
		}
	}()
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
