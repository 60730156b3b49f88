package sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Key names one mirrored row.
type Key struct {
	Source     string
	StoreID    string
	ExternalID string
}

func (k Key) String() string {
	if k.StoreID == "" {
		return k.Source + "/" + k.ExternalID
	}
	return k.Source + "/" + k.StoreID + "/" + k.ExternalID
}

// Origin says what applied a change to the mirror.
type Origin string

// The origins: what a mirror row's origin column (and a product_changes row's) says applied it.
const (
	OriginWebhook   Origin = "webhook"
	OriginReconcile Origin = "reconcile"
	OriginReplay    Origin = "replay"
)

// Entity is a mirrored row type: *Product, *Order, ... Its Table is the mirror table it lives in.
type Entity interface {
	Table() string
}

// Change is one event's news about one entity: the fields it carries (absent fields are left
// alone), or that the provider deleted it.
type Change struct {
	Key     Key
	Version Version
	Entity  Entity // the fields the event carries; for a Delete, an empty value of the entity's type
	Delete  bool   // the provider deleted the entity at Version.At
	// Patch marks a partial event: Raw is merged into the stored raw object instead of replacing it.
	Patch bool
	Raw   json.RawMessage // the provider object as received
	// Previous, when set, holds what the provider says the fields were before this change
	// (Bamboo's oldState). A mirror value that differs from it means a change was missed: the
	// row is flagged for the reconciler.
	Previous Entity
	// AnyStore marks an event that names no store (several BareCommerce events, a canonical body
	// without external_store_id). It belongs to the row its resource already has, in whichever of
	// the source's stores that is; only when there is none yet does it go to Key.StoreID (the
	// source's configured store, or ""). A later event that names the store adopts that row, so a
	// resource is never split over two rows (docs/rules.md, "One resource, one row").
	AnyStore bool
}

// Validate reports a change the store could not apply.
func (c Change) Validate() error {
	switch {
	case c.Entity == nil:
		return errors.New("change without entity")
	case c.Key.Source == "":
		return fmt.Errorf("change to %s without source", c.Entity.Table())
	case c.Key.ExternalID == "":
		return fmt.Errorf("change to %s without external id", c.Entity.Table())
	case c.Version.At.IsZero():
		return fmt.Errorf("change to %s %s without a time", c.Entity.Table(), c.Key)
	case c.Previous != nil && c.Previous.Table() != c.Entity.Table():
		return fmt.Errorf("change to %s with previous state of %s", c.Entity.Table(), c.Previous.Table())
	}
	return nil
}

// Event is a stored webhook delivery handed to a Decoder.
type Event struct {
	ID         int64
	Source     string
	DeliveryID string
	Type       string
	ReceivedAt time.Time
	SentAt     time.Time // the signed timestamp, zero when the scheme has none
	Body       []byte
}

// Decoder turns a stored delivery of one source into changes. It must not call any provider.
type Decoder interface {
	Decode(ev Event) ([]Change, error)
}

// ErrIgnored marks a genuine delivery storemirror does not mirror (an unknown event type, a test
// delivery): it is stored as `ignored`, with the wrapped error as the reason.
var ErrIgnored = errors.New("ignored")

// Ignore returns an error that marks the event ignored for the given reason.
func Ignore(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrIgnored, fmt.Sprintf(format, args...))
}

// ErrNotFound is returned for a row (a reconcile run, a source) that does not exist.
var ErrNotFound = errors.New("not found")

// Delivery is a verified webhook request, ready for the inbox.
type Delivery struct {
	Source string
	ID     string // the provider's delivery id: a repeated delivery is stored once
	Type   string
	SentAt time.Time // the signed timestamp, zero when the scheme has none
	Body   []byte
	// Invalid, when set, says why a genuine body cannot be used (a canonical body missing a
	// required field): it is stored as failed, with this reason.
	Invalid error
	// Ignored, when set (an ErrIgnored), says the delivery is known at receipt to be one
	// storemirror does not mirror (an event type no decoder takes, a test delivery): it is stored
	// as ignored, with this reason, and no worker claims it. The decoder, asked again on a
	// replay, comes to the same answer.
	Ignored error
}

// Event statuses: what applying a stored event made of it (sync.webhook_events.status).
const (
	EventApplied = "applied"
	EventIgnored = "ignored"
	EventFailed  = "failed"
)

// Outcome is what applying one stored event did.
type Outcome struct {
	EventID    int64
	Source     string
	DeliveryID string
	Type       string
	Status     string    // EventApplied, EventIgnored or EventFailed
	Err        error     // why it was ignored or failed
	Retry      bool      // failed, and will be tried again
	RetryAt    time.Time // when, if Retry (zero: not scheduled)
}

// Batch is what one apply batch did.
type Batch struct {
	Outcomes []Outcome
	Result   ApplyResult
}

// RetryPolicy says how often, and when, an event whose apply failed is tried again.
type RetryPolicy struct {
	MaxAttempts int
	Backoff     func(attempts int) time.Duration // nil: the default Backoff
}

// DecodeFunc decodes a stored event into changes (see Decoder).
type DecodeFunc func(ev Event) ([]Change, error)

// Decode implements Decoder.
func (f DecodeFunc) Decode(ev Event) ([]Change, error) { return f(ev) }

// ErrRefused marks a failure no retry can cure: the event's data itself is refused, by its
// decoder (decoding is deterministic) or by the database (package store marks the driver
// errors that say so).
var ErrRefused = errors.New("refused")

// Refused marks err as ErrRefused; its message is err's.
func Refused(err error) error { return refusedError{err} }

type refusedError struct{ err error }

func (e refusedError) Error() string        { return e.err.Error() }
func (e refusedError) Unwrap() error        { return e.err }
func (e refusedError) Is(target error) bool { return target == ErrRefused }

// ErrInvalid is returned for a request that cannot be carried out as asked (an unknown entity,
// a bad mode).
var ErrInvalid = errors.New("invalid request")
