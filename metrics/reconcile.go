package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Reconcile is the reconciler's metrics.
type Reconcile struct {
	repaired *prometheus.CounterVec
	backfill *prometheus.CounterVec
	runs     *prometheus.CounterVec
	schedule *prometheus.GaugeVec
}

var _ mirrorsync.PassObserver = (*Reconcile)(nil)

// NewReconcile registers the reconciler's metrics with reg.
func NewReconcile(reg prometheus.Registerer) *Reconcile {
	m := &Reconcile{
		repaired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_reconcile_repairs_total",
			Help: "Rows a reconcile pass had to create, change or delete because the webhooks had not delivered the change, by source and entity.",
		}, []string{"source", "entity"}),
		backfill: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_reconcile_backfilled_total",
			Help: "Rows the first complete pass into an entity the mirror had nothing of created (a backfill, not a repair), by source and entity.",
		}, []string{"source", "entity"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_reconcile_runs_total",
			Help: "Reconcile passes by source, entity and outcome.",
		}, []string{"source", "entity", "status"}),
		schedule: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "storemirror_reconcile_schedule_seconds",
			Help: "The longest wait between two scheduled reconcile passes of the source, entity and mode (no series: the mode has no schedule).",
		}, []string{"source", "entity", "mode"}),
	}
	reg.MustRegister(m.repaired, m.backfill, m.runs, m.schedule)
	return m
}

// Declare gives every entity of sources its series at 0: repairs, backfilled rows, and
// passes succeeded and failed, so that a rate over them is 0 before anything happens.
func (m *Reconcile) Declare(sources []mirrorsync.StatusSource) {
	for _, s := range sources {
		for _, e := range s.Entities {
			m.repaired.WithLabelValues(s.Name, e)
			m.backfill.WithLabelValues(s.Name, e)
			m.runs.WithLabelValues(s.Name, e, mirrorsync.RunSucceeded)
			m.runs.WithLabelValues(s.Name, e, mirrorsync.RunFailed)
		}
	}
}

// Scheduled records that the scheduled passes of (source, entity, mode) are never more than
// every apart: how long an alert may wait before the next one is overdue. A mode without a
// schedule has no series.
func (m *Reconcile) Scheduled(source, entity, mode string, every time.Duration) {
	m.schedule.WithLabelValues(source, entity, mode).Set(every.Seconds())
}

// Repaired implements mirrorsync.PassObserver.
func (m *Reconcile) Repaired(source, entity string, n int) {
	if n > 0 {
		m.repaired.WithLabelValues(source, entity).Add(float64(n))
	}
}

// Backfilled implements mirrorsync.PassObserver.
func (m *Reconcile) Backfilled(source, entity string, n int) {
	if n > 0 {
		m.backfill.WithLabelValues(source, entity).Add(float64(n))
	}
}

// Finished implements mirrorsync.PassObserver.
func (m *Reconcile) Finished(run mirrorsync.Run) {
	m.runs.WithLabelValues(run.Source, run.Entity, run.Status).Inc()
}
