package backinstock_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// onePageReport is a variants report of n rows that answers them all on page 1 and nothing
// after (a report read to its end takes one more request).
func onePageReport(n int) http.Handler {
	full := webhookstest.OnePage{N: n, Head: "[", Tail: "]", Item: func(w io.Writer, i int) {
		fmt.Fprintf(w, `{"sku":"TEA-%d","product_id":%d,"variant_no":%d,"description":"Tea %d - Large","unsent_notifications_count":2,`+
			`"sent_notifications_count":1,"notifications_count":3,"notification_last_added_at":"2026-03-01T12:00:00.000Z",`+
			`"notification_last_sent_at":null,"unit_price":"10.90"}`, i, 8339067207900+i, 44000000000000+i, i)
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") != "1" {
			_, _ = io.WriteString(w, "[]")
			return
		}
		full.ServeHTTP(w, r)
	})
}

// A page of the report is read as a stream: the heap a pull holds does not grow with per_page.
func TestPullHeapFlatWithPageSize(t *testing.T) {
	webhookstest.CheckPullHeapFlat(t, "stock_demand", onePageReport, func(url string, n int) mirrorsync.Puller {
		p, err := backinstock.NewPuller(providerapi.Options{Source: "bis", BaseURL: url, Username: "token", RequestsPerSecond: 1000}, n)
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}
