package bamboo

import (
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// FuzzDecode: no body, however malformed, makes the decoder panic.
func FuzzDecode(f *testing.F) {
	for _, b := range webhookstest.Fixtures(f) {
		f.Add(b, "")
	}
	f.Add([]byte(`{"type":"productupdated.v1","data":{"products":[{"id":1,"newState":null}]}}`), "")
	f.Add([]byte(`{"orderId":"x","createdOn":5}`), callbackType)
	s, err := New(Options{Name: "bamboo", Secrets: []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, typ string) {
		changes, err := s.Decode(mirrorsync.Event{Source: "bamboo", Type: typ, Body: body, ReceivedAt: time.Now()})
		if err == nil {
			webhookstest.Usable(t, changes)
		}
	})
}
