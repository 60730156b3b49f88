package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
	"github.com/storemirror/storemirror/webhooks"
)

// /readyz says why it is not ready in words that name no host, port or driver text: it is
// answered to anyone who asks.
func TestReadyzSaysWhyWithoutDetail(t *testing.T) {
	t.Parallel()
	srv := storetest.NewServer(t)
	ctx := context.Background()
	db, err := store.Open(ctx, srv.URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := logrus.New()
	log.SetOutput(io.Discard)
	hs := httptest.NewServer(webhooks.NewHandler(webhooks.Options{
		MaxBodyBytes: 1 << 20, Log: logrus.NewEntry(log), Registry: prometheus.NewRegistry(),
		Ready: func(ctx context.Context) error { return ready(ctx, db) },
	}))
	defer hs.Close()
	readyz := func() (int, string) {
		resp, err := http.Get(hs.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	leaks := []string{u.Hostname(), u.Port(), "dial", "tcp", "pq:", "connect", "storemirror@"}
	check := func(what, wantReason string) {
		t.Helper()
		status, body := readyz()
		if status != http.StatusServiceUnavailable || !strings.Contains(body, wantReason) {
			t.Errorf("%s: /readyz answered %d %s, want 503 saying %q", what, status, body, wantReason)
		}
		for _, leak := range leaks {
			if strings.Contains(body, leak) {
				t.Errorf("%s: /readyz answer %s names %q", what, body, leak)
			}
		}
	}
	check("schema not migrated", "pending migrations")
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if status, body := readyz(); status != http.StatusOK {
		t.Fatalf("migrated: /readyz answered %d %s, want 200", status, body)
	}
	srv.Stop(t)
	check("database stopped", "the database does not answer")
}
