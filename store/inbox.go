package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Event statuses (sync.webhook_events.status).
const (
	StatusPending = "pending"
	StatusApplied = mirrorsync.EventApplied
	StatusIgnored = mirrorsync.EventIgnored
	StatusFailed  = mirrorsync.EventFailed
)

// InsertEvents stores deliveries in the inbox with one statement and one commit, and reports for
// each whether it was new (false: the same delivery id was stored before). Nothing is answered
// 2xx before this returns without error.
func (db *DB) InsertEvents(ctx context.Context, ds []mirrorsync.Delivery) ([]bool, error) {
	n := len(ds)
	sources, ids, types, sent, statuses, errs := make([]string, n), make([]string, n), make([]string, n),
		make([]sql.NullString, n), make([]string, n), make([]sql.NullString, n)
	bodies, keys := make(byteaArray, n), make(byteaArray, n)
	for i, d := range ds {
		sources[i], ids[i], types[i], bodies[i], statuses[i] = d.Source, cleanID(d.ID), cleanID(d.Type), d.Body, StatusPending
		keys[i] = deliveryKey(d.ID)
		if !d.SentAt.IsZero() {
			sent[i] = sql.NullString{String: d.SentAt.UTC().Format(time.RFC3339Nano), Valid: true}
		}
		switch {
		case d.Invalid != nil:
			statuses[i] = StatusFailed
			errs[i] = sql.NullString{String: cleanID(d.Invalid.Error()), Valid: true}
		case d.Ignored != nil:
			statuses[i] = StatusIgnored
			errs[i] = sql.NullString{String: cleanID(d.Ignored.Error()), Valid: true}
		}
	}
	// ON CONFLICT DO NOTHING: a provider's retry of a stored delivery is a cheap no-op, answered 2xx.
	const insertEvents = `
		INSERT INTO sync.webhook_events (source, delivery_id, delivery_key, event_type, sent_at, body, status, last_error, due_at, applied_at)
		SELECT d.source, d.delivery_id, d.delivery_key, d.event_type, d.sent_at::timestamptz, d.body, d.status, d.last_error,
		       CASE WHEN d.status = 'pending' THEN now() END, CASE WHEN d.status = 'ignored' THEN now() END
		FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::bytea[], $7::text[], $8::text[])
		     AS d(source, delivery_id, delivery_key, event_type, sent_at, body, status, last_error)
		ON CONFLICT (source, delivery_key) DO NOTHING
		RETURNING source, delivery_key`
	stmt, err := db.prepared(ctx, db.ingest, insertEvents)
	if err != nil {
		return nil, fmt.Errorf("store deliveries: %w", err)
	}
	rows, err := stmt.QueryContext(ctx, pq.StringArray(sources), pq.StringArray(ids), keys,
		pq.StringArray(types), pq.Array(sent), bodies, pq.StringArray(statuses), pq.Array(errs))
	if err != nil {
		return nil, fmt.Errorf("store deliveries: %w", err)
	}
	defer rows.Close()
	stored := map[[2]string]bool{}
	for rows.Next() {
		var source string
		var key []byte
		if err := rows.Scan(&source, &key); err != nil {
			return nil, fmt.Errorf("store deliveries: %w", err)
		}
		stored[[2]string{source, string(key)}] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store deliveries: %w", err)
	}
	fresh := make([]bool, n)
	for i := range ds {
		k := [2]string{sources[i], string(keys[i])}
		fresh[i] = stored[k]
		delete(stored, k) // a delivery twice in one batch is new once
	}
	return fresh, nil
}

// byteaArray is a bytea[] parameter that a connection with binary parameters (the ingest pool)
// sends in PostgreSQL's binary array format, the bytes as they are; over any other connection it
// is pq.ByteaArray's text. A nil element is an empty bytea in both, as in pq.ByteaArray.
type byteaArray [][]byte

// Value is the text form.
func (a byteaArray) Value() (driver.Value, error) { return pq.ByteaArray(a).Value() }

// BinaryValue is the binary form (array_recv): dimensions, no NULL bitmap, the element type,
// the one dimension's length and lower bound, then each element's length and bytes.
func (a byteaArray) BinaryValue() ([]byte, error) {
	const byteaOID = 17
	if len(a) == 0 {
		return binary.BigEndian.AppendUint32(make([]byte, 8, 12), byteaOID), nil // no dimensions
	}
	size := 20 + 4*len(a)
	for _, x := range a {
		size += len(x)
	}
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint32(b, 1) // one dimension
	b = binary.BigEndian.AppendUint32(b, 0) // no NULLs
	b = binary.BigEndian.AppendUint32(b, byteaOID)
	b = binary.BigEndian.AppendUint32(b, uint32(len(a)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, x := range a {
		b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
		b = append(b, x...)
	}
	return b, nil
}

// deliveryKey is what a delivery is deduplicated on: the SHA-256 of its id's exact bytes, so that
// an id of any length is stored, and ids that differ in any byte (a NUL, invalid UTF-8, which the
// readable delivery_id cannot show) stay two deliveries.
func deliveryKey(id string) []byte {
	k := sha256.Sum256([]byte(id))
	return k[:]
}

// cleanID makes a provider-chosen string storable as text: no NULs, valid UTF-8. The result is
// for people to read; it is not what deliveries are told apart by (deliveryKey).
func cleanID(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}

// ApplyPending claims up to limit due events (FOR UPDATE SKIP LOCKED, so any number of workers
// and daemons can share the inbox), decodes them through h, applies their changes and records
// each event's outcome as h judges it, all in one transaction: a crash leaves them pending.
func (db *DB) ApplyPending(ctx context.Context, limit int, h mirrorsync.EventHandler) (mirrorsync.Batch, error) {
	const claim = `
		SELECT id, source, delivery_id, event_type, received_at, sent_at, body, attempts
		FROM sync.webhook_events
		WHERE due_at IS NOT NULL AND due_at <= now()
		ORDER BY id
		LIMIT $1
		FOR UPDATE SKIP LOCKED`
	var batch mirrorsync.Batch
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		evs, err := selectEvents(ctx, tx, claim, limit)
		if err != nil || len(evs) == 0 {
			return err
		}
		batch, err = applyEvents(ctx, tx, evs, mirrorsync.OriginWebhook, h)
		return err
	})
	return batch, err
}

// ReplayEvents re-applies stored events of source received at or after since, in receive order,
// through h (the current decoding code), with origin replay: up to limit events with ids above
// afterID. onlyFailed limits it to failed events. It returns the last id handled (0: none were
// left).
func (db *DB) ReplayEvents(ctx context.Context, source string, since time.Time, onlyFailed bool, afterID int64, limit int,
	h mirrorsync.EventHandler) (mirrorsync.Batch, int64, error) {
	const pick = `
		SELECT id, source, delivery_id, event_type, received_at, sent_at, body, attempts
		FROM sync.webhook_events
		WHERE source = $2 AND received_at >= $3 AND id > $4 AND (NOT $5 OR status = 'failed')
		ORDER BY id
		LIMIT $1
		FOR UPDATE`
	var batch mirrorsync.Batch
	var last int64
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		evs, err := selectEvents(ctx, tx, pick, limit, source, since, afterID, onlyFailed)
		if err != nil || len(evs) == 0 {
			return err
		}
		last = evs[len(evs)-1].ID
		batch, err = applyEvents(ctx, tx, evs, mirrorsync.OriginReplay, h)
		return err
	})
	return batch, last, err
}

type storedEvent struct {
	mirrorsync.Event
	attempts int
}

func selectEvents(ctx context.Context, tx *sqlx.Tx, query string, args ...any) ([]storedEvent, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("claim events: %w", err)
	}
	defer rows.Close()
	var evs []storedEvent
	for rows.Next() {
		var ev storedEvent
		var sent sql.NullTime
		if err := rows.Scan(&ev.ID, &ev.Source, &ev.DeliveryID, &ev.Type, &ev.ReceivedAt, &sent, &ev.Body, &ev.attempts); err != nil {
			return nil, fmt.Errorf("claim events: %w", err)
		}
		ev.SentAt = sent.Time
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// applyEvents decodes and applies claimed events in tx. The whole batch is applied at once; if
// that fails, each event is applied on its own (under a savepoint), so one bad event is marked
// failed and never holds back the others. h decides what each event becomes.
func applyEvents(ctx context.Context, tx *sqlx.Tx, evs []storedEvent, origin mirrorsync.Origin, h mirrorsync.EventHandler) (mirrorsync.Batch, error) {
	var batch mirrorsync.Batch
	batch.Outcomes = make([]mirrorsync.Outcome, len(evs))
	perEvent := make([][]mirrorsync.Change, len(evs))
	var all []mirrorsync.Change
	for i, ev := range evs {
		changes, err := h.Decode(ev.Event)
		batch.Outcomes[i] = h.Outcome(ev.Event, ev.attempts+1, err)
		if err != nil {
			continue
		}
		for j := range changes {
			changes[j].Key.Source = ev.Source // a decoder writes only to its own source
			changes[j].Version.Seq = ev.ID
		}
		perEvent[i] = changes
		all = append(all, changes...)
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT apply_batch`); err != nil {
		return batch, fmt.Errorf("savepoint: %w", err)
	}
	res, err := applyChanges(ctx, tx, origin, all)
	switch {
	case err == nil:
		batch.Result = res
	case retryable(err):
		// PostgreSQL broke a lock cycle with another batch (two workers creating the same new
		// rows): run the whole transaction again (inTx) rather than fail events that did
		// nothing wrong.
		return batch, err
	default:
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT apply_batch`); err != nil {
			return batch, fmt.Errorf("rollback to savepoint: %w", err)
		}
		for i := range evs {
			if perEvent[i] == nil {
				continue
			}
			res, err := applyOne(ctx, tx, origin, perEvent[i])
			if err != nil {
				if ctx.Err() != nil {
					return batch, ctx.Err()
				}
				if retryable(err) {
					return batch, err
				}
				batch.Outcomes[i] = h.Outcome(evs[i].Event, evs[i].attempts+1, refused(err))
				continue
			}
			batch.Result.Add(res)
		}
	}
	if err := recordOutcomes(ctx, tx, batch.Outcomes, origin == mirrorsync.OriginReplay); err != nil {
		return batch, err
	}
	return batch, nil
}

func applyOne(ctx context.Context, tx *sqlx.Tx, origin mirrorsync.Origin, changes []mirrorsync.Change) (mirrorsync.ApplyResult, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT apply_event`); err != nil {
		return mirrorsync.ApplyResult{}, fmt.Errorf("savepoint: %w", err)
	}
	res, err := applyChanges(ctx, tx, origin, changes)
	if err != nil {
		if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT apply_event`); rbErr != nil {
			return res, fmt.Errorf("%w (and rollback to savepoint: %v)", err, rbErr)
		}
		return res, err
	}
	_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT apply_event`)
	return res, err
}

// recordOutcomes records what applying each event came to; replayed marks them replayed now.
func recordOutcomes(ctx context.Context, tx *sqlx.Tx, outcomes []mirrorsync.Outcome, replayed bool) error {
	c := newColumns(len(outcomes), "id bigint", "status text", "last_error text", "due_at timestamptz")
	for _, o := range outcomes {
		c.set("id", o.EventID)
		c.set("status", o.Status)
		var lastError, due any
		if o.Err != nil {
			lastError = cleanID(o.Err.Error())
		}
		if o.Retry && !o.RetryAt.IsZero() {
			due = o.RetryAt
		}
		c.set("last_error", lastError)
		c.set("due_at", due)
	}
	query := `
		UPDATE sync.webhook_events AS e
		SET status = u.status, attempts = e.attempts + 1, last_error = u.last_error, due_at = u.due_at::timestamptz,
		    applied_at = CASE WHEN u.status IN ('applied', 'ignored') THEN now() ELSE e.applied_at END,
		    replayed_at = CASE WHEN $1 THEN now() ELSE e.replayed_at END
		FROM ` + c.from(2) + `
		WHERE e.id = u.id::bigint`
	if _, err := tx.ExecContext(ctx, query, append([]any{replayed}, c.args()...)...); err != nil {
		return fmt.Errorf("record event outcomes: %w", err)
	}
	return nil
}

// PruneEvents deletes up to limit applied or ignored events received before before, and returns
// how many it deleted. Callers repeat it until it returns less than limit, so that retention
// never runs one huge delete.
func (db *DB) PruneEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	const prune = `
		DELETE FROM sync.webhook_events
		WHERE id IN (SELECT id FROM sync.webhook_events
		             WHERE status IN ('applied', 'ignored') AND received_at < $1
		             LIMIT $2)`
	res, err := db.db.ExecContext(ctx, prune, before, limit)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return res.RowsAffected()
}

// InboxBacklog returns how many events await an apply (or a retry), and when the oldest
// pending one was received (zero when none is pending).
func (db *DB) InboxBacklog(ctx context.Context) (int64, time.Time, error) {
	const backlog = `
		SELECT count(*), min(received_at) FILTER (WHERE status = 'pending')
		FROM sync.webhook_events WHERE due_at IS NOT NULL`
	var n int64
	var oldest sql.NullTime
	if err := db.db.QueryRowContext(ctx, backlog).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("inbox backlog: %w", err)
	}
	return n, oldest.Time, nil
}
