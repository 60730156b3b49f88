package stickyio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	_ "time/tzdata" // America/New_York without relying on the host's zoneinfo

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// eastern is the zone of the envelope's zone-less `time` (sticky.io records it in US Eastern).
var eastern = mustLoad("America/New_York")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// envelope is a decrypted sticky.io webhook.
type envelope struct {
	ClientAppKey string `json:"clientAppKey"`
	Type         string `json:"type"`
	Time         string `json:"time"`
	Data         struct {
		ID     json.RawMessage `json:"id"`
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// product is sticky.io's product or bundle object, as in webhooks and the v2 products API. Every
// column is a Field and every child list one too: a key the object leaves out changes nothing,
// an explicit null empties the column (or the list).
type product struct {
	ID          json.Number              `json:"id"`
	Name        mirrorsync.Field[string] `json:"name"`
	SKU         mirrorsync.Field[string] `json:"sku"`
	Description mirrorsync.Field[string] `json:"description"`
	Type        *string                  `json:"type"`
	BundleType  mirrorsync.Field[string] `json:"bundle_type"`
	Vertical    mirrorsync.Field[struct {
		Name mirrorsync.Field[string] `json:"name"`
	}] `json:"vertical"`
	Category mirrorsync.Field[struct {
		ID   json.Number              `json:"id"`
		Name mirrorsync.Field[string] `json:"name"`
	}] `json:"category"`
	MaxQuantity   mirrorsync.Field[int64]           `json:"max_quantity"`
	IsTaxable     mirrorsync.Field[flag]            `json:"is_taxable"`
	TaxCode       mirrorsync.Field[string]          `json:"tax_code"`
	IsShippable   mirrorsync.Field[flag]            `json:"is_shippable"`
	Price         mirrorsync.Field[decimal.Decimal] `json:"price"`
	CostOfGoods   mirrorsync.Field[decimal.Decimal] `json:"cost_of_goods"`
	RestockingFee mirrorsync.Field[decimal.Decimal] `json:"restocking_fee"`
	CreatedAt     string                            `json:"created_at"`
	UpdatedAt     string                            `json:"updated_at"`
	Images        mirrorsync.Field[[]struct {
		ID        json.Number `json:"id"`
		Path      *string     `json:"path"`
		IsDefault *flag       `json:"is_default"`
	}] `json:"images"`
	CustomFields mirrorsync.Field[[]struct {
		ID       json.Number `json:"id"`
		Name     *string     `json:"name"`
		TokenKey *string     `json:"token_key"`
		Values   []struct {
			Value *string `json:"value"`
		} `json:"values"`
	}] `json:"custom_fields"`
	Variants mirrorsync.Field[[]struct {
		ID         json.Number        `json:"id"`
		Price      *decimal.Decimal   `json:"price"`
		Quantity   *int64             `json:"quantity"`
		Weight     *decimal.Decimal   `json:"weight"`
		SKU        *string            `json:"sku_num"`
		Attributes []variantAttribute `json:"attributes"`
	}] `json:"variants"`
	Products mirrorsync.Field[[]struct { // bundle contents
		ID       json.Number `json:"id"`
		Name     *string     `json:"name"`
		Quantity *int64      `json:"quantity"`
	}] `json:"products"`
}

type variantAttribute struct {
	Attribute struct {
		Name   *string `json:"name"`
		Option struct {
			Name *string `json:"name"`
		} `json:"option"`
	} `json:"attribute"`
}

// flag is sticky.io's boolean: 0/1, "0"/"1", or true/false.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(bytes.Trim(b, `"`)) {
	case "1", "true":
		*f = true
	case "0", "false", "":
		*f = false
	default:
		return fmt.Errorf("not a flag: %s", b)
	}
	return nil
}

// Decode implements mirrorsync.Decoder.
func (s *Source) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	var env envelope
	_, decodeErr, err := decrypt(ev.Body, s.keys, &env)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if decodeErr != nil {
		return nil, fmt.Errorf("decode envelope: %w", decodeErr)
	}
	if err := screen(env.Type); err != nil {
		return nil, err
	}
	if env.Type == "product.deleted" {
		return s.decodeDelete(env)
	}
	return s.decodeSnapshot(env)
}

// screen says, from its type alone, whether an event is one the mirror takes (nil) or one it
// ignores (an ErrIgnored): Verify asks it at receipt, Decode when applying.
func screen(typ string) error {
	switch typ {
	case "product.created", "product.updated", "product.deleted":
		return nil
	}
	return mirrorsync.Ignore("sticky.io event type %q is not mirrored", typ)
}

func (s *Source) decodeSnapshot(env envelope) ([]mirrorsync.Change, error) {
	var p product
	if err := mirrorsync.UnmarshalJSON(env.Data.Object, &p); err != nil {
		return nil, fmt.Errorf("decode %s object: %w", env.Type, err)
	}
	if p.ID == "" {
		return nil, fmt.Errorf("decode %s: object has no id", env.Type)
	}
	// The object's updated_at (with offset) is its version; the envelope's time, when sticky.io
	// stamped the event, breaks ties between snapshots of one updated_at (and stands in for a
	// missing updated_at).
	sent, sentErr := parseEnvelopeTime(env.Time)
	at, err := parseOffsetTime(p.UpdatedAt)
	if err != nil {
		if sentErr != nil {
			return nil, fmt.Errorf("decode %s: no usable time: %w", env.Type, sentErr)
		}
		at = sent
	}
	return []mirrorsync.Change{s.snapshot(p, env.Data.Object, mirrorsync.Version{At: at, EventAt: sent})}, nil
}

// snapshot maps a full product object to a change that replaces the product and its children.
func (s *Source) snapshot(p product, raw json.RawMessage, v mirrorsync.Version) mirrorsync.Change {
	e := &mirrorsync.Product{
		Kind:          mirrorsync.Some("product"),
		Name:          p.Name,
		SKU:           p.SKU,
		Description:   p.Description,
		BundleType:    p.BundleType,
		MaxQuantity:   p.MaxQuantity,
		TaxCode:       p.TaxCode,
		Price:         p.Price,
		CostOfGoods:   p.CostOfGoods,
		RestockingFee: p.RestockingFee,
		IsTaxable:     flagField(p.IsTaxable),
		IsShippable:   flagField(p.IsShippable),
	}
	if p.Type != nil && *p.Type == "bundle" {
		e.Kind = mirrorsync.Some("bundle")
	}
	switch vt := p.Vertical; {
	case vt.Null:
		e.VerticalName = mirrorsync.Null[string]()
	case vt.Set:
		e.VerticalName = vt.Value.Name
	}
	switch cat := p.Category; {
	case cat.Null:
		e.CategoryExternalID, e.CategoryName = mirrorsync.Null[string](), mirrorsync.Null[string]()
	case cat.Set:
		e.CategoryExternalID = mirrorsync.NonEmpty(cat.Value.ID.String())
		e.CategoryName = cat.Value.Name
	}
	if t, err := parseOffsetTime(p.CreatedAt); err == nil {
		e.ProviderCreatedAt = mirrorsync.Some(t)
	}
	// A child list the object carries is the whole list (null: none); one it lacks is left as it is.
	if p.Images.Set {
		images := make([]mirrorsync.Image, len(p.Images.Value))
		for i, im := range p.Images.Value {
			images[i] = mirrorsync.Image{ExternalID: textPtr(im.ID), URL: im.Path, IsDefault: (*bool)(im.IsDefault)}
		}
		e.Images = mirrorsync.All(images)
	}
	if p.CustomFields.Set {
		var fields []mirrorsync.CustomField
		for _, cf := range p.CustomFields.Value {
			if len(cf.Values) == 0 {
				fields = append(fields, mirrorsync.CustomField{ExternalID: textPtr(cf.ID), Name: cf.Name, TokenKey: cf.TokenKey})
			}
			for _, v := range cf.Values {
				fields = append(fields, mirrorsync.CustomField{ExternalID: textPtr(cf.ID), Name: cf.Name, TokenKey: cf.TokenKey, Value: v.Value})
			}
		}
		e.CustomFields = mirrorsync.All(fields)
	}
	if p.Variants.Set {
		variants := make([]mirrorsync.Variant, len(p.Variants.Value))
		for i, v := range p.Variants.Value {
			attrs := make([]mirrorsync.VariantAttribute, len(v.Attributes))
			for j, a := range v.Attributes {
				attrs[j] = mirrorsync.VariantAttribute{AttributeName: a.Attribute.Name, OptionName: a.Attribute.Option.Name}
			}
			variants[i] = mirrorsync.Variant{ExternalID: v.ID.String(), SKU: v.SKU, Price: nullDecimal(v.Price),
				StockQuantity: v.Quantity, Weight: nullDecimal(v.Weight), Attributes: attrs}
		}
		e.Variants = mirrorsync.All(variants)
	}
	if p.Products.Set {
		items := make([]mirrorsync.BundleItem, len(p.Products.Value))
		for i, b := range p.Products.Value {
			items[i] = mirrorsync.BundleItem{ProductExternalID: textPtr(b.ID), ProductName: b.Name, Quantity: b.Quantity}
		}
		e.BundleItems = mirrorsync.All(items)
	}
	return mirrorsync.Change{
		Key:     mirrorsync.Key{Source: s.name, ExternalID: p.ID.String()},
		Version: v,
		Entity:  e,
		Raw:     raw,
	}
}

func (s *Source) decodeDelete(env envelope) ([]mirrorsync.Change, error) {
	var obj struct {
		ID json.Number `json:"id"`
	}
	if err := mirrorsync.UnmarshalJSON(env.Data.Object, &obj); err != nil || obj.ID == "" {
		return nil, fmt.Errorf("decode product.deleted: object has no id")
	}
	at, err := parseEnvelopeTime(env.Time)
	if err != nil {
		return nil, fmt.Errorf("decode product.deleted: %w", err)
	}
	return []mirrorsync.Change{{
		Key:     mirrorsync.Key{Source: s.name, ExternalID: obj.ID.String()},
		Version: mirrorsync.Version{At: at, EventAt: at},
		Entity:  &mirrorsync.Product{},
		Delete:  true,
	}}, nil
}

// parseEnvelopeTime reads the envelope's `time`: "2024-12-18 11:17:23", no zone, US Eastern
// (daylight saving applies). At both daylight-saving edges the wall time is read with the summer
// offset, -04:00: the hour repeated when clocks go back is its first (EDT) occurrence, and a time
// in the hour skipped when clocks go forward is read as EDT too.
func parseEnvelopeTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateTime, s, eastern)
	if err != nil {
		return time.Time{}, fmt.Errorf("envelope time %q: %w", s, err)
	}
	return t.UTC(), nil
}

func parseOffsetTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

func flagField(f mirrorsync.Field[flag]) mirrorsync.Field[bool] {
	return mirrorsync.Field[bool]{Value: bool(f.Value), Null: f.Null, Set: f.Set}
}

func textPtr(n json.Number) *string {
	if n == "" {
		return nil
	}
	s := n.String()
	return &s
}

func nullDecimal(d *decimal.Decimal) decimal.NullDecimal {
	if d == nil {
		return decimal.NullDecimal{}
	}
	return decimal.NullDecimal{Decimal: *d, Valid: true}
}
