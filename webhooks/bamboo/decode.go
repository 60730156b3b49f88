package bamboo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Event types. Bamboo's bodies carry no type field (the seed examples), so an event is known by
// its shape, or by a "type"/"eventType" field when one is present.
const (
	productUpdated = "productupdated.v1"
	orderCompleted = "ordercompleted.v1"
	callbackType   = "notification.callback" // the Notification URL callback (see CallbackPath)
)

// envelope is what every Bamboo body may hold: the product diff, the order fields, or both
// wrapped in {"type": ..., "data": {...}}.
type envelope struct {
	Type      string          `json:"type"`
	EventType string          `json:"eventType"`
	Data      json.RawMessage `json:"data"`
	Products  json.RawMessage `json:"products"`
	OrderID   json.RawMessage `json:"orderId"`
}

// eventType names a body's event: its type field, else its shape ("" when unrecognised).
func eventType(body []byte) string {
	t, _ := payload(body)
	return t
}

// payload returns a body's event type and the object carrying the event's fields.
func payload(body []byte) (string, []byte) {
	var env envelope
	if json.Unmarshal(body, &env) != nil {
		return "", body
	}
	inner := body
	if len(env.Data) > 0 && env.Data[0] == '{' {
		inner = env.Data
		var data envelope
		if json.Unmarshal(inner, &data) == nil {
			env.Products, env.OrderID = data.Products, data.OrderID
		}
	}
	switch {
	case env.Type != "":
		return env.Type, inner
	case env.EventType != "":
		return env.EventType, inner
	case len(env.Products) > 0:
		return productUpdated, inner
	case len(env.OrderID) > 0:
		return orderCompleted, inner
	}
	return "", inner
}

// productDiff is one product of a productupdated.v1 event.
type productDiff struct {
	ID       json.Number     `json:"id"`
	OldState json.RawMessage `json:"oldState"`
	NewState json.RawMessage `json:"newState"`
}

// productState is Bamboo's state of a product in a diff. Every column is a Field: a key the
// state leaves out changes nothing, and only an explicit null empties a column (a quantity of
// null means unlimited).
type productState struct {
	Name         mirrorsync.Field[string]          `json:"name"`
	Status       mirrorsync.Field[string]          `json:"status"`
	MinFaceValue mirrorsync.Field[decimal.Decimal] `json:"minFaceValue"`
	MaxFaceValue mirrorsync.Field[decimal.Decimal] `json:"maxFaceValue"`
	Quantity     mirrorsync.Field[int64]           `json:"quantity"`
	Price        mirrorsync.Field[price]           `json:"price"`
	ModifiedDate string                            `json:"modifiedDate"`
}

// price is Bamboo's price range of a product (the client's cost, not the face value), in the
// webhooks' states and in the catalog alike.
type price struct {
	Min          mirrorsync.Field[decimal.Decimal] `json:"min"`
	Max          mirrorsync.Field[decimal.Decimal] `json:"max"`
	CurrencyCode mirrorsync.Field[string]          `json:"currencyCode"`
}

// setPrice sets p's price fields from pr: those pr carries; a null price empties the range.
func setPrice(p *mirrorsync.Product, pr mirrorsync.Field[price]) {
	switch {
	case !pr.Set:
	case pr.Null:
		p.PriceMin, p.PriceMax = mirrorsync.Null[decimal.Decimal](), mirrorsync.Null[decimal.Decimal]()
	default:
		p.PriceMin, p.PriceMax = pr.Value.Min, pr.Value.Max
		if pr.Value.CurrencyCode.Set && !pr.Value.CurrencyCode.Null {
			p.Currency = pr.Value.CurrencyCode // a price without its currency says nothing of it
		}
	}
}

type productUpdatedEvent struct {
	Products  []productDiff `json:"products"`
	Timestamp string        `json:"timestamp"`
}

// order is an ordercompleted.v1 event, or a Notification URL callback (same fields).
type order struct {
	OrderID     json.Number              `json:"orderId"`
	RequestID   mirrorsync.Field[string] `json:"requestId"`
	Status      mirrorsync.Field[string] `json:"status"`
	TotalCards  mirrorsync.Field[int64]  `json:"totalCards"`
	CreatedOn   string                   `json:"createdOn"`
	CompletedOn string                   `json:"completedOn"`
}

// Decode implements mirrorsync.Decoder.
func (s *Source) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	typ, body := payload(ev.Body)
	if ev.Type == callbackType {
		typ = callbackType
	}
	switch typ {
	case productUpdated:
		return s.decodeProducts(ev, body)
	case orderCompleted, callbackType:
		return s.decodeOrder(ev, body)
	case "":
		return nil, mirrorsync.Ignore("unrecognised bamboo event (neither products[] nor orderId)")
	}
	return nil, mirrorsync.Ignore("bamboo event type %q is not mirrored", typ)
}

func (s *Source) decodeProducts(ev mirrorsync.Event, body []byte) ([]mirrorsync.Change, error) {
	var e productUpdatedEvent
	if err := strictJSON(body, &e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", productUpdated, err)
	}
	// The body's timestamp is when Bamboo stamped the event, and stays the same when the event is
	// retried (the Svix timestamp does not): it breaks ties between diffs of one modifiedDate.
	stamped := eventVersion(ev)
	if t, err := parseTime(e.Timestamp); err == nil {
		stamped = mirrorsync.Version{At: t, EventAt: t}
	}
	changes := make([]mirrorsync.Change, 0, len(e.Products))
	for i, p := range e.Products {
		if p.ID == "" {
			return nil, fmt.Errorf("decode %s: products[%d] has no id", productUpdated, i)
		}
		if len(p.NewState) == 0 || bytes.Equal(p.NewState, []byte("null")) {
			return nil, fmt.Errorf("decode %s: product %s has no newState", productUpdated, p.ID)
		}
		var now productState
		if err := strictJSON(p.NewState, &now); err != nil {
			return nil, fmt.Errorf("decode %s: product %s newState: %w", productUpdated, p.ID, err)
		}
		v := stamped
		if t, err := parseTime(now.ModifiedDate); err == nil {
			v.At, v.Received = t, false // the product's own version, the clock the catalog API reports too
		}
		c := mirrorsync.Change{
			Key:     mirrorsync.Key{Source: s.name, ExternalID: p.ID.String()},
			Version: v,
			Entity:  now.product(),
			Patch:   true, // the diff's state is part of the product; the catalog's fields stay in raw
			Raw:     p.NewState,
		}
		if len(p.OldState) > 0 && !bytes.Equal(p.OldState, []byte("null")) {
			var before productState
			if err := strictJSON(p.OldState, &before); err != nil {
				return nil, fmt.Errorf("decode %s: product %s oldState: %w", productUpdated, p.ID, err)
			}
			c.Previous = before.product()
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// product maps a diff state to the mirror's product fields (only those the state carries).
func (st productState) product() *mirrorsync.Product {
	p := &mirrorsync.Product{
		Kind: mirrorsync.Some("product"), Name: st.Name, Status: st.Status,
		MinFaceValue: st.MinFaceValue, MaxFaceValue: st.MaxFaceValue,
		StockQuantity: st.Quantity, // null means unlimited: NULL
	}
	setPrice(p, st.Price)
	return p
}

func (s *Source) decodeOrder(ev mirrorsync.Event, body []byte) ([]mirrorsync.Change, error) {
	var o order
	if err := strictJSON(body, &o); err != nil {
		return nil, fmt.Errorf("decode bamboo order: %w", err)
	}
	if o.OrderID == "" {
		return nil, fmt.Errorf("decode bamboo order: no orderId")
	}
	e := &mirrorsync.Order{RequestID: o.RequestID, Status: orderStatus(o.Status), TotalCards: o.TotalCards}
	v := eventVersion(ev)
	if t, err := parseTime(o.CreatedOn); err == nil {
		e.PlacedAt = mirrorsync.Some(t)
	}
	if t, err := parseTime(o.CompletedOn); err == nil {
		e.CompletedAt = mirrorsync.Some(t)
		v.At, v.Received = t, false
	}
	return []mirrorsync.Change{{
		Key:     mirrorsync.Key{Source: s.name, ExternalID: o.OrderID.String()},
		Version: v,
		Entity:  e,
		Patch:   true, // Get Order returns more than the event carries
		Raw:     body,
	}}, nil
}

// orderStatus stores Bamboo's order status in one spelling, its webhooks' (lower case:
// "succeeded"), whichever path reports it: Get Order says "Succeeded".
func orderStatus(f mirrorsync.Field[string]) mirrorsync.Field[string] {
	if f.Set && !f.Null {
		f.Value = strings.ToLower(f.Value)
	}
	return f
}

// eventVersion is the version of an event whose body says no time: its signed timestamp (Svix),
// else when it was received.
func eventVersion(ev mirrorsync.Event) mirrorsync.Version {
	if !ev.SentAt.IsZero() {
		return mirrorsync.Version{At: ev.SentAt, EventAt: ev.SentAt}
	}
	return mirrorsync.Received(ev.ReceivedAt)
}

// parseTime reads Bamboo's times: RFC 3339 with a zone or offset, or (modifiedDate) seven
// fractional digits and no zone, which is UTC.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("no time")
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("bamboo time %q: %w", s, err)
	}
	return t, nil
}

// strictJSON decodes b into v, whose ids are json.Number and amounts decimal: they keep their digits.
func strictJSON(b []byte, v any) error { return json.Unmarshal(b, v) }
