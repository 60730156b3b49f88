package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/sirupsen/logrus"
)

// logEveryLevel logs one line at each configurable level, with a field and an error.
func logEveryLevel(log *logrus.Entry) {
	log = log.WithField("source", "bamboo").WithError(errors.New("boom"))
	log.Debug("debug line")
	log.Info("info line")
	log.Warn("warn line")
	log.Error("error line")
}

// microseconds matches a time with six digits of fractions of a second.
var microseconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|[+-]\d\d:\d\d)$`)

func TestLogFormatJSON(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	m := &Main{Stderr: &out}
	logEveryLevel(m.newLogger(LogConfig{Level: "debug", Format: "json"}))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{"debug", "info", "warn", "error"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var e map[string]string
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %d is not JSON (%v): %s", i, err, line)
		}
		if e["level"] != want[i] || e["msg"] != want[i]+" line" || e["source"] != "bamboo" || e["error"] != "boom" {
			t.Errorf("line %d = %s, want level %q, its message, source and error", i, line, want[i])
		}
		if !microseconds.MatchString(e["time"]) {
			t.Errorf("line %d: time %q, want RFC 3339 with microseconds", i, e["time"])
		}
	}
}

func TestLogFormatText(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	m := &Main{Stderr: &out}
	log := m.newLogger(LogConfig{Level: "info", Format: "text"})
	logEveryLevel(log)
	log.WithField("level", "mine").Warn("a field named level") // logrus keeps it apart
	got := out.String()
	for _, want := range []string{`level=info msg="info line"`, `level=warn msg="warn line"`, `level=error msg="error line"`,
		`level=warn msg="a field named level" fields.level=mine`} {
		if !strings.Contains(got, want) {
			t.Errorf("text log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "warning") || strings.Contains(got, "debug line") {
		t.Errorf("text log says warning, or logs below its level:\n%s", got)
	}
	if m := regexp.MustCompile(`time="([^"]+)"`).FindStringSubmatch(got); m == nil || !microseconds.MatchString(m[1]) {
		t.Errorf("text log's time %q, want RFC 3339 with microseconds", m)
	}
}

func TestLogFormatJSONFieldNamedLevel(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	m := &Main{Stderr: &out}
	m.newLogger(LogConfig{Level: "info", Format: "json"}).WithField("level", map[string]string{"level": "warning"}).Warn("nested")
	var e struct {
		Level  string            `json:"level"`
		Fields map[string]string `json:"fields.level"`
	}
	if err := json.Unmarshal(out.Bytes(), &e); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if e.Level != "warn" || e.Fields["level"] != "warning" {
		t.Errorf("got %s, want level warn and the field's own value untouched", out.String())
	}
}

// twoLines is a formatter whose entries span two lines.
type twoLines struct{}

func (twoLines) Format(e *logrus.Entry) ([]byte, error) {
	return []byte(e.Message + "\n  continued\n"), nil
}

func TestJournalFormatterMarksEveryLine(t *testing.T) {
	t.Parallel()
	for level, want := range map[logrus.Level]string{
		logrus.ErrorLevel: "<3>x\n<3>  continued\n",
		logrus.WarnLevel:  "<4>x\n<4>  continued\n",
		logrus.InfoLevel:  "<6>x\n<6>  continued\n",
		logrus.DebugLevel: "<7>x\n<7>  continued\n",
		logrus.FatalLevel: "<2>x\n<2>  continued\n",
	} {
		b, err := journalFormatter{twoLines{}}.Format(&logrus.Entry{Level: level, Message: "x"})
		if got := string(b); err != nil || got != want {
			t.Errorf("%s: got %q, %v, want %q", level, got, err, want)
		}
	}
}

// TestLogHelperProcess is not a test of its own: TestLogsToTheJournal runs the test binary again
// with STOREMIRROR_LOG_HELPER set, so that the logger sees a real stderr (file descriptor 2) and
// environment, as the daemon does under systemd.
func TestLogHelperProcess(t *testing.T) {
	format := os.Getenv("STOREMIRROR_LOG_HELPER")
	switch format {
	case "":
		return
	case "failure": // a command that fails, as main reports it
		m := NewMain()
		m.reportFailure(m.Run(context.Background(), []string{"migrate", "--config", os.Getenv("STOREMIRROR_LOG_HELPER_CONFIG")}))
	default:
		logEveryLevel(NewMain().newLogger(LogConfig{Level: "debug", Format: format}))
	}
}

// journalStream is the JOURNAL_STREAM value systemd sets for a stderr that is f.
func journalStream(t *testing.T, f *os.File) string {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

func TestLogsToTheJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other, err := os.Create(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }() // the test is over; its writes are the child's
	// A configuration with several problems on line 2: the error spans several lines.
	badConfig := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badConfig, []byte("database: {url: \"postgres://x/y\"}\nsources: [{name: a, kind: canonical, secrets: []}, {name: a, kind: nope}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	journal := func(f *os.File) string { return journalStream(t, f) }
	for _, tc := range []struct {
		name, format string
		stream       func(stderr *os.File) string // JOURNAL_STREAM, "" for unset
		wantPrefixes []string                     // of each line; the last one repeats
		minLines     int
	}{
		{"stderr is the journal", "json", journal, []string{"<7>{", "<6>{", "<4>{", "<3>{"}, 4},
		{"stderr is the journal, text", "text", journal, []string{"<7>time=", "<6>time=", "<4>time=", "<3>time="}, 4},
		{"stderr redirected away from the journal", "json", func(*os.File) string { return journalStream(t, other) }, []string{"{"}, 4},
		{"no journal", "json", func(*os.File) string { return "" }, []string{"{"}, 4},
		{"a failed command's error", "failure", journal, []string{"<3>storemirror: " + badConfig + ":2: ", "<3>" + badConfig + ":2: "}, 3},
		{"a failed command's error, no journal", "failure", func(*os.File) string { return "" }, []string{"storemirror: " + badConfig + ":2: ", badConfig + ":2: "}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr, err := os.Create(filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = stderr.Close() }() // the test is over; its writes are the child's
			cmd := exec.Command(os.Args[0], "-test.run=^TestLogHelperProcess$")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "JOURNAL_STREAM=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, "STOREMIRROR_LOG_HELPER="+tc.format, "STOREMIRROR_LOG_HELPER_CONFIG="+badConfig)
			if s := tc.stream(stderr); s != "" {
				cmd.Env = append(cmd.Env, "JOURNAL_STREAM="+s)
			}
			cmd.Stderr = stderr
			if out, err := cmd.Output(); err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			b, err := os.ReadFile(stderr.Name())
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if len(lines) < tc.minLines {
				t.Fatalf("%d lines, want at least %d:\n%s", len(lines), tc.minLines, b)
			}
			for i, line := range lines {
				want := tc.wantPrefixes[min(i, len(tc.wantPrefixes)-1)]
				if !strings.HasPrefix(line, want) {
					t.Errorf("line %d = %.60s..., want it to start with %q", i, line, want)
				}
			}
		})
	}
}
