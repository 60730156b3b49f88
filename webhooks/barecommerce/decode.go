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
	storeID string
	at      time.Time       // the version of every field the event sets
	data    *object         // the resource, key by key
	raw     json.RawMessage // the resource as received
}

// mapper turns an event's data into the entity it reports.
type mapper func(ev *event) mirrorsync.Entity

// families maps an event type's prefix (before the dot) to the actions it has and the entity
// they report. Every action but "deleted" patches the entity with the fields the data carries.
var families = map[string]struct {
	actions []string
	entity  mapper
	empty   func() mirrorsync.Entity
}{
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
	family, action, _ := strings.Cut(typ.Value, ".")
	f, ok := families[family]
	if !ok || !slices.Contains(f.actions, action) {
		return nil, mirrorsync.Ignore("barecommerce event type %q is not mirrored", typ.Value)
	}
	e, err := readEvent(env, typ.Value, ev)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ.Value, err)
	}
	if e.storeID == "" {
		e.storeID = s.storeID // several documented events name no store
	}
	id := e.data.text("id")
	if e.data.err != nil || !id.Set || id.Null || id.Value == "" {
		return nil, fmt.Errorf("decode %s: data has no id", typ.Value)
	}
	c := mirrorsync.Change{
		Key:     mirrorsync.Key{Source: s.name, StoreID: e.storeID, ExternalID: id.Value},
		Version: mirrorsync.Version{At: e.at},
		Patch:   true,
		Raw:     e.raw,
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
	if e.at, err = version(env, data, ev); err != nil {
		return nil, err
	}
	if env.err != nil || data.err != nil {
		return nil, errors.Join(env.err, data.err)
	}
	return e, nil
}

// version is the time the event's fields are versioned at: the resource's updatedAt, else the
// envelope's timestamp, else the signed time of the delivery, else when it was received (several
// of the documented events carry neither time).
func version(env, data *object, ev mirrorsync.Event) (time.Time, error) {
	for _, t := range []mirrorsync.Field[time.Time]{data.instant("updatedAt"), env.instant("timestamp")} {
		if t.Set && !t.Null && !t.Value.IsZero() {
			return t.Value, nil
		}
	}
	if err := errors.Join(env.err, data.err); err != nil {
		return time.Time{}, err
	}
	if !ev.SentAt.IsZero() {
		return ev.SentAt.UTC(), nil
	}
	return ev.ReceivedAt.UTC(), nil
}
