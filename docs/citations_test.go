package docs_test

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The repository root: the docs package is one level below it.
const repoRoot = ".."

// citedFiles are the kinds of file whose text may cite a document.
var citedFiles = []string{".go", ".md", ".yaml", ".yml", ".sql", ".service"}

// foreign matches a citation of a document the repository does not have: the briefs it was
// written from. Each name is split so that this file does not match itself.
var foreign = regexp.MustCompile(`(?i)(^|[^A-Za-z0-9_-])(` + strings.Join([]string{
	"CONTRACT" + `\.md`, "DESIGN" + `\.md`, "STYLE" + `\.md`, "providers" + `\.md`, "lessons" + `\.md`,
}, "|") + `)|CONTRACT ` + "§")

// docPath matches a repository path of a document, as code comments cite them.
var docPath = regexp.MustCompile(`(^|[^A-Za-z0-9_./-])(docs/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)(#[A-Za-z0-9_-]+)?`)

// mdLink matches a markdown link or image: [text](target) or ![alt](target).
var mdLink = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// repoFiles returns every file of the repository that may cite a document, by its path from
// the root (slash-separated).
func repoFiles(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(repoRoot, "go.mod")); err != nil {
		t.Fatalf("the repository root is not %s: %v", repoRoot, err)
	}
	var files []string
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != repoRoot && (strings.HasPrefix(name, ".") || name == "bin" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if slices.Contains(citedFiles, filepath.Ext(name)) {
			rel, err := filepath.Rel(repoRoot, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the repository: %v", err)
	}
	if len(files) < 100 {
		t.Fatalf("found %d files to check; the walk is broken", len(files))
	}
	return files
}

// lines calls fn with every line of the repository file rel, and whether it is inside a fenced
// code block of a markdown file.
func lines(t *testing.T, rel string, fn func(n int, line string, fenced bool)) {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	fenced, md := false, strings.HasSuffix(rel, ".md")
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if md && strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		fn(n, line, fenced)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
}

// anchors returns the heading anchors of the markdown file at path, as GitHub makes them.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	seen := map[string]int{}
	lines(t, path, func(_ int, line string, fenced bool) {
		if fenced || !strings.HasPrefix(line, "#") {
			return
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		a := slug(heading)
		if n := seen[a]; n > 0 {
			out[a+"-"+strconv.Itoa(n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	})
	return out
}

// slug is GitHub's anchor of a heading: lower case, spaces to hyphens, punctuation dropped.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkTarget reports a problem with the document target (a path from the repository root,
// with an optional #anchor), or "".
func checkTarget(t *testing.T, target string) string {
	t.Helper()
	path, anchor, _ := strings.Cut(target, "#")
	info, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(path)))
	if err != nil {
		return "no such file: " + path
	}
	if anchor != "" && !info.IsDir() && strings.HasSuffix(path, ".md") && !anchors(t, path)[anchor] {
		return "no heading #" + anchor + " in " + path
	}
	return ""
}

// No file of the repository cites a document it does not have: the briefs it was built from
// are not part of it, and a reader sent to one finds nothing.
func TestNoForeignCitations(t *testing.T) {
	t.Parallel()
	for _, rel := range repoFiles(t) {
		lines(t, rel, func(n int, line string, _ bool) {
			if m := foreign.FindString(line); m != "" {
				t.Errorf("%s:%d: cites %q, which is not in the repository: cite docs/ or say it plainly", rel, n, strings.TrimSpace(m))
			}
		})
	}
}

// Every docs/....md a file names exists, with the section it names.
func TestCitedDocumentsExist(t *testing.T) {
	t.Parallel()
	for _, rel := range repoFiles(t) {
		lines(t, rel, func(n int, line string, _ bool) {
			for _, m := range docPath.FindAllStringSubmatch(line, -1) {
				if p := checkTarget(t, m[2]+m[3]); p != "" {
					t.Errorf("%s:%d: cites %s%s: %s", rel, n, m[2], m[3], p)
				}
			}
		})
	}
}

// Every relative link of a markdown file leads to a file that exists (and a heading that
// exists, when it names one).
func TestMarkdownLinksResolve(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, rel := range repoFiles(t) {
		if !strings.HasSuffix(rel, ".md") {
			continue
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		lines(t, rel, func(n int, line string, fenced bool) {
			if fenced {
				return
			}
			for _, m := range mdLink.FindAllStringSubmatch(stripCode(line), -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				if strings.HasPrefix(target, "#") {
					target = rel + target
				} else {
					target = filepath.ToSlash(filepath.Join(dir, target))
				}
				checked++
				if p := checkTarget(t, target); p != "" {
					t.Errorf("%s:%d: link %s: %s", rel, n, m[1], p)
				}
			}
		})
	}
	if checked < 20 {
		t.Errorf("checked %d links; the link pattern is broken", checked)
	}
}

// stripCode removes inline code spans, whose text is not a link.
func stripCode(line string) string {
	return regexp.MustCompile("`[^`]*`").ReplaceAllString(line, "")
}

func TestSlug(t *testing.T) {
	t.Parallel()
	for heading, want := range map[string]string{
		"Operating it":                      "operating-it",
		"The status page: `GET /status`":    "the-status-page-get-status",
		"StoremirrorWebhooksSilent":         "storemirrorwebhookssilent",
		"Runs: queued, running, backfill":   "runs-queued-running-backfill",
		"`inbox.max_attempts` (retries)":    "inboxmax_attempts-retries",
		"Several daemons, one database":     "several-daemons-one-database",
		"Replay after a decoder fix":        "replay-after-a-decoder-fix",
		"sticky.io: AES-256-CBC, no HMAC":   "stickyio-aes-256-cbc-no-hmac",
		"Back in Stock (`X-BIS-Signature`)": "back-in-stock-x-bis-signature",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}
