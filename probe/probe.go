package probe

import (
	"time"
)

// State is where a probe's sending stands. It is stored; the richer Status shown to users
// is derived from it and the replies by Measure.
type State string

// The sending states. A probe is written as StateSending (with its Message-ID and
// StageBeforeDataEnd) before SMTP, noted StageDataEnd (with DataEndAt) just before the
// final "." of DATA, and written as StateSent (with SentAt) after the server's 250. A crash
// in between leaves StateSending, which startup resolves: without the note the inquiry
// certainly did not go out (StateFailed); with it, it may have (StateUnknown, or
// StateSent when the sent folder holds a copy). A reply that cites the probe later proves
// it went out and makes an unknown probe sent (Promote). It is never re-sent
// automatically.
const (
	StateSending State = "sending"
	StateSent    State = "sent"
	StateFailed  State = "failed"
	StateUnknown State = "unknown"
)

// SendStage is how far the sending of an inquiry got, noted durably so that startup can
// tell "certainly not sent" from "maybe sent" after a crash.
type SendStage string

// The stages of a send.
const (
	// StageBeforeDataEnd: the probe is stored and may be in its SMTP conversation, but
	// the final "." of DATA has not been written, so no server can have accepted it.
	StageBeforeDataEnd SendStage = "before_data_end"
	// StageDataEnd: the final "." of DATA was about to be written at DataEndAt; from then
	// on the server may have accepted the inquiry, whatever we heard back.
	StageDataEnd SendStage = "data_end"
)

// Probe is one inquiry sent to one vendor, with the terms in force when it was created
// and every reply matched to it.
type Probe struct {
	ID       string   `json:"id"`
	Token    string   `json:"token"` // short reference code in the body footer and plus-address
	Vendor   string   `json:"vendor"`
	Script   string   `json:"script"`
	Priority Priority `json:"priority"`
	Language string   `json:"language"`
	From     string   `json:"from"`
	To       []string `json:"to"`
	Subject  string   `json:"subject"`
	// MessageID is our Message-ID without angle brackets.
	MessageID string `json:"message_id"`
	// CreatedAt is when the probe record was first written; history is ordered by it.
	CreatedAt time.Time `json:"created_at"`
	// ScheduledAt is the cron fire time before jitter; zero for a probe sent by hand.
	ScheduledAt time.Time `json:"scheduled_at"`
	// SentAt is when the SMTP server accepted the message, on our clock; zero until sent.
	// When SentAtInferred is set, no 250 was recorded (a crash came first) and SentAt is
	// DataEndAt, the last moment known before the inquiry went out: a reply citing the
	// probe proved that it did (Promote).
	SentAt         time.Time `json:"sent_at"`
	SentAtInferred bool      `json:"sent_at_inferred,omitempty"`
	State          State     `json:"state"`
	// Stage is how far the send got; "" for a probe stored by a version that did not
	// note it, whose interrupted send can only be "maybe sent".
	Stage SendStage `json:"stage,omitempty"`
	// DataEndAt is our clock just before the final "." of DATA was first written, noted
	// durably before it was (Stage StageDataEnd); zero until then. Retries keep the first
	// time, so it precedes whichever copy the server accepted.
	DataEndAt time.Time `json:"data_end_at,omitzero"`
	// FailReason holds the server's text or the error for a failed or unknown probe, and,
	// for a sent probe whose 250 a crash kept from being recorded, how its sent_at was
	// recovered.
	FailReason string `json:"fail_reason,omitempty"`
	// ClockSkew is the IMAP server's clock minus ours, measured when the sent copy was
	// appended; SkewMeasured says whether it was.
	ClockSkew    time.Duration `json:"clock_skew"`
	SkewMeasured bool          `json:"skew_measured"`
	// LateBy is how long after ScheduledAt (plus jitter) a fire missed during downtime
	// was sent; zero for a probe sent on time.
	LateBy  time.Duration `json:"late_by,omitempty"`
	Terms   Terms         `json:"terms"`
	Replies []Reply       `json:"replies,omitempty"`
	// Followups are the script's follow-ups recorded so far, in the order they fired.
	Followups []Followup `json:"followups,omitempty"`
}

// Kind is what a piece of inbound mail is.
type Kind string

// The kinds of inbound mail.
const (
	KindHuman       Kind = "human"         // a person's first-hand answer
	KindAutoAck     Kind = "auto_ack"      // "ticket created", "request received"
	KindOutOfOffice Kind = "out_of_office" // vacation and absence notices
	KindBounce      Kind = "bounce"        // delivery failure reports
	KindOther       Kind = "other"         // newsletters, verification mails, ...
	// KindNeedsReview is a reply whose evidence is too weak or conflicting to decide:
	// it counts as no response (no ack, no answer, no bounce) until a person decides
	// its kind (mark, review), and reports say how many wait.
	KindNeedsReview Kind = "needs_review"
)

// Kinds lists every kind, for validation and help text.
var Kinds = []Kind{KindHuman, KindAutoAck, KindOutOfOffice, KindBounce, KindOther, KindNeedsReview}

// Rung names the step of the matching ladder that tied a reply to its probe, strongest
// first.
type Rung string

// The matching rungs, strongest first, then a manual link.
const (
	RungMessageID   Rung = "message_id"   // our Message-ID in In-Reply-To or References
	RungPlusAddress Rung = "plus_address" // the token in probe+TOKEN@ in To/Cc/Delivered-To
	RungThread      Rung = "thread"       // a message ID already in the probe's thread
	RungTicketKey   Rung = "ticket_key"   // the vendor's ticket key learned earlier
	RungToken       Rung = "token"        // the token in the subject or body
	RungManual      Rung = "manual"       // linked by a person from the CLI
)

// Override is a person's decision about a reply, which wins over the classifier.
type Override struct {
	Kind Kind      `json:"kind"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
	// By is who decided: the local user name of whoever ran the command; "" when not
	// known (decisions recorded before it was kept).
	By string `json:"by,omitempty"`
}

// Reply is one inbound mail matched to a probe.
type Reply struct {
	ID        string `json:"id"`
	ProbeID   string `json:"probe_id"`
	MessageID string `json:"message_id"`
	Folder    string `json:"folder"`
	UID       uint32 `json:"uid"`
	// ReceivedAt is the IMAP INTERNALDATE, on the server's clock.
	ReceivedAt time.Time `json:"received_at"`
	// HeaderDate is the sender-controlled Date header, kept for the record only.
	HeaderDate time.Time `json:"header_date"`
	// DetectedAt is when we saw the mail, on our clock.
	DetectedAt time.Time `json:"detected_at"`
	From       string    `json:"from"`
	Subject    string    `json:"subject"`
	Kind       Kind      `json:"kind"`
	Reason     string    `json:"reason"`
	// Confidence is the classifier's confidence in Kind, in [0,1] (Classification);
	// 1 for a per-vendor rule. Replies recorded before it was kept have 0.
	Confidence float64 `json:"confidence"`
	MatchedBy  Rung    `json:"matched_by"`
	// MatchDetail says what evidence the rung found (the reference, the token, the key).
	MatchDetail string    `json:"match_detail,omitempty"`
	Override    *Override `json:"override,omitempty"`
	// Language is DetectLanguage of the reply's new text (quotes removed), detected when
	// the reply was recorded; "" when unknown.
	Language string `json:"language,omitempty"`
	// Learned is what this reply put into its probe's matching indexes (rungs 3 and 4):
	// the thread message IDs and ticket keys first learned from it. A manual link to
	// another probe moves exactly these. Nil for replies recorded before it was kept.
	Learned *Learned `json:"learned,omitempty"`
	// Auth is the reply's DKIM check, made right after it was recorded and again by
	// a background pass while a key lookup fails temporarily; nil for a reply not (yet)
	// checked.
	Auth *Auth `json:"auth,omitempty"`
}

// Learned is what one reply taught the matching indexes about its probe's thread.
type Learned struct {
	// ThreadIDs are message IDs (normalised: no brackets, lower case) first indexed to
	// the probe because of this reply: its own Message-ID and the IDs it cited.
	ThreadIDs []string `json:"thread_ids,omitempty"`
	// Vendor is the vendor whose ticket-key namespace TicketKeys live in.
	Vendor string `json:"vendor,omitempty"`
	// TicketKeys are the vendor's ticket keys first recorded for the probe because of
	// this reply.
	TicketKeys []string `json:"ticket_keys,omitempty"`
}

// EffectiveKind is the kind that counts: the manual override when there is one.
func (r Reply) EffectiveKind() Kind {
	if r.Override != nil {
		return r.Override.Kind
	}
	return r.Kind
}
