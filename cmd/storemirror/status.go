package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// statusSources describes the configured sources to the status: kinds, and what each reconciles.
func statusSources(cfgs []SourceConfig, s sources) []mirrorsync.StatusSource {
	out := make([]mirrorsync.StatusSource, len(cfgs))
	for i, c := range cfgs {
		out[i] = mirrorsync.StatusSource{Name: c.Name, Kind: c.Kind}
		if p, ok := s.pullers[c.Name]; ok {
			out[i].Entities = p.Puller.Entities()
		}
	}
	return out
}

type statusOptions struct{ json *bool }

func statusFlags(fs *flag.FlagSet) statusOptions {
	return statusOptions{json: fs.Bool("json", false, "print the status as JSON (as GET /admin/status answers)")}
}

// status prints the state of every configured source, read from the database: no daemon
// needs to run, and nothing is migrated or changed.
func (m *Main) status(ctx context.Context, path string, o statusOptions) error {
	cfg, err := m.loadConfig(path)
	if err != nil {
		return err
	}
	srcs, err := buildSources(cfg.Sources)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.Database.URL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := ready(ctx, db); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	// A run its process left open would read as running for ever: mark it first, as a daemon
	// does every few seconds (the command may run with no daemon up).
	if _, err := db.SweepRuns(ctx); err != nil {
		fmt.Fprintf(m.Stderr, "status: runs left open by a process that stopped may show as running: %v\n", err)
	}
	now := time.Now()
	st, err := mirrorsync.ReadStatus(ctx, db, version, statusSources(cfg.Sources, srcs), nil, now)
	if err != nil {
		return err
	}
	for i := range st.Sources {
		c := cfg.Sources[i]
		for j := range st.Sources[i].Entities {
			e := &st.Sources[i].Entities[j]
			e.NextRunAt = nextFromSpecs([]string{c.Reconcile.Schedule, c.Reconcile.FullSchedule}, e.RecentRuns, now)
		}
	}
	if *o.json {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(m.Stdout, st, now)
	return nil
}

// nextFromSpecs says when the daemon's next scheduled pass runs, from the schedules alone (the
// command does not see the daemon's timers): the next time of a cron spec, or for @every the
// next multiple of its interval after the last scheduled pass was queued.
func nextFromSpecs(specs []string, recent []mirrorsync.Run, now time.Time) *time.Time {
	var next *time.Time
	for _, spec := range specs {
		if spec == "" {
			continue
		}
		sched, err := cronParser.Parse(spec)
		if err != nil {
			continue
		}
		t := sched.Next(now)
		if every, ok := sched.(cron.ConstantDelaySchedule); ok {
			for _, r := range recent {
				if r.Trigger == mirrorsync.TriggerSchedule || r.Trigger == mirrorsync.TriggerStartup {
					n := now.Sub(r.QueuedAt)/every.Delay + 1
					t = r.QueuedAt.Add(n * every.Delay).Truncate(time.Second)
					break
				}
			}
		}
		if next == nil || t.Before(*next) {
			u := t.UTC()
			next = &u
		}
	}
	return next
}

// printStatus writes the status as two tables: the sources, then their entities.
func printStatus(w io.Writer, st mirrorsync.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "storemirror %s\n\n", st.Version)
	fmt.Fprintln(tw, "SOURCE\tKIND\tLAST WEBHOOK\tOLDEST PENDING\tPENDING\tAPPLIED\tIGNORED\tFAILED\tDRIFT")
	for _, s := range st.Sources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", s.Name, s.Kind, ago(s.LastWebhookAt, now), ago(s.OldestPendingAt, now),
			s.Events.Pending, s.Events.Applied, s.Events.Ignored, s.Events.Failed, s.Drift)
	}
	fmt.Fprintln(tw, "\nSOURCE\tENTITY\tLAST RUN\tROWS\tREPAIRS\tLAST SUCCESS\tNEXT RUN")
	for _, s := range st.Sources {
		for _, e := range s.Entities {
			last, rows, repairs := "never", "-", "-"
			if r := e.LastRun; r != nil {
				last = fmt.Sprintf("#%d %s %s (%s)", r.ID, r.Mode, r.Status, r.Trigger)
				rows, repairs = fmt.Sprint(r.Fetched), fmt.Sprint(r.Repairs())
				if r.Backfilled > 0 {
					repairs += fmt.Sprintf(" (+%d backfilled)", r.Backfilled)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, e.Entity, last, rows, repairs, ago(e.LastSuccessAt, now), until(e.NextRunAt, now))
		}
	}
	_ = tw.Flush() // to the terminal, like the lines written to it
	for _, s := range st.Sources {
		for _, ev := range s.LatestFailed {
			reason := ""
			if ev.LastError != nil {
				reason = *ev.LastError
			}
			fmt.Fprintf(w, "failed: %s event %d (%s, %s): %s\n", s.Name, ev.ID, ev.EventType, ev.DeliveryID, strings.TrimSpace(reason))
		}
	}
}

// ago renders a time as UTC with how long ago it was; "-" for none.
func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format("2006-01-02 15:04:05"), now.Sub(*t).Round(time.Second))
}

func until(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprintf("%s (in %s)", t.UTC().Format("2006-01-02 15:04:05"), t.Sub(now).Round(time.Second))
}
