package barecommerce_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const (
	secret    = "whsec_current_secret_0001"
	oldSecret = "whsec_retired_secret_0002"
)

// defaultStore is the harness source's store for deliveries that name none (the store of the
// seed's order.created: the seed's later order examples name no store).
const defaultStore = "store_123"

func newHarness(t *testing.T) *webhookstest.Harness {
	t.Helper()
	return newHarnessFor(t, defaultStore)
}

// newHarnessFor is newHarness with storeID as the source's default store.
func newHarnessFor(t *testing.T, storeID string) *webhookstest.Harness {
	t.Helper()
	return webhookstest.One(t, "bc")(barecommerce.New(barecommerce.Options{Name: "bc", Secrets: []string{secret, oldSecret}, StoreID: storeID}))
}

// fixture returns a seed example as stored under testdata, byte for byte.
var fixture = webhookstest.Fixture

// edit returns the fixture with changes applied to its envelope (and to data through the "data."
// prefix), re-encoded.
func edit(t testing.TB, name string, changes map[string]any) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	data := ev["data"].(map[string]any)
	for k, v := range changes {
		if dk, ok := strings.CutPrefix(k, "data."); ok {
			data[dk] = v
		} else {
			ev[k] = v
		}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post delivers body signed with secret and fails the test unless it is answered 200.
func post(t testing.TB, h *webhookstest.Harness, body []byte) {
	t.Helper()
	h.Deliver(t, "/webhooks/bc", http.Header{barecommerce.SignatureHeader: {barecommerce.Sign(body, secret)}}, body)
}

// deliver posts each body and applies it before the next, so that they arrive in this order,
// and fails the test unless each is a new delivery and applied.
func deliver(t testing.TB, h *webhookstest.Harness, bodies ...[]byte) {
	t.Helper()
	for _, b := range bodies {
		post(t, h, b)
		out := h.Drain()
		if len(out) != 1 {
			t.Fatalf("%d events applied, want 1 (a repeated delivery id?): %s", len(out), b)
		}
		if o := out[0]; o.Status != "applied" {
			t.Fatalf("%s (%s): %s: %v", o.DeliveryID, o.Type, o.Status, o.Err)
		}
	}
}

// rows runs a query and renders its result: columns joined by "|" (NULL as "null", times in UTC
// RFC 3339), rows by "; ".
func rows(t testing.TB, h *webhookstest.Harness, query string, args ...any) string {
	t.Helper()
	return dbRows(t, h.DB, query, args...)
}

// dbRows is rows on a database of the test's own.
func dbRows(t testing.TB, db *store.DB, query string, args ...any) string {
	t.Helper()
	rs, err := db.SQL().Queryx(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals, err := rs.SliceScan()
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		cols := make([]string, len(vals))
		for i, v := range vals {
			cols[i] = render(v)
		}
		out = append(out, strings.Join(cols, "|"))
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(out, "; ")
}

// row is rows for a query that must find one row.
func row(t testing.TB, h *webhookstest.Harness, query string, args ...any) string {
	t.Helper()
	got := rows(t, h, query, args...)
	if got == "" {
		t.Fatalf("%s %v: no row", query, args)
	}
	return got
}

func render(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

const (
	orderCols = `SELECT store_id, order_number, customer_external_id, status, payment_status, currency, total,
		placed_at, paid_at, fulfilled_at, cancelled_at, refunded_at, refunded_amount, refund_reason, deleted_at, origin
		FROM mirror.orders WHERE source = 'bc' AND external_id = $1`
	orderItems = `SELECT store_id, line_no, product_external_id, title, sku, quantity, unit_price
		FROM mirror.order_items WHERE source = 'bc' AND order_external_id = $1 ORDER BY line_no`
	productCols = `SELECT store_id, kind, name, slug, sku, status, description, currency, price, stock_quantity,
		provider_created_at, deleted_at FROM mirror.products WHERE source = 'bc' AND external_id = $1`
	customerCols = `SELECT store_id, email, name, phone, deleted_at FROM mirror.customers WHERE source = 'bc' AND external_id = $1`
	categoryCols = `SELECT store_id, name, slug, description, status, parent_external_id, deleted_at
		FROM mirror.categories WHERE source = 'bc' AND external_id = $1`
	pageCols  = `SELECT store_id, title, slug, status, deleted_at FROM mirror.pages WHERE source = 'bc' AND external_id = $1`
	mediaCols = `SELECT store_id, url, filename, mime_type, width, height, file_size, deleted_at
		FROM mirror.media WHERE source = 'bc' AND external_id = $1`
)

// Every example of the seed, delivered alone: the row it makes, column by column.
func TestSeedExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture, query, id, want string
		// extra is a further query on the same row and what it returns
		extra, extraWant string
	}{
		{"envelope", orderCols, "resource_id",
			"store_xyz|null|null|null|null|null|null|null|null|null|null|null|null|null|null|webhook", "", ""},
		{"order-created", orderCols, "order_abc",
			"store_123|ORD-000001|cust_xyz|paid|succeeded|null|99.99|2024-01-15T10:30:00Z|null|null|null|null|null|null|null|webhook",
			orderItems, "store_123|1|prod_1|Product Title|null|1|99.99"},
		{"order-updated", orderCols, "order_abc",
			"store_123|ORD-000001|null|fulfilled|null|null|null|null|null|2024-01-15T14:00:00Z|null|null|null|null|null|webhook",
			orderItems, ""},
		{"order-paid", orderCols, "order_abc",
			"store_123|ORD-000001|null|null|succeeded|null|null|null|2024-01-15T10:30:00Z|null|null|null|null|null|null|webhook", "", ""},
		{"order-fulfilled", orderCols, "order_abc",
			"store_123|ORD-000001|null|fulfilled|null|null|null|null|null|2024-01-15T14:00:00Z|null|null|null|null|null|webhook", "", ""},
		{"order-cancelled", orderCols, "order_abc",
			"store_123|ORD-000001|null|cancelled|null|null|null|null|null|null|2024-01-15T11:00:00Z|null|null|null|null|webhook", "", ""},
		// refunded_at: the example has no time at all, so the refund is dated when it was received.
		{"order-refunded", `SELECT store_id, order_number, status, payment_status, refunded_amount, refund_reason,
			refunded_at = (SELECT received_at FROM sync.webhook_events WHERE delivery_id = 'evt_303'),
			source_updated_at = refunded_at FROM mirror.orders WHERE source = 'bc' AND external_id = $1`, "order_abc",
			"store_123|ORD-000001|null|refunded|99.99|Customer requested|true|true", "", ""},
		// The example's store is named in data only.
		{"product-created", productCols, "prod_123",
			"store_xyz|product|New Product|new-product|null|published|null|null|29.99|null|2024-01-15T10:00:00Z|null",
			`SELECT source_updated_at = (SELECT received_at FROM sync.webhook_events) FROM mirror.products`, "true"},
		{"product-updated", productCols, "prod_123",
			"store_123|product|Updated Product|null|null|null|null|null|34.99|50|null|null",
			`SELECT source_updated_at FROM mirror.products WHERE external_id = $1`, "2024-01-15T11:00:00Z"},
		// A product first heard of by its deletion: a deleted row, fields left empty, raw as sent.
		{"product-deleted", `SELECT store_id, name, deleted_at = source_updated_at, raw->>'title' FROM mirror.products
			WHERE source = 'bc' AND external_id = $1`, "prod_123", "store_123|null|true|Deleted Product", "", ""},
		{"customer-created", customerCols, "cust_123", "store_123|customer@example.com|John Doe|+1-555-0123|null", "", ""},
		{"customer-updated", customerCols, "cust_123", "store_123|newemail@example.com|null|null|null",
			`SELECT source_updated_at FROM mirror.customers WHERE external_id = $1`, "2024-01-15T11:00:00Z"},
		{"customer-deleted", `SELECT email, deleted_at IS NOT NULL, raw->>'email' FROM mirror.customers WHERE external_id = $1`,
			"cust_123", "null|true|customer@example.com", "", ""},
		{"category-created", categoryCols, "cat_123", "store_123|Summer Collection|summer-collection|null|null|null|null", "", ""},
		{"category-updated", categoryCols, "cat_123", "store_123|Updated Category Name|null|null|null|null|null", "", ""},
		{"category-deleted", `SELECT name, deleted_at IS NOT NULL FROM mirror.categories WHERE external_id = $1`,
			"cat_123", "null|true", "", ""},
		{"page-created", pageCols, "page_123", "store_123|About Us|about-us|null|null",
			`SELECT raw->>'body' FROM mirror.pages WHERE external_id = $1`, "Page content here..."},
		{"media-created", mediaCols, "media_123", "store_123|https://cdn.example.com/image.jpg|null|image/jpeg|1200|800|256000|null", "", ""},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			h := newHarness(t)
			deliver(t, h, fixture(t, c.fixture))
			if got := row(t, h, c.query, c.id); got != c.want {
				t.Errorf("%s:\ngot  %s\nwant %s", c.id, got, c.want)
			}
			if c.extra != "" {
				if got := rows(t, h, c.extra, argsFor(c.extra, c.id)...); got != c.extraWant {
					t.Errorf("%s: %s\ngot  %q\nwant %q", c.id, c.extra, got, c.extraWant)
				}
			}
		})
	}
}

// argsFor passes id to queries that take it.
func argsFor(query, id string) []any {
	if strings.Contains(query, "$1") {
		return []any{id}
	}
	return nil
}

// The seed's order examples, delivered one after another as documented. Those after order.created
// name no store: they land on the default store's row, order.created's, so the order is one row.
// They carry no time of their own either, so they are dated when received: each one's fields win
// over order.created's, and the fields only order.created carries (total, items, placed_at) stay.
func TestSeedOrderLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	deliver(t, h, fixture(t, "order-created"))
	for _, name := range []string{"order-updated", "order-paid", "order-fulfilled", "order-cancelled", "order-refunded"} {
		deliver(t, h, fixture(t, name))
	}
	want := "store_123|ORD-000001|cust_xyz|cancelled|refunded|null|99.99|2024-01-15T10:30:00Z|2024-01-15T10:30:00Z|" +
		"2024-01-15T14:00:00Z|2024-01-15T11:00:00Z|"
	got := row(t, h, orderCols, "order_abc")
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "|99.99|Customer requested|null|webhook") {
		t.Errorf("order_abc:\ngot  %s\nwant %s<refunded_at>|99.99|Customer requested|null|webhook", got, want)
	}
	if got := rows(t, h, orderItems, "order_abc"); got != "store_123|1|prod_1|Product Title|null|1|99.99" {
		t.Errorf("items = %q", got)
	}
	if got := rows(t, h, `SELECT count(*) FROM mirror.orders`); got != "1" {
		t.Errorf("%s orders, want 1", got)
	}
}
