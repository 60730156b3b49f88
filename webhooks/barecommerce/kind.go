package barecommerce

import (
	_ "embed"
	"fmt"
	"net/http"
	"time"

	"github.com/storemirror/storemirror/provider"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Kind registers BareCommerce: HMAC-signed event webhooks, and the store API behind a Bearer token.
var Kind = provider.Kind{
	Name: "barecommerce",
	New: func(o provider.Options) (provider.Source, error) {
		so := Options{Name: o.Name, Secrets: o.Secrets}
		if o.API != nil {
			so.StoreID = o.API.StoreID // deliveries that name no store belong to the one pulled
		}
		return provider.AsSource(New(so))
	},
	Validate: func(o provider.Options) provider.Problems {
		if !o.API.Enabled() {
			return nil
		}
		return checkStoreID(o.API.StoreID)
	},
	API: &provider.API{Auth: provider.Bearer, NewPuller: func(o provider.Options) (mirrorsync.Puller, error) {
		return provider.AsPuller(NewPuller(o.API.Client, o.API.StoreID, o.API.PageSize))
	}},
	Sample: sample,
}

// checkStoreID faults a puller without its store: every BareCommerce resource is store-scoped.
func checkStoreID(storeID string) provider.Problems {
	var ps provider.Problems
	if storeID == "" {
		ps.Add("api.store_id", "the store to pull is required (every barecommerce resource is store-scoped)")
	}
	return ps
}

//go:embed testdata/order-created.json
var sampleBody []byte

// sample is an order.created event under a fresh id, signed with the first secret.
func sample(secrets []string, run string, _ time.Time) (provider.Sample, error) {
	body, err := provider.SetJSON(sampleBody, "evt_demo_"+run, "id")
	if err != nil {
		return provider.Sample{}, fmt.Errorf("barecommerce sample: %w", err)
	}
	if len(secrets) == 0 {
		return provider.Sample{}, fmt.Errorf("barecommerce sample: no secret to sign with")
	}
	return provider.Sample{
		Title:  "BareCommerce order.created",
		Header: http.Header{SignatureHeader: {Sign(body, secrets[0])}},
		Body:   body,
		Show: []provider.Rows{
			{Table: "orders", Columns: []string{"store_id", "external_id", "order_number", "status", "payment_status", "total", "placed_at"}},
			{Table: "order_items", Columns: []string{"order_external_id", "line_no", "product_external_id", "title", "quantity", "unit_price"}},
		},
	}, nil
}
