package backinstock_test

import (
	"net/http"
	"strings"
	"testing"
)

// A test delivery ("test": true) never shares a delivery id with the real notification of the
// same id and topic: sent first, it must not make the real one a "duplicate" that is lost.
func TestTestDeliveryDoesNotShadowTheRealOne(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	test := fixture(t, "test-delivery") // notification 1, notification/sent
	real := edit(t, test, func(m map[string]any) { delete(m, "test") })
	for _, c := range []struct {
		body []byte
		want string
	}{{test, "stored"}, {real, "stored"}, {real, "duplicate"}} {
		if status, resp := h.Post(path, signed(c.body, key), c.body); status != http.StatusOK || !strings.Contains(resp, c.want) {
			t.Errorf("answered %d %s, want 200 %s", status, resp, c.want)
		}
	}
	out := h.Drain()
	if len(out) != 2 || out[0].Status != "ignored" || out[1].Status != "applied" {
		t.Fatalf("outcomes = %+v, want the test delivery ignored and the real one applied", out)
	}
	var got []string
	if err := h.DB.SQL().Select(&got, `SELECT external_id || ':' || status FROM mirror.stock_notifications`); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "1:sent" {
		t.Errorf("notifications = %v, want 1:sent", got)
	}
}
