package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

var t0 = time.Date(2024, 12, 18, 14, 0, 0, 0, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func str(s string) *string { return &s }

func productChange(id string, at time.Time, seq int64, p *mirrorsync.Product) mirrorsync.Change {
	raw, _ := json.Marshal(map[string]any{"id": id, "at": at})
	return mirrorsync.Change{
		Key:     mirrorsync.Key{Source: "sticky", ExternalID: id},
		Version: mirrorsync.Version{At: at, Seq: seq},
		Entity:  p,
		Raw:     raw,
	}
}

func apply(t *testing.T, db *store.DB, changes ...mirrorsync.Change) mirrorsync.ApplyResult {
	t.Helper()
	res, err := db.ApplyChanges(context.Background(), mirrorsync.OriginWebhook, changes)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

type productRow struct {
	Name      *string          `db:"name"`
	Price     *decimal.Decimal `db:"price"`
	Stock     *int64           `db:"stock_quantity"`
	SKU       *string          `db:"sku"`
	DeletedAt *time.Time       `db:"deleted_at"`
	Updated   *time.Time       `db:"source_updated_at"`
	Origin    string           `db:"origin"`
	Raw       []byte           `db:"raw"`
}

func getProduct(t *testing.T, db *store.DB, id string) productRow {
	t.Helper()
	var r productRow
	err := db.SQL().Get(&r, `SELECT name, price, stock_quantity, sku, deleted_at, source_updated_at, origin, raw
		FROM mirror.products WHERE source = 'sticky' AND store_id = '' AND external_id = $1`, id)
	if err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return r
}

func TestApplySnapshotThenStaleSnapshot(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	newer := &mirrorsync.Product{Name: mirrorsync.Some("Laptop v2"), Price: mirrorsync.Some(dec("12.50")), SKU: mirrorsync.Some("L2"),
		Variants: mirrorsync.All([]mirrorsync.Variant{{ExternalID: "7", SKU: str("L2-blue"),
			Attributes: []mirrorsync.VariantAttribute{{AttributeName: str("color"), OptionName: str("blue")}}}})}
	older := &mirrorsync.Product{Name: mirrorsync.Some("Laptop v1"), Price: mirrorsync.Some(dec("10")), SKU: mirrorsync.Some("L1"),
		Variants: mirrorsync.All([]mirrorsync.Variant{{ExternalID: "8"}, {ExternalID: "9"}})}

	res := apply(t, db, productChange("49", t0.Add(time.Hour), 2, newer))
	if res.Created != 1 {
		t.Fatalf("first snapshot: got %+v, want 1 created", res)
	}
	res = apply(t, db, productChange("49", t0, 3, older))
	if res.Unchanged != 1 || res.Updated != 0 {
		t.Fatalf("stale snapshot: got %+v, want 1 unchanged", res)
	}
	got := getProduct(t, db, "49")
	if *got.Name != "Laptop v2" || !got.Price.Equal(dec("12.5")) || *got.SKU != "L2" {
		t.Errorf("stale snapshot changed the row: name %q price %s sku %q", *got.Name, got.Price, *got.SKU)
	}
	if !got.Updated.Equal(t0.Add(time.Hour)) {
		t.Errorf("source_updated_at = %v, want %v", got.Updated, t0.Add(time.Hour))
	}
	var variants []string
	if err := db.SQL().Select(&variants, `SELECT external_id FROM mirror.product_variants WHERE product_external_id = '49' ORDER BY position`); err != nil {
		t.Fatal(err)
	}
	if len(variants) != 1 || variants[0] != "7" {
		t.Errorf("variants = %v, want [7] (the newer snapshot's)", variants)
	}
	var attrs int
	storetest.Get(t, db, &attrs, `SELECT count(*) FROM mirror.variant_attributes WHERE product_external_id = '49' AND variant_external_id = '7' AND attribute_name = 'color' AND option_name = 'blue'`)
	if attrs != 1 {
		t.Errorf("variant attributes: got %d color=blue rows, want 1", attrs)
	}
}

func TestApplyPatchLeavesOtherFields(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	apply(t, db, productChange("1", t0, 1, &mirrorsync.Product{Name: mirrorsync.Some("Tea"), Price: mirrorsync.Some(dec("9.5")), SKU: mirrorsync.Some("T-1")}))
	patch := productChange("1", t0.Add(time.Minute), 2, &mirrorsync.Product{StockQuantity: mirrorsync.Some(int64(5))})
	patch.Patch = true
	patch.Raw = json.RawMessage(`{"stock":5}`)
	apply(t, db, patch)
	got := getProduct(t, db, "1")
	if *got.Name != "Tea" || !got.Price.Equal(dec("9.5")) || *got.SKU != "T-1" || got.Stock == nil || *got.Stock != 5 {
		t.Errorf("after patch: name %v price %v sku %v stock %v; want Tea 9.5 T-1 5", *got.Name, got.Price, *got.SKU, got.Stock)
	}
	var raw map[string]any
	if err := json.Unmarshal(got.Raw, &raw); err != nil {
		t.Fatalf("raw after patch: %v", err)
	}
	if raw["id"] != "1" || raw["stock"] != float64(5) {
		t.Errorf("raw after patch = %s, want the snapshot's keys with stock merged in", got.Raw)
	}
}

func TestApplyLatePartialFillsWhatNoNewerEventSaid(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	apply(t, db, productChange("1", t0.Add(time.Hour), 1, &mirrorsync.Product{Name: mirrorsync.Some("New name")}))
	// Older event: its name is stale, but nothing newer said anything about the price.
	apply(t, db, productChange("1", t0, 2, &mirrorsync.Product{Name: mirrorsync.Some("Old name"), Price: mirrorsync.Some(dec("3"))}))
	got := getProduct(t, db, "1")
	if *got.Name != "New name" {
		t.Errorf("name = %q, want the newer event's", *got.Name)
	}
	if got.Price == nil || !got.Price.Equal(dec("3")) {
		t.Errorf("price = %v, want 3 from the late event", got.Price)
	}
}

func TestApplyTiesGoToLaterReceived(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	apply(t, db,
		productChange("1", t0, 20, &mirrorsync.Product{Name: mirrorsync.Some("received second")}),
		productChange("1", t0, 10, &mirrorsync.Product{Name: mirrorsync.Some("received first")}))
	if got := getProduct(t, db, "1"); *got.Name != "received second" {
		t.Errorf("name = %q, want the later-received event's", *got.Name)
	}
	// And the same again across two batches, in the other order.
	apply(t, db, productChange("2", t0, 10, &mirrorsync.Product{Name: mirrorsync.Some("received first")}))
	apply(t, db, productChange("2", t0, 20, &mirrorsync.Product{Name: mirrorsync.Some("received second")}))
	if got := getProduct(t, db, "2"); *got.Name != "received second" {
		t.Errorf("name = %q, want the later-received event's", *got.Name)
	}
}

func deleteChange(id string, at time.Time, seq int64) mirrorsync.Change {
	return mirrorsync.Change{
		Key:     mirrorsync.Key{Source: "sticky", ExternalID: id},
		Version: mirrorsync.Version{At: at, Seq: seq},
		Entity:  &mirrorsync.Product{},
		Delete:  true,
	}
}

func TestApplyDeletes(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	// A delete older than the last update changes nothing.
	apply(t, db, productChange("1", t0.Add(time.Hour), 1, &mirrorsync.Product{Name: mirrorsync.Some("A")}))
	res := apply(t, db, deleteChange("1", t0, 2))
	if got := getProduct(t, db, "1"); got.DeletedAt != nil || res.Deleted != 0 {
		t.Errorf("stale delete: deleted_at = %v, result %+v; want NULL, nothing deleted", got.DeletedAt, res)
	}
	// A newer delete sets deleted_at to the delete's time.
	res = apply(t, db, deleteChange("1", t0.Add(2*time.Hour), 3))
	if got := getProduct(t, db, "1"); got.DeletedAt == nil || !got.DeletedAt.Equal(t0.Add(2*time.Hour)) || res.Deleted != 1 {
		t.Errorf("delete: deleted_at = %v, result %+v; want %v, 1 deleted", got.DeletedAt, res, t0.Add(2*time.Hour))
	}
	// An update older than the delete does not revive; a newer one does.
	apply(t, db, productChange("1", t0.Add(90*time.Minute), 4, &mirrorsync.Product{Name: mirrorsync.Some("B")}))
	if got := getProduct(t, db, "1"); got.DeletedAt == nil {
		t.Errorf("an update older than the delete revived the row")
	}
	apply(t, db, productChange("1", t0.Add(3*time.Hour), 5, &mirrorsync.Product{Name: mirrorsync.Some("C")}))
	if got := getProduct(t, db, "1"); got.DeletedAt != nil || *got.Name != "C" {
		t.Errorf("newer update: deleted_at = %v name %q; want NULL, C", got.DeletedAt, *got.Name)
	}
	// A delete of a row never seen leaves a tombstone, so that an older create arriving late stays deleted.
	apply(t, db, deleteChange("2", t0.Add(time.Hour), 6))
	apply(t, db, productChange("2", t0, 7, &mirrorsync.Product{Name: mirrorsync.Some("late create")}))
	if got := getProduct(t, db, "2"); got.DeletedAt == nil {
		t.Errorf("a create older than the delete revived the row")
	}
}

func TestReconcilePullOfUnchangedRowWritesNothing(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	p := &mirrorsync.Product{Name: mirrorsync.Some("A"), Price: mirrorsync.Some(dec("10.0000")), StockQuantity: mirrorsync.Null[int64](),
		Images: mirrorsync.All([]mirrorsync.Image{{URL: str("https://x/1.png")}})}
	apply(t, db, productChange("1", t0, 1, p))
	var xmin1, xmin2 string
	storetest.Get(t, db, &xmin1, `SELECT xmin::text FROM mirror.products WHERE external_id = '1'`)
	// A reconcile pull of the same provider version (received later, so with a newer seq).
	pulled := productChange("1", t0, 2, &mirrorsync.Product{Name: mirrorsync.Some("A"), Price: mirrorsync.Some(dec("10")), StockQuantity: mirrorsync.Null[int64](),
		Images: mirrorsync.All([]mirrorsync.Image{{URL: str("https://x/1.png")}})})
	res, err := db.ApplyChanges(context.Background(), mirrorsync.OriginReconcile, []mirrorsync.Change{pulled})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Get(t, db, &xmin2, `SELECT xmin::text FROM mirror.products WHERE external_id = '1'`)
	if res.Unchanged != 1 || xmin1 != xmin2 {
		t.Errorf("reconcile pull of an up-to-date row: result %+v, row rewritten %v; want unchanged and not rewritten", res, xmin1 != xmin2)
	}
}

// Three webhooks at one provider time, X then Y then X, arriving X, X, Y: the second X carries
// no new value, but its version must still be recorded, or the late Y would win.
func TestApplySameValueStillRecordsVersion(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	name := func(s string, seq int64) mirrorsync.Change {
		return productChange("1", t0, seq, &mirrorsync.Product{Name: mirrorsync.Some(s)})
	}
	apply(t, db, name("X", 10))
	apply(t, db, name("X", 30))
	apply(t, db, name("Y", 20))
	if got := getProduct(t, db, "1"); *got.Name != "X" {
		t.Errorf("name = %q, want X (the last received)", *got.Name)
	}
}

func TestApplyProductHistory(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	apply(t, db, productChange("1", t0, 1, &mirrorsync.Product{Name: mirrorsync.Some("A"), Price: mirrorsync.Some(dec("10")), StockQuantity: mirrorsync.Some(int64(3))}))
	apply(t, db, productChange("1", t0.Add(time.Hour), 2, &mirrorsync.Product{Name: mirrorsync.Some("A"), Price: mirrorsync.Some(dec("12")), StockQuantity: mirrorsync.Null[int64]()}))
	type change struct {
		Field string  `db:"field"`
		Old   *string `db:"old_value"`
		New   *string `db:"new_value"`
	}
	var got []change
	if err := db.SQL().Select(&got, `SELECT field, old_value, new_value FROM mirror.product_changes WHERE product_external_id = '1' ORDER BY field`); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Field != "price" || *got[0].Old != "10" || *got[0].New != "12" ||
		got[1].Field != "stock_quantity" || *got[1].Old != "3" || got[1].New != nil {
		t.Errorf("history = %+v, want price 10→12 and stock_quantity 3→NULL", got)
	}
}

func TestApplyDriftFlagsRefetch(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	apply(t, db, productChange("1", t0, 1, &mirrorsync.Product{Name: mirrorsync.Some("A"), PriceMin: mirrorsync.Some(dec("50"))}))
	// The provider says the price was 60 before this change: a change to 60 was never delivered.
	c := productChange("1", t0.Add(time.Hour), 2, &mirrorsync.Product{Name: mirrorsync.Some("A"), PriceMin: mirrorsync.Some(dec("70"))})
	c.Previous = &mirrorsync.Product{Name: mirrorsync.Some("A"), PriceMin: mirrorsync.Some(dec("60"))}
	res := apply(t, db, c)
	if len(res.Drifted) != 1 || res.Drifted[0].ExternalID != "1" {
		t.Errorf("drifted = %v, want product 1", res.Drifted)
	}
	var reason string
	if err := db.SQL().Get(&reason, `SELECT reason FROM sync.refetch WHERE source = 'sticky' AND entity = 'products' AND external_id = '1'`); err != nil {
		t.Fatalf("refetch flag: %v", err)
	}
	if reason != "drift: price_min" {
		t.Errorf("reason = %q, want drift: price_min", reason)
	}
	// No drift when the mirror holds what the provider says it was.
	c = productChange("2", t0.Add(time.Hour), 3, &mirrorsync.Product{PriceMin: mirrorsync.Some(dec("70"))})
	c.Previous = &mirrorsync.Product{PriceMin: mirrorsync.Some(dec("60"))}
	apply(t, db, productChange("2", t0, 1, &mirrorsync.Product{PriceMin: mirrorsync.Some(dec("60"))}))
	if res := apply(t, db, c); len(res.Drifted) != 0 {
		t.Errorf("drifted = %v, want none", res.Drifted)
	}
}

// A field version dated far ahead of now can only have been written, before clocks were
// checked, from a provider's bad clock: the next change of the field heals it.
func TestLegacyFutureVersionIsHealed(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	c := productChange("1", t0, 1, &mirrorsync.Product{Price: mirrorsync.Some(dec("5"))})
	apply(t, db, c)
	if _, err := db.SQL().Exec(`UPDATE mirror.products SET versions = jsonb_set(versions, '{price}', '"9999-01-01T00:00:00Z/1"')`); err != nil {
		t.Fatal(err)
	}
	apply(t, db, productChange("1", t0.Add(time.Minute), 2, &mirrorsync.Product{Price: mirrorsync.Some(dec("6"))}))
	var price string
	if err := db.SQL().Get(&price, `SELECT price::text FROM mirror.products`); err != nil {
		t.Fatal(err)
	}
	if price != "6" {
		t.Errorf("price = %s, want 6: a version dated 9999 must not freeze the field", price)
	}
}
