package webhooks_test

import (
	"context"
	"testing"

	"github.com/storemirror/storemirror/store/storetest"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// A delivery ignored at receipt is counted once, when first stored, and wakes no worker: there
// is nothing for one to do. A delivery to apply wakes them.
func TestIgnoredAtReceiptIsCountedNotApplied(t *testing.T) {
	t.Parallel()
	nudges, ignored := 0, map[string]int{}
	ing := webhooks.NewIngester(storetest.NewDB(t), 100, func() { nudges++ })
	ing.Committers = 1 // the callbacks run on the one committer: no lock needed
	ing.IgnoredAtReceipt = func(source string) { ignored[source]++ }
	go ing.Run()
	offer := mirrorsync.Delivery{Source: "shop", ID: "offer-1", Type: "offer.updated", Body: []byte("{}"),
		Ignored: mirrorsync.Ignore("offer.updated is not mirrored")}
	for range 2 { // the second is the provider's retry: a duplicate
		if _, err := ing.Store(context.Background(), offer); err != nil {
			t.Fatal(err)
		}
	}
	if ignored["shop"] != 1 || nudges != 0 {
		t.Errorf("ignored at receipt counted %d times, %d nudges; want 1 and none", ignored["shop"], nudges)
	}
	if _, err := ing.Store(context.Background(), mirrorsync.Delivery{Source: "shop", ID: "p-1", Type: "product.updated", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	ing.Close()
	if ignored["shop"] != 1 || nudges != 1 {
		t.Errorf("after a delivery to apply: %d ignored, %d nudges; want 1 and 1", ignored["shop"], nudges)
	}
}
