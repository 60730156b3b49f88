package barecommerce_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storemirror/storemirror/webhooks/barecommerce/barecommercefake"
)

// The tests' names for the fake BareCommerce API of package barecommercefake.
type (
	fakeBare   = barecommercefake.API
	fakeObject = barecommercefake.Object
)

const (
	apiToken  = "sk_live_0123456789abcdef0123456789abcdef"
	fakeStore = "store_1"
)

func newProducts(n int) []fakeObject { return barecommercefake.NewProducts(n) }
func minute(i int) time.Time         { return barecommercefake.Minute(i) }
func stamp(t time.Time) string       { return barecommercefake.Stamp(t) }

func apiError(w http.ResponseWriter, status int, code, msg string) {
	barecommercefake.APIError(w, status, code, msg)
}

// startBare serves fake until the test ends.
func startBare(t testing.TB, fake *fakeBare) *httptest.Server {
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return srv
}

func renderObject(o fakeObject) string { return barecommercefake.Render(o) }
