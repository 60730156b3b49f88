package sync

import (
	"errors"
	"time"
)

// Run is one reconcile pass over one (source, entity): a row of sync.reconcile_runs.
type Run struct {
	ID      int64  `json:"id" db:"id"`
	Source  string `json:"source" db:"source"`
	Entity  string `json:"entity" db:"entity"`
	Mode    string `json:"mode" db:"mode"`
	Trigger string `json:"trigger" db:"trigger"`
	Status  string `json:"status" db:"status"`
	// QueuedAt is when the pass was asked for; StartedAt when it started (nil while queued).
	QueuedAt   time.Time  `json:"queued_at" db:"queued_at"`
	StartedAt  *time.Time `json:"started_at" db:"started_at"`
	FinishedAt *time.Time `json:"finished_at" db:"finished_at"`
	Pages      int        `json:"pages" db:"pages"`
	Fetched    int        `json:"fetched" db:"fetched"`
	Created    int        `json:"created" db:"created"`
	Updated    int        `json:"updated" db:"updated"`
	Deleted    int        `json:"deleted" db:"deleted"`
	Unchanged  int        `json:"unchanged" db:"unchanged"`
	// Backfilled counts the rows a backfill created (see Backfill); they are not repairs.
	Backfilled int     `json:"backfilled" db:"backfilled"`
	Error      *string `json:"error" db:"error"`

	// Backfill marks the first complete pass into an entity the mirror had nothing of: the
	// rows it creates fill the mirror for the first time, they repair nothing.
	Backfill bool `json:"-" db:"-"`
}

// Repairs is what the pass had to fix: rows it created (outside a backfill), changed or deleted.
func (r Run) Repairs() int { return r.Created + r.Updated + r.Deleted }

// Finished reports whether the run has ended, well or not.
func (r Run) Finished() bool { return r.Status == RunSucceeded || r.Status == RunFailed }

// Reconcile modes, triggers and run states: the values of sync.reconcile_runs' mode, trigger
// and status.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"

	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerStartup  = "startup"

	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// ErrRunEnded is returned for an update of a run that has ended already: its process was
// found gone (it had lost its lock) and the run was marked failed.
var ErrRunEnded = errors.New("the run has ended already")

// Abandoned is the error of a run whose process stopped (killed, its host lost, its database
// session cut) before it recorded the end: what the sweep for abandoned runs writes.
const (
	AbandonedRunning = "abandoned: the process running this pass stopped before it ended"
	AbandonedQueued  = "abandoned: the process that queued this pass stopped before it began"
)
