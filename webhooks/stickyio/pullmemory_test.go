package stickyio_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/stickyio"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// onePageOfProducts is a Laravel page of GET /api/v2/products holding n products, each with a
// variant, as the fake lists them.
func onePageOfProducts(n int) http.Handler {
	return webhookstest.OnePage{
		N:    n,
		Head: `{"status":"SUCCESS","data":[`,
		Tail: fmt.Sprintf(`],"current_page":1,"last_page":1,"next_page_url":null,"per_page":%d,"total":%d}`, n, n),
		Item: func(w io.Writer, i int) {
			fmt.Fprintf(w, `{"id":%d,"name":"Product %d","sku":"SKU-%d","type":"product","price":"10.0000","is_taxable":1,`+
				`"updated_at":"2024-12-18T09:25:19-05:00","variants":[{"id":%d,"sku_num":"V-%d","price":"10.0000","quantity":3,`+
				`"attributes":[{"attribute":{"name":"size","option":{"name":"small"}}}]}]}`, i+1, i+1, i+1, (i+1)*10, i+1)
		},
	}
}

// A page of the listing is read as a stream: the heap a pull holds does not grow with per_page.
func TestPullHeapFlatWithPageSize(t *testing.T) {
	webhookstest.CheckPullHeapFlat(t, "products", onePageOfProducts, func(url string, n int) mirrorsync.Puller {
		p, err := stickyio.NewPuller(providerapi.Options{Source: "sticky", BaseURL: url, RequestsPerSecond: 1000}, n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}
