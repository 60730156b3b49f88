package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	stdsync "sync"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/loadgen"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

const key = "0123456789abcdefghijklmnopqrstuv"

// The deliveries the generator builds are genuine: sticky.io's verifier accepts them under
// the delivery id the generator says, and its decoder reads the product they describe.
func TestStickyIODeliveriesAreGenuine(t *testing.T) {
	t.Parallel()
	src, err := stickyio.New(stickyio.Options{Name: "sticky", Secrets: []string{key}})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	gen := loadgen.StickyIO{Path: "/webhooks/sticky", Key: key, Base: base}
	req, err := gen.Snapshot("evt-7", 7, 42, "19.5000", 3)
	if err != nil {
		t.Fatal(err)
	}
	d, err := src.Verify(webhooks.Request{Body: req.Body, Now: time.Now()})
	if err != nil {
		t.Fatalf("verify a snapshot: %v", err)
	}
	if d.ID != "evt-7" || req.ID != "evt-7" || req.Key != "42" || d.Type != "product.updated" {
		t.Errorf("delivery id %q type %q, request id %q key %q; want evt-7, product.updated, evt-7, 42", d.ID, d.Type, req.ID, req.Key)
	}
	changes, err := src.Decode(mirrorsync.Event{Source: "sticky", DeliveryID: d.ID, Type: d.Type, Body: d.Body})
	if err != nil || len(changes) != 1 {
		t.Fatalf("decode a snapshot: %d changes, %v", len(changes), err)
	}
	p, ok := changes[0].Entity.(*mirrorsync.Product)
	if !ok {
		t.Fatalf("decoded %T, want a product", changes[0].Entity)
	}
	if got, want := changes[0].Key.ExternalID, "42"; got != want {
		t.Errorf("external id %q, want %q", got, want)
	}
	if got, want := len(p.Variants.Items), 3; got != want {
		t.Errorf("%d variants, want %d", got, want)
	}
	if got, want := p.Price.Value.String(), "19.5"; got != want {
		t.Errorf("price %s, want %s", got, want)
	}
	if got, want := changes[0].Version.At, base.Add(7*time.Second); !got.Equal(want) {
		t.Errorf("version %v, want %v (base + seq seconds)", got, want)
	}

	unknown, err := gen.Unknown("evt-8", 8)
	if err != nil {
		t.Fatal(err)
	}
	d, err = src.Verify(webhooks.Request{Body: unknown.Body, Now: time.Now()})
	if err != nil || d.ID != "evt-8" {
		t.Fatalf("verify an unknown event: id %q, %v", d.ID, err)
	}
	if _, err := src.Decode(mirrorsync.Event{Source: "sticky", Body: d.Body}); !errors.Is(err, mirrorsync.ErrIgnored) {
		t.Errorf("decode an unknown event type: %v, want ErrIgnored", err)
	}
	if n := len(unknown.Body); n < 1800 || n > 2400 {
		t.Errorf("unknown event body of %d bytes, want about 2 kB", n)
	}
}

// recorder is a daemon stand-in that answers 200 and remembers which request reached which server.
type recorder struct {
	mu   stdsync.Mutex
	seen map[string][]string // server name → delivery ids
}

func (rec *recorder) server(t *testing.T, name string, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.seen[name] = append(rec.seen[name], string(b))
		rec.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func next(seq int) (loadgen.Request, error) {
	id := fmt.Sprint("d", seq)
	return loadgen.Request{Path: "/webhooks/x", Body: []byte(id), ID: id}, nil
}

// A closed loop posts Count requests, in turn to each target, and records every answer in order.
func TestClosedLoopRoundRobin(t *testing.T) {
	t.Parallel()
	rec := &recorder{seen: map[string][]string{}}
	a, b := rec.server(t, "a", http.StatusOK), rec.server(t, "b", http.StatusServiceUnavailable)
	results, err := loadgen.Run(context.Background(), loadgen.Options{
		Targets: []string{a.URL, b.URL}, Concurrency: 4, Count: 100, Next: next,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 100 {
		t.Fatalf("%d results, want 100", len(results))
	}
	for i, r := range results {
		want := http.StatusOK
		if i%2 == 1 {
			want = http.StatusServiceUnavailable
		}
		if r.Seq != i || r.ID != fmt.Sprint("d", i) || r.Status != want || r.OK() != (want == http.StatusOK) {
			t.Fatalf("result %d = seq %d id %s status %d, want seq %d status %d", i, r.Seq, r.ID, r.Status, i, want)
		}
	}
	if got := len(rec.seen["a"]) + len(rec.seen["b"]); got != 100 || len(rec.seen["a"]) != 50 {
		t.Errorf("servers saw %d and %d requests, want 50 each", len(rec.seen["a"]), len(rec.seen["b"]))
	}
	s := loadgen.Summarize(results, results[0].Start, time.Now())
	if s.OK != 50 || s.Failed[http.StatusServiceUnavailable] != 50 || s.FailedString() != "503×50" {
		t.Errorf("summary: %d OK, failed %s; want 50 and 503×50", s.OK, s.FailedString())
	}
}

// Clients keep their connections: answers with bodies (as the daemon's are) are read to their
// end, so 200 requests from 4 clients use at most 4 connections, and each request arrives with
// its headers and body and gets its own answer.
func TestConnectionsKeptAlive(t *testing.T) {
	t.Parallel()
	var mu stdsync.Mutex
	conns := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/webhooks/x" || r.Header.Get("X-Seq") != string(b) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		status := http.StatusOK
		if len(b)%2 == 1 {
			status = http.StatusAccepted
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"answer to":%q,"padding":%q}`, b, make([]byte, 3000)) // longer than one read
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	results, err := loadgen.Run(context.Background(), loadgen.Options{
		Targets: []string{srv.URL}, Concurrency: 4, Count: 200,
		Next: func(seq int) (loadgen.Request, error) {
			body := fmt.Sprint(seq)
			return loadgen.Request{Path: "/webhooks/x", Header: http.Header{"X-Seq": {body}}, Body: []byte(body), ID: body}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		want := http.StatusOK
		if len(fmt.Sprint(i))%2 == 1 {
			want = http.StatusAccepted
		}
		if r.Seq != i || r.Status != want || r.Err != nil {
			t.Fatalf("result %d = seq %d status %d (%v), want status %d", i, r.Seq, r.Status, r.Err, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if conns < 1 || conns > 4 {
		t.Errorf("%d connections for 4 clients, want 1 to 4", conns)
	}
}

// An open loop keeps its schedule: requests leave at the rate asked, not faster.
func TestOpenLoopRate(t *testing.T) {
	t.Parallel()
	rec := &recorder{seen: map[string][]string{}}
	a := rec.server(t, "a", http.StatusOK)
	start := time.Now()
	results, err := loadgen.Run(context.Background(), loadgen.Options{
		Targets: []string{a.URL}, Concurrency: 4, Rate: 200, Count: 60, Next: next,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The 60th request is due 295 ms after the start.
	if elapsed := time.Since(start); elapsed < 290*time.Millisecond {
		t.Errorf("60 requests at 200/s took %v, want at least 295 ms", elapsed)
	}
	for _, r := range results {
		if want := start.Add(time.Duration(r.Seq) * 5 * time.Millisecond); r.Due.Before(want.Add(-time.Millisecond)) || r.Start.Before(r.Due) {
			t.Fatalf("request %d due %v, started %v; want due near %v and never early", r.Seq, r.Due.Sub(start), r.Start.Sub(start), want.Sub(start))
		}
	}
}

// A failing Next stops the run and is reported.
func TestNextErrorStops(t *testing.T) {
	t.Parallel()
	rec := &recorder{seen: map[string][]string{}}
	a := rec.server(t, "a", http.StatusOK)
	boom := errors.New("boom")
	results, err := loadgen.Run(context.Background(), loadgen.Options{
		Targets: []string{a.URL}, Concurrency: 1, Count: 100,
		Next: func(seq int) (loadgen.Request, error) {
			if seq == 5 {
				return loadgen.Request{}, boom
			}
			return next(seq)
		},
	})
	if !errors.Is(err, boom) || len(results) != 5 {
		t.Errorf("run: %d results, %v; want 5 and boom", len(results), err)
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}}
	for _, c := range cases {
		if got := loadgen.Percentile(ds, c.q); got != c.want {
			t.Errorf("Percentile(1..100 ms, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := loadgen.Percentile(nil, 0.5); got != 0 {
		t.Errorf("Percentile of nothing = %v, want 0", got)
	}
}

// Prebuild builds every request below n before it returns, each once, and hands out the same
// requests next would have built; past n it builds them when asked. An error of next is its error.
func TestPrebuild(t *testing.T) {
	t.Parallel()
	var mu stdsync.Mutex
	built := map[int]int{}
	next := func(seq int) (loadgen.Request, error) {
		mu.Lock()
		built[seq]++
		mu.Unlock()
		return loadgen.Request{ID: fmt.Sprint("evt-", seq), Body: []byte(fmt.Sprint(seq))}, nil
	}
	get, err := loadgen.Prebuild(context.Background(), 100, next)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(built) != 100 {
		t.Errorf("%d requests built before the run, want 100", len(built))
	}
	for seq, n := range built {
		if n != 1 || seq < 0 || seq >= 100 {
			t.Errorf("request %d built %d times before the run", seq, n)
		}
	}
	mu.Unlock()
	for _, seq := range []int{0, 57, 99, 100, 250} {
		req, err := get(seq)
		if err != nil || req.ID != fmt.Sprint("evt-", seq) || string(req.Body) != fmt.Sprint(seq) {
			t.Errorf("request %d: %q %q %v", seq, req.ID, req.Body, err)
		}
	}
	mu.Lock()
	if built[57] != 1 || built[100] != 1 || built[250] != 1 {
		t.Errorf("built %d, %d, %d times; want a prebuilt request not rebuilt and a later one built once", built[57], built[100], built[250])
	}
	mu.Unlock()

	boom := errors.New("boom")
	if _, err := loadgen.Prebuild(context.Background(), 10, func(seq int) (loadgen.Request, error) {
		if seq == 7 {
			return loadgen.Request{}, boom
		}
		return loadgen.Request{}, nil
	}); !errors.Is(err, boom) {
		t.Errorf("Prebuild with a failing request: %v, want boom", err)
	}
}
