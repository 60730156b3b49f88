package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/sirupsen/logrus"
)

// logTimeFormat is RFC 3339 with microseconds, always six digits, so that lines logged within
// one second keep their order and their times line up.
const logTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// newLogFormatter returns the formatter of the configured format ("json" or "text"). Level names
// are the config's (`warn`, where logrus says `warning`). When journal is set, every line starts
// with its syslog priority, `<N>` (sd-daemon(3)): journald strips it and records the priority,
// so that `journalctl -p err` shows the errors.
func newLogFormatter(format string, journal bool) logrus.Formatter {
	var f logrus.Formatter
	if format == "text" {
		f = textLevelFormatter{&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: logTimeFormat}}
	} else {
		f = jsonLevelFormatter{&logrus.JSONFormatter{TimestampFormat: logTimeFormat}}
	}
	if journal {
		f = journalFormatter{f}
	}
	return f
}

// isJournal reports whether w is the process's stderr and that stderr is connected to the
// journal: systemd then sets JOURNAL_STREAM to its device and inode (systemd.exec(5)).
func isJournal(w io.Writer) bool {
	if w != io.Writer(os.Stderr) {
		return false
	}
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok
}

// levelName is the config's name of a level (log.level: debug|info|warn|error).
func levelName(l logrus.Level) string {
	if l == logrus.WarnLevel {
		return "warn"
	}
	return l.String()
}

// jsonLevelFormatter is logrus's JSON formatter with the config's level names.
type jsonLevelFormatter struct{ inner *logrus.JSONFormatter }

func (f jsonLevelFormatter) Format(e *logrus.Entry) ([]byte, error) {
	b, err := f.inner.Format(e)
	if err != nil || levelName(e.Level) == e.Level.String() {
		return b, err
	}
	// Re-encoding the object touches only its top-level "level" (logrus keeps a field of that
	// name apart, as fields.level); encoding/json sorts the keys, as logrus did.
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("re-read log entry: %w", err)
	}
	obj[logrus.FieldKeyLevel], _ = json.Marshal(levelName(e.Level))
	out, err := json.Marshal(obj)
	return append(out, '\n'), err
}

// textLevelFormatter is logrus's text formatter with the config's level names.
type textLevelFormatter struct{ inner *logrus.TextFormatter }

func (f textLevelFormatter) Format(e *logrus.Entry) ([]byte, error) {
	b, err := f.inner.Format(e)
	if err != nil || levelName(e.Level) == e.Level.String() {
		return b, err
	}
	// Without colours, logrus writes time="..." first and level=... second, so the first
	// level= is the level's own; a field named level comes later, as fields.level.
	old := []byte(logrus.FieldKeyLevel + "=" + e.Level.String())
	return bytes.Replace(b, old, []byte(logrus.FieldKeyLevel+"="+levelName(e.Level)), 1), nil
}

// journalPriority maps logrus's levels to syslog's; panic and fatal both mean the daemon is
// going down, which is critical, not an emergency of the whole system.
var journalPriority = map[logrus.Level]journal.Priority{
	logrus.PanicLevel: journal.PriCrit,
	logrus.FatalLevel: journal.PriCrit,
	logrus.ErrorLevel: journal.PriErr,
	logrus.WarnLevel:  journal.PriWarning,
	logrus.InfoLevel:  journal.PriInfo,
	logrus.DebugLevel: journal.PriDebug,
	logrus.TraceLevel: journal.PriDebug,
}

// journalFormatter prefixes every line of what inner writes with the entry's priority.
type journalFormatter struct{ inner logrus.Formatter }

func (f journalFormatter) Format(e *logrus.Entry) ([]byte, error) {
	b, err := f.inner.Format(e)
	if err != nil {
		return nil, err
	}
	pri, ok := journalPriority[e.Level]
	if !ok {
		pri = journal.PriInfo
	}
	return markLines(b, pri), nil
}

// markLines prefixes every line of b with the priority pri, as sd-daemon(3) says.
func markLines(b []byte, pri journal.Priority) []byte {
	prefix := fmt.Appendf(nil, "<%d>", pri)
	var out bytes.Buffer
	for line := range bytes.SplitAfterSeq(b, []byte("\n")) {
		if len(line) > 0 {
			out.Write(prefix)
			out.Write(line)
		}
	}
	return out.Bytes()
}

// reportFailure prints why the command failed (unless it already did), marked as an error when
// stderr is the journal, so that `journalctl -p err` says why the daemon stopped.
func (m *Main) reportFailure(err error) {
	if errors.Is(err, errReported) || errors.Is(err, errUsagePrinted) {
		return
	}
	msg := []byte(fmt.Sprintf("storemirror: %v\n", err))
	if u, ok := errors.AsType[*usageError](err); ok && u.synopsis != "" {
		msg = fmt.Appendf(msg, "%s\n", u.synopsis)
	}
	if isJournal(m.Stderr) {
		msg = markLines(msg, journal.PriErr)
	}
	_, _ = m.Stderr.Write(msg) // a failed write to stderr has nowhere to be reported
}
