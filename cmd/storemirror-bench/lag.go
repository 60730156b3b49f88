package main

import (
	"context"
	"fmt"
	"slices"
	stdsync "sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/internal/loadgen"
)

// lagResult is the distribution of the lag from a delivery's 2xx to its mirror row.
//
// Visible is measured from outside, as a BI reader sees it: a poller asks every 20 ms which of
// the products answered 2xx and not yet seen are in mirror.products (primary-key lookups), and a
// product's lag is the end of the first query that found it less the time its 2xx reached the
// generator. It is an upper bound, too high by at most one poll (20 ms plus the query).
// Stamped is mirrored_at (the apply transaction's start) less the 2xx time: a lower bound,
// blind to the apply transaction's own duration.
type lagResult struct {
	Offered, Achieved      float64 // requests/s asked for, and answered 2xx
	Late                   int     // requests that left more than 10 ms after they were due
	Visible                []time.Duration
	Stamped                []time.Duration
	P50, P90, P99, Max     time.Duration // of Visible
	StampedP50, StampedP99 time.Duration
}

// lag posts 3-variant snapshots of new products at a steady rate and measures each one's lag.
func lag(ctx context.Context, b *bench, p *daemon.Process, db *sqlx.DB, w *window) (*daemonRun, error) {
	gen := generator()
	next, err := b.prebuilt(ctx, int(b.lagRate*b.lagFor.Seconds())+1, func(i int) (loadgen.Request, error) {
		return gen.Snapshot(fmt.Sprint("lag-", i), i, i+1, "10.00", 3)
	})
	if err != nil {
		return nil, err
	}
	t := &lagTracker{db: db, waiting: map[string]time.Time{}, answered: map[string]time.Time{}}
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	polled := make(chan error, 1)
	go func() { polled <- t.poll(pollCtx) }()
	start := time.Now()
	from, to := start.Add(b.warmup), start.Add(b.lagFor)
	w.start(ctx, from, to)
	results, err := loadgen.Run(ctx, loadgen.Options{
		Targets: []string{p.URL}, Concurrency: 512, Rate: b.lagRate, Duration: b.lagFor, OnResult: t.answer, Next: next,
	})
	if err != nil {
		return nil, err
	}
	if err := w.wait(); err != nil {
		return nil, err
	}
	if err := t.waitSeen(ctx, 5*time.Minute); err != nil {
		return nil, err
	}
	stopPolling()
	if err := <-polled; err != nil {
		return nil, err
	}
	r := &daemonRun{Summary: loadgen.Summarize(results, from, to), CPU: w.cpu, WAL: w.wal}
	res := &lagResult{Offered: b.lagRate, Achieved: r.Summary.Rate, Visible: t.lags}
	for _, x := range results {
		if x.Start.Sub(x.Due) > 10*time.Millisecond {
			res.Late++
		}
	}
	if res.Stamped, err = t.stamped(ctx); err != nil {
		return nil, err
	}
	res.P50, res.P90 = loadgen.Percentile(res.Visible, 0.5), loadgen.Percentile(res.Visible, 0.9)
	res.P99, res.Max = loadgen.Percentile(res.Visible, 0.99), loadgen.Percentile(res.Visible, 1)
	res.StampedP50, res.StampedP99 = loadgen.Percentile(res.Stamped, 0.5), loadgen.Percentile(res.Stamped, 0.99)
	r.Lag = res
	return r, nil
}

// lagTracker polls for the mirror rows of deliveries answered 2xx.
type lagTracker struct {
	db       *sqlx.DB
	mu       stdsync.Mutex
	waiting  map[string]time.Time // product → its 2xx, not seen yet
	answered map[string]time.Time // every product answered 2xx → its 2xx
	lags     []time.Duration
}

func (t *lagTracker) answer(r loadgen.Result) {
	if !r.OK() || r.Key == "" {
		return
	}
	t.mu.Lock()
	t.waiting[r.Key], t.answered[r.Key] = r.Done, r.Done
	t.mu.Unlock()
}

func (t *lagTracker) poll(ctx context.Context) error {
	const lookup = `SELECT external_id FROM mirror.products
		WHERE source = 'sticky' AND store_id = '' AND external_id = ANY($1)`
	for ctx.Err() == nil {
		t.mu.Lock()
		keys := make([]string, 0, len(t.waiting))
		for k := range t.waiting {
			keys = append(keys, k)
		}
		t.mu.Unlock()
		if len(keys) > 0 {
			var found []string
			if err := t.db.SelectContext(ctx, &found, lookup, pq.StringArray(keys)); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("poll the mirror: %w", err)
			}
			seen := time.Now()
			t.mu.Lock()
			for _, k := range found {
				t.lags = append(t.lags, seen.Sub(t.waiting[k]))
				delete(t.waiting, k)
			}
			t.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// waitSeen waits until every product answered 2xx has been seen in the mirror.
func (t *lagTracker) waitSeen(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		t.mu.Lock()
		n := len(t.waiting)
		t.mu.Unlock()
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d products answered 2xx still not in the mirror after %v", n, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stamped returns each product's mirrored_at less its 2xx.
func (t *lagTracker) stamped(ctx context.Context) ([]time.Duration, error) {
	var rows []struct {
		ID string    `db:"external_id"`
		At time.Time `db:"mirrored_at"`
	}
	if err := t.db.SelectContext(ctx, &rows, `SELECT external_id, mirrored_at FROM mirror.products WHERE source = 'sticky'`); err != nil {
		return nil, fmt.Errorf("read mirrored_at: %w", err)
	}
	out := make([]time.Duration, 0, len(rows))
	for _, r := range rows {
		if ok, found := t.answered[r.ID]; found {
			out = append(out, r.At.Sub(ok))
		}
	}
	slices.Sort(out)
	return out, nil
}
