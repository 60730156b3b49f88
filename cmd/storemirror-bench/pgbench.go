package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/storemirror/storemirror/internal/loadgen"
)

// pgbenchRun is the physical limit a figure is compared with: pgbench inserting the same body
// into a plain table of the same server, one row per transaction (each its own commit and WAL
// flush, as each delivery must be), at the same concurrency, measured over the same window.
type pgbenchRun struct {
	Clients int
	Body    int // bytes
	Summary loadgen.Summary
	CPU     cpuShare
	WAL     walDelta
}

const pgbenchTable = `CREATE TABLE pgbench_inbox (
	id          bigserial PRIMARY KEY,
	received_at timestamptz NOT NULL DEFAULT now(),
	body        bytea NOT NULL)`

// runPgbench runs pgbench with clients connections for warmup+measure and summarises the
// measured window from its per-transaction log. body must be plain ASCII without quotes or
// backslashes (a sticky.io body is base64), so that it is its own bytea literal.
func runPgbench(ctx context.Context, s *server, tmp string, body []byte, clients int, warmup, measure time.Duration) (pgbenchRun, error) {
	run := pgbenchRun{Clients: clients, Body: len(body)}
	if strings.ContainsAny(string(body), `'\`) {
		return run, fmt.Errorf("pgbench body must not hold quotes or backslashes")
	}
	dbURL, err := s.createDatabase(ctx, "pgbench")
	if err != nil {
		return run, err
	}
	defer s.dropDatabase(context.Background(), "pgbench")
	if err := execSQL(ctx, dbURL, pgbenchTable); err != nil {
		return run, err
	}
	dir, err := os.MkdirTemp(tmp, "pgbench-")
	if err != nil {
		return run, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // scratch under the system's temporary directory
	script := filepath.Join(dir, "insert.sql")
	if err := os.WriteFile(script, []byte("INSERT INTO pgbench_inbox (body) VALUES ('"+string(body)+"');\n"), 0o644); err != nil {
		return run, err
	}
	if err := s.checkpoint(ctx); err != nil {
		return run, err
	}
	total := warmup + measure
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(int(total.Seconds())), "-f", script, "-l", "--log-prefix", filepath.Join(dir, "log"), dbURL)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return run, fmt.Errorf("start pgbench: %w", err)
	}
	start := time.Now()
	from, to := start.Add(warmup), start.Add(total)
	w := window{server: s, database: "pgbench", generator: cmd.Process.Pid}
	w.start(ctx, from, to)
	if err := cmd.Wait(); err != nil {
		return run, fmt.Errorf("pgbench: %w\n%s", err, stderr.String())
	}
	if err := w.wait(); err != nil {
		return run, err
	}
	results, err := readPgbenchLogs(dir)
	if err != nil {
		return run, err
	}
	run.Summary = loadgen.Summarize(results, from, to)
	run.CPU, run.WAL = w.cpu, w.wal
	return run, nil
}

// readPgbenchLogs reads pgbench's per-transaction logs ("client transaction latency_us script
// epoch_s epoch_us") into results: each transaction a 2xx answer at its end time.
func readPgbenchLogs(dir string) ([]loadgen.Result, error) {
	files, err := filepath.Glob(filepath.Join(dir, "log.*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pgbench transaction log in %s", dir)
	}
	var out []loadgen.Result
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 6 {
				continue
			}
			lat, err1 := strconv.ParseInt(fields[2], 10, 64)
			sec, err2 := strconv.ParseInt(fields[4], 10, 64)
			usec, err3 := strconv.ParseInt(fields[5], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			done := time.Unix(sec, usec*1000)
			start := done.Add(-time.Duration(lat) * time.Microsecond)
			out = append(out, loadgen.Result{Status: 200, Due: start, Start: start, Done: done})
		}
		_ = fh.Close() // read only
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
