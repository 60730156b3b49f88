package canonical_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/canonical"
)

// A body without external_store_id is the store of a source with one; another store is a 404.
func TestStoreResolution(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := millis(time.Now())
	h.deliver(t, "order", []byte(`{"order":{"external_id":"o1","status":"paid"}}`), now)
	h.deliver(t, "order", []byte(`{"external_store_id":"store_1","order":{"external_id":"o2","status":"paid"}}`), now)
	status, msg := h.post("shop", "order", []byte(`{"external_store_id":"store_9","order":{"external_id":"o3"}}`), now)
	if status != http.StatusNotFound || !strings.Contains(msg, "store_9") {
		t.Errorf("store_9 answered %d %s, want 404 naming the store", status, msg)
	}
	if n := len(h.Events()); n != 2 {
		t.Errorf("%d events stored, want 2 (nothing for store_9)", n)
	}
	h.apply(t)
	if got := h.Column(t, `SELECT store_id || '/' || external_id FROM mirror.orders ORDER BY external_id`); got != "store_1/o1; store_1/o2" {
		t.Errorf("orders = %q", got)
	}
}

// A body that breaks the canonical shape is answered 400 naming the field and stored as failed;
// replaying it through the decoder fails it again, for the same reason.
func TestShapeErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct{ event, body, field string }{
		{"order", `{"event_id":"bad-1","external_store_id":"store_1"}`, "order is required"},
		{"product", `{"event_id":"bad-2","product":{"name":"Tea"}}`, "product.external_id is required"},
		{"fulfillment", `{"event_id":"bad-3","fulfillment":{"external_id":"f1","order_external_id":"o1"}}`, "fulfillment.fulfillment_external_id is required"},
		{"checkout", `{"event_id":"bad-4","checkout":"c1"}`, "checkout must be an object"},
		{"product/delete", `{"event_id":"bad-5","product":{"external_id":"  "}}`, "product.external_id is required"},
	}
	now := millis(time.Now())
	for _, c := range cases {
		status, msg := h.post("shop", c.event, []byte(c.body), now)
		var answer struct{ Error string }
		_ = json.Unmarshal([]byte(msg), &answer) // an answer that is not JSON leaves Error empty: it fails below
		if status != http.StatusBadRequest || !strings.Contains(answer.Error, c.field) {
			t.Errorf("%s %s: answered %d %s, want 400 naming %q", c.event, c.body, status, msg, c.field)
		}
	}
	evs := h.Events()
	if len(evs) != len(cases) {
		t.Fatalf("%d events stored, want %d", len(evs), len(cases))
	}
	for i, ev := range evs {
		if ev.Status != "failed" || ev.LastError == nil || !strings.Contains(*ev.LastError, cases[i].field) {
			t.Errorf("event %s: status %s last_error %v, want failed naming %q", ev.DeliveryID, ev.Status, ev.LastError, cases[i].field)
		}
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("the worker applied %d failed events, want none", len(out))
	}
	policy := mirrorsync.RetryPolicy{MaxAttempts: 1}
	batch, _, err := h.DB.ReplayEvents(context.Background(), "shop", time.Time{}, true, 0, 100, mirrorsync.InboxRules{Decoder: h.shop, Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Outcomes) != len(cases) {
		t.Fatalf("replayed %d events, want %d", len(batch.Outcomes), len(cases))
	}
	for i, o := range batch.Outcomes {
		if o.Status != "failed" || o.Err == nil || !strings.Contains(o.Err.Error(), cases[i].field) {
			t.Errorf("replay of %s: %s %v, want failed naming %q", o.DeliveryID, o.Status, o.Err, cases[i].field)
		}
	}
	if got := h.Column(t, `SELECT count(*)::text FROM mirror.orders`); got != "0" {
		t.Errorf("%s orders mirrored", got)
	}
}

// Unsigned, wrongly signed and expired requests are 401 and nothing is stored.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "order")
	now := time.Now()
	unsigned := http.Header{}
	unsigned.Set(canonical.TimestampHeader, millis(now))
	noTimestamp := signed(millis(now), body, secret)
	noTimestamp.Del(canonical.TimestampHeader)
	cases := map[string]http.Header{
		"unsigned":                     unsigned,
		"no timestamp":                 noTimestamp,
		"wrong secret":                 signed(millis(now), body, "not-the-secret"),
		"signed another timestamp":     withTimestamp(signed(millis(now), body, secret), millis(now.Add(time.Second))),
		"expired, 6 minutes old (ms)":  signed(millis(now.Add(-6*time.Minute)), body, secret),
		"expired, 6 minutes old (s)":   signed(seconds(now.Add(-6*time.Minute)), body, secret),
		"6 minutes in the future (ms)": signed(millis(now.Add(6*time.Minute)), body, secret),
	}
	for name, header := range cases {
		if status, msg := h.Post("/webhooks/shop/events/order", header, body); status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d %s, want 401", name, status, msg)
		}
	}
	if evs := h.Events(); len(evs) != 0 {
		t.Errorf("%d events stored, want none", len(evs))
	}
	// The control: the same body, well signed, is taken.
	if status, msg := h.Post("/webhooks/shop/events/order", signed(millis(now), body, secret), body); status != http.StatusOK {
		t.Errorf("well signed: answered %d %s, want 200", status, msg)
	}
}

func withTimestamp(h http.Header, ts string) http.Header {
	h.Set(canonical.TimestampHeader, ts)
	return h
}

// A repeated event_id is stored once, however it is signed; without event_id only an exact retry
// (the same path, signed timestamp and body) is the same delivery.
func TestDuplicatesStoredOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Now()
	product := fixture(t, "product") // event_id e1
	h.deliver(t, "product", product, millis(now))
	h.deliver(t, "product", product, seconds(now.Add(time.Second)))
	order := fixture(t, "order") // no event_id
	h.deliver(t, "order", order, millis(now))
	status, msg := h.post("shop", "order", order, millis(now))
	if status != http.StatusOK || !strings.Contains(msg, "duplicate") {
		t.Errorf("exact retry answered %d %s, want 200 duplicate", status, msg)
	}
	status, msg = h.post("shop", "order", order, millis(now.Add(2*time.Second)))
	if status != http.StatusOK || !strings.Contains(msg, "stored") {
		t.Errorf("the same body signed later answered %d %s, want 200 stored", status, msg)
	}
	evs := h.Events()
	if len(evs) != 3 || evs[0].DeliveryID != "e1" || evs[1].EventType != "order" || evs[2].EventType != "order" {
		t.Fatalf("stored %+v, want e1 and two orders", evs)
	}
	h.apply(t)
	if got := h.Column(t, `SELECT (SELECT count(*) FROM mirror.products) || '/' || (SELECT count(*) FROM mirror.orders)`); got != "1/1" {
		t.Errorf("products/orders = %s, want 1/1", got)
	}
}
