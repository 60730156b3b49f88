package sync

import (
	"encoding/json"
	"testing"
	"time"
)

func TestVersionCompare(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		a, b Version
		want int
	}{
		{Version{t0, 1}, Version{t0.Add(time.Nanosecond), 0}, -1}, // provider time first
		{Version{t0, 2}, Version{t0, 1}, 1},                       // then receive order
		{Version{t0, 1}, Version{t0, 1}, 0},
		{Version{}, Version{t0, 0}, -1}, // a field never set is older than anything
	}
	for _, c := range cases {
		if got := c.a.Compare(c.b); got != c.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := c.b.Compare(c.a); got != -c.want {
			t.Errorf("%v.Compare(%v) = %d, want %d", c.b, c.a, got, -c.want)
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
