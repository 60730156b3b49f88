package backinstock_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const demand = "stock_demand"

type reportRig struct {
	fake *fakeReport
	db   *store.DB
	r    *mirrorsync.Reconciler
}

// newReportRig wires the real reconciler and store to a fake Reports API; the puller asks for
// perPage rows a page.
func newReportRig(t *testing.T, fake *fakeReport, perPage int) *reportRig {
	t.Helper()
	return newReportRigWith(t, fake, providerapi.Options{Username: reportToken}, perPage)
}

func newReportRigWith(t *testing.T, fake *fakeReport, o providerapi.Options, perPage int) *reportRig {
	t.Helper()
	srv := startReport(t, fake)
	o.Source, o.BaseURL, o.RequestsPerSecond = "bis", srv.URL, 1000
	o.Timeout, o.Retries, o.Backoff, o.MaxBackoff = 5*time.Second, 3, 10*time.Millisecond, 50*time.Millisecond
	p, err := backinstock.NewPuller(o, perPage)
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.NewDB(t)
	return &reportRig{fake: fake, db: db, r: webhookstest.Reconciler(db, mirrorsync.ReconcileSource{Name: "bis", Puller: p, Overlap: 10 * time.Minute})}
}

func (g *reportRig) pass(t *testing.T, mode string) (mirrorsync.Run, error) {
	t.Helper()
	return g.r.RunOnce(context.Background(), "bis", demand, mirrorsync.PassOptions{Mode: mode, Trigger: mirrorsync.TriggerManual})
}

func (g *reportRig) mustPass(t *testing.T, mode string) mirrorsync.Run {
	t.Helper()
	run, err := g.pass(t, mode)
	if err != nil {
		t.Fatalf("%s pass: %v", mode, err)
	}
	return run
}

// counts renders a run's counts for comparison.
func counts(run mirrorsync.Run) string {
	return fmt.Sprintf("%s pages=%d fetched=%d created=%d updated=%d deleted=%d unchanged=%d backfilled=%d",
		run.Status, run.Pages, run.Fetched, run.Created, run.Updated, run.Deleted, run.Unchanged, run.Backfilled)
}

func checkCounts(t *testing.T, what string, run mirrorsync.Run, want string) {
	t.Helper()
	if got := counts(run); got != want {
		t.Errorf("%s: run %s, want %s", what, got, want)
	}
}

func scalar[T any](t *testing.T, db *store.DB, query string, args ...any) T {
	t.Helper()
	var v T
	if err := db.SQL().Get(&v, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// demandRow renders the mirror.stock_demand row of variant no, every column but the
// bookkeeping ones (raw is compared with want's JSON as jsonb).
func demandRow(t *testing.T, db *store.DB, no int64, rawWant string) string {
	t.Helper()
	var r struct {
		StoreID, Origin                   string
		ProductID, SKU, Description, Unit *string
		Count, Sent, Unsent               *int64
		LastAdded, DeletedAt              *time.Time
		RawSame                           bool
	}
	err := db.SQL().QueryRow(`SELECT store_id, origin, product_external_id, sku, description, unit_price::text,
		notifications_count, sent_notifications_count, unsent_notifications_count, notification_last_added_at, deleted_at,
		raw = $3::jsonb
		FROM mirror.stock_demand WHERE source = $1 AND external_id = $2`, "bis", fmt.Sprint(no), rawWant).Scan(
		&r.StoreID, &r.Origin, &r.ProductID, &r.SKU, &r.Description, &r.Unit,
		&r.Count, &r.Sent, &r.Unsent, &r.LastAdded, &r.DeletedAt, &r.RawSame)
	if err != nil {
		t.Fatalf("read stock_demand %d: %v", no, err)
	}
	if r.Unit != nil {
		// By value: 19.90 and 19.9 are one price (the store writes numerics without trailing zeros).
		u := decimal.RequireFromString(*r.Unit).String()
		r.Unit = &u
	}
	return fmt.Sprintf("store=%q origin=%s product=%s sku=%s description=%s unit_price=%s counts=%s/%s/%s last_added=%s deleted=%s raw_as_sent=%t",
		r.StoreID, r.Origin, text(r.ProductID), text(r.SKU), text(r.Description), text(r.Unit),
		text(r.Count), text(r.Sent), text(r.Unsent), text(r.LastAdded), text(r.DeletedAt), r.RawSame)
}

func text[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	if tm, ok := any(*p).(time.Time); ok {
		return tm.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%q", fmt.Sprint(*p))
}

// wantRow is what demandRow must render for a variant of the report.
func wantRow(v fakeVariant) string {
	str := func(j string) string {
		if j == "null" {
			return "NULL"
		}
		return fmt.Sprintf("%q", strings.Trim(j, `"`))
	}
	price := "NULL"
	if v.Price != "null" {
		price = fmt.Sprintf("%q", decimal.RequireFromString(strings.Trim(v.Price, `"`)).String())
	}
	return fmt.Sprintf("store=%q origin=reconcile product=%q sku=%s description=%s unit_price=%s counts=%q/%q/%q last_added=%s deleted=NULL raw_as_sent=true",
		"", fmt.Sprint(v.ProductID), str(v.SKU), str(v.Description), price,
		fmt.Sprint(v.Count), fmt.Sprint(v.Sent), fmt.Sprint(v.Unsent), v.LastAddedAt.Format(time.RFC3339Nano))
}

func checkRows(t *testing.T, g *reportRig) {
	t.Helper()
	g.fake.Mu.Lock()
	vs := slices.Clone(g.fake.Variants)
	g.fake.Mu.Unlock()
	for _, v := range vs {
		if got, want := demandRow(t, g.db, v.No, v.JSON()), wantRow(v); got != want {
			t.Errorf("variant %d:\n got %s\nwant %s", v.No, got, want)
		}
	}
}

func TestReportOfSeveralPagesConverges(t *testing.T) {
	t.Parallel()
	g := newReportRig(t, &fakeReport{Token: reportToken, Variants: newVariants(12)}, 5)
	before := time.Now().Truncate(time.Microsecond)
	run := g.mustPass(t, mirrorsync.ModeFull)
	after := time.Now()
	checkCounts(t, "first pass", run, "succeeded pages=3 fetched=12 created=0 updated=0 deleted=0 unchanged=0 backfilled=12")
	checkRows(t, g)
	if n := scalar[int](t, g.db, `SELECT count(*) FROM mirror.stock_demand`); n != 12 {
		t.Errorf("%d rows, want 12", n)
	}
	// The report has no row version: each row is versioned at its page's fetch.
	stamps := scalar[int](t, g.db, `SELECT count(DISTINCT source_updated_at) FROM mirror.stock_demand
		WHERE source_updated_at BETWEEN $1 AND $2`, before, after)
	if stamps != 3 {
		t.Errorf("%d distinct fetch times within the pass, want 3 (one per page)", stamps)
	}
	want := []string{
		"page=1 per_page=5 sort=notification_last_added_at order=desc",
		"page=2 per_page=5 sort=notification_last_added_at order=desc",
		"page=3 per_page=5 sort=notification_last_added_at order=desc",
	}
	if got := g.fake.Queries(0); !slices.Equal(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	// Nothing changed upstream: a second pass changes nothing.
	run = g.mustPass(t, mirrorsync.ModeFull)
	checkCounts(t, "second pass", run, "succeeded pages=3 fetched=12 created=0 updated=0 deleted=0 unchanged=12 backfilled=0")
	checkRows(t, g)
}

// A page shorter than asked ends the report only when an earlier page was longer: the server
// may cap per_page.
func TestReportEnd(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name                 string
		variants, maxPerPage int
		wantPages, wantAsked int
	}{
		{"fits one page", 3, 0, 1, 2},
		{"empty", 0, 0, 0, 1},
		{"exact pages", 10, 0, 2, 3},
		{"short last page", 11, 0, 3, 3},
		{"server caps per_page", 5, 2, 3, 3},
		{"server caps per_page, exact pages", 4, 2, 2, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newReportRig(t, &fakeReport{Token: reportToken, Variants: newVariants(c.variants), MaxPerPage: c.maxPerPage}, 5)
			run := g.mustPass(t, mirrorsync.ModeFull)
			checkCounts(t, "pass", run, fmt.Sprintf("succeeded pages=%d fetched=%d created=0 updated=0 deleted=0 unchanged=0 backfilled=%d",
				c.wantPages, c.variants, c.variants))
			if n := g.fake.SeenCount(); n != c.wantAsked {
				t.Errorf("%d requests, want %d: %q", n, c.wantAsked, g.fake.Queries(0))
			}
			checkRows(t, g)
		})
	}
}

func TestCountChangedUpstreamIsRepaired(t *testing.T) {
	t.Parallel()
	g := newReportRig(t, &fakeReport{Token: reportToken, Variants: newVariants(7)}, 3)
	g.mustPass(t, mirrorsync.ModeFull)
	// Two notifications of the oldest variant are sent: its counts change, but not
	// notification_last_added_at, so the variant stays on the last page.
	g.fake.Update(7, func(v *fakeVariant) { v.Sent += 2; v.Unsent -= 2 })
	from := g.fake.SeenCount()
	run := g.mustPass(t, mirrorsync.ModeIncremental)
	checkCounts(t, "incremental pass", run, "succeeded pages=3 fetched=7 created=0 updated=1 deleted=0 unchanged=6 backfilled=0")
	if n := g.fake.SeenCount() - from; n != 3 {
		t.Errorf("the incremental pass made %d requests, want 3 (the whole report)", n)
	}
	checkRows(t, g)
	if got := demandRow(t, g.db, variantNo(7), g.fake.Variants[6].JSON()); !strings.Contains(got, `counts="9"/"3"/"6"`) {
		t.Errorf("variant 7 = %s, want counts 9/3/6", got)
	}
	stored, err := g.r.Run(context.Background(), run.ID)
	if err != nil || stored.Updated != 1 || stored.Status != "succeeded" {
		t.Errorf("stored run = %+v (%v), want succeeded with 1 updated", stored, err)
	}
}

func TestVanishedVariantDeletedAfterSecondFullPass(t *testing.T) {
	t.Parallel()
	g := newReportRig(t, &fakeReport{Token: reportToken, Variants: newVariants(4)}, 2)
	g.mustPass(t, mirrorsync.ModeFull)
	saved := g.fake.Variants[1]
	g.fake.Remove(2)
	first := g.mustPass(t, mirrorsync.ModeFull)
	checkCounts(t, "first full pass without variant 2", first, "succeeded pages=2 fetched=3 created=0 updated=0 deleted=0 unchanged=3 backfilled=0")
	// An incremental pass in between does not count as a listing.
	g.mustPass(t, mirrorsync.ModeIncremental)
	if n := scalar[int](t, g.db, `SELECT count(*) FROM mirror.stock_demand WHERE deleted_at IS NOT NULL`); n != 0 {
		t.Fatalf("%d rows deleted before the second full pass", n)
	}
	second := g.mustPass(t, mirrorsync.ModeFull)
	checkCounts(t, "second full pass without variant 2", second, "succeeded pages=2 fetched=3 created=0 updated=0 deleted=1 unchanged=3 backfilled=0")
	deletedAt := scalar[time.Time](t, g.db, `SELECT deleted_at FROM mirror.stock_demand WHERE external_id = $1`, fmt.Sprint(variantNo(2)))
	if !deletedAt.Equal(*first.StartedAt) {
		t.Errorf("deleted_at = %v, want the start of the first pass that missed it (%v)", deletedAt, first.StartedAt)
	}
	if n := scalar[int](t, g.db, `SELECT count(*) FROM mirror.stock_demand WHERE deleted_at IS NULL`); n != 3 {
		t.Errorf("%d live rows, want 3", n)
	}
	// A new notification for the variant: it is back in the report, and revived.
	g.fake.Mu.Lock()
	g.fake.Variants = append(g.fake.Variants, saved)
	g.fake.Mu.Unlock()
	run := g.mustPass(t, mirrorsync.ModeIncremental)
	checkCounts(t, "pass with variant 2 back", run, "succeeded pages=2 fetched=4 created=0 updated=1 deleted=0 unchanged=3 backfilled=0")
	checkRows(t, g)
}

func TestRateLimitedReportBacksOffAndSucceeds(t *testing.T) {
	t.Parallel()
	fake := &fakeReport{Token: reportToken, Variants: newVariants(3)}
	fake.Fail = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if n <= 2 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return true
		}
		return false
	}
	g := newReportRig(t, fake, 2)
	run := g.mustPass(t, mirrorsync.ModeFull)
	checkCounts(t, "pass", run, "succeeded pages=2 fetched=3 created=0 updated=0 deleted=0 unchanged=0 backfilled=3")
	want := []string{
		"page=1 per_page=2 sort=notification_last_added_at order=desc",
		"page=1 per_page=2 sort=notification_last_added_at order=desc",
		"page=1 per_page=2 sort=notification_last_added_at order=desc",
		"page=2 per_page=2 sort=notification_last_added_at order=desc",
	}
	if got := fake.Queries(0); !slices.Equal(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	checkRows(t, g)
}

func TestFailedReportPassDeletesNothing(t *testing.T) {
	t.Parallel()
	fake := &fakeReport{Token: reportToken, Variants: newVariants(3)}
	g := newReportRig(t, fake, 1)
	g.mustPass(t, mirrorsync.ModeFull)
	fake.Remove(3)
	g.mustPass(t, mirrorsync.ModeFull) // the first miss of variant 3
	fake.Fail = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("page") == "2" {
			http.Error(w, "upstream exploded", http.StatusBadGateway)
			return true
		}
		return false
	}
	run, err := g.pass(t, mirrorsync.ModeFull)
	if err == nil || run.Status != "failed" || run.Error == nil {
		t.Fatalf("run = %+v, err %v; want failed with its error", run, err)
	}
	const want = "bis: GET /api/variants: 502 Bad Gateway: upstream exploded"
	if *run.Error != want {
		t.Errorf("error %q, want %q", *run.Error, want)
	}
	stored, err := g.r.Run(context.Background(), run.ID)
	if err != nil || stored.Status != "failed" || stored.FinishedAt == nil || stored.Error == nil || *stored.Error != want {
		t.Errorf("stored run = %+v (%v), want failed and finished with its error", stored, err)
	}
	if n := scalar[int](t, g.db, `SELECT count(*) FROM mirror.stock_demand WHERE deleted_at IS NOT NULL`); n != 0 {
		t.Errorf("a failed pass deleted %d rows", n)
	}
	if n := scalar[int](t, g.db, `SELECT count(*) FROM sync.reconcile_seen`); n != 0 {
		t.Errorf("the failed pass left %d scratch rows", n)
	}
	// The failed pass was no listing: the next complete one is the second consecutive miss.
	fake.Fail = nil
	run = g.mustPass(t, mirrorsync.ModeFull)
	checkCounts(t, "complete pass after the failure", run, "succeeded pages=2 fetched=2 created=0 updated=0 deleted=1 unchanged=2 backfilled=0")
}

func TestReportCredentials(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		o       providerapi.Options
		wantErr string // the run's error, "" for success
	}{
		{"token as username", providerapi.Options{Username: reportToken}, ""},
		{"token given as token", providerapi.Options{Token: reportToken}, ""},
		{"wrong token", providerapi.Options{Username: "stale"}, `bis: GET /api/variants: 401 Unauthorized: {"error":"unauthorized"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newReportRigWith(t, &fakeReport{Token: reportToken, Variants: newVariants(2)}, c.o, 5)
			run, err := g.pass(t, mirrorsync.ModeFull)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("pass: %v", err)
			case c.wantErr == "":
				checkCounts(t, "pass", run, "succeeded pages=1 fetched=2 created=0 updated=0 deleted=0 unchanged=0 backfilled=2")
			case err == nil || run.Error == nil || *run.Error != c.wantErr:
				t.Errorf("run %+v, err %v; want the error %q", run, err, c.wantErr)
			}
		})
	}
	for _, o := range []providerapi.Options{
		{Source: "bis", BaseURL: "http://127.0.0.1:1"},
		{Source: "bis", BaseURL: "http://127.0.0.1:1", Username: reportToken, Password: "secret"},
		{Source: "bis", BaseURL: "http://127.0.0.1:1", Username: reportToken, Token: reportToken},
	} {
		if _, err := backinstock.NewPuller(o, 0); err == nil || !strings.HasPrefix(err.Error(), "bis: api.") {
			t.Errorf("NewPuller(%+v) = %v, want an error about the token", o, err)
		}
	}
}

// A server that ignores page would answer page 1 for ever: the pass stops and fails.
func TestReportIgnoringPageFails(t *testing.T) {
	t.Parallel()
	g := newReportRig(t, &fakeReport{Token: reportToken, Variants: newVariants(4), IgnorePage: true}, 2)
	// Bounded, so that a puller paging for ever fails this test rather than hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := g.r.RunOnce(ctx, "bis", demand, mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual})
	const want = "bis: GET /api/variants page 2: same variants as page 1 (is page ignored?)"
	if err == nil || run.Error == nil || *run.Error != want {
		t.Errorf("run %+v, err %v; want the error %q", run, err, want)
	}
	if n := g.fake.SeenCount(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
