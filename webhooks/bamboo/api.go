package bamboo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Bamboo's integration API paths: the catalog (v2, paged) and one order by request id (v1).
const (
	catalogPath = "/api/integration/v2.0/catalog"
	orderPath   = "/api/integration/v1.0/orders/"
)

// finalStatuses are the order states after which an order no longer changes.
var finalStatuses = []string{"Succeeded", "Failed", "PartialFailed"}

// Puller pulls Bamboo's catalog (products) and open orders for the reconciler.
type Puller struct {
	source   string
	client   *providerapi.Client
	pageSize int
	now      func() time.Time
}

var _ mirrorsync.Puller = (*Puller)(nil)

// NewPuller returns a puller for the API described by o (HTTP Basic: client id and secret).
// pageSize is what it asks for; the server's own paging fields decide.
func NewPuller(o providerapi.Options, pageSize int) (*Puller, error) {
	c, err := providerapi.NewClient(o)
	if err != nil {
		return nil, err
	}
	if pageSize <= 0 {
		pageSize = 100
	}
	return &Puller{source: o.Source, client: c, pageSize: pageSize, now: time.Now}, nil
}

// Entities implements mirrorsync.Puller.
func (p *Puller) Entities() []string { return []string{"products", "orders"} }

// Lists implements mirrorsync.Puller: the catalog lists every product; orders are fetched
// one by one (the ones the mirror knows and that may still change), so they are never deleted.
func (p *Puller) Lists(entity string) bool { return entity == "products" }

// StoreID implements mirrorsync.Puller.
func (p *Puller) StoreID() string { return "" }

// Pull implements mirrorsync.Puller.
func (p *Puller) Pull(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	switch req.Entity {
	case "products":
		return p.pullProducts(ctx, req, emit)
	case "orders":
		return p.pullOrders(ctx, req, emit)
	}
	return fmt.Errorf("bamboo has no %q to pull", req.Entity)
}

// catalogPaging is what a page of GET /api/integration/v2.0/catalog says besides its items
// (one per brand), which are read one at a time.
type catalogPaging struct {
	PageIndex int `json:"pageIndex"`
	PageSize  int `json:"pageSize"`
	Count     int `json:"count"`
}

type brand struct {
	Name         mirrorsync.Field[string] `json:"name"`
	CountryCode  mirrorsync.Field[string] `json:"countryCode"`
	Description  mirrorsync.Field[string] `json:"description"`
	ModifiedDate string                   `json:"modifiedDate"`
	Products     []json.RawMessage        `json:"products"`
	Categories   []struct {
		ID   json.Number              `json:"id"`
		Name mirrorsync.Field[string] `json:"name"`
	} `json:"categories"`
}

// catalogProduct is a product of the catalog. As in the webhooks, a key the API leaves out
// changes nothing; count null means unlimited.
type catalogProduct struct {
	ID           json.Number                       `json:"id"`
	Name         mirrorsync.Field[string]          `json:"name"`
	MinFaceValue mirrorsync.Field[decimal.Decimal] `json:"minFaceValue"`
	MaxFaceValue mirrorsync.Field[decimal.Decimal] `json:"maxFaceValue"`
	Count        mirrorsync.Field[int64]           `json:"count"`
	Price        mirrorsync.Field[price]           `json:"price"`
	ModifiedDate string                            `json:"modifiedDate"`
}

func (p *Puller) pullProducts(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	// Products flagged by drift first, one by one.
	for _, k := range req.Refetch {
		q := url.Values{"ProductId": {k.ExternalID}, "PageSize": {"1"}, "PageIndex": {"0"}}
		if _, err := p.pullCatalogPage(ctx, q, emit); err != nil {
			return err
		}
	}
	q := url.Values{"PageSize": {strconv.Itoa(p.pageSize)}}
	if req.Mode == mirrorsync.ModeIncremental && !req.Since.IsZero() {
		// The filter takes a date: products modified after it. The day's start covers the overlap.
		q.Set("ModifiedDate", req.Since.UTC().Format(time.DateOnly))
	}
	for index := 0; ; index++ {
		q.Set("PageIndex", strconv.Itoa(index))
		paging, err := p.pullCatalogPage(ctx, q, emit)
		if err != nil {
			return err
		}
		// Follow the server's paging (it may cap the page size asked for), zero-based.
		if paging.items == 0 || paging.size <= 0 || (paging.index+1)*paging.size >= paging.count {
			return nil
		}
	}
}

// paging is what a catalog page says of the listing.
type paging struct {
	index, size, count, items int
}

// pullCatalogPage fetches one catalog page, emits its products as it reads them, brand by
// brand (a page is never held whole), and returns its paging.
func (p *Puller) pullCatalogPage(ctx context.Context, q url.Values, emit func([]mirrorsync.Change) error) (paging, error) {
	var pg paging
	batch := mirrorsync.NewPullBatcher(emit)
	err := p.client.GetStream(ctx, catalogPath, q, func(dec *json.Decoder) error {
		batch.Reset() // read again from its start after a failure: the page starts over
		var page catalogPaging
		brands, fetched := 0, p.now()
		items := func(raw json.RawMessage) error {
			brands++
			var b brand
			if err := json.Unmarshal(raw, &b); err != nil {
				return &providerapi.DecodeError{Err: fmt.Errorf("brand %d: %w", brands, err)}
			}
			for _, raw := range b.Products {
				c, err := p.catalogChange(b, raw, fetched)
				if err != nil {
					return fmt.Errorf("%s: GET %s: %w", p.source, catalogPath, err)
				}
				if err := batch.Add(c); err != nil {
					return err
				}
			}
			return nil
		}
		if _, err := providerapi.ReadObject(dec, map[string]func(json.RawMessage) error{"items": items}, &page); err != nil {
			return err
		}
		pg = paging{index: page.PageIndex, size: page.PageSize, count: page.Count, items: brands}
		return batch.Flush()
	})
	return pg, err
}

func (p *Puller) catalogChange(b brand, raw json.RawMessage, fetched time.Time) (mirrorsync.Change, error) {
	var cp catalogProduct
	if err := strictJSON(raw, &cp); err != nil {
		return mirrorsync.Change{}, fmt.Errorf("decode catalog product: %w", err)
	}
	if cp.ID == "" {
		return mirrorsync.Change{}, fmt.Errorf("catalog product without id")
	}
	e := &mirrorsync.Product{
		Kind: mirrorsync.Some("product"), Name: cp.Name,
		MinFaceValue: cp.MinFaceValue, MaxFaceValue: cp.MaxFaceValue, StockQuantity: cp.Count,
		BrandName: b.Name, CountryCode: b.CountryCode, Description: b.Description,
	}
	setPrice(e, cp.Price)
	if len(b.Categories) > 0 {
		e.CategoryExternalID = mirrorsync.NonEmpty(b.Categories[0].ID.String())
		e.CategoryName = b.Categories[0].Name
	}
	// The product's modifiedDate is its version, the same clock as the webhooks' newState.
	at := fetched
	if t, err := parseTime(cp.ModifiedDate); err == nil {
		at = t
	} else if t, err := parseTime(b.ModifiedDate); err == nil {
		at = t
	}
	return mirrorsync.Change{
		Key:     mirrorsync.Key{Source: p.source, ExternalID: cp.ID.String()},
		Version: mirrorsync.Version{At: at},
		Entity:  e,
		Patch:   true, // the webhooks' newState keys (status, quantity) stay beside the catalog's
		Raw:     raw,
	}, nil
}

// apiOrder is GET /api/integration/v1.0/orders/{requestId}.
type apiOrder struct {
	OrderID     json.Number                       `json:"orderId"`
	RequestID   mirrorsync.Field[string]          `json:"requestId"`
	Status      mirrorsync.Field[string]          `json:"status"`
	CreatedDate string                            `json:"createdDate"`
	Total       mirrorsync.Field[decimal.Decimal] `json:"total"`
	Currency    mirrorsync.Field[string]          `json:"currency"`
	Items       mirrorsync.Field[[]struct {
		ProductID        json.Number      `json:"productId"`
		BrandCode        *string          `json:"brandCode"`
		ProductFaceValue *decimal.Decimal `json:"productFaceValue"`
		Quantity         *int64           `json:"quantity"`
	}] `json:"items"`
}

// pullOrders re-fetches the orders the mirror holds in a state that may still change.
func (p *Puller) pullOrders(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	ids, err := req.Mirror.OpenOrders(ctx, p.source, finalStatuses)
	if err != nil {
		return err
	}
	for _, id := range ids {
		var raw json.RawMessage
		err := p.client.GetJSON(ctx, orderPath+url.PathEscape(id), nil, &raw)
		if providerapi.IsNotFound(err) {
			continue // not Bamboo's (any more): nothing to repair from
		}
		if err != nil {
			return err
		}
		c, err := p.orderChange(raw, p.now())
		if err != nil {
			return fmt.Errorf("%s: GET %s: %w", p.source, orderPath+id, err)
		}
		if err := emit([]mirrorsync.Change{c}); err != nil {
			return err
		}
	}
	return nil
}

func (p *Puller) orderChange(raw json.RawMessage, fetched time.Time) (mirrorsync.Change, error) {
	var o apiOrder
	if err := strictJSON(raw, &o); err != nil {
		return mirrorsync.Change{}, fmt.Errorf("decode order: %w", err)
	}
	if o.OrderID == "" {
		return mirrorsync.Change{}, fmt.Errorf("order without orderId")
	}
	e := &mirrorsync.Order{RequestID: o.RequestID, Status: orderStatus(o.Status), Total: o.Total, Currency: o.Currency}
	if t, err := parseTime(o.CreatedDate); err == nil {
		e.PlacedAt = mirrorsync.Some(t)
	}
	if o.Items.Set { // an order without its items list says nothing of its lines
		items := make([]mirrorsync.LineItem, len(o.Items.Value))
		for i, it := range o.Items.Value {
			id := it.ProductID.String()
			items[i] = mirrorsync.LineItem{ProductExternalID: &id, SKU: it.BrandCode, Quantity: it.Quantity}
			if it.ProductFaceValue != nil {
				items[i].UnitPrice = decimal.NewNullDecimal(*it.ProductFaceValue)
			}
		}
		e.Items = mirrorsync.All(items)
	}
	safe, err := withoutCards(raw)
	if err != nil {
		return mirrorsync.Change{}, err
	}
	// Get Order carries no version: it is the order as of the fetch.
	return mirrorsync.Change{
		Key:     mirrorsync.Key{Source: p.source, ExternalID: o.OrderID.String()},
		Version: mirrorsync.Version{At: fetched},
		Entity:  e,
		Patch:   true,
		Raw:     safe,
	}, nil
}

// withoutCards drops items[].cards from an order: card codes and PINs are secrets, never mirrored.
func withoutCards(raw json.RawMessage) (json.RawMessage, error) {
	var order map[string]json.RawMessage
	if err := json.Unmarshal(raw, &order); err != nil {
		return nil, fmt.Errorf("decode order: %w", err)
	}
	var items []map[string]json.RawMessage
	if json.Unmarshal(order["items"], &items) == nil && items != nil {
		for _, it := range items {
			delete(it, "cards")
		}
		b, err := json.Marshal(items)
		if err != nil {
			return nil, err
		}
		order["items"] = b
	}
	return json.Marshal(order)
}
