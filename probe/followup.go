package probe

import (
	"fmt"
	"maps"
	"net/mail"
	"strings"
	"time"
)

// FollowupKind is what triggers a follow-up.
type FollowupKind string

// The follow-up kinds.
const (
	// FollowupAfterResponse is a scripted "that did not help", sent a delay after the
	// first human response.
	FollowupAfterResponse FollowupKind = "after_response"
	// FollowupReminder is sent when no human response arrived within a delay of the
	// inquiry.
	FollowupReminder FollowupKind = "reminder"
)

// FollowupSpec is one follow-up a script defines: its kind, its delay and its body.
type FollowupSpec struct {
	Kind  FollowupKind
	After time.Duration
	body  Script // only its body template is used
}

// NewFollowupSpec checks body as a text/template the way NewScript checks a script's
// (same fields, same vars), so a bad template fails at configuration load.
func NewFollowupSpec(kind FollowupKind, after time.Duration, body string, vars map[string]string) (FollowupSpec, error) {
	if kind != FollowupAfterResponse && kind != FollowupReminder {
		return FollowupSpec{}, fmt.Errorf("unknown follow-up kind %q", kind)
	}
	if after <= 0 {
		return FollowupSpec{}, fmt.Errorf("follow-up delay must be positive, not %s", after)
	}
	s, err := NewScript("followup", "und", P4, "Re", body, vars)
	if err != nil {
		return FollowupSpec{}, err
	}
	return FollowupSpec{Kind: kind, After: after, body: s}, nil
}

// StoredFollowup is one of a script's follow-ups as stored with a probe: its kind, its
// delay and its body template as written.
type StoredFollowup struct {
	Kind  FollowupKind  `json:"kind"`
	After time.Duration `json:"after"`
	Body  string        `json:"body"`
}

// ScriptTerms are what a probe's follow-ups need of its script, captured when the probe
// is created (Script.Terms), like the vendor's Terms: the follow-ups in order (their
// texts, delays and the order they escalate in) and the vars their templates use.
// Follow-ups are read from here, so a later change of the configuration (a script
// edited, reordered or removed) never changes the follow-ups of a probe already sent.
type ScriptTerms struct {
	Followups []StoredFollowup  `json:"followups"`
	Vars      map[string]string `json:"vars,omitempty"`
}

// Terms returns s's follow-up terms, to be stored with a probe created from s. A
// script without follow-ups gives terms with none: such a probe never gets one.
func (s Script) Terms() *ScriptTerms {
	t := &ScriptTerms{Followups: []StoredFollowup{}, Vars: maps.Clone(s.Vars)}
	for _, f := range s.Followups {
		_, body := f.body.Source()
		t.Followups = append(t.Followups, StoredFollowup{Kind: f.Kind, After: f.After, Body: body})
	}
	return t
}

// Specs rebuilds the follow-ups stored in t, in order. The templates were checked when
// the probe was created, so an error means the stored record is damaged; it names the
// follow-up.
func (t ScriptTerms) Specs() ([]FollowupSpec, error) {
	out := make([]FollowupSpec, 0, len(t.Followups))
	for i, f := range t.Followups {
		spec, err := NewFollowupSpec(f.Kind, f.After, f.Body, t.Vars)
		if err != nil {
			return nil, fmt.Errorf("stored follow-up %d (%s after %s): %w", i, f.Kind, f.After, err)
		}
		out = append(out, spec)
	}
	return out, nil
}

// Followup is one follow-up as stored on its probe. Like a probe, it is written as
// StateSending with its MessageID before SMTP and as StateSent with SentAt after the
// server's 250; a crash in between leaves StateSending, which startup resolves and never
// re-sends. StateSkipped records a follow-up that a limit or the deadline held back: it
// is never retried.
type Followup struct {
	// Index is the follow-up's position in the script's list.
	Index int          `json:"index"`
	Kind  FollowupKind `json:"kind"`
	State State        `json:"state"`
	// DueAt is when it became due.
	DueAt time.Time `json:"due_at"`
	// SentAt is when the SMTP server accepted it, on our clock; zero until sent.
	SentAt time.Time `json:"sent_at"`
	// MessageID is ours, without brackets; InReplyTo is the message it answers.
	MessageID string `json:"message_id,omitempty"`
	InReplyTo string `json:"in_reply_to,omitempty"`
	Subject   string `json:"subject,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// StateSkipped marks a follow-up held back by a vendor limit or the deadline.
const StateSkipped State = "skipped"

// FollowupDue reports whether spec (the script's i-th follow-up) is due for p at now,
// and since when. A follow-up already recorded on p, in any state, is never due again.
// after_response is due spec.After after the first human response. A reminder is due
// spec.After after sent_at while no human response is recorded at all: p.Replies are
// the replies recorded so far, and an answer that came after the reminder's time but
// before the decision (the daemon was down, or the loop asleep) still means the vendor
// answered, so reminding it now would be the robot's tell. For the same reason a reply
// waiting for review (it may be a person's answer) holds a reminder back until a person
// decides its kind. A probe not sent, or bounced with no human reply, is never due.
// The deadline and the vendor's limits are the caller's to check (see
// Probe.PastDeadline): a follow-up they hold back is recorded as StateSkipped, so it is
// not due again either. The daemon calls this again inside the store transaction that
// records the send, against every reply recorded by then.
//
// When due is false, a non-zero dueAt is when the follow-up falls due if nothing
// changes; a zero dueAt means it waits for a reply or a person's decision.
func FollowupDue(p Probe, i int, spec FollowupSpec, now time.Time) (dueAt time.Time, due bool) {
	if p.State != StateSent || p.SentAt.IsZero() {
		return time.Time{}, false
	}
	for _, f := range p.Followups {
		if f.Index == i {
			return time.Time{}, false
		}
	}
	first := p.firstHuman()
	if first == nil {
		for _, r := range p.Replies {
			if r.EffectiveKind() == KindBounce {
				return time.Time{}, false // the inquiry never arrived: nobody to remind
			}
		}
	}
	switch spec.Kind {
	case FollowupAfterResponse:
		if first == nil {
			return time.Time{}, false
		}
		dueAt = p.local(*first).Add(spec.After)
	case FollowupReminder:
		if first != nil || p.awaitsReview() {
			return time.Time{}, false
		}
		dueAt = p.SentAt.Add(spec.After)
	default:
		return time.Time{}, false
	}
	return dueAt, !now.Before(dueAt)
}

// PastDeadline reports whether now is past p's deadline: no follow-up fires then.
func (p Probe) PastDeadline(now time.Time) bool {
	return !p.SentAt.IsZero() && now.After(p.SentAt.Add(p.Terms.Deadline))
}

// awaitsReview reports whether a reply to p waits for a person to decide its kind.
func (p Probe) awaitsReview() bool {
	for _, r := range p.Replies {
		if r.EffectiveKind() == KindNeedsReview {
			return true
		}
	}
	return false
}

// firstHuman returns the earliest human reply, by arrival, or nil.
func (p Probe) firstHuman() *Reply {
	var first *Reply
	for i := range p.Replies {
		r := &p.Replies[i]
		if r.EffectiveKind() == KindHuman && (first == nil || r.ReceivedAt.Before(first.ReceivedAt)) {
			first = r
		}
	}
	return first
}

// FollowupMeasure is the figures of one sent follow-up.
type FollowupMeasure struct {
	Followup Followup
	// NextResponse is the first human reply that arrived after the follow-up was sent;
	// nil when none has.
	NextResponse *Reply
	NextLatency  *time.Duration
}

// MeasureFollowups derives each sent follow-up's next response: the first human reply
// arriving (on our clock, skew removed) after the follow-up's sent_at. The inquiry's
// own first-response latency (Measure) is unaffected by follow-ups.
func MeasureFollowups(p Probe) []FollowupMeasure {
	var out []FollowupMeasure
	for _, f := range p.Followups {
		fm := FollowupMeasure{Followup: f}
		if f.State == StateSent && !f.SentAt.IsZero() {
			for i := range p.Replies {
				r := &p.Replies[i]
				if r.EffectiveKind() != KindHuman || !p.local(*r).After(f.SentAt) {
					continue
				}
				if fm.NextResponse == nil || r.ReceivedAt.Before(fm.NextResponse.ReceivedAt) {
					fm.NextResponse = r
				}
			}
			if fm.NextResponse != nil {
				d := p.local(*fm.NextResponse).Sub(f.SentAt)
				fm.NextLatency = &d
			}
		}
		out = append(out, fm)
	}
	return out
}

// NeededReminder reports whether a reminder went out for p.
func (p Probe) NeededReminder() bool {
	for _, f := range p.Followups {
		if f.Kind == FollowupReminder && f.State == StateSent {
			return true
		}
	}
	return false
}

// Quoted is the vendor message a follow-up answers.
type Quoted struct {
	MessageID  string   // without brackets; "" when answering our own inquiry
	References []string // the quoted message's references, oldest first, no brackets
	Subject    string
	From       string
	Date       time.Time
	Text       string // its new text
}

// ComposeFollowup renders spec as p's n-th follow-up, answering q: In-Reply-To q's
// Message-ID (or our inquiry's when q has none), References the thread, "Re: " and q's
// subject (or ours), the rendered body, then q's text quoted.
func ComposeFollowup(p Probe, spec FollowupSpec, n int, v Vendor, q Quoted, c Composition) (Inquiry, error) {
	loc := v.Hours.Location()
	if loc == nil {
		loc = time.UTC
	}
	_, body, err := spec.body.Render(Fields{Vendor: v.Name, Token: p.Token, LocalTime: c.Now.In(loc)})
	if err != nil {
		return Inquiry{}, fmt.Errorf("probe %s: follow-up %d: %w", p.ID, n, err)
	}
	body = strings.TrimRight(body, "\n") + "\n"
	if !strings.Contains(body, p.Token) {
		body += "\nRef: " + p.Token + "\n"
	}
	if q.Text != "" {
		who := q.From
		if who == "" {
			who = "you"
		}
		body += "\nOn " + q.Date.In(loc).Format("Mon, 2 Jan 2006 at 15:04") + ", " + who + " wrote:\n"
		for _, l := range strings.Split(strings.TrimRight(q.Text, "\n"), "\n") {
			body += strings.TrimRight("> "+l, " ") + "\n"
		}
	}
	subject := q.Subject
	if subject == "" {
		subject = p.Subject
	}
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	refs := []string{p.MessageID}
	for _, r := range q.References {
		if r != "" && r != p.MessageID {
			refs = append(refs, r)
		}
	}
	parent := p.MessageID
	if q.MessageID != "" {
		parent = q.MessageID
		if refs[len(refs)-1] != parent {
			refs = append(refs, parent)
		}
	}
	_, domain, _ := strings.Cut(c.From.Address, "@")
	in := Inquiry{
		From:       c.From.String(),
		To:         p.To,
		Subject:    subject,
		Body:       body,
		MessageID:  NewFollowupMessageID(c.Key, p.ID, domain, n),
		InReplyTo:  parent,
		References: refs,
		Date:       c.Now,
	}
	if c.PlusAddressing {
		in.ReplyTo = (&mail.Address{Name: c.From.Name, Address: PlusAddress(c.From.Address, p.Token)}).String()
	}
	return in, nil
}
