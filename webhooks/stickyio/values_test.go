package stickyio_test

import "testing"

// Two snapshots of one updated_at are ordered by the envelope's time, when sticky.io stamped
// the event: a create of a bundle delivered after its update leaves the update's item list.
func TestSnapshotTiesGoToTheLaterEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	update := fixture(t, "product-updated-prebuilt-bundle") // time 14:35:45: Keyboard, Mouse
	create := fixture(t, "product-created-prebuilt-bundle") // time 11:36:32: Mobile, ...
	object := create["data"].(map[string]any)["object"].(map[string]any)
	object["id"] = update["data"].(map[string]any)["object"].(map[string]any)["id"]
	object["updated_at"] = "2024-12-18T08:22:16-05:00" // the update's updated_at: a tie
	post(t, h, update, key)
	h.Drain()
	post(t, h, create, key)
	h.Drain()
	if got := h.Column(t, `SELECT string_agg(product_name, ',' ORDER BY position) FROM mirror.bundle_items`); got != "Keyboard,Mouse" {
		t.Errorf("bundle items = %s, want the update's Keyboard,Mouse", got)
	}
}

// A key a snapshot leaves out changes nothing; an explicit null empties the column.
func TestSnapshotAbsentIsNotNull(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := fixture(t, "product-updated-regular")
	post(t, h, first, key)
	h.Drain()
	later := fixture(t, "product-updated-regular")
	later["data"].(map[string]any)["id"] = "another-event"
	object := later["data"].(map[string]any)["object"].(map[string]any)
	object["updated_at"] = "2030-01-01T00:00:00Z"
	delete(object, "max_quantity")
	delete(object, "price")
	object["category"] = nil
	post(t, h, later, key)
	h.Drain()
	got := h.Column(t, `SELECT concat_ws('|', coalesce(max_quantity::text, 'NULL'), coalesce(price::text, 'NULL'),
		coalesce(category_name, 'NULL'), coalesce(category_external_id, 'NULL')) FROM mirror.products`)
	if want := "10|10|NULL|NULL"; got != want {
		t.Errorf("max_quantity|price|category = %s, want %s", got, want)
	}
}
