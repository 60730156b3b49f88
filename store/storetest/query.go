package storetest

import (
	"testing"

	"github.com/storemirror/storemirror/store"
)

// Get runs query, which returns one row, into dest, and fails the test if it does not: a test
// reading a count or a value must not pass on the zero value of a query that failed.
func Get(t testing.TB, db *store.DB, dest any, query string, args ...any) {
	t.Helper()
	if err := db.SQL().Get(dest, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Select runs query into the slice dest, and fails the test if it does not: a failed query must
// not read as no rows.
func Select(t testing.TB, db *store.DB, dest any, query string, args ...any) {
	t.Helper()
	if err := db.SQL().Select(dest, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
