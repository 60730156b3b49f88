package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// decodeByBody decodes a test delivery by its body: "ignore", "fail", or a media URL.
func decodeByBody(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
	switch string(ev.Body) {
	case "ignore":
		return nil, mirrorsync.Ignore("not mirrored")
	case "fail":
		return nil, errors.New("undecodable")
	}
	return []mirrorsync.Change{{Key: mirrorsync.Key{ExternalID: ev.DeliveryID}, Version: mirrorsync.Version{At: t0},
		Entity: &mirrorsync.Media{URL: mirrorsync.Some("https://x/" + string(ev.Body))}}}, nil
}

// deliver stores one delivery per body for source, with ids source-1, source-2...
func deliver(t *testing.T, db *store.DB, source string, bodies ...string) {
	t.Helper()
	var ds []mirrorsync.Delivery
	for i, b := range bodies {
		ds = append(ds, mirrorsync.Delivery{Source: source, ID: fmt.Sprintf("%s-%d-%d", source, time.Now().UnixNano(), i), Type: "t", Body: []byte(b)})
	}
	if _, err := db.InsertEvents(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
}

func drain(t *testing.T, db *store.DB) {
	t.Helper()
	policy := mirrorsync.RetryPolicy{MaxAttempts: 1, Backoff: mirrorsync.Backoff}
	for {
		b, err := db.ApplyPending(context.Background(), 100, mirrorsync.InboxRules{Decoder: mirrorsync.DecodeFunc(decodeByBody), Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Outcomes) == 0 {
			return
		}
	}
}

// trueCounts counts the inbox itself, which the status never does: the counters must agree.
func trueCounts(t *testing.T, db *store.DB) map[string]mirrorsync.EventCounts {
	t.Helper()
	var rows []struct {
		Source string `db:"source"`
		Status string `db:"status"`
		N      int64  `db:"n"`
	}
	if err := db.SQL().Select(&rows, `SELECT source, status, count(*) AS n FROM sync.webhook_events GROUP BY 1, 2`); err != nil {
		t.Fatal(err)
	}
	out := map[string]mirrorsync.EventCounts{}
	for _, r := range rows {
		c := out[r.Source]
		switch r.Status {
		case "pending":
			c.Pending = r.N
		case "applied":
			c.Applied = r.N
		case "ignored":
			c.Ignored = r.N
		case "failed":
			c.Failed = r.N
		}
		out[r.Source] = c
	}
	return out
}

func checkCounts(t *testing.T, db *store.DB, when string, want map[string]mirrorsync.EventCounts) {
	t.Helper()
	got, err := db.InboxCounts(context.Background(), []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: counts got %v, want %v", when, got, want)
	}
	if truth := trueCounts(t, db); fmt.Sprint(got) != fmt.Sprint(truth) {
		t.Errorf("%s: counts got %v, but the inbox holds %v", when, got, truth)
	}
}

// The inbox counts follow every insert, status change and prune, before and after compaction.
func TestInboxCountsFollowTheInbox(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	deliver(t, db, "a", "m1", "m2", "ignore", "fail")
	deliver(t, db, "b", "m3")
	if _, err := db.InsertEvents(ctx, []mirrorsync.Delivery{{Source: "b", ID: "bad", Body: []byte("{}"), Invalid: errors.New("no order")}}); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, db, "stored", map[string]mirrorsync.EventCounts{"a": {Pending: 4}, "b": {Pending: 1, Failed: 1}})
	drain(t, db)
	checkCounts(t, db, "applied", map[string]mirrorsync.EventCounts{"a": {Applied: 2, Ignored: 1, Failed: 1}, "b": {Applied: 1, Failed: 1}})
	if err := db.CompactInboxCounts(ctx); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.SQL().Get(&rows, `SELECT count(*) FROM sync.inbox_counts`); err != nil {
		t.Fatal(err)
	}
	if rows != 5 {
		t.Errorf("%d counter rows after compaction, want 5 (one per source and status)", rows)
	}
	checkCounts(t, db, "compacted", map[string]mirrorsync.EventCounts{"a": {Applied: 2, Ignored: 1, Failed: 1}, "b": {Applied: 1, Failed: 1}})
	n, err := db.RequeueEvents(ctx, mirrorsync.Requeue{Source: "a"})
	if err != nil || n != 1 {
		t.Fatalf("requeue a's failed events: %d, %v; want 1", n, err)
	}
	checkCounts(t, db, "requeued", map[string]mirrorsync.EventCounts{"a": {Pending: 1, Applied: 2, Ignored: 1}, "b": {Applied: 1, Failed: 1}})
	if _, err := db.PruneEvents(ctx, time.Now().Add(time.Hour), 100); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, db, "pruned", map[string]mirrorsync.EventCounts{"a": {Pending: 1}, "b": {Failed: 1}})
}

// Replay by API: failed events (or all but pending ones) of one source, since a time, or one
// event, go back to pending with fresh attempts, in batches; the others stay as they are.
func TestRequeueEvents(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	bodies := make([]string, 2500) // more than one batch
	for i := range bodies {
		bodies[i] = "fail"
	}
	deliver(t, db, "a", bodies...)
	deliver(t, db, "a", "m1", "ignore")
	deliver(t, db, "b", "fail")
	drain(t, db)
	cases := []struct {
		name string
		req  mirrorsync.Requeue
		want int64
	}{
		{"failed of a", mirrorsync.Requeue{Source: "a"}, 2500},
		{"again: they are pending now", mirrorsync.Requeue{Source: "a"}, 0},
		{"all of a: the pending ones stay", mirrorsync.Requeue{Source: "a", All: true}, 2},
		{"since the future", mirrorsync.Requeue{Source: "b", Since: time.Now().Add(time.Hour)}, 0},
		{"unknown source", mirrorsync.Requeue{Source: "c", All: true}, 0},
	}
	for _, c := range cases {
		n, err := db.RequeueEvents(ctx, c.req)
		if err != nil || n != c.want {
			t.Errorf("%s: requeued %d (%v), want %d", c.name, n, err, c.want)
		}
	}
	var attempts, pending int
	if err := db.SQL().QueryRow(`SELECT coalesce(max(attempts), 0), count(*) FROM sync.webhook_events WHERE source = 'a' AND status = 'pending' AND due_at <= now()`).Scan(&attempts, &pending); err != nil {
		t.Fatal(err)
	}
	if attempts != 0 || pending != 2502 {
		t.Errorf("a: %d pending due (max attempts %d), want 2502 with attempts 0", pending, attempts)
	}
	var bID int64
	if err := db.SQL().Get(&bID, `SELECT id FROM sync.webhook_events WHERE source = 'b'`); err != nil {
		t.Fatal(err)
	}
	if n, err := db.RequeueEvents(ctx, mirrorsync.Requeue{Source: "a", ID: bID}); err != nil || n != 0 {
		t.Errorf("b's event asked for as a's: requeued %d (%v), want 0", n, err)
	}
	if n, err := db.RequeueEvents(ctx, mirrorsync.Requeue{Source: "b", ID: bID}); err != nil || n != 1 {
		t.Errorf("b's event: requeued %d (%v), want 1", n, err)
	}
}

func TestListEventsAndRuns(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	deliver(t, db, "a", "m1", "fail", "m2")
	deliver(t, db, "b", "fail")
	drain(t, db)
	evs, err := db.ListEvents(ctx, mirrorsync.EventFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 || evs[0].Source != "b" || evs[len(evs)-1].Source != "a" {
		t.Errorf("all events: got %+v, want 4, newest (b's) first", evs)
	}
	evs, err = db.ListEvents(ctx, mirrorsync.EventFilter{Source: "a", Status: "failed", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].LastError == nil || *evs[0].LastError != "undecodable" || evs[0].Attempts != 1 {
		t.Errorf("a's failed events: got %+v, want one, undecodable", evs)
	}
	if evs, err := db.ListEvents(ctx, mirrorsync.EventFilter{Source: "a", Limit: 2}); err != nil || len(evs) != 2 || evs[0].ID < evs[1].ID {
		t.Errorf("a's events, limit 2: got %+v (%v), want the 2 newest, newest first", evs, err)
	}

	for _, e := range []string{"products", "orders", "products"} {
		if _, err := db.StartRun(ctx, "a", e, mirrorsync.ModeFull, mirrorsync.TriggerManual); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.QueueRun(ctx, "b", "products", mirrorsync.ModeFull, mirrorsync.TriggerManual); err != nil {
		t.Fatal(err)
	}
	runCases := []struct {
		f    mirrorsync.RunFilter
		want string
	}{
		{mirrorsync.RunFilter{Limit: 10}, "[4 3 2 1]"},
		{mirrorsync.RunFilter{Limit: 2}, "[4 3]"},
		{mirrorsync.RunFilter{Source: "a", Entity: "products", Limit: 10}, "[3 1]"},
		{mirrorsync.RunFilter{Status: "queued", Limit: 10}, "[4]"},
		{mirrorsync.RunFilter{Source: "c", Limit: 10}, "[]"},
	}
	for _, c := range runCases {
		runs, err := db.ListRuns(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		if got := fmt.Sprint(ids); got != c.want {
			t.Errorf("runs %+v: got %s, want %s", c.f, got, c.want)
		}
	}
}

func TestSourceStatuses(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	deliver(t, db, "a", "m1", "fail", "ignore")
	drain(t, db)
	deliver(t, db, "a", "m2") // pending
	if _, err := db.SQL().Exec(`INSERT INTO sync.refetch (source, entity, store_id, external_id, reason) VALUES ('a', 'products', '', 'p1', 'drift: name')`); err != nil {
		t.Fatal(err)
	}
	full, err := db.StartRun(ctx, "a", "products", mirrorsync.ModeFull, mirrorsync.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC()
	full.Status, full.FinishedAt, full.Fetched, full.Updated, full.Backfilled = mirrorsync.RunSucceeded, &end, 40, 3, 7
	if err := db.UpdateRun(ctx, full); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRun(ctx, full); err != nil { // a second final update counts the day once
		t.Fatal(err)
	}
	queued, err := db.QueueRun(ctx, "a", "products", mirrorsync.ModeIncremental, mirrorsync.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	sources := []mirrorsync.StatusSource{{Name: "a", Kind: "bamboo", Entities: []string{"products", "orders"}}, {Name: "b", Kind: "canonical"}}
	got, err := db.SourceStatuses(ctx, sources, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" || got[1].Kind != "canonical" {
		t.Fatalf("got %+v, want a then b", got)
	}
	a, b := got[0], got[1]
	if want := (mirrorsync.EventCounts{Pending: 1, Applied: 1, Ignored: 1, Failed: 1}); a.Events != want {
		t.Errorf("a's events: got %+v, want %+v", a.Events, want)
	}
	if a.LastWebhookAt == nil || a.OldestPendingAt == nil || !a.OldestPendingAt.Equal(*a.LastWebhookAt) {
		t.Errorf("a's times: last webhook %v, oldest pending %v; want both the pending m2's", a.LastWebhookAt, a.OldestPendingAt)
	}
	if len(a.LatestFailed) != 1 || a.LatestFailed[0].LastError == nil || *a.LatestFailed[0].LastError != "undecodable" {
		t.Errorf("a's failed events: got %+v", a.LatestFailed)
	}
	if a.Drift != 1 {
		t.Errorf("a's drift: got %d, want 1", a.Drift)
	}
	products, orders := a.Entities[0], a.Entities[1]
	if products.LastRun == nil || products.LastRun.ID != queued.ID || len(products.RecentRuns) != 2 || products.RecentRuns[1].ID != full.ID {
		t.Errorf("products' runs: last %+v, recent %+v; want the queued run, then the full one", products.LastRun, products.RecentRuns)
	}
	if products.LastSuccessAt == nil || products.LastSuccessAt.Sub(end).Abs() > time.Millisecond || products.ExpectedRows["full"] != 40 {
		t.Errorf("products: last success %v, expected %v; want %v and full 40", products.LastSuccessAt, products.ExpectedRows, end)
	}
	if orders.LastRun != nil || orders.LastSuccessAt != nil || len(orders.RecentRuns) != 0 {
		t.Errorf("orders, never run: got %+v", orders)
	}
	if n := len(a.RepairsByDay); n != mirrorsync.StatusDays {
		t.Fatalf("a's days: %d, want %d", n, mirrorsync.StatusDays)
	}
	today := a.RepairsByDay[mirrorsync.StatusDays-1]
	if want := (mirrorsync.DayRepairs{Day: end.Format(time.DateOnly), Runs: 1, Repairs: 3, Backfilled: 7}); today != want {
		t.Errorf("a's today: got %+v, want %+v", today, want)
	}
	if b.LastWebhookAt != nil || b.Events != (mirrorsync.EventCounts{}) || len(b.Entities) != 0 || len(b.LatestFailed) != 0 {
		t.Errorf("b, without events: got %+v", b)
	}
}

// transient handles events as InboxRules do, except that its decoding errors are worth a retry,
// as a passing trouble while applying would be.
type transient struct{ mirrorsync.InboxRules }

func (transient) Decode(ev mirrorsync.Event) ([]mirrorsync.Change, error) { return decodeByBody(ev) }

// Of a source's failed events, those due for another try are told apart from those failed for
// good (out of attempts, or refused), in the same read as the counts.
func TestRetryingFailedEvents(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	deliver(t, db, "a", "fail", "m1")
	drain(t, db) // one attempt allowed: a's first event fails for good
	deliver(t, db, "a", "fail", "fail")
	deliver(t, db, "b", "fail")
	retry := transient{mirrorsync.InboxRules{Policy: mirrorsync.RetryPolicy{MaxAttempts: 3, Backoff: mirrorsync.Backoff}}}
	if b, err := db.ApplyPending(ctx, 100, retry); err != nil || len(b.Outcomes) != 3 {
		t.Fatalf("apply: %d outcomes, %v; want 3", len(b.Outcomes), err)
	}
	got, err := db.SourceGauges(ctx, []mirrorsync.StatusSource{{Name: "a"}, {Name: "b"}, {Name: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		failed, retrying int64
	}{{3, 2}, {1, 1}, {0, 0}} {
		if s := got[i]; s.Events.Failed != want.failed || s.Retrying != want.retrying {
			t.Errorf("%s: got %d failed, %d retrying; want %d, %d", s.Name, s.Events.Failed, s.Retrying, want.failed, want.retrying)
		}
	}
	// A replay puts the events back to pending: none is failed, or retrying, any more.
	if n, err := db.RequeueEvents(ctx, mirrorsync.Requeue{Source: "a"}); err != nil || n != 3 {
		t.Fatalf("replay a's failed events: %d, %v; want 3", n, err)
	}
	got, err = db.SourceGauges(ctx, []mirrorsync.StatusSource{{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Events.Failed != 0 || got[0].Retrying != 0 {
		t.Errorf("a after a replay: got %d failed, %d retrying; want 0, 0", got[0].Events.Failed, got[0].Retrying)
	}
}

// The repairs of a pass run outside a daemon are taken by exactly one daemon, even when several
// ask at once.
func TestUnreportedRepairsAreTakenOnce(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	for i := range 30 {
		run := mirrorsync.Run{ID: int64(i + 1), Source: "a", Entity: "products", Updated: 2, Backfilled: 1}
		if err := db.ReportRepairs(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.ReportRepairs(ctx, mirrorsync.Run{ID: 99, Source: "a", Entity: "products", Unchanged: 5}); err != nil {
		t.Fatal(err)
	}
	totals := make(chan [2]int64, 4)
	for range 4 {
		go func() {
			var repairs, backfilled int64
			for {
				taken, err := db.TakeUnreportedRepairs(ctx)
				if err != nil {
					t.Error(err)
					break
				}
				if len(taken) == 0 {
					break
				}
				for _, r := range taken {
					repairs, backfilled = repairs+r.Repairs, backfilled+r.Backfilled
				}
			}
			totals <- [2]int64{repairs, backfilled}
		}()
	}
	var repairs, backfilled int64
	for range 4 {
		tot := <-totals
		repairs, backfilled = repairs+tot[0], backfilled+tot[1]
	}
	if repairs != 60 || backfilled != 30 {
		t.Errorf("the daemons took %d repairs and %d backfilled, want 60 and 30, each once", repairs, backfilled)
	}
}
