package providerapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storemirror/storemirror/providerapi"
)

func newClient(t *testing.T, h http.HandlerFunc, o providerapi.Options) *providerapi.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o.Source, o.BaseURL = "shop", srv.URL+"/api"
	if o.RequestsPerSecond == 0 {
		o.RequestsPerSecond = 1000
	}
	o.Backoff, o.MaxBackoff = time.Millisecond, 10*time.Millisecond
	c, err := providerapi.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientAuthAndDecode(t *testing.T) {
	var got []string
	basic := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got = append(got, r.URL.Path+"?"+r.URL.RawQuery+" "+u+":"+p+" "+r.Header.Get("Authorization")[:5])
		w.Write([]byte(`{"n":1}`))
	}, providerapi.Options{Username: "id", Password: "pw"})
	var v struct{ N int }
	if err := basic.GetJSON(context.Background(), "/things", map[string][]string{"page": {"2"}}, &v); err != nil || v.N != 1 {
		t.Fatalf("GetJSON: %v %+v", err, v)
	}
	bearer := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		w.Write([]byte(`{}`))
	}, providerapi.Options{Token: "sk_test"})
	if err := bearer.GetJSON(context.Background(), "/x", nil, &v); err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	if len(got) != 2 || got[0] != "/api/things?page=2 id:pw Basic" || got[1] != "Bearer sk_test" {
		t.Errorf("requests = %q", got)
	}
}

func TestClientRetries(t *testing.T) {
	cases := []struct {
		name     string
		answers  []int // statuses, then 200
		retries  int
		wantErr  string
		wantSeen int
	}{
		{"429 then ok", []int{429, 429}, 3, "", 3},
		{"5xx then ok", []int{503, 500}, 3, "", 3},
		{"persistent 5xx", []int{502, 502, 502, 502}, 2, "shop: GET /things: 502 Bad Gateway: oops", 3},
		{"4xx is not retried", []int{404}, 3, "shop: GET /things: 404 Not Found: oops", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int64
			client := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				if i < len(c.answers) {
					w.Header().Set("Retry-After", "0")
					http.Error(w, "oops", c.answers[i])
					return
				}
				w.Write([]byte(`{}`))
			}, providerapi.Options{Retries: c.retries})
			var v struct{}
			err := client.GetJSON(context.Background(), "/things", nil, &v)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
				t.Errorf("err = %v, want %q", err, c.wantErr)
			}
			if int(n.Load()) != c.wantSeen {
				t.Errorf("%d requests, want %d", n.Load(), c.wantSeen)
			}
		})
	}
}

func TestClientTimeoutIsRetried(t *testing.T) {
	var n atomic.Int64
	client := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			time.Sleep(200 * time.Millisecond)
		}
		w.Write([]byte(`{}`))
	}, providerapi.Options{Retries: 2, Timeout: 50 * time.Millisecond})
	var v struct{}
	if err := client.GetJSON(context.Background(), "/slow", nil, &v); err != nil || n.Load() != 2 {
		t.Errorf("err %v after %d requests; want success on the second", err, n.Load())
	}
	if !providerapi.IsNotFound(&providerapi.StatusError{Status: 404}) || providerapi.IsNotFound(errors.New("x")) {
		t.Error("IsNotFound")
	}
}

func TestClientRateLimit(t *testing.T) {
	client := newClient(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) },
		providerapi.Options{RequestsPerSecond: 20})
	start := time.Now()
	var v struct{}
	for i := 0; i < 5; i++ {
		if err := client.GetJSON(context.Background(), "/x", nil, &v); err != nil {
			t.Fatalf("GetJSON %d: %v", i, err)
		}
	}
	if d := time.Since(start); d < 190*time.Millisecond {
		t.Errorf("5 requests at 20/s took %v, want at least 200ms", d)
	}
}

// A 429 whose Retry-After is an HTTP-date is retried no sooner than that date (read against
// the answer's Date), although the client's own backoff is a millisecond.
func TestClientHonoursRetryAfterDate(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		first := len(seen) == 1
		mu.Unlock()
		if first {
			now := time.Now().UTC().Truncate(time.Second)
			w.Header().Set("Date", now.Format(http.TimeFormat))
			w.Header().Set("Retry-After", now.Add(time.Second).Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	client, err := providerapi.NewClient(providerapi.Options{
		Source: "shop", BaseURL: srv.URL, RequestsPerSecond: 1000, Retries: 1,
		Backoff: time.Millisecond, MaxBackoff: time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	var v struct{}
	if err := client.GetJSON(context.Background(), "/x", nil, &v); err != nil {
		t.Fatalf("GetJSON: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("%d requests, want 2", len(seen))
	}
	if got := seen[1].Sub(seen[0]); got < 900*time.Millisecond {
		t.Errorf("retried after %v, want at least the 1s that Retry-After asked for", got)
	}
}
