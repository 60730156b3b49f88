package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

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

// QueueRun records a reconcile pass that was asked for and waits to start.
func (db *DB) QueueRun(ctx context.Context, source, entity, mode, trigger string) (mirrorsync.Run, error) {
	var run mirrorsync.Run
	err := db.db.GetContext(ctx, &run, `
		INSERT INTO sync.reconcile_runs (source, entity, mode, trigger, status) VALUES ($1, $2, $3, $4, 'queued')
		RETURNING `+runColumns, source, entity, mode, trigger)
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
// or failed) also counts it in sync.reconcile_days, in the same transaction.
func (db *DB) UpdateRun(ctx context.Context, run mirrorsync.Run) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var was string
		if err := tx.GetContext(ctx, &was, `SELECT status FROM sync.reconcile_runs WHERE id = $1 FOR UPDATE`, run.ID); err != nil {
			return notFound(err, fmt.Sprintf("run %d", run.ID))
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE sync.reconcile_runs SET status = $2, finished_at = $3, pages = $4, fetched = $5, created = $6,
				updated = $7, deleted = $8, unchanged = $9, backfilled = $10, error = $11
			WHERE id = $1`,
			run.ID, run.Status, run.FinishedAt, run.Pages, run.Fetched, run.Created, run.Updated, run.Deleted,
			run.Unchanged, run.Backfilled, run.Error)
		if err != nil || !run.Finished() || was == mirrorsync.RunSucceeded || was == mirrorsync.RunFailed {
			return err
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
