package bamboo

import (
	"fmt"

	"github.com/storemirror/storemirror/webhooks"
)

// Options configure a Bamboo source.
type Options struct {
	Name    string   // the configured source name
	Secrets []string // Svix secrets (whsec_...) and the Notification URL secretKey; several during a rotation
}

// Source is one configured Bamboo source: it verifies its webhooks and decodes them.
type Source struct {
	*verifier
	name string
}

var _ webhooks.Verifier = (*Source)(nil)

// New returns a Bamboo source.
func New(o Options) (*Source, error) {
	v, err := newVerifier(o.Secrets)
	if err != nil {
		return nil, fmt.Errorf("bamboo source %s: %w", o.Name, err)
	}
	return &Source{verifier: v, name: o.Name}, nil
}
