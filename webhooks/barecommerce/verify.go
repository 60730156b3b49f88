package barecommerce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// SignatureHeader carries the signature: hex HMAC-SHA256 of the raw body with the subscription
// secret, optionally prefixed "sha256=".
const SignatureHeader = "X-Webhook-Signature"

// Sign returns the signature header value for body: what BareCommerce sends.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify implements webhooks.Verifier.
func (s *Source) Verify(r webhooks.Request) (mirrorsync.Delivery, error) {
	if r.Path != "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: barecommerce takes /webhooks/{source} only", webhooks.ErrNotFound)
	}
	sig := strings.TrimSpace(r.Header.Get(SignatureHeader))
	if sig == "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: missing %s", webhooks.ErrUnauthorized, SignatureHeader)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "sha256="))
	if err != nil {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: %s is not hex", webhooks.ErrUnauthorized, SignatureHeader)
	}
	if !webhooks.HMACMatches(got, s.secrets, r.Body) {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: no matching signature", webhooks.ErrUnauthorized)
	}
	var env struct {
		ID   json.RawMessage `json:"id"`
		Type string          `json:"type"`
	}
	parsed := json.Unmarshal(r.Body, &env) == nil
	id := webhooks.JSONID(env.ID)
	if id == "" {
		id = webhooks.BodyID(r.Body) // genuine but without an event id: stored, and marked when applied
	}
	d := mirrorsync.Delivery{ID: id, Type: env.Type, Body: r.Body}
	if parsed && env.Type != "" {
		// A type of another shape (a number, none) is the decoder's to judge when applying.
		_, _, d.Ignored = screen(env.Type)
	}
	return d, nil
}
