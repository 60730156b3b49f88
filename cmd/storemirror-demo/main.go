// Command storemirror-demo is `make demo`: it posts one correctly signed sample of each provider
// (and the canonical API) to the daemon `make run` started, waits for the apply workers, and
// prints the mirror rows the samples produced. It reads the development secrets of dev.env from
// its environment, and the samples from each provider's testdata/.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/lib/pq"
	svix "github.com/svix/svix-webhooks/go"

	"github.com/storemirror/storemirror/webhooks/backinstock"
	"github.com/storemirror/storemirror/webhooks/barecommerce"
	"github.com/storemirror/storemirror/webhooks/canonical"
	"github.com/storemirror/storemirror/webhooks/stickyio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// sample is one signed delivery and the mirror rows to show for it.
type sample struct {
	name, path string
	header     http.Header
	body       []byte
	show       string // a query of the rows it produced
}

func run() error {
	base := env("STOREMIRROR_DEMO_URL", "http://127.0.0.1:8080")
	if _, err := http.Get(base + "/healthz"); err != nil {
		return fmt.Errorf("no daemon at %s: start it with `make run` in another terminal first", base)
	}
	db, err := openDB()
	if err != nil {
		return err
	}
	defer db.Close()
	run := strconv.FormatInt(time.Now().Unix(), 10) // fresh delivery ids, so every demo stores new events
	samples, err := buildSamples(run)
	if err != nil {
		return err
	}
	since := time.Now().Add(-time.Second)
	for _, s := range samples {
		status, answer, err := post(base+s.path, s.header, s.body)
		if err != nil {
			return err
		}
		fmt.Printf("POST %-40s %d %s\n", s.path, status, strings.TrimSpace(answer))
	}
	if err := waitApplied(db, since); err != nil {
		return err
	}
	for _, s := range samples {
		fmt.Printf("\n== %s\n", s.name)
		if err := printRows(db, s.show); err != nil {
			return err
		}
	}
	fmt.Print("\nEvery delivery is in sync.webhook_events; try: psql \"$(cat .run/database-url)\" -c '\\d+ mirror.products'\n")
	return nil
}

func buildSamples(run string) ([]sample, error) {
	var out []sample
	for _, build := range []func(string) (sample, error){bambooSample, stickySample, bareSample, canonicalSample, backInStockSample} {
		s, err := build(run)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func bambooSample(run string) (sample, error) {
	body, err := os.ReadFile(filepath.Join("webhooks", "bamboo", "testdata", "productupdated.json"))
	if err != nil {
		return sample{}, err
	}
	wh, err := svix.NewWebhook(os.Getenv("BAMBOO_WEBHOOK_SECRET"))
	if err != nil {
		return sample{}, fmt.Errorf("BAMBOO_WEBHOOK_SECRET: %w", err)
	}
	id, now := "msg_demo_"+run, time.Now()
	sig, _ := wh.Sign(id, now, body)
	h := http.Header{"Svix-Id": {id}, "Svix-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Svix-Signature": {sig}}
	return sample{"Bamboo productupdated.v1 (Svix)", "/webhooks/bamboo", h, body,
		`SELECT external_id, name, status, min_face_value, max_face_value, coalesce(stock_quantity::text, 'unlimited') AS stock, price_min, currency, source_updated_at
		 FROM mirror.products WHERE source = 'bamboo' ORDER BY external_id;
		 SELECT product_external_id, field, old_value, new_value FROM mirror.product_changes WHERE source = 'bamboo' ORDER BY id`}, nil
}

func stickySample(run string) (sample, error) {
	event, err := readJSON(filepath.Join("webhooks", "stickyio", "testdata", "product-created-regular.json"))
	if err != nil {
		return sample{}, err
	}
	event["data"].(map[string]any)["id"] = "demo-" + run
	plain, _ := json.Marshal(event)
	body, err := stickyio.Encrypt(plain, os.Getenv("STICKYIO_KEY_PHRASE"))
	if err != nil {
		return sample{}, fmt.Errorf("STICKYIO_KEY_PHRASE: %w", err)
	}
	return sample{"sticky.io product.created (encrypted)", "/webhooks/stickyio", http.Header{"Content-Type": {"text/plain"}}, body,
		`SELECT external_id, kind, name, sku, price, vertical_name, category_name, is_taxable, source_updated_at FROM mirror.products WHERE source = 'stickyio';
		 SELECT v.external_id AS variant, v.sku, v.price, v.stock_quantity, a.attribute_name, a.option_name
		 FROM mirror.product_variants v JOIN mirror.variant_attributes a USING (source, store_id, product_external_id)
		 WHERE v.source = 'stickyio' AND a.variant_position = v.position ORDER BY a.position`}, nil
}

func bareSample(run string) (sample, error) {
	event, err := readJSON(filepath.Join("webhooks", "barecommerce", "testdata", "order-created.json"))
	if err != nil {
		return sample{}, err
	}
	event["id"] = "evt_demo_" + run
	body, _ := json.Marshal(event)
	h := http.Header{barecommerce.SignatureHeader: {barecommerce.Sign(body, os.Getenv("BARECOMMERCE_WEBHOOK_SECRET"))}}
	return sample{"BareCommerce order.created", "/webhooks/barecommerce", h, body,
		`SELECT store_id, external_id, order_number, status, payment_status, total, placed_at FROM mirror.orders WHERE source = 'barecommerce';
		 SELECT order_external_id, line_no, product_external_id, title, quantity, unit_price FROM mirror.order_items WHERE source = 'barecommerce'`}, nil
}

func canonicalSample(run string) (sample, error) {
	event, err := readJSON(filepath.Join("webhooks", "canonical", "testdata", "order.json"))
	if err != nil {
		return sample{}, err
	}
	event["event_id"] = "demo-" + run
	body, _ := json.Marshal(event)
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	h := http.Header{canonical.TimestampHeader: {ts}, canonical.SignatureHeader: {canonical.Sign(ts, body, os.Getenv("VAMBE_SIGNING_SECRET"))}}
	return sample{"canonical order (Vambe format)", "/webhooks/canonical/events/order", h, body,
		`SELECT store_id, external_id, order_number, status, total, customer_phone, customer_phone_e164, customer_email FROM mirror.orders WHERE source = 'canonical'`}, nil
}

func backInStockSample(string) (sample, error) {
	body, err := os.ReadFile(filepath.Join("webhooks", "backinstock", "testdata", "notification-create.json"))
	if err != nil {
		return sample{}, err
	}
	h := http.Header{backinstock.SignatureHeader: {backinstock.Sign(body, os.Getenv("BACKINSTOCK_API_KEY"))}}
	return sample{"Back in Stock notification/create", "/webhooks/backinstock", h, body,
		`SELECT external_id, status, channel, customer_email, product_title, variant_title, quantity_required, created_at, sent_at FROM mirror.stock_notifications WHERE source = 'backinstock'`}, nil
}

func readJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func post(url string, h http.Header, body []byte) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// openDB connects to the database `make run` uses (its URL is in .run/database-url).
func openDB() (*sql.DB, error) {
	url := os.Getenv("STOREMIRROR_DATABASE_URL")
	if url == "" {
		b, err := os.ReadFile(filepath.Join(".run", "database-url"))
		if err != nil {
			return nil, fmt.Errorf("no STOREMIRROR_DATABASE_URL and no .run/database-url: is `make run` running?")
		}
		url = strings.TrimSpace(string(b))
	}
	return sql.Open("postgres", url)
}

// waitApplied waits until the workers have handled every event received since since.
func waitApplied(db *sql.DB, since time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		var pending int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM sync.webhook_events WHERE received_at >= $1 AND status = 'pending'`, since).Scan(&pending)
		if err != nil {
			return fmt.Errorf("read the inbox: %w", err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d events still pending after 15s", pending)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// printRows runs each ;-separated query and prints its rows as a table.
func printRows(db *sql.DB, queries string) error {
	for _, q := range strings.Split(queries, ";") {
		rows, err := db.Query(q)
		if err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
		cols, _ := rows.Columns()
		w := tabwriter.NewWriter(os.Stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(w, strings.Join(cols, "\t"))
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return err
			}
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = "NULL"
				if v.Valid {
					cells[i] = v.String
				}
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		rows.Close()
		w.Flush()
		fmt.Println()
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
