package probe

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// This file holds the statistics over many probes: the Kaplan–Meier estimate of the
// latency distributions, Wilson intervals for SLA attainment, and the per-group figures
// that reports print. Everything here is a pure function of the probes and an instant.
//
// Why censoring: a probe that nobody answered, or that is still waiting, has not got a
// latency, but it is not missing either: it tells us the latency is longer than what was
// observed. Leaving such probes out (a median over the answered ones alone) makes a
// vendor that ignores half its mail look fast. The Kaplan–Meier estimate counts them as
// right-censored observations, as DESIGN.md requires.

// Observation is one probe's contribution to a latency distribution. Event true means the
// latency was observed and is Duration; Event false means it is only known to exceed
// Duration (right-censored there: the deadline passed, or the probe is still open).
type Observation struct {
	Duration time.Duration
	Event    bool
}

// Step is one distinct observed time of a Kaplan–Meier estimate: AtRisk observations
// were still running just before At, Events of them ended there and Censored were
// censored there, and S is the estimated survival (the share still without an event)
// from At until the next step. A step with no events leaves S unchanged; it is kept so a
// plot can mark the censoring.
type Step struct {
	At       time.Duration
	S        float64
	AtRisk   int
	Events   int
	Censored int
}

// Survival is a Kaplan–Meier estimate, built by KaplanMeier. The zero value is the
// estimate over no observations: nothing is reached.
type Survival struct {
	steps []Step
}

// survivalTolerance absorbs the rounding of the running product, so that a survival of
// exactly 1−q (say 4/8 computed as 7/8·6/7·…) counts as reaching it.
const survivalTolerance = 1e-9

// KaplanMeier returns the product-limit estimate of the survival function from obs:
// S(t) = Π over event times tᵢ ≤ t of (1 − dᵢ/nᵢ), where dᵢ observations ended at tᵢ and
// nᵢ were at risk just before tᵢ. When events and censorings share a time, the events
// are taken first: the censored observations are still at risk at that time (the usual
// convention, as in R's survival package; censoring is assumed to happen just after).
// obs is not modified.
func KaplanMeier(obs []Observation) Survival { return kaplanMeier(slices.Clone(obs)) }

// kaplanMeier is KaplanMeier on obs it may reorder.
func kaplanMeier(sorted []Observation) Survival {
	slices.SortFunc(sorted, func(a, b Observation) int { return cmp.Compare(a.Duration, b.Duration) })
	var steps []Step
	if len(sorted) > 0 {
		steps = make([]Step, 0, len(sorted)) // at most one step per observation
	}
	atRisk, s := len(sorted), 1.0
	for i := 0; i < len(sorted); {
		st := Step{At: sorted[i].Duration, AtRisk: atRisk}
		for ; i < len(sorted) && sorted[i].Duration == st.At; i++ {
			if sorted[i].Event {
				st.Events++
			} else {
				st.Censored++
			}
		}
		if st.Events > 0 {
			s *= 1 - float64(st.Events)/float64(atRisk)
		}
		st.S = s
		steps = append(steps, st)
		atRisk -= st.Events + st.Censored
	}
	return Survival{steps: steps}
}

// Steps returns the estimate's steps in time order, one per distinct observed time; nil
// for no observations. The slice is the caller's.
func (s Survival) Steps() []Step { return slices.Clone(s.steps) }

// At returns the estimated survival S(t): the share of latencies longer than t. It is 1
// before the first event and stays at its last value after the last observation.
func (s Survival) At(t time.Duration) float64 {
	v := 1.0
	for _, st := range s.steps {
		if st.At > t {
			break
		}
		v = st.S
	}
	return v
}

// Quantile returns the estimated q-quantile: the smallest observed time t with
// S(t) ≤ 1−q, and reached true. If the estimate never falls that low (too many probes
// censored), reached is false and d is the largest observed time, so the quantile is
// only known to exceed d and is printed "> d". q must be in (0, 1]; otherwise, and for
// no observations, it returns 0 and false.
//
// When S equals 1−q exactly over an interval, this is the interval's start; R's survfit
// would take the midpoint to the next event time. The start is always an observed
// latency, which a report can point to.
func (s Survival) Quantile(q float64) (d time.Duration, reached bool) {
	if !(q > 0 && q <= 1) || len(s.steps) == 0 {
		return 0, false
	}
	for _, st := range s.steps {
		if st.Events > 0 && st.S <= 1-q+survivalTolerance {
			return st.At, true
		}
	}
	return s.steps[len(s.steps)-1].At, false
}

// Median is Quantile(0.5).
func (s Survival) Median() (d time.Duration, reached bool) { return s.Quantile(0.5) }

// Max returns the largest observed time. reached is true when that observation is an
// event, so d is the largest latency; it is false when any observation at the largest
// time is censored (or there are none), and then the largest latency is only known to
// exceed d ("> d"), which says more than the largest event time would. MaxEvent gives
// that one.
func (s Survival) Max() (d time.Duration, reached bool) {
	if len(s.steps) == 0 {
		return 0, false
	}
	last := s.steps[len(s.steps)-1]
	return last.At, last.Censored == 0
}

// MaxEvent returns the largest observed event time, and false if there is no event.
func (s Survival) MaxEvent() (d time.Duration, ok bool) {
	for i := len(s.steps) - 1; i >= 0; i-- {
		if s.steps[i].Events > 0 {
			return s.steps[i].At, true
		}
	}
	return 0, false
}

// Wilson95 is the z value of a two-sided 95% interval: the 0.975 quantile of the standard
// normal distribution.
const Wilson95 = 1.959963984540054

// Wilson returns the observed share p = successes/n and the Wilson score interval
// [lo, hi] for the underlying rate at the confidence given by z (Wilson95 for 95%):
//
//	centre = (p + z²/2n) / (1 + z²/n)
//	half   = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²)
//
// Unlike p ± z√(p(1−p)/n) it stays inside [0, 1] and does not collapse to a point at 0/n
// or n/n, which matters for the few dozen probes of a trial.
//
// For n = 0 there is no share: p is NaN and the interval is the whole [0, 1], so a
// careless caller prints "NaN" rather than a plausible 0%; check n first, and note that
// encoding/json refuses NaN. Negative counts or successes > n give NaN for all three.
func Wilson(successes, n int, z float64) (p, lo, hi float64) {
	switch {
	case n < 0 || successes < 0 || successes > n:
		return math.NaN(), math.NaN(), math.NaN()
	case n == 0:
		return math.NaN(), 0, 1
	}
	z = math.Abs(z)
	nf := float64(n)
	p = float64(successes) / nf
	z2 := z * z
	denom := 1 + z2/nf
	centre := (p + z2/(2*nf)) / denom
	half := z / denom * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	lo, hi = max(centre-half, 0), min(centre+half, 1)
	// Mathematically exact at the ends; rounding would leave 1e-17 off.
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return p, lo, hi
}

// Estimate is a duration read off a Kaplan–Meier estimate. Reached false means the
// estimate never got there and the true value only exceeds D.
type Estimate struct {
	D       time.Duration
	Reached bool
}

// String prints D rounded to the second without zero trailing units ("3h20m", "45s"),
// prefixed with "> " when the estimate was not reached. Over no observations an
// Estimate is {0, false} and prints "> 0s": check Summary.N before printing.
func (e Estimate) String() string {
	s := shortDuration(e.D)
	if !e.Reached {
		return "> " + s
	}
	return s
}

// shortDuration is Duration.String rounded to the second, without "0s" or "0m" tails.
func shortDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Summary describes one latency distribution: N observations, Events of them observed
// latencies and the rest censored, and the estimates read off their Kaplan–Meier curve.
// Curve holds its steps, for plotting.
type Summary struct {
	N      int
	Events int
	Median Estimate
	P90    Estimate
	Max    Estimate
	Curve  []Step
}

// Summarize estimates the distribution of obs with KaplanMeier.
func Summarize(obs []Observation) Summary { return summarize(slices.Clone(obs)) }

// summarize is Summarize on obs it may reorder (compute's own).
func summarize(obs []Observation) Summary {
	km := kaplanMeier(obs)
	s := Summary{N: len(obs), Curve: km.steps} // km is not kept: no copy needed
	for _, o := range obs {
		if o.Event {
			s.Events++
		}
	}
	s.Median.D, s.Median.Reached = km.Median()
	s.P90.D, s.P90.Reached = km.Quantile(0.9)
	s.Max.D, s.Max.Reached = km.Max()
	return s
}

// Attainment is how far a vendor kept its SLA for one priority. Met probes were answered
// within the target. Decided counts the probes whose outcome is known: met, breached
// (answered late or not at all) and open-breached (no answer yet but already past the
// target, so it can no longer be met). Leaving those last ones out would drop exactly the
// slow probes and flatter the vendor. Open counts probes still within their target, and
// Undecided those whose deadline came before their target could pass with no answer
// (SLAUndecided); both are left out of the rate, and reports say how many there are.
// Rate = Met/Decided with its Wilson 95% interval [Lo, Hi]; Rate is NaN when Decided is
// 0 (see Wilson).
type Attainment struct {
	Met, Decided, Open, Undecided int
	Rate, Lo, Hi                  float64
}

// Figures are the statistics of a set of probes at one instant.
//
// The counts partition the probes: Total = Sent + Failed + Unknown, and
// Sent = Answered + Unanswered + Open + Bounced, each by the probe's Status (Open is
// "sent" or "acknowledged": no person yet, deadline not passed; Unanswered includes
// answers that came after the deadline). Unknown counts probes not known to have
// reached our SMTP server (still sending, or hidden by a crash). AckOnly is not part of
// the partition: it counts the Open and Unanswered probes that got an automatic
// acknowledgement by their deadline (by now, for an open one): the vendor's system took
// the mail but no person answered in time. AutoAcked counts every sent probe (bounced
// ones aside) that got an automatic acknowledgement by its deadline, answered or not.
//
// Ack, Response and BusinessResponse summarise the time to first sign of life (the first
// automatic acknowledgement or person's reply, whichever came first), and to first response in calendar and in the vendor's business time, over the Answered,
// Unanswered and Open probes (see Compute for the censoring). SLA holds an entry for
// each priority that has an SLA target among those probes. Breaches lists the IDs of the
// probes that breached their target, OpenBreached those with no answer yet that are
// already past it; both ordered by SentAt, then ID. They are one list of breaches in two
// labelled parts: BreachCount is their sum, and every report counts breaches that way.
type Figures struct {
	Total      int
	Sent       int
	Answered   int
	AckOnly    int
	AutoAcked  int
	Unanswered int
	Open       int
	Bounced    int
	Failed     int
	Unknown    int

	Ack              Summary
	Response         Summary
	BusinessResponse Summary

	SLA          map[Priority]Attainment
	Breaches     []string
	OpenBreached []string
}

// BreachCount is the number of breaches: decided breaches plus open probes past their
// target.
func (f Figures) BreachCount() int { return len(f.Breaches) + len(f.OpenBreached) }

// AnsweredRate returns the share of the probes with a known outcome that a person
// answered by the deadline: Answered / (Answered + Unanswered). Open and bounced probes
// are left out. ok is false when no probe has a known outcome.
func (f Figures) AnsweredRate() (rate float64, ok bool) {
	n := f.Answered + f.Unanswered
	if n == 0 {
		return 0, false
	}
	return float64(f.Answered) / float64(n), true
}

// Measured is a probe with its measurement as of one instant and its compiled business
// hours (NewBusinessHours of its Terms.Hours), all by pointer: figures over probes
// measured once (ComputeFrom, HeadlineOf) read them in place. Reports regroup the
// same measured probes per vendor and per breakdown, and copies of 500-byte probes were
// most of their cost.
type Measured struct {
	Probe *Probe
	M     *Measurement
	Hours *BusinessHours
}

type measured = Measured

func measureAll(ps []Probe, now time.Time) ([]measured, error) {
	ms := make([]Measurement, len(ps))
	for i, p := range ps {
		m, err := Measure(p, now)
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	// Measure has just accepted the same specs, so withHours cannot fail.
	return withHours(ps, ms)
}

// Compute returns the figures of ps as of now, from Measure applied to each probe; the
// error is Measure's (terms that cannot be interpreted, naming the probe).
//
// Latencies come only from probes that reached the vendor: failed, sending, unknown and
// bounced probes are counted but never enter a latency. Each of the rest gives one
// observation per distribution, within its observation window, which ends at its
// deadline, or at now if that comes first (never before SentAt):
//
//   - Response: an Answered probe is an event at its response latency. An Unanswered
//     probe is censored at its deadline (Terms.Deadline), also when a person answered
//     later: DESIGN.md defines the late answer as unanswered, and counting its latency
//     as an event would let late answers pull the estimate down. An Open probe is
//     censored at now − SentAt (never below zero).
//   - BusinessResponse: the same in the vendor's business time: the business latency of
//     an answer, else the business time from SentAt to the deadline or to now.
//   - Ack: time to first sign of life, the first auto_ack or human reply by the
//     deadline, whichever came first (DESIGN.md): a person's answer also acknowledges,
//     so a probe answered in 25 s with no automatic acknowledgement is an event at
//     25 s, not a probe still waiting for an ack. One within the window is an event;
//     otherwise the probe is censored at the end of its window. Whether an automatic
//     acknowledgement came at all is counted apart (AutoAcked).
func Compute(ps []Probe, now time.Time) (Figures, error) {
	ms, err := measureAll(ps, now)
	if err != nil {
		return Figures{}, err
	}
	return compute(ms, now), nil
}

// ComputeMeasured is Compute for probes already measured as of now: ms[i] must be
// Measure(ps[i], now). Callers that need the measurements themselves and the figures
// (reports) measure once; the error is for terms that cannot be interpreted.
func ComputeMeasured(ps []Probe, ms []Measurement, now time.Time) (Figures, error) {
	xs, err := withHours(ps, ms)
	if err != nil {
		return Figures{}, err
	}
	return compute(xs, now), nil
}

// BreakdownMeasured is Breakdown for probes already measured as of now: ms[i] must be
// Measure(ps[i], now).
func BreakdownMeasured(ps []Probe, ms []Measurement, now time.Time, by func(Probe, Measurement) string) (map[string]Figures, error) {
	xs, err := withHours(ps, ms)
	if err != nil {
		return nil, err
	}
	return breakdown(xs, now, by), nil
}

// withHours pairs probes with their measurements and compiled business hours.
func withHours(ps []Probe, ms []Measurement) ([]measured, error) {
	if len(ps) != len(ms) {
		return nil, fmt.Errorf("%d probes but %d measurements", len(ps), len(ms))
	}
	out := make([]measured, len(ps))
	// Consecutive probes of a vendor nearly always carry the same hours: compile (or
	// look up) a spec only when it changes.
	var last *BusinessHours
	for i := range ps {
		p := &ps[i]
		if last == nil || !sameHours(last.spec, p.Terms.Hours) {
			hours, err := NewBusinessHours(p.Terms.Hours)
			if err != nil {
				return nil, fmt.Errorf("probe %s: business hours: %w", p.ID, err)
			}
			last = &hours
		}
		out[i] = Measured{Probe: p, M: &ms[i], Hours: last}
	}
	return out, nil
}

// sameHours reports whether two specs are the same schedule, field by field.
func sameHours(a, b HoursSpec) bool {
	return a.Zone == b.Zone && a.Open == b.Open && a.Close == b.Close &&
		slices.Equal(a.Days, b.Days) && slices.Equal(a.Holidays, b.Holidays)
}

func compute(ms []measured, now time.Time) Figures {
	f := Figures{Total: len(ms), SLA: map[Priority]Attainment{}}
	ack, resp, biz := make([]Observation, 0, len(ms)), make([]Observation, 0, len(ms)), make([]Observation, 0, len(ms))
	var breaches, openBreached []*measured
	for i := range ms {
		x := &ms[i]
		p, m := x.Probe, x.M
		switch m.Status {
		case StatusFailed:
			f.Failed++
			continue
		case StatusSending, StatusUnknown:
			f.Unknown++
			continue
		case StatusBounced:
			f.Sent++
			f.Bounced++
			continue
		case StatusAnswered:
			f.Answered++
		case StatusUnanswered:
			f.Unanswered++
		case StatusSent, StatusAcknowledged:
			f.Open++
		default:
			// A status this code does not know would otherwise pass for a sent probe.
			f.Unknown++
			continue
		}
		f.Sent++

		// The end of the observation window: the deadline, or now if that comes first
		// (an open probe, or an answered one whose ack may still come). An unanswered
		// probe is censored at its deadline, as DESIGN.md defines.
		end := m.Deadline
		if m.Status != StatusUnanswered && now.Before(end) {
			end = now
		}
		if end.Before(p.SentAt) {
			end = p.SentAt
		}
		window := end.Sub(p.SentAt)

		if m.Status == StatusAnswered {
			resp = append(resp, Observation{Duration: *m.ResponseLatency, Event: true})
			biz = append(biz, Observation{Duration: *m.BusinessLatency, Event: true})
		} else {
			// The business time of the window only matters to a probe not answered.
			resp = append(resp, Observation{Duration: window})
			biz = append(biz, Observation{Duration: x.Hours.Between(p.SentAt, end)})
		}
		if m.SignOfLifeLatency != nil && *m.SignOfLifeLatency <= window {
			ack = append(ack, Observation{Duration: *m.SignOfLifeLatency, Event: true})
		} else {
			ack = append(ack, Observation{Duration: window})
		}
		if m.AckLatency != nil && *m.AckLatency <= window {
			f.AutoAcked++
			if m.Status != StatusAnswered {
				f.AckOnly++
			}
		}

		if p.Terms.SLA == nil {
			continue
		}
		a := f.SLA[p.Priority]
		a.tally(m.SLA)
		f.SLA[p.Priority] = a
		switch m.SLA {
		case SLABreached:
			breaches = append(breaches, x)
		case SLAOpenBreached:
			openBreached = append(openBreached, x)
		}
	}
	withWilson(f.SLA)
	f.Ack, f.Response, f.BusinessResponse = summarize(ack), summarize(resp), summarize(biz)
	f.Breaches, f.OpenBreached = probeIDs(breaches), probeIDs(openBreached)
	return f
}

// tally counts one probe's SLA state into a: met and breached (closed or still open)
// are decided, the others open or undecided.
func (a *Attainment) tally(s SLAState) {
	switch s {
	case SLAMet:
		a.Met++
		a.Decided++
	case SLABreached, SLAOpenBreached:
		a.Decided++
	case SLAOpen:
		a.Open++
	case SLAUndecided:
		a.Undecided++
	}
}

// withWilson sets each priority's attainment rate and its 95% Wilson interval.
func withWilson(sla map[Priority]Attainment) {
	for pr, a := range sla {
		a.Rate, a.Lo, a.Hi = Wilson(a.Met, a.Decided, Wilson95)
		sla[pr] = a
	}
}

// probeIDs returns the IDs of ms ordered by SentAt, then ID.
func probeIDs(ms []*measured) []string {
	slices.SortFunc(ms, func(a, b *measured) int {
		return cmp.Or(a.Probe.SentAt.Compare(b.Probe.SentAt), cmp.Compare(a.Probe.ID, b.Probe.ID))
	})
	if len(ms) == 0 {
		return nil
	}
	ids := make([]string, len(ms))
	for i, x := range ms {
		ids[i] = x.Probe.ID
	}
	return ids
}

// Breakdown groups ps by the key that by returns for each probe and its measurement as of
// now, and returns the figures of each group, as Compute would give them for the group
// alone. Every probe lands in the group its key names, the empty key included. The error
// is Measure's.
func Breakdown(ps []Probe, now time.Time, by func(Probe, Measurement) string) (map[string]Figures, error) {
	ms, err := measureAll(ps, now)
	if err != nil {
		return nil, err
	}
	return breakdown(ms, now, by), nil
}

func breakdown(ms []measured, now time.Time, by func(Probe, Measurement) string) map[string]Figures {
	keys := make([]string, len(ms))
	for i := range ms {
		keys[i] = by(*ms[i].Probe, *ms[i].M)
	}
	return breakdownKeys(ms, now, keys)
}

// breakdownKeys groups ms by keys[i] and computes each group.
func breakdownKeys(ms []measured, now time.Time, keys []string) map[string]Figures {
	sizes := map[string]int{}
	for _, k := range keys {
		sizes[k]++
	}
	groups := make(map[string][]measured, len(sizes))
	for i := range ms {
		if groups[keys[i]] == nil {
			groups[keys[i]] = make([]measured, 0, sizes[keys[i]])
		}
		groups[keys[i]] = append(groups[keys[i]], ms[i])
	}
	out := make(map[string]Figures, len(groups))
	for k, g := range groups {
		out[k] = compute(g, now)
	}
	return out
}

// ComputeFrom is Compute for probes already measured as of now (xs[i].M must be
// Measure(*xs[i].Probe, now), xs[i].Hours its compiled hours): the figures of the
// probes xs points to, in any order.
func ComputeFrom(xs []Measured, now time.Time) Figures { return compute(xs, now) }

// Headline is one probe's part in the headline figures (SumHeadlines), taken once by
// HeadlineOf: a few bytes that figures over many groupings of the same probes (a
// report's breakdowns, the previous period's comparison) read instead of the probe and
// its measurement, which are hundreds of bytes apart in memory.
type Headline struct {
	resp     Observation
	priority Priority
	outcome  headlineOutcome
	acked    bool // an automatic acknowledgement within the window (AutoAcked)
	target   bool // the probe has an SLA target
	sla      SLAState
}

type headlineOutcome uint8

const (
	outFailed headlineOutcome = iota
	outUnknown
	outBounced
	outAnswered
	outUnanswered
	outOpen
)

// HeadlineOf returns x's part in the headline figures as of now, as compute counts it.
func HeadlineOf(x Measured, now time.Time) Headline {
	p, m := x.Probe, x.M
	h := Headline{priority: p.Priority, target: p.Terms.SLA != nil, sla: m.SLA}
	switch m.Status {
	case StatusFailed:
		h.outcome = outFailed
		return h
	case StatusBounced:
		h.outcome = outBounced
		return h
	case StatusAnswered:
		h.outcome = outAnswered
	case StatusUnanswered:
		h.outcome = outUnanswered
	case StatusSent, StatusAcknowledged:
		h.outcome = outOpen
	default: // sending, unknown, and a status this code does not know
		h.outcome = outUnknown
		return h
	}
	end := m.Deadline
	if m.Status != StatusUnanswered && now.Before(end) {
		end = now
	}
	if end.Before(p.SentAt) {
		end = p.SentAt
	}
	window := end.Sub(p.SentAt)
	if m.Status == StatusAnswered {
		h.resp = Observation{Duration: *m.ResponseLatency, Event: true}
	} else {
		h.resp = Observation{Duration: window}
	}
	h.acked = m.AckLatency != nil && *m.AckLatency <= window
	return h
}

// SumHeadlines returns the headline figures of the probes whose parts hs holds: every
// count, Response and SLA as Compute gives them; Ack, BusinessResponse, Breaches and
// OpenBreached are left zero, which saves their estimates (and the business time of
// every window) where only the headlines are read.
func SumHeadlines(hs []Headline) Figures {
	f := Figures{Total: len(hs), SLA: map[Priority]Attainment{}}
	resp := make([]Observation, 0, len(hs))
	for i := range hs {
		h := &hs[i]
		switch h.outcome {
		case outFailed:
			f.Failed++
			continue
		case outUnknown:
			f.Unknown++
			continue
		case outBounced:
			f.Sent++
			f.Bounced++
			continue
		case outAnswered:
			f.Answered++
		case outUnanswered:
			f.Unanswered++
		case outOpen:
			f.Open++
		}
		f.Sent++
		resp = append(resp, h.resp)
		if h.acked {
			f.AutoAcked++
			if h.outcome != outAnswered {
				f.AckOnly++
			}
		}
		if !h.target {
			continue
		}
		a := f.SLA[h.priority]
		a.tally(h.sla)
		f.SLA[h.priority] = a
	}
	withWilson(f.SLA)
	f.Response = summarize(resp)
	return f
}

// ComputeHeadlines is SumHeadlines of xs measured as of now.
func ComputeHeadlines(xs []Measured, now time.Time) Figures {
	hs := make([]Headline, len(xs))
	for i, x := range xs {
		hs[i] = HeadlineOf(x, now)
	}
	return SumHeadlines(hs)
}

// ByVendor keys a probe by its vendor's name, for Breakdown.
func ByVendor(p Probe, _ Measurement) string { return p.Vendor }

// ByPriority keys a probe by its priority ("P1"), for Breakdown.
func ByPriority(p Probe, _ Measurement) string { return string(p.Priority) }

// ByLanguage keys a probe by its script's language, for Breakdown.
func ByLanguage(p Probe, _ Measurement) string { return p.Language }

// ByScript keys a probe by its script's ID, for Breakdown.
func ByScript(p Probe, _ Measurement) string { return p.Script }

// The keys ByAfterHours returns.
const (
	KeyAfterHours    = "after hours"
	KeyBusinessHours = "business hours"
)

// ByAfterHours keys a probe by whether it was sent outside the vendor's business hours
// (KeyAfterHours) or inside them (KeyBusinessHours), for Breakdown. A probe never
// confirmed sent (failed, unknown, sending) is judged at the instant it was attempted
// (see ByHourOfDay), so our own failures at night show up among the night's probes; it
// gets the empty key if it holds no time at all.
func ByAfterHours(p Probe, m Measurement) string {
	at := attemptedAt(p)
	if at.IsZero() {
		return ""
	}
	after := m.AfterHours
	if p.SentAt.IsZero() {
		hours, err := NewBusinessHours(p.Terms.Hours)
		if err != nil {
			return ""
		}
		after = !hours.IsOpen(at)
	}
	if after {
		return KeyAfterHours
	}
	return KeyBusinessHours
}

// ByHourOfDay keys a probe by the hour of day ("00" to "23") at which it was sent, on the
// wall clock of the vendor's zone (Terms.Hours.Zone), for Breakdown: a probe sent at 3
// a.m. local time is "03" in summer and in winter alike. A probe never confirmed sent is
// keyed by when it was attempted: ScheduledAt, else CreatedAt. It gets the empty key if
// it holds no time at all or its zone is unknown.
func ByHourOfDay(p Probe, _ Measurement) string {
	at := attemptedAt(p)
	loc, err := LoadZone(p.Terms.Hours.Zone)
	if at.IsZero() || err != nil || p.Terms.Hours.Zone == "" {
		return ""
	}
	return fmt.Sprintf("%02d", at.In(loc).Hour())
}

// attemptedAt returns when p was sent, or for a probe never confirmed sent, when it was
// attempted; zero if p holds no time.
func attemptedAt(p Probe) time.Time {
	for _, t := range []time.Time{p.SentAt, p.ScheduledAt, p.CreatedAt} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// Delta is the change of the headline figures from one period to the next, cur minus
// prev. A field is nil (or a priority absent) when either period lacks the figure, so a
// change is never made up from a missing value.
type Delta struct {
	// AnsweredRate is the change of Figures.AnsweredRate, as a fraction (0.1 is ten
	// percentage points).
	AnsweredRate *float64
	// MedianResponse is the change of the calendar median time to first response; nil
	// unless both medians were reached.
	MedianResponse *time.Duration
	// SLARate is the change of the SLA attainment rate per priority, as a fraction, for
	// the priorities with decided probes in both periods.
	SLARate map[Priority]float64
}

// Change compares two periods' figures. It accepts zero Figures.
func Change(prev, cur Figures) Delta {
	var d Delta
	if a, ok := prev.AnsweredRate(); ok {
		if b, ok := cur.AnsweredRate(); ok {
			v := b - a
			d.AnsweredRate = &v
		}
	}
	if prev.Response.N > 0 && cur.Response.N > 0 && prev.Response.Median.Reached && cur.Response.Median.Reached {
		v := cur.Response.Median.D - prev.Response.Median.D
		d.MedianResponse = &v
	}
	for pr, b := range cur.SLA {
		if a, ok := prev.SLA[pr]; ok && a.Decided > 0 && b.Decided > 0 {
			if d.SLARate == nil {
				d.SLARate = map[Priority]float64{}
			}
			d.SLARate[pr] = b.Rate - a.Rate
		}
	}
	return d
}
