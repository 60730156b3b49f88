package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ReaderGrant is what GrantReader did besides the grants.
type ReaderGrant struct {
	// SearchPathSet reports that the role's search path in this database is now mirror, public,
	// so that its queries may say products_current for mirror.products_current.
	SearchPathSet bool
	// SearchPathSQL is the statement that sets it: setting another role's search path takes a
	// superuser (or CREATEROLE), so when SearchPathSet is false one of them has to run it.
	SearchPathSQL string
}

// GrantReader lets an existing role read every table and view of the mirror schema, and those
// later migrations add (default privileges for the role running this, which is the role that
// migrates), and takes from it anything it had of sync, whose bodies hold personal data and
// signatures. It then checks that the role reaches nothing of sync by another way (PUBLIC, a role
// it belongs to) and fails, changing nothing, if it does.
func (db *DB) GrantReader(ctx context.Context, role string) (ReaderGrant, error) {
	var g ReaderGrant
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkReader(ctx, tx, role); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(grantReader, pq.QuoteIdentifier(role))); err != nil {
			return fmt.Errorf("grant %s read access: %w", role, err)
		}
		var reachesSync bool
		if err := tx.GetContext(ctx, &reachesSync, `SELECT has_schema_privilege($1, 'sync', 'USAGE')`, role); err != nil {
			return fmt.Errorf("check %s: %w", role, err)
		}
		if reachesSync {
			return fmt.Errorf("role %s still has usage of schema sync through PUBLIC or a role it belongs to: revoke that first", role)
		}
		var err error
		g, err = setReaderSearchPath(ctx, tx, role)
		return err
	})
	return g, err
}

// Read access to mirror and nothing else: usage and SELECT, now and on what the migrating role
// creates later; no writes, no CREATE (an analyst's table in mirror would look like the store's
// data); nothing of sync.
const grantReader = `
	GRANT USAGE ON SCHEMA mirror TO %[1]s;
	REVOKE CREATE ON SCHEMA mirror FROM %[1]s;
	GRANT SELECT ON ALL TABLES IN SCHEMA mirror TO %[1]s;
	REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA mirror FROM %[1]s;
	ALTER DEFAULT PRIVILEGES IN SCHEMA mirror GRANT SELECT ON TABLES TO %[1]s;
	REVOKE ALL ON SCHEMA sync FROM %[1]s;
	REVOKE ALL ON ALL TABLES IN SCHEMA sync FROM %[1]s;
	REVOKE ALL ON ALL SEQUENCES IN SCHEMA sync FROM %[1]s;
	REVOKE ALL ON ALL FUNCTIONS IN SCHEMA sync FROM %[1]s`

// checkReader refuses a role that does not exist, and one that no grant can keep out of sync.
func checkReader(ctx context.Context, tx *sqlx.Tx, role string) error {
	var r struct {
		Exists    bool `db:"exists"`
		Superuser bool `db:"superuser"`
		Self      bool `db:"self"`
		Mirror    bool `db:"mirror"`
	}
	err := tx.GetContext(ctx, &r, `
		SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS exists,
			COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = $1), false) AS superuser,
			$1 = current_user AS self,
			to_regnamespace('mirror') IS NOT NULL AS mirror`, role)
	switch {
	case err != nil:
		return fmt.Errorf("look up role %s: %w", role, err)
	case !r.Mirror:
		return errors.New("schema mirror does not exist: run storemirror migrate first")
	case !r.Exists:
		return fmt.Errorf("role %s does not exist: create it first (CREATE ROLE %s LOGIN PASSWORD '...')", role, pq.QuoteIdentifier(role))
	case r.Superuser:
		return fmt.Errorf("role %s is a superuser: it reads everything, sync included; grant read access to an ordinary role", role)
	case r.Self:
		return fmt.Errorf("role %s is the role storemirror runs as, which owns sync: grant read access to another role", role)
	}
	return nil
}

// setReaderSearchPath makes unqualified names find the mirror for role in this database. Without
// the privilege to, it leaves the grants in place and says what to run.
func setReaderSearchPath(ctx context.Context, tx *sqlx.Tx, role string) (ReaderGrant, error) {
	var database string
	if err := tx.GetContext(ctx, &database, `SELECT current_database()`); err != nil {
		return ReaderGrant{}, fmt.Errorf("name the database: %w", err)
	}
	g := ReaderGrant{SearchPathSQL: fmt.Sprintf(`ALTER ROLE %s IN DATABASE %s SET search_path = mirror, public`,
		pq.QuoteIdentifier(role), pq.QuoteIdentifier(database))}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT search_path`); err != nil {
		return g, fmt.Errorf("savepoint: %w", err)
	}
	_, err := tx.ExecContext(ctx, g.SearchPathSQL)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42501" { // insufficient_privilege
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT search_path`); err != nil {
			return g, fmt.Errorf("roll back to savepoint: %w", err)
		}
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("set the search path of %s: %w", role, err)
	}
	g.SearchPathSet = true
	return g, nil
}
