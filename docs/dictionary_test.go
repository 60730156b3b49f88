package docs_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/storemirror/storemirror/dictionary"
	"github.com/storemirror/storemirror/store/storetest"
)

var update = flag.Bool("update", false, "rewrite data-dictionary.md from a freshly migrated database (make docs)")

// data-dictionary.md is what `storemirror docs` writes for the schema the migrations build: a
// migration that changes a comment, a column or a table without regenerating it fails here.
func TestDataDictionaryIsCurrent(t *testing.T) {
	t.Parallel()
	s, err := storetest.NewDB(t).DescribeMirror(context.Background())
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	var want bytes.Buffer
	if err := dictionary.Markdown(&want, s); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("data-dictionary.md", want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile("data-dictionary.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(want.String(), "\n")
		i := 0
		for i < len(gotLines) && i < len(wantLines) && gotLines[i] == wantLines[i] {
			i++
		}
		line := func(lines []string) string {
			if i < len(lines) {
				return lines[i]
			}
			return "<end of file>"
		}
		t.Errorf("docs/data-dictionary.md is stale: run `make docs` and commit it. First difference, line %d:\n got: %s\nwant: %s",
			i+1, line(gotLines), line(wantLines))
	}
}
