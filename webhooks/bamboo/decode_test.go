package bamboo_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const (
	secret      = "whsec_c3RvcmVtaXJyb3ItdGVzdC1zZWNyZXQtMg=="
	oldSecret   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	callbackKey = "bamboo-callback-secret-key"
)

func newHarness(t *testing.T) *webhookstest.Harness {
	return webhookstest.One(t, "bamboo")(bamboo.New(bamboo.Options{Name: "bamboo", Secrets: []string{secret, oldSecret, callbackKey}}))
}

var fixture = webhookstest.Fixture

// post delivers body as Svix would, signed with key, and fails unless answered 200.
func post(t *testing.T, h *webhookstest.Harness, id string, body []byte, key string) {
	t.Helper()
	h.Deliver(t, "/webhooks/bamboo", svixHeaders(t, id, body, key), body)
}

func svixHeaders(t *testing.T, id string, body []byte, key string) http.Header {
	t.Helper()
	wh, err := svix.NewWebhook(key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sig, _ := wh.Sign(id, now, body)
	return http.Header{"Svix-Id": {id}, "Svix-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Svix-Signature": {sig}}
}

func TestProductUpdated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, "msg_1", fixture(t, "productupdated"), secret)
	if out := h.Drain(); len(out) != 1 || out[0].Status != "applied" || out[0].Type != "productupdated.v1" {
		t.Fatalf("outcomes = %+v, want one productupdated.v1 applied", out)
	}
	got := h.Column(t, `SELECT concat_ws('|', kind, name, status, min_face_value, max_face_value, coalesce(stock_quantity::text, 'unlimited'),
		price_min, price_max, currency, source_updated_at, origin) FROM mirror.products WHERE source = 'bamboo' AND external_id = '114111'`)
	want := "product|iTunes USA eGift voucher|Available|100|100|unlimited|100|100|USD|2022-08-22 09:06:29.678334+00|webhook"
	if got != want {
		t.Errorf("product row:\n got  %s\n want %s", got, want)
	}
	// History: each field that differs between oldState and newState, oldState → newState.
	got = h.Column(t, `SELECT concat_ws('|', field, coalesce(old_value, 'NULL'), coalesce(new_value, 'NULL'), changed_at, origin)
		FROM mirror.product_changes WHERE product_external_id = '114111' ORDER BY field`)
	want = "min_face_value|50|100|2022-08-22 09:06:29.678334+00|webhook; " +
		"price_min|50|100|2022-08-22 09:06:29.678334+00|webhook; " +
		"stock_quantity|10|NULL|2022-08-22 09:06:29.678334+00|webhook"
	if got != want {
		t.Errorf("product changes:\n got  %s\n want %s", got, want)
	}
	if got := h.Column(t, `SELECT count(*)::text FROM sync.refetch`); got != "0" {
		t.Errorf("refetch flags = %s, want none (the mirror had no earlier state)", got)
	}
}

// When the mirror's values differ from oldState, a webhook was missed: the product is flagged
// for the reconciler, and the drift is counted.
func TestProductUpdatedDrift(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var earlier map[string]any
	if err := json.Unmarshal(fixture(t, "productupdated"), &earlier); err != nil {
		t.Fatal(err)
	}
	var state map[string]any // a copy of oldState, changed
	b, _ := json.Marshal(earlier["products"].([]any)[0].(map[string]any)["oldState"])
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatal(err)
	}
	state["minFaceValue"] = 60 // the mirror will hold 60; the provider later says it was 50
	state["modifiedDate"] = "2022-08-21T00:00:00.0000000"
	earlier["products"].([]any)[0].(map[string]any)["newState"] = state
	b, _ = json.Marshal(earlier)
	post(t, h, "msg_0", b, secret)
	post(t, h, "msg_1", fixture(t, "productupdated"), secret)
	h.Drain()
	if got := h.Column(t, `SELECT concat_ws('|', entity, external_id, reason) FROM sync.refetch WHERE source = 'bamboo'`); got != "products|114111|drift: min_face_value" {
		t.Errorf("refetch flags = %q, want product 114111 flagged for min_face_value", got)
	}
	if got := h.Column(t, `SELECT min_face_value::text FROM mirror.products WHERE external_id = '114111'`); got != "100" {
		t.Errorf("min_face_value = %s, want the newState's 100", got)
	}
	if got := h.Column(t, `SELECT concat_ws('|', old_value, new_value) FROM mirror.product_changes WHERE field = 'min_face_value' ORDER BY id`); got != "50|60; 60|100" {
		t.Errorf("min_face_value history = %q, want 50→60 (first sight, from oldState) then 60→100", got)
	}
}

func TestOrderCompleted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, "msg_o", fixture(t, "ordercompleted"), oldSecret) // the rotated-out secret is still accepted
	h.Drain()
	got := h.Column(t, `SELECT concat_ws('|', external_id, request_id, status, total_cards, placed_at, completed_at, source_updated_at)
		FROM mirror.orders WHERE source = 'bamboo'`)
	want := "100123|3fa85f64-5717-4562-b3fc-2c963f66afa6|succeeded|5|2026-04-01 08:00:00+00|2026-04-01 08:05:00+00|2026-04-01 08:05:00+00"
	if got != want {
		t.Errorf("order row:\n got  %s\n want %s", got, want)
	}
}

func TestNotificationCallback(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "callback")
	if status, resp := h.Post("/webhooks/bamboo/callback", nil, body); status != http.StatusOK {
		t.Fatalf("callback answered %d %s", status, resp)
	}
	wrong := []byte(strings.Replace(string(body), callbackKey, "not-the-key", 1))
	if status, _ := h.Post("/webhooks/bamboo/callback", nil, wrong); status != http.StatusUnauthorized {
		t.Errorf("callback with a wrong secretKey answered %d, want 401", status)
	}
	evs := h.Events()
	if len(evs) != 1 || strings.Contains(string(evs[0].Body), "secretKey") || strings.Contains(string(evs[0].Body), callbackKey) {
		t.Fatalf("stored events = %d, body %s; want one, without its secretKey", len(evs), evs[0].Body)
	}
	h.Drain()
	got := h.Column(t, `SELECT concat_ws('|', external_id, request_id, status, total_cards, placed_at, completed_at, raw ? 'secretKey')
		FROM mirror.orders WHERE source = 'bamboo'`)
	want := "12345|71ac2817-e51a-438a-bb7b-5ffdda23603c|succeeded|10|2026-04-02 10:00:00.123457+00|2026-04-02 10:01:30.765432+00|f"
	if got != want {
		t.Errorf("order row:\n got  %s\n want %s", got, want)
	}
}

func TestUnrecognisedEventsIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, "msg_a", []byte(`{"hello":"world"}`), secret)
	post(t, h, "msg_b", []byte(`{"type":"brandupdated.v1","data":{"brandId":1}}`), secret)
	h.Drain()
	for _, ev := range h.Events() {
		if ev.Status != "ignored" || ev.LastError == nil {
			t.Errorf("%s: status %s, want ignored with a reason", ev.DeliveryID, ev.Status)
		}
	}
}

// A body that names its type (and wraps the event in data) is recognised by the name.
func TestTypedEnvelope(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := []byte(`{"type":"ordercompleted.v1","data":` + string(fixture(t, "ordercompleted")) + `}`)
	post(t, h, "msg_t", body, secret)
	if out := h.Drain(); len(out) != 1 || out[0].Status != "applied" {
		t.Fatalf("outcomes = %+v", out)
	}
	if got := h.Column(t, `SELECT external_id FROM mirror.orders`); got != "100123" {
		t.Errorf("orders = %q", got)
	}
}

func TestDuplicatesAndBadSignatures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "ordercompleted")
	post(t, h, "msg_dup", body, secret)
	post(t, h, "msg_dup", body, oldSecret) // Svix retries keep the id; the signature is new
	if status, _ := h.Post("/webhooks/bamboo", svixHeaders(t, "msg_x", body, "whsec_d3Jvbmctc2VjcmV0"), body); status != http.StatusUnauthorized {
		t.Errorf("wrong secret answered %d, want 401", status)
	}
	if status, _ := h.Post("/webhooks/bamboo", nil, body); status != http.StatusUnauthorized {
		t.Errorf("unsigned answered %d, want 401", status)
	}
	if evs := h.Events(); len(evs) != 1 || evs[0].DeliveryID != "msg_dup" {
		t.Errorf("stored %d events, want the one delivery once", len(evs))
	}
}
