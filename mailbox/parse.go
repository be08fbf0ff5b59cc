package mailbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"supportprobe/probe"
)

// DefaultMaxText is the cap on decoded text Parse keeps when ParseOptions.MaxText is zero.
const DefaultMaxText = 256 << 10

// ErrNoHeader is returned by Parse when the input has no header field at all, so it is
// not a mail message; the Mail returned with it holds whatever text could be read.
var ErrNoHeader = errors.New("no header fields")

// errInternal marks a panic recovered in Parse: a bug, which the fuzz test looks for.
var errInternal = errors.New("internal error")

// ParseOptions tune Parse. The zero value is ready to use.
type ParseOptions struct {
	// MaxText caps, in bytes, the decoded text kept in Mail.FullText (and the text
	// NewText is taken from); DefaultMaxText when zero or negative. Mail.Truncated
	// reports a cut.
	MaxText int
}

// Parse decodes the raw message raw (RFC 5322 with MIME, as fetched over IMAP) into a
// probe.Mail, filling every field but ReceivedAt, which the watcher sets from the
// INTERNALDATE.
//
// Parse is tolerant: it reads what it can from broken headers, address lists, dates,
// charsets, transfer encodings and MIME structures and never fails on them. Every string
// in the result is valid UTF-8. The only error is ErrNoHeader (wrapped), for input with
// no header field at all; the Mail returned with it is still filled as far as possible.
// Parse does not panic: an internal failure comes back as an error too, with the Mail
// holding at least Size.
//
// It walks the MIME tree itself rather than through go-message's reader, which stops at
// the first malformed header line or missing boundary; go-message's charset package and
// golang.org/x/text do the charset conversion. Text comes from the text/plain parts
// (from text/html converted to text when an alternative has no usable plain part, or
// when the mail has none); attachments are skipped. The text of attached messages
// (message/rfc822, a bounce's returned original) and of delivery-status parts goes to
// FullText only. A part labelled gb2312 or gbk is decoded as GB18030, its superset,
// because such mail often uses characters outside GB2312; iso-8859-1 is decoded as
// windows-1252 for the same reason. Text in an unknown charset is kept as it is, with
// bytes that are not UTF-8 replaced by U+FFFD. Header fields in raw 8-bit bytes that are
// not UTF-8 are decoded with the charset of the message's Content-Type.
//
// Parse bounds its work against mail built to exhaust it: text beyond MaxText, MIME parts
// nested deeper than 30 levels and parts after the 2,000th are not read, and Mail.Unread
// says which of these happened, for the record beside the decisions taken on the rest.
//
// Header keys are canonical in the sense of net/textproto ("Message-Id",
// "X-Ms-Exchange-Inbox-Rules-Loop"); probe.Mail.HeaderValue ignores case.
func Parse(raw []byte, opts ParseOptions) (m probe.Mail, err error) {
	m.Size = len(raw)
	defer func() {
		if r := recover(); r != nil {
			m = probe.Mail{Size: len(raw)}
			err = fmt.Errorf("parse message: %w: %v", errInternal, r)
		}
	}()
	maxText := opts.MaxText
	if maxText <= 0 {
		maxText = DefaultMaxText
	}

	h, body := readHeader(raw, true)
	mt, ctParams := contentType(h)
	fallback := ctParams["charset"]

	m.Header = make(map[string][]string, len(h))
	for _, f := range h {
		k := textproto.CanonicalMIMEHeaderKey(validUTF8([]byte(f.name)))
		m.Header[k] = append(m.Header[k], decodeHeaderText(f.value, fallback))
	}

	if ids := parseMessageIDs(rawString(h.get("Message-Id"), fallback)); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = parseMessageIDs(joinValues(h.values("In-Reply-To"), fallback))
	m.References = parseMessageIDs(joinValues(h.values("References"), fallback))

	from := h.get("From")
	if from == nil {
		from = h.get("Sender")
	}
	if addrs := parseAddresses([][]byte{from}, fallback); len(addrs) > 0 {
		m.From = addrs[0]
	}
	m.FromName = displayName(rawString(from, fallback))
	m.To = parseAddresses(h.values("To"), fallback)
	m.Cc = parseAddresses(h.values("Cc"), fallback)
	m.DeliveredTo = parseAddresses(h.values("Delivered-To"), fallback)
	m.Subject = decodeHeaderText(h.get("Subject"), fallback)
	m.HeaderDate = parseDate(rawString(h.get("Date"), fallback))

	w := &walker{max: maxText}
	pieces := w.walk(h, body, 0, false)
	var primary, full strings.Builder
	for _, p := range pieces {
		t := strings.TrimRight(strings.TrimLeft(p.text, "\n"), " \t\n")
		if strings.TrimSpace(t) == "" {
			continue
		}
		if !p.embedded {
			appendText(&primary, t)
		}
		appendText(&full, t)
	}
	var cut bool
	m.FullText, cut = capText(full.String(), maxText)
	m.Truncated = w.truncated || cut
	m.Unread = w.unread(m.Truncated, maxText)
	primaryText, _ := capText(primary.String(), maxText)
	m.NewText = NewText(primaryText)

	reportType := ""
	if mt == "multipart/report" {
		reportType = strings.ToLower(strings.TrimSpace(ctParams["report-type"]))
		if reportType == "" {
			reportType = "unspecified"
		}
	}
	switch {
	case reportType != "":
	case w.hasDSN:
		reportType = "delivery-status"
	case w.feedback != nil:
		reportType = "feedback-report"
	case w.mdn != nil:
		reportType = "disposition-notification"
	}
	if reportType != "" || looksLikeBounce(m.From, rawString(from, fallback), m.Subject) {
		m.Report = w.report(m.Subject, primaryText, m.FullText)
		m.Report.ReportType = reportType
	}

	if len(h) == 0 {
		return m, fmt.Errorf("parse message: %w", ErrNoHeader)
	}
	return m, nil
}

func appendText(b *strings.Builder, t string) {
	if b.Len() > 0 {
		b.WriteString("\n\n")
	}
	b.WriteString(t)
}

// capText cuts s to at most max bytes, at a character boundary.
func capText(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i], true
}

// validUTF8 returns b as a string, each run of bytes that are not UTF-8 replaced by U+FFFD.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// ---- Header fields ----

// field is a header field as found: its name and its unfolded raw value, which may hold
// encoded-words or raw 8-bit bytes.
type field struct {
	name  string
	value []byte
}

type header []field

// get returns the value of the first field called name (any case), or nil.
func (h header) get(name string) []byte {
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return nil
}

// values returns the values of all the fields called name (any case).
func (h header) values(name string) [][]byte {
	var vs [][]byte
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// nextLine returns the line starting at b[i] without its line end, and the index of the
// line after it.
func nextLine(b []byte, i int) (line []byte, next int) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		line, next = b[i:], len(b)
	} else {
		line, next = b[i:i+j], i+j+1
	}
	return bytes.TrimSuffix(line, []byte("\r")), next
}

// splitField splits a header line "Name: value" (white space before the colon allowed, as
// in RFC 5322's obsolete syntax).
func splitField(line []byte) (name string, value []byte, ok bool) {
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return "", nil, false
	}
	n := bytes.TrimRight(line[:c], " \t")
	if len(n) == 0 {
		return "", nil, false
	}
	for _, ch := range n {
		if ch <= ' ' || ch > '~' {
			return "", nil, false
		}
	}
	return string(n), line[c+1:], true
}

// readHeader reads the header fields at the start of b and returns them with the body
// after the blank line. A line that is not a field is skipped when a field follows it and
// otherwise taken as the start of a body that lacks the blank line before it. For a whole
// message (top), leading blank lines and an mbox "From " line are skipped first.
func readHeader(b []byte, top bool) (header, []byte) {
	i := 0
	if top {
		for i < len(b) {
			line, next := nextLine(b, i)
			if len(bytes.TrimSpace(line)) != 0 {
				if bytes.HasPrefix(line, []byte("From ")) {
					i = next
				}
				break
			}
			i = next
		}
	}
	var h header
	for i < len(b) {
		line, next := nextLine(b, i)
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			return h, b[next:]
		case line[0] == ' ' || line[0] == '\t':
			if len(h) > 0 {
				f := &h[len(h)-1]
				f.value = append(f.value, line...)
			}
		default:
			name, value, ok := splitField(line)
			if ok {
				h = append(h, field{name: name, value: append([]byte(nil), value...)})
				break
			}
			if next >= len(b) {
				return h, b[i:]
			}
			nl, _ := nextLine(b, next)
			if _, _, ok := splitField(nl); !ok {
				return h, b[i:]
			}
		}
		i = next
	}
	return h, b[len(b):]
}

// rawString returns a raw header value as text: UTF-8 as is, other 8-bit bytes decoded
// with the fallback charset (the message's), encoded-words left alone.
func rawString(v []byte, fallback string) string {
	if utf8.Valid(v) {
		return string(v)
	}
	return decodeCharset(fallback, v)
}

func joinValues(vs [][]byte, fallback string) string {
	var parts []string
	for _, v := range vs {
		parts = append(parts, rawString(v, fallback))
	}
	return strings.Join(parts, " ")
}

// encodedWord matches an RFC 2047 encoded-word; the charset may carry an RFC 2231
// language ("utf-8*en").
var encodedWord = regexp.MustCompile(`=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=`)

// decodeHeaderText decodes an unstructured header value: encoded-words are decoded, and
// adjacent ones in one charset are joined before the charset is decoded, so a character
// split across two words comes out whole. Encoded-words are also recognised where
// RFC 2047 does not allow them (inside quotes, next to other text), as mail clients
// write them there. The result is trimmed, with control characters turned to spaces.
func decodeHeaderText(v []byte, fallback string) string {
	matches := encodedWord.FindAllSubmatchIndex(v, -1)
	var b strings.Builder
	var runCharset string
	var run []byte
	inRun := false
	flush := func() {
		if inRun {
			b.WriteString(decodeCharset(runCharset, run))
			run, inRun = nil, false
		}
	}
	prev := 0
	for _, m := range matches {
		lit := v[prev:m[0]]
		if !inRun || len(bytes.TrimSpace(lit)) > 0 {
			flush()
			b.WriteString(rawString(lit, fallback))
		}
		cs := normCharset(string(v[m[2]:m[3]]))
		text := v[m[6]:m[7]]
		var data []byte
		if v[m[4]] == 'b' || v[m[4]] == 'B' {
			data = decodeBase64(text)
		} else {
			data = decodeQ(text)
		}
		if inRun && cs != runCharset {
			flush()
		}
		inRun, runCharset = true, cs
		run = append(run, data...)
		prev = m[1]
	}
	flush()
	b.WriteString(rawString(v[prev:], fallback))
	return cleanHeaderText(b.String())
}

// cleanHeaderText turns control characters into spaces and trims.
func cleanHeaderText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// decodeQ decodes the "Q" encoding of RFC 2047; a bad escape is kept as it is.
func decodeQ(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// decodeBase64 decodes base64 leniently: characters outside the alphabet are skipped,
// the URL-safe alphabet is accepted, padding may be missing, and data after padding (two
// encoded chunks run together) is decoded as a new chunk.
func decodeBase64(s []byte) []byte {
	out := make([]byte, 0, len(s)*3/4+3)
	chunk := make([]byte, 0, len(s))
	flush := func() {
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1]
		}
		dec := make([]byte, base64.RawStdEncoding.DecodedLen(len(chunk)))
		n, _ := base64.RawStdEncoding.Decode(dec, chunk)
		out = append(out, dec[:n]...)
		chunk = chunk[:0]
	}
	for _, c := range s {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
		case c == '-':
			c = '+'
		case c == '_':
			c = '/'
		case c == '=':
			if len(chunk) > 0 {
				flush()
			}
			continue
		default:
			continue
		}
		chunk = append(chunk, c)
	}
	flush()
	return out
}

// decodeQuotedPrintable decodes a quoted-printable body leniently: a bad escape is kept
// as it is and trailing white space is dropped.
func decodeQuotedPrintable(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		line, next := nextLine(b, i)
		line = bytes.TrimRight(line, " \t")
		soft := bytes.HasSuffix(line, []byte("="))
		if soft {
			line = line[:len(line)-1]
		}
		out = append(out, decodeQPLine(line)...)
		if !soft && b[next-1] == '\n' {
			out = append(out, '\n')
		}
		i = next
	}
	return out
}

func decodeQPLine(s []byte) []byte {
	if bytes.IndexByte(s, '=') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// ---- Charsets ----

func normCharset(label string) string {
	l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"' `))
	if i := strings.IndexByte(l, '*'); i >= 0 {
		l = l[:i]
	}
	return l
}

// charsets decodes the labels that need a choice other than the registry's: nil means
// UTF-8 (or ASCII, its subset), kept as is.
var charsets = map[string]encoding.Encoding{
	"": nil, "utf-8": nil, "utf8": nil, "us-ascii": nil, "ascii": nil, "us": nil,
	"ansi_x3.4-1968": nil, "unicode-1-1-utf-8": nil, "x-unknown": nil,
	"unknown-8bit": nil, "unknown": nil, "default": nil, "x-user-defined": nil,

	// Mail labelled gb2312 is often GBK: GB18030 decodes all three.
	"gb2312": simplifiedchinese.GB18030, "gbk": simplifiedchinese.GB18030,
	"gb18030": simplifiedchinese.GB18030, "cp936": simplifiedchinese.GB18030,
	"x-gbk": simplifiedchinese.GB18030, "euc-cn": simplifiedchinese.GB18030,
	"x-euc-cn": simplifiedchinese.GB18030, "csgb2312": simplifiedchinese.GB18030,
	"gb_2312-80": simplifiedchinese.GB18030, "gb2312-80": simplifiedchinese.GB18030,
	"chinese": simplifiedchinese.GB18030, "windows-936": simplifiedchinese.GB18030,
	"ms936": simplifiedchinese.GB18030, "csgbk": simplifiedchinese.GB18030,
	"gb_2312": simplifiedchinese.GB18030, "iso-ir-58": simplifiedchinese.GB18030,
	// Python's email package (and so Mailman 2 and many scripts) writes its codec
	// names: "eucgb2312_cn", "big5_tw".
	"eucgb2312_cn": simplifiedchinese.GB18030, "euc_cn": simplifiedchinese.GB18030,

	"big5": traditionalchinese.Big5, "x-big5": traditionalchinese.Big5,
	"cn-big5": traditionalchinese.Big5, "csbig5": traditionalchinese.Big5,
	"big5-hkscs": traditionalchinese.Big5, "cp950": traditionalchinese.Big5,
	"windows-950": traditionalchinese.Big5, "big5_tw": traditionalchinese.Big5,

	// ISO-8859-1's C1 range is unused in mail; windows-1252 puts quotes and dashes there.
	"iso-8859-1": charmap.Windows1252, "iso8859-1": charmap.Windows1252,
	"iso_8859-1": charmap.Windows1252, "latin1": charmap.Windows1252,
	"l1": charmap.Windows1252, "cp819": charmap.Windows1252,
	"windows-1252": charmap.Windows1252, "cp1252": charmap.Windows1252,
	"x-cp1252": charmap.Windows1252,

	"shift_jis": japanese.ShiftJIS, "shift-jis": japanese.ShiftJIS,
	"sjis": japanese.ShiftJIS, "x-sjis": japanese.ShiftJIS, "ms_kanji": japanese.ShiftJIS,
	"cp932": japanese.ShiftJIS, "windows-31j": japanese.ShiftJIS, "ms932": japanese.ShiftJIS,
	"csshiftjis":  japanese.ShiftJIS,
	"iso-2022-jp": japanese.ISO2022JP, "csiso2022jp": japanese.ISO2022JP,
	"iso-2022-jp-1": japanese.ISO2022JP, "iso-2022-jp-2": japanese.ISO2022JP,
	"euc-jp": japanese.EUCJP, "x-euc-jp": japanese.EUCJP,

	"euc-kr": korean.EUCKR, "ks_c_5601-1987": korean.EUCKR, "ks_c_5601": korean.EUCKR,
	"cp949": korean.EUCKR, "windows-949": korean.EUCKR, "korean": korean.EUCKR,
	"csksc56011987": korean.EUCKR,
}

// decodeCharset converts data in the charset label to UTF-8. Labels not in charsets go
// to go-message's charset package (IANA and WHATWG names: windows-125x, iso-8859-x,
// koi8-r, utf-16, …). An unknown label, or a decoder that fails, leaves the bytes as they
// are, with the bytes that are not UTF-8 replaced.
func decodeCharset(label string, data []byte) string {
	name := normCharset(label)
	if enc, ok := charsets[name]; ok {
		if enc == nil {
			return validUTF8(data)
		}
		out, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			return validUTF8(data)
		}
		return validUTF8(out)
	}
	r, err := charset.Reader(name, bytes.NewReader(data))
	if err != nil {
		return validUTF8(data)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return validUTF8(data)
	}
	return validUTF8(out)
}

// ---- Addresses, message IDs, dates ----

// addressParser parses address lists; encoded-words in display names pass through
// undecoded, since only the addresses are kept.
var addressParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// looseAddress finds addresses in a list that net/mail cannot parse.
var looseAddress = regexp.MustCompile(`[^\s<>()\[\]",;:@]+@[^\s<>()\[\]",;:@]+`)

// parseAddresses returns the addresses in the header values vs, lower case, without
// duplicates.
func parseAddresses(vs [][]byte, fallback string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		a = strings.ToLower(strings.Trim(strings.TrimSpace(a), "."))
		if a == "" || seen[a] {
			return
		}
		seen[a] = true
		out = append(out, a)
	}
	for _, v := range vs {
		s := strings.TrimSpace(rawString(v, fallback))
		if s == "" {
			continue
		}
		list, err := addressParser.ParseList(s)
		if err == nil {
			for _, a := range list {
				add(a.Address)
			}
			continue
		}
		for _, a := range looseAddress.FindAllString(s, -1) {
			add(a)
		}
	}
	return out
}

// displayName returns the decoded display name of the first address in s: the phrase
// before "<", or the comment after a bare address ("ann@example.com (Ann)").
func displayName(s string) string {
	var name string
	quoted, escaped := false, false
	found := false
	for i := 0; i < len(s) && !found; i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			name, found = s[:i], true
		case c == ',' && !quoted:
			s = s[:i]
		}
	}
	if !found {
		open := strings.IndexByte(s, '(')
		end := strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			return ""
		}
		name = s[open+1 : end]
	}
	name = unquote(strings.TrimSpace(name))
	name = decodeHeaderText([]byte(name), "")
	name = unquote(name)
	return strings.Join(strings.Fields(name), " ")
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
		s = strings.ReplaceAll(s, `\"`, `"`)
		s = strings.ReplaceAll(s, `\\`, `\`)
	}
	return strings.TrimSpace(s)
}

// removeComments drops RFC 5322 comments (nested parentheses) outside angle brackets and
// quotes.
func removeComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	depth, angle := 0, false
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case depth > 0 && c == '\\' && i+1 < len(s):
			i++
		case depth > 0 && c == '(':
			depth++
		case depth > 0 && c == ')':
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth > 0:
		case c == '"' && !angle:
			quoted = !quoted
			b.WriteByte(c)
		case c == '<' && !quoted:
			angle = true
			b.WriteByte(c)
		case c == '>' && !quoted:
			angle = false
			b.WriteByte(c)
		case c == '(' && !angle && !quoted:
			depth = 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// parseMessageIDs returns the message IDs in a Message-ID, In-Reply-To or References
// value, without brackets, in order and without duplicates. It accepts IDs separated by
// commas or nothing at all, IDs without brackets (a bare word holding "@"), folded
// IDs (white space inside brackets is dropped), comments and a missing ">". Words
// without "@" outside brackets (In-Reply-To: "Your message of …") are ignored.
func parseMessageIDs(s string) []string {
	s = removeComments(s)
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.Join(strings.Fields(id), "")
		id = strings.Trim(id, "<>")
		if id == "" || seen[id] {
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	isSep := func(c byte) bool {
		return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ';'
	}
	gt := -1 // index of the next '>' at or after i, or len(s); kept to stay linear
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isSep(c):
			i++
		case c == '<':
			if gt <= i {
				gt = strings.IndexByte(s[i+1:], '>')
				if gt < 0 {
					gt = len(s)
				} else {
					gt += i + 1
				}
			}
			if lt := strings.IndexByte(s[i+1:gt], '<'); gt < len(s) && lt < 0 {
				add(s[i+1 : gt])
				i = gt + 1
				continue
			}
			j := i + 1
			for j < len(s) && !isSep(s[j]) && s[j] != '<' {
				j++
			}
			add(s[i+1 : j])
			i = j
		default:
			j := i
			for j < len(s) && !isSep(s[j]) && s[j] != '<' {
				j++
			}
			if w := s[i:j]; strings.Contains(w, "@") && !strings.Contains(w, `"`) {
				add(w)
			}
			i = j
		}
	}
	return ids
}

var (
	weekdayPrefix = regexp.MustCompile(`^(?i:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+`)
	zoneColon     = regexp.MustCompile(`([+-]\d\d):(\d\d)$`)
	zoneGMT       = regexp.MustCompile(`(?i)\s(?:gmt|utc)\s?([+-]\d{4})$`)
	zoneTrailing  = regexp.MustCompile(`([+-]\d{4})\s+[A-Za-z]{1,5}$`)
	zoneShort     = regexp.MustCompile(`\s([+-])(\d)(\d\d)$`)
)

// namedZones are the zone names RFC 5322 allows (obsolete syntax, where CST is US
// Central, not China) and a few common unambiguous ones.
var namedZones = map[string]string{
	"UT": "+0000", "UTC": "+0000", "GMT": "+0000", "Z": "+0000",
	"EST": "-0500", "EDT": "-0400", "CST": "-0600", "CDT": "-0500",
	"MST": "-0700", "MDT": "-0600", "PST": "-0800", "PDT": "-0700",
	"CET": "+0100", "CEST": "+0200", "BST": "+0100", "JST": "+0900", "KST": "+0900",
	"HKT": "+0800", "SGT": "+0800",
}

var dateLayouts = []string{
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04 -0700",
	"2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04 -0700",
	"2 January 2006 15:04:05 -0700",
	"2 January 2006 15:04 -0700",
	"Jan 2 2006 15:04:05 -0700",
	"January 2 2006 15:04:05 -0700",
	"Jan 2 15:04:05 -0700 2006",
	"Jan 2 15:04:05 2006 -0700",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05-0700",
	"2006-01-02 15:04 -0700",
	"2006/01/02 15:04:05 -0700",
	"02.01.2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"Jan 2 15:04:05 2006",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006/01/02 15:04:05",
}

// parseDate parses a Date header leniently; the zero time when nothing fits. A date
// without a zone is taken as UTC.
func parseDate(s string) time.Time {
	s = strings.Join(strings.Fields(removeComments(s)), " ")
	if s == "" {
		return time.Time{}
	}
	// time.Parse would give a zone name it does not know the offset of, and one it only
	// knows from the local zone, a zero offset.
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		if z, ok := namedZones[strings.ToUpper(s[i+1:])]; ok {
			s = s[:i+1] + z
		}
	}
	if t, err := mail.ParseDate(s); err == nil {
		return t
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	s = weekdayPrefix.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, ",", " ")
	s = strings.TrimRight(strings.Join(strings.Fields(s), " "), ".")
	s = zoneGMT.ReplaceAllString(s, " $1")
	s = zoneTrailing.ReplaceAllString(s, "$1")
	s = zoneColon.ReplaceAllString(s, "$1$2")
	s = zoneShort.ReplaceAllString(s, " ${1}0$2$3")
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// ---- MIME ----

// contentType returns the media type (lower case) and parameters of h's Content-Type,
// text/plain when absent. Parameters mime.ParseMediaType rejects are read loosely.
func contentType(h header) (string, map[string]string) {
	v := h.get("Content-Type")
	if v == nil {
		return "text/plain", map[string]string{}
	}
	return parseMediaType(validUTF8(v))
}

func parseMediaType(v string) (string, map[string]string) {
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params
	}
	parts := strings.Split(v, ";")
	mt = strings.ToLower(strings.Join(strings.Fields(parts[0]), ""))
	params = map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		k = strings.TrimSuffix(k, "*")
		val = strings.TrimSpace(val)
		val = strings.Trim(val, `"`)
		if k != "" {
			if _, dup := params[k]; !dup {
				params[k] = val
			}
		}
	}
	return mt, params
}

func decodeTransfer(h header, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(validUTF8(h.get("Content-Transfer-Encoding")))) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		return decodeQuotedPrintable(body)
	}
	return body
}

// splitMultipart returns the bodies of the parts of a multipart body. A missing closing
// delimiter ends the last part at the end of the body; a missing boundary parameter is
// guessed from the first line that looks like a delimiter. It returns nil when no
// delimiter is found.
func splitMultipart(body []byte, boundary string) [][]byte {
	if boundary == "" {
		for i := 0; i < len(body); {
			line, next := nextLine(body, i)
			if bytes.HasPrefix(line, []byte("--")) && len(bytes.TrimSpace(line)) > 2 {
				boundary = string(bytes.TrimSpace(line[2:]))
				break
			}
			i = next
		}
		if boundary == "" {
			return nil
		}
	}
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	for i := 0; i < len(body); {
		line, next := nextLine(body, i)
		if rest, ok := bytes.CutPrefix(line, delim); ok {
			closing := bytes.HasPrefix(rest, []byte("--"))
			if closing {
				rest = rest[2:]
			}
			if len(bytes.Trim(rest, " \t")) == 0 {
				if start >= 0 {
					end := i
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
				}
				if closing {
					return parts
				}
				start = next
			}
		}
		i = next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts
}

// The walk stops descending past these, against mail built to exhaust the parser.
const (
	maxDepth = 30
	maxParts = 2000
)

// piece is some decoded text of a message: from a text/plain part (plain) or not, and
// from inside an attached message or a report (embedded, FullText only) or not.
type piece struct {
	text     string
	plain    bool
	embedded bool
}

// walker walks a MIME tree collecting text and what a delivery report says.
type walker struct {
	max       int
	parts     int
	truncated bool
	// tooDeep and tooMany say the walk left parts unread at maxDepth or maxParts.
	tooDeep, tooMany bool
	// hasDSN says a message/delivery-status part was found outside attached messages,
	// and dsn holds the field groups of the first.
	hasDSN bool
	dsn    []header
	// feedback and mdn are the fields of the first message/feedback-report (RFC 5965)
	// and message/disposition-notification (RFC 8098) part outside attached messages.
	feedback, mdn header
	// original is the header of the first attached message (message/rfc822) or
	// attached header (text/rfc822-headers) outside attached messages.
	original header
}

func (w *walker) walk(h header, body []byte, depth int, embedded bool) []piece {
	w.parts++
	if depth > maxDepth || w.parts > maxParts {
		w.tooDeep = w.tooDeep || depth > maxDepth
		w.tooMany = w.tooMany || w.parts > maxParts
		return nil
	}
	mt, params := contentType(h)
	disp, _ := parseMediaType(validUTF8(h.get("Content-Disposition")))
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		parts := splitMultipart(body, params["boundary"])
		if parts == nil {
			return w.text(h, body, "text/plain", params, embedded)
		}
		if mt == "multipart/alternative" {
			return w.alternative(parts, depth, embedded)
		}
		var out []piece
		for _, p := range parts {
			ph, pb := readHeader(p, false)
			out = append(out, w.walk(ph, pb, depth+1, embedded)...)
		}
		return out
	case mt == "message/rfc822" || mt == "message/global":
		ih, ib := readHeader(decodeTransfer(h, body), true)
		if !embedded && w.original == nil {
			w.original = ih
		}
		var sum []string
		for _, k := range []string{"From", "Date", "Subject", "Message-Id"} {
			if v := ih.get(k); v != nil {
				sum = append(sum, k+": "+decodeHeaderText(v, ""))
			}
		}
		out := []piece{{text: w.capPiece(strings.Join(sum, "\n")), plain: true, embedded: true}}
		return append(out, w.walk(ih, ib, depth+1, true)...)
	case mt == "text/rfc822-headers" || mt == "message/rfc822-headers" || mt == "message/global-headers":
		data := decodeTransfer(h, body)
		if ih, _ := readHeader(data, true); !embedded && w.original == nil {
			w.original = ih
		}
		return []piece{{text: w.capPiece(normalizeText(validUTF8(data))), plain: true, embedded: true}}
	case mt == "message/delivery-status" || mt == "message/global-delivery-status":
		data := decodeTransfer(h, body)
		if !embedded && !w.hasDSN {
			w.hasDSN, w.dsn = true, deliveryStatusGroups(data)
		}
		return []piece{{text: w.capPiece(normalizeText(validUTF8(data))), plain: true, embedded: true}}
	case mt == "message/feedback-report" || mt == "message/disposition-notification" ||
		mt == "message/global-disposition-notification":
		data := decodeTransfer(h, body)
		if !embedded {
			g, _ := readHeader(data, true)
			if mt == "message/feedback-report" && w.feedback == nil {
				w.feedback = g
			} else if mt != "message/feedback-report" && w.mdn == nil {
				w.mdn = g
			}
		}
		return []piece{{text: w.capPiece(normalizeText(validUTF8(data))), plain: true, embedded: true}}
	case disp == "attachment":
		return nil
	case mt == "text/plain" || mt == "text/html" || mt == "text" || mt == "":
		return w.text(h, body, mt, params, embedded)
	}
	return nil
}

// unread says what the walk left out, for probe.Mail.Unread; truncated says the text
// was cut at maxText.
func (w *walker) unread(truncated bool, maxText int) string {
	var why []string
	if truncated {
		why = append(why, fmt.Sprintf("text cut at %d KiB", maxText>>10))
	}
	if w.tooDeep {
		why = append(why, fmt.Sprintf("MIME parts nested deeper than %d levels not read", maxDepth))
	}
	if w.tooMany {
		why = append(why, fmt.Sprintf("MIME parts after the first %d not read", maxParts))
	}
	return strings.Join(why, "; ")
}

// alternative returns the text of the best alternative: the first with plain text,
// else the first with any text (HTML converted).
func (w *walker) alternative(parts [][]byte, depth int, embedded bool) []piece {
	var any []piece
	for _, p := range parts {
		ph, pb := readHeader(p, false)
		ps := w.walk(ph, pb, depth+1, embedded)
		hasText, hasPlain := false, false
		for _, x := range ps {
			if strings.TrimSpace(x.text) != "" && !x.embedded {
				hasText = true
				hasPlain = hasPlain || x.plain
			}
		}
		if hasPlain {
			return ps
		}
		if hasText && any == nil {
			any = ps
		}
	}
	return any
}

var metaCharset = regexp.MustCompile(`(?i)<meta[^>]*charset\s*=\s*["']?\s*([a-z0-9_.:-]+)`)

func (w *walker) text(h header, body []byte, mt string, params map[string]string, embedded bool) []piece {
	data := decodeTransfer(h, body)
	cs, hasCharset := params["charset"]
	html := mt == "text/html"
	if html && !hasCharset {
		head := data
		if len(head) > 4096 {
			head = head[:4096]
		}
		if m := metaCharset.FindSubmatch(head); m != nil {
			cs = string(m[1])
		}
	}
	s := strings.TrimPrefix(normalizeText(decodeCharset(cs, data)), "\ufeff")
	if html {
		s = htmlToText(s)
	} else if strings.EqualFold(params["format"], "flowed") {
		s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
	}
	return []piece{{text: w.capPiece(s), plain: !html, embedded: embedded}}
}

// normalizeText turns line ends into "\n" and drops NUL bytes.
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\x00", "")
}

// capPiece cuts one part's text at the cap, so that what is kept of a huge part, and the
// work on it after decoding (joining, quote stripping), is bounded by the cap.
func (w *walker) capPiece(s string) string {
	s, cut := capText(s, w.max)
	w.truncated = w.truncated || cut
	return s
}

// unflow joins the lines of format=flowed text (RFC 3676) that the sender's client
// wrapped, so that a wrapped attribution or a token split over two lines reads whole.
func unflow(s string, delSp bool) string {
	var out []string
	var cur strings.Builder
	curDepth, open := 0, false
	flush := func() {
		prefix := ""
		if curDepth > 0 {
			prefix = strings.Repeat(">", curDepth) + " "
		}
		out = append(out, prefix+cur.String())
		cur.Reset()
		open = false
	}
	for _, line := range strings.Split(s, "\n") {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := strings.TrimPrefix(line[depth:], " ")
		if open && depth != curDepth {
			flush()
		}
		curDepth = depth
		if strings.HasSuffix(content, " ") && content != "-- " {
			if delSp {
				content = content[:len(content)-1]
			}
			cur.WriteString(content)
			open = true
			continue
		}
		cur.WriteString(content)
		flush()
	}
	if open {
		flush()
	}
	return strings.Join(out, "\n")
}

// ---- Delivery reports ----

// deliveryStatusGroups parses the body of a message/delivery-status part (RFC 3464): a
// per-message group, then one group per recipient, separated by blank lines. It returns
// the groups.
func deliveryStatusGroups(b []byte) []header {
	var groups []header
	var cur header
	for i := 0; i < len(b); {
		line, next := nextLine(b, i)
		i = next
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			if len(cur) > 0 {
				groups = append(groups, cur)
				cur = nil
			}
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) > 0 {
				f := &cur[len(cur)-1]
				f.value = append(f.value, line...)
			}
		default:
			if name, value, ok := splitField(line); ok {
				cur = append(cur, field{name: name, value: append([]byte(nil), value...)})
			}
		}
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

var (
	bounceSubject = regexp.MustCompile(`(?i)undelivered mail returned to sender|delivery status notification \((failure|delay)\)|^undeliverable\b|^undelivered\b|mail delivery (failed|failure|subsystem)|delivery failure|^returned mail\b|failure notice|delivery has failed|could not be delivered|^delivery (failed|delayed)|^warning: could not send message|退信|未送达|无法送达|无法投递|投递失败|退回|發送失敗|無法傳遞|未能送达`)
	// replyPrefix is a reply's or forward's subject prefix, after any tags a help desk
	// puts first ("[#48123577] 回复：…", "[Vendor] Re: …").
	replyPrefix  = regexp.MustCompile(`(?i)^\s*(?:[\[【][^\]】\n]{0,60}[\]】]\s*)*(re|fw|fwd|aw|wg|tr|sv|vs|antw|rv|回复|回覆|答复|转发|轉寄)\s*[:：]`)
	statusCode   = regexp.MustCompile(`\b([245]\.\d{1,3}\.\d{1,3})\b`)
	delaySubject = regexp.MustCompile(`(?i)delay|延迟|延遲|warning`)
	// gaveUp is how bounces without a DSN say delivery was abandoned (qmail, Exim,
	// Sendmail, Exchange wording).
	gaveUp = regexp.MustCompile(`(?i)i'?ve given up|not going to try again|i'?m giving up|gave up|giving up on|permanent (?:error|failure|fatal)|retry (?:timeout|time) (?:exceeded|reached)|wasn't able to deliver|delivery has failed|message was not delivered|放弃投递|放棄投遞|永久性错误`)
)

// looksLikeBounce recognises a bounce that is not a standard DSN by its sender (from is
// the address, rawFrom the whole field, for "MAILER-DAEMON (Mail Delivery System)"
// without a domain) or its subject.
func looksLikeBounce(from, rawFrom, subject string) bool {
	local, _, _ := strings.Cut(from, "@")
	if strings.HasPrefix(local, "mailer-daemon") || local == "postmaster" || local == "mail-daemon" ||
		from == "" && strings.Contains(strings.ToLower(rawFrom), "mailer-daemon") {
		return true
	}
	return !replyPrefix.MatchString(subject) && bounceSubject.MatchString(subject)
}

// report builds the delivery report from the delivery-status part when there is one
// (the first recipient whose action is "failed", else the first recipient). For a bounce
// without one, Status is the first status code ("5.1.1") in its text and Diagnostic the
// line holding it; Action is "failed" or "delayed" by the status class or the subject, or
// "" when neither tells. OriginalMessageID comes from the attached message or headers,
// else from a "Message-ID:" line quoted in the text. text is the bounce's own text
// (without attached messages), full all of it.
func (w *walker) report(subject, text, full string) *probe.DeliveryReport {
	r := &probe.DeliveryReport{}
	var chosen header
	for _, g := range w.dsn {
		if g.get("Action") == nil && g.get("Status") == nil && g.get("Final-Recipient") == nil {
			continue
		}
		if chosen == nil {
			chosen = g
		}
		if strings.EqualFold(strings.TrimSpace(validUTF8(g.get("Action"))), "failed") {
			chosen = g
			break
		}
	}
	for _, g := range w.dsn {
		if a := strings.ToLower(firstWord(decodeHeaderText(g.get("Action"), ""))); a != "" {
			r.Actions = append(r.Actions, a)
		}
	}
	switch {
	case w.feedback != nil:
		r.Feedback = strings.TrimSpace(decodeHeaderText(w.feedback.get("Feedback-Type"), ""))
	case w.mdn != nil:
		r.Feedback = strings.TrimSpace(decodeHeaderText(w.mdn.get("Disposition"), ""))
		if ids := parseMessageIDs(rawString(w.mdn.get("Original-Message-Id"), "")); len(ids) > 0 {
			r.OriginalMessageID = ids[0]
		}
	}
	if chosen != nil {
		r.Action = strings.ToLower(firstWord(decodeHeaderText(chosen.get("Action"), "")))
		st := decodeHeaderText(chosen.get("Status"), "")
		if m := statusCode.FindString(st); m != "" {
			st = m
		}
		r.Status = st
		r.Diagnostic = diagnostic(decodeHeaderText(chosen.get("Diagnostic-Code"), ""))
	}
	if r.Status == "" && !w.hasDSN {
		for _, line := range strings.Split(text, "\n") {
			if m := statusCode.FindString(line); m != "" {
				r.Status = m
				r.Diagnostic, _ = capText(strings.TrimSpace(line), 500)
				break
			}
		}
	}
	if !w.hasDSN {
		r.GaveUp = gaveUp.MatchString(text)
	}
	if r.Action == "" && !w.hasDSN && w.feedback == nil && w.mdn == nil {
		// A bounce without a DSN states no action; infer one only from what it says: a
		// server that says it gave up failed, whatever the class of its status code.
		switch {
		case r.GaveUp, strings.HasPrefix(r.Status, "5"):
			r.Action = "failed"
		case strings.HasPrefix(r.Status, "4"), delaySubject.MatchString(subject):
			r.Action = "delayed"
		case bounceSubject.MatchString(subject):
			r.Action = "failed"
		}
	}
	if w.original != nil && r.OriginalMessageID == "" {
		if ids := parseMessageIDs(rawString(w.original.get("Message-Id"), "")); len(ids) > 0 {
			r.OriginalMessageID = ids[0]
		}
	}
	if r.OriginalMessageID == "" {
		r.OriginalMessageID = quotedMessageID(full)
	}
	return r
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// diagnostic strips the type ("smtp;") from a Diagnostic-Code and collapses white space.
func diagnostic(s string) string {
	if typ, rest, ok := strings.Cut(s, ";"); ok && !strings.ContainsAny(strings.TrimSpace(typ), " \t") {
		s = rest
	}
	return strings.Join(strings.Fields(s), " ")
}

// quotedMessageID finds the Message-ID of a returned message quoted in a bounce's text:
// the first "Message-ID:" line, its value possibly on the next line.
func quotedMessageID(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = strings.TrimLeft(l, " \t>")
		name, v, ok := strings.Cut(l, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "Message-Id") {
			continue
		}
		if strings.TrimSpace(v) == "" && i+1 < len(lines) {
			v = lines[i+1]
		}
		if ids := parseMessageIDs(v); len(ids) > 0 {
			return ids[0]
		}
	}
	return ""
}
