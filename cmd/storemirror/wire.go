package main

import (
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/internal/kinds"
	"github.com/storemirror/storemirror/provider"
	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// sources is the configured sources, wired: each built by its kind (internal/kinds).
type sources struct {
	verifiers map[string]webhooks.Verifier
	decoders  mirrorsync.Registry
	pullers   map[string]mirrorsync.ReconcileSource
}

func buildSources(cfgs []SourceConfig) (sources, error) {
	s := sources{verifiers: map[string]webhooks.Verifier{}, decoders: mirrorsync.Registry{}, pullers: map[string]mirrorsync.ReconcileSource{}}
	for _, c := range cfgs {
		if err := s.add(c); err != nil {
			return s, fmt.Errorf("source %s: %w", c.Name, err)
		}
	}
	return s, nil
}

// add builds one configured source with its kind: the verifier and decoder, and the puller
// when its api is on.
func (s sources) add(c SourceConfig) error {
	kind, ok := kinds.All.Lookup(c.Kind)
	if !ok {
		return fmt.Errorf("unknown kind %q", c.Kind)
	}
	o := c.options()
	src, err := kind.New(o)
	if err != nil {
		return err
	}
	s.verifiers[c.Name], s.decoders[c.Name] = src, src
	if !o.API.Enabled() {
		return nil
	}
	if kind.API == nil {
		return fmt.Errorf("kind %s has no API to pull", c.Kind)
	}
	puller, err := kind.API.NewPuller(o)
	if err != nil {
		return err
	}
	s.pullers[c.Name] = mirrorsync.ReconcileSource{
		Name: c.Name, Puller: puller, Schedule: c.Reconcile.Schedule, FullSchedule: c.Reconcile.FullSchedule,
		Overlap: time.Duration(c.Reconcile.Overlap),
	}
	return nil
}

// options copies the source's configuration into what its kind takes.
func (c SourceConfig) options() provider.Options {
	o := provider.Options{Name: c.Name, Secrets: c.Secrets, StoreIDs: c.StoreIDs}
	if a := c.API; a != nil {
		o.API = &provider.APIOptions{
			Client: providerapi.Options{
				Source: c.Name, BaseURL: a.BaseURL, RequestsPerSecond: a.RequestsPerSecond, Timeout: time.Duration(a.Timeout),
				Username: a.Username, Password: a.Password, Token: a.Token, Retries: 5,
			},
			StoreID: a.StoreID, PageSize: a.PageSize,
		}
	}
	return o
}

// newReconciler returns the reconciler of the sources that have an API, reporting to m. A pass
// holds up to two of the pool's maxConns connections (its lock's and its page's): a fifth of
// them for passes leaves the rest to ingest, the apply workers and the status.
func newReconciler(db *store.DB, s sources, log *logrus.Entry, m mirrorsync.PassObserver, maxConns int) *mirrorsync.Reconciler {
	return &mirrorsync.Reconciler{
		Store: db, Sources: s.pullers, Log: log.WithField("component", "reconcile"), Metrics: m,
		MaxPasses: max(1, maxConns/5),
	}
}
