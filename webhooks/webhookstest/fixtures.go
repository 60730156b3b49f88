package webhookstest

import (
	"os"
	"path/filepath"
	"testing"
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
