package barecommerce_test

import (
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// FuzzDecode feeds Decode arbitrary bodies, starting from the seed's examples: it must never
// panic, and what it returns must be either an error or changes the store can apply.
func FuzzDecode(f *testing.F) {
	for _, b := range webhookstest.Fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"type":"order.refunded","data":{"id":7,"items":null,"amount":1e400,"refundedAt":""}}`))
	f.Add([]byte(`{"type":"media.updated","timestamp":"2024-01-15T10:30:00+02:00","data":{"id":"m","size":"12"}}`))
	s, _ := barecommerce.New(barecommerce.Options{Name: "bc", Secrets: []string{secret}})
	received := time.Date(2024, 1, 15, 10, 35, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := s.Decode(mirrorsync.Event{Source: "bc", Body: body, ReceivedAt: received})
		if c, ok := webhookstest.Decoded(t, cs, err); ok && (!c.Patch || len(c.Raw) == 0) {
			t.Errorf("change %+v: want a patch with raw", c)
		}
	})
}
