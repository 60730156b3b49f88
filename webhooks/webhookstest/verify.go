package webhookstest

import (
	"errors"
	"net/http"
	"testing"

	mirrorsync "github.com/storemirror/storemirror/sync"
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
// to refuse must fail with webhooks.ErrUnauthorized, one to accept must not fail, and its
// delivery must pass accepted (when not nil).
func CheckVerify(t *testing.T, base webhooks.Request, cases []VerifyCase, accepted func(t *testing.T, c VerifyCase, d mirrorsync.Delivery)) {
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
			case accepted != nil:
				accepted(t, c, d)
			}
		})
	}
}
