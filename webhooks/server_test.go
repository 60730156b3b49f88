package webhooks_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newHarness(t *testing.T) *webhookstest.Harness {
	return webhookstest.New(t, map[string]webhookstest.Source{"shop": testSource{name: "shop", secret: "s3cret"}})
}

func TestWebhookStoredOnceThenApplied(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := testBody("evt-1", "p1", "Tea", t0)
	if status, resp := h.Post("/webhooks/shop", sign(body, "s3cret"), body); status != http.StatusOK || !strings.Contains(resp, "stored") {
		t.Fatalf("first delivery: %d %s, want 200 stored", status, resp)
	}
	if status, resp := h.Post("/webhooks/shop", sign(body, "s3cret"), body); status != http.StatusOK || !strings.Contains(resp, "duplicate") {
		t.Fatalf("repeated delivery: %d %s, want 200 duplicate", status, resp)
	}
	evs := h.Events()
	if len(evs) != 1 || evs[0].Status != "pending" || string(evs[0].Body) != string(body) {
		t.Fatalf("stored events = %+v, want one pending event with the raw body", evs)
	}
	if out := h.Drain(); len(out) != 1 || out[0].Status != "applied" {
		t.Fatalf("apply outcomes = %+v, want one applied", out)
	}
	var name string
	if err := h.DB.SQL().Get(&name, `SELECT name FROM mirror.products WHERE source = 'shop' AND external_id = 'p1'`); err != nil || name != "Tea" {
		t.Errorf("mirror row: name %q err %v, want Tea", name, err)
	}
	if evs := h.Events(); evs[0].Status != "applied" || evs[0].Attempts != 1 {
		t.Errorf("event after apply = %+v, want applied after 1 attempt", evs[0])
	}
}

func TestWebhookRejects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := testBody("evt-1", "p1", "Tea", t0)
	big := []byte(`{"id":"big","pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	cases := []struct {
		name   string
		method string
		path   string
		header http.Header
		body   []byte
		want   int
	}{
		{"wrong signature", http.MethodPost, "/webhooks/shop", sign(body, "wrong"), body, http.StatusUnauthorized},
		{"no signature", http.MethodPost, "/webhooks/shop", nil, body, http.StatusUnauthorized},
		{"unknown source", http.MethodPost, "/webhooks/nope", sign(body, "s3cret"), body, http.StatusNotFound},
		{"unknown sub-path", http.MethodPost, "/webhooks/shop/other", sign(body, "s3cret"), body, http.StatusNotFound},
		{"wrong method", http.MethodGet, "/webhooks/shop", nil, nil, http.StatusMethodNotAllowed},
		{"too large", http.MethodPost, "/webhooks/shop", sign(big, "s3cret"), big, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, h.Server.URL+c.path, strings.NewReader(string(c.body)))
			for k, v := range c.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	if evs := h.Events(); len(evs) != 0 {
		t.Errorf("rejected requests stored %d events, want none", len(evs))
	}
}

// A body over the limit sent without Content-Length (chunked) is cut off while reading.
func TestWebhookTooLargeChunked(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	big := strings.Repeat("x", 1<<20+10)
	req, _ := http.NewRequest(http.MethodPost, h.Server.URL+"/webhooks/shop", strings.NewReader(big))
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", resp.StatusCode)
	}
}

// A body is stored byte for byte however it is sent: with its length declared, chunked (no
// length; read into a buffer that grows), and exactly at the size limit; one byte over it is
// 413 either way, and stores nothing.
func TestWebhookBodyStoredWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post := func(body []byte, chunked bool) int {
		req, _ := http.NewRequest(http.MethodPost, h.Server.URL+"/webhooks/shop", bytes.NewReader(body))
		for k, vs := range sign(body, "s3cret") {
			req.Header[k] = vs
		}
		if chunked {
			req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	declared := testBody("evt-declared", "p1", strings.Repeat("Tea ", 700), t0)
	chunked := testBody("evt-chunked", "p2", strings.Repeat("Mate ", 900), t0)
	limit := testBody("evt-limit", "p3", "", t0)
	limit = bytes.Replace(limit, []byte(`"name":""`), []byte(`"name":"`+strings.Repeat("x", 1<<20-len(limit))+`"`), 1)
	if len(limit) != 1<<20 {
		t.Fatalf("the body at the limit has %d bytes, want %d", len(limit), 1<<20)
	}
	limitChunked := bytes.Replace(limit, []byte(`"evt-limit"`), []byte(`"evt-limic"`), 1)
	over := append(bytes.Clone(limit[:len(limit)-1]), ` }`...) // valid JSON, one byte over
	for _, c := range []struct {
		body    []byte
		chunked bool
		want    int
	}{
		{declared, false, http.StatusOK}, {chunked, true, http.StatusOK}, {limit, false, http.StatusOK},
		{limitChunked, true, http.StatusOK}, {over, false, http.StatusRequestEntityTooLarge},
		{over, true, http.StatusRequestEntityTooLarge},
	} {
		if status := post(c.body, c.chunked); status != c.want {
			t.Errorf("a body of %d bytes (chunked %v): %d, want %d", len(c.body), c.chunked, status, c.want)
		}
	}
	stored := map[string]string{}
	for _, ev := range h.Events() {
		stored[ev.DeliveryID] = string(ev.Body)
	}
	if len(stored) != 4 {
		t.Errorf("%d events stored, want the 4 answered 200", len(stored))
	}
	for id, want := range map[string][]byte{"evt-declared": declared, "evt-chunked": chunked, "evt-limit": limit, "evt-limic": limitChunked} {
		if stored[id] != string(want) {
			t.Errorf("%s stored %d bytes, want the %d sent", id, len(stored[id]), len(want))
		}
	}
}

func TestUnknownEventIgnoredAndUndecodableFailed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ignored := testBody("evt-i", "", "", t0) // no product: the test decoder ignores it
	broken := []byte(`{"id":"evt-b","at":"not a time"}`)
	for _, b := range [][]byte{ignored, broken} {
		if status, resp := h.Post("/webhooks/shop", sign(b, "s3cret"), b); status != http.StatusOK {
			t.Fatalf("genuine delivery answered %d %s, want 200", status, resp)
		}
	}
	h.Drain()
	evs := h.Events()
	if len(evs) != 2 || evs[0].Status != "ignored" || evs[1].Status != "failed" || evs[1].LastError == nil {
		t.Fatalf("events = %+v, want ignored then failed with the error", evs)
	}
	// Decode errors are deterministic: the failed event is not retried.
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("a failed decode was retried: %+v", out)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := testBody("evt-1", "p1", "Tea", t0)
	h.Post("/webhooks/shop", sign(body, "s3cret"), body)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/readyz":  "ready",
		"/metrics": `storemirror_webhook_requests_total{source="shop",status="200"} 1`,
	} {
		resp, err := http.Get(h.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, body lacks %q:\n%.500s", path, resp.StatusCode, want, b)
		}
	}
}
