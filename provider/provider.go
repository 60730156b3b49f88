package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
)

// Kind is one provider kind: everything the binaries need to configure, build and demonstrate
// its sources. Name and New are required; the rest is optional.
type Kind struct {
	// Name is the kind as the configuration spells it (sources[].kind): [a-z0-9]+.
	Name string
	// New builds a configured source: the verifier of its webhooks and the decoder of what was
	// stored.
	New func(o Options) (Source, error)
	// Validate returns what is wrong with o for this kind, each problem at a path relative to
	// the source ("secrets[1]", "api.store_id"). New and API.NewPuller refuse the options it
	// faults, with the same Problems: write each rule once, for both. The generic rules (a
	// secret is required and not empty, base_url is http(s), the API's credentials are present)
	// are checked by the caller.
	Validate func(o Options) Problems
	// StoreIDs says whether the kind takes store_ids: the stores a delivery may name.
	StoreIDs bool
	// API is the provider API the reconciler pulls; nil when the kind has none.
	API *API
	// Sample returns a delivery signed with one of secrets, for `make demo`. run is fresh each
	// time the demo runs, for deliveries whose id would otherwise repeat.
	Sample func(secrets []string, run string, now time.Time) (Sample, error)
}

// Source is a configured source: it verifies the requests posted to /webhooks/{source} and
// decodes the deliveries stored from them.
type Source interface {
	webhooks.Verifier
	mirrorsync.Decoder
}

// API describes the API a kind's reconciler pulls.
type API struct {
	// Auth is the credentials its requests carry; the configuration must supply them.
	Auth Auth
	// NewPuller builds the puller of a source whose api is on (o.API.Enabled()).
	NewPuller func(o Options) (mirrorsync.Puller, error)
}

// Auth is how a provider API authenticates requests: which of api.username, api.password and
// api.token the configuration must set.
type Auth int

// The schemes of the APIs storemirror pulls.
const (
	// Basic is HTTP Basic with api.username and api.password.
	Basic Auth = iota + 1
	// Bearer is an Authorization: Bearer header with api.token.
	Bearer
	// TokenAsUsername is HTTP Basic with the API token as api.username and no password.
	TokenAsUsername
)

// Options are one configured source's settings, as cmd copies them from the configuration.
type Options struct {
	Name     string   // the configured source name
	Secrets  []string // the signing secrets; several during a rotation
	StoreIDs []string // accepted store ids (kinds with StoreIDs)
	// API is the source's api section; nil when it has none. A section whose base_url is empty
	// is off (Enabled reports false) but its other settings still say what they say.
	API *APIOptions
}

// APIOptions is a source's api section.
type APIOptions struct {
	Client   providerapi.Options // base URL, credentials, rate limit, timeout, retries
	StoreID  string              // the store to pull, for store-scoped APIs
	PageSize int                 // rows asked for per page; 0: the provider's default
}

// Enabled reports whether the source has an API to pull: a section with a base URL.
func (a *APIOptions) Enabled() bool { return a != nil && a.Client.BaseURL != "" }

// Sample is one signed delivery for the demo, and the mirror rows to show for it.
type Sample struct {
	Title  string      // what it is, e.g. "Bamboo productupdated.v1 (Svix)"
	Path   string      // what follows /webhooks/{source}: "", "/events/order"
	Header http.Header // canonical keys, as a server sees them (http.Header.Set)
	Body   []byte
	Show   []Rows // the mirror rows it produces
}

// Rows names mirror rows to show: some columns of one mirror table, for the sample's source.
type Rows struct {
	Table   string // without the schema: "products"
	Columns []string
}

// Registry is the provider kinds a binary is built with, in the order it names them.
type Registry []Kind

// Lookup returns the kind named name.
func (r Registry) Lookup(name string) (Kind, bool) {
	i := slices.IndexFunc(r, func(k Kind) bool { return k.Name == name })
	if i < 0 {
		return Kind{}, false
	}
	return r[i], true
}

// Names returns the kinds' names, in order.
func (r Registry) Names() []string {
	names := make([]string, len(r))
	for i, k := range r {
		names[i] = k.Name
	}
	return names
}

// AsSource adapts a provider package's own constructor to Kind.New: a failed constructor's
// typed nil pointer must not become a Source that is not nil.
func AsSource[S Source](s S, err error) (Source, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// AsPuller adapts a provider package's own puller constructor to API.NewPuller (see AsSource).
func AsPuller[P mirrorsync.Puller](p P, err error) (mirrorsync.Puller, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

// SetJSON returns the JSON object body with the value at path (object keys, outermost first) set
// to value: how a Sample makes a fixture's delivery id fresh. The result is re-encoded, so its
// keys come out sorted.
func SetJSON(body []byte, value any, path ...string) ([]byte, error) {
	var root map[string]any
	if err := json.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("set %s: %w", strings.Join(path, "."), err)
	}
	obj := root
	for i, key := range path[:len(path)-1] {
		next, ok := obj[key].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("set %s: %s is not an object", strings.Join(path, "."), strings.Join(path[:i+1], "."))
		}
		obj = next
	}
	obj[path[len(path)-1]] = value
	return json.Marshal(root)
}

// Check returns what the api section's credentials lack for the scheme, each problem at a path
// relative to the source ("api", "api.token"). kind names the kind in the messages.
func (a Auth) Check(kind string, o providerapi.Options) Problems {
	var ps Problems
	switch a {
	case Basic:
		if o.Username == "" || o.Password == "" {
			ps.Add("api", "%s uses HTTP Basic: username and password are required", kind)
		}
	case Bearer:
		if o.Token == "" {
			ps.Add("api.token", "a bearer token is required")
		}
	case TokenAsUsername:
		if o.Username == "" {
			ps.Add("api.username", "the %s API token is required (it is the HTTP Basic username)", kind)
		}
	}
	return ps
}
