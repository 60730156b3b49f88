package webhooks_test

import (
	"net/http"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// A stored delivery's request line is at debug (it is in the inbox, and at thousands a second
// its lines would trip journald's rate limit); a rejected one stays at info.
func TestRequestLogLevels(t *testing.T) {
	t.Parallel()
	log, hook := test.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	h := webhookstest.New(t, map[string]webhookstest.Source{"shop": testSource{name: "shop", secret: "s3cret"}},
		func(o *webhooks.Options, _ *webhookstest.Harness) { o.Log = logrus.NewEntry(log) })
	body := []byte(`{"id":"d-1","product":"p-1","name":"Tea"}`)
	levels := func() []logrus.Level {
		var ls []logrus.Level
		for _, e := range hook.AllEntries() {
			if e.Message == "request" {
				ls = append(ls, e.Level)
			}
		}
		hook.Reset()
		return ls
	}
	if status, _ := h.Post("/webhooks/shop", sign(body, "s3cret"), body); status != http.StatusOK {
		t.Fatalf("genuine delivery: %d", status)
	}
	if ls := levels(); len(ls) != 1 || ls[0] != logrus.DebugLevel {
		t.Errorf("a stored delivery's request lines: %v, want one at debug", ls)
	}
	if status, _ := h.Post("/webhooks/shop", sign(body, "wrong"), body); status != http.StatusUnauthorized {
		t.Fatalf("wrongly signed delivery: %d", status)
	}
	if ls := levels(); len(ls) != 1 || ls[0] != logrus.InfoLevel {
		t.Errorf("a rejected delivery's request lines: %v, want one at info", ls)
	}
}
