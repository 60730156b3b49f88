package store

import (
	"cmp"
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
	if err := t.placeStores(ctx, tx, changes); err != nil {
		return res, err
	}
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
	var shared *fieldVersion
	if s, ok := m[sharedVersionKey]; ok {
		v, err := parseFieldVersion(s)
		if err != nil {
			return err
		}
		shared = &v
	}
	// No version storemirror writes is more than MaxClockLead ahead of the receipt or fetch it
	// came with: one further ahead of now was written, before that rule, from a provider's bad
	// clock. It is forgotten, so that the next change of the field heals it.
	limit := time.Now().Add(mirrorsync.MaxClockLead)
	for k, s := range m {
		if k == sharedVersionKey {
			continue
		}
		var v fieldVersion
		if rest, ok := strings.CutPrefix(s, sharedVersionKey); ok && (rest == "" || rest[0] == '/') {
			if shared == nil {
				return fmt.Errorf("field version %q of %s: no shared version", s, k)
			}
			v = fieldVersion{Version: shared.Version, Hash: strings.TrimPrefix(rest, "/")}
		} else {
			var err error
			if v, err = parseFieldVersion(s); err != nil {
				return err
			}
		}
		if v.At.After(limit) {
			v.At, v.EventAt = time.Time{}, time.Time{}
		}
		into[k] = v
	}
	return nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// sharedVersionKey is the versions entry holding the version most of a row's fields share
// (see encodeVersions). No field is named so: fields are columns, collections, deleted_at,
// store_id, raw and raw.<key>. Never remove it by hand: the fields that refer to it could not be read.
const sharedVersionKey = "@"

// encodeVersions renders a row's versions as the versions column keeps them. Most fields of a
// row were set by the same change, so the version the most fields share is written once, under
// sharedVersionKey, and each of those fields as "@" ("@/<hash>" with a content hash); every
// other field is spelled out (fieldVersion.String). A sticky.io product's versions take two
// fifths of the bytes they would spelled out, which PostgreSQL parses and compresses on every
// write of the row. Releases before this one read only the spelled-out form.
func encodeVersions(vs map[string]fieldVersion) map[string]string {
	type key struct {
		at, eventAt     int64
		atNs, eventAtNs int
		seq             int64
		received        bool
		pulled          bool
	}
	keyOf := func(v mirrorsync.Version) key {
		return key{v.At.Unix(), v.EventAt.Unix(), v.At.Nanosecond(), v.EventAt.Nanosecond(), v.Seq, v.Received, v.Pulled}
	}
	// Of versions shared by as many fields, the greatest key (the latest At, then EventAt, ...):
	// a total order, so that the same row is written the same way whatever order the map is read in.
	later := func(a, b key) bool {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.atNs, b.atNs), cmp.Compare(a.eventAt, b.eventAt),
			cmp.Compare(a.eventAtNs, b.eventAtNs), cmp.Compare(a.seq, b.seq), cmpBool(a.received, b.received),
			cmpBool(a.pulled, b.pulled)) > 0
	}
	counts := make(map[key]int, 4)
	var best key
	var shared mirrorsync.Version
	most := 0
	for _, fv := range vs {
		k := keyOf(fv.Version)
		counts[k]++
		if n := counts[k]; n > most || n == most && later(k, best) {
			best, shared, most = k, fv.Version, n
		}
	}
	out := make(map[string]string, len(vs)+1)
	if most >= 2 {
		out[sharedVersionKey] = fieldVersion{Version: shared}.String()
	}
	for name, fv := range vs {
		if most < 2 || keyOf(fv.Version) != best {
			out[name] = fv.String()
			continue
		}
		out[name] = sharedVersionKey
		if fv.Hash != "" {
			out[name] += "/" + fv.Hash
		}
	}
	return out
}

// parentColumns lays rows of t out for a bulk write: the key, every column, and the
// bookkeeping (versions, raw and how to merge it).
func (t *table) parentColumns(rows []*row) *columns {
	defs := []string{"source text", "store_id text", "external_id text"}
	for _, col := range t.cols {
		defs = append(defs, col.name+" "+col.sqlType)
	}
	defs = append(defs, "versions jsonb", "source_updated_at timestamptz", "deleted_at timestamptz", "origin text",
		"raw_set boolean", "raw_base jsonb", "raw_keep jsonb", "raw_over jsonb")
	c := newColumns(len(rows), defs...)
	for _, r := range rows {
		c.set("source", r.key.Source)
		c.set("store_id", r.key.StoreID)
		c.set("external_id", r.key.ExternalID)
		for _, col := range t.cols {
			_, v := present(r.entity.Field(col.field))
			c.set(col.name, v)
		}
		c.set("versions", encodeVersions(r.versions))
		c.set("source_updated_at", r.updatedAt)
		_, deleted := r.deletedAt.Present()
		c.set("deleted_at", deleted)
		c.set("origin", string(r.origin))
		c.set("raw_set", r.rawSet)
		c.set("raw_base", r.rawBase)
		var keep, over any
		if r.rawKeep != nil {
			keep = r.rawKeep
		}
		if r.rawOver != nil {
			over = r.rawOver
		}
		c.set("raw_keep", keep)
		c.set("raw_over", over)
	}
	return c
}

// cleanText drops NUL characters, which PostgreSQL text cannot hold.
func cleanText(v any) any {
	if s, ok := v.(string); ok && strings.ContainsRune(s, 0) {
		return strings.ReplaceAll(s, "\x00", "")
	}
	return v
}

// update writes rows that exist (and are locked).
func (t *table) update(ctx context.Context, tx *sqlx.Tx, rows []*row) error {
	if len(rows) == 0 {
		return nil
	}
	c := t.parentColumns(rows)
	set := make([]string, 0, len(t.cols))
	for i, col := range t.cols {
		set = append(set, col.name+" = "+c.ref("u.", i+3))
	}
	// raw (see mergeRaw): a newer snapshot replaces it, keeping the stored keys patched after
	// that snapshot; the keys partial events won are set over it.
	query := fmt.Sprintf(`
		UPDATE mirror.%s AS t SET %s,
			versions = u.versions::jsonb, source_updated_at = u.source_updated_at::timestamptz,
			deleted_at = u.deleted_at::timestamptz, mirrored_at = now(), origin = u.origin,
			raw = CASE WHEN NOT u.raw_set::boolean THEN t.raw
			      ELSE CASE WHEN u.raw_base IS NULL THEN coalesce(t.raw, '{}'::jsonb)
			                ELSE u.raw_base::jsonb || coalesce((SELECT jsonb_object_agg(e.key, e.value)
			                                             FROM jsonb_each(t.raw) AS e WHERE u.raw_keep::jsonb ? e.key), '{}'::jsonb)
			           END || coalesce(u.raw_over::jsonb, '{}'::jsonb)
			      END
		FROM %s
		WHERE t.source = u.source AND t.store_id = u.store_id AND t.external_id = u.external_id`,
		t.name, strings.Join(set, ", "), c.from(1))
	if _, err := tx.ExecContext(ctx, query, c.args()...); err != nil {
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
	c := t.parentColumns(rows)
	values := make([]string, 0, len(t.cols)+3)
	for i := 0; i < len(t.cols)+3; i++ {
		values = append(values, c.ref("u.", i))
	}
	query := fmt.Sprintf(`
		INSERT INTO mirror.%s AS t (source, store_id, external_id, %s,
			versions, source_updated_at, deleted_at, mirrored_at, origin, raw)
		SELECT %s,
			u.versions::jsonb, u.source_updated_at::timestamptz, u.deleted_at::timestamptz, now(), u.origin,
			CASE WHEN u.raw_set::boolean THEN coalesce(u.raw_base::jsonb, '{}'::jsonb) || coalesce(u.raw_over::jsonb, '{}'::jsonb) END
		FROM %s
		ON CONFLICT (source, store_id, external_id) DO NOTHING
		RETURNING t.source, t.store_id, t.external_id`,
		t.name, t.columnNames(""), strings.Join(values, ", "), c.from(1))
	rs, err := tx.QueryContext(ctx, query, c.args()...)
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
// history of the columns tagged `history`, and re-fetch flags for drift.
func (t *table) writeDependents(ctx context.Context, tx *sqlx.Tx, rows []*row) error {
	for i := range t.children {
		if err := t.children[i].replace(ctx, tx, i, rows); err != nil {
			return err
		}
	}
	history := newColumns(0, "source text", "store_id text", "parent_id text", "field text",
		"old_value text", "new_value text", "changed_at timestamptz", "origin text")
	drift := newColumns(0, "source text", "entity text", "store_id text", "external_id text", "reason text")
	for _, r := range rows {
		for _, h := range r.history {
			history.set("source", r.key.Source)
			history.set("store_id", r.key.StoreID)
			history.set("parent_id", r.key.ExternalID)
			history.set("field", h.field)
			history.set("old_value", h.old)
			history.set("new_value", h.new)
			history.set("changed_at", h.changedAt)
			history.set("origin", string(h.provenance))
		}
		if len(r.driftFields) > 0 {
			drift.set("source", r.key.Source)
			drift.set("entity", t.name)
			drift.set("store_id", r.key.StoreID)
			drift.set("external_id", r.key.ExternalID)
			drift.set("reason", "drift: "+strings.Join(r.driftFields, ", "))
		}
	}
	if history.len() > 0 {
		query := fmt.Sprintf(`INSERT INTO mirror.%s (source, store_id, %s, field, old_value, new_value, changed_at, origin)
			SELECT %s FROM %s`, t.historyTable, t.historyParent, history.selectList("u."), history.from(1))
		if _, err := tx.ExecContext(ctx, query, history.args()...); err != nil {
			return fmt.Errorf("record product changes: %w", err)
		}
	}
	if drift.len() > 0 {
		query := `INSERT INTO sync.refetch (source, entity, store_id, external_id, reason)
			SELECT ` + drift.selectList("u.") + ` FROM ` + drift.from(1) + `
			ON CONFLICT (source, entity, store_id, external_id) DO UPDATE SET reason = EXCLUDED.reason, flagged_at = now()`
		if _, err := tx.ExecContext(ctx, query, drift.args()...); err != nil {
			return fmt.Errorf("flag drift: %w", err)
		}
	}
	return nil
}

// replace rewrites child table i (and its nested tables) for the rows whose collection changed.
func (c *childTable) replace(ctx context.Context, tx *sqlx.Tx, i int, rows []*row) error {
	parents := newColumns(0, "source text", "store_id text", "external_id text")
	records := c.columns(c.parent, "")
	nested := make([]*columns, len(c.nested))
	for n, nc := range c.nested {
		nested[n] = nc.columns(c.parent, nc.parentIndex)
	}
	replaced := false
	for _, r := range rows {
		items, ok := r.rewrite[i]
		if !ok {
			continue
		}
		replaced = true
		if r.existed { // a parent just inserted has no children to remove
			parents.set("source", r.key.Source)
			parents.set("store_id", r.key.StoreID)
			parents.set("external_id", r.key.ExternalID)
		}
		for j := 0; j < items.Len(); j++ {
			item := items.Index(j)
			c.addRow(records, r.key, item, c.parent, r.key.ExternalID, c.base+j)
			for n, nc := range c.nested {
				subs := item.Field(nc.field)
				for s := 0; s < subs.Len(); s++ {
					// Nested rows carry the top parent (by which they are replaced) and their parent's index.
					nested[n].set(c.parent, r.key.ExternalID)
					nested[n].set(nc.parentIndex, c.base+j)
					nc.addRow(nested[n], r.key, subs.Index(s), nc.parent, item.Field(c.idField).Interface(), nc.base+s)
				}
			}
		}
	}
	if !replaced {
		return nil
	}
	if parents.len() > 0 {
		for _, table := range append([]childTable{*c}, c.nested...) {
			query := fmt.Sprintf(`DELETE FROM mirror.%s AS c USING %s
				WHERE c.source = u.source AND c.store_id = u.store_id AND c.%s = u.external_id`, table.name, parents.from(1), c.parent)
			if _, err := tx.ExecContext(ctx, query, parents.args()...); err != nil {
				return fmt.Errorf("replace %s: %w", table.name, err)
			}
		}
	}
	if err := c.write(ctx, tx, records); err != nil {
		return err
	}
	for n := range c.nested {
		if err := c.nested[n].write(ctx, tx, nested[n]); err != nil {
			return err
		}
	}
	return nil
}

// columns lays out rows of c: the key and parent columns, its own columns; top and topIndex
// name the top parent's columns that nested rows carry too.
func (c *childTable) columns(top, topIndex string) *columns {
	defs := []string{"source text", "store_id text"}
	if topIndex != "" {
		defs = append(defs, top+" text", topIndex+" integer")
	}
	defs = append(defs, c.parent+" text", c.index+" integer")
	for _, col := range c.cols {
		defs = append(defs, col.name+" "+col.sqlType)
	}
	return newColumns(0, defs...)
}

// addRow appends one child item: its key, parent, index and columns.
func (c *childTable) addRow(cols *columns, key mirrorsync.Key, item reflect.Value, parent string, parentID any, index int) {
	cols.set("source", key.Source)
	cols.set("store_id", key.StoreID)
	cols.set(parent, parentID)
	cols.set(c.index, index)
	for _, col := range c.cols {
		cols.set(col.name, item.Field(col.field).Interface())
	}
}

// write inserts the child rows laid out in cols.
func (c *childTable) write(ctx context.Context, tx *sqlx.Tx, cols *columns) error {
	if cols.len() == 0 {
		return nil
	}
	query := fmt.Sprintf(`INSERT INTO mirror.%s (%s) SELECT %s FROM %s`,
		c.name, strings.Join(cols.names, ", "), cols.selectList("u."), cols.from(1))
	if _, err := tx.ExecContext(ctx, query, cols.args()...); err != nil {
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
