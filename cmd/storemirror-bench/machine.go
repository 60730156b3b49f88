package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
)

// machine describes where the figures were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		for _, line := range strings.Split(string(b), "\n") {
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
				mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
				break
			}
		}
	}
	kernel := ""
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		var b strings.Builder
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			b.WriteByte(byte(c))
		}
		kernel = ", Linux " + b.String()
	}
	return fmt.Sprintf("%d × %s%s%s, %s", runtime.NumCPU(), model, mem, kernel, runtime.Version())
}

// loadAverage is the machine's 1-minute load average: whether something else ran beside the
// benchmark (on 2 cores, anything well above 2 means the figures were taken on a busy machine).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// fsyncProbe measures one 8 kB write and fdatasync on the server's disk with pg_test_fsync, the
// floor of one commit's WAL flush.
func fsyncProbe(ctx context.Context, dir string) (string, error) {
	bin, err := pgBinary("pg_test_fsync")
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-s", "1", "-f", filepath.Join(dir, "fsync.probe"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", err
	}
	defer func() {
		// The later sections are not needed: killed, it exits with an error, and leaves its probe file.
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove(filepath.Join(dir, "fsync.probe"))
	}()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// "        fdatasync                          2118.436 ops/sec     472 usecs/op"
		f := strings.Fields(sc.Text())
		if len(f) >= 5 && f[0] == "fdatasync" && f[2] == "ops/sec" {
			return fmt.Sprintf("%s µs per 8 kB write + fdatasync (pg_test_fsync)", f[3]), nil
		}
	}
	return "", fmt.Errorf("pg_test_fsync printed no fdatasync figure")
}

// pgBinary finds a PostgreSQL program where scripts/pg finds the server.
func pgBinary(name string) (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if p := filepath.Join(d, name); fileExists(p) {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// execSQL runs statements in the database at url.
func execSQL(ctx context.Context, url string, statements ...string) error {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.40s: %w", s, err)
		}
	}
	return nil
}
