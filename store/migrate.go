package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/storemirror/storemirror/schema"
)

const (
	// migrationsTable records which migrations of package schema are applied. It is in sync, with
	// the rest of storemirror's bookkeeping, so that nothing of storemirror is in public.
	migrationsTable = "sync.schema_migrations"
	// legacyMigrationsTable is where earlier releases let goose keep it: the search path's first
	// schema, public. prepareMigrations moves it.
	legacyMigrationsTable = "public.storemirror_schema_migrations"
	// migrationLockID is the advisory lock taken while migrating: goose's session locker holds
	// it for a run, prepareMigrations for the move before it.
	migrationLockID = lock.DefaultLockID
)

func (db *DB) migrations() (*goose.Provider, error) {
	db.migrateOnce.Do(func() { db.provider, db.providerErr = db.newProvider() })
	return db.provider, db.providerErr
}

func (db *DB) newProvider() (*goose.Provider, error) {
	// The session locker holds a PostgreSQL advisory lock while migrating, so two daemons
	// starting at once apply each migration exactly once.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID))
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db.db.DB, schema.FS,
		goose.WithSessionLocker(locker), goose.WithTableName(migrationsTable))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// Migrate applies pending migrations and returns how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.migrations()
	if err != nil {
		return 0, err
	}
	if err := db.prepareMigrations(ctx); err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// prepareMigrations readies the database for goose, which reads its table before it runs any
// migration: the sync schema, where that table lives, must exist before the first migration
// fills it, and a table an earlier release kept in public moves there. It holds the migrations'
// advisory lock for its transaction, so it waits for a daemon that is migrating now.
func (db *DB) prepareMigrations(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockID); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		var haveSchema, legacy, current bool
		err := tx.QueryRowContext(ctx, `SELECT to_regnamespace('sync') IS NOT NULL, to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL`,
			legacyMigrationsTable, migrationsTable).Scan(&haveSchema, &legacy, &current)
		if err != nil {
			return fmt.Errorf("look for the migrations table: %w", err)
		}
		// Only when missing: CREATE SCHEMA IF NOT EXISTS still asks for CREATE on the database,
		// which a daemon whose schema someone else migrated need not have.
		if !haveSchema {
			if _, err := tx.ExecContext(ctx, `CREATE SCHEMA sync`); err != nil {
				return fmt.Errorf("create schema sync: %w", err)
			}
		}
		switch {
		case !legacy:
			return nil
		case current:
			return fmt.Errorf("both %s and %s exist: the first is a leftover of an earlier release (drop it once %s lists every applied migration)",
				legacyMigrationsTable, migrationsTable, migrationsTable)
		}
		if _, err := tx.ExecContext(ctx, moveLegacyMigrationsTable); err != nil {
			return fmt.Errorf("move %s to %s: %w", legacyMigrationsTable, migrationsTable, err)
		}
		return nil
	})
}

// Its identity sequence moves with it.
const moveLegacyMigrationsTable = `
	ALTER TABLE public.storemirror_schema_migrations SET SCHEMA sync;
	ALTER TABLE sync.storemirror_schema_migrations RENAME TO schema_migrations`

// SchemaCurrent reports whether every migration is applied.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	p, err := db.migrations()
	if err != nil {
		return false, err
	}
	// goose would create a missing table to look into it: a readiness probe writes nothing. No
	// table (a new database, or one whose table Migrate has yet to move) means pending migrations.
	var exists bool
	if err := db.db.GetContext(ctx, &exists, `SELECT to_regclass($1) IS NOT NULL`, migrationsTable); err != nil {
		return false, fmt.Errorf("check schema version: %w", err)
	}
	if !exists {
		return false, nil
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check schema version: %w", err)
	}
	return !pending, nil
}
