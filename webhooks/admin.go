package webhooks

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Admin configures the admin API.
type Admin struct {
	// Token is the bearer token /admin/* requires; empty disables the API (404).
	Token  string
	Resync Resyncer
}

// admin guards an admin handler: 404 when no token is configured, 401 without the right
// bearer token (compared in constant time).
func (s *server) admin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Admin.Token == "" || s.Admin.Resync == nil {
			writeError(w, http.StatusNotFound, "the admin API is disabled (no admin.token configured)")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.Admin.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="storemirror"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next(w, r)
	}
}

// Resyncer starts reconcile runs and reports on them (sync.Reconciler implements it).
type Resyncer interface {
	// Resync starts one run per entity (all the source has when entities is empty) in the
	// background, and returns their ids.
	Resync(ctx context.Context, source string, entities []string, mode string) ([]int64, error)
	Run(ctx context.Context, id int64) (mirrorsync.Run, error)
}

type resyncRequest struct {
	Source   string   `json:"source"`
	Entities []string `json:"entities"`
	Mode     string   `json:"mode"`
}

// resync: POST /admin/resync → 202 {"run_id": N, "run_ids": [N, ...]}.
func (s *server) resync(w http.ResponseWriter, r *http.Request) {
	var req resyncRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
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
