package stickyio

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	gojson "github.com/goccy/go-json"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

// The sticky.io decoder and mirrorsync.Field decode with goccy/go-json, several times faster than
// encoding/json (BenchmarkVerify, BenchmarkDecode). These differential fuzzers hold it to
// encoding/json's results: the same values, and an error exactly where encoding/json has one.

// sameDecode decodes b into v1 with encoding/json and into v2 with goccy/go-json, and fails
// unless both fail, with a SyntaxError in both or in neither, or both give the same value.
func sameDecode(t *testing.T, b []byte, v1, v2 any) {
	t.Helper()
	e1, e2 := json.Unmarshal(b, v1), gojson.Unmarshal(b, v2)
	var s1 *json.SyntaxError
	var s2 *gojson.SyntaxError
	if (e1 == nil) != (e2 == nil) || errors.As(e1, &s1) != errors.As(e2, &s2) {
		t.Fatalf("%T %q: errors differ: %v vs %v", v1, b, e1, e2)
	}
	if e1 == nil && !reflect.DeepEqual(v1, v2) {
		t.Fatalf("%T %q: results differ:\n%#v\n%#v", v1, b, v1, v2)
	}
}

// A product object decodes to the same values, or fails in both.
func FuzzDiffJSON(f *testing.F) {
	for _, b := range webhookstest.Fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"name":"a\xffb","NAME":"x","variants":[{"attributes":[null]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sameDecode(t, b, new(product), new(product))
	})
}

// The scalars a Field holds decode alike: invalid UTF-8, lone surrogates, overflowing and
// exponent numbers, quoted numbers, nulls.
func FuzzDiffScalars(f *testing.F) {
	for _, s := range []string{`"a\xffb"`, `"\ud800"`, `9223372036854775808`, `1e3`, `"1.50"`, `1.50`, `null`, `true`, `" x "`, `-0`, `01`, `[1,2]`, `{"id":"1"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameDecode(t, b, new(string), new(string))
		sameDecode(t, b, new(int64), new(int64))
		sameDecode(t, b, new(json.Number), new(json.Number))
		sameDecode(t, b, new(*string), new(*string))
		sameDecode(t, b, new(flag), new(flag))
	})
}

// Key trial rests on telling malformed JSON (a wrong key's garbage: try the next key) from JSON
// of another shape (the right key, an odd envelope): goccy's SyntaxError must be exactly
// encoding/json's, for the envelope Decode reads and for Verify's receipt.
func FuzzDiffSyntax(f *testing.F) {
	for _, s := range []string{`{"type":1}`, `{"type":"x","data":{"id":[1]}}`, `{`, `{"a":1}x`, `{"a":"\xff"}`, `{"data":{"object":{"id":"1"}},"type":"product.updated"}`, `{"a":1e999}`, `{"type":"x"}  `, "{\"type\":\"a\x00\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameDecode(t, b, new(envelope), new(envelope))
		sameDecode(t, b, new(receipt), new(receipt))
	})
}
