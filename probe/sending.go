package probe

import (
	"context"
	"errors"
	"time"
)

// Inquiry is a rendered message, ready for SMTP. Compose builds it; a Sender sends it
// byte for byte as its Raw form.
type Inquiry struct {
	// From is the configured person, as an RFC 5322 address ("Lin Wei <lin.wei@…>").
	From string
	// To are the vendor's support addresses.
	To []string
	// ReplyTo is the plus-address carrying the probe's token, or "" without plus
	// addressing.
	ReplyTo string
	// Subject and Body are UTF-8; the sender encodes them (RFC 2047, quoted-printable).
	Subject string
	Body    string
	// MessageID is ours, without angle brackets: it carries the probe ID and an HMAC.
	MessageID string
	// InReplyTo and References thread a follow-up: Message-IDs without brackets, empty
	// for a first inquiry.
	InReplyTo  string
	References []string
	// Date is the Date header's value.
	Date time.Time
	// BeforeSend, when set, is called with the rendered message before any connection
	// is made; an error stops the send, and nothing goes out. The daemon stores the
	// inquiry there, so a crash during SMTP still leaves the exact bytes on record.
	BeforeSend func(raw []byte) error
	// BeforeDataEnd, when set, is called in each attempt after the whole message was
	// written to DATA and before the final "." that ends it: until that ".", no server
	// can have accepted the message. An error stops the send without the ".", so nothing
	// goes out. The daemon notes durably there that the inquiry may now be sent, so a
	// crash before the note is known not to have sent it.
	BeforeDataEnd func() error
}

// ErrMaybeSent is wrapped by a Sender's error when the server may have accepted the
// message anyway: the final "." of DATA was written and no reply came. Such a probe is
// not failed (a failed probe never reached the vendor) but unknown.
var ErrMaybeSent = errors.New("the server may have accepted the message: no reply came after the end of DATA")

// SendResult is what a Sender reports for an accepted inquiry.
type SendResult struct {
	// AcceptedAt is our clock when the server answered 250 to the end of DATA: the
	// probe's sent_at.
	AcceptedAt time.Time
	// Raw is the message exactly as handed to the server.
	Raw []byte
	// Attempts counts the tries, retries after transient failures included.
	Attempts int
}

// Sender delivers inquiries to an SMTP server. It must call Inquiry.BeforeSend before
// connecting and Inquiry.BeforeDataEnd before each final "." of DATA, when they are set:
// crash recovery relies on both. Send blocks until the server accepted the message or
// the sender gave up: transient failures (4xx, connection errors) are retried
// with backoff within the sender's window; a permanent failure (5xx) returns at once.
// The error carries the server's text.
type Sender interface {
	Send(ctx context.Context, in Inquiry) (SendResult, error)
}

// SentFolder files copies of sent inquiries on the IMAP server and finds them again.
type SentFolder interface {
	// AppendSent appends raw to the sent folder and returns the server's clock minus
	// ours, measured from the copy's INTERNALDATE (1-second resolution, so the skew is
	// known to about ±1 s).
	AppendSent(ctx context.Context, raw []byte) (skew time.Duration, err error)
	// FindSent looks for a message with messageID (no brackets) in the sent folder and
	// returns its INTERNALDATE; found is false when there is none.
	FindSent(ctx context.Context, messageID string) (internalDate time.Time, found bool, err error)
}

// FireOutcome is what became of one scheduled fire.
type FireOutcome string

// The outcomes of a fire.
const (
	FireSent    FireOutcome = "sent"    // an inquiry went out on time
	FireLate    FireOutcome = "late"    // missed while down, sent within the grace window
	FireSkipped FireOutcome = "skipped" // a vendor limit held it back
	FireMissed  FireOutcome = "missed"  // missed while down, beyond the grace window
	FireFailed  FireOutcome = "failed"  // the inquiry could not be sent
)

// Fire records one scheduled fire and what became of it.
type Fire struct {
	// Job identifies the schedule: the vendor's name, "/", the schedule's index.
	Job         string      `json:"job"`
	Vendor      string      `json:"vendor"`
	ScheduledAt time.Time   `json:"scheduled_at"`
	HandledAt   time.Time   `json:"handled_at"`
	Outcome     FireOutcome `json:"outcome"`
	Reason      string      `json:"reason,omitempty"`
	ProbeID     string      `json:"probe_id,omitempty"`
}
