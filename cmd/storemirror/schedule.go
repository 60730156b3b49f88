package main

import (
	"context"
	stdsync "sync"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// passSchedule triggers the reconciler's passes: each source's schedules with robfig/cron
// (Recover, SkipIfStillRunning), and an incremental pass of each entity at start, to catch up
// on what was missed while the daemon was down. The passes themselves are the reconciler's.
type passSchedule struct {
	cron   *cron.Cron
	cancel context.CancelFunc
	wg     stdsync.WaitGroup // the catch-up passes
}

// startSchedule starts the schedule of r's sources; Stop ends it.
func startSchedule(r *mirrorsync.Reconciler) *passSchedule {
	ctx, cancel := context.WithCancel(context.Background())
	logger := cron.VerbosePrintfLogger(cronLogger{r.Log})
	s := &passSchedule{
		cron:   cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)), cron.WithLogger(cron.PrintfLogger(cronLogger{r.Log}))),
		cancel: cancel,
	}
	for name, src := range r.Sources {
		for _, entity := range src.Puller.Entities() {
			s.add(ctx, r, src.Schedule, name, entity, mirrorsync.ModeIncremental)
			s.add(ctx, r, src.FullSchedule, name, entity, mirrorsync.ModeFull)
			s.wg.Go(func() { r.RunScheduled(ctx, name, entity, mirrorsync.ModeIncremental, mirrorsync.TriggerStartup) })
		}
	}
	s.cron.Start()
	return s
}

func (s *passSchedule) add(ctx context.Context, r *mirrorsync.Reconciler, spec, source, entity, mode string) {
	if spec == "" {
		return
	}
	if _, err := s.cron.AddFunc(spec, func() { r.RunScheduled(ctx, source, entity, mode, mirrorsync.TriggerSchedule) }); err != nil {
		r.Log.WithError(err).WithField("source", source).Error("bad reconcile schedule")
	}
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
