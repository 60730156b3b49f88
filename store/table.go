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
	history  map[string]bool // columns recorded in mirror.product_changes
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
	if t.name == "products" {
		for _, f := range mirrorsync.ProductHistoryFields {
			t.history[f] = true
		}
	}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if name := f.Tag.Get("db"); name != "" {
			// Field[T] has T as its first field, Value.
			sqlType, err := sqlTypeOf(f.Type.Field(0).Type)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typ.Name(), f.Name, err)
			}
			t.cols = append(t.cols, column{name: name, field: i, sqlType: sqlType})
			continue
		}
		if f.Tag.Get("mirror") != "" {
			// Many[T] has Items []T as its first field.
			c, err := describeChild(f, i, f.Type.Field(0).Type.Elem())
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", typ.Name(), f.Name, err)
			}
			t.children = append(t.children, c)
		}
	}
	return t, nil
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
