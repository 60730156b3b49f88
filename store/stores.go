package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// One provider resource is one mirror row (docs/rules.md, "One resource, one row"). Several
// providers' events may leave the store out (mirrorsync.Change.AnyStore): such a change goes to
// the row its resource already has, in whichever store; with none yet, to the store the decoder
// chose (the source's configured one, or ""). That row's store is not confirmed (its versions
// have no storeField entry) until an event names the store: the first that does adopts the row,
// moving it and its children to the store it names, instead of starting a second row.
//
// Both steps read rows by (source, external_id) across stores, so a transaction-scoped advisory
// lock per (table, source, external_id) serializes them against each other: two events of one
// resource, one naming its store and one not, cannot both insert.

// storeField is the versions entry recording that an event named the row's store.
const storeField = "store_id"

// errAmbiguousStore fails an event that names no store when its resource has rows in several of
// the source's stores: which one it means cannot be known, and no retry will tell.
var errAmbiguousStore = errors.New("the event names no store and its resource is in several stores")

// placeStores resolves the stores of changes to t in place, and adopts unconfirmed rows for
// the changes that name their store.
func (t *table) placeStores(ctx context.Context, tx *sqlx.Tx, changes []mirrorsync.Change) error {
	var locks []int64
	var anyStore, named []int
	for i, c := range changes {
		switch {
		case c.AnyStore:
			anyStore = append(anyStore, i)
		case c.Key.StoreID != "":
			named = append(named, i)
		default:
			continue // a provider without stores: its key is its row
		}
		locks = append(locks, t.rowLock(c.Key))
	}
	if len(locks) == 0 {
		return nil
	}
	slices.Sort(locks)
	locks = slices.Compact(locks)
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k ORDER BY k`, pq.Int64Array(locks)); err != nil {
		return fmt.Errorf("lock resources: %w", err)
	}
	// Adoption first: a store-less change of the same batch then finds the adopted row where
	// it now is, rather than where it was.
	if err := t.adopt(ctx, tx, changes, named); err != nil {
		return err
	}
	return t.resolveAnyStore(ctx, tx, changes, anyStore)
}

// rowLock is the advisory lock key of a resource: its table, source and external id.
func (t *table) rowLock(k mirrorsync.Key) int64 {
	h := fnv.New64a()
	for _, s := range []string{"storemirror/resource", t.name, k.Source, k.ExternalID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}

// storeRow is a row of a resource, in one of its source's stores.
type storeRow struct {
	I         int    `db:"i"` // which key asked (1-based, as WITH ORDINALITY numbers)
	StoreID   string `db:"store_id"`
	Confirmed bool   `db:"confirmed"`
}

// rowsOf finds the rows of the resources of changes[idx], in every store: for each index into
// idx, the stores its resource has.
func (t *table) rowsOf(ctx context.Context, tx *sqlx.Tx, changes []mirrorsync.Change, idx []int) ([][]storeRow, error) {
	sources, ids := make([]string, len(idx)), make([]string, len(idx))
	for j, i := range idx {
		sources[j], ids[j] = changes[i].Key.Source, changes[i].Key.ExternalID
	}
	query := fmt.Sprintf(`
		SELECT k.i, t.store_id, t.versions ? '%s' AS confirmed
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(source, external_id, i)
		JOIN mirror.%s AS t ON t.source = k.source AND t.external_id = k.external_id
		ORDER BY k.i, t.store_id`, storeField, t.name)
	var found []storeRow
	if err := sqlx.SelectContext(ctx, tx, &found, query, pq.StringArray(sources), pq.StringArray(ids)); err != nil {
		return nil, fmt.Errorf("find resources' rows: %w", err)
	}
	out := make([][]storeRow, len(idx))
	for _, r := range found {
		out[r.I-1] = append(out[r.I-1], r)
	}
	return out, nil
}

// resolveAnyStore sets the store of each change that names none to the store its resource's row
// is in (see pickStore). With no row anywhere, the default stays.
func (t *table) resolveAnyStore(ctx context.Context, tx *sqlx.Tx, changes []mirrorsync.Change, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	found, err := t.rowsOf(ctx, tx, changes, idx)
	if err != nil {
		return err
	}
	// The batch itself may name the store of a resource it has no row of yet.
	named := map[[2]string][]string{}
	for _, c := range changes {
		if !c.AnyStore && c.Key.StoreID != "" {
			k := [2]string{c.Key.Source, c.Key.ExternalID}
			named[k] = append(named[k], c.Key.StoreID)
		}
	}
	for j, i := range idx {
		k := changes[i].Key
		for _, store := range named[[2]string{k.Source, k.ExternalID}] {
			if !slices.ContainsFunc(found[j], func(r storeRow) bool { return r.StoreID == store }) {
				found[j] = append(found[j], storeRow{StoreID: store, Confirmed: true})
			}
		}
		slices.SortFunc(found[j], func(a, b storeRow) int { return strings.Compare(a.StoreID, b.StoreID) })
		store, ok := pickStore(changes[i].Key.StoreID, found[j])
		if !ok {
			return fmt.Errorf("%s %s: %w", t.name, changes[i].Key, errAmbiguousStore)
		}
		changes[i].Key.StoreID = store
	}
	return nil
}

// pickStore chooses the row a store-less change belongs to, among rows (sorted by store): the
// one row whose store an event confirmed, else the row in the default store, else the one row
// there is. Several confirmed rows and none in the default store: it cannot tell (ok false).
func pickStore(def string, rows []storeRow) (string, bool) {
	var confirmed []string
	atDefault := false
	for _, r := range rows {
		if r.Confirmed {
			confirmed = append(confirmed, r.StoreID)
		}
		atDefault = atDefault || r.StoreID == def
	}
	switch {
	case len(confirmed) == 1:
		return confirmed[0], true
	case atDefault || len(rows) == 0:
		return def, true
	case len(rows) == 1:
		return rows[0].StoreID, true
	}
	return "", false
}

// adopt moves to its named store the unconfirmed row of each resource of changes[idx] that has
// no row in the store its change names.
func (t *table) adopt(ctx context.Context, tx *sqlx.Tx, changes []mirrorsync.Change, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	found, err := t.rowsOf(ctx, tx, changes, idx)
	if err != nil {
		return err
	}
	moved := map[mirrorsync.Key]bool{}
	for j, i := range idx {
		k := changes[i].Key
		from, ok := adoptable(k.StoreID, found[j])
		if !ok || moved[k] {
			continue
		}
		if err := t.moveRow(ctx, tx, k, from); err != nil {
			return err
		}
		moved[k] = true
	}
	return nil
}

// adoptable returns the store of the unconfirmed row a change naming store should take over,
// when the resource has no row in that store yet.
func adoptable(store string, rows []storeRow) (string, bool) {
	from, ok := "", false
	for _, r := range rows {
		if r.StoreID == store {
			return "", false
		}
		if !r.Confirmed && !ok {
			from, ok = r.StoreID, true
		}
	}
	return from, ok
}

// moveRow moves the row of k's resource from store from to k's store, with its children and
// its history, and confirms its store.
func (t *table) moveRow(ctx context.Context, tx *sqlx.Tx, k mirrorsync.Key, from string) error {
	stmts := []string{fmt.Sprintf(`UPDATE mirror.%s SET store_id = $2, versions = versions || jsonb_build_object('%s', '%s')
		WHERE source = $1 AND store_id = $3 AND external_id = $4`, t.name, storeField, fieldVersion{}.String())}
	for _, c := range t.children {
		for _, name := range append([]string{c.name}, c.nestedNames()...) {
			stmts = append(stmts, fmt.Sprintf(`UPDATE mirror.%s SET store_id = $2 WHERE source = $1 AND store_id = $3 AND %s = $4`, name, c.parent))
		}
	}
	if t.historyTable != "" {
		stmts = append(stmts, fmt.Sprintf(`UPDATE mirror.%s SET store_id = $2 WHERE source = $1 AND store_id = $3 AND %s = $4`,
			t.historyTable, t.historyParent))
	}
	stmts = append(stmts, fmt.Sprintf(`UPDATE sync.refetch SET store_id = $2 WHERE source = $1 AND store_id = $3 AND external_id = $4 AND entity = '%s'`, t.name))
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, k.Source, k.StoreID, from, k.ExternalID); err != nil {
			return fmt.Errorf("move %s %s from store %q: %w", t.name, k, from, err)
		}
	}
	return nil
}

// nestedNames lists the tables of c's children's children (a variant's attributes), which
// carry c's parent column too.
func (c *childTable) nestedNames() []string {
	names := make([]string, len(c.nested))
	for i, n := range c.nested {
		names[i] = n.name
	}
	return names
}
