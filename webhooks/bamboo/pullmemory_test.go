package bamboo_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/bamboo"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// onePageCatalog is one catalog page holding a catalog of n products, in brands of 100.
func onePageCatalog(n int) http.Handler {
	const perBrand = 100
	brands := (n + perBrand - 1) / perBrand
	return webhookstest.OnePage{
		N:    brands,
		Head: fmt.Sprintf(`{"pageIndex":0,"pageSize":%d,"count":%d,"items":[`, brands, brands),
		Tail: "]}",
		Item: func(w io.Writer, b int) {
			fmt.Fprintf(w, `{"name":"Brand %d","countryCode":"US","description":"","modifiedDate":"2026-01-01T00:00:00.0000000","products":[`, b)
			for id := b*perBrand + 1; id <= min((b+1)*perBrand, n); id++ {
				if id > b*perBrand+1 {
					_, _ = io.WriteString(w, ",")
				}
				fmt.Fprintf(w, `{"id":%d,"name":"Card %d","minFaceValue":10.0000,"maxFaceValue":10.0000,"count":null,"price":{"min":9.5,"max":9.5,"currencyCode":"USD"},"modifiedDate":"2026-01-01T00:00:00.0000000"}`, id, id)
			}
			_, _ = io.WriteString(w, `],"categories":[{"id":6,"name":"Airlines & Hotels"}]}`)
		},
	}
}

// A catalog page is read as a stream: the heap a pull holds does not grow with the page. (A
// page decoded whole held 13 MiB for 10,000 products and 134 MiB for 100,000.)
func TestPullHeapFlatWithPageSize(t *testing.T) {
	webhookstest.CheckPullHeapFlat(t, "products", onePageCatalog, func(url string, n int) mirrorsync.Puller {
		p, err := bamboo.NewPuller(providerapi.Options{Source: "bamboo", BaseURL: url, RequestsPerSecond: 1000}, n/100)
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}
