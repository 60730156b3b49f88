package provider

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a configuration, at a YAML path.
type Problem struct {
	Path string // "sources[1].secrets[0]"; relative to the source when a Kind reports it
	Msg  string
	// Line is the line of the configuration file the problem is at (0: unknown). The loader
	// sets it from Path; a Kind leaves it alone.
	Line int
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// Problems is every problem found; as an error, one problem a line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Add appends the problem at path.
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns ps as an error, or nil when there is no problem.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}
