package storetest

import (
	"database/sql"
	"fmt"
	"net/url"
	"testing"
)

// NewRole creates a login role of the test's own on the test server and returns its name. Roles
// belong to the server, not to a database, so it is dropped when the test ends, after the
// databases created later in the test: call it before creating the database it gets privileges in.
func NewRole(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	name := "storemirror_role_" + randomHex(t)
	admin, err := sql.Open("postgres", withDatabase(t, server, "postgres"))
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close()
	// A password, though the test server trusts local connections: so it is a role as a DBA makes one.
	if _, err := admin.Exec(fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'reader-password'`, name)); err != nil {
		t.Fatalf("create role: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", withDatabase(t, server, "postgres"))
		if err != nil {
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(fmt.Sprintf(`DROP ROLE IF EXISTS %s`, name)); err != nil {
			t.Errorf("drop role %s: %v", name, err)
		}
	})
	return name
}

// URLAs returns the database URL u for connecting as role (with NewRole's password).
func URLAs(t testing.TB, u, role string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse database URL: %v", err)
	}
	p.User = url.UserPassword(role, "reader-password")
	return p.String()
}
