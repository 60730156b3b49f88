package bamboo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// diff is a productupdated.v1 body for product 7 with newState state (a JSON object's members),
// stamped by Bamboo at timestamp.
func diff(state, timestamp string) []byte {
	return []byte(fmt.Sprintf(`{"products":[{"id":7,"oldState":null,"newState":{%s}}],"timestamp":%q}`, state, timestamp))
}

// Two diffs of one modifiedDate are ordered by the body's timestamp, Bamboo's stamp of the event
// (which a retry keeps; the Svix timestamp of a retry is new): a retried older diff that arrives
// last leaves the newer stock in place.
func TestDiffTiesGoToTheLaterTimestamp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const modified = `"modifiedDate":"2026-03-01T10:00:00.0000000"`
	post(t, h, "msg_new", diff(modified+`,"quantity":5`, "2026-03-01T10:00:09Z"), secret)
	h.Drain()
	post(t, h, "msg_old", diff(modified+`,"quantity":9`, "2026-03-01T10:00:01Z"), secret) // the older diff, retried late
	h.Drain()
	if got := h.Column(t, `SELECT stock_quantity::text FROM mirror.products WHERE external_id = '7'`); got != "5" {
		t.Errorf("stock = %s, want 5 (the diff Bamboo stamped later)", got)
	}
}

// A key a newState leaves out changes nothing: stock and face values stay as they were, and no
// product_changes row claims they changed. Only an explicit null sets NULL ("unlimited").
func TestAbsentIsNotNull(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, "msg_1", diff(`"name":"Card","quantity":10,"minFaceValue":5,"maxFaceValue":50,"price":{"min":4.5,"max":45,"currencyCode":"USD"},"modifiedDate":"2026-03-01T10:00:00"`,
		"2026-03-01T10:00:01Z"), secret)
	h.Drain()
	post(t, h, "msg_2", diff(`"name":"Card v2","price":{"max":44},"modifiedDate":"2026-03-01T11:00:00"`, "2026-03-01T11:00:01Z"), secret)
	h.Drain()
	got := h.Column(t, `SELECT concat_ws('|', name, stock_quantity, min_face_value, max_face_value, price_min, price_max, currency)
		FROM mirror.products WHERE external_id = '7'`)
	if want := "Card v2|10|5|50|4.5|44|USD"; got != want {
		t.Errorf("product = %s, want %s", got, want)
	}
	if got := h.Column(t, `SELECT coalesce(string_agg(field || ':' || coalesce(old_value, 'NULL') || '>' || coalesce(new_value, 'NULL'), ',' ORDER BY field), '')
		FROM mirror.product_changes WHERE product_external_id = '7'`); got != "name:Card>Card v2,price_max:45>44" {
		t.Errorf("product changes = %q, want only name and price_max", got)
	}
	post(t, h, "msg_3", diff(`"quantity":null,"modifiedDate":"2026-03-01T12:00:00"`, "2026-03-01T12:00:01Z"), secret)
	h.Drain()
	if got := h.Column(t, `SELECT coalesce(stock_quantity::text, 'unlimited') FROM mirror.products WHERE external_id = '7'`); got != "unlimited" {
		t.Errorf("stock after an explicit null = %s, want unlimited (NULL)", got)
	}
}

// svix-id values that differ only in bytes text cannot hold (invalid UTF-8) are two deliveries.
func TestSvixIDsComparedExactly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for i, id := range []string{"msg_\xff", "msg_\xfe", "msg_\xff"} {
		body := diff(fmt.Sprintf(`"quantity":%d,"modifiedDate":"2026-03-01T10:00:0%d"`, i, i), "2026-03-01T10:00:00Z")
		want := "stored"
		if i == 2 {
			want, body = "duplicate", diff(`"quantity":0,"modifiedDate":"2026-03-01T10:00:00"`, "2026-03-01T10:00:00Z")
		}
		status, resp := h.Post("/webhooks/bamboo", svixHeaders(t, id, body, secret), body)
		if status != http.StatusOK || !strings.Contains(resp, want) {
			t.Errorf("delivery %d (%q): answered %d %s, want 200 %s", i+1, id, status, resp, want)
		}
	}
	if got := h.Column(t, `SELECT count(*)::text FROM sync.webhook_events`); got != "2" {
		t.Errorf("%s events stored, want 2", got)
	}
}

// Bamboo's webhooks say "succeeded", its Get Order says "Succeeded": the mirror keeps the
// webhooks' spelling whichever path wrote the order, so `status = 'succeeded'` finds them all.
func TestOrderStatusInOneSpelling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	callback := []byte(`{"orderId":1,"requestId":"r-1","status":"succeeded","totalCards":1,"secretKey":"` + callbackKey + `"}`)
	if status, resp := h.Post("/webhooks/bamboo/callback", nil, callback); status != http.StatusOK {
		t.Fatalf("callback answered %d %s", status, resp)
	}
	post(t, h, "msg_o2", []byte(`{"orderId":2,"requestId":"r-2","status":"Processing","completedOn":"2026-03-01T10:00:00Z"}`), secret)
	h.Drain()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/integration/v1.0/orders/r-2" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `{"orderId":2,"requestId":"r-2","status":"Succeeded","total":10,"currency":"USD","items":[]}`)
	}))
	t.Cleanup(api.Close)
	p, err := bamboo.NewPuller(providerapi.Options{Source: "bamboo", BaseURL: api.URL, Username: "u", Password: "p", RequestsPerSecond: 100}, 10)
	if err != nil {
		t.Fatal(err)
	}
	r := webhookstest.Reconciler(h.DB, mirrorsync.ReconcileSource{Name: "bamboo", Puller: p})
	if _, err := r.RunOnce(context.Background(), "bamboo", "orders", mirrorsync.PassOptions{Mode: mirrorsync.ModeIncremental, Trigger: mirrorsync.TriggerManual}); err != nil {
		t.Fatal(err)
	}
	if got := h.Column(t, `SELECT string_agg(external_id || ':' || status, ',' ORDER BY external_id) FROM mirror.orders`); got != "1:succeeded,2:succeeded" {
		t.Errorf("orders = %s, want both succeeded, spelled as the webhooks spell it", got)
	}
}
