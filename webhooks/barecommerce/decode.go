package barecommerce

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// event is one delivery, read: the envelope's type and the data object it carries.
type event struct {
	typ     string
	storeID string             // "" when neither the envelope nor the data names a store
	at      time.Time          // when the event was true: the resource's updatedAt, else the event's time
	version mirrorsync.Version // the version of every field the event sets
	data    *object            // the resource, key by key
	raw     json.RawMessage    // the resource as received
}

// mapper turns an event's data into the entity it reports.
type mapper func(ev *event) mirrorsync.Entity

// eventFamily is the events of one resource: the actions it has and the entity they report.
type eventFamily struct {
	actions []string
	entity  mapper
	empty   func() mirrorsync.Entity
}

// families maps an event type's prefix (before the dot) to its family. Every action but
// "deleted" patches the entity with the fields the data carries.
var families = map[string]eventFamily{
	"order": {
		[]string{"created", "updated", "paid", "fulfilled", "cancelled", "refunded"},
		mapOrder, func() mirrorsync.Entity { return &mirrorsync.Order{} },
	},
	"product": {
		[]string{"created", "updated", "deleted"},
		mapProduct, func() mirrorsync.Entity { return &mirrorsync.Product{} },
	},
	"customer": {
		[]string{"created", "updated", "deleted"},
		mapCustomer, func() mirrorsync.Entity { return &mirrorsync.Customer{} },
	},
	"category": {
		[]string{"created", "updated", "deleted"},
		mapCategory, func() mirrorsync.Entity { return &mirrorsync.Category{} },
	},
	"page": {
		[]string{"created", "updated", "deleted"},
		mapPage, func() mirrorsync.Entity { return &mirrorsync.Page{} },
	},
	"media": {
		[]string{"created", "updated", "deleted"},
		mapMedia, func() mirrorsync.Entity { return &mirrorsync.Media{} },
	},
}

// screen says, from its type alone, whether an event is one the mirror takes (its family and
// action) or one it ignores (an ErrIgnored): Verify asks it at receipt, Decode when applying.
func screen(typ string) (eventFamily, string, error) {
	name, action, _ := strings.Cut(typ, ".")
	f, ok := families[name]
	if !ok || !slices.Contains(f.actions, action) {
		return eventFamily{}, "", mirrorsync.Ignore("barecommerce event type %q is not mirrored", typ)
	}
	return f, action, nil
}

// Decode implements mirrorsync.Decoder. Every BareCommerce event becomes one patch of the
// resource its data names: the fields the data carries are set, the others left alone, each
// versioned by the event's time so that events may be applied in any order. A *.deleted event
// marks the resource deleted at that time.
func (s *Source) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	env, err := parseObject(ev.Body, "envelope")
	if err != nil {
		return nil, err
	}
	typ := env.text("type")
	if env.err != nil {
		return nil, env.err
	}
	f, action, err := screen(typ.Value)
	if err != nil {
		return nil, err
	}
	e, err := readEvent(env, typ.Value, ev)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ.Value, err)
	}
	id := e.data.text("id")
	if e.data.err != nil || !id.Set || id.Null || id.Value == "" {
		return nil, fmt.Errorf("decode %s: data has no id", typ.Value)
	}
	c := mirrorsync.Change{
		Key:     mirrorsync.Key{Source: s.name, StoreID: e.storeID, ExternalID: id.Value},
		Version: e.version,
		Patch:   true,
		Raw:     e.raw,
	}
	if e.storeID == "" {
		// Several documented events name no store: the resource's row is wherever it already
		// is, else in the configured store (docs/rules.md, "One resource, one row").
		c.Key.StoreID, c.AnyStore = s.storeID, true
	}
	if action == "deleted" {
		c.Entity, c.Delete = f.empty(), true
	} else if c.Entity = f.entity(e); e.data.err != nil {
		return nil, fmt.Errorf("decode %s %s: %w", typ.Value, id.Value, e.data.err)
	}
	return []mirrorsync.Change{c}, nil
}

// readEvent reads the envelope's data, store and time.
func readEvent(env *object, typ string, ev mirrorsync.Event) (*event, error) {
	raw, null, ok := env.lookup("data")
	if !ok || null {
		return nil, errors.New("no data")
	}
	data, err := parseObject(raw, "data")
	if err != nil {
		return nil, err
	}
	e := &event{typ: typ, data: data, raw: raw}
	// The envelope names the store; resources carry it too (the product.created example has
	// it only there).
	e.storeID = env.text("storeId").Value
	if e.storeID == "" {
		e.storeID = data.text("storeId").Value
	}
	if e.version, err = version(env, data, ev); err != nil {
		return nil, err
	}
	e.at = e.version.At
	if env.err != nil || data.err != nil {
		return nil, errors.Join(env.err, data.err)
	}
	return e, nil
}

// version is the version of every field the event sets: the resource's updatedAt, else the
// envelope's timestamp, else the signed time of the delivery; the envelope's timestamp, when the
// provider stamped the event, breaks ties. Several documented events carry neither time: they
// are versioned at their receipt (mirrorsync.Received), and a reconcile pull fetched after that
// can still repair what they set (docs/rules.md, "Events without a time").
func version(env, data *object, ev mirrorsync.Event) (mirrorsync.Version, error) {
	updated, stamped := data.instant("updatedAt"), env.instant("timestamp")
	if err := errors.Join(env.err, data.err); err != nil {
		return mirrorsync.Version{}, err
	}
	var v mirrorsync.Version
	switch {
	case known(stamped):
		v.EventAt = stamped.Value
	case !ev.SentAt.IsZero():
		v.EventAt = ev.SentAt.UTC()
	default:
		v = mirrorsync.Received(ev.ReceivedAt.UTC())
	}
	v.At = v.EventAt
	if known(updated) {
		v.At, v.Received = updated.Value, false
	}
	return v, nil
}

// known reports a time field that carries a time.
func known(t mirrorsync.Field[time.Time]) bool { return t.Set && !t.Null && !t.Value.IsZero() }
