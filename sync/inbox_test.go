package sync

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestInboxRulesOutcome(t *testing.T) {
	hour := func(int) time.Duration { return time.Hour }
	rules := InboxRules{Policy: RetryPolicy{MaxAttempts: 3, Backoff: hour}}
	ev := Event{ID: 7, Source: "s", DeliveryID: "d", Type: "t"}
	transient := errors.New("connection reset")
	cases := []struct {
		name     string
		attempts int
		err      error
		status   string
		retry    bool
	}{
		{"applied", 1, nil, EventApplied, false},
		{"ignored", 1, Ignore("test delivery"), EventIgnored, false},
		{"refused data fails at once", 1, Refused(errors.New("invalid input syntax")), EventFailed, false},
		{"a passing failure is retried", 2, transient, EventFailed, true},
		{"until max_attempts tries were made", 3, transient, EventFailed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := time.Now()
			o := rules.Outcome(ev, c.attempts, c.err)
			if o.EventID != 7 || o.Source != "s" || o.DeliveryID != "d" || o.Type != "t" || o.Err != c.err {
				t.Errorf("outcome %+v does not name the event and its error", o)
			}
			if o.Status != c.status || o.Retry != c.retry {
				t.Errorf("got %s (retry %v), want %s (retry %v)", o.Status, o.Retry, c.status, c.retry)
			}
			if got := !o.RetryAt.IsZero(); got != c.retry {
				t.Errorf("retry at %v, want one only when retried", o.RetryAt)
			}
			if c.retry && (o.RetryAt.Before(before.Add(time.Hour)) || o.RetryAt.After(time.Now().Add(time.Hour))) {
				t.Errorf("retry at %v, want the policy's backoff from now", o.RetryAt)
			}
		})
	}
}

func TestInboxRulesDecode(t *testing.T) {
	cases := []struct {
		name    string
		decode  DecodeFunc
		refused bool
		msg     string
	}{
		{"a decoding error is refused", func(Event) ([]Change, error) { return nil, errors.New("no id") }, true, "no id"},
		{"a panic is refused", func(Event) ([]Change, error) { panic("index out of range") }, true, "decoder panic: index out of range"},
		{"an ignored event is only ignored", func(Event) ([]Change, error) { return nil, Ignore("ping") }, false, "ignored: ping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := InboxRules{Decoder: c.decode}.Decode(Event{})
			if err == nil || errors.Is(err, ErrRefused) != c.refused || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %v (refused %v), want %q (refused %v)", err, errors.Is(err, ErrRefused), c.msg, c.refused)
			}
		})
	}
}

// Refused keeps the message and the chain of the error it marks.
func TestRefused(t *testing.T) {
	cause := errors.New("value too long")
	err := Refused(cause)
	if err.Error() != "value too long" || !errors.Is(err, cause) || !errors.Is(err, ErrRefused) || errors.Is(cause, ErrRefused) {
		t.Errorf("Refused(%v) = %v", cause, err)
	}
}
