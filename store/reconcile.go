package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// LockPass takes the session advisory lock of (source, entity) on a connection of its own,
// held until unlock: with several daemons on one database, exactly one runs a given pass.
func (db *DB) LockPass(ctx context.Context, source, entity string, wait bool) (func(), bool, error) {
	conn, err := db.db.Connx(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock pass: %w", err)
	}
	key := passLockName(source, entity)
	var ok bool
	if wait {
		_, err = conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key)
		ok = err == nil
	} else {
		err = conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key)
	}
	if err != nil || !ok {
		conn.Close()
		if err != nil {
			return nil, false, fmt.Errorf("lock pass: %w", err)
		}
		return nil, false, nil
	}
	unlock := func() {
		// It fails only on a broken connection, which the pool then discards: the server drops the
		// lock with the session.
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key)
		conn.Close()
	}
	return unlock, true, nil
}

// passLockName names the advisory lock of a (source, entity) pass; passLockKey is its key in
// SQL over a row of sync.reconcile_runs, the same.
func passLockName(source, entity string) string {
	return "storemirror/reconcile/" + source + "/" + entity
}

const passLockKey = `hashtextextended('storemirror/reconcile/' || source || '/' || entity, 0)`

// NextSeq draws a number from the receive order that inbox events share: a reconcile page's
// changes rank after every event received before it.
func (db *DB) NextSeq(ctx context.Context) (int64, error) {
	var n int64
	if err := db.db.GetContext(ctx, &n, `SELECT nextval('sync.version_seq')`); err != nil {
		return 0, fmt.Errorf("next seq: %w", err)
	}
	return n, nil
}

// ApplyPage applies one page of a reconcile pass, and for a full pass records the rows it saw,
// in one transaction.
func (db *DB) ApplyPage(ctx context.Context, run mirrorsync.Run, changes []mirrorsync.Change) (mirrorsync.ApplyResult, error) {
	var res mirrorsync.ApplyResult
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if res, err = applyChanges(ctx, tx, mirrorsync.OriginReconcile, changes); err != nil {
			return err
		}
		if run.Mode != mirrorsync.ModeFull {
			return nil
		}
		stores := make([]string, len(changes))
		ids := make([]string, len(changes))
		for i, c := range changes {
			stores[i], ids[i] = c.Key.StoreID, c.Key.ExternalID
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO sync.reconcile_seen (run_id, store_id, external_id)
			SELECT $1, s, e FROM unnest($2::text[], $3::text[]) AS u(s, e)
			ON CONFLICT DO NOTHING`, run.ID, pq.StringArray(stores), pq.StringArray(ids))
		if err != nil {
			return fmt.Errorf("record rows seen: %w", err)
		}
		return nil
	})
	return res, err
}

// FinishFullPass implements deletion detection for a complete full pass: each row of the
// entity's store that the pass did not see counts a miss; a row seen again starts over; a row
// missed by two consecutive complete passes is marked deleted as of the first pass that missed
// it (through the usual apply, so a newer change the webhooks delivered still wins).
func (db *DB) FinishFullPass(ctx context.Context, run mirrorsync.Run, storeID string, seq int64) (int, error) {
	t, ok := tableNamed(run.Entity)
	if !ok {
		return 0, fmt.Errorf("finish pass: no mirror table %q", run.Entity)
	}
	var deleted int
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// Set operations (INTERSECT, EXCEPT) rather than joins: they hash or sort whatever the
		// statistics say, and the scratch table is never analyzed when it is read.
		const seenAgain = `
			DELETE FROM sync.reconcile_misses AS m
			USING (SELECT store_id, external_id FROM sync.reconcile_misses WHERE source = $2 AND entity = $3
			       INTERSECT
			       SELECT store_id, external_id FROM sync.reconcile_seen WHERE run_id = $1) AS s
			WHERE m.source = $2 AND m.entity = $3 AND m.store_id = s.store_id AND m.external_id = s.external_id`
		if _, err := tx.ExecContext(ctx, seenAgain, run.ID, run.Source, run.Entity); err != nil {
			return fmt.Errorf("clear misses: %w", err)
		}
		countMisses := fmt.Sprintf(`
			INSERT INTO sync.reconcile_misses AS m (source, entity, store_id, external_id, misses, first_missed_at, last_run_id)
			SELECT $2, $3, x.store_id, x.external_id, 1, $5, $1
			FROM (SELECT store_id, external_id FROM mirror.%s WHERE source = $2 AND store_id = $4 AND deleted_at IS NULL
			      EXCEPT
			      SELECT store_id, external_id FROM sync.reconcile_seen WHERE run_id = $1) AS x
			ON CONFLICT (source, entity, store_id, external_id)
			DO UPDATE SET misses = m.misses + 1, last_run_id = EXCLUDED.last_run_id
			RETURNING m.store_id, m.external_id, m.misses, m.first_missed_at`, t.name)
		var missed []struct {
			StoreID     string    `db:"store_id"`
			ExternalID  string    `db:"external_id"`
			Misses      int       `db:"misses"`
			FirstMissed time.Time `db:"first_missed_at"`
		}
		if err := sqlx.SelectContext(ctx, tx, &missed, countMisses, run.ID, run.Source, run.Entity, storeID, run.StartedAt); err != nil {
			return fmt.Errorf("count misses: %w", err)
		}
		var tombstones []mirrorsync.Change
		for _, m := range missed {
			if m.Misses < 2 {
				continue
			}
			tombstones = append(tombstones, mirrorsync.Change{
				Key:     mirrorsync.Key{Source: run.Source, StoreID: m.StoreID, ExternalID: m.ExternalID},
				Version: mirrorsync.Version{At: m.FirstMissed, EventAt: m.FirstMissed, Seq: seq, Pulled: true},
				Entity:  reflect.New(t.typ).Interface().(mirrorsync.Entity),
				Delete:  true,
			})
		}
		if len(tombstones) > 0 {
			res, err := applyChanges(ctx, tx, mirrorsync.OriginReconcile, tombstones)
			if err != nil {
				return err
			}
			deleted = res.Deleted
		}
		// Rows marked (or found newer than the first miss) start over; the pass's scratch goes.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync.reconcile_misses WHERE source = $1 AND entity = $2 AND misses >= 2`,
			run.Source, run.Entity); err != nil {
			return fmt.Errorf("reset misses: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync.reconcile_seen WHERE run_id = $1`, run.ID); err != nil {
			return fmt.Errorf("forget pass: %w", err)
		}
		return nil
	})
	return deleted, err
}

// ForgetPass drops what a failed pass saw: a pass that did not complete never deletes.
func (db *DB) ForgetPass(ctx context.Context, run mirrorsync.Run) error {
	if _, err := db.db.ExecContext(ctx, `DELETE FROM sync.reconcile_seen WHERE run_id = $1`, run.ID); err != nil {
		return fmt.Errorf("forget pass %d: %w", run.ID, err)
	}
	return nil
}

// Watermark returns where the next incremental pass of (source, entity) starts; zero when none
// has completed.
func (db *DB) Watermark(ctx context.Context, source, entity string) (time.Time, error) {
	var t time.Time
	err := db.db.GetContext(ctx, &t, `SELECT watermark FROM sync.reconcile_watermarks WHERE source = $1 AND entity = $2`, source, entity)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	}
	if err != nil {
		return t, fmt.Errorf("read watermark: %w", err)
	}
	return t, nil
}

// SetWatermark moves the watermark of (source, entity) forward to t (never back).
func (db *DB) SetWatermark(ctx context.Context, source, entity string, t time.Time) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO sync.reconcile_watermarks (source, entity, watermark) VALUES ($1, $2, $3)
		ON CONFLICT (source, entity) DO UPDATE SET watermark = greatest(reconcile_watermarks.watermark, EXCLUDED.watermark), updated_at = now()`,
		source, entity, t)
	if err != nil {
		return fmt.Errorf("set watermark: %w", err)
	}
	return nil
}

// Refetches returns the rows of (source, entity) flagged for re-fetching.
func (db *DB) Refetches(ctx context.Context, source, entity string) ([]mirrorsync.Key, error) {
	var rows []struct {
		StoreID    string `db:"store_id"`
		ExternalID string `db:"external_id"`
	}
	if err := db.db.SelectContext(ctx, &rows, `SELECT store_id, external_id FROM sync.refetch
		WHERE source = $1 AND entity = $2 ORDER BY flagged_at`, source, entity); err != nil {
		return nil, fmt.Errorf("read refetch flags: %w", err)
	}
	keys := make([]mirrorsync.Key, len(rows))
	for i, r := range rows {
		keys[i] = mirrorsync.Key{Source: source, StoreID: r.StoreID, ExternalID: r.ExternalID}
	}
	return keys, nil
}

// ClearRefetches removes the flags of keys, once a pass has re-fetched them.
func (db *DB) ClearRefetches(ctx context.Context, source, entity string, keys []mirrorsync.Key) error {
	if len(keys) == 0 {
		return nil
	}
	_, stores, ids := splitKeys(keys)
	_, err := db.db.ExecContext(ctx, `
		DELETE FROM sync.refetch AS r USING unnest($3::text[], $4::text[]) AS k(store_id, external_id)
		WHERE r.source = $1 AND r.entity = $2 AND r.store_id = k.store_id AND r.external_id = k.external_id`,
		source, entity, pq.StringArray(stores), pq.StringArray(ids))
	if err != nil {
		return fmt.Errorf("clear refetch flags: %w", err)
	}
	return nil
}

// OpenOrders implements mirrorsync.MirrorReader.
func (db *DB) OpenOrders(ctx context.Context, source string, final []string) ([]string, error) {
	lower := make([]string, len(final))
	for i, f := range final {
		lower[i] = strings.ToLower(f)
	}
	var ids []string
	err := db.db.SelectContext(ctx, &ids, `
		SELECT request_id FROM mirror.orders
		WHERE source = $1 AND request_id IS NOT NULL AND deleted_at IS NULL
		  AND (status IS NULL OR NOT lower(status) = ANY($2::text[]))
		ORDER BY request_id`, source, pq.StringArray(lower))
	if err != nil {
		return nil, fmt.Errorf("read open orders: %w", err)
	}
	return ids, nil
}
