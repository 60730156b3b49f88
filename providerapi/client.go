package providerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Options configure a provider API client.
type Options struct {
	Source            string // the configured source name, for errors
	BaseURL           string
	RequestsPerSecond float64
	Timeout           time.Duration // per request
	// HTTP Basic (Username, Password) or a Bearer Token; at most one.
	Username, Password string
	Token              string
	// Retries is how many times a request failing with 429, 5xx or a timeout is tried again.
	Retries int
	// Backoff is the first retry's delay, doubled each time up to MaxBackoff (with jitter).
	Backoff, MaxBackoff time.Duration
}

// Client calls a provider's API for the reconciler: one request at a time under a rate limit,
// each with a timeout, retried with capped exponential backoff and jitter on 429, 5xx and
// timeouts. Its errors name the source, the URL path and the status.
type Client struct {
	o       Options
	base    *url.URL
	http    *http.Client
	limiter *rate.Limiter
}

// NewClient returns a client for the API at o.BaseURL.
func NewClient(o Options) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("%s: api base_url %q is not an http(s) URL", o.Source, o.BaseURL)
	}
	if o.RequestsPerSecond <= 0 {
		o.RequestsPerSecond = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	return &Client{
		o: o, base: base,
		http:    &http.Client{}, // the timeout is each request's budget (see budget)
		limiter: rate.NewLimiter(rate.Limit(o.RequestsPerSecond), 1),
	}, nil
}

// StatusError is a provider API answer that was not 2xx.
type StatusError struct {
	Source string
	Path   string
	Status int
	Body   string // the start of the answer, for the run's error
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s: GET %s: %d %s", e.Source, e.Path, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool {
	var apiErr *StatusError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound
}

// GetJSON GETs path (under the base URL; escaped, so url.PathEscape any id in it) with query,
// and decodes the JSON answer into v.
func (c *Client) GetJSON(ctx context.Context, path string, query url.Values, v any) error {
	return c.GetStream(ctx, path, query, func(dec *json.Decoder) error {
		if err := dec.Decode(v); err != nil {
			return &DecodeError{Err: err}
		}
		return nil
	})
}

// GetStream GETs path with query like GetJSON, but hands the answer to read as a decoder over
// the body as it arrives, for read to take token by token (see ReadObject and ReadArray): a page
// of any size is never held whole in memory. A failure worth retrying, before read or during
// it (a timeout, a body cut short), calls read again on a new answer: read starts its page
// over, and what it handed on before the failure it hands on again.
func (c *Client) GetStream(ctx context.Context, path string, query url.Values, read func(*json.Decoder) error) error {
	u, err := url.Parse(c.base.String() + path)
	if err != nil {
		return fmt.Errorf("%s: GET %s: %w", c.o.Source, path, err)
	}
	u.RawQuery = query.Encode()
	for attempt := 0; ; attempt++ {
		var retryAfter time.Duration
		retryAfter, err = c.get(ctx, u.String(), path, read)
		var own *readersOwn
		if errors.As(err, &own) {
			return own.err // never retried: a database error of what read handed on is no flaky answer
		}
		if err == nil || attempt >= c.o.Retries || !retriable(err) {
			return err
		}
		wait := c.backoff(attempt, retryAfter)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (gave up waiting to retry: %v)", err, ctx.Err())
		case <-timer.C:
		}
	}
}

func (c *Client) get(ctx context.Context, rawURL, path string, read func(*json.Decoder) error) (time.Duration, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		return 0, fmt.Errorf("%s: GET %s: %w", c.o.Source, path, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	clock := newBudget(c.o.Timeout, cancel)
	defer clock.timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: GET %s: %w", c.o.Source, path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "storemirror")
	switch {
	case c.o.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.o.Token)
	case c.o.Username != "":
		req.SetBasicAuth(c.o.Username, c.o.Password)
	}
	began := clock.start()
	resp, err := c.http.Do(req)
	clock.stop(began)
	if err != nil {
		return 0, fmt.Errorf("%s: GET %s: %w", c.o.Source, path, clock.explain(err))
	}
	defer resp.Body.Close()
	resp.Body = &budgetedBody{ReadCloser: resp.Body, clock: clock}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return retryAfter(resp.Header, time.Now()), &StatusError{Source: c.o.Source, Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(snippet))}
	}
	if err := read(json.NewDecoder(resp.Body)); err != nil {
		var decodeErr *DecodeError
		if errors.As(err, &decodeErr) {
			return 0, fmt.Errorf("%s: GET %s: %w", c.o.Source, path, err)
		}
		return 0, &readersOwn{err} // the puller's, or what it handed on: it names itself
	}
	return 0, nil
}

// readersOwn is an error of a GetStream reader that is not the answer's (a mapping the puller
// refused, an apply that failed), returned as it is.
type readersOwn struct{ err error }

func (e *readersOwn) Error() string { return e.err.Error() }

// retriable reports failures worth another try: rate limiting, server errors, timeouts.
func retriable(err error) bool {
	var apiErr *StatusError
	if errors.As(err, &apiErr) {
		return apiErr.Status == http.StatusTooManyRequests || apiErr.Status >= 500
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout() || errors.Is(err, io.ErrUnexpectedEOF)
}

func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.o.Backoff << attempt
	if d <= 0 || d > c.o.MaxBackoff {
		d = c.o.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1) // jitter: half to all of it
	return max(d, min(retryAfter, c.o.MaxBackoff))
}

// retryAfter reads Retry-After in either of its forms (RFC 9110 §10.2.3): delay-seconds, or
// an HTTP-date. A date is measured against the answer's own Date header when it has one, so a
// provider whose clock is off does not stretch or cut the wait; else against now. 0 when the
// header is absent, unreadable or in the past.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(min(max(s, 0), 1<<30)) * time.Second // bounded: no overflow
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date
	}
	return max(at.Sub(now), 0)
}
