package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
)

// systemd is the service manager's side of the daemon's lifecycle, as sd_notify(3) describes
// it: READY, STATUS, the watchdog, EXTEND_TIMEOUT_USEC and STOPPING. It reads the environment
// through Main.Getenv (go-systemd's daemon package reads the process's own), so that each test
// gives its daemon a notify socket of its own. Outside systemd (no NOTIFY_SOCKET) it does
// nothing.
type systemd struct {
	socket   string        // NOTIFY_SOCKET: a path, or @name in the abstract namespace
	watchdog time.Duration // WATCHDOG_USEC, when WATCHDOG_PID is unset or this process; 0: none
}

func newSystemd(getenv func(string) (string, bool)) systemd {
	var s systemd
	s.socket, _ = getenv("NOTIFY_SOCKET")
	usec, _ := getenv("WATCHDOG_USEC")
	pid, hasPID := getenv("WATCHDOG_PID")
	if n, err := strconv.ParseInt(usec, 10, 64); err == nil && n > 0 && (!hasPID || pid == strconv.Itoa(os.Getpid())) {
		s.watchdog = time.Duration(n) * time.Microsecond
	}
	return s
}

// notify sends states (KEY=value) to systemd in one datagram.
func (s systemd) notify(states ...string) error {
	if s.socket == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: s.socket, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer func() { _ = conn.Close() }() // a datagram socket: the write's error is the one that counts
	if _, err := conn.Write([]byte(strings.Join(states, "\n"))); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}

// tell sends states and logs a failure: systemd not hearing from the daemon is worth a line, not
// a stop.
func (s systemd) tell(log *logrus.Entry, states ...string) {
	if err := s.notify(states...); err != nil {
		log.WithError(err).Warn("systemd notification failed")
	}
}

// pingWatchdog pings systemd's watchdog while check succeeds, until ctx is done: every half
// interval it runs check with the other half as its timeout, and pings only when it passed.
// A daemon whose database does not answer for a whole interval is restarted by systemd, as is
// one that hangs. Without a watchdog it returns at once.
func (s systemd) pingWatchdog(ctx context.Context, check func(context.Context) error, log *logrus.Entry) {
	if s.watchdog <= 0 {
		return
	}
	every := s.watchdog / 2
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		checkCtx, cancel := context.WithTimeout(ctx, every)
		err := check(checkCtx)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return // shutting down
		case err != nil:
			if !failing {
				log.WithError(err).Error("the database does not answer: the watchdog is not pinged, and systemd restarts the daemon if this lasts")
			}
			failing = true
		default:
			if failing {
				log.Info("the database answers again: the watchdog is pinged")
			}
			failing = false
			s.tell(log, "WATCHDOG=1")
		}
	}
}
