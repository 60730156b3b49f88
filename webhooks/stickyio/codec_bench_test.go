package stickyio_test

import (
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/loadgen"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

// The CPU a delivery costs the daemon outside the database: verifying it at receipt, decoding
// it when applied (a product.updated snapshot with 3 variants, as make bench posts).
func benchSnapshot(b *testing.B) (*stickyio.Source, []byte) {
	b.Helper()
	s, err := stickyio.New(stickyio.Options{Name: "sticky", Secrets: []string{key}})
	if err != nil {
		b.Fatal(err)
	}
	req, err := loadgen.StickyIO{Path: "/webhooks/sticky", Key: key, Base: time.Now()}.Snapshot("evt-1", 1, 42, "19.9900", 3)
	if err != nil {
		b.Fatal(err)
	}
	return s, req.Body
}

func BenchmarkVerify(b *testing.B) {
	s, body := benchSnapshot(b)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := s.Verify(webhooks.Request{Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	s, body := benchSnapshot(b)
	b.SetBytes(int64(len(body)))
	ev := mirrorsync.Event{ID: 1, Source: "sticky", Type: "product.updated", Body: body, ReceivedAt: time.Now()}
	for b.Loop() {
		if _, err := s.Decode(ev); err != nil {
			b.Fatal(err)
		}
	}
}
