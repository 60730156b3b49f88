package canonical

import (
	"encoding/json"
	"fmt"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// decodeOrder maps an order: created_at is when it was placed, total_price its total.
func decodeOrder(o *object) (mirrorsync.Entity, error) {
	e := &mirrorsync.Order{
		OrderNumber:   o.text("order_number"),
		Status:        o.text("status"),
		PaymentStatus: o.text("payment_status"),
		Currency:      o.text("currency"),
		Total:         o.money("total_price"),
		PlacedAt:      o.timestamp("created_at"),
	}
	if c, ok := customer(o); ok {
		e.CustomerPhone, e.CustomerPhoneE164 = c.phone, e164(c.phone)
		e.CustomerEmail, e.CustomerName, e.CustomerExternalID = c.email, c.name, c.externalID
	}
	items, err := lineItems(o)
	if err != nil {
		return nil, err
	}
	e.Items = items
	return e, o.err
}

// decodeCheckout maps an abandoned checkout.
func decodeCheckout(o *object) (mirrorsync.Entity, error) {
	e := &mirrorsync.Checkout{
		RecoverURL: o.text("recover_url"),
		Currency:   o.text("currency"),
		Total:      o.money("total_price"),
	}
	if c, ok := customer(o); ok {
		e.CustomerPhone, e.CustomerPhoneE164, e.CustomerEmail = c.phone, e164(c.phone), c.email
	}
	items, err := lineItems(o)
	if err != nil {
		return nil, err
	}
	e.Items = items
	return e, o.err
}

// decodeFulfillment maps a shipment. It names its order by order_external_id and nothing more:
// it may arrive before the order, and the mirror holds no foreign key to refuse it.
func decodeFulfillment(o *object) (mirrorsync.Entity, error) {
	e := &mirrorsync.Fulfillment{
		OrderExternalID: o.text("order_external_id"),
		Type:            o.text("type"),
		Status:          o.text("status"),
		TrackingNumber:  o.text("tracking_number"),
	}
	// A fulfillment that does not say is a delivery (Vambe's rule): Decode adds that default
	// as the oldest possible value, so that any type ever stated wins over it.
	return e, o.err
}

// customerFields are the members of an order's or checkout's customer object.
type customerFields struct {
	phone, email, name, externalID mirrorsync.Field[string]
}

// customer reads o's customer object. ok is false when o has none: its columns are left alone.
// A null customer says there is none: its columns are set to NULL.
func customer(o *object) (customerFields, bool) {
	raw, ok := o.member("customer")
	switch {
	case !ok:
		return customerFields{}, false
	case isNull(raw):
		null := mirrorsync.Null[string]()
		return customerFields{phone: null, email: null, name: null, externalID: null}, true
	}
	c := o.child("customer")
	if c == nil {
		return customerFields{}, false
	}
	f := customerFields{phone: c.text("phone"), email: c.text("email"), name: c.text("name"), externalID: c.text("external_id")}
	if c.err != nil && o.err == nil {
		o.err = c.err
	}
	return f, true
}

// lineItems reads o's items, numbered from 1 in the order sent. Absent: the stored lines are
// left alone; null or []: the order has none.
func lineItems(o *object) (mirrorsync.Many[mirrorsync.LineItem], error) {
	list := o.list("items")
	if !list.Set {
		return mirrorsync.Many[mirrorsync.LineItem]{}, nil
	}
	items := make([]mirrorsync.LineItem, len(list.Value))
	for i, raw := range list.Value {
		item, err := lineItem(fmt.Sprintf("%s.items[%d]", o.path, i), raw)
		if err != nil {
			return mirrorsync.Many[mirrorsync.LineItem]{}, err
		}
		items[i] = item
	}
	return mirrorsync.All(items), nil
}

// lineItem maps one line: external_product_id matches the product's external_id, name is its
// title and price its unit price.
func lineItem(path string, raw json.RawMessage) (mirrorsync.LineItem, error) {
	it, err := parseObject(path, raw)
	if err != nil {
		return mirrorsync.LineItem{}, err
	}
	item := mirrorsync.LineItem{
		ProductExternalID: ptr(it.text("external_product_id")),
		SKU:               ptr(it.text("sku")),
		Title:             ptr(it.text("name")),
		Quantity:          ptr(it.quantity("quantity")),
		UnitPrice:         nullDecimal(it.money("price")),
	}
	return item, it.err
}
