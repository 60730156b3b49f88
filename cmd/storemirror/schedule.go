package main

import (
	"context"
	stdsync "sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// passSchedule triggers the reconciler's passes: each source's schedules with robfig/cron
// (Recover, SkipIfStillRunning), and an incremental pass of each entity at start, to catch up
// on what was missed while the daemon was down. The passes themselves are the reconciler's.
type passSchedule struct {
	r       *mirrorsync.Reconciler
	gauge   scheduleGauge // nil: none
	cron    *cron.Cron
	ctx     context.Context
	cancel  context.CancelFunc
	wg      stdsync.WaitGroup            // the catch-up passes
	entries map[[2]string][]cron.EntryID // by (source, entity), for NextRun
}

// startSchedule starts the schedule of r's sources; Stop ends it.
func startSchedule(r *mirrorsync.Reconciler) *passSchedule {
	s := newSchedule(r, nil)
	s.start()
	return s
}

// scheduleGauge is told how far apart the scheduled passes of each source, entity and mode
// may be (metrics.Reconcile, for the alert on overdue passes).
type scheduleGauge interface {
	Scheduled(source, entity, mode string, every time.Duration)
}

// newSchedule sets up the schedule of r's sources without starting it, so that NextRun can be
// handed out before the passes begin, and tells gauge (when not nil) each schedule's longest gap.
func newSchedule(r *mirrorsync.Reconciler, gauge scheduleGauge) *passSchedule {
	ctx, cancel := context.WithCancel(context.Background())
	logger := cron.VerbosePrintfLogger(cronLogger{r.Log})
	s := &passSchedule{
		r:       r,
		gauge:   gauge,
		cron:    cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)), cron.WithLogger(cron.PrintfLogger(cronLogger{r.Log}))),
		ctx:     ctx,
		cancel:  cancel,
		entries: map[[2]string][]cron.EntryID{},
	}
	for name, src := range r.Sources {
		for _, entity := range src.Puller.Entities() {
			s.add(ctx, r, src.Schedule, name, entity, mirrorsync.ModeIncremental)
			s.add(ctx, r, src.FullSchedule, name, entity, mirrorsync.ModeFull)
		}
	}
	return s
}

// start runs the catch-up passes and starts the timers.
func (s *passSchedule) start() {
	for name, src := range s.r.Sources {
		for _, entity := range src.Puller.Entities() {
			s.wg.Go(func() { s.r.RunScheduled(s.ctx, name, entity, mirrorsync.ModeIncremental, mirrorsync.TriggerStartup) })
		}
	}
	s.cron.Start()
}

func (s *passSchedule) add(ctx context.Context, r *mirrorsync.Reconciler, spec, source, entity, mode string) {
	if spec == "" {
		return
	}
	sched, err := cronParser.Parse(spec) // the parser check-config validated it with
	if err != nil {
		r.Log.WithError(err).WithField("source", source).Error("bad reconcile schedule")
		return
	}
	id := s.cron.Schedule(sched, cron.FuncJob(func() { r.RunScheduled(ctx, source, entity, mode, mirrorsync.TriggerSchedule) }))
	k := [2]string{source, entity}
	s.entries[k] = append(s.entries[k], id)
	if gap := longestGap(sched, time.Now()); s.gauge != nil && gap > 0 {
		s.gauge.Scheduled(source, entity, mode, gap)
	}
}

// longestGap is the longest wait between two consecutive times of sched in the week after
// from (and over at least two waits, for a rarer schedule); 0 if sched never comes. It is the
// longest, not the next, so that a schedule of weekdays only is not overdue on a Sunday, nor a
// daily one on the day a change of clocks makes 25 hours long.
func longestGap(sched cron.Schedule, from time.Time) time.Duration {
	const week, maxSteps = 7 * 24 * time.Hour, 20_000 // every minute for a week is 10,080 steps
	var longest time.Duration
	t := sched.Next(from)
	for i := 0; i < maxSteps && !t.IsZero(); i++ {
		next := sched.Next(t)
		if next.IsZero() {
			break
		}
		longest = max(longest, next.Sub(t))
		if i > 0 && next.Sub(from) >= week {
			break
		}
		t = next
	}
	return longest
}

// NextRun says when the next scheduled pass of (source, entity) runs; nil when none is
// scheduled, or before the schedule starts. The status reads it.
func (s *passSchedule) NextRun(source, entity string) *time.Time {
	var next *time.Time
	for _, id := range s.entries[[2]string{source, entity}] {
		if t := s.cron.Entry(id).Next; !t.IsZero() && (next == nil || t.Before(*next)) {
			u := t.UTC()
			next = &u
		}
	}
	return next
}

// Stop cancels the passes the schedule started, waits for them to record their end (failed:
// interrupted), and stops the schedule.
func (s *passSchedule) Stop() {
	s.cancel()
	<-s.cron.Stop().Done()
	s.wg.Wait()
}

type cronLogger struct{ log *logrus.Entry }

func (l cronLogger) Printf(format string, args ...any) {
	l.log.WithField("component", "cron").Debugf(format, args...)
}
