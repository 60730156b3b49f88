package store

import (
	"context"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/storemirror/storemirror/schema"
)

// migrationsTable records which migrations of package schema are applied.
const migrationsTable = "storemirror_schema_migrations"

func (db *DB) migrations() (*goose.Provider, error) {
	db.migrateOnce.Do(func() { db.provider, db.providerErr = db.newProvider() })
	return db.provider, db.providerErr
}

func (db *DB) newProvider() (*goose.Provider, error) {
	// The session locker holds a PostgreSQL advisory lock while migrating, so two daemons
	// starting at once apply each migration exactly once.
	locker, err := lock.NewPostgresSessionLocker()
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
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate: %w", err)
	}
	return len(results), nil
}

// SchemaCurrent reports whether every migration is applied.
func (db *DB) SchemaCurrent(ctx context.Context) (bool, error) {
	p, err := db.migrations()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("check schema version: %w", err)
	}
	return !pending, nil
}
