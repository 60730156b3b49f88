package barecommerce_test

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
)

// A repeated delivery (same event id), however signed, is answered 200 and stored once.
func TestDuplicateDeliveryStoredOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "order-created")
	post(t, h, body)
	for _, sig := range []string{barecommerce.Sign(body, secret), "sha256=" + barecommerce.Sign(body, oldSecret)} {
		if status, resp := h.Post("/webhooks/bc", http.Header{barecommerce.SignatureHeader: {sig}}, body); status != http.StatusOK {
			t.Fatalf("repeated delivery answered %d %s, want 200", status, resp)
		}
	}
	evs := h.Events()
	if len(evs) != 1 || evs[0].DeliveryID != "evt_123" || evs[0].EventType != "order.created" || !bytes.Equal(evs[0].Body, body) {
		t.Fatalf("stored %+v, want one evt_123 order.created with the body as sent", evs)
	}
	if out := h.Drain(); len(out) != 1 || out[0].Status != "applied" {
		t.Fatalf("outcomes %+v, want one applied", out)
	}
	if got := rows(t, h, `SELECT count(*) FROM mirror.order_items`); got != "1" {
		t.Errorf("%s order items, want 1", got)
	}
}

// The envelope's storeId keys the row; data.storeId only when the envelope has none; the
// source's default store when neither has one.
func TestStoreID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	deliver(t, h,
		edit(t, "product-created", map[string]any{"storeId": "store_env"}), // data.storeId store_xyz
		edit(t, "customer-created", map[string]any{"data.storeId": "store_data"}),
		fixture(t, "category-created"))
	got := rows(t, h, `SELECT concat_ws('/', 'products', store_id, external_id) FROM mirror.products
		UNION ALL SELECT concat_ws('/', 'customers', store_id, external_id) FROM mirror.customers
		UNION ALL SELECT concat_ws('/', 'categories', store_id, external_id) FROM mirror.categories`)
	if want := "products/store_env/prod_123; customers/store_data/cust_123; categories/store_123/cat_123"; got != want {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

// An order event that names no store (order.paid) lands on the order's row, whether or not the
// source has the order's store as its default: a resource is never split into a second row.
func TestDefaultStoreID(t *testing.T) {
	t.Parallel()
	cases := []struct{ defaultStore, want string }{
		{"store_123", "store_123|ORD-000001|99.99|succeeded|2024-01-15T10:30:00Z"},
		{"", "store_123|ORD-000001|99.99|succeeded|2024-01-15T10:30:00Z"},
	}
	for _, c := range cases {
		t.Run("default "+c.defaultStore, func(t *testing.T) {
			h := newHarnessFor(t, c.defaultStore)
			deliver(t, h, fixture(t, "order-created"), edit(t, "order-paid", map[string]any{"timestamp": "2024-01-15T10:31:00Z"}))
			got := rows(t, h, `SELECT store_id, order_number, total, payment_status, paid_at FROM mirror.orders
				WHERE source = 'bc' AND external_id = 'order_abc' ORDER BY store_id`)
			if got != c.want {
				t.Errorf("orders:\ngot  %s\nwant %s", got, c.want)
			}
		})
	}
}

// Genuine deliveries that cannot be mirrored are stored and answered 200: an unknown type is
// ignored, a body without data.id or not JSON fails. Nothing reaches the mirror.
func TestNotMirrored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct{ body, status, reason string }{
		{`{"type":"webhook.test","id":"evt_t1","data":{"id":"x"}}`, "ignored", `event type "webhook.test" is not mirrored`},
		{`{"type":"media.archived","id":"evt_t2","data":{"id":"media_1"}}`, "ignored", `event type "media.archived" is not mirrored`},
		{`{"type":"order.created","id":"evt_t3","data":{"orderNumber":"ORD-2"}}`, "failed", "decode order.created: data has no id"},
		{`{"type":"order.created","id":"evt_t4","data":{"id":"order_4","total":{"amount":1}}}`, "failed", "decode order.created order_4: decode total"},
		{`{"type":"order.paid","id":"evt_t5","data":{"id":"order_5","paidAt":"yesterday"}}`, "failed", "decode paidAt: parse time"},
		{`{"type":"order.created","id":"evt_t6"}`, "failed", "decode order.created: no data"},
		{`not json`, "failed", "decode envelope"},
	}
	for _, c := range cases {
		post(t, h, []byte(c.body))
	}
	h.Drain()
	evs := h.Events()
	if len(evs) != len(cases) {
		t.Fatalf("stored %d events, want %d", len(evs), len(cases))
	}
	for i, c := range cases {
		reason := ""
		if evs[i].LastError != nil {
			reason = *evs[i].LastError
		}
		if evs[i].Status != c.status || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: %s (%s), want %s (%s)", c.body, evs[i].Status, reason, c.status, c.reason)
		}
	}
	if n := rows(t, h, `SELECT count(*) FROM mirror.orders`); n != "0" {
		t.Errorf("%s orders, want none", n)
	}
}

// Unsigned or wrongly signed requests are answered 401 and nothing is stored.
func TestSignatureRequired(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "order-created")
	cases := []struct {
		name string
		hdr  http.Header
	}{
		{"unsigned", http.Header{}},
		{"wrong secret", http.Header{barecommerce.SignatureHeader: {barecommerce.Sign(body, "whsec_someone_else_000")}}},
		{"another body's signature", http.Header{barecommerce.SignatureHeader: {barecommerce.Sign(fixture(t, "order-paid"), secret)}}},
		{"garbage", http.Header{barecommerce.SignatureHeader: {"not-a-signature"}}},
	}
	for _, c := range cases {
		if status, _ := h.Post("/webhooks/bc", c.hdr, body); status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d, want 401", c.name, status)
		}
	}
	if evs := h.Events(); len(evs) != 0 {
		t.Errorf("stored %d events, want none", len(evs))
	}
}

// Decode itself: one patch per event, raw data byte for byte, only the fields the data carries.
func TestDecodeChange(t *testing.T) {
	s, _ := barecommerce.New(barecommerce.Options{Name: "bc", Secrets: []string{secret}, StoreID: "store_123"})
	body := fixture(t, "order-paid")
	received := time.Date(2024, 1, 15, 10, 35, 0, 0, time.UTC)
	cs, err := s.Decode(mirrorsync.Event{Source: "bc", Body: body, ReceivedAt: received})
	if err != nil || len(cs) != 1 {
		t.Fatalf("Decode = %v, %v; want one change", cs, err)
	}
	c := cs[0]
	// The data object as it stands in the body: from after "data": to before the envelope's }.
	env := bytes.TrimSpace(body)
	wantRaw := bytes.TrimSpace(env[bytes.Index(env, []byte(`"data":`))+len(`"data":`) : len(env)-1])
	if !c.Patch || c.Delete || !bytes.Equal(c.Raw, wantRaw) {
		t.Errorf("patch %v delete %v raw %q; want a patch with raw %q", c.Patch, c.Delete, c.Raw, wantRaw)
	}
	if want := (mirrorsync.Key{Source: "bc", StoreID: "store_123", ExternalID: "order_abc"}); c.Key != want || !c.Version.At.Equal(received) || c.Version.Seq != 0 {
		t.Errorf("key %v version %v, want %v at the time received", c.Key, c.Version, want)
	}
	o, ok := c.Entity.(*mirrorsync.Order)
	if !ok {
		t.Fatalf("entity %T, want *Order", c.Entity)
	}
	paidAt := time.Date(2024, 1, 15, 10, 30, 0, 0, time.UTC)
	if o.PaymentStatus != mirrorsync.Some("succeeded") || o.OrderNumber != mirrorsync.Some("ORD-000001") ||
		o.PaidAt != mirrorsync.Some(paidAt) {
		t.Errorf("carried fields: %+v %+v %+v", o.PaymentStatus, o.OrderNumber, o.PaidAt)
	}
	var absent mirrorsync.Field[decimal.Decimal]
	if o.Total != absent || o.Status.Set || o.PlacedAt.Set || o.RefundedAt.Set || o.Items.Set {
		t.Errorf("fields order.paid lacks must be absent: total %+v status %+v placed %+v items %+v", o.Total, o.Status, o.PlacedAt, o.Items)
	}
	// The signed time, when the scheme has one, comes before the time received.
	sent := received.Add(-time.Minute)
	if cs, _ := s.Decode(mirrorsync.Event{Body: body, SentAt: sent, ReceivedAt: received}); !cs[0].Version.At.Equal(sent) {
		t.Errorf("version %v, want the sent time %v", cs[0].Version.At, sent)
	}
	if _, err := s.Decode(mirrorsync.Event{Body: []byte(`{"type":"order.shipped","data":{"id":"o"}}`)}); !errors.Is(err, mirrorsync.ErrIgnored) {
		t.Errorf("unknown type: %v, want ErrIgnored", err)
	}
}
