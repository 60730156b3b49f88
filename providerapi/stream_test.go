package providerapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storemirror/storemirror/providerapi"
)

func TestReadObject(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		items      []string // the raw items read, in order
		found      []string
		total      int
		wantErr    string
	}{
		{"items then paging", `{"items":[{"id":1}, {"id":"2"}],"total":2}`, []string{`{"id":1}`, `{"id":"2"}`}, []string{"items"}, 2, ""},
		{"paging first, others skipped", `{"total":1,"links":{"next":null},"items":[ 7 ]}`, []string{`7`}, []string{"items"}, 1, ""},
		{"null items", `{"items":null,"total":0}`, nil, nil, 0, ""},
		{"no items", `{"total":3}`, nil, nil, 3, ""},
		{"null page", `null`, nil, nil, 0, ""},
		{"items not an array", `{"items":{"id":1}}`, nil, nil, 0, "decode answer: { where an array was expected"},
		{"page not an object", `[1]`, nil, nil, 0, "decode answer: [ where an object was expected"},
		{"cut short", `{"items":[{"id":1},{"id"`, []string{`{"id":1}`}, []string{}, 0, "decode answer: unexpected EOF"},
		{"paging of the wrong type", `{"items":[],"total":"many"}`, nil, []string{"items"}, 0, "decode answer: json: cannot unmarshal"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			var rest struct {
				Total int `json:"total"`
			}
			dec := json.NewDecoder(strings.NewReader(c.body))
			found, err := providerapi.ReadObject(dec, map[string]func(json.RawMessage) error{
				"items": func(raw json.RawMessage) error { got = append(got, string(raw)); return nil },
			}, &rest)
			if c.wantErr != "" {
				var decodeErr *providerapi.DecodeError
				if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) || !errors.As(err, &decodeErr) {
					t.Fatalf("err = %v, want a DecodeError starting %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(c.items, "|") {
				t.Errorf("items = %q, want %q", got, c.items)
			}
			if c.wantErr == "" && (strings.Join(found, ",") != strings.Join(c.found, ",") || rest.Total != c.total) {
				t.Errorf("found %q total %d, want %q %d", found, rest.Total, c.found, c.total)
			}
		})
	}
}

// An item function's error stops the read and comes back as it is, not as a decode error.
func TestReadArrayItemError(t *testing.T) {
	t.Parallel()
	stop := errors.New("apply failed")
	n := 0
	err := providerapi.ReadArray(json.NewDecoder(strings.NewReader(`[1,2,3]`)), func(json.RawMessage) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	var decodeErr *providerapi.DecodeError
	if err != stop || errors.As(err, &decodeErr) || n != 2 {
		t.Errorf("err = %v after %d items, want the item's own error after 2", err, n)
	}
}

// A body cut short is retried: read starts over on a new answer. Read's own errors are not
// retried, even one that looks retriable (a database connection cut while a page was applied),
// and keep their own words.
func TestGetStreamRetriesACutBody(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	client := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			w.Header().Set("Content-Length", "100")
			w.Write([]byte(`[1,2,`)) // then the connection closes: a body cut short
			return
		}
		w.Write([]byte(`[1,2,3]`))
	}, providerapi.Options{Retries: 2})
	var reads [][]string
	err := client.GetStream(context.Background(), "/items", nil, func(dec *json.Decoder) error {
		reads = append(reads, nil)
		return providerapi.ReadArray(dec, func(raw json.RawMessage) error {
			reads[len(reads)-1] = append(reads[len(reads)-1], string(raw))
			return nil
		})
	})
	if err != nil || requests.Load() != 2 || len(reads) != 2 || strings.Join(reads[1], ",") != "1,2,3" {
		t.Fatalf("err %v after %d requests, reads %q; want the whole array read on the second", err, requests.Load(), reads)
	}
	requests.Store(1) // every answer whole from now on
	mine := fmt.Errorf("apply page 1: %w", io.ErrUnexpectedEOF)
	err = client.GetStream(context.Background(), "/items", nil, func(*json.Decoder) error { return mine })
	if err != mine || requests.Load() != 2 {
		t.Errorf("err = %v after %d more requests, want read's own error after 1", err, requests.Load()-1)
	}
}

// The request's timeout is spent waiting on the provider, not applying what was read: a reader
// that takes four timeouts over its items succeeds, while a provider that stalls a timeout in
// the middle of its body is cut off and asked again.
func TestGetStreamTimeoutIsTheProviders(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	client := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`[1,2,`))
		w.(http.Flusher).Flush()
		if requests.Add(1) == 1 && r.URL.Path == "/api/stalls" {
			time.Sleep(300 * time.Millisecond)
		} else {
			time.Sleep(30 * time.Millisecond) // the rest arrives after the reader has begun
		}
		w.Write([]byte(`3,4]`))
	}, providerapi.Options{Retries: 1, Timeout: 100 * time.Millisecond})
	var n int
	err := client.GetStream(context.Background(), "/slow-reader", nil, func(dec *json.Decoder) error {
		n = 0
		return providerapi.ReadArray(dec, func(json.RawMessage) error {
			n++
			time.Sleep(100 * time.Millisecond) // applying: not the provider's time
			return nil
		})
	})
	if err != nil || n != 4 || requests.Load() != 1 {
		t.Fatalf("slow reader: err %v, %d items, %d requests; want 4 items of one request", err, n, requests.Load())
	}
	requests.Store(0)
	err = client.GetStream(context.Background(), "/stalls", nil, func(dec *json.Decoder) error {
		n = 0
		return providerapi.ReadArray(dec, func(json.RawMessage) error { n++; return nil })
	})
	if err != nil || n != 4 || requests.Load() != 2 {
		t.Errorf("stalling provider: err %v, %d items, %d requests; want 4 items on the second request", err, n, requests.Load())
	}
}
