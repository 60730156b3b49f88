package webhookstest

import (
	"os"
	"path/filepath"
	"testing"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// Fixture returns the payload testdata/name.json of the calling test's package, byte for byte.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fixtures returns every payload testdata/*.json of the calling test's package (a fuzz
// target's seed corpus), failing t if there is none.
func Fixtures(t testing.TB) [][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures under testdata: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Decoded checks what a decoder returned for a fuzzed body: beside an error no changes, and
// without one exactly one change that validates, which it returns (ok false after an error).
func Decoded(t *testing.T, changes []mirrorsync.Change, err error) (c mirrorsync.Change, ok bool) {
	t.Helper()
	if err != nil {
		if changes != nil {
			t.Errorf("changes %+v beside error %v", changes, err)
		}
		return mirrorsync.Change{}, false
	}
	if len(changes) != 1 {
		t.Fatalf("%d changes without an error, want 1", len(changes))
	}
	if err := changes[0].Validate(); err != nil {
		t.Errorf("invalid change: %v", err)
	}
	return changes[0], true
}

// Usable fails t for any change the store could not key or version: no entity, no external
// id, or no time.
func Usable(t *testing.T, changes []mirrorsync.Change) {
	t.Helper()
	for _, c := range changes {
		if c.Entity == nil || c.Key.ExternalID == "" || c.Version.At.IsZero() {
			t.Errorf("decoded an unusable change: %+v", c)
		}
	}
}
