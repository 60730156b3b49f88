package store_test

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/storemirror/storemirror/schema"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
)

// publicObjects lists what the database holds in schema public: relations, functions and types.
func publicObjects(t *testing.T, db *store.DB) []string {
	t.Helper()
	var objects []string
	err := db.SQL().Select(&objects, `
		SELECT 'relation ' || relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
		UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
		UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typnamespace = 'public'::regnamespace
		ORDER BY 1`)
	if err != nil {
		t.Fatalf("list schema public: %v", err)
	}
	return objects
}

// A database migrated by an earlier release has goose's table in public, under its old name:
// Migrate moves it into sync, keeps what it recorded, and applies only what is new.
func TestMigrateMovesTheLegacyMigrationsTable(t *testing.T) {
	t.Parallel()
	url := storetest.NewEmptyURL(t)
	ctx := context.Background()
	legacy, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer legacy.Close()
	// What earlier releases did: goose with the table name alone, so in the search path's public.
	old, err := goose.NewProvider(goose.DialectPostgres, legacy, schema.FS, goose.WithTableName("storemirror_schema_migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.UpTo(ctx, 2); err != nil {
		t.Fatalf("migrate as an earlier release: %v", err)
	}

	db, err := store.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A readiness probe before the upgrade's migrate says "pending" and writes nothing.
	if current, err := db.SchemaCurrent(ctx); err != nil || current {
		t.Fatalf("schema current before the move = %v (%v), want false", current, err)
	}
	var moved bool
	if err := db.SQL().Get(&moved, `SELECT to_regclass('sync.schema_migrations') IS NOT NULL`); err != nil || moved {
		t.Fatalf("sync.schema_migrations exists before Migrate (%v): the probe created it", err)
	}

	applied, err := db.Migrate(ctx)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	var total int
	if err := db.SQL().Get(&total, `SELECT count(*) FROM sync.schema_migrations WHERE version_id > 0`); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(schema.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(files); total != want || applied != want-2 {
		t.Errorf("recorded %d migrations, applied %d now; want %d recorded, %d applied (the first two were)", total, applied, want, want-2)
	}
	if current, err := db.SchemaCurrent(ctx); err != nil || !current {
		t.Errorf("schema current after the move = %v (%v), want true", current, err)
	}
	if got := publicObjects(t, db); len(got) > 0 {
		t.Errorf("in schema public: %v, want nothing", got)
	}
	// Migrating again finds nothing to move and nothing to apply.
	if n, err := db.Migrate(ctx); err != nil || n != 0 {
		t.Errorf("second migrate: applied %d (%v), want 0", n, err)
	}
}

// An earlier release started against a moved table creates a new one in public: Migrate refuses
// to guess which to keep, and says so.
func TestMigrateRefusesTwoMigrationsTables(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	if _, err := db.SQL().Exec(`CREATE TABLE public.storemirror_schema_migrations (id integer)`); err != nil {
		t.Fatal(err)
	}
	_, err := db.Migrate(context.Background())
	if err == nil || !strings.Contains(err.Error(), "both public.storemirror_schema_migrations and sync.schema_migrations exist") {
		t.Errorf("migrate with both tables: %v, want an error naming both", err)
	}
}
