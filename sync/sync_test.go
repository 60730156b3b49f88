package sync

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestVersionCompare(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := t0.Add(time.Minute)
	cases := []struct {
		name string
		a, b Version
		want int
	}{
		{"provider time first", Version{At: t0, Seq: 9}, Version{At: t0.Add(time.Nanosecond), Seq: 1}, -1},
		{"then the event's time", Version{At: t0, EventAt: later, Seq: 1}, Version{At: t0, EventAt: t0, Seq: 9}, 1},
		{"then receive order", Version{At: t0, EventAt: t0, Seq: 2}, Version{At: t0, EventAt: t0, Seq: 1}, 1},
		{"the same", Version{At: t0, Seq: 1}, Version{At: t0, Seq: 1}, 0},
		{"never set is oldest", Version{}, Version{At: t0}, -1},
		{"an unstamped event ranks before a stamped one of its version", Version{At: t0, Seq: 9}, Version{At: t0, EventAt: t0, Seq: 1}, -1},
		// A pull is compared with an event that carried no time by the pull's fetch time:
		// fetched after the event was received, it wins though the provider's version is older.
		{"pull fetched after a timeless event", Version{At: t0, EventAt: later.Add(time.Minute), Pulled: true, Seq: 1}, Received(later), 1},
		{"pull fetched before a timeless event", Version{At: later.Add(time.Hour), EventAt: t0, Pulled: true, Seq: 9}, Received(later), -1},
		{"pull and timeless event, same instant", Version{At: t0, EventAt: later, Pulled: true, Seq: 1}, Version{At: later, EventAt: later, Received: true, Seq: 2}, -1},
		// Otherwise a pull ranks by the provider's version like any event.
		{"pull older than a stamped event", Version{At: t0, EventAt: later, Pulled: true, Seq: 9}, Version{At: t0.Add(time.Second), Seq: 1}, -1},
	}
	for _, c := range cases {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%s: %+v.Compare(%+v) = %d, want %d", c.name, c.a, c.b, got, c.want)
		}
		if got := c.b.Compare(c.a); got != -c.want {
			t.Errorf("%s (reversed): %+v.Compare(%+v) = %d, want %d", c.name, c.b, c.a, got, -c.want)
		}
	}
}

func TestVersionTrust(t *testing.T) {
	received := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		v, want  Version
		wantLead time.Duration
	}{
		{"an hour ahead is trusted", Version{At: received.Add(time.Hour), EventAt: received.Add(time.Hour)},
			Version{At: received.Add(time.Hour), EventAt: received.Add(time.Hour)}, 0},
		{"the past is trusted", Version{At: received.Add(-72 * time.Hour)}, Version{At: received.Add(-72 * time.Hour)}, 0},
		{"three days ahead is the receipt", Version{At: received.Add(72 * time.Hour), EventAt: received},
			Version{At: received, EventAt: received, Received: true}, 72 * time.Hour},
		{"year 9999 is the receipt", Version{At: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), EventAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
			Version{At: received, EventAt: received, Received: true}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC).Sub(received)},
		{"only the event time ahead", Version{At: received, EventAt: received.Add(2 * time.Hour)},
			Version{At: received, EventAt: received}, 2 * time.Hour},
		{"a pull ahead of its fetch stays a pull", Version{At: received.Add(48 * time.Hour), EventAt: received, Pulled: true},
			Version{At: received, EventAt: received, Pulled: true}, 48 * time.Hour},
	}
	for _, c := range cases {
		got, lead := c.v.Trust(received)
		if got != c.want || lead != c.wantLead {
			t.Errorf("%s: Trust = %+v, %v; want %+v, %v", c.name, got, lead, c.want, c.wantLead)
		}
	}
}

func TestBackoff(t *testing.T) {
	for attempts, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 4: 80 * time.Second, 20: time.Hour} {
		if got := Backoff(attempts); got != want {
			t.Errorf("Backoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestFieldFromJSON(t *testing.T) {
	var v struct {
		Absent  Field[string] `json:"absent"`
		Null    Field[int64]  `json:"null"`
		Present Field[string] `json:"present"`
	}
	if err := json.Unmarshal([]byte(`{"null":null,"present":"x"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.Absent.Set || !v.Null.Set || !v.Null.Null || !v.Present.Set || v.Present.Null || v.Present.Value != "x" {
		t.Errorf("fields = %+v", v)
	}
	if err := json.Unmarshal([]byte(`{"null":"not a number"}`), &v); err == nil {
		t.Error("a string was read into a Field[int64]")
	}
}

// UnmarshalJSON's errors are encoding/json's, with the struct field they are in; a valid body
// decodes into a used value as encoding/json would (a slice replaced, a null key Null).
func TestUnmarshalJSON(t *testing.T) {
	type wire struct {
		Name  Field[string] `json:"name"`
		Count Field[int64]  `json:"count"`
		Tags  []string      `json:"tags"`
	}
	var w wire
	err := UnmarshalJSON([]byte(`{"name":"a","count":1.5}`), &w)
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) || err.Error() != "json: cannot unmarshal number 1.5 into Go struct field wire.count of type int64" {
		t.Errorf("error %v (%T), want encoding/json's naming wire.count", err, err)
	}
	var syntax *json.SyntaxError
	if err := UnmarshalJSON([]byte(`{"name":`), &w); !errors.As(err, &syntax) {
		t.Errorf("truncated body: %v (%T), want a *json.SyntaxError", err, err)
	}
	w = wire{Tags: []string{"left", "over"}}
	if err := UnmarshalJSON([]byte(`{"name":null,"tags":["x"]}`), &w); err != nil {
		t.Fatal(err)
	}
	if want := (wire{Name: Null[string](), Tags: []string{"x"}}); !reflect.DeepEqual(w, want) {
		t.Errorf("decoded %+v, want %+v", w, want)
	}
}

func TestChangeValidate(t *testing.T) {
	ok := Change{Key: Key{Source: "s", ExternalID: "1"}, Version: Version{At: time.Now()}, Entity: &Product{}}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid change: %v", err)
	}
	for name, c := range map[string]Change{
		"no entity":   {Key: ok.Key, Version: ok.Version},
		"no source":   {Key: Key{ExternalID: "1"}, Version: ok.Version, Entity: &Product{}},
		"no id":       {Key: Key{Source: "s"}, Version: ok.Version, Entity: &Product{}},
		"no time":     {Key: ok.Key, Entity: &Product{}},
		"wrong prior": {Key: ok.Key, Version: ok.Version, Entity: &Product{}, Previous: &Order{}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
