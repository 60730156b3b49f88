package metrics

import (
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// RegisterBuildInfo registers storemirror_build_info{version,goversion}, always 1.
func RegisterBuildInfo(reg prometheus.Registerer, version string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "storemirror_build_info",
		Help: "The storemirror build: always 1, with its version and the Go version it was built with.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	reg.MustRegister(g)
}

// Status is the gauges of what the database says about each configured source: when its last
// webhook was stored, its inbox events now pending, now failed, and failed for good, and when
// each entity's last pass succeeded. Every series exists from registration, at 0, so that an alert on a source that
// never received anything sees 0 and not "no data". The daemon sets them from the database on
// a timer (Set), not at each scrape; every daemon of one database shows the same values.
type Status struct {
	lastWebhook *prometheus.GaugeVec
	inbox       *prometheus.GaugeVec
	failedFinal *prometheus.GaugeVec
	lastSuccess *prometheus.GaugeVec
}

// The inbox statuses storemirror_inbox_events reports.
var gaugedStatuses = []string{"pending", "failed"}

// NewStatus registers the status gauges with reg, with a series at 0 for each of sources.
func NewStatus(reg prometheus.Registerer, sources []mirrorsync.StatusSource) *Status {
	m := &Status{
		lastWebhook: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storemirror_last_webhook_timestamp_seconds",
			Help: "When the source's last webhook delivery was stored (Unix seconds; 0: none yet).",
		}, []string{"source"}),
		inbox: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storemirror_inbox_events",
			Help: "The source's stored webhook events now pending (not applied yet) and now failed (until replayed).",
		}, []string{"source", "status"}),
		failedFinal: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storemirror_inbox_events_failed_for_good",
			Help: "The source's failed events that will not be tried again (refused, or out of attempts) until replayed: the failed events of storemirror_inbox_events less those waiting for a retry.",
		}, []string{"source"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storemirror_reconcile_last_success_timestamp_seconds",
			Help: "When the last succeeded reconcile pass of the source and entity ended (Unix seconds; 0: none yet).",
		}, []string{"source", "entity"}),
	}
	reg.MustRegister(m.lastWebhook, m.inbox, m.failedFinal, m.lastSuccess)
	for _, s := range sources {
		m.lastWebhook.WithLabelValues(s.Name).Set(0)
		m.failedFinal.WithLabelValues(s.Name).Set(0)
		for _, status := range gaugedStatuses {
			m.inbox.WithLabelValues(s.Name, status).Set(0)
		}
		for _, e := range s.Entities {
			m.lastSuccess.WithLabelValues(s.Name, e).Set(0)
		}
	}
	return m
}

// Set shows what a read of the sources' status found.
func (m *Status) Set(sources []mirrorsync.SourceStatus) {
	for _, s := range sources {
		if s.LastWebhookAt != nil {
			m.lastWebhook.WithLabelValues(s.Name).Set(unixSeconds(*s.LastWebhookAt))
		}
		m.inbox.WithLabelValues(s.Name, "pending").Set(float64(s.Events.Pending))
		m.inbox.WithLabelValues(s.Name, "failed").Set(float64(s.Events.Failed))
		m.failedFinal.WithLabelValues(s.Name).Set(float64(max(0, s.Events.Failed-s.Retrying)))
		for _, e := range s.Entities {
			if e.LastSuccessAt != nil {
				m.lastSuccess.WithLabelValues(s.Name, e.Entity).Set(unixSeconds(*e.LastSuccessAt))
			}
		}
	}
}

// unixSeconds is t as Prometheus timestamps are written: fractional Unix seconds.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
