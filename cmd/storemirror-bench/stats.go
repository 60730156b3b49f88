package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// walStats is a reading of pg_stat_wal and of the commits of one database.
type walStats struct {
	At       time.Time
	Records  int64   `db:"wal_records"`
	FPI      int64   `db:"wal_fpi"`
	Bytes    float64 `db:"wal_bytes"`
	Writes   int64   `db:"wal_write"`
	Syncs    int64   `db:"wal_sync"`
	SyncMS   float64 `db:"wal_sync_time"`
	Commits  int64   `db:"xact_commit"`
	BlksRead int64   `db:"blks_read"`
}

func (s *server) walStats(ctx context.Context, database string) (walStats, error) {
	var w walStats
	err := s.admin.GetContext(ctx, &w, `
		SELECT w.wal_records, w.wal_fpi, w.wal_bytes::float8 AS wal_bytes, w.wal_write, w.wal_sync, w.wal_sync_time,
		       d.xact_commit, d.blks_read
		FROM pg_stat_wal w, pg_stat_database d WHERE d.datname = $1`, database)
	w.At = time.Now()
	if err != nil {
		return w, fmt.Errorf("read pg_stat_wal: %w", err)
	}
	return w, nil
}

// walDelta is what the server did between two readings.
type walDelta struct {
	Commits        int64
	Syncs          int64
	Bytes          float64
	CommitsPerSync float64
	SyncMS         float64 // mean time of one WAL flush
	FPIShare       float64 // share of WAL records that were full-page images
}

func diffWAL(a, b walStats) walDelta {
	d := walDelta{Commits: b.Commits - a.Commits, Syncs: b.Syncs - a.Syncs, Bytes: b.Bytes - a.Bytes}
	if d.Syncs > 0 {
		d.CommitsPerSync = float64(d.Commits) / float64(d.Syncs)
		d.SyncMS = (b.SyncMS - a.SyncMS) / float64(d.Syncs)
	}
	if r := b.Records - a.Records; r > 0 {
		d.FPIShare = float64(b.FPI-a.FPI) / float64(r)
	}
	return d
}

// perDelivery is what one delivery (one pgbench row) cost: WAL flushes and WAL bytes.
func (d walDelta) perDelivery(deliveries int) (perSync float64, bytes float64) {
	if deliveries == 0 {
		return 0, 0
	}
	if d.Syncs > 0 {
		perSync = float64(deliveries) / float64(d.Syncs)
	}
	return perSync, d.Bytes / float64(deliveries)
}

// cpuTicks reads a process's user+system CPU time, in clock ticks (USER_HZ, 100 on Linux).
func cpuTicks(pid int) (ticks int64, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may hold spaces: the fields start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime, ppid, true
}

const ticksPerSecond = 100

// cpuReading is the CPU time so far of the processes of one run: the daemons, PostgreSQL (the
// postmaster and every child of it), and the load generator (this process) or pgbench.
type cpuReading struct {
	At                          time.Time
	Daemon, Postgres, Generator int64
}

func readCPU(daemons []int, postmaster, generator int) cpuReading {
	r := cpuReading{At: time.Now()}
	for _, pid := range daemons {
		t, _, _ := cpuTicks(pid)
		r.Daemon += t
	}
	r.Generator, _, _ = cpuTicks(generator)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		t, ppid, ok := cpuTicks(pid)
		if ok && (pid == postmaster || ppid == postmaster) {
			r.Postgres += t
		}
	}
	return r
}

// cpuShare is CPU use over a window, in percent of one core.
type cpuShare struct{ Daemon, Postgres, Generator float64 }

func diffCPU(a, b cpuReading) cpuShare {
	secs := b.At.Sub(a.At).Seconds()
	if secs <= 0 {
		return cpuShare{}
	}
	pct := func(x, y int64) float64 { return float64(y-x) / ticksPerSecond / secs * 100 }
	return cpuShare{Daemon: pct(a.Daemon, b.Daemon), Postgres: pct(a.Postgres, b.Postgres), Generator: pct(a.Generator, b.Generator)}
}
