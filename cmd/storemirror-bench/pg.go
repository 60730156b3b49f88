package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the driver
)

// server is the durable PostgreSQL the benchmark starts for itself (scripts/pg, fsync on),
// with pg_stat_statements loaded and WAL timing on, so that its own statistics explain the
// figures.
type server struct {
	script string // scripts/pg
	dir    string
	url    string // its storemirror database
	admin  *sqlx.DB
}

// settings are always applied: the statistics the report reads. Durability stays at its
// defaults (fsync, synchronous_commit, full_page_writes on).
var settings = []string{
	"shared_preload_libraries=pg_stat_statements",
	"track_wal_io_timing=on",
	"track_io_timing=on",
}

// startServer initialises and starts a server in dir with settings and extra (name=value)
// applied with ALTER SYSTEM, then restarts it so that they all hold.
func startServer(ctx context.Context, root, dir string, extra []string) (*server, error) {
	s := &server{script: filepath.Join(root, "scripts", "pg"), dir: dir}
	if err := os.Chmod(dir, 0o755); err != nil { // as root the server runs as postgres
		return nil, err
	}
	if err := s.run(ctx, "start"); err != nil {
		return nil, err
	}
	admin, err := sqlx.Open("postgres", s.url)
	if err != nil {
		return nil, err
	}
	for _, kv := range append(settings, extra...) {
		name, value, ok := strings.Cut(kv, "=")
		if !ok {
			admin.Close()
			return s, fmt.Errorf("PostgreSQL setting %q: want name=value", kv)
		}
		if _, err := admin.ExecContext(ctx, fmt.Sprintf(`ALTER SYSTEM SET %s = '%s'`, name, strings.ReplaceAll(value, "'", "''"))); err != nil {
			admin.Close()
			return s, fmt.Errorf("set %s: %w", name, err)
		}
	}
	admin.Close()
	if err := s.run(ctx, "stop"); err != nil {
		return s, err
	}
	if err := s.run(ctx, "start"); err != nil {
		return s, err
	}
	if s.admin, err = sqlx.Open("postgres", s.url); err != nil {
		return s, err
	}
	s.admin.SetMaxOpenConns(4)
	if _, err := s.admin.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return s, fmt.Errorf("create pg_stat_statements: %w", err)
	}
	return s, nil
}

func (s *server) run(ctx context.Context, verb string) error {
	cmd := exec.CommandContext(ctx, s.script, verb, s.dir)
	cmd.Env = os.Environ()
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		return fmt.Errorf("pg %s: %w\n%s", verb, err, msg)
	}
	if verb == "start" {
		s.url = strings.TrimSpace(string(out))
	}
	return nil
}

// stop stops the server; the caller removes its directory.
func (s *server) stop() {
	if s.admin != nil {
		s.admin.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.run(ctx, "stop"); err != nil {
		fmt.Fprintln(os.Stderr, "storemirror-bench:", err)
	}
}

// databaseURL is the URL of database name on the server.
func (s *server) databaseURL(name string) string {
	u, _ := url.Parse(s.url)
	u.Path = "/" + name
	return u.String()
}

// createDatabase creates a fresh, empty database (dropping one of the same name).
func (s *server) createDatabase(ctx context.Context, name string) (string, error) {
	if _, err := s.admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
		return "", fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := s.admin.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.databaseURL(name), nil
}

func (s *server) dropDatabase(ctx context.Context, name string) {
	// Clean-up of a throwaway server's database: the server itself goes at the end of the run.
	_, _ = s.admin.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
}

// postmasterPID reads the server's process id.
func (s *server) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	var pid int
	_, _ = fmt.Sscan(strings.SplitN(string(b), "\n", 2)[0], &pid) // not a number: 0, as for no file
	return pid
}

// settingsReport lists the server settings that decide the figures.
func (s *server) settingsReport(ctx context.Context) (string, error) {
	var rows []struct {
		Name    string `db:"name"`
		Setting string `db:"setting"`
		Unit    string `db:"unit"`
	}
	err := s.admin.SelectContext(ctx, &rows, `
		SELECT name, setting, coalesce(unit, '') AS unit FROM pg_settings
		WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method',
		               'commit_delay', 'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'wal_buffers')
		ORDER BY name`)
	if err != nil {
		return "", fmt.Errorf("read settings: %w", err)
	}
	parts := make([]string, len(rows))
	for i, r := range rows {
		parts[i] = r.Name + "=" + r.Setting
		if r.Unit != "" {
			parts[i] += " (" + r.Unit + ")"
		}
	}
	return strings.Join(parts, ", "), nil
}

// checkpoint writes out dirty buffers, so that every run starts from the same state instead of
// paying for the previous one's checkpoint.
func (s *server) checkpoint(ctx context.Context) error {
	_, err := s.admin.ExecContext(ctx, `CHECKPOINT`)
	return err
}
