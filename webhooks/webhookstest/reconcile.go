package webhookstest

import (
	"io"

	"github.com/sirupsen/logrus"

	"github.com/storemirror/storemirror/store"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Reconciler returns the real reconciler over db for the one source src, logging nowhere.
func Reconciler(db *store.DB, src mirrorsync.ReconcileSource) *mirrorsync.Reconciler {
	log := logrus.New()
	log.SetOutput(io.Discard)
	return &mirrorsync.Reconciler{Store: db, Log: logrus.NewEntry(log), Sources: map[string]mirrorsync.ReconcileSource{src.Name: src}}
}
