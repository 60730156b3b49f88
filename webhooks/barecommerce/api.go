package barecommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// The page sizes of BareCommerce listings: its API answers at most 200 items a page.
const (
	defaultPageSize = 100
	maxPageSize     = 200
)

// pulled lists the mirror tables the puller fills, which are also the store's resource paths.
var pulled = []string{"products", "orders", "customers", "categories"}

// familyOf maps each pulled table to the webhook family whose mapper reads its objects, so that
// an object maps the same whether a webhook or the API brought it.
var familyOf = map[string]string{
	"products":   "product",
	"orders":     "order",
	"customers":  "customer",
	"categories": "category",
}

// Puller pulls one BareCommerce store's products, orders, customers and categories for the
// reconciler: limit/offset listings under /stores/{storeId}, behind a Bearer token.
type Puller struct {
	source   string
	storeID  string
	client   *providerapi.Client
	pageSize int
	now      func() time.Time
}

var _ mirrorsync.Puller = (*Puller)(nil)

// NewPuller returns a puller of the store storeID at the API described by o (Token: an API key
// with the *:read scopes). pageSize is the limit it asks for: 100 when not positive, and at most
// 200, the API's maximum.
func NewPuller(o providerapi.Options, storeID string, pageSize int) (*Puller, error) {
	if err := checkStoreID(storeID).Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Source, err)
	}
	c, err := providerapi.NewClient(o)
	if err != nil {
		return nil, err
	}
	switch {
	case pageSize <= 0:
		pageSize = defaultPageSize
	case pageSize > maxPageSize:
		pageSize = maxPageSize
	}
	return &Puller{source: o.Source, storeID: storeID, client: c, pageSize: pageSize, now: time.Now}, nil
}

// Entities implements mirrorsync.Puller.
func (p *Puller) Entities() []string { return slices.Clone(pulled) }

// Lists implements mirrorsync.Puller: each listing has every row of the store.
func (p *Puller) Lists(entity string) bool {
	_, ok := familyOf[entity]
	return ok
}

// StoreID implements mirrorsync.Puller.
func (p *Puller) StoreID() string { return p.storeID }

// listPaging is what a page of GET /stores/{storeId}/{entity} says besides its items, which
// are read one at a time. The docs show a total beside the items, BareMCP's client a
// pagination object; either may come.
type listPaging struct {
	Total      *int `json:"total"`
	Pagination *struct {
		Total   *int  `json:"total"`
		HasNext *bool `json:"hasNext"`
	} `json:"pagination"`
}

// more reports whether the listing goes on after a page of items items, read in all so far. A
// listing that ends before the total it announced is an error: a pass that missed rows must not
// count them missing.
func (pg *listPaging) more(items, read int) (bool, error) {
	total := pg.Total
	if total == nil && pg.Pagination != nil {
		total = pg.Pagination.Total
	}
	switch {
	case items == 0 && total != nil && read < *total:
		return false, fmt.Errorf("listing ended after %d of its %d items", read, *total)
	case items == 0:
		return false, nil
	case total != nil:
		return read < *total, nil
	case pg.Pagination != nil && pg.Pagination.HasNext != nil:
		return *pg.Pagination.HasNext, nil
	}
	return true, nil // no paging fields: until an empty page
}

// Pull implements mirrorsync.Puller. Rows flagged for re-fetching come first. Then a full pass
// (or an incremental one with no watermark yet) lists the oldest-created first, so that rows
// created during the pass append at the end and offset paging skips none; an incremental pass
// lists the latest-updated first and stops where the listing reaches rows older than req.Since.
func (p *Puller) Pull(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	family, ok := familyOf[req.Entity]
	if !ok {
		return fmt.Errorf("barecommerce has no %q to pull", req.Entity)
	}
	if err := p.refetch(ctx, req, family, emit); err != nil {
		return err
	}
	path := "/stores/" + url.PathEscape(p.storeID) + "/" + req.Entity
	q := url.Values{"limit": {strconv.Itoa(p.pageSize)}, "sortBy": {"createdAt"}, "sortOrder": {"asc"}}
	var cut *cutoff
	if req.Mode == mirrorsync.ModeIncremental && !req.Since.IsZero() {
		q.Set("sortBy", "updatedAt")
		q.Set("sortOrder", "desc")
		cut = &cutoff{since: req.Since, sorted: true}
	}
	for read := 0; ; {
		q.Set("offset", strconv.Itoa(read))
		page, items, passed, err := p.pullPage(ctx, path, q, family, cut, emit)
		if err != nil {
			return err
		}
		read += items // not the limit asked: the server may answer fewer
		more, err := page.more(items, read)
		if err != nil {
			return fmt.Errorf("%s: GET %s: %w", p.source, path, err)
		}
		if !more || passed {
			return nil
		}
	}
}

// cutoff is where an incremental listing, newest first, may stop: at the first row older than
// since. A listing found out of order (the server ignored sortBy) is read to its end instead.
type cutoff struct {
	since  time.Time
	sorted bool      // every dated row so far came no newer than the one before
	last   time.Time // the previous dated row's updatedAt
}

// keep reports whether a row updated at updated belongs to the pass (undated rows do).
func (c *cutoff) keep(updated time.Time, dated bool) bool {
	if c == nil || !dated {
		return true
	}
	if !c.last.IsZero() && updated.After(c.last) {
		c.sorted = false
	}
	c.last = updated
	return !updated.Before(c.since)
}

// pullPage fetches one page of a listing and emits its items as it reads them (a page is never
// held whole), leaving out those older than the cutoff; it returns the page's paging, how many
// items it had, and whether the listing, in order, has gone past the cutoff, so that later
// pages hold nothing newer.
func (p *Puller) pullPage(ctx context.Context, path string, q url.Values, family string, cut *cutoff,
	emit func([]mirrorsync.Change) error) (page listPaging, items int, passed bool, err error) {
	batch := mirrorsync.NewPullBatcher(emit)
	start := cutoff{}
	if cut != nil {
		start = *cut
	}
	err = p.client.GetStream(ctx, path, q, func(dec *json.Decoder) error {
		batch.Reset() // read again from its start after a failure: the page starts over
		page, items = listPaging{}, 0
		if cut != nil {
			*cut = start
		}
		fetched, older := p.now(), false
		item := func(raw json.RawMessage) error {
			c, dated, err := p.change(family, raw, fetched)
			if err != nil {
				return fmt.Errorf("%s: GET %s: item %d: %w", p.source, path, items, err)
			}
			items++
			if !cut.keep(c.Version.At, dated) {
				older = true
				return nil
			}
			return batch.Add(c)
		}
		found, err := providerapi.ReadObject(dec, map[string]func(json.RawMessage) error{"items": item}, &page)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("%s: GET %s: answer has no items list", p.source, path)
		}
		passed = older && cut != nil && cut.sorted
		return batch.Flush()
	})
	return page, items, passed, err
}

// change maps one API object of family to a change. The object is the whole resource, so it is
// no patch: its raw replaces the stored one. Its updatedAt versions it, else the fetch time.
// dated reports whether it had an updatedAt.
func (p *Puller) change(family string, raw json.RawMessage, fetched time.Time) (c mirrorsync.Change, dated bool, err error) {
	data, err := parseObject(raw, family)
	if err != nil {
		return c, false, err
	}
	id := data.text("id")
	if data.err != nil || !id.Set || id.Null || id.Value == "" {
		return c, false, fmt.Errorf("decode %s: no id", family)
	}
	// typ is the bare family: no webhook action (order.refunded's amount) applies to an API object.
	ev := &event{typ: family, storeID: data.text("storeId").Value, at: fetched, data: data, raw: raw}
	if ev.storeID == "" {
		ev.storeID = p.storeID
	}
	if updated := data.instant("updatedAt"); updated.Set && !updated.Null && !updated.Value.IsZero() {
		ev.at, dated = updated.Value, true
	}
	entity := families[family].entity(ev)
	if data.err != nil {
		return c, false, fmt.Errorf("decode %s %s: %w", family, id.Value, data.err)
	}
	return mirrorsync.Change{
		Key:     mirrorsync.Key{Source: p.source, StoreID: ev.storeID, ExternalID: id.Value},
		Version: mirrorsync.Version{At: ev.at},
		Entity:  entity,
		Raw:     raw,
	}, dated, nil
}

// refetch GETs the rows of req flagged for re-fetching, one by one, and emits them a page at a
// time. A row the API no longer has (404) is skipped: the full passes' deletion detection is
// what marks rows deleted. Flags of another store's rows are not this puller's to fetch.
func (p *Puller) refetch(ctx context.Context, req mirrorsync.PullRequest, family string, emit func([]mirrorsync.Change) error) error {
	var changes []mirrorsync.Change
	for _, k := range req.Refetch {
		if k.StoreID != "" && k.StoreID != p.storeID {
			continue
		}
		path := "/stores/" + url.PathEscape(p.storeID) + "/" + req.Entity + "/" + url.PathEscape(k.ExternalID)
		var answer struct {
			Item json.RawMessage `json:"item"`
		}
		err := p.client.GetJSON(ctx, path, nil, &answer)
		if providerapi.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		if len(answer.Item) == 0 || bytes.Equal(answer.Item, []byte("null")) {
			return fmt.Errorf("%s: GET %s: answer has no item", p.source, path)
		}
		c, _, err := p.change(family, answer.Item, p.now())
		if err != nil {
			return fmt.Errorf("%s: GET %s: %w", p.source, path, err)
		}
		if changes = append(changes, c); len(changes) == p.pageSize {
			if err := emit(changes); err != nil {
				return err
			}
			changes = nil
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return emit(changes)
}
