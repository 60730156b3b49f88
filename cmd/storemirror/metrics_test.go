package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// metricValue reads one series of the daemon's /metrics; ok false when it is absent.
func metricValue(t *testing.T, d *runningDaemon, series string) (float64, bool) {
	t.Helper()
	status, body := d.do(t, http.MethodGet, "/metrics", nil, "")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d", status)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v, true
}

// The metrics an alert needs exist as soon as the daemon listens, before anything happened;
// then they follow the database.
func TestMetricsFromStartUp(t *testing.T) {
	t.Parallel()
	d := startDaemonWith(t, daemonOptions{adminToken: e2eToken, reconcile: `{schedule: "@every 15m"}`})
	for _, series := range []string{
		`storemirror_last_webhook_timestamp_seconds{source="bamboo"}`,
		`storemirror_inbox_events{source="bamboo",status="pending"}`,
		`storemirror_inbox_events{source="bamboo",status="failed"}`,
		`storemirror_inbox_events_failed_for_good{source="bamboo"}`,
		`storemirror_reconcile_last_success_timestamp_seconds{entity="products",source="bamboo"}`,
		`storemirror_reconcile_last_success_timestamp_seconds{entity="orders",source="bamboo"}`,
		`storemirror_reconcile_repairs_total{entity="products",source="bamboo"}`,
		`storemirror_inbox_events_total{source="bamboo",status="failed"}`,
		`storemirror_drift_total{source="bamboo"}`,
		`storemirror_untrusted_clock_total{source="bamboo"}`,
	} {
		if v, ok := metricValue(t, d, series); !ok || (strings.HasPrefix(series, "storemirror_last_webhook") && v != 0) {
			t.Errorf("at start-up: %s = %v (present: %v), want it present (last webhook 0)", series, v, ok)
		}
	}
	if v, _ := metricValue(t, d, `storemirror_reconcile_schedule_seconds{entity="orders",mode="incremental",source="bamboo"}`); v != 900 {
		t.Errorf("the orders' incremental schedule: %v s, want 900", v)
	}
	if _, ok := metricValue(t, d, `storemirror_reconcile_schedule_seconds{entity="orders",mode="full",source="bamboo"}`); ok {
		t.Error("the orders' full passes have a schedule gauge, but no schedule")
	}
	if _, body := d.do(t, http.MethodGet, "/metrics", nil, ""); !regexp.MustCompile(`storemirror_build_info\{goversion="go[^"]+",version="dev"\} 1`).MatchString(body) {
		t.Error("storemirror_build_info{version,goversion} 1 is missing")
	}

	before := time.Now()
	body := `{"orderId":100124,"status":"succeeded","totalCards":1,"createdOn":"2026-04-01T08:00:00+00:00","requestId":"r-2"}`
	wh, _ := svix.NewWebhook(e2eSecret)
	sig, _ := wh.Sign("msg_metrics", time.Now(), []byte(body))
	h := http.Header{"Svix-Id": {"msg_metrics"}, "Svix-Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Svix-Signature": {sig}}
	if status, resp := d.do(t, http.MethodPost, "/webhooks/bamboo", h, body); status != http.StatusOK {
		t.Fatalf("signed webhook: %d %s", status, resp)
	}
	eventually(t, "the last webhook's time in /metrics", func() bool {
		v, _ := metricValue(t, d, `storemirror_last_webhook_timestamp_seconds{source="bamboo"}`)
		return v >= float64(before.Unix()-1)
	})
	eventually(t, "the products' last success in /metrics", func() bool {
		v, _ := metricValue(t, d, `storemirror_reconcile_last_success_timestamp_seconds{entity="products",source="bamboo"}`)
		return v >= float64(before.Add(-time.Minute).Unix())
	})

	// A signed order its decoder refuses fails for good at once: no retry would read it.
	garbled := `{"orderId":100125,"status":"succeeded","totalCards":"many"}`
	sig, _ = wh.Sign("msg_garbled", time.Now(), []byte(garbled))
	h = http.Header{"Svix-Id": {"msg_garbled"}, "Svix-Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Svix-Signature": {sig}}
	if status, resp := d.do(t, http.MethodPost, "/webhooks/bamboo", h, garbled); status != http.StatusOK {
		t.Fatalf("signed, garbled webhook: %d %s", status, resp)
	}
	eventually(t, "the garbled delivery failed for good in /metrics", func() bool {
		failed, _ := metricValue(t, d, `storemirror_inbox_events{source="bamboo",status="failed"}`)
		final, _ := metricValue(t, d, `storemirror_inbox_events_failed_for_good{source="bamboo"}`)
		return failed == 1 && final == 1
	})
}

// A pass run by storemirror resync, a process without /metrics, reaches the running daemon's
// counters.
func TestResyncRepairsReachTheDaemonsCounters(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, e2eToken)
	eventually(t, "the start-up pass to backfill the products", func() bool {
		return d.count(t, `SELECT count(*) FROM sync.reconcile_runs WHERE entity = 'products' AND status = 'succeeded' AND backfilled = 2`) == 1
	})
	backfilled, _ := metricValue(t, d, `storemirror_reconcile_backfilled_total{entity="products",source="bamboo"}`)
	if backfilled != 2 {
		t.Errorf("backfilled by the daemon: %v, want 2", backfilled)
	}
	// A row lost from the mirror (as if its webhook never came): the CLI's pass repairs it.
	if _, err := d.db.SQL().Exec(`DELETE FROM mirror.products WHERE source = 'bamboo' AND external_id = '8'`); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand(t, d.env, "resync", "--config", d.config, "--source", "bamboo", "--entity", "products", "--mode", "full")
	if err != nil || !strings.Contains(out, "1 created") {
		t.Fatalf("resync: %v\n%s", err, out)
	}
	eventually(t, "the CLI's repair in the daemon's counter", func() bool {
		v, _ := metricValue(t, d, `storemirror_reconcile_repairs_total{entity="products",source="bamboo"}`)
		return v == 1
	})
	var left int
	if err := d.db.SQL().Get(&left, `SELECT count(*) FROM sync.unreported_repairs`); err != nil || left != 0 {
		t.Errorf("%d unreported repairs left (%v), want 0: the daemon took them", left, err)
	}
}
