// Package kinds is the list of provider kinds storemirror is built with: the one line to add for
// a new provider (docs/adding-a-provider.md). The daemon and the demo both build from it.
package kinds

import (
	"github.com/storemirror/storemirror/provider"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/canonical"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

// All is every provider kind, in the order check-config names them.
var All = provider.Registry{
	bamboo.Kind,
	stickyio.Kind,
	barecommerce.Kind,
	canonical.Kind,
	backinstock.Kind,
}
