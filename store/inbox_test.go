package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// An event whose data PostgreSQL refuses fails at once, without holding back the others in its
// batch, and is not retried; an event failing for a passing reason would be.
func TestApplyPendingIsolatesBadEvents(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	var ds []mirrorsync.Delivery
	for _, id := range []string{"good-1", "nul-in-raw", "too-big", "good-2"} {
		ds = append(ds, mirrorsync.Delivery{Source: "s", ID: id, Type: "t", Body: []byte(id)})
	}
	if _, err := db.InsertEvents(ctx, ds); err != nil {
		t.Fatal(err)
	}
	decode := func(ev mirrorsync.Event) ([]mirrorsync.Change, error) {
		c := mirrorsync.Change{Key: mirrorsync.Key{ExternalID: string(ev.Body)}, Version: mirrorsync.Version{At: t0},
			Entity: &mirrorsync.Media{URL: mirrorsync.Some("https://x/" + string(ev.Body))}}
		switch string(ev.Body) {
		case "nul-in-raw":
			c.Raw = json.RawMessage(`{"name":"a\u0000b"}`) // jsonb cannot hold \u0000
		case "too-big":
			c.Entity = &mirrorsync.Media{Width: mirrorsync.Some(int64(1) << 40)} // width is an integer column
		}
		return []mirrorsync.Change{c}, nil
	}
	policy := mirrorsync.RetryPolicy{MaxAttempts: 5, Backoff: func(int) time.Duration { return time.Hour }}
	batch, err := db.ApplyPending(ctx, 10, mirrorsync.InboxRules{Decoder: mirrorsync.DecodeFunc(decode), Policy: policy})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]mirrorsync.Outcome{}
	for _, o := range batch.Outcomes {
		got[o.DeliveryID] = o
	}
	for id, want := range map[string]string{"good-1": "applied", "good-2": "applied", "nul-in-raw": "failed", "too-big": "failed"} {
		if got[id].Status != want {
			t.Errorf("%s: %s (%v), want %s", id, got[id].Status, got[id].Err, want)
		}
		if want == "failed" && got[id].Retry {
			t.Errorf("%s: scheduled for a retry that cannot succeed", id)
		}
	}
	var due int
	storetest.Get(t, db, &due, `SELECT count(*) FROM sync.webhook_events WHERE due_at IS NOT NULL`)
	var media int
	storetest.Get(t, db, &media, `SELECT count(*) FROM mirror.media`)
	if due != 0 || media != 2 {
		t.Errorf("%d events still due, %d media rows; want 0 and the 2 good ones", due, media)
	}
}

// Retention deletes old applied and ignored events in bounded batches, and nothing else.
func TestPruneEvents(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	var ds []mirrorsync.Delivery
	for i := 0; i < 5; i++ {
		ds = append(ds, mirrorsync.Delivery{Source: "s", ID: fmt.Sprint("old-", i), Body: []byte("{}")})
	}
	ds = append(ds, mirrorsync.Delivery{Source: "s", ID: "recent", Body: []byte("{}")},
		mirrorsync.Delivery{Source: "s", ID: "old-failed", Body: []byte("{}"), Invalid: errors.New("bad")},
		mirrorsync.Delivery{Source: "s", ID: "old-pending", Body: []byte("{}")})
	if _, err := db.InsertEvents(ctx, ds); err != nil {
		t.Fatal(err)
	}
	db.SQL().MustExec(`UPDATE sync.webhook_events SET status = CASE WHEN delivery_id = 'old-3' THEN 'ignored' ELSE 'applied' END,
		due_at = NULL WHERE delivery_id LIKE 'old-_' OR delivery_id = 'recent'`)
	db.SQL().MustExec(`UPDATE sync.webhook_events SET received_at = now() - interval '40 days' WHERE delivery_id LIKE 'old-%'`)
	before := time.Now().Add(-30 * 24 * time.Hour)
	n, err := db.PruneEvents(ctx, before, 2) // bounded: two at a time
	if err != nil || n != 2 {
		t.Fatalf("first prune: %d, %v; want 2", n, err)
	}
	for n == 2 {
		if n, err = db.PruneEvents(ctx, before, 2); err != nil {
			t.Fatal(err)
		}
	}
	var left []string
	storetest.Select(t, db, &left, `SELECT delivery_id FROM sync.webhook_events ORDER BY delivery_id`)
	if strings.Join(left, ",") != "old-failed,old-pending,recent" {
		t.Errorf("left after pruning: %v, want the failed, the pending and the recent event", left)
	}
}

// Deliveries are stored byte for byte, whichever way the pool sends them: with binary parameters
// (the ingest pool of a daemon's Open) and as text (a pool too small to have one). Every byte
// value, an empty body, a large one, a body that reads like an escape, and ids that differ only
// in bytes text cannot show.
func TestInsertEventsStoresBodiesExactly(t *testing.T) {
	t.Parallel()
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	large := []byte(strings.Repeat("\x00\xff\\\"{},NULL ", 100_000)) // 1.2 MB
	ds := []mirrorsync.Delivery{
		{Source: "s", ID: "every-byte", Body: every},
		{Source: "s", ID: "empty"},
		{Source: "s", ID: "large", Body: large},
		{Source: "s", ID: "escape", Body: []byte(`\x41"NULL"`)},
		{Source: "s", ID: "a\x00b", Body: []byte("nul id")},
		{Source: "s", ID: "a\xffb", Body: []byte("invalid utf-8 id")},
		{Source: "s", ID: "every-byte", Body: []byte("the same delivery again")},
	}
	for _, conns := range []int{2, 10} {
		t.Run(fmt.Sprint(conns, " connections"), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.NewURL(t), conns)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			fresh, err := db.InsertEvents(ctx, ds)
			if err != nil {
				t.Fatal(err)
			}
			if want := []bool{true, true, true, true, true, true, false}; !slices.Equal(fresh, want) {
				t.Errorf("fresh = %v, want %v", fresh, want)
			}
			rows, err := db.SQL().QueryContext(ctx, `SELECT body, delivery_key = sha256(convert_to($1, 'UTF8')) FROM sync.webhook_events ORDER BY id`, "every-byte")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var i int
			for ; rows.Next(); i++ {
				var body []byte
				var keyed bool
				if err := rows.Scan(&body, &keyed); err != nil {
					t.Fatal(err)
				}
				if want := ds[i].Body; !bytes.Equal(body, want) || body == nil {
					t.Errorf("%q: body of %d bytes stored as %d bytes (%.40q)", ds[i].ID, len(want), len(body), body)
				}
				if keyed != (i == 0) {
					t.Errorf("%q: delivery key of every-byte: %v", ds[i].ID, keyed)
				}
			}
			if err := rows.Err(); err != nil || i != 6 {
				t.Errorf("%d events stored (%v), want 6", i, err)
			}
		})
	}
}
