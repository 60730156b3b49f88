package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The merge engine's rules, without a database: which change wins a field, how raw is kept,
// how versions are written down, and where a store-less change goes.

var (
	tm0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tm1 = tm0.Add(time.Minute)
)

func TestWins(t *testing.T) {
	stored := fieldVersion{Version: mirrorsync.Version{At: tm0, EventAt: tm0, Seq: 5}}
	cases := []struct {
		name   string
		v      mirrorsync.Version
		same   bool
		origin mirrorsync.Origin
		want   bool
	}{
		{"older, other value", mirrorsync.Version{At: tm0, EventAt: tm0, Seq: 4}, false, mirrorsync.OriginWebhook, false},
		{"newer, other value", mirrorsync.Version{At: tm1, Seq: 1}, false, mirrorsync.OriginWebhook, true},
		{"the same event again, other value (a fixed decoder)", stored.Version, false, mirrorsync.OriginReplay, true},
		{"the same event again, same value", stored.Version, true, mirrorsync.OriginReplay, false},
		{"newer, same value: the version is recorded", mirrorsync.Version{At: tm1, Seq: 1}, true, mirrorsync.OriginWebhook, true},
		{"a later event stamp, same value: recorded", mirrorsync.Version{At: tm0, EventAt: tm1, Seq: 1}, true, mirrorsync.OriginWebhook, true},
		{"a pull of the same provider time and value writes nothing",
			mirrorsync.Version{At: tm0, EventAt: tm1, Seq: 9, Pulled: true}, true, mirrorsync.OriginReconcile, false},
		{"a pull of the same provider time, other value",
			mirrorsync.Version{At: tm0, EventAt: tm1, Seq: 9, Pulled: true}, false, mirrorsync.OriginReconcile, true},
		{"a pull of a newer provider time, same value: recorded",
			mirrorsync.Version{At: tm1, EventAt: tm1, Seq: 9, Pulled: true}, true, mirrorsync.OriginReconcile, true},
	}
	for _, c := range cases {
		if got := wins(c.v, stored, c.same, c.origin); got != c.want {
			t.Errorf("%s: wins = %v, want %v", c.name, got, c.want)
		}
	}
	// An event versioned at its receipt is overtaken by a pull fetched after it was received,
	// though the pull's provider time is older.
	received := fieldVersion{Version: mirrorsync.Received(tm1)}
	received.Seq = 5
	pull := mirrorsync.Version{At: tm0, EventAt: tm1.Add(time.Second), Seq: 9, Pulled: true}
	if !wins(pull, received, false, mirrorsync.OriginReconcile) {
		t.Error("a pull fetched after a timeless event was received does not win its field")
	}
	if wins(mirrorsync.Version{At: tm0, EventAt: tm0, Seq: 9, Pulled: true}, received, false, mirrorsync.OriginReconcile) {
		t.Error("a pull fetched before a timeless event was received wins its field")
	}
}

func TestFieldVersionRoundTrip(t *testing.T) {
	cases := []fieldVersion{
		{Version: mirrorsync.Version{At: tm0, Seq: 1}},
		{Version: mirrorsync.Version{At: tm0, Seq: 2}, Hash: "abc"},
		{Version: mirrorsync.Version{At: tm0, EventAt: tm1.Add(123 * time.Nanosecond), Seq: 3}},
		{Version: mirrorsync.Version{At: tm0, EventAt: tm0, Seq: 4, Received: true}, Hash: "h"},
		{Version: mirrorsync.Version{At: tm0, EventAt: tm1, Seq: 5, Pulled: true}},
		{},
	}
	for _, fv := range cases {
		s := fv.String()
		got, err := parseFieldVersion(s)
		if err != nil {
			t.Errorf("parse %q: %v", s, err)
			continue
		}
		if !sameFieldVersion(got, fv) {
			t.Errorf("%q read back as %+v, want %+v", s, got, fv)
		}
	}
	// What earlier releases wrote still reads.
	for s, want := range map[string]fieldVersion{
		"2026-05-01T10:00:00Z/7":     {Version: mirrorsync.Version{At: tm0, Seq: 7}},
		"2026-05-01T10:00:00Z/7/xyz": {Version: mirrorsync.Version{At: tm0, Seq: 7}, Hash: "xyz"},
	} {
		got, err := parseFieldVersion(s)
		if err != nil || !reflect.DeepEqual(got.Version, want.Version) || got.Hash != want.Hash {
			t.Errorf("%q read as %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, bad := range []string{"", "2026-05-01T10:00:00Z", "x/1", "2026-05-01T10:00:00Z/x", "2026-05-01T10:00:00Z/1//bad", "2026-05-01T10:00:00Z/1///z"} {
		if _, err := parseFieldVersion(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// sameFieldVersion reports whether a and b hold the same instants, order, flags and hash.
func sameFieldVersion(a, b fieldVersion) bool {
	return a.At.Equal(b.At) && a.EventAt.Equal(b.EventAt) && a.Seq == b.Seq && a.Hash == b.Hash &&
		a.Received == b.Received && a.Pulled == b.Pulled
}

func TestVersionsShareTheCommonVersion(t *testing.T) {
	snapshot := mirrorsync.Version{At: tm0, EventAt: tm1.Add(7 * time.Microsecond), Seq: 41}
	later := mirrorsync.Version{At: tm1, EventAt: tm1, Seq: 42, Received: true}
	pulled := mirrorsync.Version{At: tm0, EventAt: tm1, Seq: 43, Pulled: true}
	vs := map[string]fieldVersion{
		"name": {Version: snapshot}, "sku": {Version: snapshot}, "price": {Version: snapshot},
		"product_variants": {Version: snapshot, Hash: "3q51awi3l86m"}, rawField: {Version: snapshot, Hash: "h2"},
		"status": {Version: later}, "stock_quantity": {Version: pulled, Hash: "p"},
	}
	for _, name := range []string{"kind", "description", "slug", "brand_name", "currency", "tax_code", "is_taxable",
		"is_shippable", "max_quantity", "category_name", "cost_of_goods", "restocking_fee", deletedField} {
		vs[name] = fieldVersion{Version: snapshot} // a snapshot sets most of a row's fields (a sticky.io product: 20)
	}
	enc := encodeVersions(vs)
	if enc[sharedVersionKey] != (fieldVersion{Version: snapshot}).String() {
		t.Fatalf("shared version %q, want the snapshot's %q", enc[sharedVersionKey], fieldVersion{Version: snapshot}.String())
	}
	for name, want := range map[string]string{"name": "@", "product_variants": "@/3q51awi3l86m", rawField: "@/h2",
		"status": vs["status"].String(), "stock_quantity": vs["stock_quantity"].String()} {
		if enc[name] != want {
			t.Errorf("%s written as %q, want %q", name, enc[name], want)
		}
	}
	b, err := json.Marshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fieldVersion{}
	if err := decodeVersions(b, got); err != nil {
		t.Fatalf("read back %s: %v", b, err)
	}
	if len(got) != len(vs) {
		t.Errorf("read back %d fields, want %d: %v", len(got), len(vs), got)
	}
	for name, fv := range vs {
		if g := got[name]; !sameFieldVersion(g, fv) {
			t.Errorf("%s read back as %+v, want %+v", name, g, fv)
		}
	}

	// The point of it: fields set by one change are written once.
	spelled := map[string]string{}
	for name, fv := range vs {
		spelled[name] = fv.String()
	}
	long, _ := json.Marshal(spelled)
	if len(b)*2 > len(long) {
		t.Errorf("versions take %d bytes, spelled out %d: want under half", len(b), len(long))
	}

	// Two versions each shared by two fields: the newer one is shared, whatever the map's order.
	tie := map[string]fieldVersion{"name": {Version: snapshot}, "sku": {Version: snapshot},
		"status": {Version: later}, "price": {Version: later}}
	for range 20 {
		if got := encodeVersions(tie)[sharedVersionKey]; got != (fieldVersion{Version: later}).String() {
			t.Fatalf("of two versions shared by two fields each, %q shared; want the newer, %q", got, fieldVersion{Version: later}.String())
		}
	}

	// Versions that differ in nothing but a nanosecond, the event time or a flag are not shared.
	near := map[string]fieldVersion{}
	for i, v := range []mirrorsync.Version{
		{At: tm0, EventAt: tm1, Seq: 7},
		{At: tm0.Add(time.Nanosecond), EventAt: tm1, Seq: 7},
		{At: tm0, EventAt: tm1.Add(time.Nanosecond), Seq: 7},
		{At: tm0, Seq: 7},
		{At: tm0, EventAt: tm1, Seq: 7, Received: true},
		{At: tm0, EventAt: tm1, Seq: 7, Pulled: true},
	} {
		for j := range 2 { // each twice, so that each could be the shared one
			near[fmt.Sprintf("f%d_%d", i, j)] = fieldVersion{Version: v}
		}
	}
	b, _ = json.Marshal(encodeVersions(near))
	back := map[string]fieldVersion{}
	if err := decodeVersions(b, back); err != nil {
		t.Fatalf("read back %s: %v", b, err)
	}
	for name, fv := range near {
		if g := back[name]; !sameFieldVersion(g, fv) {
			t.Errorf("%s read back as %+v, want %+v (written as %s)", name, g, fv, b)
		}
	}

	// No two fields share a version: nothing to share.
	if enc := encodeVersions(map[string]fieldVersion{"name": {Version: snapshot}, "sku": {Version: later}}); len(enc) != 2 {
		t.Errorf("distinct versions written as %v, want each spelled out", enc)
	}
}

func TestDecodeVersions(t *testing.T) {
	future := fieldVersion{Version: mirrorsync.Version{At: time.Now().Add(2 * mirrorsync.MaxClockLead), Seq: 3}}.String()
	for _, c := range []struct {
		name, stored string
		want         map[string]fieldVersion
	}{
		{"spelled out, as earlier releases wrote", `{"name": "2026-05-01T10:00:00Z/7", "images": "2026-05-01T10:00:00Z/7/xyz"}`,
			map[string]fieldVersion{"name": {Version: mirrorsync.Version{At: tm0, Seq: 7}},
				"images": {Version: mirrorsync.Version{At: tm0, Seq: 7}, Hash: "xyz"}}},
		{"a shared version too far ahead is forgotten for every field", `{"@": "` + future + `", "name": "@", "images": "@/h"}`,
			map[string]fieldVersion{"name": {Version: mirrorsync.Version{Seq: 3}}, "images": {Version: mirrorsync.Version{Seq: 3}, Hash: "h"}}},
	} {
		got := map[string]fieldVersion{}
		if err := decodeVersions([]byte(c.stored), got); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: read %+v, want %+v", c.name, got, c.want)
		}
	}
	if err := decodeVersions([]byte(`{"name": "@"}`), map[string]fieldVersion{}); err == nil {
		t.Error("a field naming a shared version that is not there was read")
	}
}

// rawOf merges changes, in order, into a new row of products and returns the raw it would write.
func rawOf(t *testing.T, changes ...mirrorsync.Change) map[string]any {
	t.Helper()
	tbl, err := tableOf(&mirrorsync.Product{})
	if err != nil {
		t.Fatal(err)
	}
	r := newRow(tbl, mirrorsync.Key{Source: "s", ExternalID: "1"})
	for _, c := range changes {
		mergeRaw(r, c, mirrorsync.OriginWebhook)
	}
	out := map[string]any{}
	if r.rawBase != nil {
		if err := json.Unmarshal(r.rawBase, &out); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range r.rawOver {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		out[k] = x
	}
	return out
}

func TestMergeRaw(t *testing.T) {
	snap := func(at time.Time, seq int64, raw string) mirrorsync.Change {
		return mirrorsync.Change{Version: mirrorsync.Version{At: at, Seq: seq}, Raw: json.RawMessage(raw)}
	}
	patch := func(at time.Time, seq int64, raw string) mirrorsync.Change {
		c := snap(at, seq, raw)
		c.Patch = true
		return c
	}
	cases := []struct {
		name    string
		changes []mirrorsync.Change
		want    string
	}{
		{"a snapshot is the raw", []mirrorsync.Change{snap(tm0, 1, `{"a":1,"b":2}`)}, `{"a":1,"b":2}`},
		{"a newer patch sets its keys over it", []mirrorsync.Change{snap(tm0, 1, `{"a":1,"b":2}`), patch(tm1, 2, `{"b":3}`)}, `{"a":1,"b":3}`},
		{"an older patch changes nothing", []mirrorsync.Change{snap(tm1, 2, `{"a":1,"b":2}`), patch(tm0, 1, `{"b":3}`)}, `{"a":1,"b":2}`},
		{"patch, then an older snapshot: the patched key stays", []mirrorsync.Change{patch(tm1, 2, `{"b":3}`), snap(tm0, 1, `{"a":1,"b":2}`)}, `{"a":1,"b":3}`},
		{"a newer snapshot supersedes older patches", []mirrorsync.Change{patch(tm0, 1, `{"b":3}`), snap(tm1, 2, `{"a":1,"b":2}`)}, `{"a":1,"b":2}`},
		{"patches of one key: the newer wins in any order", []mirrorsync.Change{patch(tm1, 2, `{"b":9}`), patch(tm0, 1, `{"b":3}`)}, `{"b":9}`},
	}
	for _, c := range cases {
		got, _ := json.Marshal(rawOf(t, c.changes...))
		var want any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatalf("%s: want: %v", c.name, err)
		}
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("%s: raw = %s, want %s", c.name, got, w)
		}
	}
}

func TestPickStore(t *testing.T) {
	cases := []struct {
		name string
		def  string
		rows []storeRow
		want string
		ok   bool
	}{
		{"no row yet: the default", "d", nil, "d", true},
		{"a row in the default store", "d", []storeRow{{StoreID: "a"}, {StoreID: "d"}}, "d", true},
		// A provisional row in the default store beside its resource's confirmed row (a split
		// left by an earlier release): the confirmed row is the resource's.
		{"the confirmed row beats a provisional one in the default store", "", []storeRow{{StoreID: ""}, {StoreID: "s1", Confirmed: true}}, "s1", true},
		{"several confirmed, one in the default store", "a", []storeRow{{StoreID: "a", Confirmed: true}, {StoreID: "b", Confirmed: true}}, "a", true},
		{"the one row elsewhere", "", []storeRow{{StoreID: "s1", Confirmed: true}}, "s1", true},
		{"the one unconfirmed row elsewhere", "", []storeRow{{StoreID: "s1"}}, "s1", true},
		{"the one confirmed row among several", "", []storeRow{{StoreID: "a"}, {StoreID: "b", Confirmed: true}}, "b", true},
		{"several confirmed rows: cannot tell", "", []storeRow{{StoreID: "a", Confirmed: true}, {StoreID: "b", Confirmed: true}}, "", false},
	}
	for _, c := range cases {
		got, ok := pickStore(c.def, c.rows)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: pickStore = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestAdoptable(t *testing.T) {
	cases := []struct {
		name  string
		store string
		rows  []storeRow
		want  string
		ok    bool
	}{
		{"no row anywhere", "s1", nil, "", false},
		{"a row in the named store already", "s1", []storeRow{{StoreID: ""}, {StoreID: "s1", Confirmed: true}}, "", false},
		{"an unconfirmed row elsewhere is adopted", "s1", []storeRow{{StoreID: ""}}, "", true},
		{"a confirmed row elsewhere is another store's resource", "s1", []storeRow{{StoreID: "s2", Confirmed: true}}, "", false},
	}
	for _, c := range cases {
		got, ok := adoptable(c.store, c.rows)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: adoptable = %q, %v; want %q, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// The entities are described by name and tag, never by the position of a field in
// mirrorsync.Field or mirrorsync.Many.
func TestDescribe(t *testing.T) {
	tbl, err := tableOf(&mirrorsync.Product{})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, c := range tbl.cols {
		types[c.name] = c.sqlType
	}
	for col, want := range map[string]string{"name": "text", "price": "numeric", "stock_quantity": "bigint", "is_taxable": "boolean", "provider_created_at": "timestamptz"} {
		if types[col] != want {
			t.Errorf("products.%s: type %q, want %q", col, types[col], want)
		}
	}
	var history []string
	for _, c := range tbl.cols {
		if tbl.history[c.name] {
			history = append(history, c.name)
		}
	}
	if want := []string{"name", "sku", "status", "price", "price_min", "price_max", "min_face_value", "max_face_value", "stock_quantity"}; !reflect.DeepEqual(history, want) {
		t.Errorf("history columns = %v, want %v", history, want)
	}
	if tbl.historyTable != "product_changes" || tbl.historyParent != "product_external_id" {
		t.Errorf("history table = %s.%s", tbl.historyTable, tbl.historyParent)
	}
	var children []string
	for _, c := range tbl.children {
		children = append(children, c.name)
	}
	if want := []string{"product_variants", "bundle_items", "product_images", "product_custom_fields"}; !reflect.DeepEqual(children, want) {
		t.Errorf("children = %v, want %v", children, want)
	}
	if _, err := describe(&notAnEntity{}); err == nil {
		t.Error("a db column that is not a mirrorsync.Field was accepted")
	}
}

type notAnEntity struct {
	Name string `db:"name"`
}

func (*notAnEntity) Table() string { return "nope" }
