package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// An event whose data PostgreSQL refuses fails at once, without holding back the others in its
// batch, and is not retried; an event failing for a passing reason would be.
func TestApplyPendingIsolatesBadEvents(t *testing.T) {
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
	batch, err := db.ApplyPending(ctx, 10, policy, decode)
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
	db.SQL().Get(&due, `SELECT count(*) FROM sync.webhook_events WHERE due_at IS NOT NULL`)
	var media int
	db.SQL().Get(&media, `SELECT count(*) FROM mirror.media`)
	if due != 0 || media != 2 {
		t.Errorf("%d events still due, %d media rows; want 0 and the 2 good ones", due, media)
	}
}
