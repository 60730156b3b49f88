package canonical

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// The worked example of docs/reference/signatures.md.
func TestSignKnownAnswer(t *testing.T) {
	if got := Sign("1700000000000", []byte(`{"test": 2432232314}`), "my_signing_secret"); got != "7c63adebe15a58a937033470a3fc71a4fbf95e234d95bf05551a942f9133859e" {
		t.Errorf("Sign = %q, want the published value", got)
	}
}

func signed(ts, body, secret string) http.Header {
	h := http.Header{}
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, Sign(ts, []byte(body), secret))
	return h
}

func TestVerify(t *testing.T) {
	now := time.Now()
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	sec := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-6*time.Minute).UnixMilli(), 10)
	body := `{"event_id":"e1","product":{"external_id":"p1","name":"Tea"}}`
	rotating, _ := New(Options{Name: "c", Secrets: []string{"new-secret", "old-secret"}})
	rotated, _ := New(Options{Name: "c", Secrets: []string{"new-secret"}})
	noSig := signed(ms, body, "new-secret")
	noSig.Del(SignatureHeader)
	cases := []webhookstest.VerifyCase{
		{"good, milliseconds", rotating, signed(ms, body, "new-secret"), []byte(body), true},
		{"good, seconds", rotating, signed(sec, body, "new-secret"), []byte(body), true},
		{"rotated: old secret still valid", rotating, signed(ms, body, "old-secret"), []byte(body), true},
		{"rotated: old secret retired", rotated, signed(ms, body, "old-secret"), []byte(body), false},
		{"wrong secret", rotating, signed(ms, body, "wrong"), []byte(body), false},
		{"body changed", rotating, signed(ms, body, "new-secret"), []byte(`{"product":{"external_id":"p2"}}`), false},
		{"expired", rotating, signed(old, body, "new-secret"), []byte(body), false},
		{"missing signature", rotating, noSig, []byte(body), false},
		{"missing timestamp", rotating, http.Header{SignatureHeader: {Sign("", []byte(body), "new-secret")}}, []byte(body), false},
	}
	webhookstest.CheckVerify(t, webhooks.Request{Path: "/events/product", Now: now}, cases, "e1", EventProduct)
}

func TestVerifyShapeAndStores(t *testing.T) {
	now := time.Now()
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	one, _ := New(Options{Name: "c", Secrets: []string{"s"}, StoreIDs: []string{"store_1"}})
	two, _ := New(Options{Name: "c", Secrets: []string{"s"}, StoreIDs: []string{"store_1", "store_2"}})
	anyStore, _ := New(Options{Name: "c", Secrets: []string{"s"}})
	cases := []struct {
		name, path, body string
		s                *Source
		notFound         bool
		invalid          string // the field the 400 must name
	}{
		{"order ok", "/events/order", `{"order":{"external_id":"o1"}}`, one, false, ""},
		{"fulfillment id", "/events/fulfillment", `{"fulfillment":{"order_external_id":"o1"}}`, one, false, "fulfillment.fulfillment_external_id"},
		{"no entity", "/events/order", `{"external_store_id":"store_1"}`, one, false, "order is required"},
		{"empty id", "/events/checkout", `{"checkout":{"external_id":""}}`, one, false, "checkout.external_id"},
		{"id not a string", "/events/product", `{"product":{"external_id":7}}`, one, false, "product.external_id"},
		{"delete without id", "/events/product/delete", `{"product":{}}`, one, false, "product.external_id"},
		{"not json", "/events/order", `order=1`, one, false, "not a JSON object"},
		{"unknown event", "/events/refund", `{}`, one, true, ""},
		{"no events prefix", "/order", `{}`, one, true, ""},
		{"store not accepted", "/events/order", `{"external_store_id":"store_9","order":{"external_id":"o1"}}`, one, true, ""},
		{"store omitted, several configured", "/events/order", `{"order":{"external_id":"o1"}}`, two, true, ""},
		{"second store accepted", "/events/order", `{"external_store_id":"store_2","order":{"external_id":"o1"}}`, two, false, ""},
		{"any store", "/events/order", `{"external_store_id":"whatever","order":{"external_id":"o1"}}`, anyStore, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := c.s.Verify(webhooks.Request{Path: c.path, Header: signed(ts, c.body, "s"), Body: []byte(c.body), Now: now})
			if c.notFound {
				if !errors.Is(err, webhooks.ErrNotFound) {
					t.Fatalf("want ErrNotFound, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			switch {
			case c.invalid == "" && d.Invalid != nil:
				t.Errorf("want valid, got %v", d.Invalid)
			case c.invalid != "" && (d.Invalid == nil || !errors.Is(d.Invalid, mirrorsync.ErrInvalid) || !strings.Contains(d.Invalid.Error(), c.invalid)):
				t.Errorf("want an invalid delivery naming %q, got %v", c.invalid, d.Invalid)
			}
		})
	}
}
