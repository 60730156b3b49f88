package barecommerce

import (
	"github.com/storemirror/storemirror/webhooks"
)

// Options configure a BareCommerce source.
type Options struct {
	Name    string   // the configured source name
	Secrets []string // subscription secrets; several during a rotation
}

// Source is one configured BareCommerce source.
type Source struct {
	name    string
	secrets []string
}

var _ webhooks.Verifier = (*Source)(nil)

// New returns a BareCommerce source.
func New(o Options) (*Source, error) {
	return &Source{name: o.Name, secrets: o.Secrets}, nil
}
