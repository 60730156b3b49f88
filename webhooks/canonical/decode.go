package canonical

import (
	"encoding/json"
	"fmt"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

var _ mirrorsync.Decoder = (*Source)(nil)

// defaultFulfillmentType is the type of a fulfillment whose event does not say (Vambe's rule).
const defaultFulfillmentType = "delivery"

// Decode implements mirrorsync.Decoder: one change for the entity the event names. Every event
// patches: the columns its entity object carries are set, the ones it omits are left alone, and
// a child list (items, image_urls, metadata) it carries replaces the stored one. The version is
// the entity's updated_at, else the signed timestamp (which orders one sender's events), else
// the time the event was received.
func (s *Source) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	var decode func(*object) (mirrorsync.Entity, error)
	switch ev.Type {
	case EventProduct:
		decode = decodeProduct
	case EventOrder:
		decode = decodeOrder
	case EventCheckout:
		decode = decodeCheckout
	case EventFulfillment:
		decode = decodeFulfillment
	case EventProductDelete:
		decode = func(*object) (mirrorsync.Entity, error) { return &mirrorsync.Product{}, nil }
	default:
		return nil, mirrorsync.Ignore("canonical event %q is not mirrored", ev.Type)
	}
	c, entity, err := s.header(ev)
	if err != nil {
		return nil, fmt.Errorf("decode %s event: %w", ev.Type, err)
	}
	if c.Entity, err = decode(entity); err != nil {
		return nil, fmt.Errorf("decode %s event: %w", ev.Type, err)
	}
	if ev.Type == EventProductDelete {
		c.Delete, c.Patch, c.Raw = true, false, nil // the stored product keeps its last raw object
	}
	changes := []mirrorsync.Change{c}
	if f, ok := c.Entity.(*mirrorsync.Fulfillment); ok && (!f.Type.Set || f.Type.Null) {
		f.Type = mirrorsync.Field[string]{} // a null type states nothing either
		changes = append(changes, defaultType(c))
	}
	return changes, nil
}

// defaultVersion is the version of defaults: older than any event, so that any value a sender
// ever states wins over the default, whenever it arrives.
var defaultVersion = mirrorsync.Version{At: time.Unix(0, 0).UTC()}

// defaultType says the fulfillment of c is a delivery, unless some event of it says otherwise.
func defaultType(c mirrorsync.Change) mirrorsync.Change {
	return mirrorsync.Change{Key: c.Key, AnyStore: c.AnyStore, Version: defaultVersion,
		Entity: &mirrorsync.Fulfillment{Type: mirrorsync.Some(defaultFulfillmentType)}}
}

// header checks the body's shape as Verify did (a stored event is decoded again on replay),
// resolves the store, and returns the change with everything but its entity filled in, and the
// entity object.
func (s *Source) header(ev mirrorsync.Event) (mirrorsync.Change, *object, error) {
	if err := validate(ev.Type, ev.Body); err != nil {
		return mirrorsync.Change{}, nil, err
	}
	var env envelope
	if err := json.Unmarshal(ev.Body, &env); err != nil {
		return mirrorsync.Change{}, nil, fmt.Errorf("read envelope: %w", err)
	}
	storeID, err := s.store(env.ExternalStoreID)
	if err != nil {
		return mirrorsync.Change{}, nil, fmt.Errorf("resolve store: %w", err)
	}
	// A body without external_store_id names no store: its resource's row is wherever it
	// already is, else in the one configured store (or "").
	anyStore := env.ExternalStoreID == ""
	var top map[string]json.RawMessage
	if err := json.Unmarshal(ev.Body, &top); err != nil {
		return mirrorsync.Change{}, nil, fmt.Errorf("read body: %w", err)
	}
	key := entityKey[ev.Type]
	entity, err := parseObject(key, top[key])
	if err != nil {
		return mirrorsync.Change{}, nil, err
	}
	id, _ := parseText(entity.members[idKey[ev.Type]]) // validate made sure it is a non-empty string
	v, err := version(entity, ev)
	if err != nil {
		return mirrorsync.Change{}, nil, err
	}
	return mirrorsync.Change{
		Key:      mirrorsync.Key{Source: s.name, StoreID: storeID, ExternalID: id},
		Version:  v,
		Patch:    true,
		Raw:      top[key],
		AnyStore: anyStore,
	}, entity, nil
}

// version is the change's version: the entity's updated_at when it has one (a malformed one is an
// error, not a silent fallback to another clock), else the signed timestamp, else receipt; the
// signed timestamp, when the sender stamped the request, breaks ties.
func version(entity *object, ev mirrorsync.Event) (mirrorsync.Version, error) {
	updated := entity.timestamp("updated_at")
	var v mirrorsync.Version
	switch {
	case entity.err != nil:
		return v, entity.err
	case !ev.SentAt.IsZero():
		v = mirrorsync.Version{At: ev.SentAt.UTC(), EventAt: ev.SentAt.UTC()}
	case !ev.ReceivedAt.IsZero():
		v = mirrorsync.Received(ev.ReceivedAt.UTC())
	}
	if updated.Set && !updated.Null {
		v.At, v.Received = updated.Value, false
	}
	if v.At.IsZero() {
		return v, fmt.Errorf("%s has no updated_at and the event no timestamp", entity.path)
	}
	return v, nil
}

// decodeProduct maps a product upsert. kind is always "product": the canonical shape has no bundles.
func decodeProduct(o *object) (mirrorsync.Entity, error) {
	p := &mirrorsync.Product{
		Kind:          mirrorsync.Some("product"),
		Name:          o.text("name"),
		Description:   o.text("description"),
		Price:         o.money("price"),
		Currency:      o.text("currency"),
		SKU:           o.text("sku"),
		StockQuantity: o.integer("stock"), // null: unlimited or unknown
	}
	if urls := o.list("image_urls"); urls.Set {
		images := make([]mirrorsync.Image, len(urls.Value))
		for i, raw := range urls.Value {
			url := readValue(o, fmt.Sprintf("image_urls[%d]", i), raw, parseText)
			images[i] = mirrorsync.Image{URL: ptr(url)}
		}
		p.Images = mirrorsync.All(images)
	}
	if metadata := o.list("metadata"); metadata.Set {
		fields := make([]mirrorsync.CustomField, 0, len(metadata.Value))
		for i, raw := range metadata.Value {
			m, err := parseObject(fmt.Sprintf("%s.metadata[%d]", o.path, i), raw)
			if err != nil {
				return nil, err
			}
			key := m.text("key")
			fields = append(fields, mirrorsync.CustomField{Name: ptr(key), TokenKey: ptr(key), Value: ptr(m.anyText("value"))})
			if m.err != nil {
				return nil, m.err
			}
		}
		p.CustomFields = mirrorsync.All(fields)
	}
	return p, o.err
}
