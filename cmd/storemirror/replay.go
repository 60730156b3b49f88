package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

type replayOptions struct {
	source *string
	since  *string
	status *string
}

func replayFlags(fs *flag.FlagSet) replayOptions {
	return replayOptions{
		source: fs.String("source", "", "the source whose stored events to re-apply (required)"),
		since:  fs.String("since", "", "only events received at or after this: RFC 3339, a date (2006-01-02), or a duration ago (24h)"),
		status: fs.String("status", "failed", "failed: only events that failed; all: every stored event"),
	}
}

// replay re-applies stored webhook events through the current decoding code, in received
// order, without calling any provider (after a decoder fix, or to rebuild the mirror).
func (m *Main) replay(ctx context.Context, path string, o replayOptions) error {
	if *o.source == "" {
		return usagef("replay: --source is required")
	}
	if *o.status != "failed" && *o.status != "all" {
		return usagef("replay: --status must be failed or all, not %q", *o.status)
	}
	since, err := parseSince(*o.since, time.Now())
	if err != nil {
		return usagef("replay: --since: %v", err)
	}
	cfg, _, db, srcs, err := m.open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, ok := srcs.decoders[*o.source]; !ok {
		return fmt.Errorf("replay: no source named %q in %s", *o.source, path)
	}
	rules := mirrorsync.InboxRules{Decoder: srcs.decoders, Policy: mirrorsync.RetryPolicy{MaxAttempts: cfg.Inbox.MaxAttempts, Backoff: mirrorsync.Backoff}}
	counts := map[string]int{}
	var after int64
	for {
		batch, last, err := db.ReplayEvents(ctx, *o.source, since, *o.status == "failed", after, cfg.Inbox.BatchSize, rules)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if last == 0 {
			break
		}
		after = last
		for _, out := range batch.Outcomes {
			counts[out.Status]++
			if out.Status == "failed" {
				fmt.Fprintf(m.Stderr, "event %d (%s): %v\n", out.EventID, out.DeliveryID, out.Err)
			}
		}
	}
	total := counts["applied"] + counts["ignored"] + counts["failed"]
	fmt.Fprintf(m.Stdout, "replayed %d events of %s: %d applied, %d ignored, %d failed\n",
		total, *o.source, counts["applied"], counts["ignored"], counts["failed"])
	if counts["failed"] > 0 {
		return fmt.Errorf("replay: %d events failed", counts["failed"])
	}
	return nil
}

// parseSince reads --since: empty (everything), RFC 3339, a date, or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, a date, or a duration", s)
}
