package store_test

import (
	"context"
	stdsync "sync"
	"testing"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
)

// Daemons starting together on a new database: the advisory lock lets one migrate, the others
// find the schema current.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	url := storetest.NewEmptyURL(t)
	ctx := context.Background()
	var wg stdsync.WaitGroup
	applied := make([]int, 4)
	errs := make([]error, 4)
	for i := range applied {
		wg.Go(func() {
			db, err := store.Open(ctx, url, 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			applied[i], errs[i] = db.Migrate(ctx)
		})
	}
	wg.Wait()
	total := 0
	for i := range applied {
		if errs[i] != nil {
			t.Fatalf("daemon %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	db, err := store.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	current, err := db.SchemaCurrent(ctx)
	if err != nil || !current {
		t.Fatalf("schema current = %v (%v)", current, err)
	}
	var migrations int
	if err := db.SQL().Get(&migrations, `SELECT count(*) FROM sync.schema_migrations WHERE version_id > 0`); err != nil {
		t.Fatal(err)
	}
	if total != migrations || migrations < 2 {
		t.Errorf("the daemons applied %d migrations in all; %d are recorded", total, migrations)
	}
	if got := publicObjects(t, db); len(got) > 0 {
		t.Errorf("in schema public: %v, want nothing", got)
	}
}

// Every table and column of the mirror and sync schemas carries a comment for BI analysts.
func TestEveryTableAndColumnIsCommented(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	var missing []string
	err := db.SQL().Select(&missing, `
		SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('mirror', 'sync') AND c.relkind = 'r' AND obj_description(c.oid, 'pg_class') IS NULL
		UNION ALL
		SELECT n.nspname || '.' || c.relname || '.' || a.attname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname IN ('mirror', 'sync') AND c.relkind = 'r' AND col_description(c.oid, a.attnum) IS NULL
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) > 0 {
		t.Errorf("without a comment: %v", missing)
	}
	var tables int
	storetest.Get(t, db, &tables, `SELECT count(*) FROM pg_tables WHERE schemaname = 'mirror'`)
	if tables != 18 {
		t.Errorf("%d mirror tables, want 18", tables)
	}
}

// Every jsonb column a mirror write compresses (raw and versions of each entity table) is
// compressed with lz4, as the server the tests run on supports it.
func TestWideMirrorColumnsUseLZ4(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	var wrong []string
	storetest.Select(t, db, &wrong, `
		SELECT c.relname || '.' || a.attname || ' (' || coalesce(nullif(a.attcompression::text, ''), 'default') || ')'
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'mirror' AND c.relkind = 'r' AND a.attname IN ('raw', 'versions') AND NOT a.attisdropped
		  AND a.attcompression <> 'l'
		ORDER BY 1`)
	if len(wrong) > 0 {
		t.Errorf("not compressed with lz4: %v", wrong)
	}
	var columns int
	storetest.Get(t, db, &columns, `
		SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'mirror' AND c.relkind = 'r' AND a.attname IN ('raw', 'versions') AND NOT a.attisdropped`)
	if columns != 20 {
		t.Errorf("%d raw and versions columns, want 20 (10 entity tables)", columns)
	}
}
