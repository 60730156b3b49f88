package bamboo

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// Svix's published example (the one its own libraries test with), recomputed: a known-answer
// test of the scheme. docs/reference/signatures.md shows it.
func TestVerifySvixKnownAnswer(t *testing.T) {
	v, err := newVerifier([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("svix-timestamp", "1614265330")
	h.Set("svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	d, err := v.Verify(webhooks.Request{Header: h, Body: []byte(`{"test": 2432232314}`), Now: time.Unix(1614265330, 0)})
	if err != nil {
		t.Fatalf("verify the published example: %v", err)
	}
	if d.ID != "msg_p5jXN8AQM9LWM0D4loKWxJek" || !d.SentAt.Equal(time.Unix(1614265330, 0)) {
		t.Errorf("delivery id %q sent %v; want the svix-id and timestamp", d.ID, d.SentAt)
	}
}

const (
	oldSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	newSecret = "whsec_c3RvcmVtaXJyb3ItdGVzdC1zZWNyZXQtMg=="
)

// SignSvix returns the three Svix headers for body, signed with secret at ts.
func signSvix(t *testing.T, secret, id string, ts time.Time, body []byte, prefix string) http.Header {
	t.Helper()
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(prefix+"-id", id)
	h.Set(prefix+"-timestamp", strconv.FormatInt(ts.Unix(), 10))
	h.Set(prefix+"-signature", sig)
	return h
}

func TestVerifySvix(t *testing.T) {
	now := time.Now()
	body := []byte(`{"orderId":1,"status":"succeeded"}`)
	rotating, err := newVerifier([]string{newSecret, oldSecret}) // during a rotation both are valid
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := newVerifier([]string{newSecret}) // after it, only the new one
	if err != nil {
		t.Fatal(err)
	}
	tampered := signSvix(t, oldSecret, "msg_1", now, body, "svix")
	tampered.Set("svix-id", "msg_2") // the id is signed too
	noSig := signSvix(t, oldSecret, "msg_1", now, body, "svix")
	noSig.Del("svix-signature")
	several := signSvix(t, oldSecret, "msg_1", now, body, "svix")
	several.Set("svix-signature", "v1,bm90LWl0 "+several.Get("svix-signature"))
	cases := []webhookstest.VerifyCase{
		{"good", rotating, signSvix(t, newSecret, "msg_1", now, body, "svix"), body, true},
		{"rotated: old secret still valid", rotating, signSvix(t, oldSecret, "msg_1", now, body, "svix"), body, true},
		{"rotated: old secret retired", rotated, signSvix(t, oldSecret, "msg_1", now, body, "svix"), body, false},
		{"webhook-* headers", rotating, signSvix(t, newSecret, "msg_1", now, body, "webhook"), body, true},
		{"several signatures, one matching", rotating, several, body, true},
		{"wrong secret", rotating, signSvix(t, "whsec_d3Jvbmctc2VjcmV0", "msg_1", now, body, "svix"), body, false},
		{"body changed", rotating, signSvix(t, newSecret, "msg_1", now, body, "svix"), []byte(`{"orderId":2}`), false},
		{"id changed", rotating, tampered, body, false},
		{"missing signature", rotating, noSig, body, false},
		{"missing headers", rotating, http.Header{}, body, false},
		{"expired", rotating, signSvix(t, newSecret, "msg_1", now.Add(-6*time.Minute), body, "svix"), body, false},
		{"from the future", rotating, signSvix(t, newSecret, "msg_1", now.Add(6*time.Minute), body, "svix"), body, false},
		{"just inside the tolerance", rotating, signSvix(t, newSecret, "msg_1", now.Add(-4*time.Minute), body, "svix"), body, true},
	}
	webhookstest.CheckVerify(t, webhooks.Request{Now: now}, cases, "msg_1", orderCompleted) // a bare order body is the order webhook
}

func TestVerifyCallback(t *testing.T) {
	v, err := newVerifier([]string{oldSecret, "legacy-callback-key"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"orderId":12345,"status":"succeeded","totalCards":10,"secretKey":"legacy-callback-key","requestId":"r-1"}`)
	d, err := v.Verify(webhooks.Request{Path: CallbackPath, Body: body, Now: time.Now()})
	if err != nil {
		t.Fatalf("verify callback: %v", err)
	}
	if string(d.Body) != `{"orderId":12345,"requestId":"r-1","status":"succeeded","totalCards":10}` {
		t.Errorf("stored body = %s, want the callback without its secretKey", d.Body)
	}
	if d.Type != callbackType {
		t.Errorf("type = %q, want %q", d.Type, callbackType)
	}
	for name, body := range map[string]string{
		"wrong key":   `{"orderId":1,"secretKey":"legacy-callback-kez"}`,
		"no key":      `{"orderId":1}`,
		"empty key":   `{"orderId":1,"secretKey":""}`,
		"not json":    `secretKey=legacy-callback-key`,
		"key not str": `{"orderId":1,"secretKey":1}`,
	} {
		if _, err := v.Verify(webhooks.Request{Path: CallbackPath, Body: []byte(body), Now: time.Now()}); !errors.Is(err, webhooks.ErrUnauthorized) {
			t.Errorf("%s: want ErrUnauthorized, got %v", name, err)
		}
	}
	if _, err := v.Verify(webhooks.Request{Path: "/other", Body: body, Now: time.Now()}); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("unknown path: want ErrNotFound, got %v", err)
	}
}
