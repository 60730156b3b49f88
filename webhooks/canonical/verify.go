package canonical

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// Signature headers.
const (
	TimestampHeader = "x-vambe-timestamp"
	SignatureHeader = "x-vambe-signature"
)

// The events, by the path under /webhooks/{source}/events/.
const (
	EventOrder         = "order"
	EventCheckout      = "checkout"
	EventFulfillment   = "fulfillment"
	EventProduct       = "product"
	EventProductDelete = "product/delete"
)

// entityKey is the body key holding each event's entity, and idKey the entity's id field.
var (
	entityKey = map[string]string{EventOrder: "order", EventCheckout: "checkout", EventFulfillment: "fulfillment",
		EventProduct: "product", EventProductDelete: "product"}
	idKey = map[string]string{EventOrder: "external_id", EventCheckout: "external_id",
		EventFulfillment: "fulfillment_external_id", EventProduct: "external_id", EventProductDelete: "external_id"}
)

// Sign returns the x-vambe-signature for body sent with timestamp.
func Sign(timestamp string, body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify implements webhooks.Verifier: the path names the event, the signature covers the
// timestamp and the raw body, and the store must be one the source accepts. A genuine body that
// breaks the canonical shape is returned with Invalid set: stored as failed, answered 400.
func (s *Source) Verify(r webhooks.Request) (mirrorsync.Delivery, error) {
	event, ok := strings.CutPrefix(r.Path, "/events/")
	if _, known := entityKey[event]; !ok || !known {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: canonical events are posted to /events/{order,checkout,fulfillment,product,product/delete}", webhooks.ErrNotFound)
	}
	ts := r.Header.Get(TimestampHeader)
	sent, err := webhooks.CheckTimestamp(ts, r.Now)
	if err != nil {
		return mirrorsync.Delivery{}, err
	}
	sig := strings.TrimSpace(r.Header.Get(SignatureHeader))
	if sig == "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: missing %s", webhooks.ErrUnauthorized, SignatureHeader)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: %s is not hex", webhooks.ErrUnauthorized, SignatureHeader)
	}
	if !webhooks.HMACMatches(got, s.secrets, []byte(ts+"."), r.Body) {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: no matching signature", webhooks.ErrUnauthorized)
	}

	// Without an event_id, the signed request itself is the delivery: only an exact retry (same
	// path, signed timestamp and body) is a duplicate; a state that returns to an earlier value
	// (stock 12, 11, 12) is news each time.
	d := mirrorsync.Delivery{Type: event, SentAt: sent, Body: r.Body, ID: webhooks.BodyID([]byte(r.Path), []byte(ts), r.Body)}
	var env envelope
	if err := json.Unmarshal(r.Body, &env); err != nil {
		d.Invalid = fmt.Errorf("%w: body is not a JSON object with string external_store_id and event_id: %v", mirrorsync.ErrInvalid, err)
		return d, nil
	}
	if env.EventID != "" {
		// A sender's event ids are unique across its events. The id is kept as sent (escapes
		// and all), so that two ids differing only in bytes JSON decoding would replace differ.
		var raw struct {
			EventID json.RawMessage `json:"event_id"`
		}
		_ = json.Unmarshal(r.Body, &raw) // the body decoded above, event_id and all
		d.ID = webhooks.JSONID(raw.EventID)
	}
	if _, err := s.store(env.ExternalStoreID); err != nil {
		return mirrorsync.Delivery{}, err
	}
	if err := validate(event, r.Body); err != nil {
		d.Invalid = err
	}
	return d, nil
}

// envelope holds the routing fields every canonical body may carry beside its entity.
type envelope struct {
	ExternalStoreID string `json:"external_store_id"`
	EventID         string `json:"event_id"`
}

// store resolves a body's external_store_id to the mirror's store_id: it must be one of
// store_ids when those are set; with exactly one, a body without it is that store's.
func (s *Source) store(external string) (string, error) {
	switch {
	case len(s.storeIDs) == 0:
		return external, nil
	case external == "" && len(s.storeIDs) == 1:
		return s.storeIDs[0], nil
	case external == "":
		return "", fmt.Errorf("%w: external_store_id is required: this source serves several stores", webhooks.ErrNotFound)
	case !slices.Contains(s.storeIDs, external):
		return "", fmt.Errorf("%w: external_store_id %q is not one of this source's stores", webhooks.ErrNotFound, external)
	}
	return external, nil
}

// validate checks what the canonical shape requires: the entity object and its id. The error
// names the field, because the sender is the user's own platform and can fix it.
func validate(event string, body []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return fmt.Errorf("%w: body is not a JSON object", mirrorsync.ErrInvalid)
	}
	key := entityKey[event]
	raw, ok := top[key]
	if !ok || string(raw) == "null" {
		return fmt.Errorf("%w: %s is required", mirrorsync.ErrInvalid, key)
	}
	var entity map[string]json.RawMessage
	if err := json.Unmarshal(raw, &entity); err != nil {
		return fmt.Errorf("%w: %s must be an object", mirrorsync.ErrInvalid, key)
	}
	var id string
	if err := json.Unmarshal(entity[idKey[event]], &id); err != nil || strings.TrimSpace(id) == "" {
		return fmt.Errorf("%w: %s.%s is required (a non-empty string)", mirrorsync.ErrInvalid, key, idKey[event])
	}
	return nil
}
