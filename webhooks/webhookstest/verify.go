package webhookstest

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/storemirror/storemirror/webhooks"
)

// VerifyCase is a request's header and body for a source's Verify, and whether it must accept
// them. An alias of a plain struct, so that a table of them needs no field names.
type VerifyCase = struct {
	Name   string
	Source webhooks.Verifier
	Header http.Header
	Body   []byte
	OK     bool
}

// CheckVerify runs each case as a subtest, on base with the case's header and body: a request
// to refuse must fail with webhooks.ErrUnauthorized, one to accept must give a valid delivery
// of id and typ that carries the body as received.
func CheckVerify(t *testing.T, base webhooks.Request, cases []VerifyCase, id, typ string) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			r := base
			r.Header, r.Body = c.Header, c.Body
			d, err := c.Source.Verify(r)
			switch {
			case !c.OK:
				if !errors.Is(err, webhooks.ErrUnauthorized) {
					t.Errorf("want ErrUnauthorized, got %v", err)
				}
			case err != nil:
				t.Fatalf("want accepted, got %v", err)
			case d.ID != id || d.Type != typ || !bytes.Equal(d.Body, c.Body) || d.Invalid != nil:
				t.Errorf("delivery id %q type %q invalid %v body %q; want %s, %s, valid, the body as received", d.ID, d.Type, d.Invalid, d.Body, id, typ)
			}
		})
	}
}

// Header returns a header with key set to value, or none at all when value is "" (a request
// without it).
func Header(key, value string) http.Header {
	h := http.Header{}
	if value != "" {
		h.Set(key, value)
	}
	return h
}
