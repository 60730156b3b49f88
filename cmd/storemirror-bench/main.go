// Command storemirror-bench is `make bench`'s end-to-end benchmark (issue 13's table): it starts
// a durable PostgreSQL of its own (fsync and synchronous_commit on), runs each storemirror
// binary it is given as `storemirror serve` on a fresh database, posts genuine encrypted
// sticky.io deliveries to it with internal/loadgen, and runs pgbench inserting the same body at
// the same concurrency in the same run. It prints every figure as a ratio to pgbench, with
// p50/p99 latency, the lag from 2xx to mirror row, and where the CPU and the WAL flushes went,
// and can write them into the README's performance section.
//
//	storemirror-bench -binary before=git:845bf81 -binary after=bin/storemirror -readme README.md
//
// A binary is a path, or git:REF to build the tree of a commit. With -profile DIR the runs
// also collect the daemon's CPU and blocking profiles (binaries built with -tags pprof),
// pg_stat_statements and PostgreSQL's wait events into DIR. -scale runs the growth harness
// instead (see scale.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/storemirror/storemirror/internal/daemon"
	"github.com/storemirror/storemirror/internal/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "storemirror-bench:", err)
		os.Exit(1)
	}
}

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	binaries, pgSettings listFlag
	figures              string
	readme, profile      string
	warmup, measure      time.Duration
	lagRate              float64
	lagFor               time.Duration
	workers, batch       int
	maxConns             int
	scale                string
	scaleFactor          float64
	prebuild             int
	rounds               int
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("storemirror-bench", flag.ContinueOnError)
	fs.Var(&o.binaries, "binary", "name=PATH or name=git:REF: a storemirror binary to measure (repeatable; default: this tree, as current)")
	fs.Var(&o.pgSettings, "pg", "name=value: a PostgreSQL setting for the run, by ALTER SYSTEM (repeatable)")
	fs.StringVar(&o.figures, "figures", "ingest16,ingest64,e2e64,lag", "the figures to take")
	fs.StringVar(&o.readme, "readme", "", "write the report into this README's generated section")
	fs.StringVar(&o.profile, "profile", "", "collect profiles and PostgreSQL statistics of every run into this directory")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before each measured window")
	fs.DurationVar(&o.measure, "measure", 15*time.Second, "each measured window")
	fs.Float64Var(&o.lagRate, "lag-rate", 1000, "requests per second of the lag figure")
	fs.DurationVar(&o.lagFor, "lag-for", 30*time.Second, "how long the lag figure's load runs")
	fs.IntVar(&o.workers, "workers", 0, "inbox.workers of the daemons (0: their default)")
	fs.IntVar(&o.batch, "batch-size", 0, "inbox.batch_size of the daemons (0: their default)")
	fs.IntVar(&o.maxConns, "max-conns", 0, "database.max_conns of the daemons (0: their default)")
	fs.IntVar(&o.prebuild, "prebuild", 150000, "requests of each run built before its clock starts (0: build each as it is posted)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of each figure, every binary once in each, between pgbench runs; the report takes the median round")
	fs.StringVar(&o.scale, "scale", "", "run growth harness parts instead: inbox, retention, catalog (comma-separated)")
	fs.Float64Var(&o.scaleFactor, "scale-factor", 1, "multiply the growth harness's sizes (0.01 for a quick try)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds %d: at least one round", o.rounds)
	}
	return o, nil
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	root, err := daemon.ModuleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "storemirror-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(tmp) }() // scratch under the system's temporary directory
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}
	bins, err := resolveBinaries(ctx, root, tmp, o.binaries, o.profile != "")
	if err != nil {
		return err
	}
	pgDir := filepath.Join(tmp, "pg")
	if err := os.Mkdir(pgDir, 0o755); err != nil {
		return err
	}
	fsync, err := fsyncProbe(ctx, pgDir)
	if err != nil {
		fsync = "fsync not probed: " + err.Error()
	}
	srv, err := startServer(ctx, root, pgDir, o.pgSettings)
	if srv != nil {
		defer srv.stop()
	}
	if err != nil {
		return err
	}
	b := &bench{server: srv, tmp: tmp, warmup: o.warmup, measure: o.measure, lagRate: o.lagRate, lagFor: o.lagFor,
		daemon:     daemon.Config{Workers: o.workers, BatchSize: o.batch, MaxConns: o.maxConns},
		profileDir: o.profile, prebuild: o.prebuild, rounds: o.rounds}
	if o.scale != "" {
		return runScale(ctx, b, bins, strings.Split(o.scale, ","), o.scaleFactor)
	}
	return b.figures(ctx, o, bins, fsync, "storemirror-bench "+strings.Join(args, " "))
}

// figures takes the figures o asks for, for every binary, and reports them.
func (b *bench) figures(ctx context.Context, o options, bins []binary, fsync, command string) error {
	figures, err := selectFigures(o.figures)
	if err != nil {
		return err
	}
	settings, err := b.server.settingsReport(ctx)
	if err != nil {
		return err
	}
	rep := report{Date: time.Now(), Machine: machine(), Fsync: fsync, Settings: settings, Binaries: bins,
		Command: command, Rounds: o.rounds, Warmup: o.warmup, Measure: o.measure, LagRate: o.lagRate, LagFor: o.lagFor,
		Daemon: daemonSettings(b.daemon), Load: [2]string{loadAverage()}}
	for i := range figures {
		if err := b.take(ctx, &figures[i], bins); err != nil {
			return fmt.Errorf("%s: %w", figures[i].Key, err)
		}
	}
	rep.Figures, rep.Load[1] = figures, loadAverage()
	text := rep.markdown()
	fmt.Print(text)
	if o.readme != "" {
		return writeReadme(o.readme, text)
	}
	return nil
}

func selectFigures(keys string) ([]figure, error) {
	var out []figure
	for _, k := range strings.Split(keys, ",") {
		found := false
		for _, f := range allFigures {
			if f.Key == strings.TrimSpace(k) {
				f.Runs = map[string][]*daemonRun{}
				out, found = append(out, f), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no figure %q (ingest16, ingest64, e2e64, lag)", k)
		}
	}
	return out, nil
}

func daemonSettings(c daemon.Config) string {
	part := func(name string, v int) string {
		if v == 0 {
			return name + " default"
		}
		return fmt.Sprintf("%s %d", name, v)
	}
	return strings.Join([]string{part("inbox.workers", c.Workers), part("inbox.batch_size", c.BatchSize),
		part("database.max_conns", c.MaxConns), "log.level info"}, ", ")
}

// take measures figure f in b.rounds rounds: pgbench, then every binary, and after the last
// round pgbench once more, so that every round lies between two pgbench runs. The binaries run
// in reverse order every other round, so that none is always the one nearest the pgbench run
// before it.
func (b *bench) take(ctx context.Context, f *figure, bins []binary) error {
	var sc scenario
	switch f.Kind {
	case "ingest":
		sc = ingest(f.Clients)
	case "e2e":
		sc = endToEnd(f.Clients)
	case "lag":
		sc = lag
	}
	for round := range b.rounds {
		if err := b.pgbench(ctx, f); err != nil {
			return err
		}
		name := f.Key // of the round's databases and profiles
		if round > 0 {
			name = fmt.Sprintf("%s_r%d", f.Key, round+1)
		}
		order := slices.Clone(bins)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, bin := range order {
			r, err := b.run(ctx, bin, name, sc)
			if err != nil {
				return fmt.Errorf("%s: %w", bin.Name, err)
			}
			f.Runs[bin.Name] = append(f.Runs[bin.Name], r)
			fmt.Fprintf(os.Stderr, "%s: %s, round %d: %s\n", f.Key, bin.Name, round+1, progress(*f, r))
		}
	}
	return b.pgbench(ctx, f)
}

// progress is one run as the benchmark goes (its ratio needs the pgbench run after its round).
func progress(f figure, r *daemonRun) string {
	s := r.Summary
	switch f.Kind {
	case "lag":
		return fmt.Sprintf("lag p99 %s (p50 %s), %s/s answered", ms(r.Lag.P99), ms(r.Lag.P50), count(s.Rate))
	case "e2e":
		return fmt.Sprintf("%s/s applied (posted %s/s, p50 %s, p99 %s)", count(r.Rate), count(s.Rate), ms(s.P50), ms(s.P99))
	}
	return fmt.Sprintf("%s/s, p50 %s, p99 %s", count(s.Rate), ms(s.P50), ms(s.P99))
}

// pgbench runs pgbench for figure f (none for the lag figure) and appends it to f.Pgbench.
func (b *bench) pgbench(ctx context.Context, f *figure) error {
	gen := generator()
	var req loadgen.Request
	var err error
	switch f.Kind {
	case "ingest":
		req, err = gen.Unknown("pgbench", 0)
	case "e2e":
		req, err = gen.Snapshot("pgbench", 0, 1, "10.00", 3)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	pg, err := runPgbench(ctx, b.server, b.tmp, req.Body, f.Clients, b.warmup, b.measure)
	if err != nil {
		return err
	}
	f.Pgbench = append(f.Pgbench, pg)
	fmt.Fprintf(os.Stderr, "%s: pgbench %d: %s/s, p50 %s, p99 %s\n", f.Key, len(f.Pgbench),
		count(pg.Summary.Rate), ms(pg.Summary.P50), ms(pg.Summary.P99))
	return nil
}

// resolveBinaries turns the -binary flags into binaries, building git:REF ones (with -tags
// pprof when profiling) into tmp.
func resolveBinaries(ctx context.Context, root, tmp string, specs []string, profile bool) ([]binary, error) {
	if len(specs) == 0 {
		specs = []string{"current=git:"}
	}
	var out []binary
	for _, spec := range specs {
		name, target, ok := strings.Cut(spec, "=")
		if !ok || name == "" || strings.ContainsAny(name, " -/.") {
			return nil, fmt.Errorf("-binary %q: want name=PATH or name=git:REF, the name a plain word", spec)
		}
		bin := binary{Name: name, Path: target}
		if ref, isGit := strings.CutPrefix(target, "git:"); isGit {
			var err error
			if bin, err = buildRef(ctx, root, tmp, name, ref, profile); err != nil {
				return nil, err
			}
		} else {
			abs, err := filepath.Abs(target)
			if err != nil {
				return nil, err
			}
			bin.Path = abs
			v, err := exec.CommandContext(ctx, abs, "version").Output()
			if err != nil {
				return nil, fmt.Errorf("-binary %s: %s version: %w", name, abs, err)
			}
			bin.Label = strings.TrimSpace(strings.TrimPrefix(string(v), "storemirror"))
		}
		out = append(out, bin)
	}
	return out, nil
}

// buildRef builds storemirror from the tree of commit ref ("" : the working tree as it is).
func buildRef(ctx context.Context, root, tmp, name, ref string, profile bool) (binary, error) {
	var tags []string
	if profile {
		tags = append(tags, "pprof")
	}
	bin := binary{Name: name, Path: filepath.Join(tmp, "storemirror-"+name)}
	src := root
	if ref == "" {
		bin.Label = "this tree"
	} else {
		commit, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", ref).Output()
		if err != nil {
			return bin, fmt.Errorf("git rev-parse %s: %w", ref, err)
		}
		bin.Label = strings.TrimSpace(string(commit))
		src = filepath.Join(tmp, "src-"+name)
		if err := os.Mkdir(src, 0o755); err != nil {
			return bin, err
		}
		archive := exec.CommandContext(ctx, "sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", root, ref, src)
		if out, err := archive.CombinedOutput(); err != nil {
			return bin, fmt.Errorf("git archive %s: %w\n%s", ref, err, out)
		}
	}
	fmt.Fprintf(os.Stderr, "building %s from %s\n", name, bin.Label)
	if err := daemon.Build(ctx, src, bin.Path, false, tags...); err != nil {
		return bin, err
	}
	return bin, nil
}

var errNoScale = errors.New("no growth harness part given")
