package docs_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/provider"
	mirrorsync "github.com/storemirror/storemirror/sync"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/canonical"
)

var eventHeading = regexp.MustCompile("^## .*`POST \\.\\.\\./events/([a-z/]+)`$")

// canonicalExamples reads the ```json block under each event's heading of reference/canonical.md.
func canonicalExamples(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open("reference/canonical.md")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	out := map[string][]byte{}
	var event string
	var block *bytes.Buffer
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case block != nil && line == "```":
			if _, dup := out[event]; dup {
				t.Fatalf("two examples under %s", event)
			}
			out[event], block = block.Bytes(), nil
		case block != nil:
			block.WriteString(line + "\n")
		case line == "```json" && event != "":
			block = new(bytes.Buffer)
		case strings.HasPrefix(line, "## "):
			event = ""
			if m := eventHeading.FindStringSubmatch(line); m != nil {
				event = m[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The examples of reference/canonical.md are the canonical package's fixtures, which its tests
// apply and check row by row; and each, signed, is accepted and decodes into its entity.
func TestCanonicalExamples(t *testing.T) {
	t.Parallel()
	examples := canonicalExamples(t)
	fixtures := map[string]string{
		canonical.EventProduct: "product", canonical.EventProductDelete: "product-delete", canonical.EventOrder: "order",
		canonical.EventCheckout: "checkout", canonical.EventFulfillment: "fulfillment",
	}
	src, err := canonical.Kind.New(provider.Options{Name: "shop", Secrets: []string{"s"}, StoreIDs: []string{"store_1"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Millisecond)
	for event, fixture := range fixtures {
		body, ok := examples[event]
		if !ok {
			t.Errorf("reference/canonical.md has no example under POST .../events/%s", event)
			continue
		}
		want, err := os.ReadFile("../webhooks/canonical/testdata/" + fixture + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if compact(t, body) != compact(t, want) {
			t.Errorf("the %s example is not webhooks/canonical/testdata/%s.json:\n%s", event, fixture, body)
		}
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		header := http.Header{}
		header.Set(canonical.TimestampHeader, ts)
		header.Set(canonical.SignatureHeader, canonical.Sign(ts, body, "s"))
		d, err := src.Verify(webhooks.Request{Path: "/events/" + event, Body: body, Now: now, Header: header})
		if err != nil || d.Invalid != nil {
			t.Errorf("%s: verify: %v, invalid: %v", event, err, d.Invalid)
			continue
		}
		changes, err := src.Decode(mirrorsync.Event{Source: "shop", DeliveryID: d.ID, Type: d.Type, ReceivedAt: now, SentAt: d.SentAt, Body: body})
		if err != nil || len(changes) == 0 || changes[0].Key.ExternalID == "" {
			t.Errorf("%s: decode: %v (%d changes)", event, err, len(changes))
		}
	}
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return out.String()
}
