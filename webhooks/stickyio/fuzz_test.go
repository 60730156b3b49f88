package stickyio

import (
	"encoding/json"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const fuzzKey = "0123456789abcdefghijklmnopqrstuv"

// FuzzDecode: no decrypted payload, however malformed, makes the decoder panic.
func FuzzDecode(f *testing.F) {
	for _, b := range webhookstest.Fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"type":"product.updated","data":{"object":{"id":1,"variants":[{"attributes":[null]}]}}}`))
	s, err := New(Options{Name: "sticky", Secrets: []string{fuzzKey}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		body, err := Encrypt(plain, fuzzKey)
		if err != nil {
			t.Fatal(err)
		}
		changes, err := s.Decode(mirrorsync.Event{Source: "sticky", Body: body, ReceivedAt: time.Now()})
		if err == nil {
			webhookstest.Usable(t, changes)
		}
	})
}

// FuzzDecrypt: no body makes decryption panic (bodies come from anyone on the network).
func FuzzDecrypt(f *testing.F) {
	f.Add([]byte("not base64"))
	f.Add([]byte(`"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _, _ = decrypt(body, [][]byte{[]byte(fuzzKey)}, new(json.RawMessage)) // any body: it must not panic, and an error is the usual answer
	})
}
