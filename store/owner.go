package store

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	stdsync "sync"

	"github.com/jmoiron/sqlx"
)

// owner is the session advisory lock that says this process lives, taken on a connection of
// its own the first time the process queues a run: a queued run records its key, and a queued
// run whose key no session holds was left by a process that stopped.
type owner struct {
	mu   stdsync.Mutex
	conn *sqlx.Conn
	k    int64
}

// key returns the owner key, held: taken on first use, and taken again when its connection
// was lost (the database restarted, say).
func (o *owner) key(ctx context.Context, db *sqlx.DB) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn != nil {
		if o.conn.PingContext(ctx) == nil {
			return o.k, nil
		}
		discard(o.conn)
		o.conn = nil
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return 0, fmt.Errorf("hold owner lock: %w", err)
	}
	for range 3 {
		if o.k == 0 {
			o.k = randomKey()
		}
		var ok bool
		if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock($1)`, o.k); err != nil {
			discard(conn)
			return 0, fmt.Errorf("hold owner lock: %w", err)
		}
		if ok {
			o.conn = conn
			return o.k, nil
		}
		o.k = 0 // held by another session: draw another
	}
	conn.Close()
	return 0, fmt.Errorf("hold owner lock: three random keys were taken")
}

// close releases the owner lock.
func (o *owner) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn != nil {
		discard(o.conn)
		o.conn = nil
	}
}

// discard closes conn's session instead of handing it back to the pool with the lock.
func discard(conn *sqlx.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // it answers that error: the pool then drops the session
	conn.Close()
}

func randomKey() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) | 1) // never 0
}
