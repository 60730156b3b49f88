package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"
)

// figure is one row of issue 13's table: a scenario, measured for every binary, and the
// pgbench runs it is a ratio to.
type figure struct {
	Key     string
	Title   string
	Goal    string
	Clients int
	Kind    string // ingest, e2e or lag
	// Pgbench holds pgbench run before the binaries and again after them: a ratio is to their
	// mean, and two rates far apart show a machine whose disk changed speed during the run.
	Pgbench []pgbenchRun
	Runs    map[string]*daemonRun // by binary name
}

var allFigures = []figure{
	{Key: "ingest16", Kind: "ingest", Clients: 16, Goal: "≥ 1.0×",
		Title: "ingest (events of an unknown type: stored, then ignored), 16 clients"},
	{Key: "ingest64", Kind: "ingest", Clients: 64, Goal: "≥ 1.0×",
		Title: "ingest, 64 clients"},
	{Key: "e2e64", Kind: "e2e", Clients: 64, Goal: "≥ 0.5×",
		Title: "end to end (3-variant snapshots, stored and applied), 64 clients"},
	{Key: "lag", Kind: "lag", Goal: "p99 < 1 s",
		Title: "lag from 2xx to mirror row"},
}

// pgbenchRate is the mean rate of the figure's pgbench runs.
func (f figure) pgbenchRate() float64 {
	var sum float64
	for _, p := range f.Pgbench {
		sum += p.Summary.Rate
	}
	if len(f.Pgbench) == 0 {
		return 0
	}
	return sum / float64(len(f.Pgbench))
}

// ratio is a run's rate over its pgbench's.
func (f figure) ratio(r *daemonRun) float64 {
	pg := f.pgbenchRate()
	if pg == 0 {
		return 0
	}
	rate := r.Summary.Rate
	if f.Kind == "e2e" {
		rate = r.Rate
	}
	return rate / pg
}

// report is the benchmark's result, as markdown.
type report struct {
	Date     time.Time
	Machine  string
	Fsync    string
	Settings string
	Daemon   string // the daemon settings used
	Command  string
	Binaries []binary
	Figures  []figure
	Warmup   time.Duration
	Measure  time.Duration
	LagRate  float64
	LagFor   time.Duration
	// Load is the load average when the run began and when it ended.
	Load [2]string
}

func (r report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "End to end, `make bench` (%s), on %s (load average %s at the start, %s at the end). PostgreSQL durable: %s. %s.\n\n",
		r.Date.Format("2006-01-02"), r.Machine, r.Load[0], r.Load[1], r.Settings, r.Fsync)
	b.WriteString("| figure | goal | pgbench, same body and clients |")
	for _, bin := range r.Binaries {
		fmt.Fprintf(&b, " %s (%s) |", bin.Name, bin.Label)
	}
	b.WriteString("\n|---|---|---|")
	b.WriteString(strings.Repeat("---|", len(r.Binaries)))
	b.WriteString("\n")
	for _, f := range r.Figures {
		title := f.Title
		if f.Kind == "lag" {
			title = fmt.Sprintf("%s, p99, at a steady %s requests/s", f.Title, count(r.LagRate))
		}
		fmt.Fprintf(&b, "| %s | %s | %s |", title, f.Goal, pgbenchCell(f))
		for _, bin := range r.Binaries {
			fmt.Fprintf(&b, " %s |", runCell(f, f.Runs[bin.Name]))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nWhere the time went, over each measured window (CPU in % of one core; WAL from pg_stat_wal, commits of the run's database):\n\n")
	b.WriteString("| run | daemon CPU | PostgreSQL CPU | generator CPU | deliveries per WAL flush | commits per flush | ms per flush | WAL per delivery | full-page images | backlog at the end |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		pgbenchRow := func(i int) {
			if i >= len(f.Pgbench) {
				return
			}
			p := f.Pgbench[i]
			perSync, perDelivery := p.WAL.perDelivery(p.Summary.OK)
			fmt.Fprintf(&b, "| %s: pgbench %s | — | %.0f %% | %.0f %% | %.1f | %.1f | %.2f | %s | %.0f %% | — |\n", f.Key, pgbenchWhen[i],
				p.CPU.Postgres, p.CPU.Generator, perSync, p.WAL.CommitsPerSync, p.WAL.SyncMS, bytesText(perDelivery), 100*p.WAL.FPIShare)
		}
		pgbenchRow(0) // in the order they ran
		for _, bin := range r.Binaries {
			d := f.Runs[bin.Name]
			if d == nil {
				continue
			}
			perSync, perDelivery := d.WAL.perDelivery(d.Summary.OK)
			fmt.Fprintf(&b, "| %s: %s | %.0f %% | %.0f %% | %.0f %% | %.1f | %.1f | %.2f | %s | %.0f %% | %s |\n", f.Key, bin.Name,
				d.CPU.Daemon, d.CPU.Postgres, d.CPU.Generator, perSync, d.WAL.CommitsPerSync, d.WAL.SyncMS, bytesText(perDelivery),
				100*d.WAL.FPIShare, count(float64(d.Backlog)))
		}
		pgbenchRow(1)
	}
	fmt.Fprintf(&b, "\nHow: %s. Closed-loop runs take %v of warm-up, then %v measured; "+
		"ratios are to pgbench inserting the same body, one row per transaction, into a table of the same server at the same concurrency, in the same run "+
		"(the mean of its runs before and after the daemons'). "+
		"End to end is every delivery answered 2xx over the time from the first request to the last one applied. "+
		"Lag is measured from outside: a poller looks every 20 ms for the products answered 2xx and not yet seen (an upper bound, 20 ms coarse); "+
		"`mirrored_at` less the 2xx time (a lower bound) is in brackets. Daemon settings: %s.\n",
		"`"+r.Command+"`", r.Warmup, r.Measure, r.Daemon)
	return b.String()
}

// pgbenchWhen names the runs of figure.Pgbench.
var pgbenchWhen = [...]string{"before", "after"}

func pgbenchCell(f figure) string {
	if len(f.Pgbench) == 0 {
		return "—"
	}
	var runs []string
	for i, p := range f.Pgbench {
		runs = append(runs, fmt.Sprintf("%s %s/s, p50 %s, p99 %s", pgbenchWhen[i], count(p.Summary.Rate), ms(p.Summary.P50), ms(p.Summary.P99)))
	}
	return fmt.Sprintf("%s/s (%s; %s body)", count(f.pgbenchRate()), strings.Join(runs, "; "), bytesText(float64(f.Pgbench[0].Body)))
}

func runCell(f figure, d *daemonRun) string {
	if d == nil {
		return "—"
	}
	s := d.Summary
	failed := ""
	if len(s.Failed) > 0 {
		failed = ", not 2xx: " + s.FailedString()
	}
	switch f.Kind {
	case "lag":
		l := d.Lag
		return fmt.Sprintf("**%s** (p50 %s, p90 %s, max %s; [%s, %s]; %s/s answered, %d late%s)",
			ms(l.P99), ms(l.P50), ms(l.P90), ms(l.Max), ms(l.StampedP50), ms(l.StampedP99), count(l.Achieved), l.Late, failed)
	case "e2e":
		return fmt.Sprintf("**%.2f×** (%s/s; posting %s/s, p50 %s, p99 %s%s)",
			f.ratio(d), count(d.Rate), count(s.Rate), ms(s.P50), ms(s.P99), failed)
	}
	return fmt.Sprintf("**%.2f×** (%s/s, p50 %s, p99 %s%s)", f.ratio(d), count(s.Rate), ms(s.P50), ms(s.P99), failed)
}

// count renders a number with thousands separators: 12,345.
func count(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func bytesText(n float64) string {
	if n >= 1024 {
		return fmt.Sprintf("%.1f kB", n/1024)
	}
	return fmt.Sprintf("%.0f B", n)
}

// Markers of the README's generated section.
const (
	beginMarker = "<!-- storemirror-bench: begin (written by make bench) -->"
	endMarker   = "<!-- storemirror-bench: end -->"
)

// writeReadme replaces the section between the markers in the file at path with text.
func writeReadme(path, text string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i, j := bytes.Index(b, []byte(beginMarker)), bytes.Index(b, []byte(endMarker))
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q … %q section to write", path, beginMarker, endMarker)
	}
	var out bytes.Buffer
	out.Write(b[:i+len(beginMarker)])
	out.WriteString("\n" + text)
	out.Write(b[j:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
