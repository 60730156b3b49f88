package canonical_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// Two events for p1 make one row with the newer values, whatever order they arrive in; an
// event for p1 leaves p2 as it was; a partial event sets only what it carries.
func TestProductEventsAreIncremental(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t0 := time.Now().Add(-3 * time.Minute).Truncate(time.Millisecond)
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute)
	p2 := `{"product":{"external_id":"p2","name":"Mug","price":12,"image_urls":["https://cdn.example.com/mug.jpg"]}}`
	newer := `{"event_id":"p1-v2","product":{"external_id":"p1","name":"Green tea","price":11.25,"sku":"T-1","stock":3,
		"image_urls":["https://cdn.example.com/green-1.jpg","https://cdn.example.com/green-2.jpg"]}}`
	older := `{"event_id":"p1-v1","product":{"external_id":"p1","name":"Tea","price":9.5,"sku":"T-0","stock":12,
		"image_urls":["https://cdn.example.com/tea.jpg"],"metadata":[{"key":"k","value":"v"}]}}`
	h.deliver(t, "product", []byte(p2), millis(t0))
	h.apply(t)
	before := h.product(t, "shop", "store_1", "p2")

	h.deliver(t, "product", []byte(newer), millis(t2)) // the newer arrives first
	h.deliver(t, "product", []byte(older), millis(t1))
	h.apply(t)
	if got := h.Column(t, `SELECT external_id FROM mirror.products ORDER BY external_id`); got != "p1; p2" {
		t.Fatalf("products = %q, want one row per external id", got)
	}
	same(t, "p1 after two events", h.product(t, "shop", "store_1", "p1"), productRow{
		Kind: ptr("product"), Name: ptr("Green tea"), Price: dec("11.25"), SKU: ptr("T-1"), Stock: ptr(int64(3)),
		UpdatedAt: &stamp{t2.UTC()}, Origin: "webhook",
	})
	if got := h.Column(t, `SELECT url FROM mirror.product_images WHERE product_external_id = 'p1' ORDER BY position`); got != "https://cdn.example.com/green-1.jpg; https://cdn.example.com/green-2.jpg" {
		t.Errorf("p1 images = %q, want the newer event's", got)
	}
	// Only the older event carried metadata, and no newer one said otherwise.
	if got := h.Column(t, `SELECT name || '=' || value FROM mirror.product_custom_fields WHERE product_external_id = 'p1'`); got != "k=v" {
		t.Errorf("p1 custom fields = %q", got)
	}
	same(t, "p2 after events for p1", h.product(t, "shop", "store_1", "p2"), before)
	if got := h.Column(t, `SELECT url FROM mirror.product_images WHERE product_external_id = 'p2'`); got != "https://cdn.example.com/mug.jpg" {
		t.Errorf("p2 images = %q", got)
	}

	// A price-only event: the name, sku, stock and images stay; an explicit null empties the stock.
	h.deliver(t, "product", []byte(`{"product":{"external_id":"p1","price":"10.00","stock":null}}`), millis(t2.Add(time.Second)))
	h.apply(t)
	p := h.product(t, "shop", "store_1", "p1")
	if p.Name == nil || *p.Name != "Green tea" || p.SKU == nil || *p.SKU != "T-1" || p.Stock != nil || p.Price.String() != "10" {
		t.Errorf("p1 after a partial event: name %v sku %v stock %v price %v; want Green tea, T-1, NULL, 10", p.Name, p.SKU, p.Stock, p.Price)
	}
	if got := h.Column(t, `SELECT count(*)::text FROM mirror.product_images WHERE product_external_id = 'p1'`); got != "2" {
		t.Errorf("p1 has %s images after an event without image_urls, want 2", got)
	}
	if got := h.Column(t, `SELECT (raw->>'name') || '|' || (raw->>'price') FROM mirror.products WHERE external_id = 'p1'`); got != "Green tea|10.00" {
		t.Errorf("p1 raw name|price = %q, want the patch merged over the newer snapshot", got)
	}
}

// updated_at, when the entity has it, orders events rather than the time they were sent.
func TestUpdatedAtIsTheVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	sent := time.Now().Add(-time.Minute)
	h.deliver(t, "product", []byte(`{"product":{"external_id":"p1","name":"New","updated_at":"2026-03-01T12:00:00+01:00"}}`), millis(sent))
	h.deliver(t, "product", []byte(`{"product":{"external_id":"p1","name":"Old","updated_at":"2026-03-01T10:00:00Z"}}`), millis(sent.Add(time.Second)))
	h.apply(t)
	p := h.product(t, "shop", "store_1", "p1")
	if *p.Name != "New" || !p.UpdatedAt.Equal(at("2026-03-01T11:00:00Z").Time) {
		t.Errorf("name %q source_updated_at %v; want New at 11:00Z", *p.Name, p.UpdatedAt)
	}
}

// A delete sets deleted_at to the delete event's time and keeps the row; a newer upsert revives it.
func TestProductDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t0 := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	h.deliver(t, "product", fixture(t, "product"), millis(t0))
	h.deliver(t, "product/delete", fixture(t, "product-delete"), millis(t0.Add(time.Minute)))
	h.apply(t)
	p := h.product(t, "shop", "store_1", "p1")
	if p.DeletedAt == nil || !p.DeletedAt.Equal(t0.Add(time.Minute)) || *p.Name != "Tea" {
		t.Fatalf("after delete: deleted_at %v name %q; want %v, Tea", p.DeletedAt, *p.Name, t0.Add(time.Minute).UTC())
	}
	if !h.rawIs(t, "products", "p1", entity(t, fixture(t, "product"), "product")) {
		t.Error("the delete replaced the product's raw object")
	}
	h.deliver(t, "product", []byte(`{"product":{"external_id":"p1","name":"Tea again"}}`), millis(t0.Add(90*time.Second)))
	h.apply(t)
	if p := h.product(t, "shop", "store_1", "p1"); p.DeletedAt != nil || *p.Name != "Tea again" {
		t.Errorf("after a newer upsert: deleted_at %v name %q; want revived", p.DeletedAt, *p.Name)
	}
}

// A fulfillment may come before its order: either way the same rows join on order_external_id.
func TestFulfillmentBeforeOrder(t *testing.T) {
	t.Parallel()
	const join = `SELECT concat_ws('|', o.store_id, o.external_id, o.order_number, o.status, f.external_id, f.type, f.status, f.tracking_number)
		FROM mirror.fulfillments f JOIN mirror.orders o
		ON o.source = f.source AND o.store_id = f.store_id AND o.external_id = f.order_external_id`
	now := time.Now().Add(-time.Minute)
	var got []string
	for _, first := range []string{"fulfillment", "order"} {
		h := newHarness(t)
		events := []string{"order", "fulfillment"}
		if first == "fulfillment" {
			events = []string{"fulfillment", "order"}
		}
		for i, ev := range events {
			h.deliver(t, ev, fixture(t, ev), millis(now.Add(time.Duration(i)*time.Second)))
			h.apply(t) // each applied before the next arrives
		}
		got = append(got, h.Column(t, join))
	}
	const want = "store_1|o1|1001|paid|f1|delivery|shipped|TN1"
	if got[0] != want || got[1] != want {
		t.Errorf("joined rows, fulfillment first: %q; order first: %q; want %q", got[0], got[1], want)
	}
}

// A fulfillment that does not say its type is a delivery; pickup is kept.
func TestFulfillmentType(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := millis(time.Now())
	h.deliver(t, "fulfillment", []byte(`{"fulfillment":{"fulfillment_external_id":"f1","order_external_id":"o1"}}`), now)
	h.deliver(t, "fulfillment", []byte(`{"fulfillment":{"fulfillment_external_id":"f2","type":null,"status":"ready"}}`), now)
	h.deliver(t, "fulfillment", []byte(`{"fulfillment":{"fulfillment_external_id":"f3","type":"pickup"}}`), now)
	h.apply(t)
	if got := h.Column(t, `SELECT external_id || '=' || type FROM mirror.fulfillments ORDER BY external_id`); got != "f1=delivery; f2=delivery; f3=pickup" {
		t.Errorf("types = %q", got)
	}
}

// customer_phone is kept as sent; customer_phone_e164 only when the number is international.
func TestCustomerPhone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct{ id, phone, e164 string }{
		{"o1", `"+1 (202) 555-0123"`, "+12025550123"},
		{"o2", `"+56 9 8765 4321"`, "+56987654321"},
		{"o3", `"56987654321"`, "NULL"}, // no +: no country to read it in
		{"o4", `"+1555010O"`, "NULL"},   // a letter O: not a possible number
		{"o5", `""`, "NULL"},
		{"o6", `null`, "NULL"},
	}
	now := millis(time.Now())
	for _, c := range cases {
		h.deliver(t, "order", []byte(`{"order":{"external_id":"`+c.id+`","customer":{"phone":`+c.phone+`}}}`), now)
		h.deliver(t, "checkout", []byte(`{"checkout":{"external_id":"`+c.id+`","customer":{"phone":`+c.phone+`}}}`), now)
	}
	h.apply(t)
	for _, table := range []string{"orders", "checkouts"} {
		var want []string
		for _, c := range cases {
			want = append(want, c.id+"|"+strings.Trim(strings.ReplaceAll(c.phone, "null", "NULL"), `"`)+"|"+c.e164)
		}
		got := h.Column(t, `SELECT concat_ws('|', external_id, coalesce(customer_phone, 'NULL'), coalesce(customer_phone_e164, 'NULL'))
			FROM mirror.`+table+` ORDER BY external_id`)
		if got != strings.Join(want, "; ") {
			t.Errorf("%s:\n got  %s\n want %s", table, got, strings.Join(want, "; "))
		}
	}
}

// A body of the right shape whose values have the wrong types is accepted (Verify checks the
// shape only) and then fails, the error naming the field.
func TestWrongTypesFail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := map[string]struct{ event, body string }{
		"product.price":               {"product", `{"product":{"external_id":"p1","price":"cheap"}}`},
		"product.stock":               {"product", `{"product":{"external_id":"p1","stock":1.5}}`},
		"product.image_urls[1]":       {"product", `{"product":{"external_id":"p1","image_urls":["https://a",{"u":1}]}}`},
		"product.updated_at":          {"product", `{"product":{"external_id":"p1","updated_at":"yesterday"}}`},
		"order.created_at":            {"order", `{"order":{"external_id":"o1","created_at":1767323045}}`},
		"order.items[0].quantity":     {"order", `{"order":{"external_id":"o1","items":[{"quantity":3000000000}]}}`},
		"checkout.customer.email":     {"checkout", `{"checkout":{"external_id":"c1","customer":{"email":true}}}`},
		"checkout.total_price":        {"checkout", `{"checkout":{"external_id":"c1","total_price":` + strings.Repeat("9", 65) + `}}`},
		"fulfillment.tracking_number": {"fulfillment", `{"fulfillment":{"fulfillment_external_id":"f1","tracking_number":["TN1"]}}`},
	}
	now := millis(time.Now())
	for _, c := range cases {
		h.deliver(t, c.event, []byte(c.body), now)
	}
	outcomes := h.Drain()
	if len(outcomes) != len(cases) {
		t.Fatalf("%d outcomes, want %d", len(outcomes), len(cases))
	}
	for field := range cases {
		found := false
		for _, o := range outcomes {
			found = found || o.Status == "failed" && o.Err != nil && strings.Contains(o.Err.Error(), field+":")
		}
		if !found {
			t.Errorf("no failed event names %s; outcomes: %+v", field, outcomes)
		}
	}
	if got := h.Column(t, `SELECT count(*)::text FROM mirror.products`); got != "0" {
		t.Errorf("%s products mirrored from failed events", got)
	}
}

// The default type never overrides a stated one, whatever the order of arrival.
func TestFulfillmentDefaultTypeNeverWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Now()
	stated := []byte(`{"fulfillment":{"fulfillment_external_id":"f1","type":"pickup","status":"ready"}}`)
	silent := []byte(`{"fulfillment":{"fulfillment_external_id":"f1","status":"picked_up"}}`)
	h.deliver(t, "fulfillment", stated, millis(now))
	h.apply(t)
	h.deliver(t, "fulfillment", silent, millis(now.Add(time.Second))) // a later status-only update
	h.apply(t)
	// And a status-only update received first, then the older event that states the type.
	h.deliver(t, "fulfillment", bytes.ReplaceAll(silent, []byte(`"f1"`), []byte(`"f2"`)), millis(now.Add(time.Second)))
	h.apply(t)
	h.deliver(t, "fulfillment", bytes.ReplaceAll(stated, []byte(`"f1"`), []byte(`"f2"`)), millis(now))
	h.apply(t)
	if got := h.Column(t, `SELECT external_id || '=' || type || '/' || status FROM mirror.fulfillments ORDER BY external_id`); got != "f1=pickup/picked_up; f2=pickup/picked_up" {
		t.Errorf("fulfillments = %q, want both pickup, picked_up", got)
	}
}
