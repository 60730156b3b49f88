package webhooks

import (
	"context"
	"fmt"
	stdsync "sync"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// EventStore is where deliveries are committed (package store implements it).
type EventStore interface {
	InsertEvents(ctx context.Context, ds []mirrorsync.Delivery) ([]bool, error)
}

// Ingester commits deliveries with group commit: a committer takes every request waiting at that
// moment (up to MaxBatch) into one INSERT and one commit, then answers each. Every answer still
// follows its own commit, but throughput grows with concurrency instead of being capped at one
// fsync per request.
//
// Several committers run at once (Committers), so that the requests arriving while one batch waits
// for its fsync are already on their way in the next, instead of queueing behind it: one batch
// executes its INSERT while the other's WAL is flushed.
type Ingester struct {
	// Committers is how many batches may be committing at once (DefaultCommitters when 0). Each
	// holds a database connection while it commits. Set it before Run.
	Committers int
	// IgnoredAtReceipt, when set, is told of each new delivery stored as ignored at receipt
	// (Delivery.Ignored), which no worker will see. Set it before Run.
	IgnoredAtReceipt func(source string)

	store    EventStore
	maxBatch int
	timeout  time.Duration
	onStored func() // called after a commit that stored new events (wakes the apply workers)
	reqs     chan ingestRequest
	stop     chan struct{}
	done     chan struct{}
}

type ingestRequest struct {
	d     mirrorsync.Delivery
	reply chan ingestResult
}

type ingestResult struct {
	fresh bool
	err   error
}

// NewIngester returns an Ingester writing to store; call Run to start it.
func NewIngester(store EventStore, maxBatch int, onStored func()) *Ingester {
	return &Ingester{
		store: store, maxBatch: max(maxBatch, 1), timeout: 10 * time.Second, onStored: onStored,
		reqs: make(chan ingestRequest), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// Store commits d and reports whether it was new (false: already stored). It returns only
// after the commit, or with an error when nothing was committed.
func (i *Ingester) Store(ctx context.Context, d mirrorsync.Delivery) (bool, error) {
	req := ingestRequest{d: d, reply: make(chan ingestResult, 1)}
	select {
	case i.reqs <- req:
	case <-i.stop:
		return false, errShuttingDown
	case <-ctx.Done():
		return false, ctx.Err()
	}
	// Once handed over, wait for the answer even if the client goes away: the commit happens anyway.
	r := <-req.reply
	return r.fresh, r.err
}

// DefaultCommitters is how many ingest batches commit at once by default. Measured on 2 cores
// (make bench, three runs of 1 to 8 committers; docs/tuning.md has them): one left the clients
// waiting on each fsync in turn; two beat four at 16 clients in every run (4,285 and 4,681/s
// against 3,470 and 3,914/s in one), with less PostgreSQL CPU per delivery, and were level with
// it at 64 clients and end to end, within the machine's noise. Where a WAL flush is quick (0.2 ms),
// one committer's larger batches measured better at 16 clients and end to end, and worse at 64:
// the best count follows the flush's speed, and two loses less where it loses.
const DefaultCommitters = 2

// Run commits batches until Close.
func (i *Ingester) Run() {
	defer close(i.done)
	n := i.Committers
	if n <= 0 {
		n = DefaultCommitters
	}
	var wg stdsync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i.committer()
		}()
	}
	wg.Wait()
}

// committer gathers and commits batches until Close.
func (i *Ingester) committer() {
	for {
		var batch []ingestRequest
		select {
		case r := <-i.reqs:
			batch = append(batch, r)
		case <-i.stop:
			return
		}
	gather:
		for len(batch) < i.maxBatch {
			select {
			case r := <-i.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		i.commit(batch)
	}
}

// Close stops Run once the batches in hand are committed. Call it after the HTTP server has shut
// down, so that no handler is still waiting.
func (i *Ingester) Close() {
	close(i.stop)
	<-i.done
}

func (i *Ingester) commit(batch []ingestRequest) {
	ds := make([]mirrorsync.Delivery, len(batch))
	for j, r := range batch {
		ds[j] = r.d
	}
	ctx, cancel := context.WithTimeout(context.Background(), i.timeout)
	defer cancel()
	fresh, err := i.store.InsertEvents(ctx, ds)
	if err != nil && len(batch) > 1 {
		// Whatever failed, do not let one delivery take the others down with it.
		for _, r := range batch {
			i.commit([]ingestRequest{r})
		}
		return
	}
	stored := false
	for j, r := range batch {
		if err != nil {
			r.reply <- ingestResult{err: fmt.Errorf("store delivery: %w", err)}
			continue
		}
		switch {
		case fresh[j] && r.d.Ignored != nil:
			if i.IgnoredAtReceipt != nil {
				i.IgnoredAtReceipt(r.d.Source)
			}
		case fresh[j]:
			stored = true // a worker has something to do
		}
		r.reply <- ingestResult{fresh: fresh[j]}
	}
	if stored && i.onStored != nil {
		i.onStored()
	}
}
