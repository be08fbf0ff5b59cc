package mailbox

import (
	"html"
	"strings"
)

// htmlToText renders an HTML document as readable plain text: the content of script,
// style, title and similar elements is dropped, block elements and <br> break lines,
// list items start with "- ", table cells are separated by spaces, entities are decoded,
// and the lines inside a <blockquote> start with one "> " per level, so that NewText
// recognises them as quoted. White space collapses as a browser would collapse it,
// except inside <pre>.
//
// It is a small scanner rather than an HTML parser (the standard library has none): it
// needs no well-formed input, never fails, and runs in time linear in len(s).
func htmlToText(s string) string {
	w := &textWriter{}
	for i := 0; i < len(s); {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			w.text(html.UnescapeString(s[i : i+j]))
			i += j
			continue
		}
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return w.String()
			}
			i += 4 + end + 3
		case len(rest) > 1 && (rest[1] == '!' || rest[1] == '?'):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return w.String()
			}
			i += end + 1
		case len(rest) > 1 && (rest[1] == '/' || isASCIILetter(rest[1])):
			name, closing, n := scanTag(rest)
			i += n
			if rawTextElements[name] && !closing {
				end := indexFold(s[i:], "</"+name)
				if end < 0 {
					return w.String()
				}
				i += end
				continue
			}
			w.tag(name, closing)
		default:
			w.text("<")
			i++
		}
	}
	return w.String()
}

func isASCIILetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// scanTag reads the tag at the start of s ("<name …>" or "</name …>") and returns its
// lower-case name, whether it closes an element, and its length. Quoted attribute values
// may hold '>'; an unterminated quote falls back to the first '>'.
func scanTag(s string) (name string, closing bool, n int) {
	i := 1
	if s[i] == '/' {
		closing = true
		i++
	}
	start := i
	for i < len(s) && (isASCIILetter(s[i]) || ('0' <= s[i] && s[i] <= '9') || s[i] == '-' || s[i] == ':') {
		i++
	}
	name = strings.ToLower(s[start:i])
	var quote byte
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			// Only a quote that opens an attribute value counts.
			if k := strings.TrimRight(s[i:j], " \t\r\n"); strings.HasSuffix(k, "=") {
				quote = c
			}
		case c == '>':
			return name, closing, j + 1
		}
	}
	if end := strings.IndexByte(s[i:], '>'); end >= 0 {
		return name, closing, i + end + 1
	}
	return name, closing, len(s)
}

// indexFold is strings.Index for an ASCII needle, ignoring case.
func indexFold(s, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// rawTextElements hold no readable text.
var rawTextElements = map[string]bool{
	"script": true, "style": true, "title": true, "template": true, "noscript": true,
	"xml": true, "svg": true, "object": true, "iframe": true,
}

// blockElements break the line before and after them: 1 for a line break, 2 for a blank
// line between paragraphs.
var blockElements = map[string]int{
	"p": 2, "h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "blockquote": 2,
	"ul": 1, "ol": 1, "dl": 1, "table": 2, "pre": 2, "hr": 2,
	"div": 1, "tr": 1, "li": 1, "dt": 1, "dd": 1, "section": 1, "article": 1,
	"header": 1, "footer": 1, "nav": 1, "aside": 1, "address": 1, "center": 1,
	"form": 1, "fieldset": 1, "figure": 1, "figcaption": 1, "main": 1, "caption": 1,
	"details": 1, "summary": 1, "body": 1, "html": 1, "tbody": 1, "thead": 1, "tfoot": 1,
}

// maxQuoteDepth caps the "> " prefixes of a line, so that deeply nested blockquotes
// cannot multiply the size of the text.
const maxQuoteDepth = 8

// textWriter accumulates rendered text line by line.
type textWriter struct {
	b         strings.Builder
	quote     int  // blockquote depth
	pre       int  // <pre> depth
	newlines  int  // line breaks owed before the next text
	space     bool // a space is owed before the next text
	lineStart bool // nothing written on the current line yet
}

func (w *textWriter) String() string { return w.b.String() }

func (w *textWriter) tag(name string, closing bool) {
	switch name {
	case "br":
		w.newlines++
		if w.newlines > 2 {
			w.newlines = 2
		}
		w.space = false
		return
	case "td", "th":
		if !closing {
			w.space = true
		}
		return
	case "blockquote":
		w.breakLine(2)
		if closing {
			if w.quote > 0 {
				w.quote--
			}
		} else {
			w.quote++
		}
		return
	case "pre":
		w.breakLine(2)
		if closing {
			if w.pre > 0 {
				w.pre--
			}
		} else {
			w.pre++
		}
		return
	}
	if n, ok := blockElements[name]; ok {
		w.breakLine(n)
		if name == "li" && !closing {
			w.write("- ")
			w.space = false
		}
	}
}

func (w *textWriter) breakLine(n int) {
	if n > w.newlines {
		w.newlines = n
	}
	w.space = false
}

// write writes s, which holds no line break, after the line breaks and space owed.
func (w *textWriter) write(s string) {
	if w.b.Len() > 0 {
		for ; w.newlines > 0; w.newlines-- {
			w.b.WriteByte('\n')
			w.lineStart = true
		}
	}
	w.newlines = 0
	if w.b.Len() == 0 {
		w.lineStart = true
	}
	if w.lineStart {
		w.b.WriteString(strings.Repeat("> ", min(w.quote, maxQuoteDepth)))
		w.lineStart = false
		w.space = false
	}
	if w.space {
		w.b.WriteByte(' ')
		w.space = false
	}
	w.b.WriteString(s)
}

// text writes character data, collapsing white space outside <pre>.
func (w *textWriter) text(s string) {
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			w.write(word.String())
			word.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '\u200b' || r == '\u200c' || r == '\ufeff' || r == '\u00ad' || r == '\u034f':
			// Invisible; mail templates pad previews with them.
		case r == '\n' && w.pre > 0:
			flush()
			w.newlines++
			w.lineStart = true
		case r == '\r' && w.pre > 0:
		case isHTMLSpace(r) && w.pre > 0:
			word.WriteRune(' ')
		case isHTMLSpace(r):
			flush()
			if !w.lineStart && w.b.Len() > 0 && w.newlines == 0 {
				w.space = true
			}
		default:
			word.WriteRune(r)
		}
	}
	flush()
}

func isHTMLSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\u00a0', '\u2007', '\u202f', '\u3000':
		return true
	}
	return false
}
