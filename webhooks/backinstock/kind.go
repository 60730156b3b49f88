package backinstock

import (
	_ "embed"
	"fmt"
	"net/http"
	"time"

	"github.com/storemirror/storemirror/provider"
	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Kind registers Back in Stock: notification webhooks signed with the API key, and the variants
// report behind HTTP Basic with the API token as the username.
var Kind = provider.Kind{
	Name: "backinstock",
	New: func(o provider.Options) (provider.Source, error) {
		return provider.AsSource(New(Options{Name: o.Name, Secrets: o.Secrets}))
	},
	Validate: func(o provider.Options) provider.Problems {
		if !o.API.Enabled() {
			return nil
		}
		_, ps := credentials(o.API.Client)
		return ps
	},
	API: &provider.API{Auth: provider.TokenAsUsername, NewPuller: func(o provider.Options) (mirrorsync.Puller, error) {
		return provider.AsPuller(NewPuller(o.API.Client, o.API.PageSize))
	}},
	Sample: sample,
}

// credentials returns o with the API token where Back in Stock takes it, as the HTTP Basic
// username (o.Username, or failing that o.Token, which is then never sent as a Bearer token),
// and what is wrong with them.
func credentials(o providerapi.Options) (providerapi.Options, provider.Problems) {
	if o.Username == "" {
		o.Username, o.Token = o.Token, ""
	}
	var ps provider.Problems
	switch {
	case o.Username == "":
		ps.Add("api.username", "back in stock needs its API token as the username")
	case o.Token != "":
		ps.Add("api.token", "back in stock takes its token once, as the username, not also as token")
	case o.Password != "":
		ps.Add("api.password", "back in stock takes no password (the token is the username)")
	}
	return o, ps
}

//go:embed testdata/notification-create.json
var sampleBody []byte

// sample is a notification/create signed with the first API key. Its delivery id is its
// notification id and topic, so a second demo stores it once.
func sample(secrets []string, _ string, _ time.Time) (provider.Sample, error) {
	if len(secrets) == 0 {
		return provider.Sample{}, fmt.Errorf("backinstock sample: no API key to sign with")
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(sampleBody, secrets[0]))
	return provider.Sample{
		Title:  "Back in Stock notification/create",
		Header: h,
		Body:   sampleBody,
		Show: []provider.Rows{{Table: "stock_notifications", Columns: []string{"external_id", "status", "channel", "customer_email",
			"product_title", "variant_title", "quantity_required", "created_at", "sent_at"}}},
	}, nil
}
