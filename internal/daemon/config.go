package daemon

import (
	"fmt"
	"strings"
	"time"
)

// Config is what a daemon is configured with. Zero values leave the daemon's defaults. Only
// keys that every released storemirror accepts are written, so that one tool can drive an older
// binary and a newer one alike.
type Config struct {
	DatabaseURL string
	Listen      string // host:port; empty: a free local port, chosen when the daemon starts
	MaxConns    int    // database.max_conns
	Workers     int    // inbox.workers
	BatchSize   int    // inbox.batch_size
	Retention   time.Duration
	LogLevel    string // empty: info
	Sources     []Source
}

// Source is one configured source.
type Source struct {
	Name    string
	Kind    string
	Secrets []string
	API     *API
	// Schedule and FullSchedule are robfig/cron specs (empty: the kind's defaults, none).
	Schedule, FullSchedule string
}

// API is the provider API a source's reconciler pulls.
type API struct {
	BaseURL           string
	Username          string
	Password          string
	RequestsPerSecond float64
	PageSize          int
}

// render returns the YAML and the environment it refers to: the database URL and every
// secret are passed as ${VAR}, as in production, never written into the file.
func (c Config) render() (string, []string) {
	var b strings.Builder
	env := []string{"SM_DATABASE_URL=" + c.DatabaseURL}
	listen := c.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	fmt.Fprintf(&b, "database:\n  url: ${SM_DATABASE_URL}\n")
	if c.MaxConns > 0 {
		fmt.Fprintf(&b, "  max_conns: %d\n", c.MaxConns)
	}
	fmt.Fprintf(&b, "http:\n  listen: %q\nshutdown_timeout: 15s\n", listen)
	level := c.LogLevel
	if level == "" {
		level = "info"
	}
	fmt.Fprintf(&b, "log:\n  level: %s\n  format: json\n", level)
	b.WriteString("inbox:\n  max_attempts: 10\n")
	if c.Workers > 0 {
		fmt.Fprintf(&b, "  workers: %d\n", c.Workers)
	}
	if c.BatchSize > 0 {
		fmt.Fprintf(&b, "  batch_size: %d\n", c.BatchSize)
	}
	if c.Retention > 0 {
		fmt.Fprintf(&b, "  retention: %s\n", c.Retention)
	}
	b.WriteString("sources:\n")
	for i, s := range c.Sources {
		fmt.Fprintf(&b, "  - name: %s\n    kind: %s\n    secrets: [", s.Name, s.Kind)
		for j, secret := range s.Secrets {
			v := fmt.Sprintf("SM_SECRET_%d_%d", i, j)
			env = append(env, v+"="+secret)
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, `"${%s}"`, v)
		}
		b.WriteString("]\n")
		if a := s.API; a != nil {
			v := fmt.Sprintf("SM_API_PASSWORD_%d", i)
			env = append(env, v+"="+a.Password)
			fmt.Fprintf(&b, "    api:\n      base_url: %q\n      username: %q\n      password: ${%s}\n", a.BaseURL, a.Username, v)
			if a.RequestsPerSecond > 0 {
				fmt.Fprintf(&b, "      requests_per_second: %g\n", a.RequestsPerSecond)
			}
			if a.PageSize > 0 {
				fmt.Fprintf(&b, "      page_size: %d\n", a.PageSize)
			}
		}
		if s.Schedule != "" || s.FullSchedule != "" {
			fmt.Fprintf(&b, "    reconcile:\n      schedule: %q\n      full_schedule: %q\n", s.Schedule, s.FullSchedule)
		}
	}
	return b.String(), env
}
