// Command storemirror keeps a PostgreSQL mirror of an online store's catalog and orders, from
// its providers' webhooks and APIs. See README.md and CONTRACT.md for its commands and config.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	m := NewMain()
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		m.reportFailure(err)
		os.Exit(1)
	}
}

// errReported is returned once the problem has been printed (check-config's problems).
var errReported = errors.New("reported")

// Main is the program: its subcommands share the configuration loading and the wiring.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) (string, bool)

	// Listening, when set, receives the HTTP address once `serve` listens (tests use port 0).
	Listening chan<- string
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv}
}

const usage = `usage: storemirror <command> [--config FILE] [flags]

commands:
  serve          run the daemon
  migrate        apply pending migrations and exit
  check-config   validate the configuration and print each problem
  resync         reconcile a source now: --source NAME [--entity E]... [--mode full|incremental]
  replay         re-apply stored webhook events: --source NAME [--since TIME] [--status failed|all]
  docs           the mirror's data dictionary from the database's comments: [--format markdown|dbt]
  grant-reader   let a PostgreSQL role read the mirror, and nothing of sync: ROLE
  status         print every source's state from the database: [--json]
  version        print the version
`

// Run runs the subcommand named by args[0] until it is done or ctx is cancelled.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errReported
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("storemirror "+cmd, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	configPath := fs.String("config", "/etc/storemirror/config.yaml", "configuration file")
	switch cmd {
	case "serve":
		return m.parseAndRun(fs, args, func() error { return m.serve(ctx, *configPath) })
	case "migrate":
		return m.parseAndRun(fs, args, func() error { return m.migrate(ctx, *configPath) })
	case "check-config":
		return m.parseAndRun(fs, args, func() error { return m.checkConfig(*configPath) })
	case "resync":
		opts := resyncFlags(fs)
		return m.parseAndRun(fs, args, func() error { return m.resync(ctx, *configPath, opts) })
	case "replay":
		opts := replayFlags(fs)
		return m.parseAndRun(fs, args, func() error { return m.replay(ctx, *configPath, opts) })
	case "docs":
		format := docsFlags(fs)
		return m.parseAndRun(fs, args, func() error { return m.docs(ctx, *configPath, *format) })
	case "grant-reader":
		return m.grantReader(ctx, fs, args, configPath)
	case "status":
		opts := statusFlags(fs)
		return m.parseAndRun(fs, args, func() error { return m.status(ctx, *configPath, opts) })
	case "version":
		fmt.Fprintln(m.Stdout, "storemirror", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprintf(m.Stderr, "storemirror: unknown command %q\n\n%s", cmd, usage)
	return errReported
}

func (m *Main) parseAndRun(fs *flag.FlagSet, args []string, run func() error) error {
	if err := fs.Parse(args); err != nil {
		return errReported // the flag package printed why
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "%s: unexpected arguments %v\n", fs.Name(), fs.Args())
		return errReported
	}
	return run()
}

// loadConfig loads and validates the configuration.
func (m *Main) loadConfig(path string) (Config, error) {
	cfg, err := LoadConfig(path, m.Getenv)
	var problems Problems
	if errors.As(err, &problems) {
		return cfg, fmt.Errorf("%s:\n%w", path, problems)
	}
	return cfg, err
}

func (m *Main) checkConfig(path string) error {
	cfg, err := LoadConfig(path, m.Getenv)
	var problems Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(m.Stdout, p)
		}
		return errReported
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: ok (%d sources)\n", path, len(cfg.Sources))
	return nil
}

// newLogger returns the configured logger: JSON (or text) on stderr, snake_case fields, each
// line marked with its priority when stderr is the journal.
func (m *Main) newLogger(cfg LogConfig) *logrus.Entry {
	log := logrus.New()
	log.SetOutput(m.Stderr)
	log.SetFormatter(newLogFormatter(cfg.Format, isJournal(m.Stderr)))
	level, err := logrus.ParseLevel(cfg.Level)
	if err != nil {
		level = logrus.InfoLevel
	}
	log.SetLevel(level)
	return logrus.NewEntry(log)
}
