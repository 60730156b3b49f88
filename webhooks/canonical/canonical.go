package canonical

import (
	"github.com/storemirror/storemirror/webhooks"
)

// Options configure a canonical source.
type Options struct {
	Name     string   // the configured source name
	Secrets  []string // signing secrets; several during a rotation
	StoreIDs []string // accepted external_store_id values; empty: any
}

// Source is one configured canonical source.
type Source struct {
	name     string
	secrets  []string
	storeIDs []string
}

var _ webhooks.Verifier = (*Source)(nil)

// New returns a canonical source.
func New(o Options) (*Source, error) {
	return &Source{name: o.Name, secrets: o.Secrets, storeIDs: o.StoreIDs}, nil
}
