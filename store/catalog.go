package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// MirrorSchema is the mirror schema as the live database describes it: its tables and views and
// their COMMENT ON text, which the migrations write for the people who query them.
type MirrorSchema struct {
	Comment   string
	Relations []Relation // tables, then views, each by name
}

// Relation is a table or view of the mirror schema.
type Relation struct {
	Name    string // without the schema
	View    bool
	Comment string
	Columns []Column // in the table's order
}

// Column is a column of a Relation.
type Column struct {
	Name    string
	Type    string // as PostgreSQL spells it: text, numeric, timestamp with time zone...
	NotNull bool
	Key     bool // part of the primary key
	Comment string
}

// Has reports whether r has a column called name.
func (r Relation) Has(name string) bool {
	for _, c := range r.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

// DescribeMirror reads the mirror schema's tables, views, columns and comments from the catalog.
func (db *DB) DescribeMirror(ctx context.Context) (MirrorSchema, error) {
	var s MirrorSchema
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var comment *string
		if err := tx.GetContext(ctx, &comment, `SELECT obj_description(to_regnamespace('mirror'), 'pg_namespace')`); err != nil {
			return fmt.Errorf("describe schema mirror: %w", err)
		}
		s = MirrorSchema{Comment: deref(comment)}
		var cols []catalogColumn
		if err := tx.SelectContext(ctx, &cols, describeMirror); err != nil {
			return fmt.Errorf("describe schema mirror: %w", err)
		}
		for _, c := range cols {
			if n := len(s.Relations); n == 0 || s.Relations[n-1].Name != c.Relation {
				s.Relations = append(s.Relations, Relation{Name: c.Relation, View: c.View, Comment: deref(c.RelationComment)})
			}
			r := &s.Relations[len(s.Relations)-1]
			r.Columns = append(r.Columns, Column{Name: c.Name, Type: c.Type, NotNull: c.NotNull, Key: c.Key, Comment: deref(c.Comment)})
		}
		return nil
	})
	return s, err
}

// One row per column of every table and view of mirror: tables first, each relation's columns
// together in their order.
const describeMirror = `
	SELECT c.relname AS relation, c.relkind = 'v' AS view, obj_description(c.oid, 'pg_class') AS relation_comment,
		a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
		COALESCE(a.attnum = ANY (i.indkey), false) AS key, col_description(c.oid, a.attnum) AS comment
	FROM pg_class c
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
	WHERE c.relnamespace = to_regnamespace('mirror') AND c.relkind IN ('r', 'v') -- none when it is missing
	ORDER BY c.relkind = 'v', c.relname, a.attnum`

type catalogColumn struct {
	Relation        string  `db:"relation"`
	View            bool    `db:"view"`
	RelationComment *string `db:"relation_comment"`
	Name            string  `db:"name"`
	Type            string  `db:"type"`
	NotNull         bool    `db:"not_null"`
	Key             bool    `db:"key"`
	Comment         *string `db:"comment"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
