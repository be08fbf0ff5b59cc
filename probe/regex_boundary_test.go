package probe

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp/syntax"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestNoASCIIBoundaryBesideNonASCII guards against a silent class of misses: Go's \b is
// an ASCII word boundary, so `\b(?:ответим|responderá)\b` never matches "мы ответим вам"
// or "le responderá pronto" (there is no ASCII word character on either side of those
// edges). Every pattern in the sources of probe and mailbox (the classifier, the parser
// and the quote finder) is parsed, and a \b standing next to a piece that can begin or
// end with a non-ASCII letter is reported; such an edge needs a letter class instead,
// as in `(?:^|[^\p{L}])ответим(?:$|[^\p{L}])`.
func TestNoASCIIBoundaryBesideNonASCII(t *testing.T) {
	var files []string
	for _, dir := range []string{".", "../mailbox"} {
		fs, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	if len(files) < 5 {
		t.Fatalf("found only %v to check", files)
	}
	for _, file := range files {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.Contains(s, `\b`) {
				return true
			}
			re, err := syntax.Parse(s, syntax.Perl)
			if err != nil {
				return true // not a pattern
			}
			for _, bad := range boundaryEdges(re) {
				t.Errorf("%s: \\b beside %q can never match there (ASCII word boundary next to a non-ASCII letter)", fset.Position(lit.Pos()), bad)
			}
			return true
		})
	}
}

// boundaryEdges returns the literal pieces of re that a \b stands directly before or
// after while they can begin (or end) with a non-ASCII letter.
func boundaryEdges(re *syntax.Regexp) []string {
	var bad []string
	var walk func(r *syntax.Regexp)
	walk = func(r *syntax.Regexp) {
		if r.Op == syntax.OpConcat {
			for i, sub := range r.Sub {
				if sub.Op != syntax.OpWordBoundary {
					continue
				}
				if i+1 < len(r.Sub) {
					bad = append(bad, edgeRunes(r.Sub[i+1], true)...)
				}
				if i > 0 {
					bad = append(bad, edgeRunes(r.Sub[i-1], false)...)
				}
			}
		}
		for _, sub := range r.Sub {
			walk(sub)
		}
	}
	walk(re)
	return bad
}

// edgeRunes returns the literals among r's possible first (or last) pieces that begin
// (or end) with a non-ASCII letter.
func edgeRunes(r *syntax.Regexp, first bool) []string {
	switch r.Op {
	case syntax.OpLiteral:
		if len(r.Rune) == 0 {
			return nil
		}
		c := r.Rune[len(r.Rune)-1]
		if first {
			c = r.Rune[0]
		}
		if c >= utf8.RuneSelf && unicode.IsLetter(c) {
			return []string{string(r.Rune)}
		}
		return nil
	case syntax.OpCapture, syntax.OpPlus, syntax.OpStar, syntax.OpQuest, syntax.OpRepeat:
		return edgeRunes(r.Sub[0], first)
	case syntax.OpAlternate:
		var out []string
		for _, sub := range r.Sub {
			out = append(out, edgeRunes(sub, first)...)
		}
		return out
	case syntax.OpConcat:
		if len(r.Sub) == 0 {
			return nil
		}
		if first {
			return edgeRunes(r.Sub[0], true)
		}
		return edgeRunes(r.Sub[len(r.Sub)-1], false)
	}
	return nil
}
