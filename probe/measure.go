package probe

import (
	"fmt"
	"slices"
	"time"
)

// Status is a probe's standing as shown to users, derived by Measure.
type Status string

// The statuses, in the order a probe usually passes through them.
const (
	StatusSending      Status = "sending"
	StatusSent         Status = "sent"         // sent, nothing from a person yet, deadline not reached
	StatusAcknowledged Status = "acknowledged" // an automatic acknowledgement, no person yet
	StatusAnswered     Status = "answered"     // a person answered by the deadline
	StatusUnanswered   Status = "unanswered"   // no person answered by the deadline
	StatusBounced      Status = "bounced"      // the inquiry was not delivered
	StatusFailed       Status = "failed"       // our SMTP server refused or could not be reached
	StatusUnknown      Status = "unknown"      // a crash hid whether it was sent
)

// Statuses lists every status, for validation and help text.
var Statuses = []Status{StatusSending, StatusSent, StatusAcknowledged, StatusAnswered, StatusUnanswered, StatusBounced, StatusFailed, StatusUnknown}

// SLAState is where a probe stands against its SLA target.
type SLAState string

// The SLA states.
const (
	SLAMet          SLAState = "met"
	SLABreached     SLAState = "breached"
	SLAOpen         SLAState = "open"          // no answer yet, target not passed
	SLAOpenBreached SLAState = "open_breached" // no answer yet, target already passed
	SLANone         SLAState = "none"          // no target, or the probe never reached the vendor
)

// Measurement holds every figure derived from one probe at one instant. Pointers are nil
// where a figure does not exist (no ack yet, no answer yet).
type Measurement struct {
	Status     Status
	AfterHours bool
	Deadline   time.Time // SentAt + Terms.Deadline; zero when not sent
	// FirstAck and FirstResponse point into the probe's Replies.
	FirstAck        *Reply
	AckLatency      *time.Duration
	FirstResponse   *Reply
	ResponseLatency *time.Duration // calendar time
	BusinessLatency *time.Duration // the vendor's business time
	SLA             SLAState
}

// Measure derives p's figures as of now, from p and its stored terms alone, so they can
// be recomputed at any time from what is stored. Replies are taken in ReceivedAt order,
// with the clock skew removed; manual overrides win over the classifier. An error means
// the stored terms cannot be interpreted (an unknown zone), and names the probe.
func Measure(p Probe, now time.Time) (Measurement, error) {
	var m Measurement
	hours, err := NewBusinessHours(p.Terms.Hours)
	if err != nil {
		return m, fmt.Errorf("probe %s: business hours: %w", p.ID, err)
	}
	switch p.State {
	case StateSending:
		m.Status, m.SLA = StatusSending, SLANone
		return m, nil
	case StateFailed:
		m.Status, m.SLA = StatusFailed, SLANone
		return m, nil
	case StateUnknown:
		m.Status, m.SLA = StatusUnknown, SLANone
		return m, nil
	}
	m.AfterHours = !hours.IsOpen(p.SentAt)
	m.Deadline = p.SentAt.Add(p.Terms.Deadline)

	// Sort indices, not copies, and point into p.Replies so callers can identify the
	// reply. (Looking the sorted copy up by ID picked the wrong reply when IDs were empty
	// or repeated, as for replies not yet stored.)
	order := make([]int, len(p.Replies))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return p.Replies[i].ReceivedAt.Compare(p.Replies[j].ReceivedAt) })
	bounced := false
	for _, idx := range order {
		rp := &p.Replies[idx]
		r := *rp
		switch r.EffectiveKind() {
		case KindAutoAck:
			if m.FirstAck == nil {
				m.FirstAck = rp
				d := p.latency(r)
				m.AckLatency = &d
			}
		case KindHuman:
			if m.FirstResponse == nil {
				m.FirstResponse = rp
				d := p.latency(r)
				m.ResponseLatency = &d
				b := hours.Between(p.SentAt, p.local(r))
				m.BusinessLatency = &b
			}
		case KindBounce:
			bounced = true
		}
	}

	answeredInTime := m.FirstResponse != nil && !p.local(*m.FirstResponse).After(m.Deadline)
	switch {
	case answeredInTime:
		m.Status = StatusAnswered
	case bounced && m.FirstResponse == nil:
		m.Status = StatusBounced
	case m.FirstResponse != nil || !now.Before(m.Deadline):
		m.Status = StatusUnanswered
	case m.FirstAck != nil:
		m.Status = StatusAcknowledged
	default:
		m.Status = StatusSent
	}
	m.SLA = p.slaState(m, hours, now)
	return m, nil
}

// local returns r's arrival on our clock.
func (p Probe) local(r Reply) time.Time { return r.ReceivedAt.Add(-p.ClockSkew) }

// latency is r's arrival minus sent_at on our time base. INTERNALDATE has whole
// seconds and the skew is known to ±0.5 s, so a reply within a second can come out
// slightly negative; it is reported as 0, never as an answer before the question.
func (p Probe) latency(r Reply) time.Duration { return max(p.local(r).Sub(p.SentAt), 0) }

// IsLate reports whether r arrived after the probe's deadline.
func (p Probe) IsLate(r Reply) bool {
	return !p.SentAt.IsZero() && p.local(r).After(p.SentAt.Add(p.Terms.Deadline))
}

func (p Probe) slaState(m Measurement, hours BusinessHours, now time.Time) SLAState {
	t := p.Terms.SLA
	if t == nil || m.Status == StatusBounced {
		return SLANone
	}
	elapsed := func(until time.Time) time.Duration {
		if t.Clock == Business {
			return hours.Between(p.SentAt, until)
		}
		return until.Sub(p.SentAt)
	}
	if m.FirstResponse != nil {
		if elapsed(p.local(*m.FirstResponse)) <= t.FirstResponse {
			return SLAMet
		}
		return SLABreached
	}
	until := now
	if until.After(m.Deadline) {
		until = m.Deadline
	}
	if elapsed(until) > t.FirstResponse {
		if m.Status == StatusUnanswered {
			return SLABreached
		}
		return SLAOpenBreached
	}
	return SLAOpen
}
