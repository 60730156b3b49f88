package sync

import (
	"context"
	"errors"
	"fmt"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// Inbox is the stored webhook events, as the apply worker sees them (package store implements it).
type Inbox interface {
	// ApplyPending claims due events and applies them in one transaction, asking h what each
	// carries and what each becomes.
	ApplyPending(ctx context.Context, limit int, h EventHandler) (Batch, error)
	PruneEvents(ctx context.Context, before time.Time, limit int) (int64, error)
}

// EventHandler is what the inbox store asks while it applies claimed events, inside its
// transaction: the changes an event carries, and what the event becomes. The store decides
// nothing itself; InboxRules is the handler of the worker and of replay.
type EventHandler interface {
	// Decode returns the changes ev carries.
	Decode(ev Event) ([]Change, error)
	// Outcome returns what ev becomes after its attempts-th try (this one included) ended with
	// err: nil when its changes were applied, else the decode or apply error.
	Outcome(ev Event, attempts int, err error) Outcome
}

// InboxRules handle stored events: decoded by Decoder, their failures retried under Policy.
type InboxRules struct {
	Decoder Decoder
	Policy  RetryPolicy
}

// Decode implements EventHandler. A decoder panic is an error (one malformed delivery must not
// stop the daemon), and a decoding error is refused: decoding is deterministic, so a retry
// would fail the same way.
func (r InboxRules) Decode(ev Event) (changes []Change, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Refused(fmt.Errorf("decoder panic: %v", p))
		}
	}()
	changes, err = r.Decoder.Decode(ev)
	if err != nil && !errors.Is(err, ErrIgnored) {
		err = Refused(err)
	}
	return changes, err
}

// Outcome implements EventHandler: applied; ignored (ErrIgnored); failed for good (ErrRefused,
// or Policy.MaxAttempts tries made); or failed and retried after Policy.Backoff.
func (r InboxRules) Outcome(ev Event, attempts int, err error) Outcome {
	o := Outcome{EventID: ev.ID, Source: ev.Source, DeliveryID: ev.DeliveryID, Type: ev.Type, Status: EventApplied, Err: err}
	switch {
	case err == nil:
	case errors.Is(err, ErrIgnored):
		o.Status = EventIgnored
	default:
		o.Status = EventFailed
		o.Retry = attempts < r.Policy.MaxAttempts && !errors.Is(err, ErrRefused)
	}
	if o.Retry {
		backoff := r.Policy.Backoff
		if backoff == nil {
			backoff = Backoff
		}
		o.RetryAt = time.Now().Add(backoff(attempts))
	}
	return o
}

// Registry maps each configured source name to its decoder.
type Registry map[string]Decoder

// Decode decodes ev with its source's decoder, trusting no provider time more than
// MaxClockLead ahead of the event's receipt (see Trusted).
func (r Registry) Decode(ev Event) ([]Change, error) {
	changes, _, err := r.Trusted(ev)
	return changes, err
}

// Trusted is Decode that also reports how far ahead of the receipt the furthest provider time
// it did not trust was (0 when it trusted them all): such a time is replaced by the receipt.
func (r Registry) Trusted(ev Event) ([]Change, time.Duration, error) {
	d, ok := r[ev.Source]
	if !ok {
		return nil, 0, fmt.Errorf("source %q is not configured", ev.Source)
	}
	changes, err := d.Decode(ev)
	if err != nil {
		return nil, 0, err
	}
	var lead time.Duration
	for i := range changes {
		var l time.Duration
		changes[i].Version, l = changes[i].Version.Trust(ev.ReceivedAt)
		lead = max(lead, l)
	}
	return changes, lead, nil
}

// DefaultBatchSize is how many events a worker applies per transaction unless configured
// otherwise (inbox.batch_size). Measured on 2 cores: 100 → ~2,500 sticky.io snapshots/s,
// 250 → ~3,100, 500 → ~3,400; 250 keeps each transaction short.
const DefaultBatchSize = 250

// Backoff is the default retry delay: 10s, 20s, 40s... capped at an hour.
func Backoff(attempts int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// ApplyObserver is told what the apply workers do (the daemon's metrics implement it).
type ApplyObserver interface {
	// ObserveBatch is told what a batch did and how long it took.
	ObserveBatch(b Batch, took time.Duration)
	// UntrustedClock is told of an event of source whose provider time was more than
	// MaxClockLead ahead of its receipt, and was versioned at its receipt instead.
	UntrustedClock(source string)
}

// Worker applies stored webhook events to the mirror: Workers goroutines each claim a batch of due
// events, decode them through Decoders, and apply them in one transaction. Several daemons may
// run workers on one database.
//
// Every apply transaction is a commit, and commits share the WAL's flushes with the webhooks'
// own, so the workers take events in batches rather than as they trickle in: a worker whose batch
// was not full waits Linger before it claims again, and a nudge wakes a worker only when none is
// already coming back. A full batch means more are waiting: its worker goes on at once and lets
// another in too.
type Worker struct {
	Inbox     Inbox
	Decoders  Registry
	Workers   int
	BatchSize int
	Policy    RetryPolicy
	// Poll is how often an idle worker looks for due events (retries, other daemons' deliveries);
	// Nudge wakes the workers at once.
	Poll time.Duration
	// Linger is how long a worker whose batch was not full lets events gather before it claims
	// again (DefaultLinger when 0; negative: not at all). It bounds what it adds to the lag.
	Linger  time.Duration
	Log     *logrus.Entry
	Metrics ApplyObserver // optional

	nudgeOnce  stdsync.Once
	nudge      chan struct{}
	lingering  atomic.Int32 // workers that will claim again without being woken
	clockOnce  stdsync.Once
	clockWatch *clockWatch
}

// DefaultLinger is the workers' default Linger. Measured on 2 cores (make bench): claiming as
// events arrived made as many apply commits as ingest commits, each a WAL flush the webhooks
// waited behind; 20 ms turns them into batches of tens at 1,000 deliveries/s.
const DefaultLinger = 20 * time.Millisecond

func (w *Worker) wake() chan struct{} {
	w.nudgeOnce.Do(func() { w.nudge = make(chan struct{}, 1) })
	return w.nudge
}

// Nudge tells the workers that events are waiting. It never blocks, and does nothing while a
// worker is lingering: that one will find the events.
func (w *Worker) Nudge() {
	if w.lingering.Load() > 0 {
		return
	}
	w.more()
}

// more wakes an idle worker whatever the others do.
func (w *Worker) more() {
	select {
	case w.wake() <- struct{}{}:
	default:
	}
}

func (w *Worker) linger() time.Duration {
	switch {
	case w.Linger < 0:
		return 0
	case w.Linger == 0:
		return DefaultLinger
	}
	return w.Linger
}

// Run applies events until ctx is done, then lets the batches in flight finish.
func (w *Worker) Run(ctx context.Context) {
	var wg stdsync.WaitGroup
	for i := 0; i < max(w.Workers, 1); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx)
		}()
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		// A batch in flight is finished even when shutdown begins: it is one short transaction.
		batch, err := w.RunOnce(context.WithoutCancel(ctx))
		switch {
		case err != nil:
			failures++
			w.Log.WithError(err).Warn("apply batch failed; retrying")
			w.idle(ctx, min(time.Duration(failures)*time.Second, 30*time.Second))
		case len(batch.Outcomes) == 0:
			failures = 0
			w.idle(ctx, w.Poll)
		case len(batch.Outcomes) >= max(w.BatchSize, 1):
			failures = 0
			w.more() // there are more: let another worker in too
		default:
			failures = 0
			w.sleep(ctx, w.linger())
		}
	}
}

// idle waits for a nudge, ctx or d.
func (w *Worker) idle(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-w.wake():
	case <-timer.C:
	}
}

// sleep waits d (or ctx) as a lingering worker: nudges meanwhile are left for it.
func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	w.lingering.Add(1)
	defer w.lingering.Add(-1)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// RunOnce applies one batch of due events and reports what it did.
func (w *Worker) RunOnce(ctx context.Context) (Batch, error) {
	start := time.Now()
	batch, err := w.Inbox.ApplyPending(ctx, max(w.BatchSize, 1), InboxRules{Decoder: DecodeFunc(w.decode), Policy: w.Policy})
	if err != nil {
		return batch, fmt.Errorf("apply pending events: %w", err)
	}
	if len(batch.Outcomes) == 0 {
		return batch, nil
	}
	if w.Metrics != nil {
		w.Metrics.ObserveBatch(batch, time.Since(start))
	}
	for _, o := range batch.Outcomes {
		log := w.Log.WithFields(logrus.Fields{"source": o.Source, "delivery_id": o.DeliveryID, "event_type": o.Type, "event_id": o.EventID})
		switch o.Status {
		case EventFailed:
			log.WithError(o.Err).WithField("retry", o.Retry).Warn("event failed")
		case EventIgnored:
			// Not news: providers send topics the mirror does not keep. The reason is kept with
			// the event (sync.webhook_events.last_error, /admin/events).
			log.WithField("reason", o.Err.Error()).Debug("event ignored")
		default:
			log.Debug("event applied")
		}
	}
	for _, k := range batch.Result.Drifted {
		w.Log.WithFields(logrus.Fields{"source": k.Source, "external_id": k.ExternalID}).Warn("mirror drifted from the provider's previous state; flagged for re-fetch")
	}
	return batch, nil
}

// decode decodes a stored event for the batch, noting an untrusted provider clock.
func (w *Worker) decode(ev Event) ([]Change, error) {
	changes, lead, err := w.Decoders.Trusted(ev)
	if lead > 0 {
		w.clocks().untrusted(ev.Source, lead, w.Log, w.Metrics)
	}
	return changes, err
}

func (w *Worker) clocks() *clockWatch {
	w.clockOnce.Do(func() { w.clockWatch = &clockWatch{logged: map[string]bool{}} })
	return w.clockWatch
}

// clockWatch remembers which sources' clocks were found running ahead, so that each is logged
// once (every occurrence is counted in the metric).
type clockWatch struct {
	mu     stdsync.Mutex
	logged map[string]bool
}

func (c *clockWatch) untrusted(source string, lead time.Duration, log *logrus.Entry, m ApplyObserver) {
	if m != nil {
		m.UntrustedClock(source)
	}
	c.mu.Lock()
	first := !c.logged[source]
	c.logged[source] = true
	c.mu.Unlock()
	if first {
		log.WithFields(logrus.Fields{"source": source, "offset": lead.Round(time.Second).String(), "max_lead": MaxClockLead.String()}).
			Warn("provider time too far ahead of receipt; versioned at receipt instead (logged once per source, counted in storemirror_untrusted_clock_total)")
	}
}

// Prune deletes applied and ignored events older than retention, in bounded batches, every
// interval until ctx is done. A retention of zero keeps events forever.
func (w *Worker) Prune(ctx context.Context, retention, interval time.Duration) {
	PruneEvery(ctx, retention, interval, "inbox events", w.Log, w.Inbox.PruneEvents)
}

// PruneBatch is how many rows one call of a PruneEvery prune may delete.
const PruneBatch = 1000

// PruneEvery calls prune for what is older than retention, PruneBatch rows at a time until a
// call deletes fewer, every interval until ctx is done, and logs what it pruned as what ("inbox
// events"). A retention of zero prunes nothing.
func PruneEvery(ctx context.Context, retention, interval time.Duration, what string, log *logrus.Entry,
	prune func(ctx context.Context, before time.Time, limit int) (int64, error)) {
	if retention <= 0 {
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		var total int64
		for ctx.Err() == nil {
			n, err := prune(ctx, time.Now().Add(-retention), PruneBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.WithError(err).Warn("prune old " + what + " failed")
				}
				break
			}
			total += n
			if n < PruneBatch {
				break
			}
		}
		if total > 0 {
			log.WithField("rows", total).Info("pruned old " + what)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
