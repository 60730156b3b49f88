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
	cron    *cron.Cron
	ctx     context.Context
	cancel  context.CancelFunc
	wg      stdsync.WaitGroup            // the catch-up passes
	entries map[[2]string][]cron.EntryID // by (source, entity), for NextRun
}

// startSchedule starts the schedule of r's sources; Stop ends it.
func startSchedule(r *mirrorsync.Reconciler) *passSchedule {
	s := newSchedule(r)
	s.start()
	return s
}

// newSchedule sets up the schedule of r's sources without starting it, so that NextRun can be
// handed out before the passes begin.
func newSchedule(r *mirrorsync.Reconciler) *passSchedule {
	ctx, cancel := context.WithCancel(context.Background())
	logger := cron.VerbosePrintfLogger(cronLogger{r.Log})
	s := &passSchedule{
		r:       r,
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
	id, err := s.cron.AddFunc(spec, func() { r.RunScheduled(ctx, source, entity, mode, mirrorsync.TriggerSchedule) })
	if err != nil {
		r.Log.WithError(err).WithField("source", source).Error("bad reconcile schedule")
		return
	}
	k := [2]string{source, entity}
	s.entries[k] = append(s.entries[k], id)
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
