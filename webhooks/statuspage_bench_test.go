package webhooks_test

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// fillInbox writes an inbox of n events over 30 days across the sources, as a busy install has
// it: about one in fifty ignored, one in a thousand failed, the last 2,000 pending, the rest applied;
// and 30 days of passes every 15 minutes for two entities per source.
func fillInbox(b *testing.B, db *store.DB, sources, n int) {
	b.Helper()
	const chunk = 1_000_000
	for from := 1; from <= n; from += chunk {
		to := min(from+chunk-1, n)
		_, err := db.SQL().Exec(`
			INSERT INTO sync.webhook_events (source, delivery_id, delivery_key, event_type, received_at, body, status, attempts, last_error, applied_at, due_at)
			SELECT 'source-' || lpad((i % $3)::text, 2, '0'), 'msg_' || i, sha256(convert_to('msg_' || i, 'UTF8')), 'product.updated',
			       now() - interval '30 days' + i * interval '30 days' / $4, convert_to(repeat('x', 300), 'UTF8'), s, 1,
			       CASE WHEN s = 'failed' THEN 'decode: unexpected end of JSON input' END,
			       CASE WHEN s IN ('applied', 'ignored') THEN now() END, CASE WHEN s = 'pending' THEN now() END
			FROM generate_series($1::bigint, $2::bigint) AS i,
			     LATERAL (SELECT CASE WHEN i % 997 = 0 THEN 'failed' WHEN i > $4 - 2000 THEN 'pending'
			                          WHEN i % 53 = 7 THEN 'ignored' ELSE 'applied' END AS s) AS st`, from, to, sources, n)
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err := db.SQL().Exec(`
		INSERT INTO sync.reconcile_runs (source, entity, mode, trigger, status, queued_at, started_at, finished_at, pages, fetched, updated, unchanged)
		SELECT 'source-' || lpad(s::text, 2, '0'), e, CASE WHEN k % 96 = 0 THEN 'full' ELSE 'incremental' END, 'schedule', 'succeeded',
		       t, t, t + interval '20 seconds', 3, 250, k % 3, 247
		FROM generate_series(0, $1 - 1) AS s, unnest(ARRAY['products', 'orders']) AS e, generate_series(0, 30 * 96) AS k,
		     LATERAL (SELECT now() - interval '30 days' + k * interval '15 minutes' AS t) AS tt`, sources)
	if err != nil {
		b.Fatal(err)
	}
	_, err = db.SQL().Exec(`
		INSERT INTO sync.reconcile_days (source, entity, day, runs, repairs)
		SELECT source, entity, (finished_at AT TIME ZONE 'UTC')::date, count(*), sum(updated)
		FROM sync.reconcile_runs GROUP BY 1, 2, 3`)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.CompactInboxCounts(b.Context()); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SQL().Exec(`VACUUM ANALYZE sync.webhook_events`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SQL().Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStatusPage renders the status page (and GET /admin/status) for 50 sources over a
// large inbox: STOREMIRROR_BENCH_INBOX events (1,000,000 by default; the README's figure is
// for 10,000,000). Neither may read more than a bounded part of the inbox.
func BenchmarkStatusPage(b *testing.B) {
	const nSources = 50
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("STOREMIRROR_BENCH_INBOX")); err == nil && v > 0 {
		n = v
	}
	sources := map[string]webhookstest.Source{}
	entities := map[string][]string{}
	for i := range nSources {
		name := fmt.Sprintf("source-%02d", i)
		sources[name] = testSource{name: name, secret: "s3cret"}
		entities[name] = []string{"products", "orders"}
	}
	h := webhookstest.New(b, sources, webhookstest.WithAdmin(adminToken, entities))
	start := time.Now()
	fillInbox(b, h.DB, nSources, n)
	b.Logf("%d events, %d sources: filled in %s", n, nSources, time.Since(start).Round(time.Second))
	for _, path := range []string{"/status", "/admin/status"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, h.Server.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+adminToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d", path, resp.StatusCode)
				}
			}
		})
	}
}
