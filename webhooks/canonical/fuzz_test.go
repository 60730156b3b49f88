package canonical_test

import (
	"encoding/json"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/canonical"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// fuzzEvents are the event types, picked by the fuzzer's first argument.
var fuzzEvents = []string{canonical.EventProduct, canonical.EventProductDelete, canonical.EventOrder,
	canonical.EventCheckout, canonical.EventFulfillment}

// FuzzDecode feeds Decode arbitrary bodies for every event type: it must never panic, and a
// change it returns must be one the store can apply.
func FuzzDecode(f *testing.F) {
	seeds := map[string][]string{
		canonical.EventProduct:       {"product", "product-vambe"},
		canonical.EventProductDelete: {"product-delete"},
		canonical.EventOrder:         {"order", "order-full"},
		canonical.EventCheckout:      {"checkout"},
		canonical.EventFulfillment:   {"fulfillment"},
	}
	for i, event := range fuzzEvents {
		for _, name := range seeds[event] {
			f.Add(uint8(i), webhookstest.Fixture(f, name))
		}
	}
	f.Add(uint8(0), []byte(`{"product":{"external_id":"p1","stock":1e9999,"price":-1e-9999,"image_urls":null,"metadata":[{"value":{"a":[1]}}]}}`))
	f.Add(uint8(2), []byte(`{"order":{"external_id":"o1","customer":{"phone":"+"},"items":[null]}}`))
	s, err := canonical.New(canonical.Options{Name: "fuzz", Secrets: []string{"s"}})
	if err != nil {
		f.Fatal(err)
	}
	sent := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		ev := mirrorsync.Event{Source: "fuzz", Type: fuzzEvents[int(kind)%len(fuzzEvents)], Body: body, SentAt: sent, ReceivedAt: sent}
		changes, err := s.Decode(ev)
		if err != nil {
			return
		}
		if len(changes) != 1 {
			t.Fatalf("%d changes, want 1", len(changes))
		}
		c := changes[0]
		if err := c.Validate(); err != nil {
			t.Fatalf("invalid change: %v", err)
		}
		if c.Delete != (ev.Type == canonical.EventProductDelete) {
			t.Fatalf("%s event: Delete = %v", ev.Type, c.Delete)
		}
		if !c.Delete && !json.Valid(c.Raw) {
			t.Fatalf("raw is not JSON: %q", c.Raw)
		}
	})
}
