package backinstock_test

import (
	"net/http/httptest"
	"testing"

	"github.com/storemirror/storemirror/webhooks/backinstock/backinstockfake"
)

// The tests' names for the fake Reports API of package backinstockfake.
type (
	fakeReport  = backinstockfake.API
	fakeVariant = backinstockfake.Variant
)

// reportToken is the store's Reports API token: the HTTP Basic username, with no password.
const reportToken = "bis-report-token"

func newVariants(n int) []fakeVariant { return backinstockfake.NewVariants(n) }
func variantNo(k int) int64           { return backinstockfake.VariantNo(k) }

// startReport serves fake until the test ends.
func startReport(t testing.TB, fake *fakeReport) *httptest.Server {
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv
}
