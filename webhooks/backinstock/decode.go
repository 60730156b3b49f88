package backinstock

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The topics Back in Stock's webhooks send.
const (
	topicCreate = "notification/create"
	topicSent   = "notification/sent"
	// topicCreated is the spelling one third-party code sample checks for; the provider's docs
	// say notification/create. Its meaning is unambiguous and its body would be the same, so it
	// is mirrored as a create rather than ignored: should the docs be the ones that are wrong,
	// no notification goes missing from the mirror.
	topicCreated = "notification/created"
)

// notification is a Back in Stock webhook body. Every key that becomes a column is a Field, so
// that a key the body leaves out leaves its column alone, and a key sent as null empties it.
type notification struct {
	NotificationID    json.Number                `json:"notification_id"`
	Timestamp         string                     `json:"timestamp"`
	Channel           mirrorsync.Field[string]   `json:"channel"`
	Customer          mirrorsync.Field[customer] `json:"customer"`
	QuantityRequired  mirrorsync.Field[int64]    `json:"quantity_required"`
	CustomerLanguage  mirrorsync.Field[string]   `json:"customer_language"`
	CustomerUTCOffset mirrorsync.Field[int64]    `json:"customer_utc_offset"` // seconds
	CreatedAt         mirrorsync.Field[string]   `json:"created_at"`
	Product           mirrorsync.Field[product]  `json:"product"`
}

type customer struct {
	Email mirrorsync.Field[string] `json:"email"`
	SMS   mirrorsync.Field[string] `json:"sms"`
}

// product holds the variant too: the provider's example nests variant_id, variant_title and
// sku inside product.
type product struct {
	ProductID    mirrorsync.Field[json.Number] `json:"product_id"`
	ProductTitle mirrorsync.Field[string]      `json:"product_title"`
	VariantID    mirrorsync.Field[json.Number] `json:"variant_id"`
	VariantTitle mirrorsync.Field[string]      `json:"variant_title"`
	SKU          mirrorsync.Field[string]      `json:"sku"`
}

// Decode implements mirrorsync.Decoder: a notification/create or notification/sent event is one
// patch of a mirror.stock_notifications row; a test delivery and other topics are ignored.
func (s *Source) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	topic, err := classify(ev.Body)
	if err != nil {
		return nil, err
	}
	var n notification
	if err := json.Unmarshal(ev.Body, &n); err != nil {
		return nil, fmt.Errorf("decode %s: %w", topic, err)
	}
	id, err := externalID(n.NotificationID)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", topic, err)
	}
	e, err := n.entity()
	if err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", topic, id, err)
	}
	at, err := n.stamp(topic, e)
	if err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", topic, id, err)
	}
	v := mirrorsync.Version{At: at}
	if t, err := parseTime(n.Timestamp); err == nil {
		v.EventAt = t // when Back in Stock stamped the event: it breaks ties
	}
	return []mirrorsync.Change{{
		Key:     mirrorsync.Key{Source: s.name, ExternalID: id},
		Version: v,
		Entity:  e,
		// Each event carries only what it knows about the notification, and the two topics may
		// arrive in either order: the body is merged key by key into raw, newest key wins.
		Patch: true,
		Raw:   json.RawMessage(ev.Body),
	}}, nil
}

// classify returns the topic a body is mirrored as, or why it is not. It reads only test and
// topic, into untyped values, so that a test delivery is recognised whatever else it holds.
func classify(body []byte) (string, error) {
	var head struct {
		Test  any `json:"test"`
		Topic any `json:"topic"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return "", fmt.Errorf("decode body: %w", err)
	}
	if head.Test == true {
		return "", mirrorsync.Ignore("test delivery")
	}
	topic, ok := head.Topic.(string)
	switch {
	case !ok:
		// Every Back in Stock webhook names its topic: a body without one is broken, not news.
		return "", errors.New("decode body: no topic")
	case topic == topicCreate || topic == topicCreated:
		return topicCreate, nil
	case topic == topicSent:
		return topicSent, nil
	}
	return "", mirrorsync.Ignore("topic %q is not mirrored", topic)
}

// stamp sets the status the topic implies and returns the event's version.
//
// Both topics describe one row and may arrive in either order, so their versions must order
// them as the provider's history does: a notification is created before it is sent. A create is
// versioned at the notification's created_at (falling back to the event's timestamp only when
// created_at is missing), a sent event at its timestamp, the moment of sending. created_at is
// preferred over the create's own timestamp because it is the earliest time the provider
// records for the notification: a create delivered or stamped late can never outrank the sent
// event, which would otherwise turn a sent notification back into "created". Should both
// carry the very same second, the tie goes to the later received (mirrorsync.Version).
func (n notification) stamp(topic string, e *mirrorsync.StockNotification) (time.Time, error) {
	if topic == topicSent {
		at, err := parseTime(n.Timestamp)
		if err != nil {
			return time.Time{}, fmt.Errorf("read timestamp: %w", err)
		}
		e.Status = mirrorsync.Some("sent")
		e.SentAt = mirrorsync.Some(at)
		return at, nil
	}
	e.Status = mirrorsync.Some("created")
	if e.CreatedAt.Set && !e.CreatedAt.Null {
		return e.CreatedAt.Value, nil
	}
	at, err := parseTime(n.Timestamp)
	if err != nil {
		return time.Time{}, fmt.Errorf("read timestamp (there is no created_at): %w", err)
	}
	return at, nil
}

// entity maps the columns both topics carry.
func (n notification) entity() (*mirrorsync.StockNotification, error) {
	e := &mirrorsync.StockNotification{
		Channel:          n.Channel,
		CustomerLanguage: n.CustomerLanguage,
	}
	var err error
	if e.QuantityRequired, err = integer(n.QuantityRequired, "quantity_required"); err != nil {
		return nil, err
	}
	if e.CustomerUTCOffset, err = integer(n.CustomerUTCOffset, "customer_utc_offset"); err != nil {
		return nil, err
	}
	if e.CreatedAt, err = timeField(n.CreatedAt); err != nil {
		return nil, fmt.Errorf("read created_at: %w", err)
	}
	n.setCustomer(e)
	if err := n.setProduct(e); err != nil {
		return nil, err
	}
	return e, nil
}

// setCustomer maps customer; a null customer empties its columns.
func (n notification) setCustomer(e *mirrorsync.StockNotification) {
	switch c := n.Customer; {
	case c.Null:
		e.CustomerEmail, e.CustomerSMS = mirrorsync.Null[string](), mirrorsync.Null[string]()
	case c.Set:
		e.CustomerEmail, e.CustomerSMS = c.Value.Email, c.Value.SMS
	}
}

// setProduct maps product and its variant; a null product empties their columns.
func (n notification) setProduct(e *mirrorsync.StockNotification) error {
	switch p := n.Product; {
	case p.Null:
		null := mirrorsync.Null[string]()
		e.ProductExternalID, e.ProductTitle, e.VariantExternalID, e.VariantTitle, e.SKU = null, null, null, null, null
		return nil
	case !p.Set:
		return nil
	}
	p := n.Product.Value
	var err error
	if e.ProductExternalID, err = idField(p.ProductID); err != nil {
		return fmt.Errorf("read product.product_id: %w", err)
	}
	if e.VariantExternalID, err = idField(p.VariantID); err != nil {
		return fmt.Errorf("read product.variant_id: %w", err)
	}
	e.ProductTitle, e.VariantTitle, e.SKU = p.ProductTitle, p.VariantTitle, p.SKU
	return nil
}

// externalID renders notification_id as the row's external id.
func externalID(n json.Number) (string, error) {
	if n == "" {
		return "", errors.New("read notification_id: missing")
	}
	id, err := parseID(n)
	if err != nil {
		return "", fmt.Errorf("read notification_id: %w", err)
	}
	return id, nil
}

// idField renders a Shopify id (an int64) as text.
func idField(o mirrorsync.Field[json.Number]) (mirrorsync.Field[string], error) {
	if !o.Set || o.Null {
		return mirrorsync.Field[string]{Set: o.Set, Null: o.Null}, nil
	}
	id, err := parseID(o.Value)
	if err != nil {
		return mirrorsync.Field[string]{}, err
	}
	return mirrorsync.Some(id), nil
}

// parseID checks that n is an int64 (1.5 and 1e3 are not ids) and renders it as decimal text.
// json.Number takes an id sent as a string too: 12345 and "12345" name the same row.
func parseID(n json.Number) (string, error) {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return "", fmt.Errorf("id %q is not an integer", n)
	}
	return strconv.FormatInt(v, 10), nil
}

// integer maps a count or offset; the mirror column is a PostgreSQL integer, so a value that
// does not fit fails here, once, instead of failing every retry of the insert.
func integer(o mirrorsync.Field[int64], key string) (mirrorsync.Field[int64], error) {
	f := o
	if f.Set && !f.Null && (f.Value < math.MinInt32 || f.Value > math.MaxInt32) {
		return mirrorsync.Field[int64]{}, fmt.Errorf("read %s: %d is out of range", key, f.Value)
	}
	return f, nil
}

// timeField maps an ISO 8601 time; an empty string is taken as null.
func timeField(o mirrorsync.Field[string]) (mirrorsync.Field[time.Time], error) {
	switch {
	case !o.Set:
		return mirrorsync.Field[time.Time]{}, nil
	case o.Null || o.Value == "":
		return mirrorsync.Null[time.Time](), nil
	}
	t, err := parseTime(o.Value)
	if err != nil {
		return mirrorsync.Field[time.Time]{}, err
	}
	return mirrorsync.Some(t), nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}
