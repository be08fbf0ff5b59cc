package configs

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Error is one problem found in a configuration file. Load and Parse return every problem
// they find joined with errors.Join, each an *Error, in file order; callers that want them
// one by one unwrap the join:
//
//	var joined interface{ Unwrap() []error }
//	if errors.As(err, &joined) { for _, e := range joined.Unwrap() { … } }
//
// Its text reads `<source>: line <n>: <path>: <what is wrong>`, for example
// `supportprobe.yaml: line 31: vendors[0] "acme-cloud": schedules[0].timezone: unknown time
// zone "America/LA"`; the line and the path are left out when they are not known.
type Error struct {
	// Source is the file name, or the source name given to Parse.
	Source string
	// Line is the 1-based line the problem is on, or 0 when it has none (a missing
	// top-level key, a missing file).
	Line int
	// Path says where in the document the problem is, with list items named by their
	// name or id: `vendors[0] "acme-cloud": schedules[0].timezone`. Empty for the file as
	// a whole.
	Path string
	// Err says what is wrong and names the bad value.
	Err error
}

// Error formats e as `<source>: line <n>: <path>: <message>`.
func (e *Error) Error() string {
	s := e.Source
	if e.Line > 0 {
		s = joinColon(s, "line "+strconv.Itoa(e.Line))
	}
	s = joinColon(s, e.Path)
	return joinColon(s, e.Err.Error())
}

// Unwrap returns the underlying error, so errors.Is and errors.As see through an *Error.
func (e *Error) Unwrap() error { return e.Err }

func joinColon(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + ": " + b
}

// problems collects the *Error values found in one source.
type problems struct {
	source string
	list   []*Error
}

// add records err at position a.
func (p *problems) add(a at, err error) {
	p.list = append(p.list, &Error{Source: p.source, Line: a.line, Path: a.path, Err: err})
}

// addf records a formatted message at position a.
func (p *problems) addf(a at, format string, args ...any) {
	p.add(a, fmt.Errorf(format, args...))
}

// err returns the problems in file order (those without a line last) joined with
// errors.Join, or nil if there are none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b *Error) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return cmp.Compare(a.Line, b.Line)
	})
	errs := make([]error, len(p.list))
	for i, e := range p.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}
