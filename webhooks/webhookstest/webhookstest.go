// Package webhookstest runs the real webhook path for tests: the HTTP handler with its group
// commit ingester and the apply worker, against a fresh, real PostgreSQL database.
package webhookstest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// Source is a provider source: it verifies requests and decodes what was stored.
type Source interface {
	webhooks.Verifier
	mirrorsync.Decoder
}

// Harness is a running webhook server over a fresh database.
type Harness struct {
	t      testing.TB
	DB     *store.DB
	Server *httptest.Server
	Worker *mirrorsync.Worker
}

// Option changes how New sets the harness up.
type Option func(*webhooks.Options, *Harness)

// WithAdmin turns the admin API and the status page on with token: they read the harness's
// database, and report every source as of kind "test", reconciling the entities given for it
// in entities (none for the others).
func WithAdmin(token string, entities map[string][]string) Option {
	return func(o *webhooks.Options, h *Harness) {
		var sources []mirrorsync.StatusSource
		for name := range o.Sources {
			sources = append(sources, mirrorsync.StatusSource{Name: name, Kind: "test", Entities: entities[name]})
		}
		slices.SortFunc(sources, func(a, b mirrorsync.StatusSource) int { return strings.Compare(a.Name, b.Name) })
		o.Admin = webhooks.Admin{Token: token, Store: h.DB, Resync: &mirrorsync.Reconciler{Store: h.DB},
			Status: func(ctx context.Context) (mirrorsync.Status, error) {
				return mirrorsync.ReadStatus(ctx, h.DB, "test", sources, nil, time.Now())
			}}
	}
}

// New starts a server for sources (by source name) over a fresh database. Deliveries are stored
// but not applied until Drain.
func New(t testing.TB, sources map[string]Source, opts ...Option) *Harness {
	t.Helper()
	return NewOn(t, storetest.NewDB(t), sources, opts...)
}

// NewOn is New over db, a database the test set up itself.
func NewOn(t testing.TB, db *store.DB, sources map[string]Source, opts ...Option) *Harness {
	t.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	verifiers := map[string]webhooks.Verifier{}
	decoders := mirrorsync.Registry{}
	for name, s := range sources {
		verifiers[name], decoders[name] = s, s
	}
	h := &Harness{t: t, DB: db}
	h.Worker = &mirrorsync.Worker{
		Inbox: db, Decoders: decoders, BatchSize: 100,
		Policy: mirrorsync.RetryPolicy{MaxAttempts: 3, Backoff: mirrorsync.Backoff},
		Log:    logrus.NewEntry(log),
	}
	ingester := webhooks.NewIngester(db, 100, nil)
	go ingester.Run()
	o := webhooks.Options{
		Sources: verifiers, Ingester: ingester, MaxBodyBytes: 1 << 20,
		Ready:    func(ctx context.Context) error { return db.Ping(ctx) },
		Log:      logrus.NewEntry(log),
		Registry: prometheus.NewRegistry(),
	}
	for _, opt := range opts {
		opt(&o, h)
	}
	h.Server = httptest.NewServer(webhooks.NewHandler(o))
	t.Cleanup(func() {
		h.Server.Close()
		ingester.Close()
	})
	return h
}

// One is New for a single source, named name, taking its constructor's results, so that a
// package's harness is one line: webhookstest.One(t, "bis")(backinstock.New(opts)). It fails
// the test if the constructor did.
func One(t testing.TB, name string) func(Source, error) *Harness {
	return func(s Source, err error) *Harness {
		t.Helper()
		if err != nil {
			t.Fatalf("source %s: %v", name, err)
		}
		return New(t, map[string]Source{name: s})
	}
}

// Post sends body to path with header and returns the status and response body.
func (h *Harness) Post(path string, header http.Header, body []byte) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.Server.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatalf("new request: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Deliver is Post that fails t (the harness's test, or one of its subtests) unless the delivery
// is answered 200.
func (h *Harness) Deliver(t testing.TB, path string, header http.Header, body []byte) {
	t.Helper()
	if status, resp := h.Post(path, header, body); status != http.StatusOK {
		t.Fatalf("POST %s answered %d %s, want 200", path, status, resp)
	}
}

// Column runs a query of one text column and returns its rows joined by "; ", failing t if the
// query fails.
func (h *Harness) Column(t testing.TB, query string, args ...any) string {
	t.Helper()
	var out []string
	if err := h.DB.SQL().Select(&out, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return strings.Join(out, "; ")
}

// Drain applies stored events until none is due, and returns what the batches did.
func (h *Harness) Drain() []mirrorsync.Outcome {
	h.t.Helper()
	var all []mirrorsync.Outcome
	for {
		b, err := h.Worker.RunOnce(context.Background())
		if err != nil {
			h.t.Fatalf("apply: %v", err)
		}
		if len(b.Outcomes) == 0 {
			return all
		}
		all = append(all, b.Outcomes...)
	}
}

// Event is a row of sync.webhook_events.
type Event struct {
	ID         int64   `db:"id"`
	Source     string  `db:"source"`
	DeliveryID string  `db:"delivery_id"`
	EventType  string  `db:"event_type"`
	Body       []byte  `db:"body"`
	Status     string  `db:"status"`
	Attempts   int     `db:"attempts"`
	LastError  *string `db:"last_error"`
}

// Events returns the stored events, in receive order.
func (h *Harness) Events() []Event {
	h.t.Helper()
	var evs []Event
	if err := h.DB.SQL().Select(&evs, `SELECT id, source, delivery_id, event_type, body, status, attempts, last_error
		FROM sync.webhook_events ORDER BY id`); err != nil {
		h.t.Fatalf("read events: %v", err)
	}
	return evs
}

// ApplyAll runs workers concurrent apply workers over db until its inbox is empty, in batches of
// the daemon's default size, and fails tb on any event that is not applied. Benchmarks use it.
func ApplyAll(tb testing.TB, db *store.DB, decoders mirrorsync.Registry, workers int) {
	tb.Helper()
	ApplyAllInBatches(tb, db, decoders, workers, mirrorsync.DefaultBatchSize)
}

// ApplyAllInBatches is ApplyAll with batches of batchSize events (inbox.batch_size).
func ApplyAllInBatches(tb testing.TB, db *store.DB, decoders mirrorsync.Registry, workers, batchSize int) {
	tb.Helper()
	log := logrus.New()
	log.SetOutput(io.Discard)
	done := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			wk := &mirrorsync.Worker{Inbox: db, Decoders: decoders, BatchSize: batchSize, Log: logrus.NewEntry(log),
				Policy: mirrorsync.RetryPolicy{MaxAttempts: 3, Backoff: mirrorsync.Backoff}}
			for {
				batch, err := wk.RunOnce(context.Background())
				if err != nil || len(batch.Outcomes) == 0 {
					done <- err
					return
				}
				for _, o := range batch.Outcomes {
					if o.Status != "applied" {
						done <- fmt.Errorf("event %s: %s: %v", o.DeliveryID, o.Status, o.Err)
						return
					}
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-done; err != nil {
			tb.Fatal(err)
		}
	}
}
