package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// bookkeeping are the entity tables' columns the _current views leave out (schema/00021).
var bookkeeping = []string{"deleted_at", "origin", "raw", "versions"}

type catalogColumn struct {
	Name    string  `db:"name"`
	Type    string  `db:"type"`
	Comment *string `db:"comment"`
}

// Every entity table (every mirror table with deleted_at) has a _current view holding its columns
// but the bookkeeping ones, in the table's order, with the table's comments. A migration that adds
// a column or rewords a comment without calling sync.define_current_view again fails here.
func TestEveryEntityTableHasACurrentView(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	var entities []string
	err := db.SQL().Select(&entities, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'deleted_at'
		WHERE n.nspname = 'mirror' AND c.relkind = 'r' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(entities) != 10 {
		t.Errorf("%d entity tables (%v), want 10", len(entities), entities)
	}
	columns := func(rel string) []catalogColumn {
		t.Helper()
		var cols []catalogColumn
		err := db.SQL().Select(&cols, `
			SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, col_description(a.attrelid, a.attnum) AS comment
			FROM pg_attribute a WHERE a.attrelid = to_regclass('mirror.' || $1) AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY a.attnum`, rel)
		if err != nil {
			t.Fatalf("columns of %s: %v", rel, err)
		}
		return cols
	}
	for _, entity := range entities {
		var want []catalogColumn
		for _, c := range columns(entity) {
			if !slices.Contains(bookkeeping, c.Name) {
				want = append(want, c)
			}
		}
		got := columns(entity + "_current")
		if len(got) != len(want) {
			t.Errorf("%s_current has %d columns, want %d: %v", entity, len(got), len(want), names(want))
			continue
		}
		for i := range got {
			if got[i].Name != want[i].Name || got[i].Type != want[i].Type {
				t.Errorf("%s_current column %d: got %s %s, want %s %s", entity, i, got[i].Name, got[i].Type, want[i].Name, want[i].Type)
			}
			if got[i].Comment == nil || want[i].Comment == nil || *got[i].Comment != *want[i].Comment {
				t.Errorf("%s_current.%s: comment %v, want the table's %v", entity, got[i].Name, deref(got[i].Comment), deref(want[i].Comment))
			}
		}
		var viewComment, tableComment *string
		err := db.SQL().QueryRow(`SELECT obj_description(to_regclass('mirror.' || $1 || '_current'), 'pg_class'),
			obj_description(to_regclass('mirror.' || $1), 'pg_class')`, entity).Scan(&viewComment, &tableComment)
		if err != nil {
			t.Fatal(err)
		}
		if viewComment == nil || tableComment == nil || !strings.HasSuffix(*viewComment, " "+*tableComment) {
			t.Errorf("%s_current: comment %q, want one that ends with the table's %q", entity, deref(viewComment), deref(tableComment))
		}
	}
}

func names(cols []catalogColumn) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return "<none>"
	}
	return *s
}

// A view shows what the table holds now: a deleted row leaves it, a newer update brings it back.
func TestCurrentViewShowsLiveRows(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	apply(t, db,
		productChange("1", t0, 1, &mirrorsync.Product{Name: mirrorsync.Some("kept")}),
		productChange("2", t0, 2, &mirrorsync.Product{Name: mirrorsync.Some("deleted")}))
	apply(t, db, deleteChange("2", t0.Add(time.Hour), 3))
	live := func() []string {
		t.Helper()
		var ids []string
		if err := db.SQL().Select(&ids, `SELECT external_id FROM mirror.products_current ORDER BY 1`); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got, want := live(), []string{"1"}; !slices.Equal(got, want) {
		t.Errorf("products_current after the delete: got %v, want %v", got, want)
	}
	apply(t, db, productChange("2", t0.Add(2*time.Hour), 4, &mirrorsync.Product{Name: mirrorsync.Some("back")}))
	if got, want := live(), []string{"1", "2"}; !slices.Equal(got, want) {
		t.Errorf("products_current after a newer update: got %v, want %v", got, want)
	}
	var name string
	if err := db.SQL().Get(&name, `SELECT name FROM mirror.products_current WHERE external_id = '2'`); err != nil {
		t.Fatal(err)
	}
	if name != "back" {
		t.Errorf("name = %q, want back", name)
	}
}
