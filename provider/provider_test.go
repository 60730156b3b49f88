package provider_test

import (
	"errors"
	"testing"

	"github.com/storemirror/storemirror/provider"
	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

func TestRegistryLookup(t *testing.T) {
	r := provider.Registry{{Name: "a"}, {Name: "b", StoreIDs: true}}
	if k, ok := r.Lookup("b"); !ok || !k.StoreIDs {
		t.Errorf("Lookup(b) = %+v, %v; want the second kind", k, ok)
	}
	if k, ok := r.Lookup("c"); ok || k.Name != "" {
		t.Errorf("Lookup(c) = %+v, %v; want nothing", k, ok)
	}
	if got, want := r.Names(), []string{"a", "b"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

func TestAuthCheck(t *testing.T) {
	cases := []struct {
		name string
		auth provider.Auth
		o    providerapi.Options
		want string // the problems as an error, "" for none
	}{
		{"basic complete", provider.Basic, providerapi.Options{Username: "u", Password: "p"}, ""},
		{"basic without password", provider.Basic, providerapi.Options{Username: "u"}, "api: k uses HTTP Basic: username and password are required"},
		{"bearer complete", provider.Bearer, providerapi.Options{Token: "t"}, ""},
		{"bearer without token", provider.Bearer, providerapi.Options{Username: "u", Password: "p"}, "api.token: a bearer token is required"},
		{"token as username", provider.TokenAsUsername, providerapi.Options{Username: "t"}, ""},
		{"token as username, missing", provider.TokenAsUsername, providerapi.Options{}, "api.username: the k API token is required (it is the HTTP Basic username)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ""
			if err := c.auth.Check("k", c.o).Err(); err != nil {
				got = err.Error()
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestProblems(t *testing.T) {
	var ps provider.Problems
	if ps.Err() != nil {
		t.Error("no problems is no error")
	}
	ps.Add("secrets[0]", "too short: %d", 3)
	ps.Add("", "no path")
	var as provider.Problems
	if err := ps.Err(); !errors.As(err, &as) || err.Error() != "secrets[0]: too short: 3\nno path" {
		t.Errorf("Err() = %v, want both problems, one a line", err)
	}
}

func TestSetJSON(t *testing.T) {
	cases := []struct {
		name, body string
		path       []string
		want       string // "" for an error
	}{
		{"top level", `{"id":"a","n":1}`, []string{"id"}, `{"id":"fresh","n":1}`},
		{"nested", `{"data":{"id":1}}`, []string{"data", "id"}, `{"data":{"id":"fresh"}}`},
		{"not an object on the way", `{"data":[1]}`, []string{"data", "id"}, ""},
		{"not JSON", `nope`, []string{"id"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := provider.SetJSON([]byte(c.body), "fresh", c.path...)
			switch {
			case c.want == "" && err == nil:
				t.Errorf("got %s, want an error", got)
			case c.want != "" && (err != nil || string(got) != c.want):
				t.Errorf("got %s (%v), want %s", got, err, c.want)
			}
		})
	}
}

type fakeSource struct{}

func (*fakeSource) Verify(webhooks.Request) (mirrorsync.Delivery, error) {
	return mirrorsync.Delivery{}, nil
}
func (*fakeSource) Decode(mirrorsync.Event) ([]mirrorsync.Change, error) { return nil, nil }

// A constructor's typed nil must not become a Source that is not nil.
func TestAsSource(t *testing.T) {
	if s, err := provider.AsSource((*fakeSource)(nil), errors.New("refused")); s != nil || err == nil {
		t.Errorf("failed constructor: got %v, %v; want nil and the error", s, err)
	}
	if s, err := provider.AsSource(&fakeSource{}, nil); s == nil || err != nil {
		t.Errorf("constructor: got %v, %v; want the source", s, err)
	}
}
