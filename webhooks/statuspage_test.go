package webhooks_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// newPageHarness is the admin harness with entities to reconcile for shop, and passes of
// them: a backfill and a repair yesterday and today, a full pass running now (half of the last
// one's rows), and a failed pass of orders.
func newPageHarness(t *testing.T) *adminHarness {
	t.Helper()
	fixed := &atomic.Bool{}
	h := &adminHarness{webhookstest.New(t, map[string]webhookstest.Source{
		"shop":  fixableSource{testSource{name: "shop", secret: "s3cret"}, fixed},
		"other": fixableSource{testSource{name: "other", secret: "s3cret"}, fixed},
	}, webhookstest.WithAdmin(adminToken, map[string][]string{"shop": {"products", "orders"}})), fixed}
	ctx := context.Background()
	pass := func(entity, mode, status string, edit func(r *mirrorsync.Run)) {
		t.Helper()
		run, err := h.DB.StartRun(ctx, "shop", entity, mode, mirrorsync.TriggerSchedule)
		if err != nil {
			t.Fatal(err)
		}
		run.Status = status
		if status != mirrorsync.RunRunning {
			end := time.Now()
			run.FinishedAt = &end
		}
		edit(&run)
		if err := h.DB.UpdateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	pass("products", mirrorsync.ModeFull, mirrorsync.RunSucceeded, func(r *mirrorsync.Run) { r.Pages, r.Fetched, r.Backfilled = 2, 120, 120 })
	pass("products", mirrorsync.ModeIncremental, mirrorsync.RunSucceeded, func(r *mirrorsync.Run) { r.Pages, r.Fetched, r.Updated = 1, 4, 3 })
	pass("products", mirrorsync.ModeFull, mirrorsync.RunRunning, func(r *mirrorsync.Run) { r.Pages, r.Fetched = 1, 60 })
	pass("orders", mirrorsync.ModeIncremental, mirrorsync.RunFailed, func(r *mirrorsync.Run) {
		msg := "pull orders page 1: the provider answered 503"
		r.Error = &msg
	})
	for days, repairs := range []int{0, 0, 5, 1, 0, 12, 2} {
		if _, err := h.DB.SQL().Exec(`INSERT INTO sync.reconcile_days (source, entity, day, runs, repairs)
			VALUES ('shop', 'products', (now() AT TIME ZONE 'UTC')::date - $1::int, 96, $2)
			ON CONFLICT (source, entity, day) DO UPDATE SET repairs = reconcile_days.repairs + EXCLUDED.repairs`, days+1, repairs); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		t.Fatalf("count %s: %v", sel, err)
	}
	return n
}

func wantText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	if got := text(t, ctx, sel); got != want {
		t.Errorf("%s: got %q, want %q", sel, got, want)
	}
}

// A person signs in (the browser asks, as the 401 invites it to), sees a panel per source with
// its counts, its passes and its failed event, replays the event, and sees it leave the failed
// list and be applied.
func TestStatusPageInABrowser(t *testing.T) {
	t.Parallel()
	h := newPageHarness(t)
	// The browser first: installing and starting Chromium may take a minute on a fresh machine,
	// and the page must then show the webhooks as seconds old.
	ctx, prompts := newBrowser(t, "operator", adminToken)
	h.deliver(t, "shop", "tea", "coffee", "bug-1")
	h.deliver(t, "other", "green")
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(h.Server.URL+"/status"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK || prompts.Load() == 0 {
		t.Fatalf("GET /status: %d after %d sign-in prompts, want 200 after the browser asked", resp.Status, prompts.Load())
	}
	if n := count(t, ctx, "section.source"); n != 2 {
		t.Errorf("%d source panels, want 2", n)
	}
	wantText(t, ctx, "#source-shop [data-count=applied] dd", "2")
	wantText(t, ctx, "#source-shop [data-count=failed] dd", "1")
	wantText(t, ctx, "#source-other [data-count=applied] dd", "1")
	wantText(t, ctx, "[data-total=failed] b", "1")
	if got := text(t, ctx, "#source-shop .failed-events li .reason"); !strings.Contains(got, "decoder bug") {
		t.Errorf("shop's failed event reason: got %q", got)
	}
	if got := text(t, ctx, "#source-shop [data-last-webhook]"); !strings.HasSuffix(got, "s ago") {
		t.Errorf("shop's last webhook: got %q, want seconds ago", got)
	}
	if n := count(t, ctx, "#source-shop [data-entity=products] .progress[aria-valuenow='50']"); n != 1 {
		t.Errorf("products' running pass: %d progress bars at 50%%, want 1", n)
	}
	if got := text(t, ctx, "#source-shop [data-entity=orders] .error"); !strings.Contains(got, "503") {
		t.Errorf("orders' failed pass: got %q", got)
	}
	if got := text(t, ctx, "#source-shop .health"); !strings.Contains(got, "orders pass failed") || !strings.Contains(got, "1 failed event") {
		t.Errorf("shop's health: got %q", got)
	}
	if n := count(t, ctx, "#source-shop .chart rect.repair"); n < 4 {
		t.Errorf("shop's chart: %d repair bars, want a bar for each day with repairs", n)
	}
	screenshot(t, ctx, "status-1600.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth")); err != nil || wide {
		t.Errorf("at phone width the page scrolls sideways (%v)", err)
	}
	screenshot(t, ctx, "status-phone.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1600, 1000)); err != nil {
		t.Fatal(err)
	}

	h.fixed.Store(true) // the decoder is fixed: the replay will apply the event
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#source-shop .failed-events li button")), chromedp.WaitVisible(chromedp.CSS(".flash"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, ".flash"); !strings.HasPrefix(got, "1 event of shop queued for replay") {
		t.Errorf("after the click: flash %q", got)
	}
	wantText(t, ctx, "#source-shop [data-count=failed] dd", "0")
	wantText(t, ctx, "#source-shop [data-count=pending] dd", "1")
	if n := count(t, ctx, "#source-shop .failed-events"); n != 0 {
		t.Errorf("after the replay, shop still lists %d failed events", n)
	}
	h.Drain()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	wantText(t, ctx, "#source-shop [data-count=applied] dd", "3")
	wantText(t, ctx, "#source-shop [data-count=pending] dd", "0")
}

// The page's own authentication: Bearer, or Basic with any user and the token as password.
func TestStatusPageAuth(t *testing.T) {
	t.Parallel()
	off := newAdminHarness(t, "")
	on := newAdminHarness(t, adminToken)
	cases := []struct {
		name string
		h    *adminHarness
		auth string
		want int
	}{
		{"no token configured", off, "Basic " + basic("x", adminToken), http.StatusNotFound},
		{"none sent", on, "", http.StatusUnauthorized},
		{"wrong password", on, "Basic " + basic("operator", "wrong-token-0123456789abc"), http.StatusUnauthorized},
		{"token as the user name", on, "Basic " + basic(adminToken, ""), http.StatusUnauthorized},
		{"wrong bearer", on, "Bearer wrong-token-0123456789abc", http.StatusUnauthorized},
		{"basic, any user", on, "Basic " + basic("anyone", adminToken), http.StatusOK},
		{"basic, no user", on, "Basic " + basic("", adminToken), http.StatusOK},
		{"bearer", on, "Bearer " + adminToken, http.StatusOK},
	}
	for _, c := range cases {
		status, header, body := c.h.call(t, http.MethodGet, "/status", c.auth, "")
		if status != c.want {
			t.Errorf("%s: got %d, want %d", c.name, status, c.want)
		}
		if status == http.StatusUnauthorized && !strings.HasPrefix(header.Get("WWW-Authenticate"), `Basic realm="storemirror"`) {
			t.Errorf("%s: WWW-Authenticate %q, want Basic realm=\"storemirror\"", c.name, header.Get("WWW-Authenticate"))
		}
		if status == http.StatusOK && (!strings.Contains(header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<main")) {
			t.Errorf("%s: not the page: %s %.200s", c.name, header.Get("Content-Type"), body)
		}
		if strings.Contains(body, "http://") && strings.Contains(body, "<link") || strings.Contains(body, "<script src") {
			t.Errorf("%s: the page loads an asset from outside the binary", c.name)
		}
	}
	if status, _, _ := on.call(t, http.MethodPost, "/status/replay", "", "source=shop"); status != http.StatusUnauthorized {
		t.Errorf("replay form without credentials: got %d, want 401", status)
	}
}

// A replay form must come from the page: a browser sends its cached credentials with a form
// posted from any site, and that must change nothing.
func TestStatusReplayNeedsThePagesFormToken(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	h.deliver(t, "shop", "bug-1")
	post := func(form url.Values) int {
		req, err := http.NewRequest(http.MethodPost, h.Server.URL+"/status/replay", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("operator", adminToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := post(url.Values{"source": {"shop"}}); status != http.StatusForbidden {
		t.Errorf("without the form token: got %d, want 403", status)
	}
	if status := post(url.Values{"source": {"shop"}, "form_token": {"0123"}}); status != http.StatusForbidden {
		t.Errorf("with a wrong form token: got %d, want 403", status)
	}
	if got := statuses(h.Events()); got != "shop:failed" {
		t.Errorf("after the refused forms: got %s, want the event still failed", got)
	}
	_, _, page := h.call(t, http.MethodGet, "/status", "Bearer "+adminToken, "")
	i := strings.Index(page, `name="form_token" value="`)
	if i < 0 {
		t.Fatal("the page has no form token")
	}
	token := page[i+len(`name="form_token" value="`):]
	token = token[:strings.IndexByte(token, '"')]
	if status := post(url.Values{"source": {"nowhere"}, "form_token": {token}}); status != http.StatusNotFound {
		t.Errorf("an unknown source: got %d, want 404", status)
	}
	if status := post(url.Values{"source": {"shop"}, "form_token": {token}}); status != http.StatusSeeOther {
		t.Errorf("the page's form: got %d, want 303 back to the page", status)
	}
	if got := statuses(h.Events()); got != "shop:pending" {
		t.Errorf("after the page's form: got %s, want pending", got)
	}
}

// A browser that takes gzip gets the page gzipped; a client that does not, plain.
func TestStatusPageGzip(t *testing.T) {
	t.Parallel()
	h := newAdminHarness(t, adminToken)
	for _, gz := range []bool{false, true} {
		req, err := http.NewRequest(http.MethodGet, h.Server.URL+"/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = resp.Body
		if gz {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatalf("gzip: %v (Content-Encoding %q)", err, resp.Header.Get("Content-Encoding"))
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		resp.Body.Close()
		if err != nil || !strings.Contains(string(b), "</html>") || (resp.Header.Get("Content-Encoding") == "gzip") != gz {
			t.Errorf("gzip %v: %v, Content-Encoding %q, %.100s", gz, err, resp.Header.Get("Content-Encoding"), b)
		}
	}
}
