package main

import (
	"context"
	"os"
	"time"
)

// window observes the server and the processes of a run over its measured window: CPU use,
// WAL flushes and commits, and (when profiling) what the profiler collects.
type window struct {
	server    *server
	database  string
	daemons   []int
	generator int // pgbench's pid; 0: this process
	profile   *profiler

	cpu  cpuShare
	wal  walDelta
	err  error
	done chan struct{}
}

// start takes the readings at from and at to in the background; wait returns them.
func (w *window) start(ctx context.Context, from, to time.Time) {
	w.done = make(chan struct{})
	go w.observe(ctx, from, to)
}

func (w *window) observe(ctx context.Context, from, to time.Time) {
	defer close(w.done)
	gen := w.generator
	if gen == 0 {
		gen = os.Getpid()
	}
	if !sleepUntil(ctx, from) {
		w.err = ctx.Err()
		return
	}
	postmaster := w.server.postmasterPID()
	cpu0 := readCPU(w.daemons, postmaster, gen)
	wal0, err := w.server.walStats(ctx, w.database)
	if err != nil {
		w.err = err
		return
	}
	if w.profile != nil {
		w.profile.start(ctx, w.database, to.Sub(from))
	}
	if !sleepUntil(ctx, to) {
		w.err = ctx.Err()
		return
	}
	cpu1 := readCPU(w.daemons, postmaster, gen)
	wal1, err := w.server.walStats(ctx, w.database)
	if err != nil {
		w.err = err
		return
	}
	w.cpu, w.wal = diffCPU(cpu0, cpu1), diffWAL(wal0, wal1)
	if w.profile != nil {
		w.err = w.profile.finish(ctx)
	}
}

// wait waits for the readings started by start.
func (w *window) wait() error {
	<-w.done
	return w.err
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
