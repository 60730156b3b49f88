package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

// The sandbox's data is what the real pullers take: a pass over each of its APIs backfills the
// mirror with all of it, and a pass after the sandbox's drift repairs what changed.
func TestSandboxFillsTheMirror(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BAMBOO_CLIENT_ID": "id", "BAMBOO_CLIENT_SECRET": "secret", "STICKYIO_API_USER": "user",
		"STICKYIO_API_PASSWORD": "pw", "BARECOMMERCE_API_TOKEN": "sk_test", "BARECOMMERCE_STORE_ID": "store_sandbox",
		"BACKINSTOCK_API_TOKEN": "token"}
	s := seed(time.Now(), func(k string) string { return env[k] })
	opts := func(srv *httptest.Server, o providerapi.Options) providerapi.Options {
		o.BaseURL, o.RequestsPerSecond, o.Timeout, o.Retries = srv.URL, 1000, 5*time.Second, 1
		return o
	}
	start := func(h http.Handler) *httptest.Server {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv
	}
	bambooPuller, err := bamboo.NewPuller(opts(start(s.bamboo), providerapi.Options{Source: "bamboo", Username: "id", Password: "secret"}), 100)
	if err != nil {
		t.Fatal(err)
	}
	stickyPuller, err := stickyio.NewPuller(opts(start(s.sticky), providerapi.Options{Source: "stickyio", Username: "user", Password: "pw"}), 10)
	if err != nil {
		t.Fatal(err)
	}
	barePuller, err := barecommerce.NewPuller(opts(start(s.bare), providerapi.Options{Source: "barecommerce", Token: "sk_test"}), "store_sandbox", 20)
	if err != nil {
		t.Fatal(err)
	}
	bisPuller, err := backinstock.NewPuller(opts(start(s.report), providerapi.Options{Source: "backinstock", Username: "token"}), 10)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	db := storetest.NewDB(t)
	r := &mirrorsync.Reconciler{Store: db, Log: logrus.NewEntry(log), Sources: map[string]mirrorsync.ReconcileSource{
		"bamboo": {Name: "bamboo", Puller: bambooPuller}, "stickyio": {Name: "stickyio", Puller: stickyPuller},
		"barecommerce": {Name: "barecommerce", Puller: barePuller}, "backinstock": {Name: "backinstock", Puller: bisPuller},
	}}
	pass := func(source, entity string) mirrorsync.Run {
		t.Helper()
		run, err := r.RunOnce(context.Background(), source, entity, mirrorsync.PassOptions{Mode: mirrorsync.ModeFull, Trigger: mirrorsync.TriggerManual})
		if err != nil {
			t.Fatalf("%s %s: %v (%+v)", source, entity, err, run)
		}
		return run
	}
	for _, c := range []struct {
		source, entity string
		want           int
	}{
		{"bamboo", "products", 120}, {"stickyio", "products", 24}, {"barecommerce", "products", 40},
		{"barecommerce", "orders", 15}, {"barecommerce", "customers", 10}, {"barecommerce", "categories", 4},
		{"backinstock", "stock_demand", 20},
	} {
		if run := pass(c.source, c.entity); run.Backfilled != c.want || run.Fetched != c.want {
			t.Errorf("%s %s: fetched %d, backfilled %d; want %d", c.source, c.entity, run.Fetched, run.Backfilled, c.want)
		}
	}
	s.drift(time.Now())
	if run := pass("bamboo", "products"); run.Updated != 1 {
		t.Errorf("bamboo products after the drift: %+v, want 1 updated", run)
	}
	if run := pass("barecommerce", "products"); run.Updated != 1 {
		t.Errorf("barecommerce products after the drift: %+v, want 1 updated", run)
	}
}
