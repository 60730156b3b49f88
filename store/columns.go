package store

import (
	"database/sql/driver"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Bulk writes send their rows column by column, each column one text[] parameter, and read
// them back with unnest: `INSERT ... SELECT u.a, u.b::numeric FROM unnest($1::text[], $2::text[])
// AS u(a, b)`. One statement writes a whole batch, and PostgreSQL parses plain array literals,
// several times cheaper than the same rows as JSON objects (measured: see the benchmarks).

// textArray is a text[] parameter whose elements may be NULL.
type textArray struct {
	vals  []string
	valid []bool
}

// Value implements driver.Valuer: the array literal {"a",NULL,"b"}.
func (a *textArray) Value() (driver.Value, error) {
	var b strings.Builder
	n := 2
	for _, v := range a.vals {
		n += len(v) + 3
	}
	b.Grow(n)
	b.WriteByte('{')
	for i, v := range a.vals {
		if i > 0 {
			b.WriteByte(',')
		}
		if !a.valid[i] {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(v); j++ {
			if c := v[j]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

func (a *textArray) add(s string, ok bool) {
	a.vals = append(a.vals, s)
	a.valid = append(a.valid, ok)
}

// columns is a batch of rows being laid out as one text[] per column.
type columns struct {
	names []string
	types []string // the SQL type each column is cast to
	cols  []*textArray
	index map[string]int
}

func newColumns(capacity int, defs ...string) *columns {
	c := &columns{index: map[string]int{}}
	for _, d := range defs {
		name, typ, _ := strings.Cut(d, " ")
		c.define(name, typ, capacity)
	}
	return c
}

func (c *columns) define(name, typ string, capacity int) {
	c.index[name] = len(c.names)
	c.names = append(c.names, name)
	c.types = append(c.types, typ)
	c.cols = append(c.cols, &textArray{vals: make([]string, 0, capacity), valid: make([]bool, 0, capacity)})
}

// set appends v to column name (every row must set every column, in any order).
func (c *columns) set(name string, v any) {
	s, ok := textOf(v)
	c.cols[c.index[name]].add(s, ok)
}

// args are the statement's parameters, one per column.
func (c *columns) args() []any {
	out := make([]any, len(c.cols))
	for i, col := range c.cols {
		out[i] = col
	}
	return out
}

// from is `unnest($1::text[], ...) AS u(a, b, ...)`, with parameters numbered from first.
func (c *columns) from(first int) string {
	params := make([]string, len(c.names))
	for i := range c.names {
		params[i] = "$" + strconv.Itoa(first+i) + "::text[]"
	}
	return "unnest(" + strings.Join(params, ", ") + ") AS u(" + strings.Join(c.names, ", ") + ")"
}

// selectList is `u.a, u.b::numeric, ...`: the columns cast to their types.
func (c *columns) selectList(prefix string) string {
	out := make([]string, len(c.names))
	for i := range c.names {
		out[i] = c.ref(prefix, i)
	}
	return strings.Join(out, ", ")
}

// ref is one column, cast: u.price::numeric.
func (c *columns) ref(prefix string, i int) string {
	if c.types[i] == "text" {
		return prefix + c.names[i]
	}
	return prefix + c.names[i] + "::" + c.types[i]
}

// textOf renders a value as PostgreSQL reads it from text; ok is false for NULL.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return cleanText(x).(string), true
	case *string:
		if x == nil {
			return "", false
		}
		return textOf(*x)
	case decimal.Decimal:
		return x.String(), true
	case decimal.NullDecimal:
		if !x.Valid {
			return "", false
		}
		return x.Decimal.String(), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case *int64:
		if x == nil {
			return "", false
		}
		return strconv.FormatInt(*x, 10), true
	case int:
		return strconv.Itoa(x), true
	case bool:
		return strconv.FormatBool(x), true
	case *bool:
		if x == nil {
			return "", false
		}
		return strconv.FormatBool(*x), true
	case time.Time:
		if x.IsZero() {
			return "", false
		}
		return toMicros(x).Format(time.RFC3339Nano), true
	case json.RawMessage:
		if x == nil {
			return "", false
		}
		return strings.ToValidUTF8(string(x), "\uFFFD"), true
	}
	b, err := json.Marshal(v) // jsonb columns built here: versions, raw_keep, raw_over
	if err != nil || string(b) == "null" {
		return "", false
	}
	return string(b), true
}

// len is the number of rows laid out.
func (c *columns) len() int {
	if len(c.cols) == 0 {
		return 0
	}
	return len(c.cols[0].vals)
}
