package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
)

// begin waits for one of the process's pass slots (MaxPasses), takes the pass lock of (source,
// entity) and returns the run, recorded as running from now. When another pass holds the lock, a pass that may wait (o.Wait) is recorded as queued
// while it waits, so that its started_at is when it really started; one that may not gives up
// with ErrBusy. unlock releases the lock.
func (r *Reconciler) begin(ctx context.Context, source, entity string, o PassOptions) (run Run, unlock func(), err error) {
	release, err := r.slot(ctx) // a queued run stays queued while it waits for a slot
	if err != nil {
		run, err := r.fail(ctx, o.Run, fmt.Errorf("wait for a free pass slot: %w", err))
		return run, nil, err
	}
	run, unlockPass, err := r.lock(ctx, source, entity, o)
	if err != nil {
		release()
		return run, nil, err
	}
	return run, func() { unlockPass(); release() }, nil
}

// lock takes the pass lock of (source, entity) and starts the run.
func (r *Reconciler) lock(ctx context.Context, source, entity string, o PassOptions) (run Run, unlock func(), err error) {
	// A run left running by a process that stopped would otherwise show beside this one.
	r.Sweep(ctx)
	unlock, locked, err := r.Store.LockPass(ctx, source, entity, false)
	if err != nil {
		run, err := r.fail(ctx, o.Run, err) // the store's error says "lock pass"
		return run, nil, err
	}
	if !locked {
		if !o.Wait {
			run, err := r.fail(ctx, o.Run, ErrBusy)
			return run, nil, err
		}
		if unlock, err = r.wait(ctx, source, entity, &o); err != nil {
			run, err := r.fail(ctx, o.Run, err)
			return run, nil, err
		}
	}
	if o.Run == nil {
		run, err = r.Store.StartRun(ctx, source, entity, o.Mode, o.Trigger) // its errors say "start run"
	} else if run, err = r.Store.BeginRun(ctx, o.Run.ID); err != nil {
		err = fmt.Errorf("begin queued run: %w", err)
	}
	if err != nil {
		unlock()
		// A queued run (a resync's) would otherwise stay queued while its owner lives. One that
		// is no longer queued has ended already (a sweep found it abandoned): it keeps its reason.
		if o.Run != nil && !errors.Is(err, ErrNotFound) {
			run, err = r.fail(ctx, o.Run, err)
		}
		return run, nil, err
	}
	return run, unlock, nil
}

// wait records the pass as queued (unless its row exists already) and waits for the lock.
func (r *Reconciler) wait(ctx context.Context, source, entity string, o *PassOptions) (func(), error) {
	if o.Run == nil {
		run, err := r.Store.QueueRun(ctx, source, entity, o.Mode, o.Trigger)
		if err != nil {
			return nil, fmt.Errorf("queue run: %w", err)
		}
		o.Run = &run
	}
	r.Log.WithFields(logrus.Fields{"source": source, "entity": entity, "run_id": o.Run.ID}).
		Info("reconcile pass queued behind the one running")
	unlock, _, err := r.Store.LockPass(ctx, source, entity, true)
	if err != nil {
		return nil, fmt.Errorf("wait for the running pass: %w", err)
	}
	return unlock, nil
}
