package main

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/metrics"
	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// stateWatch keeps the daemon's view of the database current: it marks failed the runs a
// process that stopped left open, folds the inbox counters, sets the status gauges, and adds
// the repairs of passes run outside a daemon (storemirror resync) to this daemon's counters.
type stateWatch struct {
	db      *store.DB
	sources []mirrorsync.StatusSource
	gauges  *metrics.Status
	passes  *metrics.Reconcile
	log     *logrus.Entry
	sweep   func(context.Context) // the reconciler's Sweep; nil: none
}

// run refreshes at once, then every interval until ctx is done: the gauges change on this
// timer, never at a scrape, so that a scrape costs the database nothing.
func (w *stateWatch) run(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		if err := w.refresh(ctx); err != nil && ctx.Err() == nil {
			w.log.WithError(err).Warn("refresh the status gauges failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (w *stateWatch) refresh(ctx context.Context) error {
	if w.sweep != nil {
		w.sweep(ctx)
	}
	if err := w.db.CompactInboxCounts(ctx); err != nil {
		return err
	}
	st, err := w.db.SourceGauges(ctx, w.sources)
	if err != nil {
		return err
	}
	w.gauges.Set(st)
	taken, err := w.db.TakeUnreportedRepairs(ctx)
	if err != nil {
		return err
	}
	for _, r := range taken {
		w.passes.Repaired(r.Source, r.Entity, int(r.Repairs))
		w.passes.Backfilled(r.Source, r.Entity, int(r.Backfilled))
	}
	return nil
}

// pruneRuns deletes the reconcile runs that ended longer than retention ago (the inbox's
// retention: a zero keeps them for ever), in bounded batches, every interval until ctx is
// done. The latest runs of each source and entity stay (see store.DB.PruneRuns).
func pruneRuns(ctx context.Context, db *store.DB, retention, interval time.Duration, log *logrus.Entry) {
	mirrorsync.PruneEvery(ctx, retention, interval, "reconcile runs", log, db.PruneRuns)
}
