package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	stdsync "sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Puller pulls one source's provider API for the reconciler (each provider package has one).
type Puller interface {
	// Entities lists what the source can pull, by mirror table name (products, orders...).
	Entities() []string
	// Lists reports whether a full pass of entity lists every row, so that a row missing from
	// it may be deleted (a source that can only fetch known rows one by one cannot tell).
	Lists(entity string) bool
	// StoreID is the store whose rows the puller lists ("" for single-store providers).
	StoreID() string
	// Pull fetches entity page by page and hands each page's changes to emit, which applies
	// them before the next page is fetched (or, a page of more than PullBatch, before the rest
	// of the page is read: a page is read as a stream, never held whole). The changes are full objects as the API returns
	// them, versioned by the provider's modified time (or the fetch time when there is none).
	Pull(ctx context.Context, req PullRequest, emit func([]Change) error) error
}

// PullRequest says what a pass should fetch.
type PullRequest struct {
	Entity string
	Mode   string    // ModeFull or ModeIncremental
	Since  time.Time // incremental: rows modified at or after this (zero: everything)
	// Refetch lists rows flagged for re-fetching (drift): fetch them first.
	Refetch []Key
	// Mirror answers what the puller needs to know about the mirror (which orders are open...).
	Mirror MirrorReader
}

// MirrorReader is what a puller may read from the mirror.
type MirrorReader interface {
	// OpenOrders returns the request ids of the source's orders whose status is not, ignoring
	// case, one of final.
	OpenOrders(ctx context.Context, source string, final []string) ([]string, error)
}

// ReconcileStore is the reconciler's database (package store implements it).
type ReconcileStore interface {
	MirrorReader
	// StartRun records a pass that starts now; QueueRun one that waits for another pass of the
	// same source and entity; BeginRun starts a queued one now.
	StartRun(ctx context.Context, source, entity, mode, trigger string) (Run, error)
	QueueRun(ctx context.Context, source, entity, mode, trigger string) (Run, error)
	BeginRun(ctx context.Context, id int64) (Run, error)
	UpdateRun(ctx context.Context, run Run) error
	// SweepRuns marks failed (AbandonedRunning, AbandonedQueued) the queued and running runs
	// whose process is gone, and returns them.
	SweepRuns(ctx context.Context) ([]Run, error)
	// Backfilling reports whether run is a backfill: no pass of its source and entity has
	// completed, and the mirror had nothing of the entity before the first one began.
	Backfilling(ctx context.Context, run Run) (bool, error)
	GetRun(ctx context.Context, id int64) (Run, error)
	// LockPass takes the advisory lock of (source, entity) for one pass; wait says whether to
	// wait for it or give up at once (ok false).
	LockPass(ctx context.Context, source, entity string, wait bool) (unlock func(), ok bool, err error)
	NextSeq(ctx context.Context) (int64, error)
	// ApplyPage applies a page of a run (recording the rows seen when the pass is full).
	ApplyPage(ctx context.Context, run Run, changes []Change) (ApplyResult, error)
	// FinishFullPass counts one miss for each row of the entity's store not seen by this
	// complete full pass, marks deleted the rows missed twice in a row, and forgets what the
	// pass saw. It returns how many rows it marked deleted.
	FinishFullPass(ctx context.Context, run Run, storeID string, seq int64) (int, error)
	// ForgetPass forgets what a failed pass saw.
	ForgetPass(ctx context.Context, run Run) error
	Watermark(ctx context.Context, source, entity string) (time.Time, error)
	SetWatermark(ctx context.Context, source, entity string, t time.Time) error
	Refetches(ctx context.Context, source, entity string) ([]Key, error)
	ClearRefetches(ctx context.Context, source, entity string, keys []Key) error
}

// ReconcileSource is one source the reconciler pulls, with its schedules (robfig/cron specs;
// empty: not scheduled).
type ReconcileSource struct {
	Name         string
	Puller       Puller
	Schedule     string        // incremental passes
	FullSchedule string        // full passes
	Overlap      time.Duration // incremental look-back before the watermark
}

// PassObserver is told what reconcile passes do (the daemon's metrics implement it).
type PassObserver interface {
	// Repaired is told of n rows of (source, entity) a pass had to create, change or delete
	// because the webhooks had not delivered the change.
	Repaired(source, entity string, n int)
	// Backfilled is told of n rows of (source, entity) that a backfill (see Run.Backfill)
	// created: not repairs.
	Backfilled(source, entity string, n int)
	// Finished is told of every pass that ended, whatever its status.
	Finished(run Run)
}

// Progress is reported after each page of a pass.
type Progress func(run Run)

// Reconciler pulls provider APIs and applies what they return through the same rules as
// webhooks (origin reconcile), so that the mirror converges even when webhooks are lost.
type Reconciler struct {
	Store   ReconcileStore
	Sources map[string]ReconcileSource
	Log     *logrus.Entry
	Metrics PassObserver // optional
	Now     func() time.Time
	// MaxPasses is how many passes run at once in this process (0: DefaultMaxPasses). Each
	// holds a database connection for its lock and needs others to apply its pages, so that
	// more passes than the pool has connections would wait on each other for ever.
	MaxPasses int

	wg       stdsync.WaitGroup // passes in the background
	slotOnce stdsync.Once
	slots    chan struct{}
	ctxOnce  stdsync.Once
	ctx      context.Context // cancelled by Stop: background passes end with it
	stopRuns context.CancelFunc
}

// DefaultMaxPasses is how many passes a reconciler runs at once unless told otherwise.
const DefaultMaxPasses = 4

// slot waits for a free pass slot and returns its release.
func (r *Reconciler) slot(ctx context.Context) (func(), error) {
	r.slotOnce.Do(func() {
		n := r.MaxPasses
		if n <= 0 {
			n = DefaultMaxPasses
		}
		r.slots = make(chan struct{}, n)
	})
	select {
	case r.slots <- struct{}{}:
		return func() { <-r.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Reconciler) background() context.Context {
	r.ctxOnce.Do(func() { r.ctx, r.stopRuns = context.WithCancel(context.Background()) })
	return r.ctx
}

// Stop cancels the passes running in the background (Resync's) and waits for them to record
// their end.
func (r *Reconciler) Stop() {
	r.background()
	r.stopRuns()
	r.wg.Wait()
}

// PassOptions say how to run one pass.
type PassOptions struct {
	Mode    string
	Trigger string
	Wait    bool     // wait for the pass lock (manual runs) instead of skipping
	Run     *Run     // a run row already created (the admin API returns its id first)
	OnPage  Progress // optional
}

// ErrBusy is returned when another daemon is running the same pass.
var ErrBusy = errors.New("another pass of this source and entity is running")

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// RunOnce runs one pass over (source, entity) and returns its run. Only one instance runs a
// given pass at a time, across every daemon on the database. A pass that fails records
// `failed` with its error, deletes nothing, and leaves the watermark where it was.
func (r *Reconciler) RunOnce(ctx context.Context, source, entity string, o PassOptions) (Run, error) {
	src, ok := r.Sources[source]
	if !ok {
		return Run{}, fmt.Errorf("reconcile %s: %w", source, ErrNotFound)
	}
	run, unlock, err := r.begin(ctx, source, entity, o)
	if err != nil {
		// Resync starts passes in the background and keeps no error: this is where it shows.
		// Busy is no failure (the pass runs elsewhere), nor is a stop (the daemon is shutting down).
		if !errors.Is(err, ErrBusy) && ctx.Err() == nil {
			fields := logrus.Fields{"source": source, "entity": entity, "mode": o.Mode, "trigger": o.Trigger}
			if o.Run != nil {
				fields["run_id"] = o.Run.ID
			} else if run.ID != 0 {
				fields["run_id"] = run.ID
			}
			r.Log.WithFields(fields).WithError(err).Error("reconcile pass could not start")
		}
		return run, err
	}
	defer unlock()
	log := r.Log.WithFields(logrus.Fields{"source": source, "entity": entity, "mode": run.Mode, "run_id": run.ID, "trigger": run.Trigger})
	log.Info("reconcile pass started")
	started := r.now()
	err = r.pass(ctx, src, &run, started, o.OnPage)
	end := r.now()
	run.FinishedAt = &end
	if err != nil {
		msg := err.Error()
		run.Status, run.Error = RunFailed, &msg
		if ferr := r.Store.ForgetPass(context.WithoutCancel(ctx), run); ferr != nil {
			log.WithError(ferr).Warn("could not clear the failed pass's scratch rows")
		}
	} else {
		run.Status = RunSucceeded
	}
	if uerr := r.Store.UpdateRun(context.WithoutCancel(ctx), run); uerr != nil && err == nil {
		err = fmt.Errorf("record run: %w", uerr)
	}
	if r.Metrics != nil {
		r.Metrics.Finished(run)
	}
	entry := log.WithFields(logrus.Fields{"status": run.Status, "pages": run.Pages, "fetched": run.Fetched, "created": run.Created,
		"updated": run.Updated, "deleted": run.Deleted, "unchanged": run.Unchanged, "backfilled": run.Backfilled,
		"duration_ms": end.Sub(started).Milliseconds()})
	switch {
	case err != nil:
		entry.WithError(err).Error("reconcile pass failed")
	case run.Repairs() > 0:
		entry.Warn("reconcile pass repaired rows the webhooks had not delivered")
	case run.Backfilled > 0:
		entry.Info("reconcile pass backfilled the mirror")
	default:
		entry.Info("reconcile pass finished")
	}
	return run, err
}

// fail records a run that could not start, when its row exists already.
func (r *Reconciler) fail(ctx context.Context, run *Run, err error) (Run, error) {
	if run == nil {
		return Run{}, err
	}
	msg, now := err.Error(), r.now()
	run.Status, run.Error, run.FinishedAt = RunFailed, &msg, &now
	if uerr := r.Store.UpdateRun(context.WithoutCancel(ctx), *run); uerr != nil {
		return *run, fmt.Errorf("%w (and record run: %v)", err, uerr)
	}
	if r.Metrics != nil {
		r.Metrics.Finished(*run)
	}
	return *run, err
}

func (r *Reconciler) pass(ctx context.Context, src ReconcileSource, run *Run, started time.Time, onPage Progress) error {
	req := PullRequest{Entity: run.Entity, Mode: run.Mode, Mirror: r.Store}
	backfill, err := r.Store.Backfilling(ctx, *run)
	if err != nil {
		return err
	}
	run.Backfill = backfill
	if run.Mode == ModeIncremental {
		wm, err := r.Store.Watermark(ctx, run.Source, run.Entity)
		if err != nil {
			return err
		}
		if !wm.IsZero() {
			req.Since = wm.Add(-src.Overlap)
		}
	}
	refetch, err := r.Store.Refetches(ctx, run.Source, run.Entity)
	if err != nil {
		return err
	}
	req.Refetch = refetch
	err = src.Puller.Pull(ctx, req, func(changes []Change) error {
		return r.applyPage(ctx, run, changes, onPage)
	})
	if err != nil {
		return err
	}
	if run.Mode == ModeFull && src.Puller.Lists(run.Entity) {
		seq, err := r.Store.NextSeq(ctx)
		if err != nil {
			return err
		}
		deleted, err := r.Store.FinishFullPass(ctx, *run, src.Puller.StoreID(), seq)
		if err != nil {
			return fmt.Errorf("detect deletions: %w", err)
		}
		run.Deleted += deleted
		r.repaired(run.Source, run.Entity, deleted)
	}
	if err := r.Store.ClearRefetches(ctx, run.Source, run.Entity, refetch); err != nil {
		return err
	}
	// The next incremental pass starts where this one started (less the overlap).
	return r.Store.SetWatermark(ctx, run.Source, run.Entity, started)
}

func (r *Reconciler) applyPage(ctx context.Context, run *Run, changes []Change, onPage Progress) error {
	seq, err := r.Store.NextSeq(ctx)
	if err != nil {
		return err
	}
	fetched := r.now()
	for i := range changes {
		changes[i].Key.Source = run.Source
		changes[i].Version = pulled(changes[i].Version, fetched, seq)
	}
	res, err := r.Store.ApplyPage(ctx, *run, changes)
	if err != nil {
		return fmt.Errorf("apply page %d: %w", run.Pages+1, err)
	}
	run.Pages++
	run.Fetched += len(changes)
	repairs := res.Updated + res.Deleted
	if run.Backfill {
		run.Backfilled += res.Created
		if r.Metrics != nil {
			r.Metrics.Backfilled(run.Source, run.Entity, res.Created)
		}
	} else {
		run.Created += res.Created
		repairs += res.Created
	}
	run.Updated += res.Updated
	run.Deleted += res.Deleted
	run.Unchanged += res.Unchanged
	r.repaired(run.Source, run.Entity, repairs)
	if err := r.Store.UpdateRun(ctx, *run); err != nil {
		return fmt.Errorf("record progress: %w", err)
	}
	if onPage != nil {
		onPage(*run)
	}
	return nil
}

// pulled versions a change a pass read at fetched: its provider time (the puller's At) is
// trusted up to MaxClockLead ahead of the fetch, and its event time is the fetch itself.
func pulled(v Version, fetched time.Time, seq int64) Version {
	v.Pulled, v.Received, v.EventAt, v.Seq = true, false, fetched, seq
	v, _ = v.Trust(fetched)
	return v
}

func (r *Reconciler) repaired(source, entity string, n int) {
	if r.Metrics != nil {
		r.Metrics.Repaired(source, entity, n)
	}
}

// Entities returns the entities of source to pass over: entities, checked, or all it has.
func (r *Reconciler) Entities(source string, entities []string) ([]string, error) {
	src, ok := r.Sources[source]
	if !ok {
		return nil, fmt.Errorf("source %q has no api to reconcile: %w", source, ErrNotFound)
	}
	have := src.Puller.Entities()
	if len(entities) == 0 {
		return have, nil
	}
	for _, e := range entities {
		if !slices.Contains(have, e) {
			return nil, fmt.Errorf("%w: source %s reconciles %v, not %q", ErrInvalid, source, have, e)
		}
	}
	return entities, nil
}

// Resync starts one manual pass per entity in the background and returns the run ids at once
// (the admin API).
func (r *Reconciler) Resync(ctx context.Context, source string, entities []string, mode string) ([]int64, error) {
	if mode != ModeFull && mode != ModeIncremental {
		return nil, fmt.Errorf("%w: mode must be full or incremental", ErrInvalid)
	}
	entities, err := r.Entities(source, entities)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, e := range entities {
		// Queued until its pass takes the lock: at once, unless another pass of e is running.
		run, err := r.Store.QueueRun(ctx, source, e, mode, TriggerManual)
		if err != nil {
			return ids, fmt.Errorf("queue run: %w", err)
		}
		ids = append(ids, run.ID)
		r.wg.Go(func() {
			// The pass outlives the request that started it, not the daemon.
			// Its outcome is the run's row, which the caller polls by id.
			_, _ = r.RunOnce(r.background(), source, e, PassOptions{Mode: mode, Trigger: TriggerManual, Wait: true, Run: &run})
		})
	}
	return ids, nil
}

// Sweep marks failed the runs that a process which stopped left queued or running, and logs
// them: the daemon calls it at start and every few seconds, and each pass before it starts.
func (r *Reconciler) Sweep(ctx context.Context) {
	runs, err := r.Store.SweepRuns(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.Log.WithError(err).Warn("could not look for abandoned reconcile runs")
		}
		return
	}
	for _, run := range runs {
		r.Log.WithFields(logrus.Fields{"source": run.Source, "entity": run.Entity, "mode": run.Mode, "run_id": run.ID,
			"trigger": run.Trigger, "pages": run.Pages, "fetched": run.Fetched}).
			Warn("reconcile run abandoned by a process that stopped; marked failed")
		if r.Metrics != nil {
			r.Metrics.Finished(run)
		}
	}
}

// Run reports a run (the admin API).
func (r *Reconciler) Run(ctx context.Context, id int64) (Run, error) {
	return r.Store.GetRun(ctx, id)
}

// RunScheduled runs a pass a scheduler asked for (trigger TriggerSchedule, or TriggerStartup
// for the catch-up pass at start), unless another daemon is running it already: that pass does
// the work, so skipping is no failure. A failed pass is logged and recorded by RunOnce.
func (r *Reconciler) RunScheduled(ctx context.Context, source, entity, mode, trigger string) {
	_, err := r.RunOnce(ctx, source, entity, PassOptions{Mode: mode, Trigger: trigger})
	if errors.Is(err, ErrBusy) {
		r.Log.WithFields(logrus.Fields{"source": source, "entity": entity}).Debug("pass running elsewhere; skipped")
	}
}
