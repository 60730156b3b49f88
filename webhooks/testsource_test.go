package webhooks_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// testSource is a minimal provider for testing the server and the apply loop: bodies are
// {"id":..., "product":..., "name":..., "at":...}, signed with a hex HMAC in X-Test-Signature.
type testSource struct {
	name   string
	secret string
}

func sign(body []byte, secret string) http.Header {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return http.Header{"X-Test-Signature": {hex.EncodeToString(m.Sum(nil))}}
}

func (s testSource) Verify(r webhooks.Request) (mirrorsync.Delivery, error) {
	if r.Path != "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: no such path", webhooks.ErrNotFound)
	}
	got, _ := hex.DecodeString(r.Header.Get("X-Test-Signature"))
	if !webhooks.HMACMatches(got, []string{s.secret}, r.Body) {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: bad signature", webhooks.ErrUnauthorized)
	}
	var ev testEvent
	_ = json.Unmarshal(r.Body, &ev) // another shape leaves ev empty: no id, as a real source
	return mirrorsync.Delivery{ID: ev.ID, Type: "test", Body: r.Body}, nil
}

type testEvent struct {
	ID      string    `json:"id"`
	Product string    `json:"product"`
	Name    string    `json:"name"`
	At      time.Time `json:"at"`
}

func (s testSource) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	var e testEvent
	if err := json.Unmarshal(ev.Body, &e); err != nil {
		return nil, err
	}
	if e.Product == "" {
		return nil, mirrorsync.Ignore("no product")
	}
	return []mirrorsync.Change{{
		Key:     mirrorsync.Key{Source: s.name, ExternalID: e.Product},
		Version: mirrorsync.Version{At: e.At},
		Entity:  &mirrorsync.Product{Name: mirrorsync.Some(e.Name)},
	}}, nil
}

func testBody(id, product, name string, at time.Time) []byte {
	b, _ := json.Marshal(testEvent{ID: id, Product: product, Name: name, At: at})
	return b
}
