package webhookstest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// OnePage answers every request with one page of N items, written as they are generated (the
// server holds none of them): Head, then items 0 to N-1 (Item writes item i to w) separated by
// commas, then Tail.
type OnePage struct {
	N          int
	Head, Tail string
	Item       func(w io.Writer, i int)
}

// ServeHTTP implements http.Handler.
func (p OnePage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, p.Head)
	for i := range p.N {
		if i > 0 {
			w.Write([]byte(","))
		}
		p.Item(w, i)
	}
	fmt.Fprint(w, p.Tail)
}

// PullHeap runs a full pull of entity with p and returns the most live heap (after a
// collection, less what was live before the pull) seen each time p hands changes on, with
// those changes held, and how many changes it handed on in all.
func PullHeap(tb testing.TB, p mirrorsync.Puller, entity string) (peak uint64, pulled int) {
	tb.Helper()
	live := func() uint64 {
		var m runtime.MemStats
		// Twice: the second collection frees what the server's goroutine allocated during the
		// first, which would otherwise count as live.
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	err := p.Pull(context.Background(), mirrorsync.PullRequest{Entity: entity, Mode: mirrorsync.ModeFull}, func(changes []mirrorsync.Change) error {
		pulled += len(changes)
		if l := live(); l > base {
			peak = max(peak, l-base)
		}
		runtime.KeepAlive(changes) // what is handed on counts as held until emit returns
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return peak, pulled
}

// MaxPullHeap is the most heap a pull may hold, whatever its page size: a page is read as a
// stream and handed on mirrorsync.PullBatch changes at a time (about 1.5 MiB of them).
const MaxPullHeap = 8 << 20

// CheckPullHeapFlat pulls entity from a server answering one page of 10,000 items, then one of
// 100,000 (page(n) is that server's handler; newPuller makes a puller of its URL asking for n
// items a page), and fails tb if the heap the pull holds grows with the page, or passes
// MaxPullHeap. A page decoded whole held 0.8-1.6 KiB an item: 78-160 MiB for 100,000 of them.
func CheckPullHeapFlat(tb testing.TB, entity string, page func(n int) http.Handler, newPuller func(baseURL string, n int) mirrorsync.Puller) {
	tb.Helper()
	var peaks [2]uint64
	for i, n := range []int{10_000, 100_000} {
		srv := httptest.NewServer(page(n))
		var pulled int
		peaks[i], pulled = PullHeap(tb, newPuller(srv.URL, n), entity)
		srv.Close()
		if pulled != n {
			tb.Fatalf("pulled %d changes from a page of %d items", pulled, n)
		}
	}
	small, large := peaks[0], peaks[1]
	tb.Logf("peak live heap pulling a page of 10,000 items: %d KiB; of 100,000: %d KiB", small>>10, large>>10)
	if large > MaxPullHeap {
		tb.Errorf("pulling a page of 100,000 items held %d MiB of heap, want at most %d MiB", large>>20, MaxPullHeap>>20)
	}
	if large > small*3/2+1<<20 {
		tb.Errorf("the heap held grew with the page: %d KiB for 10,000 items, %d KiB for 100,000", small>>10, large>>10)
	}
}
