package webhooks_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const adminToken = "test-admin-token-0123456789"

// fixableSource is testSource with a decoder bug: it fails events whose product name starts
// with "bug" until the bug is fixed (a decoder fix, then a replay).
type fixableSource struct {
	testSource
	fixed *atomic.Bool
}

func (s fixableSource) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	var e testEvent
	if json.Unmarshal(ev.Body, &e) == nil && strings.HasPrefix(e.Name, "bug") && !s.fixed.Load() {
		return nil, errors.New("decoder bug: cannot read the name")
	}
	return s.testSource.Decode(ev)
}

type adminHarness struct {
	*webhookstest.Harness
	fixed *atomic.Bool
}

func newAdminHarness(t *testing.T, token string) *adminHarness {
	fixed := &atomic.Bool{}
	h := webhookstest.New(t, map[string]webhookstest.Source{
		"shop":  fixableSource{testSource{name: "shop", secret: "s3cret"}, fixed},
		"other": fixableSource{testSource{name: "other", secret: "s3cret"}, fixed},
	}, webhookstest.WithAdmin(token, nil))
	return &adminHarness{h, fixed}
}

// deliver posts signed events named names to source, one per name, and applies them.
func (h *adminHarness) deliver(t *testing.T, source string, names ...string) {
	t.Helper()
	for i, name := range names {
		body := testBody(fmt.Sprintf("%s-%d-%d", source, time.Now().UnixNano(), i), "p-"+name, name, t0)
		if status, resp := h.Post("/webhooks/"+source, sign(body, "s3cret"), body); status != http.StatusOK {
			t.Fatalf("deliver %s: %d %s", name, status, resp)
		}
	}
	h.Drain()
}

func (h *adminHarness) call(t *testing.T, method, path, auth, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.Server.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

var adminEndpoints = []struct{ method, path, body string }{
	{http.MethodGet, "/admin/status", ""},
	{http.MethodGet, "/admin/runs", ""},
	{http.MethodGet, "/admin/runs/1", ""},
	{http.MethodGet, "/admin/events", ""},
	{http.MethodPost, "/admin/replay", `{"source":"shop"}`},
	{http.MethodPost, "/admin/resync", `{"source":"shop"}`},
}

// Every admin endpoint: 404 with no token configured, 401 with none or a wrong one, and an
// answer with the right one.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	off := newAdminHarness(t, "")
	on := newAdminHarness(t, adminToken)
	for _, e := range adminEndpoints {
		cases := []struct {
			name string
			h    *adminHarness
			auth string
			want int
		}{
			{"no token configured", off, "Bearer " + adminToken, http.StatusNotFound},
			{"none sent", on, "", http.StatusUnauthorized},
			{"wrong", on, "Bearer wrong-token-0123456789abc", http.StatusUnauthorized},
			{"basic is not for the API", on, "Basic " + basic("x", adminToken), http.StatusUnauthorized},
			{"right", on, "Bearer " + adminToken, 0},
		}
		for _, c := range cases {
			status, _, body := c.h.call(t, e.method, e.path, c.auth, e.body)
			if c.want == 0 {
				if status == http.StatusUnauthorized || status == http.StatusNotFound && e.path != "/admin/runs/1" && e.path != "/admin/resync" {
					t.Errorf("%s %s, %s: got %d %s, want it answered", e.method, e.path, c.name, status, body)
				}
				continue
			}
			if status != c.want {
				t.Errorf("%s %s, %s: got %d, want %d", e.method, e.path, c.name, status, c.want)
			}
		}
	}
}

func TestAdminEventsFiltersAndLimits(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	h.deliver(t, "shop", "tea", "bug-1", "coffee", "bug-2")
	h.deliver(t, "other", "bug-3")
	auth := "Bearer " + adminToken
	cases := []struct {
		query string
		want  string // delivery names, newest first, by status
	}{
		{"", "other:failed shop:failed shop:applied shop:failed shop:applied"},
		{"?source=shop&status=failed", "shop:failed shop:failed"},
		{"?status=applied", "shop:applied shop:applied"},
		{"?source=shop&limit=2", "shop:failed shop:applied"},
		{"?source=nowhere", ""},
	}
	for _, c := range cases {
		status, _, body := h.call(t, http.MethodGet, "/admin/events"+c.query, auth, "")
		if status != http.StatusOK {
			t.Fatalf("events%s: %d %s", c.query, status, body)
		}
		if strings.Contains(body, `"body"`) || strings.Contains(body, "p-tea") {
			t.Errorf("events%s: the answer holds event bodies: %s", c.query, body)
		}
		var got struct {
			Events []struct {
				ID         int64   `json:"id"`
				Source     string  `json:"source"`
				DeliveryID string  `json:"delivery_id"`
				EventType  string  `json:"event_type"`
				ReceivedAt string  `json:"received_at"`
				Status     string  `json:"status"`
				Attempts   int     `json:"attempts"`
				LastError  *string `json:"last_error"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("events%s: %v in %s", c.query, err, body)
		}
		var seen []string
		for _, ev := range got.Events {
			seen = append(seen, ev.Source+":"+ev.Status)
			if ev.ID == 0 || ev.DeliveryID == "" || ev.EventType != "test" || ev.ReceivedAt == "" || ev.Attempts != 1 {
				t.Errorf("events%s: incomplete event %+v", c.query, ev)
			}
			if (ev.Status == "failed") != (ev.LastError != nil) {
				t.Errorf("events%s: event %+v: a failed event has its reason, and only it", c.query, ev)
			}
		}
		if got := strings.Join(seen, " "); got != c.want {
			t.Errorf("events%s: got %q, want %q", c.query, got, c.want)
		}
	}
}

// Bad query values are answered 400 with a message naming the parameter.
func TestAdminListsRejectBadQueries(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	cases := []struct{ path, names string }{
		{"/admin/events?limit=0", "limit"},
		{"/admin/events?limit=501", "limit"},
		{"/admin/events?limit=ten", "limit"},
		{"/admin/events?status=done", "status"},
		{"/admin/events?source=Shop%20One", "source"},
		{"/admin/events?satus=failed", "satus"},
		{"/admin/events?source=shop&source=other", "source"},
		{"/admin/runs?status=finished", "status"},
		{"/admin/runs?entity=Products!", "entity"},
		{"/admin/runs?limit=-1", "limit"},
		{"/admin/runs?order=asc", "order"},
	}
	for _, c := range cases {
		status, _, body := h.call(t, http.MethodGet, c.path, "Bearer "+adminToken, "")
		if status != http.StatusBadRequest || !strings.Contains(body, c.names) {
			t.Errorf("GET %s: got %d %s, want 400 naming %s", c.path, status, body, c.names)
		}
	}
	if status, _, body := h.call(t, http.MethodGet, "/admin/events?limit=500", "Bearer "+adminToken, ""); status != http.StatusOK {
		t.Errorf("limit=500: got %d %s, want 200", status, body)
	}
}

func TestAdminRunsList(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	ctx := t.Context()
	for _, e := range []string{"products", "orders", "products"} {
		if _, err := h.DB.StartRun(ctx, "shop", e, mirrorsync.ModeFull, mirrorsync.TriggerSchedule); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.DB.QueueRun(ctx, "other", "products", mirrorsync.ModeIncremental, mirrorsync.TriggerManual); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ query, want string }{
		{"", "other/products:queued shop/products:running shop/orders:running shop/products:running"},
		{"?source=shop&entity=products", "shop/products:running shop/products:running"},
		{"?status=queued", "other/products:queued"},
		{"?limit=1", "other/products:queued"},
	}
	for _, c := range cases {
		status, _, body := h.call(t, http.MethodGet, "/admin/runs"+c.query, "Bearer "+adminToken, "")
		var got struct {
			Runs []struct {
				Source, Entity, Status string
				StartedAt              *string `json:"started_at"`
				Backfilled             *int    `json:"backfilled"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(body), &got); status != http.StatusOK || err != nil {
			t.Fatalf("runs%s: %d %s", c.query, status, body)
		}
		var seen []string
		for _, r := range got.Runs {
			seen = append(seen, r.Source+"/"+r.Entity+":"+r.Status)
			if (r.Status == "queued") != (r.StartedAt == nil) || r.Backfilled == nil {
				t.Errorf("runs%s: run %+v: started_at is null exactly while queued, and backfilled is there", c.query, r)
			}
		}
		if got := strings.Join(seen, " "); got != c.want {
			t.Errorf("runs%s: got %q, want %q", c.query, got, c.want)
		}
	}
}

// POST /admin/replay puts the matching events back to pending; the workers then apply them
// through the current decoders.
func TestAdminReplay(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	h.deliver(t, "shop", "tea", "bug-1", "bug-2")
	h.deliver(t, "other", "bug-3")
	auth := "Bearer " + adminToken
	bad := []struct{ body, want string }{
		{`{}`, "source"},
		{`{"source":"shop","status":"applied"}`, "status"},
		{`{"source":"shop","since":"yesterday"}`, "since"},
		{`{"source":"shop","limit":3}`, "limit"},
		{`not json`, "body"},
	}
	for _, c := range bad {
		if status, _, body := h.call(t, http.MethodPost, "/admin/replay", auth, c.body); status != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("replay %s: got %d %s, want 400 naming %s", c.body, status, body, c.want)
		}
	}
	if status, _, _ := h.call(t, http.MethodPost, "/admin/replay", auth, `{"source":"nowhere"}`); status != http.StatusNotFound {
		t.Errorf("replay of an unknown source: got %d, want 404", status)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if status, _, body := h.call(t, http.MethodPost, "/admin/replay", auth, `{"source":"shop","since":"`+future+`"}`); status != http.StatusAccepted || body != "{\"queued\":0}\n" {
		t.Errorf("replay since the future: got %d %s, want 202 queued 0", status, body)
	}
	h.fixed.Store(true) // the decoder is fixed; replaying shop's failed events repairs them
	status, _, body := h.call(t, http.MethodPost, "/admin/replay", auth, `{"source":"shop","status":"failed"}`)
	if status != http.StatusAccepted || body != "{\"queued\":2}\n" {
		t.Fatalf("replay: got %d %s, want 202 queued 2", status, body)
	}
	if got := statuses(h.Events()); got != "shop:applied shop:pending shop:pending other:failed" {
		t.Errorf("after the replay: got %s", got)
	}
	h.Drain()
	if got := statuses(h.Events()); got != "shop:applied shop:applied shop:applied other:failed" {
		t.Errorf("after the workers: got %s", got)
	}
	// /admin/events tells the replayed events from the one its delivery alone applied.
	status, _, body = h.call(t, http.MethodGet, "/admin/events?source=shop", auth, "")
	if status != http.StatusOK {
		t.Fatalf("events: %d %s", status, body)
	}
	var listed struct {
		Events []struct {
			DeliveryID string     `json:"delivery_id"`
			Origin     string     `json:"origin"`
			ReplayedAt *time.Time `json:"replayed_at"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &listed); err != nil {
		t.Fatalf("events: %v in %s", err, body)
	}
	var origins []string
	for _, ev := range listed.Events {
		origins = append(origins, ev.Origin)
		if (ev.Origin == "replay") != (ev.ReplayedAt != nil) {
			t.Errorf("event %+v: a replayed event has its replayed_at, and only it", ev)
		}
	}
	if got := strings.Join(origins, " "); got != "replay replay webhook" {
		t.Errorf("origins of shop's events, newest first: got %q, want the two replayed, then the first delivery's (%s)", got, body)
	}
	status, _, body = h.call(t, http.MethodPost, "/admin/replay", auth, `{"source":"shop","status":"all"}`)
	if status != http.StatusAccepted || body != "{\"queued\":3}\n" {
		t.Errorf("replay all: got %d %s, want 202 queued 3", status, body)
	}
}

func statuses(evs []webhookstest.Event) string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Source+":"+ev.Status)
	}
	return strings.Join(out, " ")
}

func TestAdminStatusJSON(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	h.deliver(t, "shop", "tea", "bug-1")
	status, _, body := h.call(t, http.MethodGet, "/admin/status", "Bearer "+adminToken, "")
	if status != http.StatusOK {
		t.Fatalf("status: %d %s", status, body)
	}
	var got struct {
		Version string `json:"version"`
		Sources []struct {
			Name            string            `json:"name"`
			Kind            string            `json:"kind"`
			LastWebhookAt   *time.Time        `json:"last_webhook_at"`
			OldestPendingAt *time.Time        `json:"oldest_pending_at"`
			Events          map[string]int    `json:"events"`
			Entities        []json.RawMessage `json:"entities"`
		} `json:"sources"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "test" || len(got.Sources) != 2 {
		t.Fatalf("status: %s", body)
	}
	other, shop := got.Sources[0], got.Sources[1]
	if shop.Name != "shop" || shop.Kind != "test" || shop.LastWebhookAt == nil || shop.OldestPendingAt != nil ||
		fmt.Sprint(shop.Events) != "map[applied:1 failed:1 ignored:0 pending:0]" || shop.Entities == nil || len(shop.Entities) != 0 {
		t.Errorf("shop: got %+v", shop)
	}
	if other.Name != "other" || other.LastWebhookAt != nil || !strings.Contains(body, `"last_webhook_at":null`) {
		t.Errorf("other, without events: got %+v (last_webhook_at must be null)", other)
	}
}

func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}
