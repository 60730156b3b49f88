package stickyio_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/store/storetest"
	"github.com/storemirror/storemirror/webhooks/stickyio"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const (
	key    = "0123456789abcdefghijklmnopqrstuv"
	oldKey = "ZYXWVUTSRQPONMLKJIHGFEDCBA987654"
)

func newHarness(t *testing.T) *webhookstest.Harness {
	return webhookstest.One(t, "sticky")(stickyio.New(stickyio.Options{Name: "sticky", Secrets: []string{key, oldKey}}))
}

// fixture returns a testdata event, decoded (each call a fresh copy).
func fixture(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(webhookstest.Fixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// post encrypts the event with k and delivers it; it fails the test unless answered 200.
func post(t *testing.T, h *webhookstest.Harness, event map[string]any, k string) {
	t.Helper()
	plain, _ := json.Marshal(event)
	body, err := stickyio.Encrypt(plain, k)
	if err != nil {
		t.Fatal(err)
	}
	h.Deliver(t, "/webhooks/sticky", http.Header{"Content-Type": {"text/plain"}}, body)
}

type product struct {
	Kind          string           `db:"kind"`
	BundleType    *string          `db:"bundle_type"`
	Name          string           `db:"name"`
	SKU           string           `db:"sku"`
	Description   string           `db:"description"`
	VerticalName  *string          `db:"vertical_name"`
	CategoryID    *string          `db:"category_external_id"`
	CategoryName  *string          `db:"category_name"`
	MaxQuantity   *int64           `db:"max_quantity"`
	IsTaxable     bool             `db:"is_taxable"`
	TaxCode       *string          `db:"tax_code"`
	IsShippable   bool             `db:"is_shippable"`
	Price         decimal.Decimal  `db:"price"`
	CostOfGoods   *decimal.Decimal `db:"cost_of_goods"`
	RestockingFee *decimal.Decimal `db:"restocking_fee"`
	CreatedAt     *time.Time       `db:"provider_created_at"`
	UpdatedAt     time.Time        `db:"source_updated_at"`
	DeletedAt     *time.Time       `db:"deleted_at"`
	Origin        string           `db:"origin"`
	RawName       string           `db:"raw_name"`
}

func getProduct(t *testing.T, h *webhookstest.Harness, id string) product {
	t.Helper()
	var p product
	err := h.DB.SQL().Get(&p, `SELECT kind, bundle_type, name, sku, description, vertical_name, category_external_id,
		category_name, max_quantity, is_taxable, tax_code, is_shippable, price, cost_of_goods, restocking_fee,
		provider_created_at, source_updated_at, deleted_at, origin, raw->>'name' AS raw_name
		FROM mirror.products WHERE source = 'sticky' AND store_id = '' AND external_id = $1`, id)
	if err != nil {
		t.Fatalf("product %s: %v", id, err)
	}
	return p
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRegularProductCreated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, fixture(t, "product-created-regular"), key)
	if out := h.Drain(); len(out) != 1 || out[0].Status != "applied" {
		t.Fatalf("outcomes = %+v, want one applied", out)
	}
	p := getProduct(t, h, "49")
	want := product{
		Kind: "product", Name: "Laptop", SKU: "9360XPS13I", Description: "product description!",
		VerticalName: ptr("Art, Photo & Music"), CategoryID: ptr("5"), CategoryName: ptr("Magazine"),
		MaxQuantity: ptr(int64(10)), IsTaxable: true, TaxCode: ptr("123456ABC"), IsShippable: true,
		Price: decimal.RequireFromString("10"), CostOfGoods: ptr(decimal.Zero), RestockingFee: ptr(decimal.Zero),
		CreatedAt: ptr(utc("2024-12-18T00:36:56Z")), UpdatedAt: utc("2024-12-18T14:25:19Z"), Origin: "webhook", RawName: "Laptop",
	}
	if diff := compareProduct(p, want); diff != "" {
		t.Errorf("product 49: %s", diff)
	}
	if got := h.Column(t, `SELECT concat_ws('|', position, external_id, sku, price, stock_quantity, weight) FROM mirror.product_variants
		WHERE source = 'sticky' AND product_external_id = '49' ORDER BY position`); got != "0|7|9360XPS13|10|10|4" {
		t.Errorf("variants = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', variant_position, variant_external_id, position, attribute_name, option_name)
		FROM mirror.variant_attributes WHERE product_external_id = '49' ORDER BY variant_position, position`); got != "0|7|0|color|blue; 0|7|1|size|small" {
		t.Errorf("variant attributes = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', position, external_id, url, is_default) FROM mirror.product_images
		WHERE product_external_id = '49'`); got != "0|4|https://assets.qa1.sticky.io/images/originals/2024-12-18-09-00-00/0yQO0IdV6Qa0euFxtTESgpDb0j7lhWYuViydSbSy.png|f" {
		t.Errorf("images = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', external_id, name, token_key, value) FROM mirror.product_custom_fields
		WHERE product_external_id = '49'`); got != "1|custom field name here|test_product_field|custom field value here" {
		t.Errorf("custom fields = %q", got)
	}
}

func compareProduct(got, want product) string {
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		return "got  " + string(g) + "\nwant " + string(w)
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

func TestBundles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, fixture(t, "product-updated-prebuilt-bundle"), key)
	post(t, h, fixture(t, "product-created-custom-bundle"), key)
	h.Drain()
	p := getProduct(t, h, "17")
	if p.Kind != "bundle" || p.BundleType == nil || *p.BundleType != "Pre-built" || p.SKU != "9360XPSI3TB" {
		t.Errorf("pre-built bundle 17: kind %q bundle_type %v sku %q", p.Kind, p.BundleType, p.SKU)
	}
	if got := h.Column(t, `SELECT concat_ws('|', position, product_external_id, product_name, quantity) FROM mirror.bundle_items
		WHERE source = 'sticky' AND bundle_external_id = '17' ORDER BY position`); got != "0|15|Keyboard|1; 1|16|Mouse|1" {
		t.Errorf("bundle 17 items = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', position, product_external_id, product_name, coalesce(quantity::text, 'null')) FROM mirror.bundle_items
		WHERE source = 'sticky' AND bundle_external_id = '21' ORDER BY position`); got != "0|12|Phone|null; 1|16|Computer|null; 2|20|Mouse|null" {
		t.Errorf("bundle 21 items = %q", got)
	}
	// The pre-built example of the seed spells one key "Name"; it is still the item's name.
	post(t, h, fixture(t, "product-created-prebuilt-bundle"), key)
	h.Drain()
	if got := h.Column(t, `SELECT product_name FROM mirror.bundle_items WHERE bundle_external_id = '21' ORDER BY position`); got != "Mobile; Mobile01; Mobile02" {
		t.Errorf("bundle 21 items after a later-received snapshot of the same version = %q", got)
	}
}

func TestEverySeedExampleApplies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, name := range []string{"product-created-regular", "product-created-prebuilt-bundle", "product-created-custom-bundle",
		"product-updated-regular", "product-updated-prebuilt-bundle", "product-updated-custom-bundle", "product-deleted"} {
		post(t, h, fixture(t, name), key)
	}
	for _, o := range h.Drain() {
		if o.Status != "applied" {
			t.Errorf("%s: %s (%v)", o.DeliveryID, o.Status, o.Err)
		}
	}
	// Product 20: updated at 09:25:19-05:00, then deleted at 14:48:11 Eastern (19:48:11Z).
	p := getProduct(t, h, "20")
	if p.DeletedAt == nil || !p.DeletedAt.Equal(utc("2024-12-18T19:48:11Z")) || p.Name != "Laptop" {
		t.Errorf("product 20: deleted_at %v name %q; want 2024-12-18T19:48:11Z, Laptop", p.DeletedAt, p.Name)
	}
	if got := h.Column(t, `SELECT sku FROM mirror.product_variants WHERE product_external_id = '20'`); got != "9382829AJ1" {
		t.Errorf("product 20 variants = %q", got)
	}
	var n int
	storetest.Get(t, h.DB, &n, `SELECT count(*) FROM mirror.products WHERE source = 'sticky'`)
	if n != 4 {
		t.Errorf("%d products, want 4 (49, 21, 20, 17)", n)
	}
}

func TestOutOfOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	updated := fixture(t, "product-updated-regular") // product 20, updated_at 14:25:19Z
	deleted := fixture(t, "product-deleted")         // product 20, at 19:48:11Z

	// The delete arrives first; the older update must not revive the row.
	post(t, h, deleted, key)
	post(t, h, updated, key)
	h.Drain()
	if p := getProduct(t, h, "20"); p.DeletedAt == nil {
		t.Fatal("an update older than the delete revived the product")
	}
	// A newer update revives it.
	newer := fixture(t, "product-updated-regular")
	data := newer["data"].(map[string]any)
	data["id"] = "another-event"
	obj := data["object"].(map[string]any)
	obj["updated_at"] = "2024-12-18T16:00:00-05:00"
	obj["name"] = "Laptop 2"
	post(t, h, newer, key)
	h.Drain()
	if p := getProduct(t, h, "20"); p.DeletedAt != nil || p.Name != "Laptop 2" {
		t.Errorf("after a newer update: deleted_at %v name %q, want revived as Laptop 2", p.DeletedAt, p.Name)
	}
	// The original update, redelivered late, is older than what the mirror holds: nothing changes.
	older := fixture(t, "product-updated-regular")
	older["data"].(map[string]any)["id"] = "late-redelivery"
	post(t, h, older, key)
	h.Drain()
	if p := getProduct(t, h, "20"); p.Name != "Laptop 2" || !p.UpdatedAt.Equal(utc("2024-12-18T21:00:00Z")) {
		t.Errorf("after a stale snapshot: name %q updated %v, want Laptop 2 at 21:00Z", p.Name, p.UpdatedAt)
	}
}

func TestDuplicatesStoredOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ev := fixture(t, "product-created-regular")
	post(t, h, ev, key)
	post(t, h, ev, oldKey) // the same event again, encrypted anew (another IV, the rotated-out key)
	if evs := h.Events(); len(evs) != 1 || evs[0].DeliveryID != "3116862f-0656-4a07-9bfd-fb32e954d0cf" {
		t.Fatalf("stored %d events, want 1 with data.id as delivery id", len(evs))
	}
}

func TestWrongKeyRejected(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	plain, _ := json.Marshal(fixture(t, "product-created-regular"))
	body, _ := stickyio.Encrypt(plain, "wrongwrongwrongwrongwrongwrong12")
	if status, _ := h.Post("/webhooks/sticky", nil, body); status != http.StatusUnauthorized {
		t.Errorf("wrong key: %d, want 401", status)
	}
	if status, _ := h.Post("/webhooks/sticky", nil, plain); status != http.StatusUnauthorized {
		t.Errorf("unencrypted: %d, want 401", status)
	}
	if evs := h.Events(); len(evs) != 0 {
		t.Errorf("stored %d events, want none", len(evs))
	}
}

// The envelope's time is US Eastern: both sides of daylight saving, and both edges.
func TestEnvelopeTimeIsEastern(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct{ local, want string }{
		{"2024-01-15 12:00:00", "2024-01-15T17:00:00Z"}, // EST, -05:00
		{"2024-07-01 12:00:00", "2024-07-01T16:00:00Z"}, // EDT, -04:00
		{"2024-03-10 01:59:59", "2024-03-10T06:59:59Z"}, // last second of EST
		{"2024-03-10 03:00:00", "2024-03-10T07:00:00Z"}, // first second of EDT
		{"2024-03-10 02:30:00", "2024-03-10T06:30:00Z"}, // skipped by the clocks: read as EDT
		{"2024-11-03 01:30:00", "2024-11-03T05:30:00Z"}, // happens twice: the first (EDT) is taken
		{"2024-11-03 02:00:00", "2024-11-03T07:00:00Z"}, // EST again
	}
	for i, c := range cases {
		ev := fixture(t, "product-deleted")
		ev["time"] = c.local
		data := ev["data"].(map[string]any)
		data["id"] = c.local
		data["object"] = map[string]any{"id": 1000 + i}
		post(t, h, ev, key)
	}
	h.Drain()
	for i, c := range cases {
		var deletedAt time.Time
		if err := h.DB.SQL().Get(&deletedAt, `SELECT deleted_at FROM mirror.products WHERE source = 'sticky' AND external_id = $1`,
			strconv.Itoa(1000+i)); err != nil {
			t.Fatalf("%s: %v", c.local, err)
		}
		if !deletedAt.Equal(utc(c.want)) {
			t.Errorf("%s Eastern: deleted_at %s, want %s", c.local, deletedAt.UTC().Format(time.RFC3339), c.want)
		}
	}
}

// An event of a type the mirror does not take is known for what it is at receipt: it is stored
// as ignored, with its reason, and no worker ever claims it. An envelope of another shape is
// left for the decoder, which fails it when applying.
func TestUnmirroredTypeIgnoredAtReceipt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	offer := fixture(t, "product-updated-regular")
	offer["type"] = "offer.updated"
	post(t, h, offer, key)
	odd := fixture(t, "product-updated-regular")
	odd["type"] = 5
	odd["data"].(map[string]any)["id"] = "odd-type"
	post(t, h, odd, key)
	evs := h.Events()
	if len(evs) != 2 {
		t.Fatalf("stored %d events, want 2", len(evs))
	}
	if e := evs[0]; e.Status != "ignored" || e.Attempts != 0 || e.LastError == nil ||
		!strings.Contains(*e.LastError, `event type "offer.updated" is not mirrored`) {
		t.Errorf("offer.updated at receipt: %s after %d attempts (%v), want ignored, never claimed", e.Status, e.Attempts, e.LastError)
	}
	if e := evs[1]; e.Status != "pending" {
		t.Errorf("a numeric type at receipt: %s, want pending (the decoder's to judge)", e.Status)
	}
	h.Drain()
	evs = h.Events()
	if evs[0].Attempts != 0 {
		t.Errorf("the ignored event was claimed %d times, want never", evs[0].Attempts)
	}
	if evs[1].Status != "failed" {
		t.Errorf("a numeric type applied: %s, want failed", evs[1].Status)
	}
}
