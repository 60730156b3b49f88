package stickyio

import (
	_ "embed"
	"fmt"
	"net/http"
	"time"

	"github.com/storemirror/storemirror/provider"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Kind registers sticky.io: encrypted product webhooks, and the v2 products API behind HTTP Basic.
var Kind = provider.Kind{
	Name: "stickyio",
	New: func(o provider.Options) (provider.Source, error) {
		return provider.AsSource(New(Options{Name: o.Name, Secrets: o.Secrets}))
	},
	Validate: func(o provider.Options) provider.Problems { return checkKeys(o.Secrets) },
	API: &provider.API{Auth: provider.Basic, NewPuller: func(o provider.Options) (mirrorsync.Puller, error) {
		return provider.AsPuller(NewPuller(o.API.Client, o.API.PageSize))
	}},
	Sample: sample,
}

// checkKeys faults the secrets that cannot be a key phrase: the key is the phrase itself.
func checkKeys(secrets []string) provider.Problems {
	var ps provider.Problems
	for i, k := range secrets {
		if len(k) != KeySize {
			ps.Add(fmt.Sprintf("secrets[%d]", i), "a sticky.io key phrase is exactly %d characters (this one has %d)", KeySize, len(k))
		}
	}
	return ps
}

//go:embed testdata/product-created-regular.json
var sampleBody []byte

// sample is a product.created snapshot with a fresh data.id, encrypted with the first key phrase.
func sample(secrets []string, run string, _ time.Time) (provider.Sample, error) {
	plain, err := provider.SetJSON(sampleBody, "demo-"+run, "data", "id")
	if err != nil {
		return provider.Sample{}, fmt.Errorf("stickyio sample: %w", err)
	}
	if len(secrets) == 0 {
		return provider.Sample{}, fmt.Errorf("stickyio sample: no key phrase to encrypt with")
	}
	body, err := Encrypt(plain, secrets[0])
	if err != nil {
		return provider.Sample{}, fmt.Errorf("stickyio sample: %w", err)
	}
	return provider.Sample{
		Title:  "sticky.io product.created (encrypted)",
		Header: http.Header{"Content-Type": {"text/plain"}},
		Body:   body,
		Show: []provider.Rows{
			{Table: "products", Columns: []string{"external_id", "kind", "name", "sku", "price", "vertical_name",
				"category_name", "is_taxable", "source_updated_at"}},
			{Table: "product_variants", Columns: []string{"product_external_id", "external_id", "sku", "price", "stock_quantity"}},
			{Table: "variant_attributes", Columns: []string{"variant_external_id", "attribute_name", "option_name"}},
		},
	}, nil
}
