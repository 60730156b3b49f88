package barecommerce

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The mappers below read BareCommerce's resource keys (camelCase, as in the webhook data and the
// store API) into mirror entities. A key the data lacks leaves its field absent; read errors are
// kept in ev.data.err.

// mapOrder maps an order event. The order.* events other than created carry only what changed
// (order.paid: paymentStatus and paidAt), so each sets just those fields.
func mapOrder(ev *event) mirrorsync.Entity {
	d := ev.data
	o := &mirrorsync.Order{
		OrderNumber:        d.text("orderNumber"),
		CustomerExternalID: d.text("customerId"),
		Status:             d.text("status"),
		PaymentStatus:      d.text("paymentStatus"),
		Currency:           d.text("currency"),
		Total:              d.money("total"),
		// BareCommerce has placedAt on orders from its API; the order.created example has only
		// createdAt, which for an order created by its payment is when it was placed.
		PlacedAt:    either(d.instant("placedAt"), d.instant("createdAt")),
		PaidAt:      d.instant("paidAt"),
		FulfilledAt: d.instant("fulfilledAt"),
		CancelledAt: d.instant("cancelledAt"),
		RefundedAt:  d.instant("refundedAt"),
	}
	if ev.typ == "order.refunded" {
		o.RefundedAmount = d.money("amount")
		o.RefundReason = d.text("reason")
		// The documented order.refunded carries no time of its own: the refund happened when
		// the event did.
		o.RefundedAt = either(o.RefundedAt, mirrorsync.Some(ev.at))
	}
	if raw, null, ok := d.lookup("items"); ok && !null {
		// An order's items are a snapshot taken when it is placed; a null list says the event
		// did not load them, not that the order lost its lines, so it leaves them alone.
		items, err := lineItems(raw)
		if err != nil {
			d.fail("items", err)
		}
		o.Items = mirrorsync.All(items)
	}
	return o
}

// lineItems reads an order's items.
func lineItems(raw json.RawMessage) ([]mirrorsync.LineItem, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	items := make([]mirrorsync.LineItem, len(list))
	for i, b := range list {
		it, err := parseObject(b, fmt.Sprintf("item %d", i))
		if err != nil {
			return nil, err
		}
		price := it.money("unitPrice")
		items[i] = mirrorsync.LineItem{
			ProductExternalID: ptr(it.text("productId")),
			Title:             ptr(it.text("titleSnapshot")),
			SKU:               ptr(it.text("skuSnapshot")),
			Quantity:          ptr(it.integer("quantity")),
			UnitPrice:         decimal.NullDecimal{Decimal: price.Value, Valid: price.Set && !price.Null},
		}
		if it.err != nil {
			return nil, fmt.Errorf("item %d: %w", i, it.err)
		}
	}
	return items, nil
}

// mapProduct maps a product event. BareCommerce products are plain products (no bundles).
func mapProduct(ev *event) mirrorsync.Entity {
	d := ev.data
	return &mirrorsync.Product{
		Kind:              mirrorsync.Some("product"),
		Name:              d.text("title"),
		Slug:              d.text("slug"),
		SKU:               d.text("sku"),
		Status:            d.text("status"),
		Description:       d.text("description"),
		Currency:          d.text("currency"),
		Price:             d.money("price"),
		StockQuantity:     d.integer("stock"),
		ProviderCreatedAt: d.instant("createdAt"),
	}
}

// mapCustomer maps a customer event.
func mapCustomer(ev *event) mirrorsync.Entity {
	d := ev.data
	return &mirrorsync.Customer{
		Email: d.text("email"),
		Name:  d.text("name"),
		Phone: d.text("phone"),
	}
}

// mapCategory maps a category event.
func mapCategory(ev *event) mirrorsync.Entity {
	d := ev.data
	return &mirrorsync.Category{
		Name:             d.text("name"),
		Slug:             d.text("slug"),
		Description:      d.text("description"),
		Status:           d.text("status"),
		ParentExternalID: d.text("parentId"),
	}
}

// mapPage maps a page event. The page body is kept in raw only.
func mapPage(ev *event) mirrorsync.Entity {
	d := ev.data
	return &mirrorsync.Page{
		Title:  d.text("title"),
		Slug:   d.text("slug"),
		Status: d.text("status"),
	}
}

// mapMedia maps a media event. The webhook example names the size fileSize, the API's media
// object size: either is the file's size in bytes.
func mapMedia(ev *event) mirrorsync.Entity {
	d := ev.data
	return &mirrorsync.Media{
		URL:      d.text("url"),
		Filename: d.text("filename"),
		MimeType: d.text("mimeType"),
		Width:    d.integer("width"),
		Height:   d.integer("height"),
		FileSize: either(d.integer("fileSize"), d.integer("size")),
	}
}
