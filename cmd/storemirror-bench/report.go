package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// figure is one row of issue 13's table: a scenario, measured for every binary in each round,
// and the pgbench runs it is a ratio to.
type figure struct {
	Key     string
	Title   string
	Goal    string
	Clients int
	Kind    string // ingest, e2e or lag
	// Pgbench holds pgbench run before each round and once after the last: round k lies
	// between Pgbench[k] and Pgbench[k+1], and its ratios are to their mean.
	Pgbench []pgbenchRun
	Runs    map[string][]*daemonRun // by binary name, one per round
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

// ratio is the rate of binary bin in round k over the mean of the pgbench runs either side
// of that round.
func (f figure) ratio(bin string, k int) float64 {
	if k+1 >= len(f.Pgbench) || k >= len(f.Runs[bin]) {
		return 0
	}
	pg := (f.Pgbench[k].Summary.Rate + f.Pgbench[k+1].Summary.Rate) / 2
	if pg == 0 {
		return 0
	}
	return f.rate(f.Runs[bin][k]) / pg
}

// rate is what a run of f is measured by: deliveries answered per second, or for end to end
// deliveries applied per second.
func (f figure) rate(r *daemonRun) float64 {
	if f.Kind == "e2e" {
		return r.Rate
	}
	return r.Summary.Rate
}

// median is the round of bin that stands for it: its median ratio to pgbench (for the lag
// figure, its median p99). With an even number of rounds, the worse of the middle two.
func (f figure) median(bin string) int {
	runs := f.Runs[bin]
	order := make([]int, len(runs))
	for k := range order {
		order[k] = k
	}
	key := func(k int) float64 {
		if f.Kind == "lag" {
			return -float64(runs[k].Lag.P99) // lower lag is better
		}
		return f.ratio(bin, k)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(key(a), key(b)) })
	if len(order) == 0 {
		return -1
	}
	return order[(len(order)-1)/2]
}

// medianPgbench is the pgbench run of median rate (the lower of the middle two when there is an
// even number): what the report shows of pgbench. Ratios are to the runs either side of each
// round instead (see ratio).
func (f figure) medianPgbench() *pgbenchRun {
	if len(f.Pgbench) == 0 {
		return nil
	}
	runs := slices.Clone(f.Pgbench)
	slices.SortFunc(runs, func(a, b pgbenchRun) int { return cmp.Compare(a.Summary.Rate, b.Summary.Rate) })
	return &runs[(len(runs)-1)/2]
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
	Rounds   int
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
			fmt.Fprintf(&b, " %s |", medianCell(f, bin.Name))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nWhere the time went, over the measured window of each binary's median round and of the median pgbench run (CPU in % of one core; WAL from pg_stat_wal, commits of the run's database):\n\n")
	b.WriteString("| run | daemon CPU | PostgreSQL CPU | generator CPU | deliveries per WAL flush | commits per flush | ms per flush | WAL per delivery | full-page images | backlog at the end |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		if p := f.medianPgbench(); p != nil {
			perSync, perDelivery := p.WAL.perDelivery(p.Summary.OK)
			fmt.Fprintf(&b, "| %s: pgbench | — | %.0f %% | %.0f %% | %.1f | %.1f | %.2f | %s | %.0f %% | — |\n", f.Key,
				p.CPU.Postgres, p.CPU.Generator, perSync, p.WAL.CommitsPerSync, p.WAL.SyncMS, bytesText(perDelivery), 100*p.WAL.FPIShare)
		}
		for _, bin := range r.Binaries {
			k := f.median(bin.Name)
			if k < 0 {
				continue
			}
			d := f.Runs[bin.Name][k]
			perSync, perDelivery := d.WAL.perDelivery(d.Summary.OK)
			fmt.Fprintf(&b, "| %s: %s | %.0f %% | %.0f %% | %.0f %% | %.1f | %.1f | %.2f | %s | %.0f %% | %s |\n", f.Key, bin.Name,
				d.CPU.Daemon, d.CPU.Postgres, d.CPU.Generator, perSync, d.WAL.CommitsPerSync, d.WAL.SyncMS, bytesText(perDelivery),
				100*d.WAL.FPIShare, count(float64(d.Backlog)))
		}
	}
	rounds := "1 round, every binary once"
	if r.Rounds > 1 {
		rounds = fmt.Sprintf("%d rounds, every binary once in each (in reverse order every other round)", r.Rounds)
	}
	fmt.Fprintf(&b, "\nHow: %s. %s, with pgbench (for the figures that have one) before each round and after the last; a cell is the binary's median round, "+
		"followed by what each round measured (its ratio; for lag, its p99). Closed-loop runs take %v of warm-up, then %v measured; "+
		"a round's ratio is to pgbench inserting the same body, one row per transaction, into a table of the same server at the same concurrency: "+
		"the mean of the pgbench runs either side of that round. "+
		"End to end is every delivery answered 2xx over the time from the first request to the last one applied. "+
		"Lag is measured from outside: a poller looks every 20 ms for the products answered 2xx and not yet seen (an upper bound, 20 ms coarse); "+
		"`mirrored_at` less the 2xx time (a lower bound) is in brackets. Daemon settings: %s.\n",
		"`"+r.Command+"`", rounds, r.Warmup, r.Measure, r.Daemon)
	return b.String()
}

func pgbenchCell(f figure) string {
	p := f.medianPgbench()
	if p == nil {
		return "—"
	}
	lo, hi := p.Summary.Rate, p.Summary.Rate
	for _, q := range f.Pgbench {
		lo, hi = min(lo, q.Summary.Rate), max(hi, q.Summary.Rate)
	}
	return fmt.Sprintf("%s/s, p50 %s, p99 %s (the median run of %d, which ranged %s-%s/s; %s body)", count(p.Summary.Rate), ms(p.Summary.P50), ms(p.Summary.P99),
		len(f.Pgbench), count(lo), count(hi), bytesText(float64(p.Body)))
}

// medianCell is bin's median round, and what every round measured.
func medianCell(f figure, bin string) string {
	k := f.median(bin)
	if k < 0 {
		return "—"
	}
	cell := runCell(f, bin, k)
	if len(f.Runs[bin]) < 2 {
		return cell
	}
	var rounds []string
	for j, r := range f.Runs[bin] {
		if f.Kind == "lag" {
			rounds = append(rounds, ms(r.Lag.P99))
		} else {
			rounds = append(rounds, fmt.Sprintf("%.2f×", f.ratio(bin, j)))
		}
	}
	return cell + "; rounds " + strings.Join(rounds, ", ")
}

// runCell is bin's round k.
func runCell(f figure, bin string, k int) string {
	d := f.Runs[bin][k]
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
			f.ratio(bin, k), count(d.Rate), count(s.Rate), ms(s.P50), ms(s.P99), failed)
	}
	return fmt.Sprintf("**%.2f×** (%s/s, p50 %s, p99 %s%s)", f.ratio(bin, k), count(s.Rate), ms(s.P50), ms(s.P99), failed)
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
