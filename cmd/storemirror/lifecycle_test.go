package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/store/storetest"
)

// notifySocket is a fake systemd notify socket: it keeps every state (KEY=value) the daemon
// sends, in order.
type notifySocket struct {
	path   string
	states chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd") // short: a socket's path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // under the system's temporary directory
	s := &notifySocket{path: filepath.Join(dir, "notify"), states: make(chan string, 10000)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() }) // the test is over
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			for state := range strings.SplitSeq(string(buf[:n]), "\n") {
				s.states <- state
			}
		}
	}()
	return s
}

// during returns the states sent within d.
func (s *notifySocket) during(d time.Duration) []string {
	var got []string
	timeout := time.After(d)
	for {
		select {
		case state := <-s.states:
			got = append(got, state)
		case <-timeout:
			return got
		}
	}
}

// waitFor returns the states sent until want (included); it fails the test if want does not
// come within 20 seconds.
func (s *notifySocket) waitFor(t *testing.T, want string) []string {
	t.Helper()
	var got []string
	timeout := time.After(20 * time.Second)
	for {
		select {
		case state := <-s.states:
			got = append(got, state)
			if state == want {
				return got
			}
		case <-timeout:
			t.Fatalf("systemd was not told %s; it was told %q", want, got)
		}
	}
}

// postOrder posts a signed Bamboo order webhook and returns the answer's status.
func (d *runningDaemon) postOrder(t *testing.T, id string, orderID, cards int) int {
	t.Helper()
	body := fmt.Sprintf(`{"orderId":%d,"status":"succeeded","totalCards":%d,"createdOn":"2026-04-01T08:00:00+00:00","completedOn":"2026-04-01T08:0%d:00+00:00","requestId":"r-1"}`,
		orderID, cards, cards%10)
	wh, err := svix.NewWebhook(e2eSecret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, time.Now(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Svix-Id": {id}, "Svix-Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Svix-Signature": {sig}}
	status, _ := d.do(t, http.MethodPost, "/webhooks/bamboo", h, body)
	return status
}

// With auto_migrate off and migrations pending, the daemon serves /readyz (503) but applies
// nothing and does not tell systemd READY: it says why, keeps the start-up from timing out,
// and is ready as soon as someone migrates.
func TestReadyOnlyOnceTheSchemaIsCurrent(t *testing.T) {
	t.Parallel()
	sd := newNotifySocket(t)
	d := startDaemonWith(t, daemonOptions{
		dbURL: storetest.NewEmptyURL(t), autoMigrateOff: true, schemaPoll: 50 * time.Millisecond,
		env: map[string]string{"NOTIFY_SOCKET": sd.path},
	})
	waiting := sd.during(time.Second) // 20 polls
	if slices.Contains(waiting, "READY=1") {
		t.Fatalf("READY=1 with migrations pending: %q", waiting)
	}
	for _, want := range []string{"STATUS=not ready: the schema has pending migrations (run storemirror migrate)", "EXTEND_TIMEOUT_USEC=150000"} {
		if !slices.Contains(waiting, want) {
			t.Errorf("while not ready, systemd was told %q, want %q among it", waiting, want)
		}
	}
	if n := strings.Count(d.logs.String(), "pending migrations"); n != 1 {
		t.Errorf("the log says %d times that migrations are pending, want once:\n%s", n, d.logs)
	}
	if status, body := d.do(t, http.MethodGet, "/readyz", nil, ""); status != http.StatusServiceUnavailable {
		t.Errorf("/readyz before migrating: %d %s, want 503", status, body)
	}

	if _, err := d.db.Migrate(context.Background()); err != nil { // someone runs storemirror migrate
		t.Fatal(err)
	}
	sd.waitFor(t, "READY=1")
	if status, body := d.do(t, http.MethodGet, "/readyz", nil, ""); status != http.StatusOK {
		t.Errorf("/readyz once migrated: %d %s, want 200", status, body)
	}
	if !strings.Contains(d.logs.String(), "the schema is current") {
		t.Errorf("the log does not say the schema is current:\n%s", d.logs)
	}
	// The apply workers run now.
	if status := d.postOrder(t, "msg_ready", 7, 1); status != http.StatusOK {
		t.Fatalf("webhook once ready: %d", status)
	}
	eventually(t, "the order applied", func() bool {
		var n int
		if err := d.db.SQL().Get(&n, `SELECT count(*) FROM mirror.orders WHERE external_id = '7'`); err != nil {
			t.Fatal(err)
		}
		return n == 1
	})
	d.stop(t)
	sd.waitFor(t, "STOPPING=1")
}

// The watchdog is pinged only while the database answers: a daemon whose database is gone is
// restarted by systemd, and one whose database came back is left alone.
func TestWatchdogFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	pg := storetest.NewServer(t)
	sd := newNotifySocket(t)
	d := startDaemonWith(t, daemonOptions{dbURL: pg.URL, env: map[string]string{
		"NOTIFY_SOCKET": sd.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": strconv.Itoa(os.Getpid()),
	}})
	sd.waitFor(t, "READY=1")
	for range 3 {
		sd.waitFor(t, "WATCHDOG=1")
	}

	pg.Stop(t)
	eventually(t, "the log to say the database does not answer", func() bool {
		return strings.Contains(d.logs.String(), "the database does not answer: the watchdog is not pinged")
	})
	sd.during(100 * time.Millisecond) // a ping that was on its way
	if got := sd.during(time.Second); slices.Contains(got, "WATCHDOG=1") {
		t.Errorf("the watchdog was pinged with the database stopped: %q", got)
	}

	pg.Start(t)
	sd.waitFor(t, "WATCHDOG=1")
	if !strings.Contains(d.logs.String(), "the database answers again") {
		t.Errorf("the log does not say the database answers again:\n%s", d.logs)
	}
}

func TestSystemdEnvironment(t *testing.T) {
	t.Parallel()
	pid := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		name string
		env  map[string]string
		want time.Duration
	}{
		{"no watchdog", map[string]string{"NOTIFY_SOCKET": "/run/x"}, 0},
		{"a watchdog", map[string]string{"WATCHDOG_USEC": "30000000"}, 30 * time.Second},
		{"a watchdog for this process", map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": pid}, time.Millisecond},
		{"a watchdog for another process", map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}, 0},
		{"a watchdog of nothing", map[string]string{"WATCHDOG_USEC": "0"}, 0},
		{"an unreadable watchdog", map[string]string{"WATCHDOG_USEC": "soon"}, 0},
	} {
		if got := newSystemd(lookup(c.env)).watchdog; got != c.want {
			t.Errorf("%s: watchdog %v, want %v", c.name, got, c.want)
		}
	}
	if err := newSystemd(lookup(nil)).notify("READY=1"); err != nil {
		t.Errorf("outside systemd, notify = %v, want nothing done", err)
	}
}

// If the HTTP listener dies, serve stops and fails, so that Restart=on-failure restarts it.
func TestServeFailsWhenTheListenerDies(t *testing.T) {
	t.Parallel()
	listeners := make(chan net.Listener, 1)
	d := startDaemonWith(t, daemonOptions{listen: func(network, address string) (net.Listener, error) {
		ln, err := net.Listen(network, address)
		if err == nil {
			listeners <- ln
		}
		return ln, err
	}})
	if err := (<-listeners).Close(); err != nil {
		t.Fatalf("close the listener: %v", err)
	}
	select {
	case err := <-d.done:
		if _, ok := errors.AsType[*serveError](err); !ok || exitCode(err) != 1 {
			t.Errorf("serve returned %v (exit status %d), want the HTTP server's failure (1)", err, exitCode(err))
		}
		d.done <- nil // stopped already: the cleanup's stop finds it so
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still runs with its listener closed\n%s", d.logs)
	}
	for _, want := range []string{"the HTTP server stopped; shutting down", `"level":"info","msg":"stopped"`} {
		if !strings.Contains(d.logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, d.logs)
		}
	}
}

// The HTTP drain and the worker drain each get a share of shutdown_timeout: a request that
// never finishes does not take the time an apply batch in flight needs to commit.
func TestShutdownGivesTheWorkersTheirShare(t *testing.T) {
	t.Parallel()
	accepted := make(chan string, 100)
	d := startDaemonWith(t, daemonOptions{shutdownTimeout: "4s", listen: func(network, address string) (net.Listener, error) {
		ln, err := net.Listen(network, address)
		return acceptSignal{ln, accepted}, err
	}})
	if status := d.postOrder(t, "msg_first", 1, 1); status != http.StatusOK {
		t.Fatalf("first webhook: %d", status)
	}
	eventually(t, "the first event applied", func() bool { return d.eventStatus(t, "msg_first") == "applied" })

	// The order's row is locked, so that the next batch, which updates it, waits in flight.
	tx, err := d.db.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`SELECT 1 FROM mirror.orders WHERE source = 'bamboo' AND external_id = '1' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	if status := d.postOrder(t, "msg_second", 1, 2); status != http.StatusOK {
		t.Fatalf("second webhook: %d", status)
	}
	eventually(t, "the batch to wait for the row", func() bool {
		var n int
		if err := d.db.SQL().Get(&n, `SELECT count(*) FROM pg_locks WHERE NOT granted`); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	// A request whose body never comes: the HTTP drain waits for it to its share's end (once
	// accepted, a connection is in flight for its first five seconds, even before it is read).
	conn, err := net.Dial("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }() // the test is over
	if _, err := fmt.Fprintf(conn, "POST /webhooks/bamboo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"); err != nil {
		t.Fatal(err)
	}
	// Wait for the daemon to read this connection, not another (the test's HTTP client may open
	// one late): only then is it surely among the server's connections. Between Accept and
	// that, a SIGTERM would find no connection in flight.
	for remote := <-accepted; remote != conn.LocalAddr().String(); remote = <-accepted {
	}

	d.cancel() // SIGTERM
	eventually(t, "the HTTP drain to give up", func() bool {
		return strings.Contains(d.logs.String(), "HTTP requests still in flight at the end of their share")
	})
	if err := tx.Rollback(); err != nil { // the batch may go on, within the workers' share
		t.Fatal(err)
	}
	d.stop(t)
	if logs := d.logs.String(); !strings.Contains(logs, `"msg":"stopped"`) || strings.Contains(logs, "background work still running") {
		t.Errorf("the workers were not given their share of the shutdown:\n%s", logs)
	}
	if got := d.eventStatus(t, "msg_second"); got != "applied" {
		t.Errorf("the batch in flight at shutdown: event %s, want applied", got)
	}
}

// acceptSignal is a listener that sends the remote address of each connection it accepts, once
// the server first reads from it: by then net/http counts it among its connections.
type acceptSignal struct {
	net.Listener
	accepted chan<- string
}

func (l acceptSignal) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	return &readSignal{Conn: c, accepted: l.accepted}, nil
}

type readSignal struct {
	net.Conn
	once     sync.Once
	accepted chan<- string
}

func (c *readSignal) Read(b []byte) (int, error) {
	c.once.Do(func() { c.accepted <- c.RemoteAddr().String() })
	return c.Conn.Read(b)
}

// eventStatus is the status of the stored event with delivery id id.
func (d *runningDaemon) eventStatus(t *testing.T, id string) string {
	t.Helper()
	var status string
	if err := d.db.SQL().Get(&status, `SELECT status FROM sync.webhook_events WHERE delivery_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	return status
}

// serve sets its garbage-collection target unless GOGC is set, which wins. Not parallel: the
// target is the process's.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100)) // put back whatever the test binary had
	debug.SetGCPercent(100)
	if tuneGC(func(string) string { return "250" }) {
		t.Error("tuneGC set its target although GOGC is set")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, the target became %d, want it left at 100", got)
	}
	if !tuneGC(func(string) string { return "" }) {
		t.Error("tuneGC did not set its target with GOGC unset")
	}
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("with GOGC unset, the target is %d, want %d", got, gcPercent)
	}
}
