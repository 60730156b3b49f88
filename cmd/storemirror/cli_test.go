package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The command line as people expect of a Unix tool: --help anywhere exits 0 and prints on
// stdout; a mistyped command line exits 2 and says why on stderr; a failure exits 1.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	cases := []struct {
		args           []string
		code           int
		stdout, stderr string // each must contain this; "": must be empty
	}{
		{args: []string{"--help"}, stdout: "usage: storemirror <command>"},
		{args: []string{"help"}, stdout: "grant-reader"},
		{args: []string{"help", "replay"}, stdout: "usage: storemirror replay --source NAME [--since TIME] [--status failed|all] [--config FILE]"},
		{args: []string{"--version"}, stdout: "storemirror " + version},
		{args: []string{"-version"}, stdout: "storemirror " + version},
		{args: []string{"version"}, stdout: "storemirror " + version},
		{args: []string{"version", "--help"}, stdout: "usage: storemirror version\n"},
		{args: []string{"serve", "--help"}, stdout: "usage: storemirror serve [--config FILE]"},
		{args: []string{"migrate", "-h"}, stdout: "-config string"},
		{args: []string{"check-config", "-help"}, stdout: "validate the configuration"},
		{args: []string{"resync", "--help"}, stdout: "-mode string"},
		{args: []string{"replay", "--source", "x", "--help"}, stdout: "-since string"},
		{args: []string{"docs", "--help"}, stdout: "-format string"},
		{args: []string{"grant-reader", "--help"}, stdout: "usage: storemirror grant-reader ROLE [--config FILE]"},
		{args: []string{"grant-reader", "reader", "--help"}, stdout: "usage: storemirror grant-reader ROLE"},
		{args: []string{"status", "--help"}, stdout: "usage: storemirror status [--json] [--config FILE]"},

		{args: nil, code: 2, stderr: "usage: storemirror <command>"},
		{args: []string{"serv"}, code: 2, stderr: `unknown command "serv"`},
		{args: []string{"help", "serv"}, code: 2, stderr: `unknown command "serv"`},
		{args: []string{"serve", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus\nusage: storemirror serve"},
		{args: []string{"serve", "extra"}, code: 2, stderr: "serve: unexpected arguments [extra]"},
		{args: []string{"version", "extra"}, code: 2, stderr: "version: unexpected arguments [extra]"},
		{args: []string{"resync", "--config", missing}, code: 2, stderr: "resync: --source is required\nusage: storemirror resync --source NAME"},
		{args: []string{"resync", "--config", missing, "--source", "bamboo", "--mode", "fast"}, code: 2, stderr: `--mode must be full or incremental, not "fast"`},
		{args: []string{"replay", "--config", missing}, code: 2, stderr: "replay: --source is required"},
		{args: []string{"replay", "--config", missing, "--source", "x", "--status", "new"}, code: 2, stderr: `--status must be failed or all, not "new"`},
		{args: []string{"replay", "--config", missing, "--source", "x", "--since", "yesterday"}, code: 2, stderr: `--since: "yesterday" is not RFC 3339`},
		{args: []string{"docs", "--config", missing, "--format", "html"}, code: 2, stderr: `--format must be markdown or dbt, not "html"`},
		{args: []string{"grant-reader", "--config", missing}, code: 2, stderr: "grant-reader: ROLE is required\nusage: storemirror grant-reader ROLE"},
		{args: []string{"docs", "--format"}, code: 2, stderr: "flag needs an argument: -format"},
		{args: []string{"status", "--jsn"}, code: 2, stderr: "flag provided but not defined: -jsn\nusage: storemirror status"},
		{args: []string{"status", "--config", missing, "extra"}, code: 2, stderr: "status: unexpected arguments [extra]"},

		{args: []string{"check-config", "--config", missing}, code: 1, stderr: "read config"},
		{args: []string{"migrate", "--config", missing}, code: 1, stderr: "read config"},
		{args: []string{"status", "--config", missing}, code: 1, stderr: "read config"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: lookup(nil)}
			err := m.Run(context.Background(), c.args)
			code := 0
			if err != nil {
				m.reportFailure(err)
				code = exitCode(err)
			}
			if code != c.code {
				t.Errorf("exit status %d (%v), want %d", code, err, c.code)
			}
			for _, out := range []struct {
				name, got, want string
			}{{"stdout", stdout.String(), c.stdout}, {"stderr", stderr.String(), c.stderr}} {
				if out.want == "" && out.got != "" {
					t.Errorf("%s = %q, want it empty", out.name, out.got)
				}
				if !strings.Contains(out.got, out.want) {
					t.Errorf("%s = %q, want it to contain %q", out.name, out.got, out.want)
				}
			}
		})
	}
}

// TestMainHelperProcess is not a test of its own: TestExitStatus runs the test binary again
// with STOREMIRROR_MAIN_HELPER set to the arguments, so that the real main exits.
func TestMainHelperProcess(t *testing.T) {
	args, ok := os.LookupEnv("STOREMIRROR_MAIN_HELPER")
	if !ok {
		return
	}
	os.Args = append([]string{"storemirror"}, strings.Fields(args)...)
	main()
	os.Exit(0) // main returned: success, without the test framework's own output
}

// The process's exit status, from the real main: 0, 1 for a failure, 2 for a usage error.
func TestExitStatus(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for args, want := range map[string]int{
		"--help":                           0,
		"resync --help":                    0,
		"--version":                        0,
		"nope":                             2,
		"serve --bogus":                    2,
		"resync --config " + missing:       2,
		"check-config --config " + missing: 1,
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMainHelperProcess$")
		cmd.Env = append(os.Environ(), "STOREMIRROR_MAIN_HELPER="+args)
		out, err := cmd.CombinedOutput()
		got := 0
		if exit, ok := errors.AsType[*exec.ExitError](err); ok {
			got = exit.ExitCode()
		} else if err != nil {
			t.Fatalf("storemirror %s: %v", args, err)
		}
		if got != want {
			t.Errorf("storemirror %s exited %d, want %d:\n%s", args, got, want, out)
		}
	}
}
