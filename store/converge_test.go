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

// randomChanges makes n changes to a few products: full snapshots, partial patches and deletes,
// with provider times that often collide (so receive order must break ties).
func randomChanges(rng *rand.Rand, source string, n int) []mirrorsync.Change {
	var out []mirrorsync.Change
	for i := 0; i < n; i++ {
		id := fmt.Sprint(rng.Intn(4))
		at := t0.Add(time.Duration(rng.Intn(6)) * time.Minute)
		c := mirrorsync.Change{Key: mirrorsync.Key{Source: source, ExternalID: id}, Version: mirrorsync.Version{At: at, Seq: int64(i + 1)}}
		switch rng.Intn(4) {
		case 0:
			c.Entity, c.Delete = &mirrorsync.Product{}, true
		case 1:
			c.Entity, c.Patch = &mirrorsync.Product{Price: mirrorsync.Some(dec(fmt.Sprint(rng.Intn(50))))}, true
			c.Raw = []byte(fmt.Sprintf(`{"price":%d}`, i))
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
		SELECT concat_ws('|', external_id, name, price, stock_quantity, deleted_at, source_updated_at, raw::text,
			(SELECT string_agg(v.external_id || ':' || coalesce(v.sku, ''), ',' ORDER BY v.position)
			 FROM mirror.product_variants v WHERE v.source = p.source AND v.product_external_id = p.external_id))
		FROM mirror.products p WHERE source = $1 ORDER BY external_id`, source)
	if err != nil {
		t.Fatalf("read mirror: %v", err)
	}
	return strings.Join(rows, "\n")
}

// TestApplyConvergesInAnyOrder is the property the apply design rests on: whatever order events
// arrive in, and however many workers apply them at once, the mirror ends the same.
func TestApplyConvergesInAnyOrder(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	for round := 0; round < 8; round++ {
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
