package stickyio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

const productsPath = "/api/v2/products"

// Puller pulls sticky.io's v2 products listing (Laravel pagination) for the reconciler.
type Puller struct {
	source   string
	client   *providerapi.Client
	perPage  int
	snapshot func(p product, raw json.RawMessage, v mirrorsync.Version) mirrorsync.Change
	now      func() time.Time
}

var _ mirrorsync.Puller = (*Puller)(nil)

// NewPuller returns a puller for the API described by o (HTTP Basic: API user and password).
func NewPuller(o providerapi.Options, perPage int) (*Puller, error) {
	c, err := providerapi.NewClient(o)
	if err != nil {
		return nil, err
	}
	if perPage <= 0 {
		perPage = 100
	}
	s := &Source{name: o.Source}
	return &Puller{source: o.Source, client: c, perPage: perPage, snapshot: s.snapshot, now: time.Now}, nil
}

// Entities implements mirrorsync.Puller.
func (p *Puller) Entities() []string { return []string{"products"} }

// Lists implements mirrorsync.Puller.
func (p *Puller) Lists(entity string) bool { return entity == "products" }

// StoreID implements mirrorsync.Puller.
func (p *Puller) StoreID() string { return "" }

// productsPaging is what a page of GET /api/v2/products says besides its data, which is read
// one product at a time.
type productsPaging struct {
	CurrentPage int     `json:"current_page"`
	LastPage    int     `json:"last_page"`
	NextPageURL *string `json:"next_page_url"`
}

// Pull implements mirrorsync.Puller. The listing has no modified-since filter, so an
// incremental pass reads it all too (it only never deletes).
func (p *Puller) Pull(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	if req.Entity != "products" {
		return fmt.Errorf("stickyio has no %q to pull", req.Entity)
	}
	for page := 1; ; page++ {
		pg, items, err := p.pullPage(ctx, page, emit)
		if err != nil {
			return err
		}
		// Laravel says where the listing ends twice: last_page, and a null next_page_url.
		last := pg.NextPageURL == nil
		if pg.LastPage > 0 {
			last = pg.CurrentPage >= pg.LastPage
		}
		if last || items == 0 {
			return nil
		}
	}
}

// pullPage fetches one page of the listing and emits its products as it reads them (a page is
// never held whole); it returns the page's paging and how many products it had.
func (p *Puller) pullPage(ctx context.Context, page int, emit func([]mirrorsync.Change) error) (productsPaging, int, error) {
	var pg productsPaging
	var items int
	batch := mirrorsync.NewPullBatcher(emit)
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(p.perPage)}}
	err := p.client.GetStream(ctx, productsPath, q, func(dec *json.Decoder) error {
		batch.Reset() // read again from its start after a failure: the page starts over
		pg, items = productsPaging{}, 0
		fetched := p.now()
		data := func(raw json.RawMessage) error {
			items++
			var obj product
			if err := mirrorsync.UnmarshalJSON(raw, &obj); err != nil || obj.ID == "" {
				return fmt.Errorf("%s: GET %s page %d: a product without an id or not an object", p.source, productsPath, page)
			}
			at, err := parseOffsetTime(obj.UpdatedAt)
			if err != nil {
				at = fetched // no version given: the product as of the fetch
			}
			return batch.Add(p.snapshot(obj, raw, mirrorsync.Version{At: at}))
		}
		if _, err := providerapi.ReadObject(dec, map[string]func(json.RawMessage) error{"data": data}, &pg); err != nil {
			return err
		}
		return batch.Flush()
	})
	return pg, items, err
}
