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

// A product object decodes to the same values, or fails in both.
func FuzzDiffJSON(f *testing.F) {
	for _, b := range webhookstest.Fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"id":1,"name":"a\xffb","NAME":"x","variants":[{"attributes":[null]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p1, p2 product
		e1 := json.Unmarshal(b, &p1)
		e2 := gojson.Unmarshal(b, &p2)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("errors differ: %v vs %v", e1, e2)
		}
		if e1 == nil && !reflect.DeepEqual(p1, p2) {
			t.Fatalf("results differ:\n%#v\n%#v", p1, p2)
		}
	})
}

// The scalars a Field holds decode alike: invalid UTF-8, lone surrogates, overflowing and
// exponent numbers, quoted numbers, nulls.
func FuzzDiffScalars(f *testing.F) {
	for _, s := range []string{`"a\xffb"`, `"\ud800"`, `9223372036854775808`, `1e3`, `"1.50"`, `1.50`, `null`, `true`, `" x "`, `-0`, `01`, `[1,2]`, `{"id":"1"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(name string, v1, v2 any) {
			e1 := json.Unmarshal(b, v1)
			e2 := gojson.Unmarshal(b, v2)
			if (e1 == nil) != (e2 == nil) {
				t.Fatalf("%s %q: errors differ: %v vs %v", name, b, e1, e2)
			}
			if e1 == nil && !reflect.DeepEqual(v1, v2) {
				t.Fatalf("%s %q: results differ: %#v vs %#v", name, b, v1, v2)
			}
		}
		var s1, s2 string
		check("string", &s1, &s2)
		var i1, i2 int64
		check("int64", &i1, &i2)
		var n1, n2 json.Number
		check("number", &n1, &n2)
		var p1, p2 *string
		check("*string", &p1, &p2)
		var f1, f2 flag
		check("flag", &f1, &f2)
	})
}

// Key trial rests on telling malformed JSON (a wrong key's garbage: try the next key) from JSON
// of another shape (the right key, an odd envelope): goccy's SyntaxError must be exactly
// encoding/json's, for the envelope and for Verify's view of it.
func FuzzDiffSyntax(f *testing.F) {
	for _, s := range []string{`{"type":1}`, `{"type":"x","data":{"id":[1]}}`, `{`, `{"a":1}x`, `{"a":"\xff"}`, `{"data":{"object":{"id":"1"}},"type":"product.updated"}`, `{"a":1e999}`, `{"type":"x"}  `, "{\"type\":\"a\x00\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var env1, env2 envelope
		var s1 *json.SyntaxError
		var s2 *gojson.SyntaxError
		e1 := json.Unmarshal(b, &env1)
		e2 := gojson.Unmarshal(b, &env2)
		if errors.As(e1, &s1) != errors.As(e2, &s2) || (e1 == nil) != (e2 == nil) {
			t.Fatalf("%q: %v vs %v", b, e1, e2)
		}
		if e1 == nil && !reflect.DeepEqual(env1, env2) {
			t.Fatalf("%q: results differ: %#v vs %#v", b, env1, env2)
		}
		var v1, v2 struct {
			Type string `json:"type"`
			Data struct {
				ID json.RawMessage `json:"id"`
			} `json:"data"`
		}
		e1 = json.Unmarshal(b, &v1)
		e2 = gojson.Unmarshal(b, &v2)
		if errors.As(e1, &s1) != errors.As(e2, &s2) || (e1 == nil) != (e2 == nil) {
			t.Fatalf("%q: %v vs %v", b, e1, e2)
		}
		if e1 == nil && !reflect.DeepEqual(v1, v2) {
			t.Fatalf("%q: results differ: %#v vs %#v", b, v1, v2)
		}
	})
}
