package bamboo

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/provider"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Kind registers Bamboo: Svix-signed webhooks and the Notification URL callback, and the
// catalog and orders API behind HTTP Basic.
var Kind = provider.Kind{
	Name: "bamboo",
	New: func(o provider.Options) (provider.Source, error) {
		return provider.AsSource(New(Options{Name: o.Name, Secrets: o.Secrets}))
	},
	Validate: func(o provider.Options) provider.Problems { return checkSecrets(o.Secrets) },
	API: &provider.API{Auth: provider.Basic, NewPuller: func(o provider.Options) (mirrorsync.Puller, error) {
		return provider.AsPuller(NewPuller(o.API.Client, o.API.PageSize))
	}},
	Sample: sample,
}

// checkSecrets faults the Svix secrets (whsec_...) whose key is not base64. Any other secret is
// a Notification URL secretKey, which may be anything.
func checkSecrets(secrets []string) provider.Problems {
	var ps provider.Problems
	for i, s := range secrets {
		if !strings.HasPrefix(s, "whsec_") {
			continue
		}
		if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_")); err != nil || len(key) == 0 {
			ps.Add(fmt.Sprintf("secrets[%d]", i), "a Svix secret is whsec_ followed by base64")
		}
	}
	return ps
}

//go:embed testdata/productupdated.json
var sampleBody []byte

// sample is a productupdated.v1 diff signed with the first Svix secret, under a fresh svix-id.
func sample(secrets []string, run string, now time.Time) (provider.Sample, error) {
	var secret string
	for _, s := range secrets {
		if strings.HasPrefix(s, "whsec_") {
			secret = s
			break
		}
	}
	wh, err := svix.NewWebhook(secret)
	if err != nil {
		return provider.Sample{}, fmt.Errorf("bamboo sample: no Svix secret (whsec_...) to sign with")
	}
	id := "msg_demo_" + run
	sig, err := wh.Sign(id, now, sampleBody)
	if err != nil {
		return provider.Sample{}, fmt.Errorf("bamboo sample: sign: %w", err)
	}
	return provider.Sample{
		Title:  "Bamboo productupdated.v1 (Svix)",
		Header: http.Header{"Svix-Id": {id}, "Svix-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Svix-Signature": {sig}},
		Body:   sampleBody,
		Show: []provider.Rows{
			{Table: "products", Columns: []string{"external_id", "name", "status", "min_face_value", "max_face_value",
				"stock_quantity", "price_min", "currency", "source_updated_at"}},
			{Table: "product_changes", Columns: []string{"product_external_id", "field", "old_value", "new_value"}},
		},
	}, nil
}
