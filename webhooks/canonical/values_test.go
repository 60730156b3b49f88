package canonical_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Without event_id, only an exact retry is a duplicate: a stock that returns to an earlier value
// (12, 11, 12) is news each time, and the mirror ends at 12 with the whole history.
func TestStateReturningToAnEarlierValueIsApplied(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := time.Now().Add(-time.Minute)
	for i, stock := range []int{12, 11, 12} {
		body := []byte(fmt.Sprintf(`{"product":{"external_id":"p9","name":"Tea","stock":%d}}`, stock))
		ts := millis(start.Add(time.Duration(i) * time.Second))
		for _, want := range []string{"stored", "duplicate"} { // and its exact retry
			if status, msg := h.post("shop", "product", body, ts); status != http.StatusOK || !strings.Contains(msg, want) {
				t.Fatalf("stock %d: answered %d %s, want 200 %s", stock, status, msg, want)
			}
		}
		h.apply(t)
	}
	if got := h.Column(t, `SELECT stock_quantity::text FROM mirror.products WHERE external_id = 'p9'`); got != "12" {
		t.Errorf("stock = %s, want 12", got)
	}
	if got := h.Column(t, `SELECT old_value || '>' || new_value FROM mirror.product_changes WHERE product_external_id = 'p9'
		AND field = 'stock_quantity' ORDER BY changed_at`); got != "12>11; 11>12" {
		t.Errorf("stock history = %q, want 12>11; 11>12", got)
	}
}

// A body without external_store_id names no store: it belongs to the row its product already
// has in any store, so a delete without a store deletes that product, not a second row.
func TestEventWithoutStoreJoinsTheRow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := time.Now()
	if status, msg := h.post("any", "product", fixture(t, "product"), millis(now.Add(-time.Second))); status != http.StatusOK { // store_1
		t.Fatalf("product answered %d %s", status, msg)
	}
	if status, msg := h.post("any", "product/delete", fixture(t, "product-delete"), millis(now)); status != http.StatusOK { // no store
		t.Fatalf("delete answered %d %s", status, msg)
	}
	h.apply(t)
	got := h.Column(t, `SELECT store_id || '|' || external_id || '|' || (deleted_at IS NOT NULL) FROM mirror.products WHERE source = 'any'`)
	if got != "store_1|p1|true" {
		t.Errorf("products = %q, want store_1's p1, deleted", got)
	}
}
