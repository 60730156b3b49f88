package barecommerce_test

import (
	"testing"
)

// Envelope timestamps that make the order of events explicit.
const (
	t0 = "2024-01-15T10:30:00Z" // order.created
	t1 = "2024-01-15T10:31:00Z" // order.paid
	t2 = "2024-01-15T12:00:00Z" // a stale order.updated
	t3 = "2024-01-15T14:00:00Z" // order.fulfilled
)

// A partial event sets what it carries and leaves the rest: order.paid after order.created
// keeps the total and the items, and its data is merged into raw.
func TestPartialEventPatches(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	deliver(t, h,
		fixture(t, "order-created"),
		edit(t, "order-paid", map[string]any{"timestamp": t1, "storeId": "store_123", "data.paymentStatus": "captured"}))
	if got := row(t, h, `SELECT status, payment_status, total, placed_at, paid_at, source_updated_at,
		raw->>'paymentProvider', raw->'shippingAddress'->>'city', raw->>'paymentStatus', raw->>'paidAt'
		FROM mirror.orders WHERE store_id = 'store_123' AND external_id = 'order_abc'`); got !=
		"paid|captured|99.99|2024-01-15T10:30:00Z|2024-01-15T10:30:00Z|2024-01-15T10:31:00Z|stripe|Springfield|captured|2024-01-15T10:30:00Z" {
		t.Errorf("after order.paid: %s", got)
	}
	if got := rows(t, h, orderItems, "order_abc"); got != "store_123|1|prod_1|Product Title|null|1|99.99" {
		t.Errorf("items after order.paid = %q, want order.created's", got)
	}
}

// A key sent as null empties its column; a key not sent leaves it; a null items list leaves the
// items (the event did not load them).
func TestNullAndAbsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	deliver(t, h,
		edit(t, "order-created", map[string]any{"data.currency": "USD"}),
		edit(t, "order-updated", map[string]any{"timestamp": t1, "storeId": "store_123",
			"data.customerId": nil, "data.items": nil, "data.status": "paid"}))
	if got := row(t, h, `SELECT customer_external_id, currency, status, fulfilled_at, total FROM mirror.orders
		WHERE external_id = 'order_abc'`); got != "null|USD|paid|2024-01-15T14:00:00Z|99.99" {
		t.Errorf("after a null customerId: %s", got)
	}
	if got := rows(t, h, `SELECT title FROM mirror.order_items`); got != "Product Title" {
		t.Errorf("items after items: null = %q", got)
	}
	// An items list that is present replaces the whole collection.
	deliver(t, h, edit(t, "order-updated", map[string]any{"id": "evt_457", "timestamp": t2, "storeId": "store_123",
		"data.items": []any{
			map[string]any{"productId": "prod_2", "titleSnapshot": "Mug", "skuSnapshot": "MUG-1", "quantity": 2, "unitPrice": "12.50"},
			map[string]any{"productId": "prod_3", "titleSnapshot": "Tea", "quantity": 1, "unitPrice": 4},
		}}))
	if got := rows(t, h, orderItems, "order_abc"); got != "store_123|1|prod_2|Mug|MUG-1|2|12.5; store_123|2|prod_3|Tea|null|1|4" {
		t.Errorf("items after a new list = %q", got)
	}
}

// Events may arrive in any order; each field takes the newest event that set it.
func TestOutOfOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	at := func(ts string) map[string]any { return map[string]any{"timestamp": ts, "storeId": "store_123"} }
	deliver(t, h,
		fixture(t, "order-created"),        // t0: status paid, payment succeeded
		edit(t, "order-fulfilled", at(t3))) // t3: status fulfilled
	stale := edit(t, "order-updated", map[string]any{"timestamp": t2, "storeId": "store_123", "id": "evt_stale",
		"data.status": "paid", "data.fulfilledAt": nil})
	paid := edit(t, "order-paid", map[string]any{"timestamp": t1, "storeId": "store_123",
		"data.paymentStatus": "captured", "data.paidAt": "2024-01-15T10:31:00Z"})
	deliver(t, h, stale, paid) // both older than order.fulfilled, arriving after it

	// The stale update's status and fulfilledAt lose to order.fulfilled's; order.paid's fields
	// were set by no newer event, so they are applied.
	if got := row(t, h, `SELECT status, fulfilled_at, payment_status, paid_at, total, source_updated_at
		FROM mirror.orders WHERE store_id = 'store_123' AND external_id = 'order_abc'`); got !=
		"fulfilled|2024-01-15T14:00:00Z|captured|2024-01-15T10:31:00Z|99.99|2024-01-15T14:00:00Z" {
		t.Errorf("after late events: %s", got)
	}
	// Applied in the opposite order, the same events leave the same row.
	h2 := newHarness(t)
	deliver(t, h2, paid, stale, edit(t, "order-fulfilled", at(t3)), fixture(t, "order-created"))
	if got := row(t, h2, `SELECT status, fulfilled_at, payment_status, paid_at, total, source_updated_at
		FROM mirror.orders WHERE store_id = 'store_123' AND external_id = 'order_abc'`); got !=
		"fulfilled|2024-01-15T14:00:00Z|captured|2024-01-15T10:31:00Z|99.99|2024-01-15T14:00:00Z" {
		t.Errorf("reversed: %s", got)
	}
}

// data.updatedAt is the event's version even when the envelope says otherwise.
func TestUpdatedAtIsTheVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	deliver(t, h,
		edit(t, "product-updated", map[string]any{"timestamp": "2024-01-15T12:00:00Z"}), // updatedAt 11:00
		edit(t, "product-updated", map[string]any{"id": "evt_older", "timestamp": "2024-01-15T13:00:00Z",
			"data.updatedAt": "2024-01-15T10:00:00Z", "data.title": "Older Title", "data.sku": "SKU-1"}))
	if got := row(t, h, `SELECT name, sku, price, source_updated_at FROM mirror.products WHERE external_id = 'prod_123'`); got !=
		"Updated Product|SKU-1|34.99|2024-01-15T11:00:00Z" {
		t.Errorf("prod_123: %s", got)
	}
}

// order.refunded with a refundedAt of its own uses it; without, the event's time.
func TestRefundedAt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	deliver(t, h,
		edit(t, "order-refunded", map[string]any{"timestamp": t3}),
		edit(t, "order-refunded", map[string]any{"id": "evt_304", "timestamp": t2,
			"data.id": "order_def", "data.refundedAt": "2024-01-15T09:00:00+01:00", "data.amount": 5}))
	if got := rows(t, h, `SELECT external_id, refunded_at, refunded_amount, payment_status FROM mirror.orders ORDER BY external_id`); got !=
		"order_abc|2024-01-15T14:00:00Z|99.99|refunded; order_def|2024-01-15T08:00:00Z|5|refunded" {
		t.Errorf("refunds: %s", got)
	}
}

// Deletes are soft and dated by the event; an older update does not revive the row, a newer one does.
func TestSoftDeletes(t *testing.T) {
	t.Parallel()
	cases := []struct{ created, deleted, updated, id, query, kept string }{
		{"product-created", "product-deleted", "product-updated", "prod_123",
			`SELECT name, price, deleted_at FROM mirror.products WHERE external_id = $1`, "New Product|29.99"},
		{"customer-created", "customer-deleted", "customer-updated", "cust_123",
			`SELECT email, name, deleted_at FROM mirror.customers WHERE external_id = $1`, "customer@example.com|John Doe"},
		{"category-created", "category-deleted", "category-updated", "cat_123",
			`SELECT name, slug, deleted_at FROM mirror.categories WHERE external_id = $1`, "Summer Collection|summer-collection"},
		{"page-created", "page-created", "page-created", "page_123",
			`SELECT title, slug, deleted_at FROM mirror.pages WHERE external_id = $1`, "About Us|about-us"},
		{"media-created", "media-created", "media-created", "media_123",
			`SELECT url, file_size, deleted_at FROM mirror.media WHERE external_id = $1`, "https://cdn.example.com/image.jpg|256000"},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			h := newHarness(t)
			family := c.created[:len(c.created)-len("-created")]
			// The seed has no page.deleted or media.deleted example: the created one, retyped.
			deleted := edit(t, c.deleted, map[string]any{"type": family + ".deleted", "id": "evt_del", "timestamp": t2,
				"storeId": "store_xyz"})
			deliver(t, h, edit(t, c.created, map[string]any{"timestamp": t0, "storeId": "store_xyz"}), deleted)
			if got, want := row(t, h, c.query, c.id), c.kept+"|2024-01-15T12:00:00Z"; got != want {
				t.Fatalf("after delete: %s, want %s", got, want)
			}
			older := edit(t, c.updated, map[string]any{"type": family + ".updated", "id": "evt_old", "timestamp": t1,
				"storeId": "store_xyz", "data.updatedAt": nil})
			deliver(t, h, older)
			if got := row(t, h, `SELECT deleted_at FROM mirror.`+table(family)+` WHERE external_id = $1`, c.id); got != "2024-01-15T12:00:00Z" {
				t.Errorf("an update older than the delete: deleted_at %s", got)
			}
			newer := edit(t, c.updated, map[string]any{"type": family + ".updated", "id": "evt_new", "timestamp": t3,
				"storeId": "store_xyz", "data.updatedAt": nil})
			deliver(t, h, newer)
			if got := row(t, h, `SELECT deleted_at FROM mirror.`+table(family)+` WHERE external_id = $1`, c.id); got != "null" {
				t.Errorf("an update newer than the delete: deleted_at %s, want null", got)
			}
		})
	}
}

func table(family string) string {
	switch family {
	case "category":
		return "categories"
	case "media":
		return "media"
	}
	return family + "s"
}
