package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/internal/loadgen"
	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The growth harness (issue 13, part 3; make bench-scale, not in CI). Its sizes are multiplied
// by -scale-factor, so that -scale-factor 0.01 tries it in minutes. Events are put into the
// inbox with this tree's own store.InsertEvents (the daemon's ingest statement, without HTTP),
// so the harness measures binaries built from this tree's schema.

// runScale runs the growth harness parts for the first binary.
func runScale(ctx context.Context, b *bench, bins []binary, parts []string, factor float64) error {
	if len(parts) == 0 {
		return errNoScale
	}
	bin := bins[0]
	size := func(n int) int { return max(int(float64(n)*factor), 1000) }
	var out strings.Builder
	fmt.Fprintf(&out, "Growth (`storemirror-bench -scale`, %s, scale factor %g) of %s (%s) on %s:\n\n",
		time.Now().Format("2006-01-02"), factor, bin.Name, bin.Label, machine())
	for _, part := range parts {
		var err error
		switch strings.TrimSpace(part) {
		case "inbox":
			err = b.scaleInbox(ctx, bin, size(5_000_000), max(size(100_000), 20_000), &out)
		case "retention":
			err = b.scaleRetention(ctx, bin, size(1_000_000), &out)
		case "catalog":
			err = b.scaleCatalog(ctx, bin, []int{size(100_000), size(300_000), size(1_000_000)}, &out)
		default:
			err = fmt.Errorf("no growth harness part %q (inbox, retention, catalog)", part)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", part, err)
		}
	}
	fmt.Print(out.String())
	return nil
}

// scaleDB is a fresh database migrated by bin, with the store opened on it.
type scaleDB struct {
	name, url string
	store     *store.DB
	sql       *sqlx.DB
}

func (b *bench) newScaleDB(ctx context.Context, bin binary, name string) (*scaleDB, error) {
	url, err := b.server.createDatabase(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg := b.daemon
	cfg.DatabaseURL = url
	cfg.Sources = []daemon.Source{{Name: "sticky", Kind: "stickyio", Secrets: []string{stickyKey}}}
	cmd, err := daemon.Command(bin.Path, b.tmp, cfg, "migrate")
	if err != nil {
		return nil, err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("storemirror migrate: %w\n%s", err, out)
	}
	st, err := store.Open(ctx, url, 4)
	if err != nil {
		return nil, err
	}
	return &scaleDB{name: name, url: url, store: st, sql: st.SQL()}, nil
}

func (d *scaleDB) close(ctx context.Context, s *server) {
	d.store.Close()
	s.dropDatabase(ctx, d.name)
}

// fill puts n pending events of an unknown type (ids prefix-i) into the inbox, as the ingest
// path would, two batches of 2,000 at a time.
func (d *scaleDB) fill(ctx context.Context, prefix string, n int) error {
	gen := generator()
	const batch = 2000
	errs := make(chan error, 2)
	for w := range 2 {
		go func() {
			for from := w * batch; from < n; from += 2 * batch {
				ds := make([]mirrorsync.Delivery, 0, batch)
				for i := from; i < min(from+batch, n); i++ {
					req, err := gen.Unknown(fmt.Sprint(prefix, i), i)
					if err != nil {
						errs <- err
						return
					}
					ds = append(ds, mirrorsync.Delivery{Source: "sticky", ID: req.ID, Type: "offer.updated", Body: req.Body})
				}
				if _, err := d.store.InsertEvents(ctx, ds); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	return errorOf(<-errs, <-errs)
}

func errorOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// startOn starts bin on the database with the benchmark's daemon settings, changed by edit.
func (b *bench) startOn(ctx context.Context, bin binary, d *scaleDB, edit func(*daemon.Config)) (*daemon.Process, error) {
	cfg := b.daemon
	cfg.DatabaseURL = d.url
	cfg.Sources = []daemon.Source{{Name: "sticky", Kind: "stickyio", Secrets: []string{stickyKey}}}
	if edit != nil {
		edit(&cfg)
	}
	dir, err := os.MkdirTemp(b.tmp, "daemon-")
	if err != nil {
		return nil, err
	}
	return daemon.Start(ctx, bin.Path, dir, cfg)
}

// ingestRate runs a closed loop of unknown-type events from 16 clients against p and
// summarises the measured window.
func (b *bench) ingestRate(ctx context.Context, p *daemon.Process, prefix string) (loadgen.Summary, error) {
	gen := generator()
	start := time.Now()
	results, err := loadgen.Run(ctx, loadgen.Options{
		Targets: []string{p.URL}, Concurrency: 16, Duration: b.warmup + b.measure,
		Next: func(i int) (loadgen.Request, error) { return gen.Unknown(fmt.Sprint(prefix, i), i) },
	})
	if err != nil {
		return loadgen.Summary{}, err
	}
	return loadgen.Summarize(results, start.Add(b.warmup), start.Add(b.warmup+b.measure)), nil
}

// claimRate fills n pending events, starts bin and measures how fast its workers take them
// (here: mark them ignored), from when it is ready until the backlog is gone or the measured
// window ends.
func (b *bench) claimRate(ctx context.Context, bin binary, d *scaleDB, prefix string, n int) (float64, error) {
	if err := d.fill(ctx, prefix, n); err != nil {
		return 0, err
	}
	if _, err := d.sql.ExecContext(ctx, `VACUUM ANALYZE sync.webhook_events`); err != nil {
		return 0, err
	}
	p, err := b.startOn(ctx, bin, d, func(c *daemon.Config) { c.LogLevel = "warn" })
	if err != nil {
		return 0, err
	}
	defer stop(bin, p)
	n0, err := pending(ctx, d.sql)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if n0 < n/2 {
		return 0, fmt.Errorf("the workers took %d of the backlog of %d before it could be timed: fill more", n-n0, n)
	}
	left := n0
	for left > 0 && time.Since(t0) < b.measure {
		if !sleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return 0, ctx.Err()
		}
		if left, err = pending(ctx, d.sql); err != nil {
			return 0, err
		}
	}
	rate := float64(n0-left) / time.Since(t0).Seconds()
	return rate, waitDrained(ctx, d.sql, time.Hour)
}

// scaleInbox compares ingest and claim rates on an empty inbox and on one of events events.
func (b *bench) scaleInbox(ctx context.Context, bin binary, events, backlog int, out *strings.Builder) error {
	d, err := b.newScaleDB(ctx, bin, "scale_inbox")
	if err != nil {
		return err
	}
	defer d.close(context.Background(), b.server)
	measure := func(label string) (loadgen.Summary, float64, error) {
		p, err := b.startOn(ctx, bin, d, nil)
		if err != nil {
			return loadgen.Summary{}, 0, err
		}
		ing, err := b.ingestRate(ctx, p, label+"-ingest-")
		stop(bin, p)
		if err != nil {
			return ing, 0, err
		}
		if err := waitDrained(ctx, d.sql, time.Hour); err != nil {
			return ing, 0, err
		}
		claim, err := b.claimRate(ctx, bin, d, label+"-claim-", backlog)
		fmt.Fprintf(os.Stderr, "inbox %s: ingest %s/s (p99 %s), claim %s/s\n", label, count(ing.Rate), ms(ing.P99), count(claim))
		return ing, claim, err
	}
	emptyIngest, emptyClaim, err := measure("empty")
	if err != nil {
		return err
	}
	start := time.Now()
	if err := d.fill(ctx, "grown-", events); err != nil {
		return err
	}
	filled := time.Since(start)
	p, err := b.startOn(ctx, bin, d, func(c *daemon.Config) { c.LogLevel = "warn" })
	if err != nil {
		return err
	}
	if err := waitDrained(ctx, d.sql, 4*time.Hour); err != nil {
		return err
	}
	stop(bin, p)
	drained := time.Since(start) - filled
	if _, err := d.sql.ExecContext(ctx, `VACUUM ANALYZE sync.webhook_events`); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "inbox: %d events filled in %v, applied in %v\n", events, filled.Round(time.Second), drained.Round(time.Second))
	fullIngest, fullClaim, err := measure("grown")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "| inbox of %s events vs empty (goal: within 20 %%) | empty | %s events | ratio |\n|---|---|---|---|\n", count(float64(events)), count(float64(events)))
	fmt.Fprintf(out, "| ingest, 16 clients | %s/s, p99 %s | %s/s, p99 %s | %.2f× |\n", count(emptyIngest.Rate), ms(emptyIngest.P99),
		count(fullIngest.Rate), ms(fullIngest.P99), fullIngest.Rate/emptyIngest.Rate)
	fmt.Fprintf(out, "| claim (a backlog of %s marked ignored) | %s/s | %s/s | %.2f× |\n", count(float64(backlog)), count(emptyClaim), count(fullClaim), fullClaim/emptyClaim)
	fmt.Fprintf(out, "\nFilling %s events took %v; the workers took them all in %v (%s/s).\n\n", count(float64(events)),
		filled.Round(time.Second), drained.Round(time.Second), count(float64(events)/drained.Seconds()))
	return nil
}

// scaleRetention measures ingest's p99 while the daemon prunes expired expired events,
// against its p99 with nothing to prune.
func (b *bench) scaleRetention(ctx context.Context, bin binary, expired int, out *strings.Builder) error {
	d, err := b.newScaleDB(ctx, bin, "scale_retention")
	if err != nil {
		return err
	}
	defer d.close(context.Background(), b.server)
	if err := d.fill(ctx, "old-", expired); err != nil {
		return err
	}
	keep := func(c *daemon.Config) { c.LogLevel = "warn" } // retention default: nothing this young expires
	p, err := b.startOn(ctx, bin, d, keep)
	if err != nil {
		return err
	}
	if err := waitDrained(ctx, d.sql, 4*time.Hour); err != nil {
		return err
	}
	idle, err := b.ingestRate(ctx, p, "idle-")
	stop(bin, p)
	if err != nil {
		return err
	}
	if err := waitDrained(ctx, d.sql, time.Hour); err != nil {
		return err
	}
	// With a retention of one minute, everything stored so far expires a minute from now.
	const retention = time.Minute
	sleepUntil(ctx, time.Now().Add(retention+5*time.Second))
	before := time.Now()
	p, err = b.startOn(ctx, bin, d, func(c *daemon.Config) { c.Retention = retention })
	if err != nil {
		return err
	}
	defer stop(bin, p)
	pruning, err := b.ingestRate(ctx, p, "pruning-")
	if err != nil {
		return err
	}
	done, pruned, err := pruneEnd(ctx, p, 2*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "retention: idle p99 %s, pruning p99 %s, %d pruned in %v\n", ms(idle.P99), ms(pruning.P99), pruned, done.Sub(before).Round(time.Second))
	note := ""
	if done.Before(before.Add(b.warmup + b.measure)) {
		note = " (the prune ended inside the window: make it longer, or prune more)"
	}
	fmt.Fprintf(out, "| retention: ingest, 16 clients (goal: p99 at most 2× idle) | idle | while pruning | ratio |\n|---|---|---|---|\n")
	fmt.Fprintf(out, "| p99 | %s | %s | %.2f× |\n| rate | %s/s | %s/s | %.2f× |\n\n", ms(idle.P99), ms(pruning.P99), float64(pruning.P99)/float64(idle.P99),
		count(idle.Rate), count(pruning.Rate), pruning.Rate/idle.Rate)
	fmt.Fprintf(out, "The daemon pruned %s expired events (the %s filled, and those of the idle run) in %v%s.\n\n",
		count(float64(pruned)), count(float64(expired)), done.Sub(before).Round(time.Second), note)
	return nil
}

// pruneEnd waits for the daemon's "pruned old inbox events" line and returns when it came and
// how many events it reports.
func pruneEnd(ctx context.Context, p *daemon.Process, limit time.Duration) (time.Time, int, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		entries, err := p.LogEntries("pruned old inbox events")
		if err != nil {
			return time.Time{}, 0, err
		}
		if len(entries) > 0 {
			at, _ := time.Parse(time.RFC3339, fmt.Sprint(entries[0]["time"]))
			n, _ := entries[0]["rows"].(float64)
			return at, int(n), nil
		}
		if !sleepUntil(ctx, time.Now().Add(time.Second)) {
			return time.Time{}, 0, ctx.Err()
		}
	}
	return time.Time{}, 0, fmt.Errorf("no prune finished within %v", limit)
}
