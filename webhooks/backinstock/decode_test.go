package backinstock_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store/storetest"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// Two API keys, as during a rotation: deliveries signed with either are genuine.
const (
	key    = "bis-api-key-2024"
	oldKey = "bis-api-key-2023"
	path   = "/webhooks/bis"
)

func newHarness(t *testing.T) *webhookstest.Harness {
	return webhookstest.One(t, "bis")(backinstock.New(backinstock.Options{Name: "bis", Secrets: []string{key, oldKey}}))
}

// fixture returns a testdata payload as the bytes Back in Stock would send.
var fixture = webhookstest.Fixture

// edit returns body with f applied to its decoded object (numbers kept exact).
func edit(t *testing.T, body []byte, f func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signed(body []byte, k string) http.Header {
	return http.Header{"Content-Type": {"application/json"}, backinstock.SignatureHeader: {backinstock.Sign(body, k)}}
}

// post delivers body signed with k; it fails the test unless answered 200.
func post(t *testing.T, h *webhookstest.Harness, body []byte, k string) {
	t.Helper()
	h.Deliver(t, path, signed(body, k), body)
}

// drain applies what is stored and fails the test unless every event was applied.
func drain(t *testing.T, h *webhookstest.Harness, want int) {
	t.Helper()
	out := h.Drain()
	if len(out) != want {
		t.Fatalf("applied %d events, want %d: %+v", len(out), want, out)
	}
	for _, o := range out {
		if o.Status != "applied" {
			t.Fatalf("event %s: %s (%v), want applied", o.DeliveryID, o.Status, o.Err)
		}
	}
}

// row is a mirror.stock_notifications row; NULL is nil.
type row struct {
	Status            *string    `db:"status"`
	Channel           *string    `db:"channel"`
	CustomerEmail     *string    `db:"customer_email"`
	CustomerSMS       *string    `db:"customer_sms"`
	CustomerLanguage  *string    `db:"customer_language"`
	CustomerUTCOffset *int64     `db:"customer_utc_offset"`
	QuantityRequired  *int64     `db:"quantity_required"`
	ProductExternalID *string    `db:"product_external_id"`
	ProductTitle      *string    `db:"product_title"`
	VariantExternalID *string    `db:"variant_external_id"`
	VariantTitle      *string    `db:"variant_title"`
	SKU               *string    `db:"sku"`
	CreatedAt         *time.Time `db:"created_at"`
	SentAt            *time.Time `db:"sent_at"`
	SourceUpdatedAt   *time.Time `db:"source_updated_at"`
	DeletedAt         *time.Time `db:"deleted_at"`
	Origin            string     `db:"origin"`
}

func getRow(t *testing.T, h *webhookstest.Harness, id string) row {
	t.Helper()
	var r row
	err := h.DB.SQL().Get(&r, `SELECT status, channel, customer_email, customer_sms, customer_language,
		customer_utc_offset, quantity_required, product_external_id, product_title, variant_external_id,
		variant_title, sku, created_at, sent_at, source_updated_at, deleted_at, origin
		FROM mirror.stock_notifications WHERE source = 'bis' AND store_id = '' AND external_id = $1`, id)
	if err != nil {
		t.Fatalf("stock notification %s: %v", id, err)
	}
	for _, p := range []**time.Time{&r.CreatedAt, &r.SentAt, &r.SourceUpdatedAt, &r.DeletedAt} {
		if *p != nil {
			*p = ptr((*p).UTC())
		}
	}
	return r
}

// checkRow compares every column of notification id with want.
func checkRow(t *testing.T, h *webhookstest.Harness, id string, want row) {
	t.Helper()
	g, _ := json.Marshal(getRow(t, h, id))
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("stock notification %s:\ngot  %s\nwant %s", id, g, w)
	}
}

// checkRaw compares the row's raw with body, as JSON values.
func checkRaw(t *testing.T, h *webhookstest.Harness, id string, body []byte) {
	t.Helper()
	var same bool
	if err := h.DB.SQL().Get(&same, `SELECT raw = $2::jsonb FROM mirror.stock_notifications
		WHERE source = 'bis' AND external_id = $1`, id, string(body)); err != nil {
		t.Fatalf("raw of %s: %v", id, err)
	}
	if !same {
		var raw string
		storetest.Get(t, h.DB, &raw, `SELECT raw::text FROM mirror.stock_notifications WHERE source = 'bis' AND external_id = $1`, id)
		t.Errorf("raw of %s = %s, want %s", id, raw, body)
	}
}

func countRows(t *testing.T, h *webhookstest.Harness) int {
	t.Helper()
	var n int
	if err := h.DB.SQL().Get(&n, `SELECT count(*) FROM mirror.stock_notifications`); err != nil {
		t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

func utc(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// created is notification 12345 as the create fixture leaves it: versioned at its created_at
// (14:33:10), not at the create event's timestamp (14:33:12).
func created() row {
	return row{
		Status: ptr("created"), Channel: ptr("email"), CustomerEmail: ptr("sarah.jones@example.com"),
		CustomerLanguage: ptr("en-GB"), CustomerUTCOffset: ptr(int64(14400)), QuantityRequired: ptr(int64(1)),
		ProductExternalID: ptr("8339067207909"), ProductTitle: ptr("Black Tea"),
		VariantExternalID: ptr("44211925318693"), VariantTitle: ptr("Small"),
		CreatedAt: utc("2023-09-09T14:33:10Z"), SourceUpdatedAt: utc("2023-09-09T14:33:10Z"), Origin: "webhook",
	}
}

// sent is notification 12345 as the sent fixture leaves it, whatever came before.
func sent() row {
	r := created()
	r.Status, r.SentAt, r.SourceUpdatedAt = ptr("sent"), utc("2023-09-11T12:13:45Z"), utc("2023-09-11T12:13:45Z")
	return r
}

func TestFixtures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		fixture    string
		deliveryID string
		want       row
	}{
		{"notification-create", "12345:notification/create", created()},
		{"notification-sent", "12345:notification/sent", sent()},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			h := newHarness(t)
			body := fixture(t, c.fixture)
			post(t, h, body, key)
			drain(t, h, 1)
			if evs := h.Events(); len(evs) != 1 || evs[0].DeliveryID != c.deliveryID || evs[0].Status != "applied" {
				t.Errorf("events = %+v, want one applied with delivery id %s", evs, c.deliveryID)
			}
			checkRow(t, h, "12345", c.want)
			checkRaw(t, h, "12345", body)
			if n := countRows(t, h); n != 1 {
				t.Errorf("%d rows, want 1", n)
			}
		})
	}
}

func TestArrivalOrders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		first, second string
		between       func() row // the row after the first event; nil: both applied in one batch
	}{
		{"create then sent", "notification-create", "notification-sent", created},
		{"sent before create", "notification-sent", "notification-create", sent},
		{"create then sent, one batch", "notification-create", "notification-sent", nil},
		{"sent before create, one batch", "notification-sent", "notification-create", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			post(t, h, fixture(t, c.first), key)
			pending := 2
			if c.between != nil {
				drain(t, h, 1)
				checkRow(t, h, "12345", c.between())
				pending = 1
			}
			post(t, h, fixture(t, c.second), key)
			drain(t, h, pending)
			checkRow(t, h, "12345", sent())
			// Every key of raw is the newest event's: the sent one.
			checkRaw(t, h, "12345", fixture(t, "notification-sent"))
		})
	}
}

// A create whose own timestamp is later than the sending (delivered or stamped late) still
// ranks before the sent event: it is versioned at created_at.
func TestLateStampedCreateAfterSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, fixture(t, "notification-sent"), key)
	drain(t, h, 1)
	post(t, h, edit(t, fixture(t, "notification-create"), func(m map[string]any) {
		m["timestamp"] = "2023-09-12T08:00:00Z"
	}), key)
	drain(t, h, 1)
	checkRow(t, h, "12345", sent())
}

// Without created_at a create is versioned at its timestamp.
func TestCreateWithoutCreatedAt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		createdAt func(m map[string]any)
	}{
		{"absent", func(m map[string]any) { delete(m, "created_at") }},
		{"null", func(m map[string]any) { m["created_at"] = nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			post(t, h, edit(t, fixture(t, "notification-create"), c.createdAt), key)
			drain(t, h, 1)
			want := created()
			want.CreatedAt, want.SourceUpdatedAt = nil, utc("2023-09-09T14:33:12Z")
			checkRow(t, h, "12345", want)
			// The sent event, which carries created_at, still wins and fills it in.
			post(t, h, fixture(t, "notification-sent"), key)
			drain(t, h, 1)
			checkRow(t, h, "12345", sent())
		})
	}
}

// The third-party spelling notification/created is mirrored as a create.
func TestCreatedSpelling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, edit(t, fixture(t, "notification-create"), func(m map[string]any) {
		m["topic"] = "notification/created"
	}), key)
	drain(t, h, 1)
	checkRow(t, h, "12345", created())
}

// A key absent from a body leaves its column alone; a key sent as null empties it, and a null
// customer or product empties all of its columns.
func TestAbsentAndNullKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, edit(t, fixture(t, "notification-create"), func(m map[string]any) {
		m["customer"].(map[string]any)["sms"] = "+447700900123"
		m["product"].(map[string]any)["sku"] = "BT-S"
	}), key)
	post(t, h, edit(t, fixture(t, "notification-create"), func(m map[string]any) {
		m["notification_id"] = 777
	}), key)
	drain(t, h, 2)

	post(t, h, edit(t, fixture(t, "notification-sent"), func(m map[string]any) {
		delete(m, "channel")
		delete(m, "product")
		delete(m, "quantity_required")
		m["customer"] = map[string]any{"email": nil}
		m["customer_language"] = nil
	}), key)
	post(t, h, edit(t, fixture(t, "notification-sent"), func(m map[string]any) {
		m["notification_id"] = "777" // an id sent as a string names the same row
		m["customer"] = nil
		m["product"] = nil
	}), key)
	drain(t, h, 2)

	want := sent()
	want.CustomerEmail, want.CustomerSMS, want.CustomerLanguage, want.SKU = nil, ptr("+447700900123"), nil, ptr("BT-S")
	checkRow(t, h, "12345", want)
	// raw is patched too: the keys the sent event lacks keep the create's values.
	var raw string
	if err := h.DB.SQL().Get(&raw, `SELECT concat_ws('|', raw->>'topic', raw->>'channel', raw->'customer', raw->'product'->>'sku')
		FROM mirror.stock_notifications WHERE source = 'bis' AND external_id = '12345'`); err != nil {
		t.Fatal(err)
	}
	if want := `notification/sent|email|{"email": null}|BT-S`; raw != want {
		t.Errorf("raw topic|channel|customer|product.sku = %s, want %s", raw, want)
	}

	want = sent()
	want.CustomerEmail, want.ProductExternalID, want.ProductTitle, want.VariantExternalID, want.VariantTitle = nil, nil, nil, nil, nil
	checkRow(t, h, "777", want)
}

func TestDuplicatesStoredOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "notification-sent")
	post(t, h, body, key)
	post(t, h, body, key)
	post(t, h, body, oldKey) // the same delivery, signed with the other configured key
	evs := h.Events()
	if len(evs) != 1 || evs[0].DeliveryID != "12345:notification/sent" || !bytes.Equal(evs[0].Body, body) {
		t.Fatalf("stored %d events (%+v), want 1 with delivery id 12345:notification/sent and the body as sent", len(evs), evs)
	}
	drain(t, h, 1)
	checkRow(t, h, "12345", sent())
}

func TestTestDeliveryIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "test-delivery")
	if status, resp := h.Post(path, signed(body, key), body); status != http.StatusOK {
		t.Fatalf("test delivery answered %d %s, want 200", status, resp)
	}
	out := h.Drain()
	if len(out) != 1 || out[0].Status != "ignored" || out[0].Retry {
		t.Fatalf("outcomes = %+v, want one ignored", out)
	}
	evs := h.Events()
	if len(evs) != 1 || evs[0].Status != "ignored" || evs[0].LastError == nil || !strings.Contains(*evs[0].LastError, "test delivery") {
		t.Errorf("events = %+v, want one ignored as a test delivery", evs)
	}
	if n := countRows(t, h); n != 0 {
		t.Errorf("%d mirror rows, want none", n)
	}
}

// Genuine deliveries that are not mirrored are stored and answered 200, and marked ignored
// (news storemirror does not keep) or failed (a body that breaks the provider's shape).
func TestNotMirrored(t *testing.T) {
	t.Parallel()
	set := func(k string, v any) func(m map[string]any) { return func(m map[string]any) { m[k] = v } }
	drop := func(k string) func(m map[string]any) { return func(m map[string]any) { delete(m, k) } }
	cases := []struct {
		name    string
		fixture string
		edit    func(m map[string]any) // applied after notification_id is made unique
		raw     string                 // the body as is, instead of a fixture
		status  string
		reason  string
	}{
		{name: "unknown topic", fixture: "notification-create", edit: set("topic", "notification/deleted"),
			status: "ignored", reason: `topic "notification/deleted" is not mirrored`},
		{name: "test false is no test", fixture: "test-delivery", edit: func(m map[string]any) { m["test"], m["topic"] = false, "product/update" },
			status: "ignored", reason: `topic "product/update" is not mirrored`},
		{name: "no topic", fixture: "notification-create", edit: drop("topic"), status: "failed", reason: "decode body: no topic"},
		{name: "no notification_id", fixture: "notification-sent", edit: drop("notification_id"),
			status: "failed", reason: "decode notification/sent: read notification_id: missing"},
		{name: "null notification_id", fixture: "notification-create", edit: set("notification_id", nil),
			status: "failed", reason: "decode notification/create: read notification_id: missing"},
		{name: "fractional notification_id", fixture: "notification-create", edit: set("notification_id", 1.5),
			status: "failed", reason: `read notification_id: id "1.5" is not an integer`},
		{name: "sent without timestamp", fixture: "notification-sent", edit: set("timestamp", nil),
			status: "failed", reason: "read timestamp: missing"},
		{name: "create without any time", fixture: "notification-create", edit: func(m map[string]any) { m["created_at"] = nil; delete(m, "timestamp") },
			status: "failed", reason: "read timestamp (there is no created_at): missing"},
		{name: "created_at not a time", fixture: "notification-create", edit: set("created_at", "yesterday"),
			status: "failed", reason: `read created_at: parse time "yesterday"`},
		{name: "quantity out of range", fixture: "notification-create", edit: set("quantity_required", 3000000000),
			status: "failed", reason: "read quantity_required: 3000000000 is out of range"},
		{name: "customer_utc_offset not an integer", fixture: "notification-create", edit: set("customer_utc_offset", 4.5),
			status: "failed", reason: "decode notification/create: json: cannot unmarshal number 4.5"},
		{name: "product_id not a number", fixture: "notification-sent", edit: func(m map[string]any) {
			m["product"].(map[string]any)["product_id"] = "gid://shopify/Product/1"
		}, status: "failed", reason: "decode notification/sent: json: invalid number literal"},
		{name: "not an object", raw: `[1, 2]`, status: "failed", reason: "decode body: json: cannot unmarshal array"},
	}
	h := newHarness(t)
	for i, c := range cases {
		body := []byte(c.raw)
		if c.fixture != "" {
			body = edit(t, fixture(t, c.fixture), func(m map[string]any) {
				m["notification_id"] = 1000 + i // one delivery id per case
				c.edit(m)
			})
		}
		post(t, h, body, key)
	}
	if out := h.Drain(); len(out) != len(cases) {
		t.Fatalf("%d outcomes, want %d", len(out), len(cases))
	}
	evs := h.Events()
	if len(evs) != len(cases) {
		t.Fatalf("stored %d events, want %d", len(evs), len(cases))
	}
	for i, c := range cases {
		ev := evs[i]
		if ev.Status != c.status || ev.LastError == nil || !strings.Contains(*ev.LastError, c.reason) {
			t.Errorf("%s: %s (%s), want %s containing %q", c.name, ev.Status, deref(ev.LastError), c.status, c.reason)
		}
	}
	if n := countRows(t, h); n != 0 {
		t.Errorf("%d mirror rows, want none", n)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestSignature(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := fixture(t, "notification-sent")
	cases := []struct {
		name   string
		header http.Header
	}{
		{"unsigned", http.Header{"Content-Type": {"application/json"}}},
		{"wrong key", signed(body, "not-our-api-key")},
		{"another body's signature", signed(fixture(t, "notification-create"), key)},
		{"hex instead of base64", http.Header{backinstock.SignatureHeader: {"8b8f2c6e0e0c1c3a"}}},
	}
	for _, c := range cases {
		if status, resp := h.Post(path, c.header, body); status != http.StatusUnauthorized {
			t.Errorf("%s: answered %d %s, want 401", c.name, status, resp)
		}
	}
	if evs := h.Events(); len(evs) != 0 {
		t.Errorf("stored %d events, want none", len(evs))
	}
}

// During a rotation both configured keys are accepted.
func TestRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	post(t, h, fixture(t, "notification-create"), oldKey)
	post(t, h, fixture(t, "notification-sent"), key)
	drain(t, h, 2)
	checkRow(t, h, "12345", sent())
}
