// Package loadgen posts genuine provider deliveries to running storemirror daemons, at a given
// concurrency (closed loop: each client posts its next request when the last is answered) or
// at a steady rate (open loop: requests leave on a schedule whatever the answers), and records
// every answer. The benchmark tool (cmd/storemirror-bench) and the fault tests
// (internal/faults) drive the real binary with it.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	stdsync "sync"
	"time"

	"github.com/valyala/fasthttp"
)

// Request is one delivery to post.
type Request struct {
	Path   string // e.g. /webhooks/sticky
	Header http.Header
	Body   []byte
	ID     string // the delivery id the daemon will store it under
	Key    string // the mirror row it writes (a product's external id), when it writes one
}

// Result is the answer to one request.
type Result struct {
	Seq    int
	ID     string
	Key    string
	Target string // the base URL it was posted to
	Status int    // the HTTP status; 0 when no answer came (see Err)
	Err    error
	// Due is when an open-loop schedule meant it to leave (Start for a closed loop); Start and
	// Done bracket the request itself.
	Due, Start, Done time.Time
}

// OK reports a 2xx answer.
func (r Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Latency is the time from when the request was due to its answer, so that an open loop that
// falls behind its schedule shows it (no coordinated omission).
func (r Result) Latency() time.Duration { return r.Done.Sub(r.Due) }

// Options say what to post, where and how fast.
type Options struct {
	Targets []string // base URLs (http://host:port), posted to in turn
	// Concurrency is the number of clients (closed loop), or the most requests in flight at once
	// (open loop).
	Concurrency int
	// Rate, when above zero, makes the loop open: request i leaves at start + i/Rate.
	Rate     float64
	Duration time.Duration // stop starting requests after this long (0: no limit)
	Count    int           // stop after this many requests (0: no limit)
	// Next builds request seq (from 0). It is called from several goroutines at once.
	Next func(seq int) (Request, error)
	// OnResult, when set, sees each result as it comes (from several goroutines at once).
	OnResult func(Result)
	// PauseAfterFailure is how long a client waits after an answer that is not 2xx (or none),
	// as a provider backs off, so that a daemon that is down is not spun against.
	PauseAfterFailure time.Duration
}

// timeout is how long a request may take, well above the daemon's own limits.
const timeout = 30 * time.Second

// newClient returns an HTTP/1.1 client that keeps up to conns connections per daemon alive, as
// a provider's delivery workers would. It is fasthttp's rather than net/http's because the
// generator shares the machine with the daemon it measures: fasthttp's client reuses its
// requests, responses and buffers and runs no goroutines per connection, so what it costs the
// daemon in CPU stays small, as pgbench's costs the server little. It never retries a POST
// (fasthttp retries idempotent requests only), so each Result is one attempt; unlike net/http
// it does not redial when a kept connection turns out closed (a daemon killed or restarted), so
// the first request on each such connection fails, as a provider's would. Paths are sent as
// given, not normalised.
func newClient(conns int) *fasthttp.Client {
	return &fasthttp.Client{
		DisablePathNormalizing: true,
		MaxConnsPerHost:        max(conns, 1),
		MaxIdleConnDuration:    time.Minute,
		MaxConnWaitTimeout:     timeout,
		Dial:                   (&fasthttp.TCPDialer{}).Dial,
		ReadTimeout:            timeout,
		WriteTimeout:           timeout,
	}
}

// Run posts requests until Duration or Count is reached, Next fails, or ctx is done, and returns
// every result in the order the requests were started. A request in flight is waited for.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if o.Next == nil || len(o.Targets) == 0 {
		return nil, fmt.Errorf("loadgen: no requests or no targets")
	}
	client := newClient(o.Concurrency)
	defer client.CloseIdleConnections()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	s := &schedule{o: o, start: time.Now()}
	var wg stdsync.WaitGroup
	for range max(o.Concurrency, 1) {
		wg.Go(func() {
			for {
				seq, due, ok := s.next(ctx)
				if !ok {
					return
				}
				req, err := o.Next(seq)
				if err != nil {
					s.fail(err)
					stop()
					return
				}
				r := post(client, o.Targets[seq%len(o.Targets)], seq, due, req)
				if o.OnResult != nil {
					o.OnResult(r)
				}
				s.record(r)
				if !r.OK() && o.PauseAfterFailure > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(o.PauseAfterFailure):
					}
				}
			}
		})
	}
	wg.Wait()
	return s.results()
}

// schedule hands out sequence numbers and collects results.
type schedule struct {
	o     Options
	start time.Time

	mu  stdsync.Mutex
	seq int
	out []Result
	err error
}

// next returns the next request's number and due time, waiting for it in an open loop.
func (s *schedule) next(ctx context.Context) (int, time.Time, bool) {
	s.mu.Lock()
	seq := s.seq
	if ctx.Err() != nil || (s.o.Count > 0 && seq >= s.o.Count) {
		s.mu.Unlock()
		return 0, time.Time{}, false
	}
	s.seq++
	s.mu.Unlock()
	if s.o.Rate <= 0 {
		return seq, time.Time{}, true // due when it starts
	}
	due := s.start.Add(time.Duration(float64(seq) / s.o.Rate * float64(time.Second)))
	if wait := time.Until(due); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return 0, time.Time{}, false
		case <-t.C:
		}
	}
	return seq, due, true
}

func (s *schedule) record(r Result) {
	s.mu.Lock()
	s.out = append(s.out, r)
	s.mu.Unlock()
}

func (s *schedule) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *schedule) results() ([]Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.out)
	slices.SortFunc(out, func(a, b Result) int { return a.Seq - b.Seq })
	return out, s.err
}

func post(client *fasthttp.Client, target string, seq int, due time.Time, req Request) Result {
	r := Result{Seq: seq, ID: req.ID, Key: req.Key, Target: target, Due: due, Start: time.Now()}
	if r.Due.IsZero() {
		r.Due = r.Start
	}
	hr, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(hr)
	defer fasthttp.ReleaseResponse(resp)
	hr.SetRequestURI(target + req.Path)
	hr.Header.SetMethod(fasthttp.MethodPost)
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	hr.SetBodyRaw(req.Body) // sent as it is: the request is not kept past this call
	err := client.DoTimeout(hr, resp, timeout)
	r.Done = time.Now()
	if err != nil {
		r.Err = err
		return r
	}
	r.Status = resp.StatusCode()
	return r
}

// Prebuild builds requests 0 to n-1 of next before it returns, on every core, and returns a
// Next that hands them out; a request past n is built when it is asked for. A benchmark
// builds its requests before the clock starts, as pgbench parses its script before its run,
// so that the generator's encryption does not take CPU from the daemon it measures.
func Prebuild(ctx context.Context, n int, next func(seq int) (Request, error)) (func(seq int) (Request, error), error) {
	pool := make([]Request, n)
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg stdsync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for i := w; i < n && ctx.Err() == nil; i += len(errs) {
				if pool[i], errs[w] = next(i); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, err
	}
	return func(seq int) (Request, error) {
		if seq < n {
			req := pool[seq]
			pool[seq] = Request{} // posted once: let the collector have it
			return req, nil
		}
		return next(seq)
	}, nil
}
