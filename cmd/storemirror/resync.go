package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

type resyncOptions struct {
	source   *string
	entities *stringList
	mode     *string
}

type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func resyncFlags(fs *flag.FlagSet) resyncOptions {
	o := resyncOptions{entities: &stringList{}}
	o.source = fs.String("source", "", "the source to reconcile (required)")
	fs.Var(o.entities, "entity", "an entity to reconcile (repeatable; default: all the source has)")
	o.mode = fs.String("mode", mirrorsync.ModeIncremental, "full or incremental")
	return o
}

// resync runs a reconcile now, in this process, one entity after another, showing progress on
// a terminal and a summary at the end. It fails if any pass failed.
func (m *Main) resync(ctx context.Context, path string, o resyncOptions) error {
	if *o.source == "" {
		return usagef("resync: --source is required")
	}
	if *o.mode != mirrorsync.ModeFull && *o.mode != mirrorsync.ModeIncremental {
		return usagef("resync: --mode must be full or incremental, not %q", *o.mode)
	}
	cfg, log, db, srcs, err := m.open(ctx, path, &LogConfig{Level: "warn", Format: "text"}) // keep the display readable
	if err != nil {
		return err
	}
	defer db.Close()
	r := newReconciler(db, srcs, log, nil, cfg.Database.MaxConns) // no /metrics here: the daemon counts the repairs (ReportRepairs)
	entities, err := r.Entities(*o.source, *o.entities)
	if err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	failed := 0
	for _, entity := range entities {
		p := newProgress(m.Stderr, *o.source+"/"+entity)
		run, err := r.RunOnce(ctx, *o.source, entity, mirrorsync.PassOptions{
			Mode: *o.mode, Trigger: mirrorsync.TriggerManual, Wait: true, OnPage: p.update,
		})
		p.done()
		if rerr := db.ReportRepairs(context.WithoutCancel(ctx), run); rerr != nil {
			fmt.Fprintf(m.Stderr, "%s/%s: its repairs will not reach the daemon's metrics: %v\n", *o.source, entity, rerr)
		}
		fmt.Fprintln(m.Stdout, summary(run, err))
		if err != nil {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("resync: %d of %d passes failed", failed, len(entities))
	}
	return nil
}

func summary(run mirrorsync.Run, err error) string {
	if run.ID == 0 {
		return fmt.Sprintf("%s/%s: failed: %v", run.Source, run.Entity, err)
	}
	took := ""
	if run.FinishedAt != nil && run.StartedAt != nil {
		took = " in " + run.FinishedAt.Sub(*run.StartedAt).Round(time.Millisecond).String()
	}
	s := fmt.Sprintf("%s/%s (%s, run %d): %s%s: %d pages, %d fetched, %d created, %d updated, %d deleted, %d unchanged",
		run.Source, run.Entity, run.Mode, run.ID, run.Status, took, run.Pages, run.Fetched, run.Created, run.Updated, run.Deleted, run.Unchanged)
	if run.Backfilled > 0 {
		s += fmt.Sprintf(", %d backfilled", run.Backfilled)
	}
	if run.Error != nil {
		s += "\n  error: " + *run.Error
	}
	return s
}

// progress redraws one status line per page when w is a terminal; otherwise it stays quiet.
type progress struct {
	w     io.Writer
	label string
	start time.Time
	tty   bool
	drawn bool
}

func newProgress(w io.Writer, label string) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, label: label, start: time.Now(), tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) update(run mirrorsync.Run) {
	if !p.tty {
		return
	}
	rate := float64(run.Fetched) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.w, "\r\033[K%s: page %d, %d rows (%d repaired), %.0f rows/s", p.label, run.Pages, run.Fetched,
		run.Created+run.Updated+run.Deleted, rate)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
