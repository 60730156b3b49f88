package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storemirror/storemirror/metrics"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// gathered is what reg exposes: each series as `name{label="value",...}` with its value (a
// histogram's sample count), and each metric's help text.
func gathered(t *testing.T, reg *prometheus.Registry) (series map[string]float64, help map[string]string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series, help = map[string]float64{}, map[string]string{}
	for _, mf := range mfs {
		help[mf.GetName()] = mf.GetHelp()
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				series[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				series[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				series[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return series, help
}

func check(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// The names, labels and help texts are what dashboards and alerts rely on: any change shows here.
func TestApplyCountsOutcomesDriftAndClocks(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewApply(reg)
	m.ObserveBatch(mirrorsync.Batch{
		Outcomes: []mirrorsync.Outcome{{Source: "a", Status: "applied"}, {Source: "a", Status: "applied"}, {Source: "b", Status: "failed"}},
		Result:   mirrorsync.ApplyResult{Drifted: []mirrorsync.Key{{Source: "a", ExternalID: "1"}}},
	}, 20*time.Millisecond)
	m.UntrustedClock("b")
	m.IgnoredAtReceipt("b")
	series, help := gathered(t, reg)
	check(t, series, map[string]float64{
		`storemirror_inbox_events_total{source="a",status="applied"}`: 2,
		`storemirror_inbox_events_total{source="b",status="failed"}`:  1,
		`storemirror_inbox_events_total{source="b",status="ignored"}`: 1,
		`storemirror_drift_total{source="a"}`:                         1,
		`storemirror_apply_duration_seconds{}`:                        1,
		`storemirror_untrusted_clock_total{source="b"}`:               1,
	})
	for name, want := range map[string]string{
		"storemirror_inbox_events_total":     "Stored webhook events processed, by source and outcome (applied, ignored, failed): by the apply workers, and those ignored at receipt (a type the mirror does not take).",
		"storemirror_apply_duration_seconds": "Time to decode and apply one batch of inbox events.",
		"storemirror_drift_total":            "Rows whose mirror values differed from the provider's stated previous state (missed webhooks), by source.",
		"storemirror_untrusted_clock_total":  "Events whose provider time was more than an hour ahead of their receipt, and were versioned at their receipt instead, by source.",
	} {
		if help[name] != want {
			t.Errorf("%s help %q, want %q", name, help[name], want)
		}
	}
}

func TestReconcileCountsRepairsAndRuns(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.NewReconcile(reg)
	m.Repaired("shop", "products", 0) // no series for a pass that repaired nothing
	m.Repaired("shop", "orders", 3)
	m.Finished(mirrorsync.Run{Source: "shop", Entity: "orders", Status: mirrorsync.RunSucceeded})
	m.Scheduled("shop", "orders", mirrorsync.ModeIncremental, 15*time.Minute)
	series, help := gathered(t, reg)
	check(t, series, map[string]float64{
		`storemirror_reconcile_repairs_total{entity="orders",source="shop"}`:                       3,
		`storemirror_reconcile_runs_total{entity="orders",source="shop",status="succeeded"}`:       1,
		`storemirror_reconcile_schedule_seconds{entity="orders",mode="incremental",source="shop"}`: 900,
	})
	for name, want := range map[string]string{
		"storemirror_reconcile_repairs_total":    "Rows a reconcile pass had to create, change or delete because the webhooks had not delivered the change, by source and entity.",
		"storemirror_reconcile_runs_total":       "Reconcile passes by source, entity and outcome.",
		"storemirror_reconcile_schedule_seconds": "The longest wait between two scheduled reconcile passes of the source, entity and mode (no series: the mode has no schedule).",
	} {
		if help[name] != want {
			t.Errorf("%s help %q, want %q", name, help[name], want)
		}
	}
}

type backlog struct {
	n      int64
	oldest time.Time
	err    error
}

func (b backlog) InboxBacklog(context.Context) (int64, time.Time, error) { return b.n, b.oldest, b.err }

func TestBacklog(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.RegisterBacklog(reg, backlog{n: 4, oldest: time.Now().Add(-time.Hour)})
	series, help := gathered(t, reg)
	if series["storemirror_inbox_backlog{}"] != 4 {
		t.Errorf("backlog %v, want 4", series)
	}
	if age := series["storemirror_inbox_oldest_pending_age_seconds{}"]; age < 3600 || age > 3700 {
		t.Errorf("oldest pending age %v s, want an hour", age)
	}
	if help["storemirror_inbox_backlog"] != "Stored webhook events waiting to be applied or retried." ||
		help["storemirror_inbox_oldest_pending_age_seconds"] != "Age of the oldest webhook event not yet applied (0 when none)." {
		t.Errorf("help %v", help)
	}
	failing := prometheus.NewRegistry()
	metrics.RegisterBacklog(failing, backlog{err: errors.New("database down")})
	if _, err := failing.Gather(); err == nil {
		t.Error("a backlog that cannot be read gathered without error")
	}
}
