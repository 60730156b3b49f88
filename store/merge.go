package store

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Applying a change is a merge of last-writer-wins registers, one per field (docs/rules.md): each
// column, each child collection, deleted_at and raw carry the Version that last set them, and a
// change sets a field only when its own Version is not older. The merge is commutative, so events
// may be applied in any order, by any worker, and the mirror converges to the same rows.
//
// The merge itself is plain Go over a row read from the database; the SELECT ... FOR UPDATE that
// reads the row serializes workers racing on it.

// fieldVersion is what the versions column holds for one field.
type fieldVersion struct {
	mirrorsync.Version
	Hash string // collections and raw: a hash of the content, so an identical resend is a no-op
}

// String renders v as the versions column keeps it: at/seq[/hash[/event_at[/flags]]], where
// flags is "r" for a version read off the receipt (mirrorsync.Version.Received) and "p" for a
// reconcile pull. Versions written before event times existed have only the first parts.
func (v fieldVersion) String() string {
	s := v.At.UTC().Format(time.RFC3339Nano) + "/" + strconv.FormatInt(v.Seq, 10)
	flags := ""
	switch {
	case v.Received:
		flags = "r"
	case v.Pulled:
		flags = "p"
	}
	if v.EventAt.IsZero() && flags == "" {
		if v.Hash != "" {
			s += "/" + v.Hash
		}
		return s
	}
	s += "/" + v.Hash + "/"
	if !v.EventAt.IsZero() {
		s += v.EventAt.UTC().Format(time.RFC3339Nano)
	}
	if flags != "" {
		s += "/" + flags
	}
	return s
}

func parseFieldVersion(s string) (fieldVersion, error) {
	parts := strings.SplitN(s, "/", 5)
	if len(parts) < 2 {
		return fieldVersion{}, fmt.Errorf("field version %q: too few parts", s)
	}
	var fv fieldVersion
	var err error
	if fv.At, err = time.Parse(time.RFC3339Nano, parts[0]); err != nil {
		return fieldVersion{}, fmt.Errorf("field version %q: %w", s, err)
	}
	if fv.Seq, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
		return fieldVersion{}, fmt.Errorf("field version %q: %w", s, err)
	}
	if len(parts) > 2 {
		fv.Hash = parts[2]
	}
	if len(parts) > 3 && parts[3] != "" {
		if fv.EventAt, err = time.Parse(time.RFC3339Nano, parts[3]); err != nil {
			return fieldVersion{}, fmt.Errorf("field version %q: %w", s, err)
		}
	}
	if len(parts) > 4 {
		switch parts[4] {
		case "r":
			fv.Received = true
		case "p":
			fv.Pulled = true
		default:
			return fieldVersion{}, fmt.Errorf("field version %q: unknown flags %q", s, parts[4])
		}
	}
	return fv, nil
}

// Field names of the registers that are not entity columns.
const (
	deletedField = "deleted_at"
	rawField     = "raw"
)

// wins reports whether a change at v sets a field last set at fv; same says whether it carries
// the value the field already holds.
//
// An older change never wins. A change with a different value wins when it is not older (an
// equal version is the same event applied again, e.g. replayed through a fixed decoder). A newer
// change with the same value still wins, because its version must be recorded: otherwise an
// older event arriving later could overwrite the value, and the result would depend on arrival
// order. The one exception is a reconcile pull that finds the value the mirror has at the same
// provider time: it writes nothing, so that a pass over an up-to-date catalog writes nothing. In
// the rare race where an older-received webhook of that same provider time is applied after the
// pull, the next pass repairs it.
func wins(v mirrorsync.Version, fv fieldVersion, same bool, origin mirrorsync.Origin) bool {
	switch c := v.Compare(fv.Version); {
	case c < 0:
		return false
	case !same:
		return true
	case c == 0:
		return false
	default:
		return origin != mirrorsync.OriginReconcile || !v.At.Equal(fv.At)
	}
}

// row is a mirror row being merged.
type row struct {
	key       mirrorsync.Key
	existed   bool          // the row was in the table before this batch
	entity    reflect.Value // the entity struct; every column Set (Null when NULL)
	versions  map[string]fieldVersion
	deletedAt mirrorsync.Field[time.Time]
	updatedAt time.Time // source_updated_at, zero when NULL
	origin    mirrorsync.Origin

	dirty       bool // the row must be written
	changed     bool // a column value or collection changed (not only versions)
	deletedNow  bool
	rewrite     map[int]reflect.Value      // child table index → the Items to write
	rawSet      bool                       // raw must be written: rawBase (nil: the stored raw) ...
	rawBase     json.RawMessage            // ... keeping only rawKeep of the stored keys when replaced ...
	rawKeep     []string                   //
	rawOver     map[string]json.RawMessage // ... with these keys set over it
	history     []historyEntry
	driftFields []string
}

type historyEntry struct {
	field      string
	old, new   *string
	changedAt  time.Time
	provenance mirrorsync.Origin
}

func newRow(t *table, key mirrorsync.Key) *row {
	return &row{
		key:      key,
		entity:   reflect.New(t.typ).Elem(),
		versions: map[string]fieldVersion{},
	}
}

// present returns the value of the Field at v (nil when Null or absent) and whether it is Set.
func present(v reflect.Value) (bool, any) {
	return v.Addr().Interface().(interface{ Present() (bool, any) }).Present()
}

// merge applies c to r. It reports nothing: r records what changed.
func (t *table) merge(r *row, c mirrorsync.Change, origin mirrorsync.Origin) {
	v := c.Version
	applied := false
	ch := reflect.ValueOf(c.Entity).Elem()
	var prev reflect.Value
	if c.Previous != nil {
		prev = reflect.ValueOf(c.Previous).Elem()
	}
	for _, col := range t.cols {
		set, val := present(ch.Field(col.field))
		if !set {
			continue
		}
		val = normalize(val)
		fv, known := r.versions[col.name]
		_, cur := present(r.entity.Field(col.field))
		var prevSet bool
		var prevVal any
		if prev.IsValid() {
			prevSet, prevVal = present(prev.Field(col.field))
			prevVal = normalize(prevVal)
		}
		same := sameValue(cur, val)
		if !wins(v, fv, same, origin) {
			continue
		}
		if prevSet && known && !sameValue(cur, prevVal) {
			r.driftFields = append(r.driftFields, col.name)
		}
		nv := ch.Field(col.field)
		if tm, ok := val.(time.Time); ok {
			nv = reflect.ValueOf(mirrorsync.Some(tm)) // rounded to what PostgreSQL keeps
		}
		r.entity.Field(col.field).Set(nv)
		r.versions[col.name] = fieldVersion{Version: v}
		applied = true
		r.changed = r.changed || !same
		if t.history[col.name] {
			switch {
			case known && !same:
				r.history = append(r.history, historyEntry{col.name, text(cur), text(val), v.At, origin})
			case !known && prevSet && !sameValue(prevVal, val):
				// First sight of the field, but the provider says what it was before (Bamboo).
				r.history = append(r.history, historyEntry{col.name, text(prevVal), text(val), v.At, origin})
			}
		}
	}
	if t.mergeDeleted(r, c, origin) {
		applied = true
	}
	for i, child := range t.children {
		if t.mergeChildren(r, c, origin, i, ch.Field(child.field)) {
			applied = true
		}
	}
	if mergeRaw(r, c, origin) {
		applied = true
	}
	if _, confirmed := r.versions[storeField]; !confirmed && !c.AnyStore && c.Key.StoreID != "" {
		r.versions[storeField] = fieldVersion{} // an event named the row's store (see stores.go)
		applied = true
	}
	if applied {
		r.dirty = true
		r.origin = origin
		if v.At.After(r.updatedAt) {
			r.updatedAt = v.At
		}
	}
}

// mergeDeleted treats deleted_at as one more field: a delete sets it to the delete's time, any
// other change clears it, and the newer of the two wins.
func (t *table) mergeDeleted(r *row, c mirrorsync.Change, origin mirrorsync.Origin) bool {
	v := c.Version
	fv := r.versions[deletedField]
	want := mirrorsync.Null[time.Time]()
	if c.Delete {
		want = mirrorsync.Some(normalize(v.At).(time.Time))
	}
	_, cur := present(reflect.ValueOf(&r.deletedAt).Elem())
	_, val := want.Present()
	same := sameValue(cur, val)
	if !wins(v, fv, same, origin) {
		return false
	}
	r.versions[deletedField] = fieldVersion{Version: v}
	if !same {
		r.changed = true
		r.deletedNow = c.Delete
	}
	r.deletedAt = want
	return true
}

// mergeChildren replaces child collection i when the change carries it and is not older.
func (t *table) mergeChildren(r *row, c mirrorsync.Change, origin mirrorsync.Origin, i int, many reflect.Value) bool {
	child := &t.children[i]
	if !many.Field(child.set).Bool() {
		return false
	}
	v := c.Version
	name := child.name
	fv := r.versions[name]
	items := many.Field(child.items)
	h := hashJSON(items.Interface())
	if !wins(v, fv, h == fv.Hash, origin) {
		return false
	}
	r.versions[name] = fieldVersion{Version: v, Hash: h}
	if h != fv.Hash {
		if r.rewrite == nil {
			r.rewrite = map[int]reflect.Value{}
		}
		r.rewrite[i] = items
		r.changed = true
	}
	return true
}

// mergeRaw keeps raw, the latest provider object, order-independent like every other field:
// raw is the newest snapshot (a change that is not a Patch) with, over it, the keys of partial
// events newer than that snapshot, each key its own register ("raw.<key>" in versions). A newer
// snapshot supersedes the keys patched before it; keys patched after it stay.
func mergeRaw(r *row, c mirrorsync.Change, origin mirrorsync.Origin) bool {
	if len(c.Raw) == 0 {
		return false
	}
	v := c.Version
	snap := r.versions[rawField]
	if v.Compare(snap.Version) < 0 {
		return false // a newer snapshot already says everything this change could
	}
	if !c.Patch {
		h := hashBytes(c.Raw)
		if !wins(v, snap, h == snap.Hash, origin) {
			return false
		}
		r.versions[rawField] = fieldVersion{Version: v, Hash: h}
		r.rawSet, r.rawBase, r.rawKeep = true, c.Raw, nil
		for name, fv := range r.versions {
			k, ok := strings.CutPrefix(name, rawField+".")
			if !ok {
				continue
			}
			if fv.Compare(v) < 0 {
				delete(r.versions, name)
				delete(r.rawOver, k)
			} else if _, ok := r.rawOver[k]; !ok {
				r.rawKeep = append(r.rawKeep, k) // patched after this snapshot: keep the stored value
			}
		}
		sort.Strings(r.rawKeep)
		return true
	}
	var patch map[string]json.RawMessage
	if json.Unmarshal(c.Raw, &patch) != nil {
		return false
	}
	applied := false
	for k, val := range patch {
		name := rawField + "." + k
		fv := r.versions[name]
		h := hashBytes(val)
		if !wins(v, fv, h == fv.Hash, origin) {
			continue
		}
		r.versions[name] = fieldVersion{Version: v, Hash: h}
		if r.rawOver == nil {
			r.rawOver = map[string]json.RawMessage{}
		}
		r.rawOver[k] = val
		applied = true
	}
	r.rawSet = r.rawSet || applied
	return applied
}

// normalize brings a value to the precision the database keeps, so that comparing a value read
// back with the one an event carries says whether anything changed: PostgreSQL keeps microseconds.
func normalize(v any) any {
	if t, ok := v.(time.Time); ok {
		return toMicros(t)
	}
	return v
}

// toMicros rounds t to the microsecond as PostgreSQL does (half to even), in UTC.
func toMicros(t time.Time) time.Time {
	base := t.Truncate(time.Microsecond)
	rest := t.Sub(base)
	if rest > 500*time.Nanosecond || (rest == 500*time.Nanosecond && (base.Nanosecond()/1000)%2 == 1) {
		base = base.Add(time.Microsecond)
	}
	return base.UTC()
}

func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		return ok && x.Equal(y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

// text renders a value for mirror.product_changes; nil stays NULL.
func text(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case decimal.Decimal:
		s = x.String()
	case time.Time:
		s = x.UTC().Format(time.RFC3339Nano)
	default:
		s = fmt.Sprint(x)
	}
	return &s
}

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return hashBytes(b)
}

func hashBytes(b []byte) string {
	h := fnv.New64a()
	h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}

// fold merges a key's changes into its row, oldest first, so that history reads in order.
func (t *table) fold(r *row, changes []mirrorsync.Change, origin mirrorsync.Origin) {
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Version.Compare(changes[j].Version) < 0 })
	for _, c := range changes {
		t.merge(r, c, origin)
	}
}
