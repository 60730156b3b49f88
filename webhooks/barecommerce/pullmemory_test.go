package barecommerce_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// onePageOfProducts is a listing of n products of store_1 that a server ignoring limit answers
// as one page (and nothing after it).
func onePageOfProducts(n int) http.Handler {
	full := webhookstest.OnePage{
		N: n, Head: `{"items":[`, Tail: fmt.Sprintf(`],"total":%d}`, n),
		Item: func(w io.Writer, i int) {
			fmt.Fprintf(w, `{"id":"prod_%d","storeId":"store_1","title":"Tea %d","slug":"tea-%d","status":"published","price":"9.50",`+
				`"sku":"TEA-%d","stock":10,"trackStock":true,"categoryIds":["cat_1"],"createdAt":"2024-03-01T12:00:00Z","updatedAt":"2024-03-01T12:00:00Z"}`,
				i+1, i+1, i+1, i+1)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("offset") != "0" {
			fmt.Fprintf(w, `{"items":[],"total":%d}`, n)
			return
		}
		full.ServeHTTP(w, r)
	})
}

// A page of a listing is read as a stream: the heap a pull holds does not grow with the page,
// even from a server that answers more than the 200 a page it documents.
func TestPullHeapFlatWithPageSize(t *testing.T) {
	webhookstest.CheckPullHeapFlat(t, "products", onePageOfProducts, func(url string, n int) mirrorsync.Puller {
		p, err := barecommerce.NewPuller(providerapi.Options{Source: "bare", BaseURL: url, Token: "key", RequestsPerSecond: 1000}, "store_1", n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}
