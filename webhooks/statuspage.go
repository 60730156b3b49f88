package webhooks

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// statusAuth guards the status page: 404 when no admin token is configured; otherwise the
// token as a bearer token, or as the password of HTTP Basic with any user name (so that a
// browser asks for it, which the 401's WWW-Authenticate invites).
func (s *server) statusAuth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Admin.Token == "" {
			writeError(w, http.StatusNotFound, "the status page is disabled (no admin.token configured)")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			_, got, ok = r.BasicAuth()
		}
		if !ok || !s.tokenMatches(got) {
			w.Header().Set("WWW-Authenticate", `Basic realm="storemirror", charset="UTF-8"`)
			http.Error(w, "401 unauthorized: sign in with any user name and the admin token as the password", http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// formToken is what the page's forms carry to prove they came from the page: a browser sends
// cached Basic credentials with a form posted from any site, but no other site can know this.
func (s *server) formToken() string {
	m := hmac.New(sha256.New, []byte(s.Admin.Token))
	m.Write([]byte("storemirror status page form"))
	return hex.EncodeToString(m.Sum(nil))
}

// statusPage: GET /status, the state of every source for a person.
func (s *server) statusPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.Admin.Status(r.Context())
	if err != nil {
		logger(r).WithError(err).Error("read status")
		http.Error(w, "503 the status could not be read; retrying shortly", http.StatusServiceUnavailable)
		return
	}
	data := newPage(st, s.Now(), s.formToken())
	if n, err := strconv.ParseInt(r.URL.Query().Get("replayed"), 10, 64); err == nil {
		data.Flash = fmt.Sprintf("%s of %s queued for replay: the workers apply them again.", plural(n, "event", "events"), r.URL.Query().Get("source"))
	}
	var page bytes.Buffer
	if err := pageTemplate.Execute(&page, data); err != nil {
		logger(r).WithError(err).Error("render status page")
		http.Error(w, "500 the status page could not be drawn", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'")
	h.Set("Vary", "Accept-Encoding")
	// With 50 sources the page is about 400 kB of repetitive HTML, 25 kB gzipped: a phone on a
	// slow network reloads it every few seconds.
	if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Write(page.Bytes())
		return
	}
	h.Set("Content-Encoding", "gzip")
	zw := gzip.NewWriter(w)
	// Both fail only when the client went away: nothing to tell it.
	_, _ = zw.Write(page.Bytes())
	_ = zw.Close()
}

// statusReplay: POST /status/replay from the page's buttons: one failed event (id) or all of a
// source's failed events back to pending, then back to the page.
func (s *server) statusReplay(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<12)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "400 malformed form", http.StatusBadRequest)
		return
	}
	if !hmac.Equal([]byte(r.PostForm.Get("form_token")), []byte(s.formToken())) {
		http.Error(w, "403 the form did not come from the status page", http.StatusForbidden)
		return
	}
	source := r.PostForm.Get("source")
	if s.Sources[source] == nil {
		http.Error(w, fmt.Sprintf("404 no source named %q", source), http.StatusNotFound)
		return
	}
	rq := mirrorsync.Requeue{Source: source}
	if id := r.PostForm.Get("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			http.Error(w, "400 id: not an event id", http.StatusBadRequest)
			return
		}
		rq.ID = n
	}
	n, err := s.requeue(r, rq)
	if err != nil {
		http.Error(w, "503 could not requeue the events", statusOf(err))
		return
	}
	q := url.Values{"replayed": {strconv.FormatInt(n, 10)}, "source": {source}}
	http.Redirect(w, r, "/status?"+q.Encode()+"#source-"+source, http.StatusSeeOther)
}

// ago says how long before now t was, shortly: 12s, 3m, 5h, 2d.
func ago(t time.Time, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	return shortDuration(d)
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// thousands writes n with thin separators: 1 234 567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
