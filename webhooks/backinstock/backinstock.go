package backinstock

import (
	"github.com/storemirror/storemirror/webhooks"
)

// Options configure a Back in Stock source.
type Options struct {
	Name    string   // the configured source name
	Secrets []string // API keys the webhooks are signed with; several during a rotation
}

// Source is one configured Back in Stock source.
type Source struct {
	name    string
	secrets []string
}

var _ webhooks.Verifier = (*Source)(nil)

// New returns a Back in Stock source.
func New(o Options) (*Source, error) {
	return &Source{name: o.Name, secrets: o.Secrets}, nil
}
