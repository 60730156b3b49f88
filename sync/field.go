package sync

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"

	gojson "github.com/goccy/go-json"
)

// Field is one column of an entity as an event reports it. The zero Field is absent: the event
// says nothing about the column, and applying the event leaves it as it is. A Field that is Set
// but Null says the value is explicitly empty (a Bamboo quantity of null means unlimited).
type Field[T any] struct {
	Value T
	Null  bool
	Set   bool
}

// Some returns a Field carrying v.
func Some[T any](v T) Field[T] { return Field[T]{Value: v, Set: true} }

// Null returns a Field that is carried and empty.
func Null[T any]() Field[T] { return Field[T]{Null: true, Set: true} }

// FromPtr returns Some(*p), or Null when p is nil.
func FromPtr[T any](p *T) Field[T] {
	if p == nil {
		return Null[T]()
	}
	return Some(*p)
}

// NonEmpty returns Some(s), or Null when s is empty. Providers send "" and null interchangeably
// for missing text such as a tax code.
func NonEmpty(s string) Field[string] {
	if s == "" {
		return Null[string]()
	}
	return Some(s)
}

// Present reports whether the event carries the field, and its value (nil when Null).
func (f Field[T]) Present() (bool, any) {
	if !f.Set {
		return false, nil
	}
	if f.Null {
		return true, nil
	}
	return true, f.Value
}

// Scan reads a column into the field: it is then Set, and Null when the column is NULL.
func (f *Field[T]) Scan(src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return fmt.Errorf("scan %T: %w", f.Value, err)
	}
	*f = Field[T]{Value: n.V, Null: !n.Valid, Set: true}
	return nil
}

// UnmarshalJSON reads a field from a JSON body. It is called only for a key the body has, so a
// wire struct of Fields tells the three states apart: a key left out stays absent, null is
// Null, anything else is Some.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	*f = Field[T]{Set: true}
	if string(b) == "null" {
		f.Null = true
		return nil
	}
	return UnmarshalJSON(b, &f.Value)
}

// UnmarshalJSON decodes b into v as encoding/json does, several times faster on a valid body:
// goccy/go-json decodes it, and only when that fails does encoding/json decode it again, into a
// zeroed v, so that every error (and its type: a SyntaxError, an UnmarshalTypeError naming the
// struct field) is encoding/json's. The two agree on what succeeds (the differential fuzzers of
// webhooks/stickyio hold them to it).
func UnmarshalJSON(b []byte, v any) error {
	if gojson.Unmarshal(b, v) == nil {
		return nil
	}
	if p := reflect.ValueOf(v); p.Kind() == reflect.Pointer && !p.IsNil() {
		p.Elem().SetZero()
	}
	return json.Unmarshal(b, v)
}

// Many is a child collection of an entity (a product's variants, an order's items). It is one
// field: an event that carries it replaces the whole collection with Items. The zero Many is
// absent; Set with no Items empties the collection.
type Many[T any] struct {
	Items []T
	Set   bool
}

// All returns a Many carrying exactly items.
func All[T any](items []T) Many[T] { return Many[T]{Items: items, Set: true} }
