package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Apply is the apply workers' metrics.
type Apply struct {
	events   *prometheus.CounterVec
	duration prometheus.Histogram
	drift    *prometheus.CounterVec
	clock    *prometheus.CounterVec
}

var _ mirrorsync.ApplyObserver = (*Apply)(nil)

// NewApply registers the apply workers' metrics with reg.
func NewApply(reg prometheus.Registerer) *Apply {
	m := &Apply{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_inbox_events_total",
			Help: "Stored webhook events processed, by source and outcome (applied, ignored, failed): by the apply workers, and those ignored at receipt (a type the mirror does not take).",
		}, []string{"source", "status"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "storemirror_apply_duration_seconds",
			Help:    "Time to decode and apply one batch of inbox events.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_drift_total",
			Help: "Rows whose mirror values differed from the provider's stated previous state (missed webhooks), by source.",
		}, []string{"source"}),
		clock: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_untrusted_clock_total",
			Help: "Events whose provider time was more than an hour ahead of their receipt, and were versioned at their receipt instead, by source.",
		}, []string{"source"}),
	}
	reg.MustRegister(m.events, m.duration, m.drift, m.clock)
	return m
}

// Declare gives every one of sources its series at 0: events applied, ignored and failed,
// drifted rows and untrusted clocks, so that a rate or an increase over them is 0, not "no
// data", before the first event.
func (m *Apply) Declare(sources []mirrorsync.StatusSource) {
	for _, s := range sources {
		for _, status := range []string{mirrorsync.EventApplied, mirrorsync.EventIgnored, mirrorsync.EventFailed} {
			m.events.WithLabelValues(s.Name, status)
		}
		m.drift.WithLabelValues(s.Name)
		m.clock.WithLabelValues(s.Name)
	}
}

// IgnoredAtReceipt counts a new delivery of source stored as ignored when it arrived: the
// workers never see it.
func (m *Apply) IgnoredAtReceipt(source string) {
	m.events.WithLabelValues(source, mirrorsync.EventIgnored).Inc()
}

// ObserveBatch implements mirrorsync.ApplyObserver.
func (m *Apply) ObserveBatch(b mirrorsync.Batch, took time.Duration) {
	m.duration.Observe(took.Seconds())
	for _, o := range b.Outcomes {
		m.events.WithLabelValues(o.Source, o.Status).Inc()
	}
	for _, k := range b.Result.Drifted {
		m.drift.WithLabelValues(k.Source).Inc()
	}
}

// UntrustedClock implements mirrorsync.ApplyObserver.
func (m *Apply) UntrustedClock(source string) {
	m.clock.WithLabelValues(source).Inc()
}

// BacklogSource reports the inbox backlog (package store implements it).
type BacklogSource interface {
	InboxBacklog(ctx context.Context) (int64, time.Time, error)
}

// backlogCollector reads the inbox backlog from the database at each scrape.
type backlogCollector struct {
	src     BacklogSource
	pending *prometheus.Desc
	oldest  *prometheus.Desc
}

// RegisterBacklog registers gauges of the inbox backlog, read from src at each scrape.
func RegisterBacklog(reg prometheus.Registerer, src BacklogSource) {
	reg.MustRegister(&backlogCollector{
		src: src,
		pending: prometheus.NewDesc("storemirror_inbox_backlog",
			"Stored webhook events waiting to be applied or retried.", nil, nil),
		oldest: prometheus.NewDesc("storemirror_inbox_oldest_pending_age_seconds",
			"Age of the oldest webhook event not yet applied (0 when none).", nil, nil),
	})
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldest
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, oldest, err := c.src.InboxBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
