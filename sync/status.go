package sync

import (
	"context"
	"fmt"
	"time"
)

// Status is what storemirror is doing, source by source: what GET /admin/status answers,
// `storemirror status` prints and the status page shows.
type Status struct {
	Version string         `json:"version"`
	Sources []SourceStatus `json:"sources"`
}

// SourceStatus is one configured source's state.
type SourceStatus struct {
	Name            string         `json:"name"`
	Kind            string         `json:"kind"`
	LastWebhookAt   *time.Time     `json:"last_webhook_at"`
	OldestPendingAt *time.Time     `json:"oldest_pending_at"`
	Events          EventCounts    `json:"events"`
	Entities        []EntityStatus `json:"entities"`
	// LatestFailed are the source's most recent failed events, newest first.
	LatestFailed []EventSummary `json:"latest_failed"`
	// Drift counts the rows whose webhook said the mirror held something else than the
	// provider had (a change was missed): they wait in sync.refetch for the next pass.
	Drift int64 `json:"drift"`
	// RepairsByDay covers the last StatusDays days (UTC), oldest first, one entry a day.
	RepairsByDay []DayRepairs `json:"repairs_by_day"`
	// Retrying counts the failed events (of Events.Failed) that will be tried again: the rest
	// failed for good. The gauges show it; the status JSON keeps its four counts of events.
	Retrying int64 `json:"-"`
}

// EventCounts are a source's inbox events by status.
type EventCounts struct {
	Pending int64 `json:"pending"`
	Applied int64 `json:"applied"`
	Ignored int64 `json:"ignored"`
	Failed  int64 `json:"failed"`
}

// EntityStatus is one reconciled entity of a source.
type EntityStatus struct {
	Entity        string     `json:"entity"`
	LastRun       *Run       `json:"last_run"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	NextRunAt     *time.Time `json:"next_run_at"`
	// RecentRuns are the latest runs, newest first (LastRun is the first).
	RecentRuns []Run `json:"recent_runs"`
	// ExpectedRows is how many rows the last succeeded pass of each mode fetched: what a
	// running pass of that mode is likely to fetch (its progress bar).
	ExpectedRows map[string]int `json:"expected_rows,omitempty"`
}

// EventSummary is a stored webhook event without its body (which may hold personal data).
type EventSummary struct {
	ID         int64     `json:"id" db:"id"`
	Source     string    `json:"source" db:"source"`
	DeliveryID string    `json:"delivery_id" db:"delivery_id"`
	EventType  string    `json:"event_type" db:"event_type"`
	ReceivedAt time.Time `json:"received_at" db:"received_at"`
	Status     string    `json:"status" db:"status"`
	Attempts   int       `json:"attempts" db:"attempts"`
	LastError  *string   `json:"last_error" db:"last_error"`
	// Origin is what last put the event to be applied: "webhook" (its delivery) or "replay"
	// (a replay, at ReplayedAt, which is null for the others).
	Origin     string     `json:"origin" db:"origin"`
	ReplayedAt *time.Time `json:"replayed_at" db:"replayed_at"`
}

// DayRepairs is what the passes of one source did on one UTC day.
type DayRepairs struct {
	Day        string `json:"day"` // 2006-01-02
	Runs       int64  `json:"runs"`
	Failed     int64  `json:"failed"`
	Repairs    int64  `json:"repairs"`
	Backfilled int64  `json:"backfilled"`
}

// StatusDays is how many days of repairs a status covers; StatusFailedEvents how many failed
// events it lists per source; StatusRecentRuns how many runs per entity.
const (
	StatusDays         = 14
	StatusFailedEvents = 5
	StatusRecentRuns   = 5
)

// StatusSource is a configured source as the status describes it.
type StatusSource struct {
	Name     string
	Kind     string
	Entities []string // what it reconciles (none without an api)
}

// StatusStore reads the state of sources (package store implements it). It reads only
// bounded things: counters, partial indexes and the latest rows of indexes.
type StatusStore interface {
	SourceStatuses(ctx context.Context, sources []StatusSource, now time.Time) ([]SourceStatus, error)
}

// NextRunFunc says when the next scheduled pass of (source, entity) runs (nil: none is).
type NextRunFunc func(source, entity string) *time.Time

// ReadStatus reads the status of sources, in their order.
func ReadStatus(ctx context.Context, st StatusStore, version string, sources []StatusSource, next NextRunFunc, now time.Time) (Status, error) {
	out, err := st.SourceStatuses(ctx, sources, now)
	if err != nil {
		return Status{}, fmt.Errorf("read status: %w", err)
	}
	for i := range out {
		for j := range out[i].Entities {
			e := &out[i].Entities[j]
			if next != nil {
				e.NextRunAt = next(out[i].Name, e.Entity)
			}
		}
	}
	return Status{Version: version, Sources: out}, nil
}

// EventFilter selects stored events (GET /admin/events): empty fields match everything.
type EventFilter struct {
	Source string
	Status string
	Limit  int
}

// RunFilter selects reconcile runs (GET /admin/runs): empty fields match everything.
type RunFilter struct {
	Source string
	Entity string
	Status string
	Limit  int
}

// Requeue selects stored events to apply again (POST /admin/replay).
type Requeue struct {
	Source string
	// All includes applied and ignored events; otherwise only failed ones are requeued.
	All   bool
	Since time.Time // received at or after (zero: any time)
	ID    int64     // when set, only this event
}
