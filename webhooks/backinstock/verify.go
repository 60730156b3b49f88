package backinstock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// SignatureHeader carries the signature: base64 HMAC-SHA256 of the raw body keyed with the API key.
const SignatureHeader = "X-BIS-Signature"

// Sign returns the signature header value for body: what Back in Stock sends.
func Sign(body []byte, apiKey string) string {
	m := hmac.New(sha256.New, []byte(apiKey))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify implements webhooks.Verifier.
func (s *Source) Verify(r webhooks.Request) (mirrorsync.Delivery, error) {
	if r.Path != "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: backinstock takes /webhooks/{source} only", webhooks.ErrNotFound)
	}
	sig := strings.TrimSpace(r.Header.Get(SignatureHeader))
	if sig == "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: missing %s", webhooks.ErrUnauthorized, SignatureHeader)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: %s is not base64", webhooks.ErrUnauthorized, SignatureHeader)
	}
	if !webhooks.HMACMatches(got, s.secrets, r.Body) {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: no matching signature", webhooks.ErrUnauthorized)
	}
	var n struct {
		NotificationID json.Number `json:"notification_id"`
		Topic          string      `json:"topic"`
		Test           any         `json:"test"`
	}
	// Another shape leaves n empty: no notification id, and no test flag.
	_ = json.Unmarshal(r.Body, &n)
	id := webhooks.BodyID(r.Body) // genuine but without a notification id: stored, and marked when applied
	switch {
	case n.Test == true:
		// A test delivery may reuse a real notification's id and topic: it must never take the
		// real one's place (a real notification's id starts with a digit).
		id = "test:" + id
	case n.NotificationID != "":
		id = n.NotificationID.String() + ":" + n.Topic
	}
	return mirrorsync.Delivery{ID: id, Type: n.Topic, Body: r.Body}, nil
}
