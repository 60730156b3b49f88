package main

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/providerapi"
	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/canonical"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

// provider is what every source kind's package gives: a verifier for its webhooks and a decoder
// for what was stored.
type provider interface {
	webhooks.Verifier
	mirrorsync.Decoder
}

// sources is the configured sources, wired: cmd is the only place that knows every package.
type sources struct {
	verifiers map[string]webhooks.Verifier
	decoders  mirrorsync.Registry
	pullers   map[string]mirrorsync.ReconcileSource
}

func buildSources(cfgs []SourceConfig) (sources, error) {
	s := sources{verifiers: map[string]webhooks.Verifier{}, decoders: mirrorsync.Registry{}, pullers: map[string]mirrorsync.ReconcileSource{}}
	for _, c := range cfgs {
		p, err := newProvider(c)
		if err != nil {
			return s, fmt.Errorf("source %s: %w", c.Name, err)
		}
		s.verifiers[c.Name], s.decoders[c.Name] = p, p
		if !c.Enabled() {
			continue
		}
		puller, err := newPuller(c)
		if err != nil {
			return s, fmt.Errorf("source %s: %w", c.Name, err)
		}
		s.pullers[c.Name] = mirrorsync.ReconcileSource{
			Name: c.Name, Puller: puller, Schedule: c.Reconcile.Schedule, FullSchedule: c.Reconcile.FullSchedule,
			Overlap: time.Duration(c.Reconcile.Overlap),
		}
	}
	return s, nil
}

func newProvider(c SourceConfig) (provider, error) {
	switch c.Kind {
	case KindBamboo:
		return bamboo.New(bamboo.Options{Name: c.Name, Secrets: c.Secrets})
	case KindStickyIO:
		return stickyio.New(stickyio.Options{Name: c.Name, Secrets: c.Secrets})
	case KindBareCommerce:
		o := barecommerce.Options{Name: c.Name, Secrets: c.Secrets}
		if c.API != nil {
			o.StoreID = c.API.StoreID // deliveries that name no store belong to the one pulled
		}
		return barecommerce.New(o)
	case KindCanonical:
		return canonical.New(canonical.Options{Name: c.Name, Secrets: c.Secrets, StoreIDs: c.StoreIDs})
	case KindBackInStock:
		return backinstock.New(backinstock.Options{Name: c.Name, Secrets: c.Secrets})
	}
	return nil, fmt.Errorf("unknown kind %q", c.Kind)
}

func newPuller(c SourceConfig) (mirrorsync.Puller, error) {
	a := c.API
	o := providerapi.Options{
		Source: c.Name, BaseURL: a.BaseURL, RequestsPerSecond: a.RequestsPerSecond, Timeout: time.Duration(a.Timeout),
		Username: a.Username, Password: a.Password, Token: a.Token, Retries: 5,
	}
	switch c.Kind {
	case KindBamboo:
		return bamboo.NewPuller(o, a.PageSize)
	case KindStickyIO:
		return stickyio.NewPuller(o, a.PageSize)
	case KindBareCommerce:
		return barecommerce.NewPuller(o, a.StoreID, a.PageSize)
	case KindBackInStock:
		return backinstock.NewPuller(o, a.PageSize)
	}
	return nil, fmt.Errorf("kind %s has no API to pull", c.Kind)
}

// newReconciler returns the reconciler of the sources that have an API.
func newReconciler(db *store.DB, s sources, log *logrus.Entry, reg prometheus.Registerer) *mirrorsync.Reconciler {
	return &mirrorsync.Reconciler{
		Store: db, Sources: s.pullers, Log: log.WithField("component", "reconcile"),
		Metrics: mirrorsync.NewReconcileMetrics(reg),
	}
}
