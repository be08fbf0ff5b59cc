package mailbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wneessen/go-mail"

	"supportprobe/probe"
)

// Attachment is a file attached to a Summary.
type Attachment struct {
	// Name is the file name the recipient sees, for example "supportprobe-2026-W48.csv".
	// go-mail writes it as given when it is ASCII and as an RFC 2047 encoded word
	// otherwise, and replaces control characters and any of "/\:<>?|" and '"' with '_'.
	Name string
	// ContentType is the media type, parameters allowed ("text/csv; charset=utf-8");
	// "" means application/octet-stream.
	ContentType string
	// Data is the content, sent base64-encoded, so any bytes arrive exactly.
	Data []byte
}

// Summary is the weekly summary mail: a text and an HTML rendering of the same report,
// and attachments (typically the week's CSV).
type Summary struct {
	// From is the author, an RFC 5322 address ("Support Probe <probe@example.com>").
	From string
	// To are the recipients, RFC 5322 addresses; at least one.
	To []string
	// Subject is the subject in UTF-8; it is sent RFC 2047 encoded.
	Subject string
	// Text is the text/plain alternative; it must not be empty.
	Text string
	// HTML is the text/html alternative; it must not be empty.
	HTML string
	// Attachments follow the alternatives, in order.
	Attachments []Attachment
	// MessageID is the Message-ID without angle brackets. "" makes RenderSummary and
	// SendSummary generate one at the From address's domain.
	MessageID string
	// Date is the Date header; it must be set.
	Date time.Time
}

// RenderSummary builds the summary mail with go-mail: Date, MIME-Version, Message-ID,
// Subject (RFC 2047), From and To, then
//
//	multipart/mixed
//	├─ multipart/alternative
//	│  ├─ text/plain; charset=UTF-8   (quoted-printable)
//	│  └─ text/html; charset=UTF-8    (quoted-printable)
//	└─ each attachment                (base64, Content-Disposition: attachment; filename=…)
//
// With no attachments the multipart/alternative is the whole body (go-mail writes no
// multipart/mixed of one part). Like Render, it adds no User-Agent or X-Mailer, and the
// output is 7-bit with CRLF line ends, ending in CRLF. Lines are at most 78 characters
// except the Message-ID line and, with a non-ASCII attachment name, that part's
// Content-Type and Content-Disposition lines (go-mail does not fold part headers); a name
// that would make one longer than 998 is an error.
//
// When s.MessageID is "", a new one is generated at the From domain, so two calls give
// different messages; the multipart boundaries are random too. SendSummary renders once
// and sends exactly those bytes (SendResult.Raw). It is an error when s has no Date, no
// recipient, a malformed From or To, an empty Text or HTML, an attachment without a Name
// or with a malformed ContentType, or a MessageID that is not id-left@id-right (no
// brackets, no spaces, at most 900 characters).
func RenderSummary(s Summary) ([]byte, error) {
	if s.MessageID == "" {
		id, err := newSummaryMessageID(s.From, s.Date)
		if err != nil {
			return nil, err
		}
		s.MessageID = id
	}
	if err := checkSummaryMessageID(s.MessageID); err != nil {
		return nil, err
	}
	if s.Date.IsZero() {
		return nil, errors.New("no Date")
	}
	if len(s.To) == 0 {
		return nil, errors.New("no recipients")
	}
	if s.Text == "" {
		return nil, errors.New("no Text: the text/plain alternative is required")
	}
	if s.HTML == "" {
		return nil, errors.New("no HTML: the text/html alternative is required")
	}

	m := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP))
	if err := m.From(s.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", s.From, err)
	}
	if err := m.To(s.To...); err != nil {
		return nil, fmt.Errorf("to %q: %w", s.To, err)
	}
	m.Subject(s.Subject)
	m.SetMessageIDWithValue(s.MessageID)
	m.SetDateWithValue(s.Date)
	m.SetBodyString(mail.TypeTextPlain, s.Text)
	m.AddAlternativeString(mail.TypeTextHTML, s.HTML)
	for i, a := range s.Attachments {
		ct, err := attachmentContentType(a)
		if err != nil {
			return nil, fmt.Errorf("attachment %d: %w", i+1, err)
		}
		if err := m.AttachReader(a.Name, bytes.NewReader(a.Data), mail.WithFileContentType(mail.ContentType(ct))); err != nil {
			return nil, fmt.Errorf("attachment %d %q: %w", i+1, a.Name, err)
		}
	}

	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	raw := joinBareFieldNames(buf.Bytes())
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		raw = append(raw, '\r', '\n')
	}
	// go-mail folds the message header but not the parts' headers, where an attachment's
	// encoded name goes twice.
	for line := range bytes.Lines(raw) {
		if n := len(line) - 2; n > 998 {
			return nil, fmt.Errorf("render: a line of %d characters, over the 998 limit: %.60q... (attachment name too long?)", n, line)
		}
	}
	return raw, nil
}

// SendSummary renders m once (generating its Message-ID when m.MessageID is "") and
// sends those bytes to m.To through the same SMTP conversation as Send, with the same
// retries within the sender's window, the same SendResult (AcceptedAt, Raw, Attempts)
// and the same errors: *SendError for an SMTP failure; a plain error, before any
// connection, for a bad server configuration or a summary RenderSummary refuses.
func (s *Sender) SendSummary(ctx context.Context, m Summary) (probe.SendResult, error) {
	if err := s.srv.check("smtp"); err != nil {
		return probe.SendResult{}, err
	}
	if m.MessageID == "" {
		id, err := newSummaryMessageID(m.From, m.Date)
		if err != nil {
			return probe.SendResult{}, fmt.Errorf("smtp %s: summary: %w", s.srv.Addr(), err)
		}
		m.MessageID = id
	}
	env, err := envelopeOf(probe.Inquiry{From: m.From, To: m.To})
	if err != nil {
		return probe.SendResult{}, fmt.Errorf("smtp %s: message %s: %w", s.srv.Addr(), m.MessageID, err)
	}
	raw, err := RenderSummary(m)
	if err != nil {
		return probe.SendResult{}, fmt.Errorf("smtp %s: message %s: %w", s.srv.Addr(), m.MessageID, err)
	}
	return s.sendRaw(ctx, env, raw, m.MessageID, nil)
}

// checkSummaryMessageID applies Render's rule for a Message-ID.
func checkSummaryMessageID(id string) error {
	if id == "" || len(id) > 900 || strings.ContainsAny(id, "<> \t\r\n") || !strings.Contains(id, "@") {
		return fmt.Errorf("Message-ID %q: want id-left@id-right without brackets or spaces, at most 900 characters", id)
	}
	return nil
}

// newSummaryMessageID returns "summary.DATE.RANDOM@DOMAIN", DOMAIN being from's.
func newSummaryMessageID(from string, date time.Time) (string, error) {
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return "", fmt.Errorf("from %q: %w", from, err)
	}
	domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:] // all of it if no '@'
	if domain == "" || domain == a.Address {
		return "", fmt.Errorf("from %q: no domain to generate a Message-ID at", from)
	}
	for i := 0; i < len(domain); i++ {
		if c := domain[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return "", fmt.Errorf("from %q: domain %q cannot make a Message-ID; set MessageID", from, domain)
		}
	}
	stamp := "nodate"
	if !date.IsZero() {
		stamp = date.UTC().Format("20060102T150405Z")
	}
	return "summary." + stamp + "." + strings.ToLower(rand.Text()) + "@" + domain, nil
}

// attachmentContentType checks a and returns its media type, normalized, without a name
// parameter (go-mail adds name= itself).
func attachmentContentType(a Attachment) (string, error) {
	if a.Name == "" {
		return "", errors.New("no Name")
	}
	if !utf8.ValidString(a.Name) {
		return "", fmt.Errorf("Name %q is not UTF-8", a.Name)
	}
	if a.ContentType == "" {
		return "application/octet-stream", nil
	}
	mt, params, err := mime.ParseMediaType(a.ContentType)
	if err != nil {
		return "", fmt.Errorf("%q: ContentType %q: %w", a.Name, a.ContentType, err)
	}
	if typ, sub, ok := strings.Cut(mt, "/"); !ok || typ == "" || sub == "" {
		return "", fmt.Errorf("%q: ContentType %q: want type/subtype", a.Name, a.ContentType)
	}
	if strings.HasPrefix(mt, "multipart/") || strings.HasPrefix(mt, "message/") {
		return "", fmt.Errorf("%q: ContentType %q: attach it as application/octet-stream instead", a.Name, a.ContentType)
	}
	delete(params, "name")
	ct := mime.FormatMediaType(mt, params)
	if ct == "" {
		return "", fmt.Errorf("%q: ContentType %q cannot be written back", a.Name, a.ContentType)
	}
	return ct, nil
}
