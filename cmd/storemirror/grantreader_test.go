package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/storemirror/storemirror/store/storetest"
)

// dbConfig writes a configuration whose database is url, and returns its path and environment.
func dbConfig(t *testing.T, url string) (string, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	config := "database: {url: \"${DB_URL}\"}\nsources: [{name: bamboo, kind: bamboo, secrets: [\"${BAMBOO_SECRET}\"]}]\n"
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, map[string]string{"DB_URL": url, "BAMBOO_SECRET": e2eSecret}
}

func openAs(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// sqlState is the PostgreSQL error code of err, "" when err is not one.
func sqlState(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return string(pqErr.Code)
	}
	return ""
}

// checkReader connects as role and checks what it may do: read every relation of mirror, and
// one the owner creates later; write nothing; reach nothing of sync.
func checkReader(t *testing.T, owner *sql.DB, dbURL, role string) {
	t.Helper()
	reader := openAs(t, storetest.URLAs(t, dbURL, role))
	var relations []string
	rows, err := owner.Query(`SELECT relname FROM pg_class WHERE relnamespace = 'mirror'::regnamespace AND relkind IN ('r', 'v') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		relations = append(relations, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(relations) < 28 {
		t.Fatalf("%d relations in mirror, want the 18 tables and 10 views at least", len(relations))
	}
	for _, rel := range relations {
		if _, err := reader.Exec(fmt.Sprintf(`SELECT * FROM mirror.%s LIMIT 1`, rel)); err != nil {
			t.Errorf("reader: SELECT from mirror.%s: %v", rel, err)
		}
	}
	mustExec(t, owner, `CREATE TABLE mirror.added_later (id integer)`) // as a later migration would
	if _, err := reader.Exec(`SELECT * FROM mirror.added_later`); err != nil {
		t.Errorf("reader: SELECT from a table created after grant-reader: %v", err)
	}

	denied := []string{
		`INSERT INTO mirror.products (source, external_id) VALUES ('x', 'y')`,
		`UPDATE mirror.orders SET total = 0`,
		`CREATE TABLE mirror.analyst_table (id integer)`,
		`SELECT * FROM sync.webhook_events`,
		`SELECT * FROM sync.reconcile_runs`,
		`SELECT * FROM sync.schema_migrations`,
		`SELECT nextval('sync.version_seq')`,
	}
	for _, q := range denied {
		if _, err := reader.Exec(q); sqlState(err) != "42501" { // insufficient_privilege
			t.Errorf("reader: %s: %v, want permission denied", q, err)
		}
	}
}

func TestGrantReader(t *testing.T) {
	t.Parallel()
	role := storetest.NewRole(t) // before the database, which must be dropped first
	dbURL := storetest.NewURL(t)
	path, env := dbConfig(t, dbURL)
	out, err := runCommand(t, env, "grant-reader", "--config", path, role)
	if err != nil {
		t.Fatalf("grant-reader: %v\n%s", err, out)
	}
	if !strings.Contains(out, "role "+role+" can read every table and view of schema mirror") || !strings.Contains(out, "SELECT * FROM products_current works") {
		t.Errorf("output:\n%s", out)
	}
	checkReader(t, openAs(t, dbURL), dbURL, role)

	// The test server's role is a superuser, so the search path was set: no schema prefix needed.
	reader := openAs(t, storetest.URLAs(t, dbURL, role))
	var n int
	if err := reader.QueryRow(`SELECT count(*) FROM products_current`).Scan(&n); err != nil {
		t.Errorf("reader: SELECT count(*) FROM products_current: %v", err)
	}
	// Running it again changes nothing and still succeeds (the flags may also follow the role).
	if out, err := runCommand(t, env, "grant-reader", role, "--config", path); err != nil {
		t.Errorf("grant-reader again: %v\n%s", err, out)
	}
}

// In production the daemon's role owns its database and is no superuser: the grants and the
// default privileges still work, and grant-reader says how to get the search path set.
func TestGrantReaderAsDatabaseOwner(t *testing.T) {
	t.Parallel()
	ownerRole, role := storetest.NewRole(t), storetest.NewRole(t)
	dbURL := storetest.NewEmptyURL(t)
	admin := openAs(t, dbURL)
	var database string
	if err := admin.QueryRow(`SELECT current_database()`).Scan(&database); err != nil {
		t.Fatal(err)
	}
	mustExec(t, admin, fmt.Sprintf(`ALTER DATABASE %s OWNER TO %s`, database, ownerRole))
	ownerURL := storetest.URLAs(t, dbURL, ownerRole)
	path, env := dbConfig(t, ownerURL)
	if out, err := runCommand(t, env, "migrate", "--config", path); err != nil {
		t.Fatalf("migrate as the owner: %v\n%s", err, out)
	}
	out, err := runCommand(t, env, "grant-reader", "--config", path, role)
	if err != nil {
		t.Fatalf("grant-reader: %v\n%s", err, out)
	}
	want := fmt.Sprintf(`or a superuser runs: ALTER ROLE "%s" IN DATABASE "%s" SET search_path = mirror, public;`, role, database)
	if !strings.Contains(out, "Its search path is unchanged") || !strings.Contains(out, want) {
		t.Errorf("output:\n%s\nwant it to say: %s", out, want)
	}
	checkReader(t, openAs(t, ownerURL), dbURL, role)
	if _, err := runCommand(t, env, "grant-reader", "--config", path, ownerRole); err == nil || !strings.Contains(err.Error(), "is the role storemirror runs as") {
		t.Errorf("grant-reader to the daemon's own role: %v, want a refusal", err)
	}
	reader := openAs(t, storetest.URLAs(t, dbURL, role))
	if _, err := reader.Exec(`SELECT * FROM products_current`); sqlState(err) != "42P01" { // undefined_table
		t.Errorf("reader: products_current without the prefix: %v, want undefined table", err)
	}
}

func TestGrantReaderRefuses(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewURL(t)
	path, env := dbConfig(t, dbURL)
	var self string
	if err := openAs(t, dbURL).QueryRow(`SELECT current_user`).Scan(&self); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no role", []string{"grant-reader", "--config", path}, "ROLE is required"},
		{"two roles", []string{"grant-reader", "--config", path, "a", "b"}, "unexpected arguments [b]"},
		{"missing role", []string{"grant-reader", "--config", path, "no_such_role"}, "role no_such_role does not exist"},
		{"superuser", []string{"grant-reader", "--config", path, self}, "is a superuser"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := runCommand(t, env, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("grant-reader: %v\n%s\nwant an error saying %q", err, out, c.want)
			}
		})
	}
}

// A role that reaches sync some other way (here through PUBLIC) is refused, and given nothing.
func TestGrantReaderRefusesWhatReachesSync(t *testing.T) {
	t.Parallel()
	role := storetest.NewRole(t)
	dbURL := storetest.NewURL(t)
	path, env := dbConfig(t, dbURL)
	owner := openAs(t, dbURL)
	mustExec(t, owner, `GRANT USAGE ON SCHEMA sync TO PUBLIC`)
	_, err := runCommand(t, env, "grant-reader", "--config", path, role)
	if err == nil || !strings.Contains(err.Error(), "still has usage of schema sync through PUBLIC or a role it belongs to") {
		t.Errorf("grant-reader: %v, want a refusal", err)
	}
	var usage bool
	if err := owner.QueryRow(`SELECT has_schema_privilege($1, 'mirror', 'USAGE')`, role).Scan(&usage); err != nil {
		t.Fatal(err)
	}
	if usage {
		t.Error("the refused role was granted usage of mirror")
	}
}
