package docs_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The sample mirror the BI guide's results come from, filled through the store's real apply path:
// a BareCommerce tea shop (source bare, store s1) with its catalog, customers and orders; the
// same shop's abandoned checkouts from the canonical API (source shop, store store_1); and Back in
// Stock sign-ups (source bis). bi-guide.md describes it; change both together.

// sample builds the changes in the order the events happened, each with its own receive number.
type sample struct {
	t       *testing.T
	db      *store.DB
	seq     int64
	changes []mirrorsync.Change
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func money(s string) mirrorsync.Field[decimal.Decimal] {
	return mirrorsync.Some(decimal.RequireFromString(s))
}

func text(s string) mirrorsync.Field[string] { return mirrorsync.Some(s) }

func ptr[T any](v T) *T { return &v }

func (s *sample) add(source, storeID, id, when string, e mirrorsync.Entity, patch bool) {
	s.seq++
	s.changes = append(s.changes, mirrorsync.Change{
		Key:     mirrorsync.Key{Source: source, StoreID: storeID, ExternalID: id},
		Version: mirrorsync.Version{At: at(when), Seq: s.seq},
		Entity:  e, Patch: patch,
	})
}

// flush applies what was added so far in one batch, as the apply workers would.
func (s *sample) flush() {
	s.t.Helper()
	if _, err := s.db.ApplyChanges(context.Background(), mirrorsync.OriginWebhook, s.changes); err != nil {
		s.t.Fatalf("apply the sample: %v", err)
	}
	s.changes = nil
}

func (s *sample) remove(source, storeID, id, when string, e mirrorsync.Entity) {
	s.seq++
	s.changes = append(s.changes, mirrorsync.Change{
		Key:     mirrorsync.Key{Source: source, StoreID: storeID, ExternalID: id},
		Version: mirrorsync.Version{At: at(when), Seq: s.seq},
		Entity:  e, Delete: true,
	})
}

type item struct {
	product, title string
	quantity       int64
	unitPrice      string
}

func items(list ...item) mirrorsync.Many[mirrorsync.LineItem] {
	out := make([]mirrorsync.LineItem, len(list))
	for i, it := range list {
		out[i] = mirrorsync.LineItem{
			ProductExternalID: ptr(it.product), Title: ptr(it.title), Quantity: ptr(it.quantity),
			UnitPrice: decimal.NewNullDecimal(decimal.RequireFromString(it.unitPrice)),
		}
	}
	return mirrorsync.All(out)
}

func fillSampleMirror(t *testing.T, db *store.DB) {
	t.Helper()
	s := &sample{t: t, db: db}
	catalog(s)
	s.flush()
	catalogChanges(s)
	orders(s)
	checkouts(s)
	notifications(s)
}

func catalog(s *sample) {
	const created = "2026-02-20T09:00:00Z"
	for _, c := range []struct{ id, name, slug string }{{"cat-tea", "Tea", "tea"}, {"cat-ware", "Teaware", "teaware"}} {
		s.add("bare", "s1", c.id, created, &mirrorsync.Category{Name: text(c.name), Slug: text(c.slug)}, false)
	}
	for _, p := range []struct {
		id, name, sku, price, category string
		stock                          *int64
	}{
		{"p1", "Green Tea", "TEA-GREEN", "9.50", "cat-tea", ptr(int64(12))},
		{"p2", "Black Tea", "TEA-BLACK", "8.00", "cat-tea", ptr(int64(30))},
		{"p3", "Teapot", "POT-1", "35.00", "cat-ware", ptr(int64(3))},
		{"p4", "Tea cups (set of 2)", "CUP-2", "14.00", "cat-ware", ptr(int64(5))},
		{"p5", "Matcha whisk", "WHISK", "12.00", "cat-ware", nil}, // stock not tracked
	} {
		s.add("bare", "s1", p.id, created, &mirrorsync.Product{
			Kind: text("product"), Name: text(p.name), SKU: text(p.sku), Status: text("published"),
			Currency: text("USD"), Price: money(p.price), StockQuantity: mirrorsync.FromPtr(p.stock),
			CategoryExternalID: text(p.category),
		}, false)
	}
	for _, c := range []struct{ id, name, email string }{
		{"c-1", "Ana Lima", "ana@example.com"}, {"c-2", "Ben Okafor", "ben@example.com"}, {"c-3", "Chen Wu", "chen@example.com"},
	} {
		s.add("bare", "s1", c.id, created, &mirrorsync.Customer{Name: text(c.name), Email: text(c.email)}, false)
	}
}

// catalogChanges are later product events, each its own batch: product_changes records them.
func catalogChanges(s *sample) {
	for _, c := range []struct {
		id, when string
		p        *mirrorsync.Product
	}{
		{"p4", "2026-03-01T18:00:00Z", &mirrorsync.Product{StockQuantity: mirrorsync.Some(int64(0))}},
		{"p1", "2026-03-02T08:00:00Z", &mirrorsync.Product{Price: money("11.00")}},
		{"p1", "2026-03-03T12:00:00Z", &mirrorsync.Product{StockQuantity: mirrorsync.Some(int64(0))}},
		{"p1", "2026-03-05T09:00:00Z", &mirrorsync.Product{Price: money("10.00")}},
	} {
		s.add("bare", "s1", c.id, c.when, c.p, true)
		s.flush()
	}
	s.remove("bare", "s1", "p3", "2026-03-04T10:00:00Z", &mirrorsync.Product{})
	s.flush()
}

func orders(s *sample) {
	type order struct {
		id, number, customer, placed, status, total string
		items                                       mirrorsync.Many[mirrorsync.LineItem]
	}
	for _, o := range []order{
		{"o-1", "ORD-1001", "c-1", "2026-03-01T10:00:00Z", "paid", "19.00", items(item{"p1", "Green Tea", 2, "9.50"})},
		{"o-2", "ORD-1002", "c-2", "2026-03-01T15:30:00Z", "paid", "35.00", items(item{"p3", "Teapot", 1, "35.00"})},
		{"o-3", "ORD-1003", "c-1", "2026-03-02T09:00:00Z", "paid", "33.00", items(
			item{"p1", "Green Tea", 1, "11.00"}, item{"p2", "Black Tea", 1, "8.00"}, item{"p4", "Tea cups (set of 2)", 1, "14.00"})},
		{"o-4", "ORD-1004", "c-2", "2026-03-02T20:00:00Z", "pending", "16.00", items(item{"p2", "Black Tea", 2, "8.00"})},
		{"o-5", "ORD-1005", "c-2", "2026-03-04T02:30:00Z", "paid", "24.00", items(item{"p5", "Matcha whisk", 2, "12.00"})},
	} {
		e := &mirrorsync.Order{
			OrderNumber: text(o.number), CustomerExternalID: text(o.customer), Status: text(o.status),
			Currency: text("USD"), Total: money(o.total), PlacedAt: mirrorsync.Some(at(o.placed)), Items: o.items,
		}
		if o.status == "paid" {
			e.PaidAt = mirrorsync.Some(at(o.placed).Add(time.Minute))
		}
		s.add("bare", "s1", o.id, o.placed, e, false)
	}
	s.flush()
	// Then BareCommerce's partial events, which patch only their own fields.
	s.add("bare", "s1", "o-1", "2026-03-02T09:00:00Z", &mirrorsync.Order{Status: text("fulfilled"), FulfilledAt: mirrorsync.Some(at("2026-03-02T09:00:00Z"))}, true)
	s.add("bare", "s1", "o-3", "2026-03-03T10:00:00Z", &mirrorsync.Order{Status: text("fulfilled"), FulfilledAt: mirrorsync.Some(at("2026-03-03T10:00:00Z"))}, true)
	s.add("bare", "s1", "o-4", "2026-03-03T08:00:00Z", &mirrorsync.Order{Status: text("cancelled"), CancelledAt: mirrorsync.Some(at("2026-03-03T08:00:00Z"))}, true)
	s.add("bare", "s1", "o-3", "2026-03-04T08:00:00Z", &mirrorsync.Order{
		PaymentStatus: text("partially_refunded"), RefundedAt: mirrorsync.Some(at("2026-03-04T08:00:00Z")),
		RefundedAmount: money("8.00"), RefundReason: text("Black Tea returned"),
	}, true)
	s.flush()
}

func checkouts(s *sample) {
	s.add("shop", "store_1", "k-1", "2026-03-02T12:00:00Z", &mirrorsync.Checkout{
		CustomerEmail: text("dan@example.com"), RecoverURL: text("https://shop.example.com/recover/k-1"),
		Currency: text("USD"), Total: money("27.00"),
		Items: items(item{"p1", "Green Tea", 2, "9.50"}, item{"p2", "Black Tea", 1, "8.00"}),
	}, false)
	s.add("shop", "store_1", "k-2", "2026-03-03T16:00:00Z", &mirrorsync.Checkout{
		CustomerEmail: text("eve@example.com"), RecoverURL: text("https://shop.example.com/recover/k-2"),
		Currency: text("USD"), Total: money("14.00"),
		Items: items(item{"p4", "Tea cups (set of 2)", 1, "14.00"}),
	}, false)
	s.flush()
}

func notifications(s *sample) {
	for _, n := range []struct {
		id, created, product, variant, variantTitle, sku, channel string
		quantity                                                  int64
	}{
		{"n-1", "2026-03-01T08:00:00Z", "8001", "9001", "Small", "BT-S", "email", 1},
		{"n-2", "2026-03-02T11:00:00Z", "8001", "9001", "Small", "BT-S", "sms", 2},
		{"n-3", "2026-03-02T13:00:00Z", "8001", "9002", "Large", "BT-L", "email", 1},
		{"n-4", "2026-03-03T07:00:00Z", "8002", "9003", "Default Title", "OOL", "email", 1},
	} {
		title := "Black Tea"
		if n.product == "8002" {
			title = "Oolong"
		}
		s.add("bis", "", n.id, n.created, &mirrorsync.StockNotification{
			Status: text("created"), Channel: text(n.channel), QuantityRequired: mirrorsync.Some(n.quantity),
			ProductExternalID: text(n.product), ProductTitle: text(title), VariantExternalID: text(n.variant),
			VariantTitle: text(n.variantTitle), SKU: text(n.sku), CreatedAt: mirrorsync.Some(at(n.created)),
		}, false)
	}
	s.flush()
	s.add("bis", "", "n-3", "2026-03-03T09:00:00Z", &mirrorsync.StockNotification{
		Status: text("sent"), SentAt: mirrorsync.Some(at("2026-03-03T09:00:00Z")),
	}, true)
	s.flush()
}
