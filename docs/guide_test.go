package docs_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storemirror/storemirror/dictionary"
	"github.com/storemirror/storemirror/store"
	"github.com/storemirror/storemirror/store/storetest"
)

// example is one of the guide's example queries: a ```sql block, and the result table the guide
// shows after it.
type example struct {
	heading string
	line    int // of the query, in the guide
	query   string
	result  [][]string // the header row, then the rows
}

// readExamples reads every ```sql block of the guide with the table that follows it (before the
// next heading). A query the guide shows without its result is an error: every one is tested.
func readExamples(path string) ([]example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	var (
		out     []example
		heading string
		cur     *example
		inSQL   bool
		inOther bool // another fenced block: its lines are neither headings nor results
		query   strings.Builder
		n       int
	)
	finish := func() error {
		if cur != nil && len(cur.result) == 0 {
			return fmt.Errorf("%s:%d: the query under %q has no result table after it", path, cur.line, cur.heading)
		}
		return nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case inSQL && line == "```":
			inSQL = false
			out = append(out, example{heading: heading, line: n, query: query.String()})
			cur = &out[len(out)-1]
		case inSQL:
			query.WriteString(line + "\n")
		case inOther:
			inOther = line != "```"
		case line == "```sql":
			if err := finish(); err != nil {
				return nil, err
			}
			inSQL, cur = true, nil
			query.Reset()
		case strings.HasPrefix(line, "```"):
			inOther = true
		case strings.HasPrefix(line, "#"):
			if err := finish(); err != nil {
				return nil, err
			}
			heading, cur = strings.TrimLeft(line, "# "), nil
		case cur != nil && strings.HasPrefix(line, "|"):
			cells := splitRow(line)
			if len(cur.result) == 1 && isSeparator(cells) {
				continue
			}
			cur.result = append(cur.result, cells)
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, sc.Err()
}

func splitRow(line string) []string {
	parts := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

func isSeparator(cells []string) bool {
	for _, c := range cells {
		if strings.Trim(c, "-: ") != "" {
			return false
		}
	}
	return true
}

// runQuery runs q and renders its result as the guide shows results: NULL as NULL, times in UTC
// as psql would print them with TimeZone UTC, dates as dates.
func runQuery(ctx context.Context, conn *sql.Conn, q string) ([][]string, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	header := make([]string, len(types))
	for i, ct := range types {
		header[i] = ct.Name()
	}
	out := [][]string{header}
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = render(v, types[i].DatabaseTypeName())
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func render(v any, dbType string) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case time.Time:
		if dbType == "DATE" {
			return v.Format(time.DateOnly)
		}
		return v.UTC().Format("2006-01-02 15:04:05") + "+00"
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

func markdownTable(rows [][]string) string {
	var b strings.Builder
	for i, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		if i == 0 {
			b.WriteString("|" + strings.Repeat("---|", len(r)) + "\n")
		}
	}
	return b.String()
}

func equalTables(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}

// Every example query of the BI guide runs, as a role grant-reader set up, against the sample
// mirror, and returns the table the guide shows under it. The session's time zone is one far from
// UTC, so a query whose days silently depend on the analyst's own zone fails here.
func TestGuideExamples(t *testing.T) {
	t.Parallel()
	examples, err := readExamples("bi-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(examples) < 10 {
		t.Errorf("the guide has %d example queries, want ten", len(examples))
	}
	role := storetest.NewRole(t) // before the database: it is dropped after it
	url := storetest.NewURL(t)
	db := openStore(t, url)
	fillSampleMirror(t, db)
	ctx := context.Background()
	if _, err := db.GrantReader(ctx, role); err != nil {
		t.Fatalf("grant-reader: %v", err)
	}
	reader, err := sql.Open("postgres", storetest.URLAs(t, url, role))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	conn, err := reader.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET TimeZone = 'Pacific/Kiritimati'`); err != nil { // UTC+14
		t.Fatal(err)
	}
	for _, ex := range examples {
		got, err := runQuery(ctx, conn, ex.query)
		if err != nil {
			t.Errorf("bi-guide.md:%d (%s): %v", ex.line, ex.heading, err)
			continue
		}
		if len(got) < 2 {
			t.Errorf("bi-guide.md:%d (%s): no rows; an example should show something", ex.line, ex.heading)
		}
		if !equalTables(got, ex.result) {
			t.Errorf("bi-guide.md:%d (%s): the query returns\n%s\nthe guide says\n%s", ex.line, ex.heading, markdownTable(got), markdownTable(ex.result))
		}
	}
}

func openStore(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The guide's diagram draws exactly the references the schema's comments declare.
func TestGuideDiagramMatchesTheSchema(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("bi-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	_, diagram, ok := strings.Cut(string(b), "```mermaid\n")
	diagram, _, closed := strings.Cut(diagram, "```")
	if !ok || !closed {
		t.Fatal("bi-guide.md has no mermaid diagram")
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+) \|o--o\{ (\w+) : "(\w+)"$`).FindAllStringSubmatch(diagram, -1) {
		got = append(got, m[2]+"."+m[3]+" → "+m[1])
	}
	s, err := storetest.NewDB(t).DescribeMirror(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range dictionary.References(s) {
		want = append(want, r.Table+"."+r.Column+" → "+r.To)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the diagram draws\n%s\nthe schema declares\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
