package probe

import (
	"strings"
	"time"
)

// Mail is one inbound message as the instrument sees it: decoded headers and text, with
// the IMAP server's arrival time. mailbox.Parse builds it from raw bytes; matching and
// classification work on it alone, so both are pure functions of what is stored.
type Mail struct {
	// MessageID, InReplyTo and References are message IDs without angle brackets, as
	// found (parsed tolerantly: commas, missing brackets, folded lines).
	MessageID  string
	InReplyTo  []string
	References []string
	// From is the sender's address (lower case) and FromName its display name.
	From     string
	FromName string
	// To, Cc and DeliveredTo are addresses, lower case.
	To          []string
	Cc          []string
	DeliveredTo []string
	// Subject is decoded (RFC 2047, adjacent encoded-words joined).
	Subject string
	// HeaderDate is the sender-controlled Date header; zero when absent or unparsable.
	HeaderDate time.Time
	// ReceivedAt is the IMAP INTERNALDATE; set by the watcher, not by parsing.
	ReceivedAt time.Time
	// Header holds the header fields classification looks at (Auto-Submitted,
	// X-Autoreply, X-Autorespond, Precedence, X-Auto-Response-Suppress, List-Id,
	// List-Unsubscribe, Return-Path, Content-Type, X-Mailer, …), keys in canonical form
	// ("Auto-Submitted"), values decoded and trimmed.
	Header map[string][]string
	// NewText is the text the sender wrote in this message: quoted text, "reply above
	// this line" markers and the quoted original removed. FullText is all decoded text,
	// quotes included, for token search. Both come from text/plain, or from HTML
	// converted to text when there is no plain part.
	NewText  string
	FullText string
	// Report is set for a machine report: a multipart/report of any report-type
	// (delivery-status, feedback-report, disposition-notification, …), a bare
	// message/delivery-status, feedback-report or disposition-notification part, or a
	// recognisable bounce without one.
	Report *DeliveryReport
	// Size is the raw message's size; Truncated says the fetched text was cut at the cap.
	Size      int
	Truncated bool
	// Unread says what of the message was left unread and why ("text cut at 256 KiB",
	// "MIME parts nested deeper than 30 levels not read"); "" when all of it was read.
	// The daemon records it beside the classification's reason.
	Unread string
	// Inquiry is the text of our inquiry this mail was matched to, set by the daemon
	// before classifying: a help desk that repeats it in its acknowledgement or
	// notification, without quoting it, must not have our words counted as its own.
	// "" when the mail is unmatched or the inquiry's copy cannot be read.
	Inquiry string
}

// DeliveryReport is what a machine report (a bounce, a delay warning, a verification
// report, an abuse/feedback report, a read receipt) says about the message it is about.
type DeliveryReport struct {
	// ReportType is the multipart/report report-type ("delivery-status",
	// "feedback-report", "disposition-notification", …), lower case, or the kind of
	// report part found without one; "" for a bounce recognised only by its sender or
	// subject (a legacy format without a DSN).
	ReportType string
	// Actions lists the action of every recipient group of a DSN, in order, lower case;
	// Action is the one that decides (the first "failed", else the first).
	Actions []string
	// Feedback is an RFC 5965 Feedback-Type ("abuse", "fraud", …) or an RFC 8098
	// Disposition ("manual-action/MDN-sent-manually; displayed"), as found.
	Feedback string
	// GaveUp says the text of a bounce without a DSN says delivery was abandoned ("I'm
	// giving up", "permanent error", "retry timeout exceeded"), whatever its status class.
	GaveUp bool
	// OriginalMessageID is the Message-ID of the returned message (from the attached
	// original or its headers), without brackets; "" when the report does not carry it.
	OriginalMessageID string
	// Action is the DSN action ("failed", "delayed", "delivered", …), lower case.
	Action string
	// Status is the DSN status code ("5.1.1") and Diagnostic the remote server's text.
	Status     string
	Diagnostic string
}

// HeaderValue returns the first value of the header field name (any case), or "".
func (m Mail) HeaderValue(name string) string {
	for k, v := range m.Header {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// FromDomain returns the domain of the sender's address, lower case.
func (m Mail) FromDomain() string {
	_, d, _ := strings.Cut(m.From, "@")
	return strings.ToLower(d)
}
