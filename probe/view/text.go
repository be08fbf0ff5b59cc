package view

import (
	"mime"
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Text for terminals, shared by the CLI's tables and the reports: vendor-controlled
// strings cleaned of what could rewrite the screen, measured in terminal columns (East
// Asian wide characters take two), cut or wrapped to a width.

// Clean makes a vendor-controlled string safe for a terminal: control characters
// (escape sequences, newlines) and bidirectional overrides, which could rewrite or
// reorder what the reader sees, become "?"; runs of space collapse.
func Clean(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == ' ':
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		case unicode.IsControl(r), r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
		space = false
	}
	return strings.TrimSpace(b.String())
}

// runeWidth is the number of terminal columns r takes: two for East Asian wide and
// fullwidth characters, none for combining marks, one otherwise.
func runeWidth(r rune) int {
	switch {
	case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || r == 0x200b:
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// TextWidth is the number of terminal columns s takes.
func TextWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// Fit cleans s and truncates it to w columns, ending in "…" when cut.
func Fit(s string, w int) string {
	s = Clean(s)
	if TextWidth(s) <= w {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		rw := runeWidth(r)
		if n+rw > w-1 {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	return b.String() + "…"
}

// Wrap breaks s into lines of at most w columns at spaces; a word longer than w is
// truncated.
func Wrap(s string, w int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(Clean(s)) {
		switch {
		case line == "":
			line = Fit(word, w)
		case TextWidth(line)+1+TextWidth(word) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = Fit(word, w)
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// Sender formats a From header for a person: RFC 2047 encoded words decoded where the
// charset is one Go knows (UTF-8, ISO-8859-1, US-ASCII; others stay encoded), and short
// says to keep only the display name when there is one, else the address.
func Sender(from string, short bool) string {
	s := from
	if d, err := new(mime.WordDecoder).DecodeHeader(from); err == nil {
		s = d
	}
	if !short {
		return s
	}
	if a, err := mail.ParseAddress(from); err == nil {
		name := a.Name // ParseAddress decodes encoded words in the name
		if name == "" {
			return a.Address
		}
		return name
	}
	return s
}
