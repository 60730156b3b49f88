package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// unitDirectives reads storemirror.service: each directive's values, in order, and the
// LoadCredential= lines its comments show as examples.
func unitDirectives(t *testing.T) (map[string][]string, []string) {
	t.Helper()
	f, err := os.Open("storemirror.service")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	directives := map[string][]string{}
	var credentials []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if c, ok := strings.CutPrefix(line, "#LoadCredential="); ok {
			credentials = append(credentials, c)
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("storemirror.service: %q is not a directive", line)
		}
		directives[key] = append(directives[key], value)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return directives, credentials
}

// The unit asks of the daemon what the daemon does: sd_notify READY and the watchdog from the
// main process, SIGTERM to drain within shutdown_timeout, and exit codes Restart= can act on.
func TestUnitMatchesTheDaemon(t *testing.T) {
	t.Parallel()
	d, credentials := unitDirectives(t)
	want := map[string]string{
		"Type":         "notify",     // serve sends READY=1 (systemd.go)
		"NotifyAccess": "main",       // from the main process itself
		"KillSignal":   "SIGTERM",    // main's signal.NotifyContext drains on it
		"Restart":      "on-failure", // serve exits 1 when its listener dies
		"ExecStart":    "/usr/local/bin/storemirror serve --config /etc/storemirror/config.yaml",
		"ExecStartPre": "/usr/local/bin/storemirror check-config --config /etc/storemirror/config.yaml",
	}
	for key, value := range want {
		if got := d[key]; len(got) != 1 || got[0] != value {
			t.Errorf("%s=%v, want %s", key, got, value)
		}
	}
	watchdog, err := time.ParseDuration(strings.Join(d["WatchdogSec"], ""))
	if err != nil || watchdog <= 0 {
		t.Errorf("WatchdogSec=%v: want a duration (the daemon pings at half of it)", d["WatchdogSec"])
	}
	stop, err := time.ParseDuration(strings.Join(d["TimeoutStopSec"], ""))
	if shutdown := time.Duration(DefaultConfig().ShutdownTimeout); err != nil || stop <= shutdown {
		t.Errorf("TimeoutStopSec=%v: want more than the default shutdown_timeout, %s", d["TimeoutStopSec"], shutdown)
	}
	if len(credentials) == 0 {
		t.Error("the unit shows no LoadCredential= example")
	}
	for _, c := range credentials {
		name, file, ok := strings.Cut(c, ":")
		if !ok || !credentialName.MatchString(name) || !strings.HasPrefix(file, "/etc/storemirror/credentials/") {
			t.Errorf("LoadCredential=%s: want NAME:/etc/storemirror/credentials/FILE, with a NAME ${credential:NAME} accepts", c)
		}
	}
}

// systemd itself finds nothing wrong with the unit, its credential examples enabled.
func TestUnitVerifies(t *testing.T) {
	t.Parallel()
	// scripts/systemd-analyze installs Debian's systemd package when the tool is missing.
	found, err := exec.Command(filepath.Join("..", "..", "scripts", "systemd-analyze")).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("no systemd-analyze to verify storemirror.service: %v\n%s", err, msg)
	}
	analyze := strings.TrimSpace(string(found))
	unit, err := os.ReadFile("storemirror.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// systemd checks that ExecStart's binary exists: stand this test's own in for it, and give
	// each credential example a file.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit = bytes.ReplaceAll(unit, []byte("/usr/local/bin/storemirror"), []byte(self))
	example := regexp.MustCompile(`(?m)^#LoadCredential=([^:]+):\S+$`)
	unit = example.ReplaceAllFunc(unit, func(line []byte) []byte {
		name := example.FindSubmatch(line)[1]
		file := filepath.Join(dir, string(name))
		if err := os.WriteFile(file, []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
		return []byte("LoadCredential=" + string(name) + ":" + file)
	})
	path := filepath.Join(dir, "storemirror.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
