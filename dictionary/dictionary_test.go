package dictionary_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/storemirror/storemirror/dictionary"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
)

func describe(t *testing.T) store.MirrorSchema {
	t.Helper()
	s, err := storetest.NewDB(t).DescribeMirror(context.Background())
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	return s
}

// The references the schema's comments declare: every child key, and nothing that only looks
// like one (Back in Stock's Shopify ids).
func TestReferences(t *testing.T) {
	t.Parallel()
	var got []string
	for _, r := range dictionary.References(describe(t)) {
		got = append(got, r.Table+"."+r.Column+" → "+r.To)
	}
	want := []string{
		"bundle_items.bundle_external_id → products",
		"bundle_items.product_external_id → products",
		"categories.parent_external_id → categories",
		"checkout_items.checkout_external_id → checkouts",
		"checkout_items.product_external_id → products",
		"fulfillments.order_external_id → orders",
		"order_items.order_external_id → orders",
		"order_items.product_external_id → products",
		"orders.customer_external_id → customers",
		"product_changes.product_external_id → products",
		"product_custom_fields.product_external_id → products",
		"product_images.product_external_id → products",
		"product_variants.product_external_id → products",
		"products.category_external_id → categories",
		"variant_attributes.product_external_id → products",
		"variant_attributes.variant_external_id → product_variants",
	}
	if !slices.Equal(got, want) {
		t.Errorf("references:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// What a dbt project reads from the file, parsed back.
type sourcesFile struct {
	Version int `yaml:"version"`
	Sources []struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
		Schema      string `yaml:"schema"`
		Config      struct {
			LoadedAtField string `yaml:"loaded_at_field"`
			Freshness     struct {
				WarnAfter  period `yaml:"warn_after"`
				ErrorAfter period `yaml:"error_after"`
			} `yaml:"freshness"`
		} `yaml:"config"`
		Tables []struct {
			Name        string               `yaml:"name"`
			Description string               `yaml:"description"`
			Config      map[string]yaml.Node `yaml:"config"`
			Columns     []struct {
				Name        string `yaml:"name"`
				Description string `yaml:"description"`
				DataType    string `yaml:"data_type"`
				DataTests   []struct {
					Relationships struct {
						Arguments struct {
							To    string `yaml:"to"`
							Field string `yaml:"field"`
						} `yaml:"arguments"`
						Config struct {
							Severity string `yaml:"severity"`
						} `yaml:"config"`
					} `yaml:"relationships"`
				} `yaml:"data_tests"`
			} `yaml:"columns"`
		} `yaml:"tables"`
	} `yaml:"sources"`
}

type period struct {
	Count  int    `yaml:"count"`
	Period string `yaml:"period"`
}

func TestDBTSourcesFile(t *testing.T) {
	t.Parallel()
	s := describe(t)
	var out bytes.Buffer
	if err := dictionary.DBT(&out, s); err != nil {
		t.Fatal(err)
	}
	var f sourcesFile
	dec := yaml.NewDecoder(&out)
	dec.KnownFields(true) // every key written is one this test (and dbt) knows
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("parse the sources file: %v", err)
	}
	if f.Version != 2 || len(f.Sources) != 1 {
		t.Fatalf("version %d, %d sources; want version 2, one source", f.Version, len(f.Sources))
	}
	src := f.Sources[0]
	if src.Name != "storemirror" || src.Schema != "mirror" || src.Description != s.Comment {
		t.Errorf("source %q schema %q description %q; want storemirror, mirror, the schema's comment", src.Name, src.Schema, src.Description)
	}
	if c := src.Config; c.LoadedAtField != "mirrored_at" || c.Freshness.WarnAfter != (period{24, "hour"}) || c.Freshness.ErrorAfter != (period{72, "hour"}) {
		t.Errorf("source config %+v; want loaded_at_field mirrored_at, warn after 24 hours, error after 72", c)
	}
	if got, want := len(src.Tables), len(s.Relations); got != want {
		t.Fatalf("%d tables in the file, want every table and view: %d", got, want)
	}
	refs := map[string]string{}
	for _, r := range dictionary.References(s) {
		refs[r.Table+"."+r.Column] = r.To
	}
	tests := 0
	for i, table := range src.Tables {
		rel := s.Relations[i]
		if table.Name != rel.Name || table.Description == "" || table.Description != rel.Comment {
			t.Errorf("table %d: %q %q; want %q with its comment", i, table.Name, table.Description, rel.Name)
		}
		// A table without mirrored_at opts out of the source's freshness; the others inherit it.
		freshness, has := table.Config["freshness"]
		if rel.Has("mirrored_at") == has || (has && freshness.Tag != "!!null") {
			t.Errorf("%s: config %v; want freshness: null exactly when it has no mirrored_at", rel.Name, table.Config)
		}
		if len(table.Columns) != len(rel.Columns) {
			t.Errorf("%s: %d columns, want %d", rel.Name, len(table.Columns), len(rel.Columns))
			continue
		}
		for j, col := range table.Columns {
			want := rel.Columns[j]
			if col.Name != want.Name || col.DataType != want.Type || col.Description == "" || col.Description != want.Comment {
				t.Errorf("%s column %d: %s %s %q; want %s %s with its comment", rel.Name, j, col.Name, col.DataType, col.Description, want.Name, want.Type)
			}
			to, isRef := refs[rel.Name+"."+col.Name]
			if len(col.DataTests) != map[bool]int{true: 1, false: 0}[isRef] {
				t.Errorf("%s.%s: %d tests, want a relationships test only on a reference", rel.Name, col.Name, len(col.DataTests))
				continue
			}
			for _, dt := range col.DataTests {
				r := dt.Relationships
				if r.Arguments.To != "source('storemirror', '"+to+"')" || r.Arguments.Field != "external_id" || r.Config.Severity != "warn" {
					t.Errorf("%s.%s: test %+v; want relationships to %s.external_id, severity warn", rel.Name, col.Name, r, to)
				}
				tests++
			}
		}
	}
	if tests != len(refs) || tests == 0 {
		t.Errorf("%d relationships tests, want %d", tests, len(refs))
	}
}

// A comment is free text: a pipe or a line break must not break the markdown table.
func TestMarkdownKeepsEachColumnOnOneRow(t *testing.T) {
	t.Parallel()
	s := store.MirrorSchema{Comment: "The mirror.", Relations: []store.Relation{{
		Name: "things", Comment: "Things\nof the store.",
		Columns: []store.Column{
			{Name: "id", Type: "text", Key: true, NotNull: true, Comment: "The id."},
			{Name: "kind", Type: "text", NotNull: true, Comment: "a | b,\n  or c"},
			{Name: "note", Type: "text"},
		},
	}}}
	var out bytes.Buffer
	if err := dictionary.Markdown(&out, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## mirror.things\n\n**Table.** Things of the store.\n",
		"| `id` | text, **key** | The id. |\n",
		"| `kind` | text, *not null* | a \\| b, or c |\n",
		"| `note` | text |  |\n",
		"Tables: [things](#mirrorthings).\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.HasSuffix(out.String(), "|\n") || strings.HasSuffix(out.String(), "\n\n") {
		t.Errorf("markdown should end with one newline:\n%q", out.String())
	}
}
