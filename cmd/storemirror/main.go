// Command storemirror keeps a PostgreSQL mirror of an online store's catalog and orders, from
// its providers' webhooks and APIs. README.md describes its commands; config.example.yaml its
// configuration.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	stop()
	if err != nil {
		m.reportFailure(err)
		os.Exit(exitCode(err))
	}
}

// errReported is returned once the problem has been printed (check-config's problems).
var errReported = errors.New("reported")

// usageError is a command line that cannot run. main exits 2 for it, as Unix tools do, so that
// a script can tell a mistyped command from a command that failed.
type usageError struct {
	msg      string
	synopsis string // the command's usage line, which Run adds
}

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error that says why.
func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// errUsagePrinted is a usage error whose reason the flag package or the usage text printed.
var errUsagePrinted = &usageError{msg: "usage"}

// exitCode is the process's exit status for err: 2 for a usage error, 1 for any other failure.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// Main is the program: its subcommands share the configuration loading and the wiring.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) (string, bool)

	// Listening, when set, receives the HTTP address once `serve` listens (tests use port 0).
	Listening chan<- string

	listen     func(network, address string) (net.Listener, error) // nil: net.Listen (tests wrap it)
	schemaPoll time.Duration                                       // 0: defaultSchemaPoll
}

// NewMain returns a Main wired to the process's standard streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.LookupEnv}
}

// command is a subcommand as its usage shows it.
type command struct {
	name, operands, summary string
}

// commands are the subcommands, in the order the usage lists them.
var commands = []command{
	{"serve", "", "run the daemon"},
	{"migrate", "", "apply pending migrations and exit"},
	{"check-config", "", "validate the configuration and print each problem"},
	{"resync", "--source NAME [--entity E]... [--mode full|incremental]", "reconcile a source now"},
	{"replay", "--source NAME [--since TIME] [--status failed|all]", "re-apply stored webhook events"},
	{"docs", "[--format markdown|dbt]", "the mirror's data dictionary from the database's comments"},
	{"grant-reader", "ROLE", "let a PostgreSQL role read the mirror, and nothing of sync"},
	{"status", "[--json]", "print every source's state from the database"},
	{"version", "", "print the version"},
}

// usage is the program's usage: every command, with its operands.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: storemirror <command> [--config FILE] [flags]\n       storemirror <command> --help\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-13s %s", c.name, c.summary)
		if c.operands != "" {
			b.WriteString(": " + c.operands)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Run runs the subcommand named by args[0] until it is done or ctx is cancelled.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage())
		return errUsagePrinted
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 { // help COMMAND
			return m.Run(ctx, []string{args[0], "--help"})
		}
		fmt.Fprint(m.Stdout, usage())
		return nil
	case "-version", "--version":
		name = "version"
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(m.Stderr, "storemirror: unknown command %q\n\n%s", name, usage())
		return errUsagePrinted
	}
	fs := newFlagSet(commands[i])
	err := m.run(ctx, name, fs, args)
	if u, ok := errors.AsType[*usageError](err); ok && u != errUsagePrinted {
		u.synopsis = synopsis(commands[i], fs)
	}
	return err
}

func (m *Main) run(ctx context.Context, name string, fs *flag.FlagSet, args []string) error {
	if name == "version" {
		return m.parseAndRun(fs, args, func() error { fmt.Fprintln(m.Stdout, "storemirror", version); return nil })
	}
	configPath := fs.String("config", "/etc/storemirror/config.yaml", "configuration file")
	switch name {
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
	}
	panic("storemirror: command " + name + " is listed but not run") // commands and this switch differ
}

// synopsis is c's usage line: its operands, and --config when it takes one.
func synopsis(c command, fs *flag.FlagSet) string {
	line := strings.Join(slices.DeleteFunc([]string{"storemirror", c.name, c.operands}, func(s string) bool { return s == "" }), " ")
	if fs.Lookup("config") != nil {
		line += " [--config FILE]"
	}
	return "usage: " + line
}

// newFlagSet returns the flags of c, whose usage (--help, or a mistake) names its operands.
// Their output is kept until Parse says where it goes (see parseFlags).
func newFlagSet(c command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\n%s.\n", synopsis(c, fs), c.summary)
		if hasFlags(fs) {
			fmt.Fprintf(fs.Output(), "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args into fs. --help prints the command's usage on stdout and returns
// flag.ErrHelp; a mistake prints why, and the usage, on stderr and returns a usage error.
func (m *Main) parseFlags(fs *flag.FlagSet, args []string) error {
	out := fs.Output().(*bytes.Buffer)
	defer out.Reset()
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = m.Stdout.Write(out.Bytes()) // the terminal's: a failed write has nowhere to go
		return flag.ErrHelp
	case err != nil:
		_, _ = m.Stderr.Write(out.Bytes())
		return errUsagePrinted
	}
	return nil
}

// parseAndRun parses the command's flags and runs it: it takes no operands.
func (m *Main) parseAndRun(fs *flag.FlagSet, args []string, run func() error) error {
	if err := m.parseFlags(fs, args); err != nil {
		return helpIsNoError(err)
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected arguments %v", fs.Name(), fs.Args())
	}
	return run()
}

// helpIsNoError turns flag.ErrHelp, once the usage is printed, into success: --help exits 0.
func helpIsNoError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// loadConfig loads and validates the configuration.
func (m *Main) loadConfig(path string) (Config, error) {
	return LoadConfig(path, m.Getenv)
}

// checkConfig prints every problem of the file at path, one a line (FILE:LINE: PATH: MESSAGE).
func (m *Main) checkConfig(path string) error {
	cfg, err := LoadConfig(path, m.Getenv)
	if ce, ok := errors.AsType[*ConfigError](err); ok {
		fmt.Fprintln(m.Stdout, ce)
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
