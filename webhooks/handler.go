package webhooks

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"
)

// webhook takes a delivery: read the body (capped), verify it with the source's scheme, commit it
// to the inbox, and only then answer 2xx. Decoding and applying happen later, in the workers.
func (s *server) webhook(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["source"]
	verifier, ok := s.Sources[name]
	label := name
	if !ok {
		label = "unknown" // keep the metric's label set bounded
	}
	status, msg := s.takeDelivery(r, name, verifier)
	s.requests.WithLabelValues(label, strconv.Itoa(status)).Inc()
	if status >= 300 {
		writeError(w, status, msg)
		return
	}
	writeJSON(w, status, map[string]string{"status": msg})
}

// takeDelivery returns the status to answer and a message saying why.
func (s *server) takeDelivery(r *http.Request, name string, verifier Verifier) (int, string) {
	log := logger(r).WithField("source", name)
	if verifier == nil {
		return http.StatusNotFound, fmt.Sprintf("no source named %q", name)
	}
	if r.ContentLength > s.MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.MaxBodyBytes)
	}
	body, err := readBody(r, s.MaxBodyBytes)
	if err != nil {
		return http.StatusBadRequest, "could not read body"
	}
	if int64(len(body)) > s.MaxBodyBytes {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", s.MaxBodyBytes)
	}
	path := ""
	if rest := mux.Vars(r)["rest"]; rest != "" {
		path = "/" + rest
	}
	d, err := verifier.Verify(Request{Path: path, Header: r.Header, Body: body, Now: s.Now()})
	if err != nil {
		status := statusOf(err)
		log.WithField("status", status).WithError(err).Warn("delivery rejected")
		return status, err.Error()
	}
	d.Source = name
	fresh, err := s.Ingester.Store(r.Context(), d)
	if err != nil {
		log.WithError(err).Error("could not store delivery")
		return http.StatusServiceUnavailable, "could not store the delivery; retry later"
	}
	fields := func() logrus.Fields {
		return logrus.Fields{"delivery_id": logID(d.ID), "event_type": logID(d.Type), "duplicate": !fresh}
	}
	if d.Invalid != nil {
		// Genuine (it was signed) but unusable: kept as failed, and the sender told exactly why.
		log.WithFields(fields()).WithError(d.Invalid).Warn("invalid delivery stored as failed")
		return http.StatusBadRequest, d.Invalid.Error()
	}
	if log.Logger.IsLevelEnabled(logrus.DebugLevel) { // thousands a second: build no line nobody reads
		log.WithFields(fields()).Debug("delivery stored")
	}
	if !fresh {
		return http.StatusOK, "duplicate"
	}
	return http.StatusOK, "stored"
}

// readBody reads a request's body, up to limit+1 bytes, into a buffer of the size the request
// declared (most do), with one byte to spare to see the end: io.ReadAll would grow one from
// 512 bytes. The first buffer is at most 64 KiB whatever is declared, so that a client that
// declares a large body and sends nothing holds no more than that before it is verified.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	const most = 64 << 10
	size := int64(512)
	if r.ContentLength >= 0 && r.ContentLength <= limit {
		size = min(r.ContentLength+1, most)
	}
	body, rest := make([]byte, 0, size), io.LimitReader(r.Body, limit+1)
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)] // a body longer than declared, or undeclared
		}
		n, err := rest.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			return body, nil
		}
		if err != nil {
			return body, err
		}
	}
}

// logID shortens a provider-chosen id for a log line: an id may be any length.
func logID(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
