package storetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Server is a PostgreSQL server of a test's own, started with scripts/pg, for tests that stop
// the database under the daemon and start it again.
type Server struct {
	dir string
	URL string // its storemirror database, empty (not migrated)
}

func pgScript(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate scripts/pg")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "pg")
}

// NewServer starts a private server; it is stopped and removed when the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	// Not t.TempDir: as root the server runs as the postgres user, who must reach the directory.
	dir, err := os.MkdirTemp("", "storemirror-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir}
	t.Cleanup(func() {
		// The test may have left it stopped; its directory goes either way.
		_ = exec.Command(pgScript(t), "stop", dir).Run()
		_ = os.RemoveAll(dir)
	})
	s.URL = s.run(t, "start")
	return s
}

func (s *Server) run(t testing.TB, verb string) string {
	t.Helper()
	cmd := exec.Command(pgScript(t), verb, s.dir)
	cmd.Env = append(os.Environ(), "PG_FAST=1")
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("pg %s: %v\n%s", verb, err, msg)
	}
	return strings.TrimSpace(string(out))
}

// Stop stops the server (fast shutdown: connections are cut).
func (s *Server) Stop(t testing.TB) { s.run(t, "stop") }

// Start starts the stopped server again, on the same port.
func (s *Server) Start(t testing.TB) { s.run(t, "start") }
