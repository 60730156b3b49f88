package store_test

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// randomChanges makes n changes to a few products: full snapshots, partial patches (each
// carrying some fields and leaving the others out, or setting one to an explicit NULL) and
// deletes. Provider times often collide, and so do the events' own times, so that ties go to the
// event time and then to receive order; some events carry no provider time at all (versioned at
// their receipt); and the events of products 0 and 1, which live in store s1, name their store
// only some of the time.
func randomChanges(rng *rand.Rand, source string, n int) []mirrorsync.Change {
	var out []mirrorsync.Change
	for i := 0; i < n; i++ {
		id := rng.Intn(4)
		at := t0.Add(time.Duration(rng.Intn(6)) * time.Minute)
		v := mirrorsync.Version{At: at, EventAt: at.Add(time.Duration(rng.Intn(3)) * time.Second), Seq: int64(i + 1)}
		if rng.Intn(5) == 0 {
			v = mirrorsync.Received(t0.Add(time.Duration(i) * 20 * time.Second)) // received in order, every 20 s
			v.Seq = int64(i + 1)
		}
		c := mirrorsync.Change{Key: mirrorsync.Key{Source: source, ExternalID: fmt.Sprint(id)}, Version: v}
		if id < 2 {
			c.Key.StoreID = "s1"
			if rng.Intn(2) == 0 {
				c.Key.StoreID, c.AnyStore = "", true // the source has no configured store
			}
		}
		switch rng.Intn(5) {
		case 0:
			c.Entity, c.Delete = &mirrorsync.Product{}, true
		case 1:
			c.Entity, c.Patch = &mirrorsync.Product{Price: mirrorsync.Some(dec(fmt.Sprint(rng.Intn(50))))}, true
			c.Raw = []byte(fmt.Sprintf(`{"price":%d}`, i))
		case 2:
			p := &mirrorsync.Product{Name: mirrorsync.Some(fmt.Sprint("patched ", i))}
			if rng.Intn(2) == 0 {
				p.StockQuantity = mirrorsync.Null[int64]() // explicitly unlimited
			}
			c.Entity, c.Patch = p, true
			c.Raw = []byte(fmt.Sprintf(`{"name":"patched %d"}`, i))
		default:
			vs := make([]mirrorsync.Variant, rng.Intn(3))
			for j := range vs {
				vs[j] = mirrorsync.Variant{ExternalID: fmt.Sprint(i*10 + j), SKU: str(fmt.Sprint("sku", i, j))}
			}
			c.Entity = &mirrorsync.Product{Name: mirrorsync.Some(fmt.Sprint("name ", i)), Price: mirrorsync.Some(dec(fmt.Sprint(i))),
				StockQuantity: mirrorsync.Some(int64(i)), Variants: mirrorsync.All(vs)}
			c.Raw = []byte(fmt.Sprintf(`{"snapshot":%d}`, i))
		}
		out = append(out, c)
	}
	return out
}

func withSource(changes []mirrorsync.Change, source string) []mirrorsync.Change {
	out := make([]mirrorsync.Change, len(changes))
	for i, c := range changes {
		c.Key.Source = source
		out[i] = c
	}
	return out
}

// mirrorState renders everything the mirror holds for source, without the source name.
func mirrorState(t *testing.T, db *store.DB, source string) string {
	t.Helper()
	var rows []string
	err := db.SQL().Select(&rows, `
		SELECT concat_ws('|', store_id, external_id, name, price, coalesce(stock_quantity::text, 'unlimited'), deleted_at,
			source_updated_at, raw::text,
			(SELECT string_agg(v.store_id || '/' || v.external_id || ':' || coalesce(v.sku, ''), ',' ORDER BY v.position)
			 FROM mirror.product_variants v WHERE v.source = p.source AND v.product_external_id = p.external_id))
		FROM mirror.products p WHERE source = $1 ORDER BY store_id, external_id`, source)
	if err != nil {
		t.Fatalf("read mirror: %v", err)
	}
	return strings.Join(rows, "\n")
}

// TestApplyConvergesInAnyOrder is the property the apply design rests on: whatever order events
// arrive in, and however many workers apply them at once, the mirror ends the same.
func TestApplyConvergesInAnyOrder(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	for round := 0; round < 12; round++ {
		rng := rand.New(rand.NewSource(int64(round)))
		changes := randomChanges(rng, "x", 40)

		// Reference: one at a time, in receive order.
		ref := fmt.Sprint("ref", round)
		for _, c := range withSource(changes, ref) {
			apply(t, db, c)
		}
		// Shuffled, in small batches, by four concurrent workers.
		got := fmt.Sprint("got", round)
		shuffled := withSource(changes, got)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var wg stdsync.WaitGroup
		errs := make(chan error, len(shuffled))
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w * 3; i < len(shuffled); i += 12 {
					end := min(i+3, len(shuffled))
					if _, err := db.ApplyChanges(ctx, mirrorsync.OriginWebhook, shuffled[i:end]); err != nil {
						errs <- err
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: apply: %v", round, err)
		}
		want, have := mirrorState(t, db, ref), mirrorState(t, db, got)
		if want != have {
			t.Fatalf("round %d: shuffled concurrent apply diverged\nin order:\n%s\nshuffled:\n%s", round, want, have)
		}
	}
}
