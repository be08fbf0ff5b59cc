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

// The SLA states. Every probe with a target reaches a decided state (met, breached or
// undecided) by its deadline at the latest; open and open_breached exist only before it.
const (
	SLAMet          SLAState = "met"           // a person answered within the target, by the deadline
	SLABreached     SLAState = "breached"      // answered after the target, or the target passed with no answer by the deadline
	SLAOpen         SLAState = "open"          // no answer yet, target not passed, deadline not reached
	SLAOpenBreached SLAState = "open_breached" // no answer yet, target already passed, deadline not reached
	// SLAUndecided is "undecided: deadline before target": the deadline came before the
	// target could pass (a business-clock target longer than the business time inside
	// the deadline, say over a holiday week), and no person answered by the deadline.
	// The probe can be neither met nor breached; reports count it and say why.
	SLAUndecided SLAState = "undecided"
	SLANone      SLAState = "none" // no target, or the probe never reached the vendor
)

// ArrivalTolerance is how far before sent_at a reply may arrive, on our time base, and
// still be taken as arriving at sent_at: INTERNALDATE has whole seconds and the clock
// skew is measured from one of them, so an answer within a second can come out slightly
// negative. A reply earlier than that cannot answer the inquiry (a mail linked to the
// wrong probe, a clock far off) and is never a latency.
const ArrivalTolerance = 2 * time.Second

// Measurement holds every figure derived from one probe at one instant. Pointers are nil
// where a figure does not exist (no ack yet, no answer yet). Every pointer to a reply
// points into the probe's Replies.
//
// Only replies that arrived between sent_at (less ArrivalTolerance) and the deadline
// count: an early reply is listed in Early and counts for nothing; a reply after the
// deadline is recorded (LateResponse for the first person's) but never makes the probe
// answered, acknowledged or bounced, and never meets its SLA.
type Measurement struct {
	Status     Status
	AfterHours bool
	Deadline   time.Time // SentAt + Terms.Deadline; zero when not sent
	// FirstAck is the first automatic acknowledgement (auto_ack) by the deadline.
	FirstAck   *Reply
	AckLatency *time.Duration
	// FirstSignOfLife is the first auto_ack or human reply by the deadline, whichever
	// came first (a person's answer also acknowledges): what "time to first ack"
	// measures.
	FirstSignOfLife   *Reply
	SignOfLifeLatency *time.Duration
	// FirstResponse is the first human reply by the deadline.
	FirstResponse   *Reply
	ResponseLatency *time.Duration // calendar time
	BusinessLatency *time.Duration // the vendor's business time
	// LateResponse is the first human reply after the deadline, when none came by it.
	LateResponse *Reply
	// Early lists replies that arrived before the inquiry was sent (beyond
	// ArrivalTolerance): they cannot be answers and count for nothing.
	Early []*Reply
	SLA   SLAState
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
	// Most probes have a reply or two: their order lives on the stack.
	var small [4]int
	order := small[:0]
	if len(p.Replies) > len(small) {
		order = make([]int, 0, len(p.Replies))
	}
	for i := range p.Replies {
		order = append(order, i)
	}
	// The latencies the pointers below point to, in one allocation rather than four.
	var lat *[4]time.Duration
	slices.SortStableFunc(order, func(i, j int) int { return p.Replies[i].ReceivedAt.Compare(p.Replies[j].ReceivedAt) })
	bounced := false
	for _, idx := range order {
		rp := &p.Replies[idx]
		r := *rp
		if p.IsEarly(r) {
			m.Early = append(m.Early, rp)
			continue
		}
		kind := r.EffectiveKind()
		if p.IsLate(r) {
			if kind == KindHuman && m.FirstResponse == nil && m.LateResponse == nil {
				m.LateResponse = rp
			}
			continue
		}
		if lat == nil && (kind == KindAutoAck || kind == KindHuman) {
			lat = new([4]time.Duration)
		}
		switch kind {
		case KindAutoAck:
			if m.FirstAck == nil {
				m.FirstAck = rp
				lat[0] = p.latency(r)
				m.AckLatency = &lat[0]
			}
		case KindHuman:
			if m.FirstResponse == nil {
				m.FirstResponse = rp
				d := p.latency(r)
				lat[1] = d
				m.ResponseLatency = &lat[1]
				lat[2] = hours.Between(p.SentAt, p.SentAt.Add(d)) // d ≥ 0: within tolerance counts from sent_at
				m.BusinessLatency = &lat[2]
			}
		case KindBounce:
			bounced = true
		}
		if (kind == KindAutoAck || kind == KindHuman) && m.FirstSignOfLife == nil {
			m.FirstSignOfLife = rp
			lat[3] = p.latency(r)
			m.SignOfLifeLatency = &lat[3]
		}
	}

	switch {
	case m.FirstResponse != nil:
		m.Status = StatusAnswered
	case bounced:
		m.Status = StatusBounced
	case !now.Before(m.Deadline):
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

// latency is r's arrival minus sent_at on our time base. A reply within
// ArrivalTolerance before sent_at is taken as arriving at sent_at (0); Measure never
// asks for the latency of an earlier one (IsEarly).
func (p Probe) latency(r Reply) time.Duration { return max(p.local(r).Sub(p.SentAt), 0) }

// IsLate reports whether r arrived after the probe's deadline, on our time base. A late
// reply is recorded and shown, but never makes the probe answered or its SLA met.
func (p Probe) IsLate(r Reply) bool {
	return !p.SentAt.IsZero() && p.local(r).After(p.SentAt.Add(p.Terms.Deadline))
}

// IsEarly reports whether r arrived before the probe's inquiry was sent, beyond
// ArrivalTolerance, on our time base: it cannot answer the inquiry and is never a
// latency. A probe not known to be sent has no early replies.
func (p Probe) IsEarly(r Reply) bool {
	return ArrivedBefore(r.ReceivedAt.Add(-p.ClockSkew), p.SentAt)
}

// ArrivedBefore reports whether a mail that arrived at arrival (on our clock) came
// before an inquiry sent at sentAt by more than ArrivalTolerance, so it cannot be an
// answer to it. A zero sentAt (not known to be sent) is never after anything.
func ArrivedBefore(arrival, sentAt time.Time) bool {
	return !sentAt.IsZero() && arrival.Before(sentAt.Add(-ArrivalTolerance))
}

// slaState decides p's SLA state from m (whose FirstResponse is by the deadline, or nil).
func (p Probe) slaState(m Measurement, hours BusinessHours, now time.Time) SLAState {
	t := p.Terms.SLA
	if t == nil || m.Status == StatusBounced {
		return SLANone
	}
	elapsed := func(until time.Time) time.Duration {
		if until.Before(p.SentAt) {
			until = p.SentAt
		}
		if t.Clock == Business {
			return hours.Between(p.SentAt, until)
		}
		return until.Sub(p.SentAt)
	}
	if m.FirstResponse != nil {
		// The business time to the answer is BusinessLatency, which Measure has just
		// taken over the same span (an answer within ArrivalTolerance before sent_at
		// counts from sent_at in both); business time is costly enough not to take twice.
		took := *m.ResponseLatency
		if t.Clock == Business {
			took = *m.BusinessLatency
		}
		if took <= t.FirstResponse {
			return SLAMet
		}
		return SLABreached
	}
	ended := !now.Before(m.Deadline)
	until := now
	if ended {
		until = m.Deadline
	}
	switch {
	case elapsed(until) > t.FirstResponse && ended:
		return SLABreached
	case elapsed(until) > t.FirstResponse:
		return SLAOpenBreached
	case ended:
		return SLAUndecided
	}
	return SLAOpen
}
