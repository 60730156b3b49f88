package canonical_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

type productRow struct {
	Kind        *string          `db:"kind"`
	Name        *string          `db:"name"`
	Description *string          `db:"description"`
	Price       *decimal.Decimal `db:"price"`
	Currency    *string          `db:"currency"`
	SKU         *string          `db:"sku"`
	Stock       *int64           `db:"stock_quantity"`
	UpdatedAt   *stamp           `db:"source_updated_at"`
	DeletedAt   *stamp           `db:"deleted_at"`
	Origin      string           `db:"origin"`
}

func (h *harness) product(t *testing.T, source, store, id string) productRow {
	t.Helper()
	var p productRow
	if err := h.DB.SQL().Get(&p, `SELECT kind, name, description, price, currency, sku, stock_quantity,
		source_updated_at, deleted_at, origin FROM mirror.products
		WHERE source = $1 AND store_id = $2 AND external_id = $3`, source, store, id); err != nil {
		t.Fatalf("product %s/%s/%s: %v", source, store, id, err)
	}
	return p
}

type orderRow struct {
	OrderNumber   *string          `db:"order_number"`
	Status        *string          `db:"status"`
	PaymentStatus *string          `db:"payment_status"`
	Currency      *string          `db:"currency"`
	Total         *decimal.Decimal `db:"total"`
	PlacedAt      *stamp           `db:"placed_at"`
	Phone         *string          `db:"customer_phone"`
	PhoneE164     *string          `db:"customer_phone_e164"`
	Email         *string          `db:"customer_email"`
	Name          *string          `db:"customer_name"`
	CustomerID    *string          `db:"customer_external_id"`
	UpdatedAt     *stamp           `db:"source_updated_at"`
}

func (h *harness) order(t *testing.T, store, id string) orderRow {
	t.Helper()
	var o orderRow
	if err := h.DB.SQL().Get(&o, `SELECT order_number, status, payment_status, currency, total, placed_at,
		customer_phone, customer_phone_e164, customer_email, customer_name, customer_external_id, source_updated_at
		FROM mirror.orders WHERE source = 'shop' AND store_id = $1 AND external_id = $2`, store, id); err != nil {
		t.Fatalf("order %s/%s: %v", store, id, err)
	}
	return o
}

// rawIs reports whether the row's raw column holds exactly the JSON object want.
func (h *harness) rawIs(t *testing.T, table, id, want string) bool {
	t.Helper()
	var ok bool
	if err := h.DB.SQL().Get(&ok, `SELECT raw = $2::jsonb FROM mirror.`+table+` WHERE external_id = $1`, id, want); err != nil {
		t.Fatalf("%s %s raw: %v", table, id, err)
	}
	return ok
}

// The examples of docs/reference/canonical.md, signed with millisecond and with second timestamps.
func TestContractExamples(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	product, order := fixture(t, "product"), fixture(t, "order")
	checkout, fulfillment := fixture(t, "checkout"), fixture(t, "fulfillment")
	h.deliver(t, "product", product, millis(now))
	h.deliver(t, "order", order, seconds(now))
	h.deliver(t, "checkout", checkout, millis(now))
	h.deliver(t, "fulfillment", fulfillment, seconds(now))
	h.apply(t)

	same(t, "product p1", h.product(t, "shop", "store_1", "p1"), productRow{
		Kind: ptr("product"), Name: ptr("Tea"), Description: ptr(""), Price: dec("9.5"), Currency: ptr("USD"),
		SKU: ptr("T-1"), Stock: ptr(int64(12)), UpdatedAt: &stamp{now.UTC()}, Origin: "webhook",
	})
	if got := h.Column(t, `SELECT concat_ws('|', position, url, coalesce(is_default::text, 'null')) FROM mirror.product_images
		WHERE source = 'shop' AND store_id = 'store_1' AND product_external_id = 'p1' ORDER BY position`); got != "0|https://cdn.example.com/tea.jpg|null" {
		t.Errorf("p1 images = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', position, name, token_key, value) FROM mirror.product_custom_fields
		WHERE source = 'shop' AND store_id = 'store_1' AND product_external_id = 'p1' ORDER BY position`); got != "0|k|k|v" {
		t.Errorf("p1 custom fields = %q", got)
	}
	// Orders, checkouts and fulfillments name no store: store_1 is the source's only one.
	same(t, "order o1", h.order(t, "store_1", "o1"), orderRow{
		OrderNumber: ptr("1001"), Status: ptr("paid"), Currency: ptr("USD"), Total: dec("19"),
		PlacedAt: at("2026-01-02T03:04:05Z"), Phone: ptr("+15550100"), PhoneE164: ptr("+15550100"), Email: ptr("a@b.c"),
		Name: ptr("A"), UpdatedAt: &stamp{now.Truncate(time.Second).UTC()},
	})
	if got := h.Column(t, `SELECT concat_ws('|', line_no, product_external_id, title, coalesce(sku, 'null'), quantity, unit_price)
		FROM mirror.order_items WHERE source = 'shop' AND store_id = 'store_1' AND order_external_id = 'o1' ORDER BY line_no`); got != "1|p1|Tea|null|2|9.5" {
		t.Errorf("o1 items = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', store_id, customer_phone, customer_phone_e164, customer_email, recover_url, total, currency)
		FROM mirror.checkouts WHERE source = 'shop' AND external_id = 'c1'`); got != "store_1|+15550100|+15550100|a@b.c|https://shop.example.com/checkouts/c1/recover|19|USD" {
		t.Errorf("checkout c1 = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', line_no, product_external_id, title, quantity, unit_price)
		FROM mirror.checkout_items WHERE source = 'shop' AND checkout_external_id = 'c1' ORDER BY line_no`); got != "1|p1|Tea|2|9.5" {
		t.Errorf("c1 items = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', store_id, external_id, order_external_id, type, status, tracking_number)
		FROM mirror.fulfillments WHERE source = 'shop'`); got != "store_1|f1|o1|delivery|shipped|TN1" {
		t.Errorf("fulfillments = %q", got)
	}
	for _, c := range []struct{ table, id, key string }{
		{"products", "p1", "product"}, {"orders", "o1", "order"}, {"checkouts", "c1", "checkout"}, {"fulfillments", "f1", "fulfillment"},
	} {
		body := map[string][]byte{"product": product, "order": order, "checkout": checkout, "fulfillment": fulfillment}[c.key]
		if !h.rawIs(t, c.table, c.id, entity(t, body, c.key)) {
			t.Errorf("%s %s: raw is not the %s object as sent", c.table, c.id, c.key)
		}
	}
}

// Vambe's documented product upsert, to a source that takes any store.
func TestVambeProductUpsert(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Now().Truncate(time.Millisecond)
	body := fixture(t, "product-vambe")
	if status, msg := h.post("any", "product", body, millis(now)); status != 200 {
		t.Fatalf("answered %d %s", status, msg)
	}
	h.apply(t)
	same(t, "product sku-100", h.product(t, "any", "store_12345", "sku-100"), productRow{
		Kind: ptr("product"), Name: ptr("Café de grano 1 kg"), Description: ptr(""), Price: dec("1"), Currency: ptr("CLP"),
		SKU: ptr("CAF-1KG"), UpdatedAt: &stamp{now.UTC()}, Origin: "webhook",
	})
	if got := h.Column(t, `SELECT concat_ws('|', position, url) FROM mirror.product_images WHERE source = 'any'
		AND store_id = 'store_12345' AND product_external_id = 'sku-100' ORDER BY position`); got != "0|https://cdn.example.com/cafe-1.jpg; 1|https://cdn.example.com/cafe-2.jpg" {
		t.Errorf("images = %q", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', position, name, token_key, value) FROM mirror.product_custom_fields WHERE source = 'any'
		AND product_external_id = 'sku-100' ORDER BY position`); got != "0|origen|origen|Colombia; 1|tueste|tueste|medio" {
		t.Errorf("custom fields = %q", got)
	}
	// file_url has no column: it is kept in raw.
	if got := h.Column(t, `SELECT raw->>'file_url' FROM mirror.products WHERE source = 'any'`); got != "https://cdn.example.com/files/cafe.pdf" {
		t.Errorf("raw file_url = %q", got)
	}
}

// An order with every field, its time in updated_at, numbers sent as strings and as numbers.
func TestOrderWithEveryField(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deliver(t, "order", fixture(t, "order-full"), millis(time.Now()))
	h.apply(t)
	same(t, "order o2", h.order(t, "store_1", "o2"), orderRow{
		OrderNumber: ptr("1002"), Status: ptr("created"), PaymentStatus: ptr("pending"), Currency: ptr("MXN"),
		Total: dec("1234.50"), PlacedAt: at("2026-01-02T16:00:00Z"), Phone: ptr("+52 55 1234 5678"),
		PhoneE164: ptr("+525512345678"), Email: ptr("cliente@example.mx"), Name: ptr("Cliente"), CustomerID: ptr("cust-9"),
		UpdatedAt: at("2026-01-02T16:05:00.25Z"),
	})
	if got := h.Column(t, `SELECT concat_ws('|', line_no, product_external_id, title, sku, quantity, unit_price)
		FROM mirror.order_items WHERE source = 'shop' AND order_external_id = 'o2' ORDER BY line_no`); got != "1|p1|Tea|T-1|3|9.5; 2|p2|Mug|4455|1|1206" {
		t.Errorf("o2 items = %q", got)
	}
}
