package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

const eventSummaryColumns = `id, source, delivery_id, event_type, received_at, status, attempts, last_error,
	replayed_at, ` + eventOrigin

// eventOrigin is what last put an event to be applied: its webhook delivery, or a replay.
const eventOrigin = `CASE WHEN replayed_at IS NULL THEN 'webhook' ELSE 'replay' END AS origin`

// where builds a WHERE clause from the conditions whose value is set, numbering placeholders
// from 1, so that the planner sees only the filters asked for and picks their index.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, value any, set bool) {
	if !set {
		return
	}
	w.args = append(w.args, value)
	w.conds = append(w.conds, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(w.args))))
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return "WHERE " + strings.Join(w.conds, " AND ")
}

// limit adds n as the next placeholder and returns it.
func (w *where) limit(n int) string {
	w.args = append(w.args, n)
	return fmt.Sprintf("LIMIT $%d", len(w.args))
}

// ListEvents returns stored events without their bodies, newest first.
func (db *DB) ListEvents(ctx context.Context, f mirrorsync.EventFilter) ([]mirrorsync.EventSummary, error) {
	var w where
	w.add("source = ?", f.Source, f.Source != "")
	w.add("status = ?", f.Status, f.Status != "")
	query := `SELECT ` + eventSummaryColumns + ` FROM sync.webhook_events ` + w.String() +
		` ORDER BY received_at DESC, id DESC ` + w.limit(f.Limit)
	evs := []mirrorsync.EventSummary{}
	if err := db.db.SelectContext(ctx, &evs, query, w.args...); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return evs, nil
}

// ListRuns returns reconcile runs, newest first.
func (db *DB) ListRuns(ctx context.Context, f mirrorsync.RunFilter) ([]mirrorsync.Run, error) {
	var w where
	w.add("source = ?", f.Source, f.Source != "")
	w.add("entity = ?", f.Entity, f.Entity != "")
	w.add("status = ?", f.Status, f.Status != "")
	query := `SELECT ` + runColumns + ` FROM sync.reconcile_runs ` + w.String() + ` ORDER BY id DESC ` + w.limit(f.Limit)
	runs := []mirrorsync.Run{}
	if err := db.db.SelectContext(ctx, &runs, query, w.args...); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// requeueBatch is how many events one transaction of RequeueEvents puts back.
const requeueBatch = 1000

// RequeueEvents puts the events r selects back to pending, due now, with a fresh count of
// attempts, marked replayed, and returns how many it requeued: the apply workers apply them again through the
// current decoders. Pending events are left as they are. It works through the events in
// receive order, a batch per transaction, so that requeueing a whole inbox never holds one long
// transaction (a failure part way leaves the batches before it requeued, and a retry finds them
// pending).
func (db *DB) RequeueEvents(ctx context.Context, r mirrorsync.Requeue) (int64, error) {
	statuses := `status = 'failed'`
	if r.All {
		statuses = `status IN ('applied', 'ignored', 'failed')`
	}
	query := `
		WITH picked AS (
			SELECT id FROM sync.webhook_events
			WHERE source = $1 AND ` + statuses + ` AND received_at >= $2 AND (received_at, id) > ($2, $3) AND ($4 = 0 OR id = $4)
			ORDER BY received_at, id LIMIT $5
			FOR UPDATE)
		UPDATE sync.webhook_events AS e SET status = 'pending', due_at = now(), attempts = 0, replayed_at = now()
		FROM picked WHERE e.id = picked.id
		RETURNING e.received_at, e.id`
	var total int64
	after, afterID := r.Since, int64(0)
	if after.IsZero() {
		after = time.Unix(0, 0)
	}
	for {
		var moved []struct {
			ReceivedAt time.Time `db:"received_at"`
			ID         int64     `db:"id"`
		}
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			return sqlx.SelectContext(ctx, tx, &moved, query, r.Source, after, afterID, r.ID, requeueBatch)
		})
		if err != nil {
			return total, fmt.Errorf("requeue events: %w", err)
		}
		total += int64(len(moved))
		if len(moved) < requeueBatch {
			return total, nil
		}
		for _, m := range moved {
			if m.ReceivedAt.After(after) || (m.ReceivedAt.Equal(after) && m.ID > afterID) {
				after, afterID = m.ReceivedAt, m.ID
			}
		}
	}
}
