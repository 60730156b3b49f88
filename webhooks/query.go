package webhooks

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits of the admin API's lists.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
)

// query reads an admin request's query parameters; the first bad one is kept in err, named.
type query struct {
	v   url.Values
	err error
}

// parseQuery reads r's query, refusing parameters not in known and parameters given twice.
func parseQuery(r *http.Request, known ...string) (*query, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("malformed query: %v", err)
	}
	for k, vs := range v {
		if !slices.Contains(known, k) {
			return nil, fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, fmt.Errorf("%s: given %d times", k, len(vs))
		}
	}
	return &query{v: v}, nil
}

func (q *query) fail(format string, args ...any) {
	if q.err == nil {
		q.err = fmt.Errorf(format, args...)
	}
}

var nameValue = regexp.MustCompile(`^[a-z0-9_-]+$`)

// name reads a source or entity name ("" when absent).
func (q *query) name(key string) string {
	s := q.v.Get(key)
	if s != "" && !nameValue.MatchString(s) {
		q.fail("%s: %q is not a name ([a-z0-9_-]+)", key, s)
	}
	return s
}

// oneOf reads a parameter that must be one of options ("" when absent).
func (q *query) oneOf(key string, options ...string) string {
	s := q.v.Get(key)
	if s != "" && !slices.Contains(options, s) {
		q.fail("%s: must be one of %s", key, strings.Join(options, ", "))
	}
	return s
}

// limit reads limit: 1 to MaxListLimit, DefaultListLimit when absent.
func (q *query) limit() int {
	s := q.v.Get("limit")
	if s == "" {
		return DefaultListLimit
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxListLimit {
		q.fail("limit: must be a whole number from 1 to %d", MaxListLimit)
	}
	return n
}
