package docs_test

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/internal/kinds"
	"github.com/storemirror/storemirror/provider"
	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/bamboo"
)

// documentedKinds are the kinds reference/signatures.md must show an example of: every kind
// storemirror is built with.
var documentedKinds = kinds.All

// signatureExample is one worked example of reference/signatures.md: the facts listed above an
// ```http block, and the request in it.
type signatureExample struct {
	line                        int
	kind, secret, deliveryID    string
	receivedAt                  time.Time
	source, path                string // the request's /webhooks/{source}{path}
	header                      http.Header
	body                        []byte
	hasKind, hasSecret, hasTime bool
}

var exampleFact = regexp.MustCompile("^- (kind|secret|received at|delivery id): `([^`]*)`$")

// readSignatureExamples reads every example of the document at path. An ```http block without
// all four facts above it is an error: every request shown is tested.
func readSignatureExamples(path string) ([]signatureExample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	var (
		out  []signatureExample
		cur  signatureExample
		req  []string
		inRq bool
		n    int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case inRq && line == "```":
			inRq = false
			if err := cur.parseRequest(req); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, cur.line, err)
			}
			if !cur.hasKind || !cur.hasSecret || !cur.hasTime || cur.deliveryID == "" {
				return nil, fmt.Errorf("%s:%d: an example needs kind, secret, received at and delivery id above it", path, cur.line)
			}
			out = append(out, cur)
			cur = signatureExample{}
		case inRq:
			req = append(req, line)
		case line == "```http":
			inRq, req, cur.line = true, nil, n
		case strings.HasPrefix(line, "## "):
			cur = signatureExample{}
		default:
			m := exampleFact.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			switch m[1] {
			case "kind":
				cur.kind, cur.hasKind = m[2], true
			case "secret":
				cur.secret, cur.hasSecret = m[2], true
			case "received at":
				t, err := time.Parse(time.RFC3339, m[2])
				if err != nil {
					return nil, fmt.Errorf("%s:%d: received at: %w", path, n, err)
				}
				cur.receivedAt, cur.hasTime = t, true
			case "delivery id":
				cur.deliveryID = m[2]
			}
		}
	}
	return out, sc.Err()
}

// parseRequest reads an HTTP/1.1 request as the document writes it: the request line, headers,
// a blank line, and the body on one line.
func (e *signatureExample) parseRequest(lines []string) error {
	if len(lines) < 3 {
		return errors.New("a request is a request line, headers, a blank line and a body")
	}
	method, rest, _ := strings.Cut(lines[0], " ")
	target, proto, _ := strings.Cut(rest, " ")
	if method != http.MethodPost || proto != "HTTP/1.1" {
		return fmt.Errorf("request line %q: want POST <path> HTTP/1.1", lines[0])
	}
	tail, ok := strings.CutPrefix(target, "/webhooks/")
	if !ok {
		return fmt.Errorf("path %q is not under /webhooks/", target)
	}
	e.source, e.path, _ = strings.Cut(tail, "/")
	if e.path != "" {
		e.path = "/" + e.path
	}
	e.header = http.Header{}
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		name, value, ok := strings.Cut(lines[i], ": ")
		if !ok {
			return fmt.Errorf("header line %q", lines[i])
		}
		e.header.Set(name, value) // canonicalized, as a server sees it
	}
	if i+2 != len(lines) {
		return errors.New("the body must be the one line after the blank line")
	}
	e.body = []byte(lines[i+1])
	return nil
}

// Every worked example of reference/signatures.md is accepted by its kind's real verifier, with
// the secret and at the time shown, as the delivery shown; and refused once its body changes.
func TestSignatureExamples(t *testing.T) {
	t.Parallel()
	examples, err := readSignatureExamples("reference/signatures.md")
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]int{}
	for _, e := range examples {
		t.Run(fmt.Sprintf("%s line %d", e.kind, e.line), func(t *testing.T) {
			kind, ok := documentedKinds.Lookup(e.kind)
			if !ok {
				t.Fatalf("kind %q is not one storemirror has", e.kind)
			}
			shown[e.kind]++
			src, err := kind.New(provider.Options{Name: e.source, Secrets: []string{e.secret}})
			if err != nil {
				t.Fatalf("a %s source with the example's secret: %v", e.kind, err)
			}
			req := webhooks.Request{Path: e.path, Header: e.header, Body: e.body, Now: e.receivedAt}
			d, err := src.Verify(req)
			if err != nil {
				t.Fatalf("the example is refused: %v", err)
			}
			if d.ID != e.deliveryID || d.Invalid != nil {
				t.Errorf("delivery id %q (invalid: %v), the document says %q", d.ID, d.Invalid, e.deliveryID)
			}
			wrong, err := kind.New(provider.Options{Name: e.source, Secrets: []string{otherSecret(e.secret)}})
			if err != nil {
				t.Fatalf("a %s source with a secret one character off: %v", e.kind, err)
			}
			if _, err := wrong.Verify(req); !errors.Is(err, webhooks.ErrUnauthorized) {
				t.Errorf("with one character of the secret changed: %v, want refused as unauthorized", err)
			}
			if e.path == bamboo.CallbackPath {
				return // the callback signs nothing: its proof is the secret in the body
			}
			tampered := req
			tampered.Body = changeByte(e.body)
			if _, err := src.Verify(tampered); !errors.Is(err, webhooks.ErrUnauthorized) {
				t.Errorf("with one byte of the body changed: %v, want refused as unauthorized", err)
			}
		})
	}
	for _, k := range documentedKinds {
		if shown[k.Name] == 0 {
			t.Errorf("reference/signatures.md has no worked example of kind %s", k.Name)
		}
	}
}

// otherSecret is secret with its last character changed to another of the same kind (so that a
// Svix secret stays base64 and a sticky.io key phrase 32 characters long).
func otherSecret(secret string) string {
	last := secret[len(secret)-1]
	next := last + 1
	switch last {
	case 'z', 'Z', '9':
		next = last - 1
	}
	return secret[:len(secret)-1] + string(rune(next))
}

// changeByte returns body with its middle letter or digit (or the first one after the middle)
// changed to another of its kind, so that a JSON body stays JSON and a base64 body base64.
func changeByte(body []byte) []byte {
	out := []byte(string(body))
	for i := len(out) / 2; i < len(out); i++ {
		switch c := out[i]; {
		case c >= 'a' && c < 'z', c >= 'A' && c < 'Z', c >= '0' && c < '9':
			out[i]++
			return out
		case c == 'z' || c == 'Z' || c == '9':
			out[i]--
			return out
		}
	}
	panic("no letter or digit in the second half of the body")
}
