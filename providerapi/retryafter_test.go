package providerapi

import (
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		retry, date string
		want        time.Duration
	}{
		{"absent", "", "", 0},
		{"seconds", "120", "", 2 * time.Minute},
		{"seconds with spaces", " 7 ", "", 7 * time.Second},
		{"zero seconds", "0", "", 0},
		{"negative seconds", "-5", "", 0},
		{"seconds too large to count", "99999999999999999999", "", 0},
		{"seconds beyond the bound", "9999999999", "", (1 << 30) * time.Second},
		{"IMF-fixdate", "Wed, 01 Apr 2026 08:01:30 GMT", "", 90 * time.Second},
		{"obsolete RFC 850 date", "Wednesday, 01-Apr-26 08:00:45 GMT", "", 45 * time.Second},
		{"obsolete asctime date", "Wed Apr  1 08:00:10 2026", "", 10 * time.Second},
		{"a date in the past", "Wed, 01 Apr 2026 07:59:00 GMT", "", 0},
		{"a date against the answer's clock", "Wed, 01 Apr 2026 09:00:30 GMT", "Wed, 01 Apr 2026 09:00:00 GMT", 30 * time.Second},
		{"an unreadable Date is ignored", "Wed, 01 Apr 2026 08:00:20 GMT", "yesterday", 20 * time.Second},
		{"garbage", "soon", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if c.retry != "" {
				h.Set("Retry-After", c.retry)
			}
			if c.date != "" {
				h.Set("Date", c.date)
			}
			if got := retryAfter(h, now); got != c.want {
				t.Errorf("Retry-After %q (Date %q): got %v, want %v", c.retry, c.date, got, c.want)
			}
		})
	}
}
