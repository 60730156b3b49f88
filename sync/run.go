package sync

import "time"

// Run is one reconcile pass over one (source, entity): a row of sync.reconcile_runs.
type Run struct {
	ID         int64      `json:"id" db:"id"`
	Source     string     `json:"source" db:"source"`
	Entity     string     `json:"entity" db:"entity"`
	Mode       string     `json:"mode" db:"mode"`
	Trigger    string     `json:"trigger" db:"trigger"`
	Status     string     `json:"status" db:"status"`
	StartedAt  time.Time  `json:"started_at" db:"started_at"`
	FinishedAt *time.Time `json:"finished_at" db:"finished_at"`
	Pages      int        `json:"pages" db:"pages"`
	Fetched    int        `json:"fetched" db:"fetched"`
	Created    int        `json:"created" db:"created"`
	Updated    int        `json:"updated" db:"updated"`
	Deleted    int        `json:"deleted" db:"deleted"`
	Unchanged  int        `json:"unchanged" db:"unchanged"`
	Error      *string    `json:"error" db:"error"`
}

// Reconcile modes and triggers (CONTRACT §5).
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"

	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerStartup  = "startup"

	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)
