package store

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The mirror tables are described once, by the entity types of package sync: each Field's `db` tag
// is a column, each Many's tags a child table. From that description the store builds its SQL, so
// a column is added in two places only: the migration and the entity struct.

// column is one typed column of a mirror table.
type column struct {
	name    string
	field   int    // index of the struct field holding it
	sqlType string // the PostgreSQL type, for jsonb_to_recordset
}

// childTable is a table of children replaced as a whole with their parent's latest snapshot.
type childTable struct {
	name        string // mirror table
	field       int    // index of the Many (or, nested, the slice) in the parent struct
	items, set  int    // top-level only: indexes of the Many's Items and Set, found by name
	parent      string // column holding the parent's external id
	parentIndex string // nested only: column holding the parent item's index
	index       string // column numbering the children
	base        int    // first index value
	cols        []column
	idField     int          // index of the item's external_id field, -1 when none (parents of nested tables need it)
	nested      []childTable // children of each item (a variant's attributes)
}

// table is a mirror entity table.
type table struct {
	name     string
	typ      reflect.Type // the entity struct (not a pointer)
	cols     []column
	children []childTable
	// history names the columns tagged `history`, whose changes are appended to historyTable,
	// which holds the row's external id in historyParent (mirrorsync.Historied).
	history       map[string]bool
	historyTable  string
	historyParent string
}

// tables lists every entity table, in the order a batch applies them (so that concurrent batches
// lock rows in one order).
var tables = mustTables(
	&mirrorsync.Product{}, &mirrorsync.Order{}, &mirrorsync.Fulfillment{}, &mirrorsync.Checkout{},
	&mirrorsync.Customer{}, &mirrorsync.Category{}, &mirrorsync.Page{}, &mirrorsync.Media{},
	&mirrorsync.StockNotification{}, &mirrorsync.StockDemand{},
)

var tablesByType = func() map[reflect.Type]*table {
	m := make(map[reflect.Type]*table, len(tables))
	for _, t := range tables {
		m[t.typ] = t
	}
	return m
}()

// tableOf returns the table of an entity value.
func tableOf(e mirrorsync.Entity) (*table, error) {
	t, ok := tablesByType[reflect.TypeOf(e).Elem()]
	if !ok {
		return nil, fmt.Errorf("no mirror table for %T", e)
	}
	return t, nil
}

// tableNamed returns the table called name (products, orders...).
func tableNamed(name string) (*table, bool) {
	for _, t := range tables {
		if t.name == name {
			return t, true
		}
	}
	return nil, false
}

func mustTables(entities ...mirrorsync.Entity) []*table {
	out := make([]*table, 0, len(entities))
	for _, e := range entities {
		t, err := describe(e)
		if err != nil {
			panic(err)
		}
		out = append(out, t)
	}
	return out
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	decimalType = reflect.TypeOf(decimal.Decimal{})
	nullDecType = reflect.TypeOf(decimal.NullDecimal{})
)

func describe(e mirrorsync.Entity) (*table, error) {
	typ := reflect.TypeOf(e).Elem()
	t := &table{name: e.Table(), typ: typ, history: map[string]bool{}}
	if h, ok := e.(mirrorsync.Historied); ok {
		t.historyTable, t.historyParent = h.History()
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if name := f.Tag.Get("db"); name != "" {
			value, ok := fieldNamed(f.Type, "Value") // a mirrorsync.Field[T]: T is the column's type
			if !ok {
				return nil, fmt.Errorf("%s.%s: a db column must be a mirrorsync.Field", typ.Name(), f.Name)
			}
			sqlType, err := sqlTypeOf(value.Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typ.Name(), f.Name, err)
			}
			t.cols = append(t.cols, column{name: name, field: i, sqlType: sqlType})
			if f.Tag.Get("history") == "true" {
				if t.historyTable == "" {
					return nil, fmt.Errorf("%s.%s: a history column of an entity without a history table", typ.Name(), f.Name)
				}
				t.history[name] = true
			}
			continue
		}
		if f.Tag.Get("mirror") != "" {
			items, okItems := fieldNamed(f.Type, "Items") // a mirrorsync.Many[T]
			set, okSet := fieldNamed(f.Type, "Set")
			if !okItems || !okSet || items.Type.Kind() != reflect.Slice || set.Type.Kind() != reflect.Bool {
				return nil, fmt.Errorf("%s.%s: a mirror child table must be a mirrorsync.Many", typ.Name(), f.Name)
			}
			c, err := describeChild(f, i, items.Type.Elem())
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typ.Name(), f.Name, err)
			}
			c.items, c.set = items.Index[0], set.Index[0]
			t.children = append(t.children, c)
		}
	}
	return t, nil
}

// fieldNamed finds a struct type's field by name (ok is false when typ is not a struct).
func fieldNamed(typ reflect.Type, name string) (reflect.StructField, bool) {
	if typ.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	return typ.FieldByName(name)
}

func describeChild(f reflect.StructField, i int, item reflect.Type) (childTable, error) {
	c := childTable{
		name: f.Tag.Get("mirror"), field: i, parent: f.Tag.Get("parent"),
		parentIndex: f.Tag.Get("parent_index"), idField: -1,
	}
	if c.parent == "" {
		return c, fmt.Errorf("child table %s without a parent column", c.name)
	}
	index, base, _ := strings.Cut(f.Tag.Get("index"), ",")
	c.index = index
	if base != "" {
		n, err := strconv.Atoi(base)
		if err != nil {
			return c, fmt.Errorf("child table %s: index base: %w", c.name, err)
		}
		c.base = n
	}
	for j := 0; j < item.NumField(); j++ {
		g := item.Field(j)
		if name := g.Tag.Get("db"); name != "" {
			sqlType, err := sqlTypeOf(g.Type)
			if err != nil {
				return c, fmt.Errorf("%s.%s: %w", item.Name(), g.Name, err)
			}
			c.cols = append(c.cols, column{name: name, field: j, sqlType: sqlType})
			if name == "external_id" {
				c.idField = j
			}
			continue
		}
		if g.Tag.Get("mirror") != "" {
			n, err := describeChild(g, j, g.Type.Elem())
			if err != nil {
				return c, err
			}
			c.nested = append(c.nested, n)
		}
	}
	if len(c.nested) > 0 && c.idField < 0 {
		return c, fmt.Errorf("child table %s has nested children but no external_id", c.name)
	}
	return c, nil
}

func sqlTypeOf(t reflect.Type) (string, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "timestamptz", nil
	case t == decimalType, t == nullDecType:
		return "numeric", nil
	case t.Kind() == reflect.String:
		return "text", nil
	case t.Kind() == reflect.Int64, t.Kind() == reflect.Int:
		return "bigint", nil
	case t.Kind() == reflect.Bool:
		return "boolean", nil
	}
	return "", fmt.Errorf("no column type for %s", t)
}

func (t *table) columnNames(prefix string) string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = prefix + c.name
	}
	return strings.Join(names, ", ")
}
