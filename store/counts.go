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
