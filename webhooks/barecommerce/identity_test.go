package barecommerce_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/storemirror/storemirror/metrics"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// One resource is one row, whatever order its events arrive in and whichever of them name the
// store: an event without a store joins the row the resource has, and the first event that names
// the store adopts a row that an event without one started (docs/rules.md, "One resource, one row").
func TestOneResourceOneRow(t *testing.T) {
	t.Parallel()
	created := fixture(t, "order-created") // storeId store_123
	paid := edit(t, "order-paid", map[string]any{"timestamp": "2024-01-15T10:31:00Z"})
	cases := []struct {
		name      string
		bodies    [][]byte
		sameBatch bool
	}{
		{"named first", [][]byte{created, paid}, false},
		{"named last", [][]byte{paid, created}, false},
		{"one batch", [][]byte{paid, created}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessFor(t, "") // no configured store: nothing but the events says where the order lives
			if c.sameBatch {
				for _, b := range c.bodies {
					post(t, h, b)
				}
				if out := h.Drain(); len(out) != 2 || out[0].Status != "applied" || out[1].Status != "applied" {
					t.Fatalf("outcomes = %+v, want two applied", out)
				}
			} else {
				deliver(t, h, c.bodies...)
			}
			got := rows(t, h, `SELECT store_id, order_number, total, payment_status, paid_at FROM mirror.orders ORDER BY store_id`)
			if want := "store_123|ORD-000001|99.99|succeeded|2024-01-15T10:30:00Z"; got != want {
				t.Errorf("orders:\ngot  %s\nwant %s", got, want)
			}
			if got := rows(t, h, `SELECT store_id, line_no FROM mirror.order_items`); got != "store_123|1" {
				t.Errorf("order items = %q, want the created order's one line, in store_123", got)
			}
		})
	}
}

// A product deleted by an event that names no store is the product: its one row is deleted,
// not a second row of store "" (a deleted product left live in its first row).
func TestDeleteWithoutStoreDeletesTheRow(t *testing.T) {
	t.Parallel()
	h := newHarnessFor(t, "")
	deliver(t, h, fixture(t, "product-created")) // data.storeId store_xyz
	deleted := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	deliver(t, h, edit(t, "product-deleted", map[string]any{"timestamp": deleted.Format(time.RFC3339)}))
	got := rows(t, h, `SELECT store_id, external_id, deleted_at FROM mirror.products`)
	if want := "store_xyz|prod_123|" + deleted.Format(time.RFC3339); got != want {
		t.Errorf("products = %q, want %q", got, want)
	}
}

// A provider time more than an hour ahead of the receipt is not trusted: the event is versioned
// as if sent when it was received, so a later genuine event still wins. The untrusted clock is
// logged once per source, with its offset, and every such event is counted.
func TestFutureTimeIsNotTrusted(t *testing.T) {
	t.Parallel()
	for _, future := range []string{"9999-01-01T00:00:00Z", time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)} {
		t.Run(future[:4], func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			log, hook := test.NewNullLogger()
			reg := prometheus.NewRegistry()
			h.Worker.Log, h.Worker.Metrics = logrus.NewEntry(log), metrics.NewApply(reg)
			deliver(t, h,
				edit(t, "product-updated", map[string]any{"data.updatedAt": future, "data.price": "1.00"}),
				edit(t, "product-updated", map[string]any{"id": "evt_505b", "data.updatedAt": future, "data.price": "2.00"}))
			time.Sleep(10 * time.Millisecond) // the genuine event is received later than the bad ones
			deliver(t, h, edit(t, "product-updated", map[string]any{"id": "evt_506", "data.updatedAt": time.Now().UTC().Format(time.RFC3339Nano), "data.price": "3.00"}))
			if got := row(t, h, `SELECT price FROM mirror.products WHERE external_id = 'prod_123'`); got != "3" {
				t.Errorf("price = %s, want 3: the genuine later event must win over the bad clock", got)
			}
			if got := counter(t, reg, "storemirror_untrusted_clock_total", "bc"); got != 2 {
				t.Errorf("storemirror_untrusted_clock_total{source=bc} = %v, want 2", got)
			}
			var warnings []*logrus.Entry
			for _, e := range hook.AllEntries() {
				if e.Level == logrus.WarnLevel && strings.Contains(e.Message, "ahead of receipt") {
					warnings = append(warnings, e)
				}
			}
			if len(warnings) != 1 || warnings[0].Data["source"] != "bc" || warnings[0].Data["offset"] == "" {
				t.Errorf("clock warnings = %v, want one, for source bc, with its offset", warnings)
			}
		})
	}
}

// BareCommerce events without a timestamp or updatedAt are versioned at their receipt, a clock
// that is not the provider's. A reconcile pull fetched after such an event was received still
// repairs what it set, though the provider's updatedAt is older than the receipt, whichever of
// the two is applied first (docs/rules.md, "Events without a time").
func TestPullRepairsTimelessEvent(t *testing.T) {
	t.Parallel()
	for _, pullFirst := range []bool{false, true} {
		name := "event applied first"
		if pullFirst {
			name = "pull applied first"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarnessFor(t, fakeStore)
			// A stale order.updated, with no time of its own, says the order is pending.
			post(t, h, []byte(`{"type":"order.updated","id":"evt_late","data":{"id":"order_1","status":"pending"}}`))
			if !pullFirst {
				h.Drain()
			}
			// The provider says paid, as of an updatedAt older than the event's receipt.
			fake := &fakeBare{Token: apiToken, StoreID: fakeStore, Objects: map[string][]fakeObject{"orders": {{
				"id": "order_1", "storeId": fakeStore, "orderNumber": "ORD-1", "status": "paid", "total": "10.00",
				"updatedAt": stamp(time.Now().Add(-time.Hour)),
			}}}}
			p, err := barecommerce.NewPuller(clientOptions(startBare(t, fake).URL, 5*time.Second), fakeStore, 50)
			if err != nil {
				t.Fatal(err)
			}
			r := webhookstest.Reconciler(h.DB, mirrorsync.ReconcileSource{Name: "bc", Puller: p})
			if _, err := r.RunOnce(context.Background(), "bc", "orders", mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual}); err != nil {
				t.Fatal(err)
			}
			h.Drain()
			if got := row(t, h, `SELECT store_id, status, total FROM mirror.orders WHERE external_id = 'order_1'`); got != fakeStore+"|paid|10" {
				t.Errorf("order = %s, want the provider's state (paid, 10)", got)
			}
		})
	}
}

// Delivery ids are compared exactly: an id of any length is stored (and its retry is a
// duplicate), and ids that differ only by a NUL or by invalid UTF-8 are two deliveries.
func TestDeliveryIDsComparedExactly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	random := make([]byte, 4096)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	long := `evt_` + hex.EncodeToString(random) // 8 kB that do not compress
	// The ids as they appear in the body: a NUL is escaped; invalid UTF-8 is sent as is.
	ids := []string{long, `evt_a`, `evt_a\u0000`, "evt_b\xff", "evt_b\xfe"}
	for _, id := range ids {
		body := []byte(`{"type":"product.updated","id":"` + id + `","data":{"id":"prod_1","title":"Tea"}}`)
		for attempt, want := range []string{"stored", "duplicate"} {
			status, resp := h.Post("/webhooks/bc", http.Header{barecommerce.SignatureHeader: {barecommerce.Sign(body, secret)}}, body)
			if status != http.StatusOK || !strings.Contains(resp, want) {
				t.Errorf("id %.20q, delivery %d: answered %d %s, want 200 %s", id, attempt+1, status, resp, want)
			}
		}
	}
	if got := row(t, h, `SELECT count(*), count(DISTINCT delivery_key), max(length(delivery_id)) FROM sync.webhook_events`); got != "5|5|8196" {
		t.Errorf("events (count, distinct keys, longest id) = %s, want 5|5|8196", got)
	}
}

// An event whose data PostgreSQL can never take (here an id too large for the primary key's
// index: class 54, program limit exceeded) fails at once instead of being retried.
func TestUnstorableDataFailsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	random := make([]byte, 8192)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	post(t, h, edit(t, "product-updated", map[string]any{"data.id": hex.EncodeToString(random)}))
	out := h.Drain()
	if len(out) != 1 || out[0].Status != "failed" || out[0].Retry {
		t.Fatalf("outcomes = %+v, want one failed, not to be retried", out)
	}
	if got := row(t, h, `SELECT status, attempts, due_at IS NULL FROM sync.webhook_events`); got != "failed|1|true" {
		t.Errorf("event = %s, want failed after 1 attempt, not due again", got)
	}
}

// counter reads the value of a counter with the given source label from reg (0 when absent).
func counter(t *testing.T, reg *prometheus.Registry, name, source string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
