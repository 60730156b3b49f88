// Package daemon runs the real storemirror binary as a child process, as an operator would: it
// builds the binary, writes its configuration (secrets passed through the environment, as
// ${VAR}), starts `storemirror serve`, waits until it is ready, and stops it with SIGTERM or
// kills it with SIGKILL. The benchmark tool and the fault tests drive daemons with it.
package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	stdsync "sync"
	"syscall"
	"time"
)

// ModuleRoot returns the directory of this module's source (where go.mod is).
func ModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the module's source")
	}
	return filepath.Join(filepath.Dir(file), "..", ".."), nil
}

// Build compiles ./cmd/storemirror of the module at root into out, with the race detector when
// race is set and with the given build tags.
func Build(ctx context.Context, root, out string, race bool, tags ...string) error {
	args := []string{"build", "-o", out}
	if race {
		args = append(args, "-race")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/storemirror")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build storemirror in %s: %w\n%s", root, err, b)
	}
	return nil
}

// Process is a running `storemirror serve`.
type Process struct {
	URL  string // http://host:port it serves on
	Addr string // host:port

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// Start writes cfg into dir and starts `binary serve` with it, and returns once /readyz answers
// 200. It fails if the daemon exits or is not ready within a minute. An empty cfg.Listen is a
// free local port. extraEnv is added to the daemon's environment.
func Start(ctx context.Context, binary, dir string, cfg Config, extraEnv ...string) (*Process, error) {
	if cfg.Listen == "" {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		cfg.Listen = addr
	}
	cmd, logPath, err := command(binary, dir, cfg, "serve")
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, extraEnv...)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create daemon log: %w", err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p := &Process{URL: "http://" + cfg.Listen, Addr: cfg.Listen, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close() // nothing was written to it
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close() // the daemon's own writes went in, or Logs says what is missing
		close(p.exited)
	}()
	if err := p.waitReady(ctx, time.Minute); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// FreeAddr returns a local address nobody listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }() // only its port was wanted
	return ln.Addr().String(), nil
}

func (p *Process) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		if p.Ready() {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("storemirror serve exited at start (%v):\n%s", p.waitErr, p.tail())
		case <-deadline.C:
			return fmt.Errorf("storemirror serve was not ready within %v:\n%s", limit, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Ready reports whether /readyz answers 200.
func (p *Process) Ready() bool {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(p.URL + "/readyz")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read to the end so that the connection is reused; the status answers
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Pid is the daemon's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL) // it fails only for a process already gone, which exited answers
	<-p.exited
}

// Stop sends SIGTERM and waits up to limit for a clean exit (status 0). A daemon still running
// then is killed, and that is an error, as is any other exit status (66: a data race).
func (p *Process) Stop(limit time.Duration) error {
	select {
	case <-p.exited:
		return fmt.Errorf("storemirror serve had already exited: %v", p.waitErr)
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // it fails only for a process already gone, which exited answers
	select {
	case <-p.exited:
	case <-time.After(limit):
		p.Kill()
		return fmt.Errorf("storemirror serve did not stop within %v of SIGTERM", limit)
	}
	if p.waitErr != nil {
		return fmt.Errorf("storemirror serve exited with %v:\n%s", p.waitErr, p.tail())
	}
	return nil
}

// Logs returns what the daemon logged so far.
func (p *Process) Logs() ([]byte, error) { return os.ReadFile(p.logPath) }

// LogEntries returns the daemon's JSON log lines whose msg is msg, decoded.
func (p *Process) LogEntries(msg string) ([]map[string]any, error) {
	b, err := p.Logs()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e map[string]any
		if json.Unmarshal(line, &e) == nil && e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out, nil
}

// tail is the end of the log, for errors.
func (p *Process) tail() string {
	b, _ := p.Logs()
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Command returns `binary args...` (resync, replay, migrate) configured with cfg written into
// dir, its output going to the caller's choice of cmd.Stdout and cmd.Stderr.
func Command(binary, dir string, cfg Config, args ...string) (*exec.Cmd, error) {
	cmd, _, err := command(binary, dir, cfg, args...)
	return cmd, err
}

var configSeq struct {
	stdsync.Mutex
	n int
}

func command(binary, dir string, cfg Config, args ...string) (*exec.Cmd, string, error) {
	text, env := cfg.render()
	configSeq.Lock()
	configSeq.n++
	n := configSeq.n
	configSeq.Unlock()
	path := filepath.Join(dir, fmt.Sprintf("storemirror-%d.yaml", n))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return nil, "", fmt.Errorf("write daemon config: %w", err)
	}
	cmd := exec.Command(binary, append(args, "--config", path)...)
	cmd.Env = append(os.Environ(), env...)
	// The daemon dies with whoever started it: a crashed test or benchmark leaves nothing running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd, filepath.Join(dir, fmt.Sprintf("storemirror-%d.log", n)), nil
}
