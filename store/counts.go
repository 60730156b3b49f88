package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// InboxCounts returns the events of each of sources by status, from the counters that triggers
// keep in sync.inbox_counts (never a count of the inbox itself).
func (db *DB) InboxCounts(ctx context.Context, sources []string) (map[string]mirrorsync.EventCounts, error) {
	return inboxCounts(ctx, db.db, sources)
}

func inboxCounts(ctx context.Context, q sqlx.QueryerContext, sources []string) (map[string]mirrorsync.EventCounts, error) {
	const query = `
		SELECT source, status, sum(events) FROM sync.inbox_counts
		WHERE source = ANY($1::text[]) GROUP BY source, status`
	rows, err := q.QueryContext(ctx, query, pq.StringArray(sources))
	if err != nil {
		return nil, fmt.Errorf("inbox counts: %w", err)
	}
	defer rows.Close()
	out := map[string]mirrorsync.EventCounts{}
	for rows.Next() {
		var source, status string
		var n int64
		if err := rows.Scan(&source, &status, &n); err != nil {
			return nil, fmt.Errorf("inbox counts: %w", err)
		}
		c := out[source]
		switch status {
		case StatusPending:
			c.Pending = n
		case StatusApplied:
			c.Applied = n
		case StatusIgnored:
			c.Ignored = n
		case StatusFailed:
			c.Failed = n
		}
		out[source] = c
	}
	return out, rows.Err()
}

// CompactInboxCounts folds the deltas the triggers appended to sync.inbox_counts into one row
// per (source, status), so that reading the counts stays a read of a few rows. Daemons run it
// every few seconds; two at once are safe: the second waits on the rows the first deletes and
// then finds them gone.
func (db *DB) CompactInboxCounts(ctx context.Context) error {
	const compact = `
		WITH gone AS (DELETE FROM sync.inbox_counts RETURNING source, status, events)
		INSERT INTO sync.inbox_counts (source, status, events)
		SELECT source, status, sum(events) FROM gone GROUP BY source, status HAVING sum(events) <> 0`
	if _, err := db.db.ExecContext(ctx, compact); err != nil {
		return fmt.Errorf("compact inbox counts: %w", err)
	}
	return nil
}

// UnreportedRepairs are the repairs of one pass run outside a daemon, not yet in any daemon's
// counters.
type UnreportedRepairs struct {
	Source     string `db:"source"`
	Entity     string `db:"entity"`
	Repairs    int64  `db:"repairs"`
	Backfilled int64  `db:"backfilled"`
}

// ReportRepairs leaves the repairs and backfilled rows of run, a pass this process ran without
// a daemon's metrics (storemirror resync), for a daemon to count (TakeUnreportedRepairs).
func (db *DB) ReportRepairs(ctx context.Context, run mirrorsync.Run) error {
	if run.Repairs() == 0 && run.Backfilled == 0 {
		return nil
	}
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO sync.unreported_repairs (source, entity, repairs, backfilled, run_id) VALUES ($1, $2, $3, $4, $5)`,
		run.Source, run.Entity, run.Repairs(), run.Backfilled, run.ID)
	if err != nil {
		return fmt.Errorf("report repairs of run %d: %w", run.ID, err)
	}
	return nil
}

// TakeUnreportedRepairs deletes and returns the repairs ReportRepairs left. Each is taken by
// exactly one daemon, even when several ask at once (SKIP LOCKED), so that the sum of the
// daemons' counters counts it once.
func (db *DB) TakeUnreportedRepairs(ctx context.Context) ([]UnreportedRepairs, error) {
	const take = `
		DELETE FROM sync.unreported_repairs WHERE id IN (
			SELECT id FROM sync.unreported_repairs ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)
		RETURNING source, entity, repairs, backfilled`
	var out []UnreportedRepairs
	if err := db.db.SelectContext(ctx, &out, take); err != nil {
		return nil, fmt.Errorf("take unreported repairs: %w", err)
	}
	return out, nil
}
