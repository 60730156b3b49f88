package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

const runColumns = `id, source, entity, mode, trigger, status, queued_at, started_at, finished_at,
	pages, fetched, created, updated, deleted, unchanged, backfilled, error`

// StartRun records a reconcile pass that starts now.
func (db *DB) StartRun(ctx context.Context, source, entity, mode, trigger string) (mirrorsync.Run, error) {
	var run mirrorsync.Run
	err := db.db.GetContext(ctx, &run, `
		INSERT INTO sync.reconcile_runs (source, entity, mode, trigger, status, started_at)
		VALUES ($1, $2, $3, $4, 'running', now())
		RETURNING `+runColumns, source, entity, mode, trigger)
	if err != nil {
		return run, fmt.Errorf("start run: %w", err)
	}
	return run, nil
}

// QueueRun records a reconcile pass that was asked for and waits to start, owned by this
// process (see SweepRuns): while it waits, no lock of its own says that it lives.
func (db *DB) QueueRun(ctx context.Context, source, entity, mode, trigger string) (mirrorsync.Run, error) {
	var run mirrorsync.Run
	owner, err := db.owner.key(ctx, db.db)
	if err != nil {
		return run, fmt.Errorf("queue run: %w", err)
	}
	err = db.db.GetContext(ctx, &run, `
		INSERT INTO sync.reconcile_runs (source, entity, mode, trigger, status, owner) VALUES ($1, $2, $3, $4, 'queued', $5)
		RETURNING `+runColumns, source, entity, mode, trigger, owner)
	if err != nil {
		return run, fmt.Errorf("queue run: %w", err)
	}
	return run, nil
}

// BeginRun starts a queued run now. A run that is no longer queued (it failed while it waited)
// is mirrorsync.ErrNotFound.
func (db *DB) BeginRun(ctx context.Context, id int64) (mirrorsync.Run, error) {
	var run mirrorsync.Run
	err := db.db.GetContext(ctx, &run, `
		UPDATE sync.reconcile_runs SET status = 'running', started_at = now()
		WHERE id = $1 AND status = 'queued'
		RETURNING `+runColumns, id)
	if err != nil {
		return run, notFound(err, fmt.Sprintf("queued run %d", id))
	}
	return run, nil
}

// UpdateRun records a run's progress or end. The end of a run (its first update to succeeded
// or failed) also counts it in sync.reconcile_days, in the same transaction. A run that ended
// otherwise already (SweepRuns found its process gone: it had lost its lock) stays as it
// ended, and the update is mirrorsync.ErrRunEnded, so that the pass stops.
func (db *DB) UpdateRun(ctx context.Context, run mirrorsync.Run) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var was string
		if err := tx.GetContext(ctx, &was, `SELECT status FROM sync.reconcile_runs WHERE id = $1 FOR UPDATE`, run.ID); err != nil {
			return notFound(err, fmt.Sprintf("run %d", run.ID))
		}
		if (was == mirrorsync.RunSucceeded || was == mirrorsync.RunFailed) && run.Status != was {
			return fmt.Errorf("%w (%s)", mirrorsync.ErrRunEnded, was)
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE sync.reconcile_runs SET status = $2, finished_at = $3, pages = $4, fetched = $5, created = $6,
				updated = $7, deleted = $8, unchanged = $9, backfilled = $10, error = $11
			WHERE id = $1`,
			run.ID, run.Status, run.FinishedAt, run.Pages, run.Fetched, run.Created, run.Updated, run.Deleted,
			run.Unchanged, run.Backfilled, run.Error)
		if err != nil || !run.Finished() || was == run.Status {
			return err // a repeated final update counts the day once
		}
		return countRunDay(ctx, tx, run)
	})
	if err != nil {
		return fmt.Errorf("update run %d: %w", run.ID, err)
	}
	return nil
}

// countRunDay adds an ended run to its day's row of sync.reconcile_days.
func countRunDay(ctx context.Context, tx *sqlx.Tx, run mirrorsync.Run) error {
	failed := 0
	if run.Status == mirrorsync.RunFailed {
		failed = 1
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO sync.reconcile_days AS d (source, entity, day, runs, failed, repairs, backfilled)
		VALUES ($1, $2, (coalesce($3, now()) AT TIME ZONE 'UTC')::date, 1, $4, $5, $6)
		ON CONFLICT (source, entity, day) DO UPDATE SET runs = d.runs + 1, failed = d.failed + EXCLUDED.failed,
			repairs = d.repairs + EXCLUDED.repairs, backfilled = d.backfilled + EXCLUDED.backfilled`,
		run.Source, run.Entity, run.FinishedAt, failed, run.Repairs(), run.Backfilled)
	if err != nil {
		return fmt.Errorf("count run day: %w", err)
	}
	return nil
}

// GetRun returns a run; mirrorsync.ErrNotFound when there is none.
func (db *DB) GetRun(ctx context.Context, id int64) (mirrorsync.Run, error) {
	var run mirrorsync.Run
	err := db.db.GetContext(ctx, &run, `SELECT `+runColumns+` FROM sync.reconcile_runs WHERE id = $1`, id)
	if err != nil {
		return run, notFound(err, fmt.Sprintf("run %d", id))
	}
	return run, nil
}

// Backfilling implements mirrorsync.ReconcileStore. No pass of the entity has completed (it
// has no watermark yet), and either the mirror has no row of it, or the last pass that ended
// was a backfill that failed after creating some (its retry goes on filling the mirror).
func (db *DB) Backfilling(ctx context.Context, run mirrorsync.Run) (bool, error) {
	t, ok := tableNamed(run.Entity)
	if !ok {
		return false, fmt.Errorf("backfilling: no mirror table %q", run.Entity)
	}
	query := fmt.Sprintf(`
		SELECT NOT EXISTS (SELECT 1 FROM sync.reconcile_watermarks WHERE source = $1 AND entity = $2)
		   AND (NOT EXISTS (SELECT 1 FROM mirror.%s WHERE source = $1)
		        OR coalesce((SELECT status = 'failed' AND backfilled > 0 FROM sync.reconcile_runs
		                     WHERE source = $1 AND entity = $2 AND id <> $3 AND finished_at IS NOT NULL
		                     ORDER BY id DESC LIMIT 1), false))`, t.name)
	var backfill bool
	if err := db.db.GetContext(ctx, &backfill, query, run.Source, run.Entity, run.ID); err != nil {
		return false, fmt.Errorf("backfilling: %w", err)
	}
	return backfill, nil
}

// SweepRuns marks failed the open runs whose process is gone, and returns them: a running run
// whose (source, entity) pass lock no session holds (a pass holds it from before its row says
// running to after it records the end), and a queued run whose owner lock no session holds
// (see QueueRun). Like any pass that ends, each is counted in sync.reconcile_days and its
// scratch rows go. It only reads pg_locks, so a pass about to start never finds the lock taken
// by the sweep.
func (db *DB) SweepRuns(ctx context.Context) ([]mirrorsync.Run, error) {
	var runs []mirrorsync.Run
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		runs = nil // a retried transaction starts over
		if err := tx.SelectContext(ctx, &runs, `
			UPDATE sync.reconcile_runs SET status = 'failed', finished_at = now(),
				error = CASE WHEN status = 'running' THEN $1 ELSE $2 END
			WHERE status IN ('queued', 'running')
			  AND NOT sync.advisory_lock_held(CASE WHEN status = 'running' THEN `+passLockKey+` ELSE owner END)
			RETURNING `+runColumns, mirrorsync.AbandonedRunning, mirrorsync.AbandonedQueued); err != nil {
			return err
		}
		ids := make(pq.Int64Array, len(runs))
		for i, run := range runs {
			if err := countRunDay(ctx, tx, run); err != nil {
				return err
			}
			ids[i] = run.ID
		}
		if len(runs) == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sync.reconcile_seen WHERE run_id = ANY($1)`, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sweep abandoned runs: %w", err)
	}
	slices.SortFunc(runs, func(a, b mirrorsync.Run) int { return cmp.Compare(a.ID, b.ID) })
	return runs, nil
}

// PruneRuns deletes the runs that ended before cutoff, up to limit of them, and returns how
// many it deleted. It keeps, of each (source, entity), its latest run, its latest ended run
// (whether a failed backfill goes on) and its latest succeeded run of each mode (the status's
// last success and expected rows), however old. The days of sync.reconcile_days stay.
func (db *DB) PruneRuns(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res, err := db.db.ExecContext(ctx, `
		DELETE FROM sync.reconcile_runs WHERE id IN (
			SELECT id FROM sync.reconcile_runs
			WHERE finished_at < $1
			  AND id NOT IN (SELECT max(id) FROM sync.reconcile_runs GROUP BY source, entity)
			  AND id NOT IN (SELECT max(id) FROM sync.reconcile_runs WHERE finished_at IS NOT NULL GROUP BY source, entity)
			  AND id NOT IN (SELECT DISTINCT ON (source, entity, mode) id FROM sync.reconcile_runs
			                 WHERE status = 'succeeded' ORDER BY source, entity, mode, finished_at DESC)
			ORDER BY id LIMIT $2)`, cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	return res.RowsAffected()
}
