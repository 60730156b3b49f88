package canonical

import (
	_ "embed"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/storemirror/storemirror/provider"
)

// Kind registers the canonical event API: Vambe-format events the user's own platform posts,
// for any number of stores. It has no API to pull.
var Kind = provider.Kind{
	Name: "canonical",
	New: func(o provider.Options) (provider.Source, error) {
		return provider.AsSource(New(Options{Name: o.Name, Secrets: o.Secrets, StoreIDs: o.StoreIDs}))
	},
	StoreIDs: true,
	Sample:   sample,
}

//go:embed testdata/order.json
var sampleBody []byte

// sample is an order event under a fresh event_id, signed with the first secret.
func sample(secrets []string, run string, now time.Time) (provider.Sample, error) {
	body, err := provider.SetJSON(sampleBody, "demo-"+run, "event_id")
	if err != nil {
		return provider.Sample{}, fmt.Errorf("canonical sample: %w", err)
	}
	if len(secrets) == 0 {
		return provider.Sample{}, fmt.Errorf("canonical sample: no secret to sign with")
	}
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	h := http.Header{}
	h.Set(TimestampHeader, ts)
	h.Set(SignatureHeader, Sign(ts, body, secrets[0]))
	return provider.Sample{
		Title:  "canonical order (Vambe format)",
		Path:   "/events/" + EventOrder,
		Header: h,
		Body:   body,
		Show: []provider.Rows{{Table: "orders", Columns: []string{"store_id", "external_id", "order_number", "status", "total",
			"customer_phone", "customer_phone_e164", "customer_email"}}},
	}, nil
}
