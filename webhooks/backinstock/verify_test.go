package backinstock

import (
	"net/http"
	"testing"
	"time"

	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// The worked example of docs/reference/signatures.md (base64 HMAC-SHA256, as Shopify signs): key "hush".
func TestSignKnownAnswer(t *testing.T) {
	if got := Sign([]byte(`{"test": 2432232314}`), "hush"); got != "GSMkouYq910XCW7wBeiXYHW1KhmYc/L3xj5h5r26zw4=" {
		t.Errorf("Sign = %q, want the published value", got)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"notification_id":12345,"topic":"notification/sent","timestamp":"2023-09-11T12:13:45Z"}`)
	rotating, _ := New(Options{Name: "bis", Secrets: []string{"new-api-key", "old-api-key"}})
	rotated, _ := New(Options{Name: "bis", Secrets: []string{"new-api-key"}})
	hdr := func(v string) http.Header { return webhookstest.Header(SignatureHeader, v) }
	cases := []webhookstest.VerifyCase{
		{"good", rotating, hdr(Sign(body, "new-api-key")), body, true},
		{"rotated: old key still valid", rotating, hdr(Sign(body, "old-api-key")), body, true},
		{"rotated: old key retired", rotated, hdr(Sign(body, "old-api-key")), body, false},
		{"wrong key", rotating, hdr(Sign(body, "wrong-api-key")), body, false},
		{"body changed", rotating, hdr(Sign(body, "new-api-key")), []byte(`{"notification_id":1}`), false},
		{"missing", rotating, hdr(""), body, false},
		{"not base64", rotating, hdr("!!!"), body, false},
	}
	webhookstest.CheckVerify(t, webhooks.Request{Now: time.Now()}, cases, "12345:notification/sent", "notification/sent")
}
