package backinstock_test

import (
	"bytes"
	"testing"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// FuzzDecode feeds Decode arbitrary bodies: it must never panic, and what it accepts must be
// one valid change of a stock notification that carries the body as received.
func FuzzDecode(f *testing.F) {
	for _, b := range webhookstest.Fixtures(f) {
		f.Add(b)
	}
	for _, s := range []string{``, `null`, `[]`, `{}`, `{"test":true}`, `{"topic":"notification/sent"}`,
		`{"topic":"notification/create","notification_id":1,"created_at":"2023-09-09T14:33:10Z","customer":null,"product":null}`,
		`{"topic":"notification/sent","notification_id":"1","timestamp":"2023-09-11T12:13:45+04:00","product":{"product_id":null}}`} {
		f.Add([]byte(s))
	}
	src, err := backinstock.New(backinstock.Options{Name: "bis", Secrets: []string{"k"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		changes, err := src.Decode(mirrorsync.Event{ID: 1, Source: "bis", Body: body})
		c, ok := webhookstest.Decoded(t, changes, err)
		if !ok {
			return
		}
		if _, ok := c.Entity.(*mirrorsync.StockNotification); !ok {
			t.Errorf("entity %T, want *StockNotification", c.Entity)
		}
		if !c.Patch || !bytes.Equal(c.Raw, body) || c.Delete {
			t.Errorf("patch %v delete %v raw %q, want a patch carrying the body", c.Patch, c.Delete, c.Raw)
		}
	})
}
