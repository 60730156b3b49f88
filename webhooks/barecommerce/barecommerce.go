package barecommerce

import (
	"github.com/storemirror/storemirror/webhooks"
)

// Options configure a BareCommerce source.
type Options struct {
	Name    string   // the configured source name
	Secrets []string // subscription secrets; several during a rotation
	// StoreID is the store of deliveries that name none (neither the envelope's storeId nor the
	// data's): normally the api.store_id, so that such an event lands on the row the store's
	// other events and the reconciler keep. Empty: those rows have store_id "".
	StoreID string
}

// Source is one configured BareCommerce source.
type Source struct {
	name    string
	secrets []string
	storeID string // the default store
}

var _ webhooks.Verifier = (*Source)(nil)

// New returns a BareCommerce source.
func New(o Options) (*Source, error) {
	return &Source{name: o.Name, secrets: o.Secrets, storeID: o.StoreID}, nil
}
