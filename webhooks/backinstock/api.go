package backinstock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/storemirror/storemirror/providerapi"
	mirrorsync "github.com/storemirror/storemirror/sync"
)

// variantsPath is the Reports API's per-variant demand report.
const variantsPath = "/api/variants"

// entityStockDemand is the one entity the report fills: mirror.stock_demand.
const entityStockDemand = "stock_demand"

// Puller pulls Back in Stock's variants report (one aggregate row per variant that has
// notifications) into mirror.stock_demand for the reconciler.
//
// The report is read whole on every pass, incremental ones included. It has no modified-since
// filter, and although it can be sorted by notification_last_added_at, that time only moves
// when a notification is added: sending notifications changes sent and unsent counts without
// moving it, so stopping at req.Since would miss exactly the changes the mirror most needs.
// It is one row per variant with demand, so reading it all is cheap.
//
// It is read sorted by notification_last_added_at, newest first, so that a notification added
// during a pass moves its variant to the top and shifts the rest down: a later page then repeats
// a row (harmless: it is unchanged the second time) instead of a row slipping between pages
// unseen, which a full pass would count as a miss.
type Puller struct {
	source  string
	client  *providerapi.Client
	perPage int
	now     func() time.Time
}

var _ mirrorsync.Puller = (*Puller)(nil)

// NewPuller returns a puller for the Reports API described by o. Back in Stock takes its API
// token as the HTTP Basic username with no password: o.Username (or, failing that, o.Token,
// which is then sent that way and never as a Bearer token). pageSize is the per_page asked
// for (default 100).
func NewPuller(o providerapi.Options, pageSize int) (*Puller, error) {
	o, ps := credentials(o)
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", o.Source, err)
	}
	c, err := providerapi.NewClient(o)
	if err != nil {
		return nil, err
	}
	if pageSize <= 0 {
		pageSize = 100
	}
	return &Puller{source: o.Source, client: c, perPage: pageSize, now: time.Now}, nil
}

// Entities implements mirrorsync.Puller.
func (p *Puller) Entities() []string { return []string{entityStockDemand} }

// Lists implements mirrorsync.Puller: the report lists every variant that has notifications,
// so a variant missing from two complete reports has no demand left and is marked deleted.
func (p *Puller) Lists(entity string) bool { return entity == entityStockDemand }

// StoreID implements mirrorsync.Puller: a token is one store's, and one store is one source.
func (p *Puller) StoreID() string { return "" }

// Pull implements mirrorsync.Puller. It reads the whole report in either mode (see Puller);
// req.Since and req.Refetch need nothing more, since every row is re-read anyway.
func (p *Puller) Pull(ctx context.Context, req mirrorsync.PullRequest, emit func([]mirrorsync.Change) error) error {
	if req.Entity != entityStockDemand {
		return fmt.Errorf("backinstock has no %q to pull", req.Entity)
	}
	longest := 0      // the longest page so far: the page size the server really uses
	var prev pageRows // the previous page's variants
	for page := 1; ; page++ {
		rows, err := p.pullPage(ctx, page, prev, emit)
		if err != nil {
			return err
		}
		items := rows.n
		// A short page ends the report. But the server may cap per_page below what was asked
		// (its limit is not documented): a first page shorter than asked may be that cap, not
		// the end, and stopping there would leave the rest unseen and, after two full passes,
		// marked deleted. So a page ends the report only when it is empty, or shorter both
		// than asked and than an earlier page; a report that fits one page costs one more request.
		if items == 0 || (items < p.perPage && items < longest) {
			return nil
		}
		longest = max(longest, items)
		prev = rows
	}
}

// pageRows is which variants a page listed, in order: how many, and a hash of their numbers.
type pageRows struct {
	n   int
	sum uint64
}

// pullPage GETs one page of the report and emits its rows as it reads them (a page is never
// held whole), and returns which variants it listed. A page that lists the same variants in
// the same order as prev, the page before, is an error: a server that ignores page answers the
// same page for ever. (Rows added during a pass only shift a few rows down, repeating the first
// rows of a page, not all of them; a server that ignores page while rows are added is caught on
// the next page.) Its rows have been applied by then: applied again, they change nothing.
func (p *Puller) pullPage(ctx context.Context, page int, prev pageRows, emit func([]mirrorsync.Change) error) (pageRows, error) {
	q := url.Values{
		"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(p.perPage)},
		"sort": {"notification_last_added_at"}, "order": {"desc"},
	}
	var rows pageRows
	batch := mirrorsync.NewPullBatcher(emit)
	err := p.client.GetStream(ctx, variantsPath, q, func(dec *json.Decoder) error {
		batch.Reset() // read again from its start after a failure: the page starts over
		sum, fetched := fnv.New64a(), p.now()
		rows = pageRows{}
		err := providerapi.ReadArray(dec, func(raw json.RawMessage) error {
			c, err := p.change(raw, fetched)
			if err != nil {
				return fmt.Errorf("%s: GET %s page %d: decode item %d: %w", p.source, variantsPath, page, rows.n, err)
			}
			rows.n++
			sum.Write([]byte(c.Key.ExternalID))
			sum.Write([]byte{0})
			return batch.Add(c)
		})
		if err != nil {
			return err
		}
		rows.sum = sum.Sum64()
		if err := batch.Flush(); err != nil {
			return err
		}
		if rows.n > 0 && rows == prev {
			return fmt.Errorf("%s: GET %s page %d: same variants as page %d (is page ignored?)", p.source, variantsPath, page, page-1)
		}
		return nil
	})
	return rows, err
}

// change maps one item of the report to a change of mirror.stock_demand, versioned at fetched.
func (p *Puller) change(raw json.RawMessage, fetched time.Time) (mirrorsync.Change, error) {
	id, e, err := decodeVariant(raw)
	if err != nil {
		return mirrorsync.Change{}, err
	}
	return mirrorsync.Change{
		Key: mirrorsync.Key{Source: p.source, ExternalID: id},
		// The report carries no version of its rows: notification_last_added_at dates only
		// the latest add, not the sends that change the counts. Each row is the variant's
		// demand as of the fetch, so the fetch time is its version.
		Version: mirrorsync.Version{At: fetched},
		Entity:  e,
		Raw:     raw, // the whole row: it replaces the stored raw (Patch false)
	}, nil
}

// variant is one row of the variants report. Each key is an opt so that a value of the wrong
// type is an error rather than silently empty.
type variant struct {
	VariantNo                mirrorsync.Field[json.Number]     `json:"variant_no"`
	ProductID                mirrorsync.Field[json.Number]     `json:"product_id"`
	SKU                      mirrorsync.Field[string]          `json:"sku"`
	Description              mirrorsync.Field[string]          `json:"description"`
	UnitPrice                mirrorsync.Field[json.RawMessage] `json:"unit_price"`
	NotificationsCount       mirrorsync.Field[int64]           `json:"notifications_count"`
	SentNotificationsCount   mirrorsync.Field[int64]           `json:"sent_notifications_count"`
	UnsentNotificationsCount mirrorsync.Field[int64]           `json:"unsent_notifications_count"`
	NotificationLastAddedAt  mirrorsync.Field[string]          `json:"notification_last_added_at"`
}

// decodeVariant maps one report row to its external id (variant_no) and stock demand. A row is
// the variant's whole state, so a key it leaves out empties its column, like a null.
func decodeVariant(raw json.RawMessage) (string, *mirrorsync.StockDemand, error) {
	var v variant
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", nil, err
	}
	if !v.VariantNo.Set || v.VariantNo.Null {
		return "", nil, errors.New("read variant_no: missing")
	}
	id, err := parseID(v.VariantNo.Value)
	if err != nil {
		return "", nil, fmt.Errorf("read variant_no: %w", err)
	}
	e := &mirrorsync.StockDemand{SKU: whole(v.SKU), Description: whole(v.Description)}
	if e.ProductExternalID, err = idField(v.ProductID); err != nil {
		return "", nil, fmt.Errorf("read variant %s product_id: %w", id, err)
	}
	if e.UnitPrice, err = priceField(v.UnitPrice); err != nil {
		return "", nil, fmt.Errorf("read variant %s unit_price: %w", id, err)
	}
	counts := []struct {
		dst *mirrorsync.Field[int64]
		src mirrorsync.Field[int64]
		key string
	}{
		{&e.NotificationsCount, v.NotificationsCount, "notifications_count"},
		{&e.SentNotificationsCount, v.SentNotificationsCount, "sent_notifications_count"},
		{&e.UnsentNotificationsCount, v.UnsentNotificationsCount, "unsent_notifications_count"},
	}
	for _, c := range counts {
		if *c.dst, err = integer(c.src, c.key); err != nil {
			return "", nil, fmt.Errorf("read variant %s: %w", id, err)
		}
	}
	if e.NotificationLastAddedAt, err = timeField(v.NotificationLastAddedAt); err != nil {
		return "", nil, fmt.Errorf("read variant %s notification_last_added_at: %w", id, err)
	}
	e.ProductExternalID, e.UnitPrice = whole(e.ProductExternalID), whole(e.UnitPrice)
	e.NotificationsCount, e.SentNotificationsCount = whole(e.NotificationsCount), whole(e.SentNotificationsCount)
	e.UnsentNotificationsCount = whole(e.UnsentNotificationsCount)
	e.NotificationLastAddedAt = whole(e.NotificationLastAddedAt)
	return id, e, nil
}

// whole turns an absent key into null: the report's row is the variant's whole state.
func whole[T any](f mirrorsync.Field[T]) mirrorsync.Field[T] {
	if !f.Set {
		return mirrorsync.Null[T]()
	}
	return f
}

// priceField reads unit_price exactly (never through a float): the report sends it as a
// string ("19.90"); a bare JSON number is read the same way, and "" is taken as null.
func priceField(o mirrorsync.Field[json.RawMessage]) (mirrorsync.Field[decimal.Decimal], error) {
	if !o.Set || o.Null {
		return mirrorsync.Field[decimal.Decimal]{Set: o.Set, Null: o.Null}, nil
	}
	text := string(o.Value)
	if len(o.Value) > 0 && o.Value[0] == '"' {
		if err := json.Unmarshal(o.Value, &text); err != nil {
			return mirrorsync.Field[decimal.Decimal]{}, err
		}
		if text == "" {
			return mirrorsync.Null[decimal.Decimal](), nil
		}
	}
	d, err := decimal.NewFromString(text)
	if err != nil {
		return mirrorsync.Field[decimal.Decimal]{}, fmt.Errorf("%s is not a decimal", o.Value)
	}
	return mirrorsync.Some(d), nil
}
