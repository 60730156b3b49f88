package sync

import (
	"context"
	"io"
	stdsync "sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

// trickle is an inbox that events reach one at a time; it counts the claims that found some.
type trickle struct {
	mu       stdsync.Mutex
	pending  int
	applied  int
	claims   int
	lastSeen time.Time // when the last event applied was added
	added    time.Time
}

func (q *trickle) add() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending++
	q.added = time.Now()
}

func (q *trickle) ApplyPending(_ context.Context, limit int, _ EventHandler) (Batch, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(q.pending, limit)
	if n > 0 {
		q.pending -= n
		q.applied += n
		q.claims++
		q.lastSeen = q.added
	}
	return Batch{Outcomes: make([]Outcome, n)}, nil
}

func (q *trickle) PruneEvents(context.Context, time.Time, int) (int64, error) { return 0, nil }

func (q *trickle) state() (applied, claims int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.applied, q.claims
}

// Events that trickle in, each followed by a nudge, are taken in batches: a worker whose batch
// was not full lingers, and the nudges meanwhile wake no one else. None is left waiting for the
// poll: the last is applied within a linger of its arrival.
func TestWorkersBatchATrickle(t *testing.T) {
	const events, linger = 300, 30 * time.Millisecond
	q := &trickle{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	w := &Worker{Inbox: q, Workers: 4, BatchSize: 250, Linger: linger, Poll: time.Hour, Log: logrus.NewEntry(log)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for range events {
		q.add()
		w.Nudge()
		time.Sleep(time.Millisecond)
	}
	last := time.Now()
	for applied, _ := q.state(); applied < events; applied, _ = q.state() {
		if time.Since(last) > 10*time.Second {
			t.Fatalf("%d of %d events applied 10 s after the last arrived: a nudge was lost", applied, events)
		}
		time.Sleep(time.Millisecond)
	}
	_, claims := q.state()
	// ~300 ms of arrivals at one claim per linger; one claim per event would be 300.
	if claims > events/5 {
		t.Errorf("%d claims for %d trickling events, want them batched (at most %d)", claims, events, events/5)
	}
}

// A full batch means more are waiting: the workers go on at once, without lingering.
func TestFullBatchesDoNotLinger(t *testing.T) {
	q := &trickle{}
	log := logrus.New()
	log.SetOutput(io.Discard)
	w := &Worker{Inbox: q, Workers: 1, BatchSize: 10, Linger: time.Hour, Poll: time.Hour, Log: logrus.NewEntry(log)}
	for range 1000 {
		q.add()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	w.Nudge()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		if applied, _ := q.state(); applied == 1000 {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a backlog of full batches waited: the worker lingered between them")
		}
	}
}
