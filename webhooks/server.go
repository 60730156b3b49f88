package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"
)

// Options configure the HTTP handler.
type Options struct {
	Sources      map[string]Verifier // by configured source name
	Ingester     *Ingester
	MaxBodyBytes int64
	// Ready reports whether the daemon can serve: the database answers and the schema is current.
	Ready    func(ctx context.Context) error
	Admin    Admin // the admin API and the status page; zero: disabled
	Log      *logrus.Entry
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	Now      func() time.Time
}

type server struct {
	Options
	requests *prometheus.CounterVec
}

// NewHandler returns storemirror's HTTP handler.
func NewHandler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &server{
		Options: o,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storemirror_webhook_requests_total",
			Help: "Webhook requests by source and HTTP status.",
		}, []string{"source", "status"}),
	}
	o.Registry.MustRegister(s.requests)

	r := mux.NewRouter()
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	r.HandleFunc("/webhooks/{source}", s.webhook).Methods(http.MethodPost)
	r.HandleFunc("/webhooks/{source}/{rest:.+}", s.webhook).Methods(http.MethodPost)
	r.HandleFunc("/admin/resync", s.admin(s.resync)).Methods(http.MethodPost)
	r.HandleFunc("/admin/runs", s.admin(s.runs)).Methods(http.MethodGet)
	r.HandleFunc("/admin/runs/{id}", s.admin(s.run)).Methods(http.MethodGet)
	r.HandleFunc("/admin/events", s.admin(s.events)).Methods(http.MethodGet)
	r.HandleFunc("/admin/replay", s.admin(s.replay)).Methods(http.MethodPost)
	r.HandleFunc("/admin/status", s.admin(s.adminStatus)).Methods(http.MethodGet)
	r.HandleFunc("/status", s.statusAuth(s.statusPage)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/status/replay", s.statusAuth(s.statusReplay)).Methods(http.MethodPost)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such path")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	return s.logRequests(r)
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		// The answer is public: it says why in words that name no host, port or driver text;
		// the log has the detail.
		logger(r).WithError(err).Warn("not ready")
		writeError(w, http.StatusServiceUnavailable, "not ready: "+notReadyReason(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// NotReady is an error of Options.Ready that says, in Reason, why in words fit for anyone to
// read; Err is the detail, for the log.
type NotReady struct {
	Reason string
	Err    error
}

func (e *NotReady) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *NotReady) Unwrap() error { return e.Err }

// notReadyReason is the public reason of a readiness error: its NotReady.Reason, or a generic
// one (the error's own text may name a host, a port or the driver's words).
func notReadyReason(err error) string {
	var nr *NotReady
	if errors.As(err, &nr) {
		return nr.Reason
	}
	return "the daemon cannot serve yet"
}

type ctxKey struct{}

// logger returns the request's log entry (with its request id).
func logger(r *http.Request) *logrus.Entry {
	return r.Context().Value(ctxKey{}).(*logrus.Entry)
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logRequests gives each request an id (X-Request-Id, kept when the caller sent one) and a
// logger carrying it, and logs the request when it ends.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		log := s.Log.WithField("request_id", id)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, log)))
		level := logrus.InfoLevel
		switch {
		case r.URL.Path == "/healthz", r.URL.Path == "/readyz", r.URL.Path == "/metrics":
			level = logrus.DebugLevel
		case strings.HasPrefix(r.URL.Path, "/webhooks/") && sw.status < 300:
			// A stored delivery is in the inbox (sync.webhook_events, /admin/events) and counted
			// in the metrics; at thousands a second its line would cost a write each, and
			// journald's rate limit (10,000 lines in 30 s by default) would drop the warnings
			// with them. Rejections stay at info.
			level = logrus.DebugLevel
		}
		if !log.Logger.IsLevelEnabled(level) {
			return // nor build a line that would not be written
		}
		log.WithFields(logrus.Fields{
			"method": r.Method, "path": r.URL.Path, "status": sw.status,
			"duration_ms": time.Since(start).Milliseconds(), "remote": r.RemoteAddr,
		}).Log(level, "request")
	})
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // it fails only when the client went away: nothing to tell it
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
