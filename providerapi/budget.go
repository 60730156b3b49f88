package providerapi

import (
	"context"
	"io"
	stdsync "sync"
	"time"
)

// budget is a request's timeout (Options.Timeout), spent only while the request waits on the
// provider: for the answer's headers, and inside each read of its body. The time the puller
// takes between reads, applying what it read, is not the provider's, so that a page read as a
// stream may take as long to apply as it needs. When the budget runs out the request is
// cancelled, and its error is a timeout (retried).
type budget struct {
	mu      stdsync.Mutex
	left    time.Duration
	timer   *time.Timer
	cancel  context.CancelFunc
	expired bool
}

func newBudget(d time.Duration, cancel context.CancelFunc) *budget {
	b := &budget{left: d, cancel: cancel}
	b.timer = time.AfterFunc(time.Hour, b.expire)
	b.timer.Stop()
	return b
}

// start spends the budget from now until stop.
func (b *budget) start() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timer.Reset(max(b.left, 0))
	return time.Now()
}

func (b *budget) stop(began time.Time) {
	b.timer.Stop()
	b.mu.Lock()
	b.left -= time.Since(began)
	b.mu.Unlock()
}

func (b *budget) expire() {
	b.mu.Lock()
	b.expired = true
	b.mu.Unlock()
	b.cancel()
}

// explain turns the cancellation of a request whose budget ran out into a timeout.
func (b *budget) explain(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil && b.expired {
		return timeoutError{}
	}
	return err
}

// timeoutError is a request that used up its timeout waiting on the provider.
type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout awaiting the provider's answer" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// budgetedBody is an answer's body whose reads spend its request's budget.
type budgetedBody struct {
	io.ReadCloser
	clock *budget
}

func (r *budgetedBody) Read(p []byte) (int, error) {
	began := r.clock.start()
	n, err := r.ReadCloser.Read(p)
	r.clock.stop(began)
	return n, r.clock.explain(err)
}
