package barecommerce

import (
	"net/http"
	"testing"
	"time"

	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"type":"order.paid","id":"evt_789","data":{"id":"order_abc"}}`)
	rotating, _ := New(Options{Name: "bc", Secrets: []string{"whsec_new_secret_1234", "whsec_old_secret_1234"}})
	rotated, _ := New(Options{Name: "bc", Secrets: []string{"whsec_new_secret_1234"}})
	hdr := func(v string) http.Header { return webhookstest.Header(SignatureHeader, v) }
	// A known answer, computed outside Go: printf %s "$body" | openssl dgst -sha256 -hmac whsec_old_secret_1234
	if got := Sign(body, "whsec_old_secret_1234"); got != "bc8ae24bb05959511b93ce40e185fd12a9d3c89b11b835779460584194d97044" {
		t.Fatalf("Sign = %q, want openssl's HMAC", got)
	}
	cases := []webhookstest.VerifyCase{
		{"good", rotating, hdr(Sign(body, "whsec_new_secret_1234")), body, true},
		{"sha256= prefix", rotating, hdr("sha256=" + Sign(body, "whsec_new_secret_1234")), body, true},
		{"rotated: old secret still valid", rotating, hdr(Sign(body, "whsec_old_secret_1234")), body, true},
		{"rotated: old secret retired", rotated, hdr(Sign(body, "whsec_old_secret_1234")), body, false},
		{"wrong secret", rotating, hdr(Sign(body, "whsec_wrong_secret_12")), body, false},
		{"body changed", rotating, hdr(Sign(body, "whsec_new_secret_1234")), []byte(`{"id":"evt_790"}`), false},
		{"missing", rotating, hdr(""), body, false},
		{"not hex", rotating, hdr("zz"), body, false},
	}
	webhookstest.CheckVerify(t, webhooks.Request{Now: time.Now()}, cases, "evt_789", "order.paid")
}
