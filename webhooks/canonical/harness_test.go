package canonical_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/webhooks/canonical"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const secret = "shop-signing-secret"

// harness serves two canonical sources: "shop" accepts store_1 only (so a body without
// external_store_id is store_1's), "any" accepts every store.
type harness struct {
	*webhookstest.Harness
	shop *canonical.Source
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	shop, err := canonical.New(canonical.Options{Name: "shop", Secrets: []string{secret}, StoreIDs: []string{"store_1"}})
	if err != nil {
		t.Fatal(err)
	}
	anyStore, err := canonical.New(canonical.Options{Name: "any", Secrets: []string{secret}})
	if err != nil {
		t.Fatal(err)
	}
	h := webhookstest.New(t, map[string]webhookstest.Source{"shop": shop, "any": anyStore})
	return &harness{Harness: h, shop: shop}
}

var fixture = webhookstest.Fixture

// entity returns the object under key in a body, as JSON text.
func entity(t *testing.T, body []byte, key string) string {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatal(err)
	}
	return string(top[key])
}

func millis(t time.Time) string  { return strconv.FormatInt(t.UnixMilli(), 10) }
func seconds(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func signed(ts string, body []byte, key string) http.Header {
	h := http.Header{}
	h.Set(canonical.TimestampHeader, ts)
	h.Set(canonical.SignatureHeader, canonical.Sign(ts, body, key))
	return h
}

// post signs body with the source's secret at ts and posts it as event to source.
func (h *harness) post(source, event string, body []byte, ts string) (int, string) {
	return h.Post("/webhooks/"+source+"/events/"+event, signed(ts, body, secret), body)
}

// deliver posts like post and fails the test unless the event is accepted.
func (h *harness) deliver(t *testing.T, event string, body []byte, ts string) {
	t.Helper()
	if status, msg := h.post("shop", event, body, ts); status != http.StatusOK {
		t.Fatalf("POST %s answered %d %s, want 200", event, status, msg)
	}
}

// apply drains the inbox and fails the test unless every event applied.
func (h *harness) apply(t *testing.T) {
	t.Helper()
	for _, o := range h.Drain() {
		if o.Status != "applied" {
			t.Errorf("event %s (%s): %s: %v, want applied", o.DeliveryID, o.Type, o.Status, o.Err)
		}
	}
}

// stamp is a timestamptz column, shown in UTC whatever the session's time zone.
type stamp struct{ time.Time }

func (s *stamp) Scan(src any) error {
	s.Time = src.(time.Time).UTC()
	return nil
}

func (s stamp) MarshalJSON() ([]byte, error) { return json.Marshal(s.UTC().Format(time.RFC3339Nano)) }

func at(s string) *stamp {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return &stamp{t.UTC()}
}

func ptr[T any](v T) *T { return &v }

func dec(s string) *decimal.Decimal { return ptr(decimal.RequireFromString(s)) }

// same compares two rows by their JSON text, which shows what differed.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}
