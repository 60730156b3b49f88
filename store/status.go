package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// SourceStatuses implements mirrorsync.StatusStore, in one read-only snapshot. Every query is
// bounded whatever the size of the inbox: the newest or oldest row of an index per source,
// the counters of sync.inbox_counts, the few latest rows of each source's failed events and
// each entity's runs, and a fortnight of sync.reconcile_days.
func (db *DB) SourceStatuses(ctx context.Context, sources []mirrorsync.StatusSource, now time.Time) ([]mirrorsync.SourceStatus, error) {
	return db.readStatus(ctx, sources, now, true)
}

// SourceGauges reads the part of SourceStatuses the daemon's gauges show: each source's last
// webhook and inbox counts, and each entity's last success.
func (db *DB) SourceGauges(ctx context.Context, sources []mirrorsync.StatusSource) ([]mirrorsync.SourceStatus, error) {
	return db.readStatus(ctx, sources, time.Now(), false)
}

// readStatus reads the status of sources; all of it, or only what the gauges show.
func (db *DB) readStatus(ctx context.Context, sources []mirrorsync.StatusSource, now time.Time, all bool) ([]mirrorsync.SourceStatus, error) {
	out := make([]mirrorsync.SourceStatus, len(sources))
	byName := map[string]*mirrorsync.SourceStatus{}
	names := make([]string, len(sources))
	var pairSources, pairEntities []string
	for i, s := range sources {
		out[i] = mirrorsync.SourceStatus{Name: s.Name, Kind: s.Kind, Entities: []mirrorsync.EntityStatus{},
			LatestFailed: []mirrorsync.EventSummary{}}
		for _, e := range s.Entities {
			out[i].Entities = append(out[i].Entities, mirrorsync.EntityStatus{Entity: e, RecentRuns: []mirrorsync.Run{}})
			pairSources, pairEntities = append(pairSources, s.Name), append(pairEntities, e)
		}
		byName[s.Name], names[i] = &out[i], s.Name
	}
	tx, err := db.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	defer tx.Rollback()
	steps := []func() error{
		func() error { return readInboxTimes(ctx, tx, names, byName) },
		func() error { return readInboxCounts(ctx, tx, names, byName) },
		func() error { return readRetrying(ctx, tx, names, byName) },
		func() error { return readLastSuccesses(ctx, tx, pairSources, pairEntities, byName) },
	}
	if all {
		steps = append(steps,
			func() error { return readLatestFailed(ctx, tx, names, byName) },
			func() error { return readRecentRuns(ctx, tx, pairSources, pairEntities, byName) },
			func() error { return readRepairDays(ctx, tx, names, byName, now) })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("read status: %w", err)
		}
	}
	return out, nil
}

// readInboxTimes reads each source's last delivery (the newest entry of the (source,
// received_at) index), its oldest pending event (of the partial index of open events) and how
// many rows wait in sync.refetch.
func readInboxTimes(ctx context.Context, tx *sqlx.Tx, names []string, by map[string]*mirrorsync.SourceStatus) error {
	const query = `
		SELECT s.source,
		       (SELECT max(received_at) FROM sync.webhook_events e WHERE e.source = s.source) AS last_webhook_at,
		       (SELECT min(received_at) FROM sync.webhook_events e WHERE e.source = s.source AND e.status = 'pending') AS oldest_pending_at,
		       (SELECT count(*) FROM sync.refetch r WHERE r.source = s.source) AS drift
		FROM unnest($1::text[]) AS s(source)`
	rows, err := tx.QueryContext(ctx, query, pq.StringArray(names))
	if err != nil {
		return fmt.Errorf("inbox times: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var last, oldest sql.NullTime
		var drift int64
		if err := rows.Scan(&name, &last, &oldest, &drift); err != nil {
			return fmt.Errorf("inbox times: %w", err)
		}
		s := by[name]
		s.LastWebhookAt, s.OldestPendingAt, s.Drift = timePtr(last), timePtr(oldest), drift
	}
	return rows.Err()
}

func readInboxCounts(ctx context.Context, tx *sqlx.Tx, names []string, by map[string]*mirrorsync.SourceStatus) error {
	counts, err := inboxCounts(ctx, tx, names)
	if err != nil {
		return err
	}
	for name, c := range counts {
		if s, ok := by[name]; ok {
			s.Events = c
		}
	}
	return nil
}

// readRetrying counts each source's failed events that are due again. They are in the partial
// index of due events, which holds only the backlog; an event failed for good has no due_at.
// Read in the same snapshot as the counts, so that failed less retrying is exact.
func readRetrying(ctx context.Context, tx *sqlx.Tx, names []string, by map[string]*mirrorsync.SourceStatus) error {
	const query = `
		SELECT source, count(*) FROM sync.webhook_events
		WHERE due_at IS NOT NULL AND status = 'failed' AND source = ANY($1::text[])
		GROUP BY source`
	rows, err := tx.QueryContext(ctx, query, pq.StringArray(names))
	if err != nil {
		return fmt.Errorf("retrying events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return fmt.Errorf("retrying events: %w", err)
		}
		by[name].Retrying = n
	}
	return rows.Err()
}

func readLatestFailed(ctx context.Context, tx *sqlx.Tx, names []string, by map[string]*mirrorsync.SourceStatus) error {
	query := `
		SELECT e.id, e.source, e.delivery_id, e.event_type, e.received_at, e.status, e.attempts, e.last_error,
			e.replayed_at, e.origin
		FROM unnest($1::text[]) AS s(source)
		CROSS JOIN LATERAL (
			SELECT id, source, delivery_id, event_type, received_at, status, attempts, last_error, replayed_at, ` + eventOrigin + `
			FROM sync.webhook_events WHERE source = s.source AND status = 'failed'
			ORDER BY received_at DESC, id DESC LIMIT $2) AS e`
	var evs []mirrorsync.EventSummary
	if err := sqlx.SelectContext(ctx, tx, &evs, query, pq.StringArray(names), mirrorsync.StatusFailedEvents); err != nil {
		return fmt.Errorf("latest failed events: %w", err)
	}
	for _, ev := range evs {
		s := by[ev.Source]
		s.LatestFailed = append(s.LatestFailed, ev)
	}
	return nil
}

// entityOf finds the status of (source, entity).
func entityOf(by map[string]*mirrorsync.SourceStatus, source, entity string) *mirrorsync.EntityStatus {
	s := by[source]
	for i := range s.Entities {
		if s.Entities[i].Entity == entity {
			return &s.Entities[i]
		}
	}
	return nil
}

func readRecentRuns(ctx context.Context, tx *sqlx.Tx, sources, entities []string, by map[string]*mirrorsync.SourceStatus) error {
	query := `
		SELECT r.* FROM unnest($1::text[], $2::text[]) AS k(source, entity)
		CROSS JOIN LATERAL (
			SELECT ` + runColumns + ` FROM sync.reconcile_runs
			WHERE source = k.source AND entity = k.entity ORDER BY id DESC LIMIT $3) AS r
		ORDER BY r.source, r.entity, r.id DESC`
	var runs []mirrorsync.Run
	if err := sqlx.SelectContext(ctx, tx, &runs, query, pq.StringArray(sources), pq.StringArray(entities), mirrorsync.StatusRecentRuns); err != nil {
		return fmt.Errorf("recent runs: %w", err)
	}
	for _, run := range runs {
		e := entityOf(by, run.Source, run.Entity)
		e.RecentRuns = append(e.RecentRuns, run)
		if e.LastRun == nil {
			e.LastRun = &e.RecentRuns[0]
		}
	}
	for _, s := range by {
		for i := range s.Entities {
			if e := &s.Entities[i]; len(e.RecentRuns) > 0 {
				e.LastRun = &e.RecentRuns[0] // the slice may have moved while it grew
			}
		}
	}
	return nil
}

// readLastSuccesses reads, per entity and mode, the last succeeded pass: when it ended, and
// what it fetched (what a running pass of that mode is likely to fetch).
func readLastSuccesses(ctx context.Context, tx *sqlx.Tx, sources, entities []string, by map[string]*mirrorsync.SourceStatus) error {
	const query = `
		SELECT k.source, k.entity, m.mode, x.finished_at, x.fetched
		FROM unnest($1::text[], $2::text[]) AS k(source, entity)
		CROSS JOIN unnest(ARRAY['full', 'incremental']) AS m(mode)
		CROSS JOIN LATERAL (
			SELECT finished_at, fetched FROM sync.reconcile_runs
			WHERE source = k.source AND entity = k.entity AND status = 'succeeded' AND mode = m.mode
			ORDER BY finished_at DESC LIMIT 1) AS x`
	rows, err := tx.QueryContext(ctx, query, pq.StringArray(sources), pq.StringArray(entities))
	if err != nil {
		return fmt.Errorf("last successes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var source, entity, mode string
		var finished time.Time
		var fetched int
		if err := rows.Scan(&source, &entity, &mode, &finished, &fetched); err != nil {
			return fmt.Errorf("last successes: %w", err)
		}
		e := entityOf(by, source, entity)
		if e.LastSuccessAt == nil || finished.After(*e.LastSuccessAt) {
			e.LastSuccessAt = &finished
		}
		if e.ExpectedRows == nil {
			e.ExpectedRows = map[string]int{}
		}
		e.ExpectedRows[mode] = fetched
	}
	return rows.Err()
}

// readRepairDays reads the last StatusDays days of sync.reconcile_days, one entry a day.
func readRepairDays(ctx context.Context, tx *sqlx.Tx, names []string, by map[string]*mirrorsync.SourceStatus, now time.Time) error {
	first := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1-mirrorsync.StatusDays)
	const query = `
		SELECT source, day::text, sum(runs), sum(failed), sum(repairs), sum(backfilled)
		FROM sync.reconcile_days WHERE source = ANY($1::text[]) AND day >= $2::date
		GROUP BY source, day`
	rows, err := tx.QueryContext(ctx, query, pq.StringArray(names), first.Format(time.DateOnly))
	if err != nil {
		return fmt.Errorf("repairs by day: %w", err)
	}
	defer rows.Close()
	got := map[[2]string]mirrorsync.DayRepairs{}
	for rows.Next() {
		var source string
		var d mirrorsync.DayRepairs
		if err := rows.Scan(&source, &d.Day, &d.Runs, &d.Failed, &d.Repairs, &d.Backfilled); err != nil {
			return fmt.Errorf("repairs by day: %w", err)
		}
		got[[2]string{source, d.Day}] = d
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("repairs by day: %w", err)
	}
	for _, name := range names {
		s := by[name]
		s.RepairsByDay = make([]mirrorsync.DayRepairs, mirrorsync.StatusDays)
		for i := range s.RepairsByDay {
			day := first.AddDate(0, 0, i).Format(time.DateOnly)
			d := got[[2]string{name, day}]
			d.Day = day
			s.RepairsByDay[i] = d
		}
	}
	return nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
