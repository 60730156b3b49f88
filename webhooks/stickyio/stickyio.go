package stickyio

import (
	"encoding/json"
	"fmt"

	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// Options configure a sticky.io source.
type Options struct {
	Name    string   // the configured source name
	Secrets []string // 32-character key phrases; several during a rotation
}

// Source is one configured sticky.io source.
type Source struct {
	name string
	keys [][]byte
}

var _ webhooks.Verifier = (*Source)(nil)

// New returns a sticky.io source.
func New(o Options) (*Source, error) {
	if err := checkKeys(o.Secrets).Err(); err != nil {
		return nil, fmt.Errorf("stickyio source %s: %w", o.Name, err)
	}
	s := &Source{name: o.Name}
	for _, k := range o.Secrets {
		s.keys = append(s.keys, []byte(k))
	}
	return s, nil
}

// receipt is what Verify reads of an envelope: its type, and data.id for the delivery id.
type receipt struct {
	Type string `json:"type"`
	Data struct {
		ID json.RawMessage `json:"id"`
	} `json:"data"`
}

// Verify implements webhooks.Verifier: the body must decrypt to JSON with one of the keys.
// Nothing is decrypted into the inbox: the stored body is the ciphertext as received, and the
// decoder decrypts it again (keep a retired key configured while you may replay its events).
func (s *Source) Verify(r webhooks.Request) (mirrorsync.Delivery, error) {
	if r.Path != "" {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: stickyio takes /webhooks/{source} only", webhooks.ErrNotFound)
	}
	var env receipt
	plain, decodeErr, err := decrypt(r.Body, s.keys, &env)
	if err != nil {
		return mirrorsync.Delivery{}, fmt.Errorf("%w: %v", webhooks.ErrUnauthorized, err)
	}
	id := webhooks.JSONID(env.Data.ID)
	if id == "" {
		id = webhooks.BodyID(plain) // genuine but without data.id: stored, and marked when applied
	}
	d := mirrorsync.Delivery{ID: id, Type: env.Type, Body: r.Body}
	if decodeErr == nil {
		// An envelope of another shape is the decoder's to judge (and fail) when applying.
		d.Ignored = screen(env.Type)
	}
	return d, nil
}
