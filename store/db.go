package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	stdsync "sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// DB is storemirror's database.
type DB struct {
	db     *sqlx.DB
	ingest *sql.DB // InsertEvents' own pool, which sends []byte parameters in binary (see Open)
	owner  owner   // held while this process has queued runs (see SweepRuns)

	migrateOnce stdsync.Once // the goose provider, built once: /readyz asks on every probe
	provider    *goose.Provider
	providerErr error

	stmtMu stdsync.Mutex
	stmts  map[stmtKey]*sql.Stmt // the statements of the hot path, prepared once (see prepared)
}

// stmtKey names a prepared statement: the same query on the two pools is two statements.
type stmtKey struct {
	pool  *sql.DB
	query string
}

// Open connects to the database at url and checks that it answers. It opens up to maxConns
// connections: a fifth of them (none below 5) for storing deliveries (InsertEvents), the rest for
// everything else.
//
// Ingest has a pool of its own because it sends its parameters in binary
// (lib/pq's binary_parameters): the bodies go to PostgreSQL as they are, where the text protocol
// would hex-encode every body in the daemon and parse it back, character by character inside an
// array literal, in PostgreSQL. The setting applies to every []byte of a connection, and only
// ingest's statement is written for it.
func Open(ctx context.Context, url string, maxConns int) (*DB, error) {
	ingestConns := maxConns / 5
	db, err := openPool(ctx, url, maxConns-ingestConns, false)
	if err != nil {
		return nil, err
	}
	d := &DB{db: db, ingest: db.DB}
	if ingestConns > 0 {
		ingest, err := openPool(ctx, url, ingestConns, true)
		if err != nil {
			db.Close()
			return nil, err
		}
		d.ingest = ingest.DB
	}
	return d, nil
}

func openPool(ctx context.Context, url string, maxConns int, binary bool) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	cfg.BinaryParameters = binary
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	if maxConns > 0 {
		db.SetMaxOpenConns(maxConns)
		db.SetMaxIdleConns(maxConns)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return db, nil
}

// Close closes the connection pool (and releases the owner lock of the runs this process
// queued).
func (db *DB) Close() error {
	db.owner.close()
	db.stmtMu.Lock()
	for _, s := range db.stmts {
		_ = s.Close() // the pool's close below ends the sessions that hold them anyway
	}
	db.stmtMu.Unlock()
	if db.ingest != db.db.DB {
		_ = db.ingest.Close() // idle connections of a pool nothing uses any more
	}
	return db.db.Close()
}

// prepared returns query as a prepared statement of pool, preparing it on first use:
// PostgreSQL then parses and plans it once per connection instead of on every call
// (database/sql prepares it on each connection as that one first runs it, and again after a
// reconnect). For the statements run thousands of times a second.
func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	key := stmtKey{pool, query}
	if s, ok := db.stmts[key]; ok {
		return s, nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if db.stmts == nil {
		db.stmts = map[stmtKey]*sql.Stmt{}
	}
	db.stmts[key] = s
	return s, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// SQL returns the connection pool, for tests and tools that inspect the mirror.
func (db *DB) SQL() *sqlx.DB { return db.db }

// inTx runs fn in a transaction and commits it. A deadlock or serialization failure (two batches
// crossing on the same rows) rolls back and runs fn again, up to three times.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, fn)
		if err == nil || !retryable(err) || attempt == 3 {
			return err
		}
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// retryable reports a transaction that failed only because of a concurrent one.
func retryable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
	}
	return false
}

// refused marks the apply errors no retry can cure as mirrorsync.ErrRefused, so that the event
// fails at once instead of being retried until max_attempts: the data itself is what PostgreSQL
// refuses (class 22, data exception: a \u0000 in JSON, a number out of range; class 23, a
// constraint; class 54, a program limit such as an index row too large), or the event cannot
// be placed (errAmbiguousStore).
func refused(err error) error {
	if errors.Is(err, errAmbiguousStore) {
		return mirrorsync.Refused(err)
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "22", "23", "54":
			return mirrorsync.Refused(err)
		}
	}
	return err
}

// notFound translates a missing row into mirrorsync.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, mirrorsync.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
