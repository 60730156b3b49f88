// Package storetest gives tests a real, migrated PostgreSQL database of their own.
//
// Tests run against the server named by STOREMIRROR_DATABASE_URL (`make test` starts a
// throwaway one). Each test gets a fresh database copied from a migrated template, so tests in
// different packages run in parallel without seeing each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"testing"

	_ "github.com/lib/pq" // the driver

	"github.com/storemirror/storemirror/schema"
	"github.com/storemirror/storemirror/store"
)

// ServerURL returns the test server's URL, failing the test when none is configured: the tests
// need a real PostgreSQL, and `make test` provides one.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("STOREMIRROR_DATABASE_URL")
	if u == "" {
		t.Fatal("STOREMIRROR_DATABASE_URL is not set: run the tests with `make test`, which starts PostgreSQL")
	}
	return u
}

// withDatabase returns u with its database name replaced.
func withDatabase(t testing.TB, u, name string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse STOREMIRROR_DATABASE_URL: %v", err)
	}
	p.Path = "/" + name
	return p.String()
}

// NewURL creates a fresh, migrated database and returns its URL. It is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	admin, err := sql.Open("postgres", withDatabase(t, server, "postgres"))
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close()
	ctx := context.Background()
	conn, err := admin.Conn(ctx)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer conn.Close()

	// One template per schema version, built once by whichever test gets there first.
	tpl := "storemirror_tpl_" + schemaHash(t)
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7152718)`); err != nil {
		t.Fatalf("lock template: %v", err)
	}
	// Should the unlock fail, the lock goes with the session, when admin closes.
	defer func() { _, _ = conn.ExecContext(ctx, `SELECT pg_advisory_unlock(7152718)`) }()
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, tpl).Scan(&exists); err != nil {
		t.Fatalf("look for template: %v", err)
	}
	if !exists {
		buildTemplate(t, conn, server, tpl)
	}
	name := "storemirror_test_" + randomHex(t)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	dropOnCleanup(t, server, name)
	return withDatabase(t, server, name)
}

func buildTemplate(t testing.TB, conn *sql.Conn, server, tpl string) {
	t.Helper()
	ctx := context.Background()
	building := tpl + "_building"
	// What a build that died left, if anything: should it stay, CREATE DATABASE below says so.
	_, _ = conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building))
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		t.Fatalf("create template: %v", err)
	}
	db, err := store.Open(ctx, withDatabase(t, server, building), 2)
	if err != nil {
		t.Fatalf("open template: %v", err)
	}
	_, err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		t.Fatalf("migrate template: %v", err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, tpl)); err != nil {
		t.Fatalf("rename template: %v", err)
	}
}

// NewDB creates a fresh, migrated database and opens it. Both are gone when the test ends.
func NewDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), NewURL(t), 10)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaHash(t testing.TB) string {
	t.Helper()
	h := sha256.New()
	err := fs.WalkDir(schema.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schema.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		t.Fatalf("hash schema: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func randomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random name: %v", err)
	}
	return hex.EncodeToString(b)
}

// NewEmptyURL creates a fresh database with no schema at all (for migration tests) and
// returns its URL. It is dropped when the test ends.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	admin, err := sql.Open("postgres", withDatabase(t, server, "postgres"))
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close()
	name := "storemirror_empty_" + randomHex(t)
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		t.Fatalf("create empty database: %v", err)
	}
	dropOnCleanup(t, server, name)
	return withDatabase(t, server, name)
}

// dropOnCleanup drops database name when the test ends.
func dropOnCleanup(t testing.TB, server, name string) {
	t.Cleanup(func() {
		admin, err := sql.Open("postgres", withDatabase(t, server, "postgres"))
		if err != nil {
			return
		}
		defer admin.Close()
		// A database left behind costs only room on the throwaway test server.
		_, _ = admin.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
}
