package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// applyChanges applies changes to the mirror inside tx, table by table in a fixed order.
func applyChanges(ctx context.Context, tx *sqlx.Tx, origin mirrorsync.Origin, changes []mirrorsync.Change) (mirrorsync.ApplyResult, error) {
	var res mirrorsync.ApplyResult
	byTable := map[*table][]mirrorsync.Change{}
	for _, c := range changes {
		if err := c.Validate(); err != nil {
			return res, err
		}
		t, err := tableOf(c.Entity)
		if err != nil {
			return res, err
		}
		byTable[t] = append(byTable[t], c)
	}
	for _, t := range tables {
		if len(byTable[t]) == 0 {
			continue
		}
		r, err := t.apply(ctx, tx, origin, byTable[t])
		if err != nil {
			return res, fmt.Errorf("apply %s: %w", t.name, err)
		}
		res.Add(r)
	}
	return res, nil
}

// apply merges changes into the rows of t. Rows are first read without locks, so that changes
// the mirror already has (most of a reconcile pass) cost no write at all; the rows that do change
// are then read again FOR UPDATE, merged again from their locked state, and written.
func (t *table) apply(ctx context.Context, tx *sqlx.Tx, origin mirrorsync.Origin, changes []mirrorsync.Change) (mirrorsync.ApplyResult, error) {
	var res mirrorsync.ApplyResult
	byKey := map[mirrorsync.Key][]mirrorsync.Change{}
	for _, c := range changes {
		byKey[c.Key] = append(byKey[c.Key], c)
	}
	keys := make([]mirrorsync.Key, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sortKeys(keys)

	rows, err := t.load(ctx, tx, keys, false)
	if err != nil {
		return res, err
	}
	var need []mirrorsync.Key
	for _, k := range keys {
		r := rows[k]
		if r == nil {
			r = newRow(t, k)
		}
		t.fold(r, byKey[k], origin)
		if r.dirty {
			need = append(need, k)
		} else {
			res.Unchanged++
		}
	}
	// A row another transaction inserts between our read and our insert makes the insert a
	// no-op; such keys go round again, and are then found and locked.
	for attempt := 0; len(need) > 0; attempt++ {
		if attempt == 3 {
			return res, fmt.Errorf("rows %v kept changing under us", need)
		}
		locked, err := t.load(ctx, tx, need, true)
		if err != nil {
			return res, err
		}
		var updates, inserts []*row
		for _, k := range need {
			r := locked[k]
			if r == nil {
				r = newRow(t, k)
			}
			t.fold(r, byKey[k], origin)
			switch {
			case !r.dirty:
				res.Unchanged++
			case r.existed:
				updates = append(updates, r)
			default:
				inserts = append(inserts, r)
			}
		}
		if err := t.update(ctx, tx, updates); err != nil {
			return res, err
		}
		inserted, conflicted, err := t.insert(ctx, tx, inserts)
		if err != nil {
			return res, err
		}
		written := append(updates, inserted...)
		if err := t.writeDependents(ctx, tx, written); err != nil {
			return res, err
		}
		for _, r := range written {
			count(&res, r)
		}
		need = conflicted
	}
	return res, nil
}

func count(res *mirrorsync.ApplyResult, r *row) {
	if len(r.driftFields) > 0 {
		res.Drifted = append(res.Drifted, r.key)
	}
	switch {
	case r.deletedNow || (!r.existed && r.deletedAt.Set && !r.deletedAt.Null):
		res.Deleted++
	case !r.existed:
		res.Created++
	case r.changed:
		res.Updated++
	default:
		res.Unchanged++
	}
}

func sortKeys(keys []mirrorsync.Key) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.StoreID != b.StoreID {
			return a.StoreID < b.StoreID
		}
		return a.ExternalID < b.ExternalID
	})
}

// load reads the rows of keys, locking them when lock is set (in key order, like every batch).
func (t *table) load(ctx context.Context, tx *sqlx.Tx, keys []mirrorsync.Key, lock bool) (map[mirrorsync.Key]*row, error) {
	sources, stores, ids := splitKeys(keys)
	query := fmt.Sprintf(`
		SELECT t.source, t.store_id, t.external_id, %s, t.versions, t.deleted_at, t.source_updated_at
		FROM mirror.%s AS t
		JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(source, store_id, external_id)
		  ON t.source = k.source AND t.store_id = k.store_id AND t.external_id = k.external_id
		ORDER BY t.source, t.store_id, t.external_id`, t.columnNames("t."), t.name)
	if lock {
		query += ` FOR UPDATE OF t`
	}
	rs, err := tx.QueryContext(ctx, query, pq.StringArray(sources), pq.StringArray(stores), pq.StringArray(ids))
	if err != nil {
		return nil, fmt.Errorf("read rows: %w", err)
	}
	defer rs.Close()
	out := make(map[mirrorsync.Key]*row, len(keys))
	for rs.Next() {
		var k mirrorsync.Key
		r := newRow(t, k)
		var versions []byte
		var updated sql.NullTime
		dest := []any{&r.key.Source, &r.key.StoreID, &r.key.ExternalID}
		for _, c := range t.cols {
			dest = append(dest, r.entity.Field(c.field).Addr().Interface())
		}
		dest = append(dest, &versions, &r.deletedAt, &updated)
		if err := rs.Scan(dest...); err != nil {
			return nil, fmt.Errorf("read row: %w", err)
		}
		r.existed = true
		r.updatedAt = updated.Time
		if err := decodeVersions(versions, r.versions); err != nil {
			return nil, fmt.Errorf("read row %s: %w", r.key, err)
		}
		out[r.key] = r
	}
	return out, rs.Err()
}

func splitKeys(keys []mirrorsync.Key) (sources, stores, ids []string) {
	sources = make([]string, len(keys))
	stores = make([]string, len(keys))
	ids = make([]string, len(keys))
	for i, k := range keys {
		sources[i], stores[i], ids[i] = k.Source, k.StoreID, k.ExternalID
	}
	return sources, stores, ids
}

func decodeVersions(b []byte, into map[string]fieldVersion) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("versions: %w", err)
	}
	for k, s := range m {
		v, err := parseFieldVersion(s)
		if err != nil {
			return err
		}
		into[k] = v
	}
	return nil
}

// record is a row as one element of the jsonb_to_recordset the writes take.
func (t *table) record(r *row) map[string]any {
	m := make(map[string]any, len(t.cols)+9)
	m["source"], m["store_id"], m["external_id"] = r.key.Source, r.key.StoreID, r.key.ExternalID
	for _, c := range t.cols {
		_, v := present(r.entity.Field(c.field))
		m[c.name] = cleanText(v)
	}
	versions := make(map[string]string, len(r.versions))
	for k, v := range r.versions {
		versions[k] = v.String()
	}
	m["versions"] = versions
	m["source_updated_at"] = nullTime(r.updatedAt)
	_, m["deleted_at"] = r.deletedAt.Present()
	m["origin"] = string(r.origin)
	m["raw_set"] = r.rawSet
	m["raw_keep"] = r.rawKeep
	if r.rawOver != nil {
		m["raw_over"] = r.rawOver
	}
	return m
}

// cleanText drops NUL characters, which PostgreSQL text cannot hold.
func cleanText(v any) any {
	if s, ok := v.(string); ok && strings.ContainsRune(s, 0) {
		return strings.ReplaceAll(s, "\x00", "")
	}
	return v
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return toMicros(t)
}

func recordset(records []map[string]any) ([]byte, error) {
	b, err := json.Marshal(records)
	if err != nil {
		return nil, fmt.Errorf("encode rows: %w", err)
	}
	return b, nil
}

// records encodes rows for the writes: their columns as one JSON array (for json_to_recordset)
// and their raw snapshots as a jsonb[] beside it, matched by position ("i"). Provider objects are
// large; parsed once as jsonb elements they cost a fraction of what they cost nested in the JSON.
func (t *table) records(rows []*row) ([]byte, any, error) {
	records := make([]map[string]any, len(rows))
	bases := make([]sql.NullString, len(rows))
	for i, r := range rows {
		records[i] = t.record(r)
		records[i]["i"] = i + 1
		if r.rawBase != nil {
			bases[i] = sql.NullString{String: strings.ToValidUTF8(string(r.rawBase), "\uFFFD"), Valid: true}
		}
	}
	b, err := recordset(records)
	return b, pq.Array(bases), err
}

// update writes rows that exist (and are locked).
func (t *table) update(ctx context.Context, tx *sqlx.Tx, rows []*row) error {
	if len(rows) == 0 {
		return nil
	}
	set := make([]string, 0, len(t.cols))
	for _, c := range t.cols {
		set = append(set, c.name+" = r."+c.name)
	}
	// raw (see mergeRaw): a newer snapshot replaces it, keeping the stored keys patched after
	// that snapshot; the keys partial events won are set over it.
	query := fmt.Sprintf(`
		UPDATE mirror.%s AS t SET %s,
			versions = r.versions, source_updated_at = r.source_updated_at, deleted_at = r.deleted_at,
			mirrored_at = now(), origin = r.origin,
			raw = CASE WHEN NOT r.raw_set THEN t.raw
			      ELSE CASE WHEN b.raw_base IS NULL THEN coalesce(t.raw, '{}'::jsonb)
			                ELSE b.raw_base || coalesce((SELECT jsonb_object_agg(e.key, e.value)
			                                             FROM jsonb_each(t.raw) AS e WHERE r.raw_keep ? e.key), '{}'::jsonb)
			           END || coalesce(r.raw_over, '{}'::jsonb)
			      END
		FROM json_to_recordset($1::json) AS r(%s)
		JOIN unnest($2::jsonb[]) WITH ORDINALITY AS b(raw_base, i) ON b.i = r.i
		WHERE t.source = r.source AND t.store_id = r.store_id AND t.external_id = r.external_id`,
		t.name, strings.Join(set, ", "), t.recordType())
	b, bases, err := t.records(rows)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, query, b, bases); err != nil {
		return fmt.Errorf("update rows: %w", err)
	}
	return nil
}

// insert writes new rows. A row some other transaction inserted first is left alone and
// returned in conflicted, to be merged again from its stored state.
func (t *table) insert(ctx context.Context, tx *sqlx.Tx, rows []*row) (inserted []*row, conflicted []mirrorsync.Key, err error) {
	if len(rows) == 0 {
		return nil, nil, nil
	}
	query := fmt.Sprintf(`
		INSERT INTO mirror.%[1]s AS t (source, store_id, external_id, %[2]s,
			versions, source_updated_at, deleted_at, mirrored_at, origin, raw)
		SELECT r.source, r.store_id, r.external_id, %[3]s,
			r.versions, r.source_updated_at, r.deleted_at, now(), r.origin,
			CASE WHEN r.raw_set THEN coalesce(b.raw_base, '{}'::jsonb) || coalesce(r.raw_over, '{}'::jsonb) END
		FROM json_to_recordset($1::json) AS r(%[4]s)
		JOIN unnest($2::jsonb[]) WITH ORDINALITY AS b(raw_base, i) ON b.i = r.i
		ON CONFLICT (source, store_id, external_id) DO NOTHING
		RETURNING t.source, t.store_id, t.external_id`,
		t.name, t.columnNames(""), t.columnNames("r."), t.recordType())
	b, bases, err := t.records(rows)
	if err != nil {
		return nil, nil, err
	}
	rs, err := tx.QueryContext(ctx, query, b, bases)
	if err != nil {
		return nil, nil, fmt.Errorf("insert rows: %w", err)
	}
	defer rs.Close()
	done := map[mirrorsync.Key]bool{}
	for rs.Next() {
		var k mirrorsync.Key
		if err := rs.Scan(&k.Source, &k.StoreID, &k.ExternalID); err != nil {
			return nil, nil, fmt.Errorf("insert rows: %w", err)
		}
		done[k] = true
	}
	if err := rs.Err(); err != nil {
		return nil, nil, fmt.Errorf("insert rows: %w", err)
	}
	for _, r := range rows {
		if done[r.key] {
			inserted = append(inserted, r)
		} else {
			conflicted = append(conflicted, r.key)
		}
	}
	return inserted, conflicted, nil
}

// writeDependents writes what hangs off rows just written: replaced child collections, the
// product history, and re-fetch flags for drift.
func (t *table) writeDependents(ctx context.Context, tx *sqlx.Tx, rows []*row) error {
	for i := range t.children {
		if err := t.children[i].replace(ctx, tx, i, rows); err != nil {
			return err
		}
	}
	var history, drift []map[string]any
	for _, r := range rows {
		for _, h := range r.history {
			history = append(history, map[string]any{
				"source": r.key.Source, "store_id": r.key.StoreID, "product_external_id": r.key.ExternalID,
				"field": h.field, "old_value": h.old, "new_value": h.new, "changed_at": h.changedAt, "origin": h.provenance,
			})
		}
		if len(r.driftFields) > 0 {
			drift = append(drift, map[string]any{
				"source": r.key.Source, "entity": t.name, "store_id": r.key.StoreID, "external_id": r.key.ExternalID,
				"reason": "drift: " + strings.Join(r.driftFields, ", "),
			})
		}
	}
	if len(history) > 0 {
		const insertHistory = `
			INSERT INTO mirror.product_changes (source, store_id, product_external_id, field, old_value, new_value, changed_at, origin)
			SELECT source, store_id, product_external_id, field, old_value, new_value, changed_at, origin
			FROM json_to_recordset($1::json) AS r(source text, store_id text, product_external_id text,
				field text, old_value text, new_value text, changed_at timestamptz, origin text)`
		if err := execRecords(ctx, tx, insertHistory, history); err != nil {
			return fmt.Errorf("record product changes: %w", err)
		}
	}
	if len(drift) > 0 {
		const flagRefetch = `
			INSERT INTO sync.refetch (source, entity, store_id, external_id, reason)
			SELECT source, entity, store_id, external_id, reason
			FROM json_to_recordset($1::json) AS r(source text, entity text, store_id text, external_id text, reason text)
			ON CONFLICT (source, entity, store_id, external_id) DO UPDATE SET reason = EXCLUDED.reason, flagged_at = now()`
		if err := execRecords(ctx, tx, flagRefetch, drift); err != nil {
			return fmt.Errorf("flag drift: %w", err)
		}
	}
	return nil
}

func execRecords(ctx context.Context, tx *sqlx.Tx, query string, records []map[string]any) error {
	b, err := recordset(records)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, query, b)
	return err
}

// replace rewrites child table i (and its nested tables) for the rows whose collection changed.
func (c *childTable) replace(ctx context.Context, tx *sqlx.Tx, i int, rows []*row) error {
	var parents []map[string]any
	var records []map[string]any
	replaced := false
	nested := make([][]map[string]any, len(c.nested))
	for _, r := range rows {
		items, ok := r.rewrite[i]
		if !ok {
			continue
		}
		if r.existed { // a parent just inserted has no children to remove
			parents = append(parents, map[string]any{"source": r.key.Source, "store_id": r.key.StoreID, "external_id": r.key.ExternalID})
		}
		replaced = true
		for j := 0; j < items.Len(); j++ {
			item := items.Index(j)
			rec := c.record(r.key, item)
			rec[c.parent] = r.key.ExternalID
			rec[c.index] = c.base + j
			records = append(records, rec)
			for n, nc := range c.nested {
				subs := item.Field(nc.field)
				for s := 0; s < subs.Len(); s++ {
					sub := nc.record(r.key, subs.Index(s))
					sub[c.parent] = r.key.ExternalID // the top parent, by which the rows are replaced
					sub[nc.parentIndex] = c.base + j
					sub[nc.parent] = item.Field(c.idField).Interface()
					sub[nc.index] = nc.base + s
					nested[n] = append(nested[n], sub)
				}
			}
		}
	}
	if !replaced {
		return nil
	}
	for _, table := range append([]childTable{*c}, c.nested...) {
		if len(parents) == 0 {
			break
		}
		query := fmt.Sprintf(`
			DELETE FROM mirror.%s AS c USING json_to_recordset($1::json) AS p(source text, store_id text, external_id text)
			WHERE c.source = p.source AND c.store_id = p.store_id AND c.%s = p.external_id`, table.name, c.parent)
		if err := execRecords(ctx, tx, query, parents); err != nil {
			return fmt.Errorf("replace %s: %w", table.name, err)
		}
	}
	if err := c.insert(ctx, tx, c.parent, records); err != nil {
		return err
	}
	for n := range c.nested {
		if err := c.nested[n].insert(ctx, tx, c.parent, nested[n]); err != nil {
			return err
		}
	}
	return nil
}

// record is one child item's columns; the caller adds its parent and index columns.
func (c *childTable) record(key mirrorsync.Key, item reflect.Value) map[string]any {
	m := make(map[string]any, len(c.cols)+6)
	m["source"], m["store_id"] = key.Source, key.StoreID
	for _, col := range c.cols {
		m[col.name] = cleanText(item.Field(col.field).Interface())
	}
	return m
}

// insert writes child rows; top is the column holding the top parent's id.
func (c *childTable) insert(ctx context.Context, tx *sqlx.Tx, top string, records []map[string]any) error {
	if len(records) == 0 {
		return nil
	}
	names := []string{"source", "store_id", c.parent, c.index}
	types := []string{"text", "text", "text", "integer"}
	if c.parentIndex != "" {
		names = append(names, top, c.parentIndex)
		types = append(types, "text", "integer")
	}
	for _, col := range c.cols {
		names = append(names, col.name)
		types = append(types, col.sqlType)
	}
	defs := make([]string, len(names))
	for i := range names {
		defs[i] = names[i] + " " + types[i]
	}
	query := fmt.Sprintf(`INSERT INTO mirror.%s (%s) SELECT %s FROM json_to_recordset($1::json) AS r(%s)`,
		c.name, strings.Join(names, ", "), strings.Join(names, ", "), strings.Join(defs, ", "))
	if err := execRecords(ctx, tx, query, records); err != nil {
		return fmt.Errorf("write %s: %w", c.name, err)
	}
	return nil
}

// ApplyChanges applies changes to the mirror in one transaction (the reconciler's path; webhook
// events go through ApplyPending).
func (db *DB) ApplyChanges(ctx context.Context, origin mirrorsync.Origin, changes []mirrorsync.Change) (mirrorsync.ApplyResult, error) {
	var res mirrorsync.ApplyResult
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		res, err = applyChanges(ctx, tx, origin, changes)
		return err
	})
	return res, err
}
