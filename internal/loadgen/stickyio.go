package loadgen

import (
	"fmt"
	"net/http"
	"time"

	"github.com/storemirror/storemirror/webhooks/stickyio"
)

// StickyIO builds genuine sticky.io deliveries: the envelope and product object of sticky.io's
// documented product webhooks, encrypted with the source's key phrase as sticky.io does.
type StickyIO struct {
	Path string // the source's webhook path, /webhooks/{name}
	Key  string // the 32-character key phrase
	// Base is the provider time of delivery 0; delivery i is stamped Base + i seconds, so that a
	// later delivery of the same product is a newer version of it.
	Base time.Time
}

// Snapshot is a product.updated delivery: product productID with variants variants (2
// attributes each), an image and a custom field, priced price, at version Base + seq seconds.
// Its delivery id (data.id) is eventID.
func (s StickyIO) Snapshot(eventID string, seq, productID int, price string, variants int) (Request, error) {
	plain := s.envelope("product.updated", eventID, seq, productID, price, variants)
	return s.request(eventID, fmt.Sprint(productID), plain)
}

// Unknown is a delivery of an event type storemirror does not mirror ("offer.updated",
// carrying a one-variant product object: about 2 kB once encrypted). The daemon stores it,
// answers 2xx, and its workers mark it ignored.
func (s StickyIO) Unknown(eventID string, seq int) (Request, error) {
	plain := s.envelope("offer.updated", eventID, seq, seq+1, "10.0000", 1)
	return s.request(eventID, "", plain)
}

func (s StickyIO) request(eventID, key string, plain []byte) (Request, error) {
	body, err := stickyio.Encrypt(plain, s.Key)
	if err != nil {
		return Request{}, fmt.Errorf("encrypt sticky.io body: %w", err)
	}
	return Request{Path: s.Path, Header: http.Header{"Content-Type": {"text/plain"}}, Body: body, ID: eventID, Key: key}, nil
}

// eastern is sticky.io's zone for the envelope's zone-less time (package stickyio, imported
// here, embeds the zone database, so the lookup cannot fail).
var eastern, _ = time.LoadLocation("America/New_York")

// envelope renders the decrypted webhook (the shape of webhooks/stickyio/testdata).
func (s StickyIO) envelope(typ, eventID string, seq, productID int, price string, variants int) []byte {
	at := s.at(seq).Format(time.DateTime)
	b := fmt.Appendf(nil, `{"clientAppKey":"app_key_here","type":%q,"time":%q,"data":{"id":%q,"object":`, typ, at, eventID)
	b = append(b, s.Object(seq, productID, price, variants)...)
	return fmt.Appendf(b, `,"created":%q,"triggeringEvent":"","correlationId":"8d44d290-3afb-4450-a2a2-96282781e48e"}}`, at)
}

func (s StickyIO) at(seq int) time.Time {
	return s.Base.Add(time.Duration(seq) * time.Second).In(eastern)
}

// Object is sticky.io's product object, as in a webhook's data.object and in the v2 products
// API: product productID, updated at Base + seq seconds, priced price, with variants variants
// (2 attributes each), an image and a custom field.
func (s StickyIO) Object(seq, productID int, price string, variants int) []byte {
	b := fmt.Appendf(nil, `{"id":%d,"name":"Laptop %d","sku":"SKU-%d","vertical":{"id":1,"name":"Art, Photo & Music"},`+
		`"category":{"id":5,"name":"Magazine","description":"Mag01"},"max_quantity":10,"description":"description!",`+
		`"images":[{"id":%d,"uuid":"83035138-5ec2-4dca-a8bc-28519d5a310f","alias":"20_fondo","created_at":"2024-12-18T14:24:26.000000Z",`+
		`"updated_at":"2024-12-18T14:24:26.000000Z","path":"https://assets.qa1.sticky.io/images/originals/2024-12-18-09-00-00/0yQO0IdV6Qa0euFxtTESgpDb0j7lhWYuViydSbSy.png",`+
		`"is_default":0,"is_default_email":0}],"custom_fields":[{"id":1,"field_type_id":1,"name":"test product field",`+
		`"token_key":"test_product_field","is_multi":0,"type_id":3,"values":[{"option_id":0,"value":"custom field value here","name":"custom field name here"}]}],`+
		`"is_taxable":1,"tax_code":"123456ABC","digital_download_url":"your_url_here.com","is_shippable":1,`+
		`"created_at":"2024-12-17T19:36:56-05:00","updated_at":%q,"type":"product","price":%q,"cost_of_goods":"0.00","restocking_fee":"0.00","variants":[`,
		productID, productID, productID, productID, s.at(seq).Format(time.RFC3339), price)
	for v := range variants {
		if v > 0 {
			b = append(b, ',')
		}
		id := productID*10 + v
		b = fmt.Appendf(b, `{"id":%d,"price":%q,"quantity":10,"weight":4,"sku_num":"SKU-%d-%d","attributes":[`+
			`{"id":%d,"attribute":{"id":8,"name":"color","option":{"id":9,"name":"blue"}}},`+
			`{"id":%d,"attribute":{"id":11,"name":"size","option":{"id":12,"name":"small"}}}],"images":[]}`,
			id, price, productID, v, 2*id, 2*id+1)
	}
	return append(b, "]}"...)
}
