package metrics_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storemirror/storemirror/metrics"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

var configured = []mirrorsync.StatusSource{
	{Name: "bamboo", Kind: "bamboo", Entities: []string{"products", "orders"}},
	{Name: "canon", Kind: "canonical"},
}

// Every configured source's series exist at registration, at 0: an alert never sees "no data".
func TestStatusSeriesExistFromTheStart(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	metrics.NewStatus(reg, configured)
	metrics.NewReconcile(reg).Declare(configured)
	metrics.NewApply(reg).Declare(configured)
	metrics.RegisterBuildInfo(reg, "v1.2.3")
	series, help := gathered(t, reg)
	want := map[string]float64{
		`storemirror_build_info{goversion="` + runtime.Version() + `",version="v1.2.3"}`:          1,
		`storemirror_last_webhook_timestamp_seconds{source="bamboo"}`:                             0,
		`storemirror_last_webhook_timestamp_seconds{source="canon"}`:                              0,
		`storemirror_inbox_events{source="bamboo",status="pending"}`:                              0,
		`storemirror_inbox_events{source="bamboo",status="failed"}`:                               0,
		`storemirror_inbox_events{source="canon",status="pending"}`:                               0,
		`storemirror_inbox_events{source="canon",status="failed"}`:                                0,
		`storemirror_inbox_events_failed_for_good{source="bamboo"}`:                               0,
		`storemirror_inbox_events_failed_for_good{source="canon"}`:                                0,
		`storemirror_reconcile_last_success_timestamp_seconds{entity="products",source="bamboo"}`: 0,
		`storemirror_reconcile_last_success_timestamp_seconds{entity="orders",source="bamboo"}`:   0,
		`storemirror_reconcile_repairs_total{entity="orders",source="bamboo"}`:                    0,
		`storemirror_reconcile_backfilled_total{entity="products",source="bamboo"}`:               0,
		`storemirror_reconcile_runs_total{entity="products",source="bamboo",status="failed"}`:     0,
		`storemirror_inbox_events_total{source="canon",status="applied"}`:                         0,
		`storemirror_inbox_events_total{source="canon",status="ignored"}`:                         0,
		`storemirror_inbox_events_total{source="bamboo",status="failed"}`:                         0,
		`storemirror_drift_total{source="bamboo"}`:                                                0,
		`storemirror_drift_total{source="canon"}`:                                                 0,
		`storemirror_untrusted_clock_total{source="canon"}`:                                       0,
	}
	for k, wantV := range want {
		if v, ok := series[k]; !ok || v != wantV {
			t.Errorf("%s at start-up: got %v (present: %v), want %v", k, v, ok, wantV)
		}
	}
	if _, ok := series[`storemirror_reconcile_last_success_timestamp_seconds{entity="products",source="canon"}`]; ok {
		t.Error("a source without an api has a last-success series")
	}
	for _, name := range []string{"storemirror_build_info", "storemirror_last_webhook_timestamp_seconds", "storemirror_inbox_events",
		"storemirror_inbox_events_failed_for_good", "storemirror_reconcile_last_success_timestamp_seconds"} {
		if help[name] == "" {
			t.Errorf("%s has no help", name)
		}
	}
}

func TestStatusSetFromARead(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.NewStatus(reg, configured)
	webhook := time.Date(2026, 5, 1, 10, 0, 0, 500_000_000, time.UTC)
	success := time.Date(2026, 5, 1, 3, 0, 9, 0, time.UTC)
	m.Set([]mirrorsync.SourceStatus{
		{Name: "bamboo", LastWebhookAt: &webhook, Events: mirrorsync.EventCounts{Pending: 3, Applied: 41, Ignored: 2, Failed: 5}, Retrying: 2,
			Entities: []mirrorsync.EntityStatus{{Entity: "products", LastSuccessAt: &success}, {Entity: "orders"}}},
		{Name: "canon"},
	})
	series, _ := gathered(t, reg)
	for k, want := range map[string]float64{
		`storemirror_last_webhook_timestamp_seconds{source="bamboo"}`:                             1777629600.5,
		`storemirror_last_webhook_timestamp_seconds{source="canon"}`:                              0,
		`storemirror_inbox_events{source="bamboo",status="pending"}`:                              3,
		`storemirror_inbox_events{source="bamboo",status="failed"}`:                               5,
		`storemirror_inbox_events_failed_for_good{source="bamboo"}`:                               3,
		`storemirror_inbox_events_failed_for_good{source="canon"}`:                                0,
		`storemirror_reconcile_last_success_timestamp_seconds{entity="products",source="bamboo"}`: 1777604409,
		`storemirror_reconcile_last_success_timestamp_seconds{entity="orders",source="bamboo"}`:   0,
	} {
		if got := series[k]; got != want {
			t.Errorf("%s: got %v, want %v", k, got, want)
		}
	}
	if _, ok := series[`storemirror_inbox_events{source="bamboo",status="applied"}`]; ok {
		t.Error("storemirror_inbox_events reports applied events: only pending and failed are gauged")
	}
}
