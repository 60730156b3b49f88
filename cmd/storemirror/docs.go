package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/storemirror/storemirror/dictionary"
	"github.com/storemirror/storemirror/store"
)

// docsFormats are what `docs --format` writes.
var docsFormats = map[string]func(io.Writer, store.MirrorSchema) error{
	"markdown": dictionary.Markdown,
	"dbt":      dictionary.DBT,
}

func docsFlags(fs *flag.FlagSet) *string {
	return fs.String("format", "markdown", "markdown: a data dictionary; dbt: a dbt sources file")
}

// docs writes the mirror's documentation, from the live database's COMMENT ON text, to stdout.
func (m *Main) docs(ctx context.Context, path, format string) error {
	write, ok := docsFormats[format]
	if !ok {
		return usagef("docs: --format must be markdown or dbt, not %q", format)
	}
	db, err := m.openDatabase(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := db.DescribeMirror(ctx)
	if err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	if len(s.Relations) == 0 {
		return errors.New("docs: schema mirror is missing or empty: run storemirror migrate first")
	}
	return write(m.Stdout, s)
}
