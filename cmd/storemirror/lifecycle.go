package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	stdsync "sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// defaultSchemaPoll is how often a daemon that is not ready asks again whether it is.
const defaultSchemaPoll = 5 * time.Second

// daemon is `serve` once wired and listening: what its lifecycle starts, waits for and stops.
type daemon struct {
	cfg        Config
	log        *logrus.Entry
	db         *store.DB
	worker     *mirrorsync.Worker
	ingester   *webhooks.Ingester
	reconciler *mirrorsync.Reconciler
	schedule   *passSchedule // set up, not started: the status reads its NextRun meanwhile
	state      *stateWatch
	srv        *http.Server
	sd         systemd
	schemaPoll time.Duration // 0: defaultSchemaPoll
}

// run serves ln until ctx is cancelled, or until the HTTP server stops on its own (its
// listener failed), and then drains; it returns the HTTP server's failure, if that was it.
// Systemd hears READY once the schema is current and the background work has started.
func (d *daemon) run(ctx context.Context, ln net.Listener) error {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go func() {
		if err := d.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			stop(&serveError{err})
		}
	}()
	stopWork := func() {}
	if d.awaitSchema(ctx) {
		stopWork = d.startWork()
		d.sd.tell(d.log, "READY=1", "STATUS=serving")
		d.log.Info("ready")
	}
	<-ctx.Done()
	failure, _ := errors.AsType[*serveError](context.Cause(ctx))
	if failure != nil {
		d.log.WithError(failure.err).Error("the HTTP server stopped; shutting down")
	}
	d.log.Info("shutting down")
	d.sd.tell(d.log, "STOPPING=1")
	drain(time.Duration(d.cfg.ShutdownTimeout), d.srv, d.log, d.ingester.Close, stopWork)
	if failure != nil {
		return failure
	}
	return nil
}

// serveError is the HTTP server stopping on its own: its listener failed.
type serveError struct{ err error }

func (e *serveError) Error() string { return "the HTTP server stopped: " + e.err.Error() }
func (e *serveError) Unwrap() error { return e.err }

// startWork starts the background work: the apply workers, the pruning (of the inbox and of
// the reconcile runs), the reconcile
// schedule, the refresh of the status gauges and the watchdog. The function it returns stops
// them and waits for them; a batch in flight is finished first.
func (d *daemon) startWork() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg stdsync.WaitGroup
	wg.Go(func() { d.worker.Run(ctx) })
	wg.Go(func() { d.worker.Prune(ctx, time.Duration(d.cfg.Inbox.Retention), 10*time.Minute) })
	wg.Go(func() {
		pruneRuns(ctx, d.db, time.Duration(d.cfg.Inbox.Retention), 10*time.Minute, d.log.WithField("component", "reconcile"))
	})
	wg.Go(func() { d.state.run(ctx, 5*time.Second) })
	wg.Go(func() { d.sd.pingWatchdog(ctx, d.db.Ping, d.log) })
	d.schedule.start()
	return func() {
		cancel()
		d.schedule.Stop()   // passes in flight record their end (failed: interrupted)
		d.reconciler.Stop() // and so do the resyncs the admin API started
		wg.Wait()
	}
}

// awaitSchema returns true once the daemon can serve (the database answers and the schema is
// current), or false if ctx is done first. With auto_migrate off and migrations pending it
// waits for someone to run `storemirror migrate`: it says why in the log and in systemd's
// STATUS each time the reason changes, and, while the database answers, extends systemd's
// start-up timeout, so that the unit stays "activating" instead of failing; if the database
// stops answering, the timeout runs out and systemd restarts the daemon.
func (d *daemon) awaitSchema(ctx context.Context) bool {
	poll := cmp.Or(d.schemaPoll, defaultSchemaPoll)
	waiting := ""
	for {
		err := ready(ctx, d.db)
		if err == nil {
			if waiting != "" {
				d.log.Info("the schema is current")
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		reason, log := err.Error(), d.log
		if nr, ok := errors.AsType[*webhooks.NotReady](err); ok {
			reason = nr.Reason
			if nr.Err != nil {
				log = log.WithError(nr.Err)
			}
		}
		if reason != waiting {
			log.WithField("reason", reason).Warn("not ready: nothing is applied, and systemd is not told READY, until this is resolved")
			d.sd.tell(d.log, "STATUS=not ready: "+reason)
			waiting = reason
		}
		if d.db.Ping(ctx) == nil {
			d.sd.tell(d.log, fmt.Sprintf("EXTEND_TIMEOUT_USEC=%d", (3*poll).Microseconds()))
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(poll):
		}
	}
}

// drain stops the daemon within timeout, in two shares: the HTTP server gets up to half of it
// to finish the requests in flight, then closeIngest runs and stopWork (the apply batches and
// reconcile passes in flight) gets the rest, at least the other half: slow clients cannot eat
// the time a batch needs to commit.
func drain(timeout time.Duration, srv *http.Server, log *logrus.Entry, closeIngest, stopWork func()) {
	deadline := time.Now().Add(timeout)
	httpShare, cancel := context.WithTimeout(context.Background(), timeout/2)
	defer cancel()
	if err := srv.Shutdown(httpShare); err != nil {
		log.WithError(err).WithField("share", (timeout / 2).String()).Warn("HTTP requests still in flight at the end of their share of shutdown_timeout")
	}
	closeIngest() // every request is answered: nothing more comes in
	done := make(chan struct{})
	go func() {
		stopWork()
		close(done)
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-done:
		log.Info("stopped")
	case <-timer.C:
		log.WithField("timeout", timeout.String()).Warn("background work still running at the shutdown deadline; exiting")
	}
}
