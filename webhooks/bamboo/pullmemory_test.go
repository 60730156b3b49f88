package bamboo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/bamboo"
)

// onePageCatalog answers every catalog request with one page holding the whole catalog:
// products products in brands of 100, written as they are generated (the server holds none).
type onePageCatalog struct{ products int }

func (f onePageCatalog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const perBrand = 100
	brands := (f.products + perBrand - 1) / perBrand
	fmt.Fprintf(w, `{"pageIndex":0,"pageSize":%d,"count":%d,"items":[`, brands, brands)
	for b := range brands {
		if b > 0 {
			w.Write([]byte(","))
		}
		fmt.Fprintf(w, `{"name":"Brand %d","countryCode":"US","description":"","modifiedDate":"2026-01-01T00:00:00.0000000","products":[`, b)
		for id := b*perBrand + 1; id <= min((b+1)*perBrand, f.products); id++ {
			if id > b*perBrand+1 {
				w.Write([]byte(","))
			}
			fmt.Fprintf(w, `{"id":%d,"name":"Card %d","minFaceValue":10.0000,"maxFaceValue":10.0000,"count":null,"price":{"min":9.5,"max":9.5,"currencyCode":"USD"},"modifiedDate":"2026-01-01T00:00:00.0000000"}`, id, id)
		}
		w.Write([]byte(`],"categories":[{"id":6,"name":"Airlines & Hotels"}]}`))
	}
	w.Write([]byte("]}"))
}

// pullPeakHeap runs a full pull of a catalog of products products served as one page, and
// returns the most live heap (after a collection, less what was live before the pull) seen
// each time the puller hands changes on, and how many changes it handed on in all.
func pullPeakHeap(t *testing.T, products int) (peak uint64, pulled int) {
	t.Helper()
	srv := httptest.NewServer(onePageCatalog{products: products})
	defer srv.Close()
	p, err := bamboo.NewPuller(providerapi.Options{Source: "bamboo", BaseURL: srv.URL, RequestsPerSecond: 1000}, products/100)
	if err != nil {
		t.Fatal(err)
	}
	live := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	err = p.Pull(context.Background(), mirrorsync.PullRequest{Entity: "products", Mode: mirrorsync.ModeFull}, func(changes []mirrorsync.Change) error {
		pulled += len(changes)
		if l := live(); l > base {
			peak = max(peak, l-base)
		}
		runtime.KeepAlive(changes) // what is handed on counts as held until emit returns
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return peak, pulled
}

// A catalog page is read as a stream: the heap a pull holds does not grow with the page. (A
// page decoded whole held about 1.4 KiB a product: 13 MiB for 10,000, 134 MiB for 100,000;
// read as a stream, about 1.5 MiB for either, a batch of mirrorsync.PullBatch changes.)
func TestPullHeapFlatWithPageSize(t *testing.T) {
	small, n := pullPeakHeap(t, 10_000)
	if n != 10_000 {
		t.Fatalf("pulled %d changes of 10,000 products", n)
	}
	large, n := pullPeakHeap(t, 100_000)
	if n != 100_000 {
		t.Fatalf("pulled %d changes of 100,000 products", n)
	}
	t.Logf("peak live heap while pulling a page of 10,000 products: %d KiB; of 100,000: %d KiB", small>>10, large>>10)
	const bound = 8 << 20
	if large > bound {
		t.Errorf("pulling a page of 100,000 products held %d MiB of heap, want at most %d MiB", large>>20, bound>>20)
	}
	if large > small*3/2+1<<20 {
		t.Errorf("the heap held grew with the page: %d KiB for 10,000 products, %d KiB for 100,000", small>>10, large>>10)
	}
}
