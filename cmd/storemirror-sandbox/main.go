// Command storemirror-sandbox serves fake provider APIs on this machine for `make run`: the
// Bamboo catalog and orders, sticky.io's products, a BareCommerce store and Back in Stock's
// variants report, each the provider's own fake package answering in the real API's format,
// with a small shop's worth of data. config.example.yaml, with dev.env's values, points the
// daemon's reconciler at them, so that a newcomer sees a pass fill the mirror and can resync,
// with no account anywhere. Every two minutes it changes a price upstream without a webhook,
// so that the next pass has something to repair.
package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/storemirror/storemirror/webhooks/backinstock/backinstockfake"
	"github.com/storemirror/storemirror/webhooks/bamboo/bamboofake"
	"github.com/storemirror/storemirror/webhooks/barecommerce/barecommercefake"
	"github.com/storemirror/storemirror/webhooks/stickyio/stickyiofake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

// sandbox is the fakes, seeded.
type sandbox struct {
	bamboo *bamboofake.API
	sticky *stickyiofake.API
	bare   *barecommercefake.API
	report *backinstockfake.API
}

func run(ctx context.Context) error {
	s := seed(time.Now(), os.Getenv)
	servers := []struct {
		env     string
		handler http.Handler
	}{
		{"BAMBOO_API_URL", s.bamboo},
		{"STICKYIO_API_URL", s.sticky},
		{"BARECOMMERCE_API_URL", s.bare},
		{"BACKINSTOCK_API_URL", s.report},
	}
	errs := make(chan error, len(servers))
	for _, sv := range servers {
		srv, addr, err := listen(os.Getenv(sv.env), sv.handler)
		if err != nil {
			return fmt.Errorf("%s: %w", sv.env, err)
		}
		fmt.Fprintf(os.Stderr, "sandbox: fake %s at http://%s\n", sv.env, addr)
		go func() { errs <- srv.serve() }()
		defer func() { _ = srv.Close() }() // on the way out: the error that ends the sandbox is reported
	}
	ticker := time.NewTicker(2 * time.Minute)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case now := <-ticker.C:
			s.drift(now)
		}
	}
}

type server struct {
	*http.Server
	ln net.Listener
}

func (s server) serve() error {
	if err := s.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// listen serves h at the host:port of base (a local URL from dev.env).
func listen(base string, h http.Handler) (server, string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return server{}, "", fmt.Errorf("not a URL: %q (set by dev.env)", base)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return server{}, "", err
	}
	return server{&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, ln}, ln.Addr().String(), nil
}

// seed fills the fakes: 12 Bamboo brands of 10 cards, 24 sticky.io products, a BareCommerce
// store of 40 products, 15 orders, 10 customers and 4 categories, and 20 variants in the Back
// in Stock report, taking the credentials getenv gives (dev.env's).
func seed(now time.Time, getenv func(string) string) *sandbox {
	s := &sandbox{
		bamboo: &bamboofake.API{Username: getenv("BAMBOO_CLIENT_ID"), Password: getenv("BAMBOO_CLIENT_SECRET"),
			Brands: bamboofake.NewCatalog(12, 10, now.Add(-24*time.Hour)), MaxPageSize: 5, Orders: bambooOrders()},
		sticky: &stickyiofake.API{Username: getenv("STICKYIO_API_USER"), Password: getenv("STICKYIO_API_PASSWORD")},
		bare:   &barecommercefake.API{Token: getenv("BARECOMMERCE_API_TOKEN"), StoreID: getenv("BARECOMMERCE_STORE_ID")},
		report: &backinstockfake.API{Token: getenv("BACKINSTOCK_API_TOKEN"), Variants: backinstockfake.NewVariants(20)},
	}
	for i := range s.bamboo.Brands {
		s.bamboo.Brands[i].Name = bambooBrands[i%len(bambooBrands)]
		for j := range s.bamboo.Brands[i].Products {
			p := &s.bamboo.Brands[i].Products[j]
			p.Name = fmt.Sprintf("%s gift card %d", s.bamboo.Brands[i].Name, p.ID)
			p.Price = fmt.Sprintf("%d.00", 10+5*(p.ID%8))
		}
	}
	for i := 1; i <= 24; i++ {
		s.sticky.Products = append(s.sticky.Products, stickyiofake.Product(i, fmt.Sprintf("%d.9900", 9+i%12)))
	}
	s.bare.Objects = bareStore(s.bare.StoreID)
	return s
}

var bambooBrands = []string{"Amazon", "Netflix", "Spotify", "Steam", "Uber", "Airbnb", "Starbucks", "Xbox", "Nintendo", "Google Play", "Apple", "Zalando"}

// bambooOrders answers Get Order for the request ids of Bamboo's order samples
// (webhooks/bamboo/testdata: ordercompleted.json, callback.json). Bamboo lists no orders, so a
// pass only re-fetches the open orders the mirror holds (from webhooks).
func bambooOrders() map[string]string {
	order := `{"orderId":%d,"requestId":%q,"status":"Succeeded","createdDate":"2026-04-01T08:00:00.0000000",` +
		`"total":%s,"currency":"USD","orderType":"Sandbox","errorMessage":null,"items":[{"brandCode":null,"productId":3,` +
		`"productFaceValue":10,"quantity":1,"countryCode":"US","currencyCode":"USD","cards":[]}]}`
	return map[string]string{
		"3fa85f64-5717-4562-b3fc-2c963f66afa6": fmt.Sprintf(order, 100123, "3fa85f64-5717-4562-b3fc-2c963f66afa6", "10.0000"),
		"71ac2817-e51a-438a-bb7b-5ffdda23603c": fmt.Sprintf(order, 100124, "71ac2817-e51a-438a-bb7b-5ffdda23603c", "25.0000"),
	}
}

// bareStore is a small BareCommerce store, as its API lists it.
func bareStore(store string) map[string][]barecommercefake.Object {
	stamp := func(i int) string { return barecommercefake.Stamp(barecommercefake.Minute(i)) }
	objects := map[string][]barecommercefake.Object{"products": barecommercefake.NewProducts(40)}
	for _, p := range objects["products"] {
		p["storeId"] = store
	}
	for i := 1; i <= 4; i++ {
		objects["categories"] = append(objects["categories"], barecommercefake.Object{"id": fmt.Sprintf("cat_%d", i), "storeId": store,
			"name": []string{"Tea", "Coffee", "Cups", "Gifts"}[i-1], "slug": fmt.Sprintf("category-%d", i), "status": "active",
			"description": "", "createdAt": stamp(i), "updatedAt": stamp(i)})
	}
	for i := 1; i <= 10; i++ {
		objects["customers"] = append(objects["customers"], barecommercefake.Object{"id": fmt.Sprintf("cust_%d", i), "storeId": store,
			"email": fmt.Sprintf("customer%d@example.com", i), "name": fmt.Sprintf("Customer %d", i), "phone": fmt.Sprintf("+1555010%02d", i),
			"createdAt": stamp(100 + i), "updatedAt": stamp(100 + i)})
	}
	for i := 1; i <= 15; i++ {
		objects["orders"] = append(objects["orders"], barecommercefake.Object{"id": fmt.Sprintf("ord_%d", i), "storeId": store,
			"orderNumber": fmt.Sprint(1000 + i), "customerId": fmt.Sprintf("cust_%d", 1+i%10), "status": "paid", "paymentStatus": "succeeded",
			"currency": "USD", "total": fmt.Sprintf("%d.50", 10+i), "subtotal": fmt.Sprintf("%d.50", 10+i),
			"items": []barecommercefake.Object{{"id": fmt.Sprintf("li_%d", i), "productId": fmt.Sprintf("prod_%d", i), "titleSnapshot": fmt.Sprintf("Tea %d", i),
				"skuSnapshot": fmt.Sprintf("TEA-%d", i), "unitPrice": fmt.Sprintf("%d.50", 10+i), "quantity": 1, "createdAt": stamp(200 + i), "updatedAt": stamp(200 + i)}},
			"placedAt": stamp(200 + i), "paidAt": stamp(201 + i), "createdAt": stamp(200 + i), "updatedAt": stamp(201 + i)})
	}
	return objects
}

// drift changes a Bamboo price and a BareCommerce stock upstream, with no webhook: what the
// reconciler is there to catch.
func (s *sandbox) drift(now time.Time) {
	id := 1 + rand.IntN(120)
	s.bamboo.Update(id, func(p *bamboofake.Product) {
		p.Price = fmt.Sprintf("%d.%02d", 10+rand.IntN(40), 1+rand.IntN(99)) // never the seed's whole price
		p.Modified = now
	})
	n := 1 + rand.IntN(40)
	s.bare.Set("products", fmt.Sprintf("prod_%d", n), barecommercefake.Object{"stock": 1000 + rand.IntN(1000), "updatedAt": barecommercefake.Stamp(now)})
	fmt.Fprintf(os.Stderr, "sandbox: changed Bamboo product %d and BareCommerce prod_%d upstream, without a webhook\n", id, n)
}
