package canonical

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"github.com/shopspring/decimal"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// object is one JSON object of a canonical body, read member by member with exact key names
// (encoding/json's struct decoding would also take "Price" for "price"). A member the object
// lacks is absent, so the column is left alone; a null member is an explicit NULL. The first
// member of the wrong type is remembered in err, which names it by its path in the body.
type object struct {
	path    string // "order", "order.items[0]"
	members map[string]json.RawMessage
	err     error
}

// parseObject reads raw, found at path, as a JSON object.
func parseObject(path string, raw json.RawMessage) (*object, error) {
	o := &object{path: path}
	if err := json.Unmarshal(raw, &o.members); err != nil || o.members == nil {
		return nil, fmt.Errorf("%s: not a JSON object", path)
	}
	return o, nil
}

// member returns the key's raw value and whether the object carries it; null counts as carried.
func (o *object) member(key string) (json.RawMessage, bool) {
	raw, ok := o.members[key]
	return raw, ok
}

// fail remembers the first error, naming the member.
func (o *object) fail(key string, err error) {
	if o.err == nil {
		o.err = fmt.Errorf("%s.%s: %w", o.path, key, err)
	}
}

// read returns the key as a Field: absent, NULL, or the value parse makes of it.
func read[T any](o *object, key string, parse func(json.RawMessage) (T, error)) mirrorsync.Field[T] {
	raw, ok := o.member(key)
	if !ok {
		return mirrorsync.Field[T]{}
	}
	return readValue(o, key, raw, parse)
}

// readValue is read for a value already in hand (a list's element), named name under o.
func readValue[T any](o *object, name string, raw json.RawMessage, parse func(json.RawMessage) (T, error)) mirrorsync.Field[T] {
	if isNull(raw) {
		return mirrorsync.Null[T]()
	}
	v, err := parse(raw)
	if err != nil {
		o.fail(name, err)
		return mirrorsync.Field[T]{}
	}
	return mirrorsync.Some(v)
}

func (o *object) text(key string) mirrorsync.Field[string]            { return read(o, key, parseText) }
func (o *object) money(key string) mirrorsync.Field[decimal.Decimal]  { return read(o, key, parseMoney) }
func (o *object) integer(key string) mirrorsync.Field[int64]          { return read(o, key, parseInteger) }
func (o *object) timestamp(key string) mirrorsync.Field[time.Time]    { return read(o, key, parseTime) }
func (o *object) anyText(key string) mirrorsync.Field[string]         { return read(o, key, parseAnyText) }
func (o *object) quantity(key string) mirrorsync.Field[int64]         { return read(o, key, parseQuantity) }
func (o *object) list(key string) mirrorsync.Field[[]json.RawMessage] { return read(o, key, parseList) }

// child returns the object member key; nil when the object lacks it or it is null.
func (o *object) child(key string) *object {
	raw, ok := o.member(key)
	if !ok || isNull(raw) {
		return nil
	}
	c, err := parseObject(o.path+"."+key, raw)
	if err != nil {
		if o.err == nil {
			o.err = err
		}
		return nil
	}
	return c
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// parseText takes a string, or a number as written (platforms send order numbers and SKUs both ways).
func parseText(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	return "", errors.New("not a string")
}

// parseAnyText takes a string as it is and any other JSON value as its compact JSON text: a
// metadata value is free-form, and keeping it whole loses nothing.
func parseAnyText(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", fmt.Errorf("compact json: %w", err)
	}
	return b.String(), nil
}

// maxNumberLength bounds a number's text: no price or count needs more digits, and parsing a
// megabyte of them takes seconds.
const maxNumberLength = 64

// parseMoney takes a number, or a string holding one, exactly as written (never through float64).
func parseMoney(raw json.RawMessage) (decimal.Decimal, error) {
	if len(raw) > maxNumberLength {
		return decimal.Decimal{}, fmt.Errorf("a number of more than %d characters", maxNumberLength)
	}
	var d decimal.Decimal
	if err := d.UnmarshalJSON(raw); err != nil {
		return decimal.Decimal{}, errors.New("not a decimal number")
	}
	return d, nil
}

// parseInteger takes a whole number (12, 12.0 or "12") that fits in 64 bits.
func parseInteger(raw json.RawMessage) (int64, error) {
	d, err := parseMoney(raw)
	// The exponent check comes before BigInt, which would expand 1e9999 digit by digit.
	if err != nil || d.Exponent() > 18 && !d.IsZero() || !d.IsInteger() || !d.BigInt().IsInt64() {
		return 0, errors.New("not a whole number within 64 bits")
	}
	return d.IntPart(), nil
}

// parseQuantity is parseInteger for a line's quantity, whose column is a 32-bit integer.
func parseQuantity(raw json.RawMessage) (int64, error) {
	n, err := parseInteger(raw)
	if err == nil && (n > math.MaxInt32 || n < math.MinInt32) {
		err = errors.New("out of range")
	}
	return n, err
}

// parseTime takes an RFC 3339 time, kept in UTC.
func parseTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, errors.New("not an RFC 3339 time string")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("not an RFC 3339 time: %q", s)
	}
	return t.UTC(), nil
}

func parseList(raw json.RawMessage) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("not an array")
	}
	return items, nil
}

// e164 is the phone in E.164 form (+15550100), NULL when it cannot be had: the number must be
// written internationally (with a leading +), because the body names no country to read a
// national number in, and it must have a possible length for its country. Validity against
// the numbering plan is not asked: the library's plan data ages, and a new mobile range must
// not lose its contacts.
func e164(phone mirrorsync.Field[string]) mirrorsync.Field[string] {
	if !phone.Set {
		return mirrorsync.Field[string]{}
	}
	s := strings.TrimSpace(phone.Value)
	if phone.Null || !strings.HasPrefix(s, "+") || len(s) > maxPhoneLength {
		return mirrorsync.Null[string]()
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return mirrorsync.Null[string]()
	}
	return mirrorsync.Some(phonenumbers.Format(n, phonenumbers.E164))
}

// maxPhoneLength bounds the text e164 parses: E.164 has at most 15 digits, and the parser is
// slow on long input. Twice that leaves room for spaces, punctuation and an extension.
const maxPhoneLength = 64

// ptr returns f's value for a child row's nullable column: nil when absent or NULL.
func ptr[T any](f mirrorsync.Field[T]) *T {
	if !f.Set || f.Null {
		return nil
	}
	return &f.Value
}

func nullDecimal(f mirrorsync.Field[decimal.Decimal]) decimal.NullDecimal {
	if !f.Set || f.Null {
		return decimal.NullDecimal{}
	}
	return decimal.NullDecimal{Decimal: f.Value, Valid: true}
}
