package barecommerce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// object is a JSON object read key by key, so that a key's presence is known: BareCommerce
// events are partial, and a key the event lacks must leave its column alone. Typed readers
// return an absent Field for a missing key, a Null one for a JSON null, and otherwise the value;
// the first value of the wrong type is kept in err, and the readers after it return absent.
type object struct {
	keys map[string]json.RawMessage
	err  error
}

// parseObject reads b as a JSON object; what names it says what b is, in the error.
func parseObject(b []byte, what string) (*object, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	if keys == nil { // the JSON literal null
		return nil, fmt.Errorf("decode %s: not an object", what)
	}
	return &object{keys: keys}, nil
}

// lookup returns the raw value of key; ok is false when the key is absent or an earlier key
// failed, null when the value is JSON null.
func (o *object) lookup(key string) (raw json.RawMessage, null, ok bool) {
	raw, ok = o.keys[key]
	if !ok || o.err != nil {
		return nil, false, false
	}
	return raw, bytes.Equal(bytes.TrimSpace(raw), []byte("null")), true
}

func (o *object) fail(key string, err error) {
	o.err = fmt.Errorf("decode %s: %w", key, err)
}

// text reads a string; a number is taken as its decimal text (ids may be either).
func (o *object) text(key string) mirrorsync.Field[string] {
	raw, null, ok := o.lookup(key)
	switch {
	case !ok:
		return mirrorsync.Field[string]{}
	case null:
		return mirrorsync.Null[string]()
	}
	s, err := textOf(raw)
	if err != nil {
		o.fail(key, err)
		return mirrorsync.Field[string]{}
	}
	return mirrorsync.Some(s)
}

func textOf(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", errors.New("not a string or number")
	}
	return n.String(), nil
}

// money reads a decimal given as a JSON string ("99.99") or number; "" is taken as null.
func (o *object) money(key string) mirrorsync.Field[decimal.Decimal] {
	raw, null, ok := o.lookup(key)
	switch {
	case !ok:
		return mirrorsync.Field[decimal.Decimal]{}
	case null, string(bytes.TrimSpace(raw)) == `""`:
		return mirrorsync.Null[decimal.Decimal]()
	}
	var d decimal.Decimal
	if err := d.UnmarshalJSON(raw); err != nil {
		o.fail(key, err)
		return mirrorsync.Field[decimal.Decimal]{}
	}
	return mirrorsync.Some(d)
}

// integer reads a whole number, given as a JSON number or a numeric string.
func (o *object) integer(key string) mirrorsync.Field[int64] {
	raw, null, ok := o.lookup(key)
	switch {
	case !ok:
		return mirrorsync.Field[int64]{}
	case null:
		return mirrorsync.Null[int64]()
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		o.fail(key, errors.New("not a number"))
		return mirrorsync.Field[int64]{}
	}
	i, err := n.Int64()
	if err != nil {
		o.fail(key, fmt.Errorf("not a whole number: %s", n))
		return mirrorsync.Field[int64]{}
	}
	return mirrorsync.Some(i)
}

// instant reads an RFC 3339 time, in UTC; "" is taken as null.
func (o *object) instant(key string) mirrorsync.Field[time.Time] {
	raw, null, ok := o.lookup(key)
	switch {
	case !ok:
		return mirrorsync.Field[time.Time]{}
	case null:
		return mirrorsync.Null[time.Time]()
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		o.fail(key, errors.New("not a string"))
		return mirrorsync.Field[time.Time]{}
	}
	if strings.TrimSpace(s) == "" {
		return mirrorsync.Null[time.Time]()
	}
	t, err := parseTime(s)
	if err != nil {
		o.fail(key, err)
		return mirrorsync.Field[time.Time]{}
	}
	return mirrorsync.Some(t)
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// either returns f when it carries a value, else g when g carries one, else f (absent or null).
func either[T any](f, g mirrorsync.Field[T]) mirrorsync.Field[T] {
	if (!f.Set || f.Null) && g.Set && !g.Null {
		return g
	}
	return f
}

// ptr turns a field into a child row's nullable column: nil when absent or null.
func ptr[T any](f mirrorsync.Field[T]) *T {
	if !f.Set || f.Null {
		return nil
	}
	return &f.Value
}
