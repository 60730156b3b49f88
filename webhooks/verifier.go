package webhooks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Tolerance is how far a signed timestamp may be from now, either way (docs/reference/signatures.md).
const Tolerance = 5 * time.Minute

// Request is a webhook request as a Verifier sees it.
type Request struct {
	Path   string // what follows /webhooks/{source}: "", "/callback", "/events/order"...
	Header http.Header
	Body   []byte // the raw body, read whole (and capped)
	Now    time.Time
}

// Verifier authenticates the requests of one configured source and extracts the delivery to
// store. It returns an error wrapping ErrUnauthorized (401, nothing stored) or ErrNotFound
// (404); a genuine request whose body cannot be used comes back as a Delivery with Invalid set.
type Verifier interface {
	Verify(r Request) (mirrorsync.Delivery, error)
}

// HMACMatches reports whether mac is the HMAC-SHA256 of the concatenated parts under any of
// secrets. Every secret is tried, whatever matched, so the time taken says nothing of which.
func HMACMatches(mac []byte, secrets []string, parts ...[]byte) bool {
	ok := false
	for _, secret := range secrets {
		m := hmac.New(sha256.New, []byte(secret))
		for _, p := range parts {
			m.Write(p)
		}
		ok = hmac.Equal(mac, m.Sum(nil)) || ok
	}
	return ok
}

// CheckTimestamp checks a signed Unix timestamp against now and the Tolerance. Values above 1e12
// are taken as milliseconds. It returns the time the timestamp names.
func CheckTimestamp(value string, now time.Time) (time.Time, error) {
	if value == "" {
		return time.Time{}, fmt.Errorf("%w: missing timestamp", ErrUnauthorized)
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: malformed timestamp", ErrUnauthorized)
	}
	var t time.Time
	if n > 1e12 {
		t = time.UnixMilli(n)
	} else {
		t = time.Unix(n, 0)
	}
	if d := now.Sub(t); d > Tolerance || d < -Tolerance {
		return time.Time{}, fmt.Errorf("%w: timestamp outside the %s tolerance", ErrUnauthorized, Tolerance)
	}
	return t.UTC(), nil
}

// BodyID is a delivery id derived from content, for deliveries that carry none: a resend of the
// same bytes gets the same id and is stored once.
func BodyID(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:32]
}

// JSONID renders a delivery id found in a JSON body exactly as sent: a string's bytes between
// its quotes, escapes and all, or a number's text ("" when raw is absent, null or neither).
// Decoding the string instead would turn every invalid UTF-8 byte into U+FFFD, and so would
// make two different ids one; a provider's retry repeats the same bytes, so this form is stable.
func JSONID(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"':
		return string(raw[1 : len(raw)-1])
	case len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		return string(raw)
	}
	return ""
}
