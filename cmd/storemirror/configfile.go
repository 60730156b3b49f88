package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configFile is a configuration's YAML tree, read against the Config type before it is decoded,
// so that every problem of the file is reported at once, each at its YAML path and line: the
// decoder stops at the first value of a wrong type and knows no paths.
type configFile struct {
	env      func(string) (string, bool)
	lines    map[string]int      // path → the line its key (or list item) is at
	written  map[string]string   // path → its value as written, where ${VAR} changed it
	unset    map[string][]string // path → the unset variables its value refers to
	problems Problems
}

func newConfigFile(env func(string) (string, bool)) *configFile {
	return &configFile{env: env, lines: map[string]int{}, written: map[string]string{}, unset: map[string][]string{}}
}

// ref is a reference in a value: ${VAR}, an environment variable, or ${credential:NAME}, a
// systemd credential.
var ref = regexp.MustCompile(`\$\{(?:credential:([^}]*)|([A-Za-z_][A-Za-z0-9_]*))\}`)

// credentialName is what systemd accepts as a credential's name and is a file name: no "/",
// nor a leading ".".
var credentialName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// expand replaces ${VAR} and ${credential:NAME} in every scalar value (never in keys) after
// parsing, so that a value can never change the file's structure, and notes each path's line
// and unset variables.
func (f *configFile) expand(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.ScalarNode:
		written := n.Value
		n.Value = ref.ReplaceAllStringFunc(n.Value, func(r string) string {
			m := ref.FindStringSubmatch(r)
			if m[2] == "" {
				v, err := f.credential(m[1])
				if err != nil {
					f.add(path, n.Line, "${credential:%s}: %v", m[1], err)
				}
				return v
			}
			v, ok := f.env(m[2])
			if !ok || v == "" {
				f.unset[path] = append(f.unset[path], m[2])
			}
			return v
		})
		if n.Value != written {
			f.written[path] = written
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			f.lines[p] = n.Content[i].Line
			f.expand(n.Content[i+1], p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			f.lines[p] = c.Line
			f.expand(c, p)
		}
	}
}

// credential reads the systemd credential name (LoadCredential= in the unit) from
// $CREDENTIALS_DIRECTORY, less one trailing line break: files written with echo end in one,
// secrets do not.
func (f *configFile) credential(name string) (string, error) {
	if !credentialName.MatchString(name) {
		return "", errors.New("not a credential name (letters, digits, _ . -)")
	}
	dir, _ := f.env("CREDENTIALS_DIRECTORY")
	if dir == "" {
		return "", errors.New("$CREDENTIALS_DIRECTORY is not set: the unit passes credentials with LoadCredential=")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("not in $CREDENTIALS_DIRECTORY (%s): the unit needs LoadCredential=%s:FILE", dir, name)
	}
	if err != nil {
		return "", fmt.Errorf("read credential: %w", err)
	}
	v, ok := strings.CutSuffix(string(b), "\n")
	if ok {
		v = strings.TrimSuffix(v, "\r")
	}
	return v, nil
}

// check finds what decoding n into a t would fail at, or ignore: keys that name no field, keys
// given twice, values of the wrong shape or type.
func (f *configFile) check(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value: the default
	}
	switch {
	case t.Kind() == reflect.Struct && t != durationType:
		if n.Kind != yaml.MappingNode {
			f.add(path, n.Line, "must be a mapping of keys to values")
			return
		}
		f.checkMapping(n, t, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			f.add(path, n.Line, "must be a list")
			return
		}
		for i, c := range n.Content {
			f.check(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		if _, expanded := f.written[path]; expanded && t.Kind() != reflect.String {
			// The parser tagged the text it saw, ${VAR}, a string: what a number, a boolean or a
			// duration reads is the variable's value, resolved as if written in its place.
			n.Tag, n.Style = "", 0
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			f.add(path, n.Line, "%s", f.typeMessage(n, t, path))
		}
	}
}

func (f *configFile) checkMapping(n *yaml.Node, t reflect.Type, path string) {
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" {
			fields[name] = t.Field(i).Type
		}
	}
	seen := map[string]int{}
	var dups []int
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		p := join(path, key.Value)
		if first, dup := seen[key.Value]; dup {
			f.add(p, key.Line, "given twice (first at line %d)", first)
			dups = append(dups, i)
			continue
		}
		seen[key.Value] = key.Line
		ft, ok := fields[key.Value]
		if !ok {
			f.add(p, key.Line, "unknown key")
			continue
		}
		f.check(n.Content[i+1], ft, p)
	}
	// The decoder refuses a whole mapping with a key given twice: it gets the first of each, so
	// that the rest of the file is still checked.
	for _, i := range slices.Backward(dups) {
		n.Content = slices.Delete(n.Content, i, i+2)
	}
}

var durationType = reflect.TypeFor[Duration]()

// typeMessage says what the value at path should have been. It quotes the value as written in
// the file, never as expanded: a variable's value may be a secret.
func (f *configFile) typeMessage(n *yaml.Node, t reflect.Type, path string) string {
	if n.Kind != yaml.ScalarNode {
		return "must be a single value, not a list or mapping"
	}
	written, ok := f.written[path]
	if !ok {
		written = n.Value
	}
	want := map[reflect.Kind]string{
		reflect.Int: "a whole number", reflect.Int64: "a whole number", reflect.Float64: "a number",
		reflect.Bool: "true or false",
	}[t.Kind()]
	if t == durationType {
		want = "a duration in Go syntax (30s, 5m, 720h)"
	}
	return fmt.Sprintf("must be %s, not %s%s", cmp.Or(want, t.Kind().String()), strconv.Quote(written), f.hint(path))
}

func (f *configFile) add(path string, line int, format string, args ...any) {
	f.problems = append(f.problems, Problem{Path: path, Msg: fmt.Sprintf(format, args...), Line: line})
}

// faulted reports whether path, or a path that holds it, has a problem already: what is under
// a value that could not be read is not worth reporting too.
func (f *configFile) faulted(path string) bool {
	return slices.ContainsFunc(f.problems, func(p Problem) bool { return within(path, p.Path) })
}

// within reports whether path is at or under parent ("sources[1].api.token" is within
// "sources[1]"; everything is within "", the whole file).
func within(path, parent string) bool {
	if parent == "" || path == parent {
		return true
	}
	rest, ok := strings.CutPrefix(path, parent)
	return ok && (rest[0] == '.' || rest[0] == '[')
}

// locate sets each problem's line: its path's, or that of the nearest path holding it that
// the file has (a missing key is reported at its section).
func (f *configFile) locate(ps Problems) {
	for i := range ps {
		for p := ps[i].Path; ps[i].Line == 0 && p != ""; p = parent(p) {
			ps[i].Line = f.lines[p]
		}
	}
}

// parent is the path that holds path: "sources[1].api" for "sources[1].api.token", "sources"
// for "sources[1]", "" for "sources".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// hint names the unset environment variables the values at (or under) paths refer to.
func (f *configFile) hint(paths ...string) string {
	var names []string
	for p, vars := range f.unset {
		if slices.ContainsFunc(paths, func(want string) bool { return within(p, want) }) {
			names = append(names, vars...)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	return fmt.Sprintf(" (unset environment variables: %s)", strings.Join(slices.Compact(names), ", "))
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxProblem is a file that is not YAML, at the line the parser names (when it does).
func syntaxProblem(err error) Problem {
	msg := err.Error()
	p := Problem{Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = "not valid YAML: " + msg[len(m[0]):]
	}
	return p
}

// ConfigError is every problem of a configuration file. As an error, one problem a line, each
// as FILE:LINE: PATH: MESSAGE, which editors and terminals can jump to.
type ConfigError struct {
	File     string
	Problems Problems
}

func (e *ConfigError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Line > 0 {
			lines[i] = fmt.Sprintf("%s:%d: %s", e.File, p.Line, p)
		} else {
			lines[i] = fmt.Sprintf("%s: %s", e.File, p)
		}
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems.
func (e *ConfigError) Unwrap() error { return e.Problems }
