package bamboo

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strings"

	svix "github.com/svix/svix-webhooks/go"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// CallbackPath is where Bamboo's Notification URL callback is posted, under /webhooks/{source}.
const CallbackPath = "/callback"

// verifier checks Bamboo's two kinds of requests against the source's secrets.
type verifier struct {
	hooks   []*svix.Webhook // one per secret that is a Svix secret (whsec_...)
	secrets []string        // every secret, for the callback's echoed secretKey
}

func newVerifier(secrets []string) (*verifier, error) {
	if err := checkSecrets(secrets).Err(); err != nil {
		return nil, err
	}
	v := &verifier{secrets: secrets}
	for _, s := range secrets {
		if !strings.HasPrefix(s, "whsec_") {
			continue // a Notification URL secretKey, not a Svix secret
		}
		wh, err := svix.NewWebhook(s)
		if err != nil {
			return nil, fmt.Errorf("svix secret: %w", err)
		}
		v.hooks = append(v.hooks, wh)
	}
	return v, nil
}

// Verify implements webhooks.Verifier.
func (v *verifier) Verify(r webhooks.Request) (mirrorsync.Delivery, error) {
	switch r.Path {
	case "":
		return v.verifySvix(r)
	case CallbackPath:
		return v.verifyCallback(r)
	}
	return mirrorsync.Delivery{}, fmt.Errorf("%w: bamboo takes /webhooks/{source} and %s", webhooks.ErrNotFound, CallbackPath)
}

// verifySvix checks a Svix signature: base64 HMAC-SHA256 of "{id}.{timestamp}.{body}" with any
// of the secrets (several during a rotation), and a timestamp within the tolerance.
func (v *verifier) verifySvix(r webhooks.Request) (mirrorsync.Delivery, error) {
	h := r.Header
	id, ts := h.Get("svix-id"), h.Get("svix-timestamp")
	if id == "" || ts == "" || h.Get("svix-signature") == "" {
		// White-labelled Svix senders use the Standard Webhooks names.
		id, ts = h.Get("webhook-id"), h.Get("webhook-timestamp")
		if id == "" || ts == "" || h.Get("webhook-signature") == "" {
			return mirrorsync.Delivery{}, fmt.Errorf("%w: missing svix-id, svix-timestamp or svix-signature", webhooks.ErrUnauthorized)
		}
	}
	sent, err := webhooks.CheckTimestamp(ts, r.Now)
	if err != nil {
		return mirrorsync.Delivery{}, err
	}
	// The timestamp was checked above against the request's clock; svix checks the signature
	// (in constant time).
	for _, wh := range v.hooks {
		if wh.VerifyIgnoringTimestamp(r.Body, h) == nil {
			return mirrorsync.Delivery{ID: id, Type: eventType(r.Body), SentAt: sent, Body: r.Body}, nil
		}
	}
	return mirrorsync.Delivery{}, fmt.Errorf("%w: no matching signature", webhooks.ErrUnauthorized)
}

// verifyCallback checks the Notification URL callback: no HMAC; Bamboo echoes the configured
// secretKey in the body. The stored body is the callback without its secretKey.
func (v *verifier) verifyCallback(r webhooks.Request) (mirrorsync.Delivery, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: callback body is not a JSON object", webhooks.ErrUnauthorized)
	}
	var key string
	if err := json.Unmarshal(body["secretKey"], &key); err != nil || key == "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: callback without secretKey", webhooks.ErrUnauthorized)
	}
	match := 0
	for _, s := range v.secrets {
		match |= subtle.ConstantTimeCompare([]byte(key), []byte(s))
	}
	if match != 1 {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: wrong secretKey", webhooks.ErrUnauthorized)
	}
	delete(body, "secretKey")
	stripped, err := json.Marshal(body)
	if err != nil {
		return mirrorsync.Delivery{}, fmt.Errorf("re-encode callback: %w", err)
	}
	return mirrorsync.Delivery{ID: webhooks.BodyID([]byte(CallbackPath), stripped), Type: callbackType, Body: stripped}, nil
}
