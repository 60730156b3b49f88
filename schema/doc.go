// Package schema holds storemirror's PostgreSQL migrations: numbered SQL files applied in order by
// pressly/goose (see package store). The `mirror` schema is for BI tools; the `sync` schema is the
// daemon's own bookkeeping.
package schema

import "embed"

// FS holds the migrations, named NNNNN_what.sql.
//
//go:embed *.sql
var FS embed.FS
