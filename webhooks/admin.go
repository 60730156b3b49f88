package webhooks

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Admin configures the admin API and the status page.
type Admin struct {
	// Token is the bearer token /admin/* and /status require; empty disables them (404).
	Token  string
	Resync Resyncer
	Store  AdminStore
	// Status reads the state of every configured source.
	Status func(ctx context.Context) (mirrorsync.Status, error)
	// Nudge, when set, wakes the apply workers after a replay.
	Nudge func()
}

// Resyncer starts reconcile runs and reports on them (sync.Reconciler implements it).
type Resyncer interface {
	// Resync starts one run per entity (all the source has when entities is empty) in the
	// background, and returns their ids.
	Resync(ctx context.Context, source string, entities []string, mode string) ([]int64, error)
	Run(ctx context.Context, id int64) (mirrorsync.Run, error)
}

// AdminStore lists runs and events and requeues events (package store implements it).
type AdminStore interface {
	ListRuns(ctx context.Context, f mirrorsync.RunFilter) ([]mirrorsync.Run, error)
	ListEvents(ctx context.Context, f mirrorsync.EventFilter) ([]mirrorsync.EventSummary, error)
	RequeueEvents(ctx context.Context, r mirrorsync.Requeue) (int64, error)
}

// tokenMatches compares a presented token with the admin token in constant time.
func (s *server) tokenMatches(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.Admin.Token)) == 1
}

// admin guards an admin handler: 404 when no token is configured, 401 without the right
// bearer token.
func (s *server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Admin.Token == "" {
			writeError(w, http.StatusNotFound, "the admin API is disabled (no admin.token configured)")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !s.tokenMatches(got) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="storemirror"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next(w, r)
	}
}

type resyncRequest struct {
	Source   string   `json:"source"`
	Entities []string `json:"entities"`
	Mode     string   `json:"mode"`
}

// decodeBody decodes a small JSON request body strictly (unknown fields are errors).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// resync: POST /admin/resync → 202 {"run_id": N, "run_ids": [N, ...]}.
func (s *server) resync(w http.ResponseWriter, r *http.Request) {
	var req resyncRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "body must be {\"source\":...,\"entities\":[...],\"mode\":\"full|incremental\"}: "+err.Error())
		return
	}
	if req.Source == "" {
		writeError(w, http.StatusBadRequest, "source is required")
		return
	}
	if req.Mode == "" {
		req.Mode = mirrorsync.ModeIncremental
	}
	ids, err := s.Admin.Resync.Resync(r.Context(), req.Source, req.Entities, req.Mode)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	logger(r).WithFields(logrus.Fields{"source": req.Source, "run_ids": ids, "mode": req.Mode}).Info("resync started")
	writeJSON(w, http.StatusAccepted, map[string]any{"run_id": ids[0], "run_ids": ids})
}

// run: GET /admin/runs/{id}.
func (s *server) run(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "no such run")
		return
	}
	run, err := s.Admin.Resync.Run(r.Context(), id)
	if err != nil {
		writeError(w, statusOf(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// runs: GET /admin/runs?source=&entity=&status=&limit= → {"runs": [...]}, newest first.
func (s *server) runs(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "source", "entity", "status", "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := mirrorsync.RunFilter{Source: q.name("source"), Entity: q.name("entity"),
		Status: q.oneOf("status", mirrorsync.RunQueued, mirrorsync.RunRunning, mirrorsync.RunSucceeded, mirrorsync.RunFailed),
		Limit:  q.limit()}
	if q.err != nil {
		writeError(w, http.StatusBadRequest, q.err.Error())
		return
	}
	runs, err := s.Admin.Store.ListRuns(r.Context(), f)
	if err != nil {
		logger(r).WithError(err).Error("list runs")
		writeError(w, statusOf(err), "could not read the runs")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs})
}

// events: GET /admin/events?source=&status=&limit= → {"events": [...]}, newest first, never
// with their bodies (which hold customers' personal data).
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "source", "status", "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := mirrorsync.EventFilter{Source: q.name("source"), Limit: q.limit(),
		Status: q.oneOf("status", "pending", "applied", "ignored", "failed")}
	if q.err != nil {
		writeError(w, http.StatusBadRequest, q.err.Error())
		return
	}
	evs, err := s.Admin.Store.ListEvents(r.Context(), f)
	if err != nil {
		logger(r).WithError(err).Error("list events")
		writeError(w, statusOf(err), "could not read the events")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

type replayRequest struct {
	Source string `json:"source"`
	Status string `json:"status"`
	Since  string `json:"since"`
}

// replay: POST /admin/replay {"source","status":"failed|all","since"} → 202 {"queued": N}.
func (s *server) replay(w http.ResponseWriter, r *http.Request) {
	var req replayRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, "body must be {\"source\":...,\"status\":\"failed|all\",\"since\":\"RFC 3339\"}: "+err.Error())
		return
	}
	rq := mirrorsync.Requeue{Source: req.Source, All: req.Status == "all"}
	switch {
	case req.Source == "":
		writeError(w, http.StatusBadRequest, "source is required")
		return
	case req.Status != "" && req.Status != "failed" && req.Status != "all":
		writeError(w, http.StatusBadRequest, "status must be failed or all")
		return
	case s.Sources[req.Source] == nil:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no source named %q", req.Source))
		return
	}
	if req.Since != "" {
		t, err := time.Parse(time.RFC3339, req.Since)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since must be an RFC 3339 time (2026-05-01T10:00:00Z)")
			return
		}
		rq.Since = t
	}
	n, err := s.requeue(r, rq)
	if err != nil {
		writeError(w, statusOf(err), "could not requeue the events")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int64{"queued": n})
}

// requeue puts events back to pending, logs it, and wakes the workers.
func (s *server) requeue(r *http.Request, rq mirrorsync.Requeue) (int64, error) {
	log := logger(r).WithFields(logrus.Fields{"source": rq.Source, "all": rq.All})
	n, err := s.Admin.Store.RequeueEvents(r.Context(), rq)
	if err != nil {
		log.WithError(err).Error("requeue events")
		return n, err
	}
	log.WithField("queued", n).Info("events requeued for replay")
	if s.Admin.Nudge != nil && n > 0 {
		s.Admin.Nudge()
	}
	return n, nil
}

// adminStatus: GET /admin/status.
func (s *server) adminStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.Admin.Status(r.Context())
	if err != nil {
		logger(r).WithError(err).Error("read status")
		writeError(w, statusOf(err), "could not read the status")
		return
	}
	writeJSON(w, http.StatusOK, st)
}
