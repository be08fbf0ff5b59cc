package probe_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/probe/view"
)

// The oracle: every generated history (oracle_gen_test.go) is measured by the code
// under test and, independently, by the definitions of DESIGN.md written out again
// here in the plainest form (business time counted quarter-hour by quarter-hour on the
// vendor's wall clock, statuses and SLA states from the replies in arrival order, a
// textbook Kaplan–Meier), and the two must agree. On top of that every history must
// satisfy invariants that hold whatever the definitions' details:
//
//   - no latency is negative, and a latency is never taken from an early or late reply;
//   - every sent probe with a target is in a decided SLA state once its deadline passed;
//   - late replies never make a probe answered or its SLA met (removing them changes
//     neither), and early replies count for nothing (removing them changes no figure);
//   - attainment counts and the breach list equal what the per-probe states give, and
//     the breach count is the breach list's length;
//   - the Kaplan–Meier median lies between the smallest and largest observed latency;
//   - the report's JSON agrees with a recomputation from `history --format json`;
//   - terms are stored with the probe: changing the configuration after creation, or
//     storing and reading the probe back, changes none of its figures.

// oracleHistories is how many histories TestOracleInvariants checks.
const oracleHistories = 10_000

// oracleSeed, when set, makes TestOracleInvariants check the history of that seed alone:
// `go test -run TestOracleInvariants ./probe -oracle.seed=N -v` lists it.
var oracleSeed = flag.Int64("oracle.seed", -1, "check only the generated history of this seed (TestOracleInvariants)")

// TestOracleInvariants checks the oracle on oracleHistories seeded histories (1,000
// with -short). A failure names the seed and lists the history.
//
// It also counts what the histories held, and fails if some case the oracle is there
// for never came up: a generator drifting into easy histories would otherwise pass
// everything while checking little.
func TestOracleInvariants(t *testing.T) {
	n := uint64(oracleHistories)
	if testing.Short() {
		n = 1_000
	}
	first := uint64(0)
	if *oracleSeed >= 0 {
		first, n = uint64(*oracleSeed), 1
	}
	start := time.Now()
	seen := oracleTally{}
	probes, replies := 0, 0
	for seed := first; seed < first+n; seed++ {
		h := oracleGen(seed)
		if *oracleSeed >= 0 {
			t.Logf("history seed %d, now %s:\n%s", seed, h.now.UTC().Format(time.RFC3339Nano), oracleDescribe(h))
		}
		if err := oracleCheckHistory(h, seen); err != nil {
			t.Fatalf("history seed %d (now %s): %v\n%s", seed, h.now.UTC().Format(time.RFC3339Nano), err, oracleDescribe(h))
		}
		probes += len(h.probes)
		for _, p := range h.probes {
			replies += len(p.Replies)
		}
	}
	t.Logf("%d histories, %d probes, %d replies checked in %v", n, probes, replies, time.Since(start).Round(time.Millisecond))
	if n < oracleHistories {
		return
	}
	t.Logf("cases: %v", seen)
	for _, c := range oracleCases {
		if seen[c] < 20 {
			t.Errorf("the histories held %d probes with %q, want at least 20: the generator no longer reaches that case", seen[c], c)
		}
	}
}

// oracleTally counts the cases the histories held, by name (see oracleCases).
type oracleTally map[string]int

// oracleCases are the cases TestOracleInvariants wants to see among its histories.
var oracleCases = []string{
	"status " + string(probe.StatusSent), "status " + string(probe.StatusAcknowledged), "status " + string(probe.StatusAnswered),
	"status " + string(probe.StatusUnanswered), "status " + string(probe.StatusBounced), "status " + string(probe.StatusFailed),
	"status " + string(probe.StatusUnknown), "status " + string(probe.StatusSending),
	"sla " + string(probe.SLAMet), "sla " + string(probe.SLABreached), "sla " + string(probe.SLAOpen),
	"sla " + string(probe.SLAOpenBreached), "sla " + string(probe.SLAUndecided), "sla " + string(probe.SLANone),
	"business sla met", "business sla breached", "business sla undecided",
	"early reply", "reply within the tolerance", "reply at the deadline", "late reply", "late response shown",
	"override", "after hours", "business hours", "dst change before the deadline", "holiday before the deadline",
	"sign of life from a person", "automatic ack before a person",
}

// count adds p's cases to seen.
func (seen oracleTally) count(p probe.Probe, e oracleExpected) {
	if seen == nil {
		return
	}
	seen["status "+string(e.status)]++
	seen["sla "+string(e.sla)]++
	if p.State != probe.StateSent {
		return
	}
	if p.Terms.SLA != nil && p.Terms.SLA.Clock == probe.Business {
		seen["business sla "+string(e.sla)]++
	}
	deadline := p.SentAt.Add(p.Terms.Deadline)
	for _, r := range p.Replies {
		local := r.ReceivedAt.Add(-p.ClockSkew)
		switch {
		case local.Before(p.SentAt.Add(-probe.ArrivalTolerance)):
			seen["early reply"]++
		case local.Before(p.SentAt):
			seen["reply within the tolerance"]++
		case local.Equal(deadline):
			seen["reply at the deadline"]++
		case local.After(deadline):
			seen["late reply"]++
		}
		if r.Override != nil {
			seen["override"]++
		}
	}
	if e.late >= 0 {
		seen["late response shown"]++
	}
	if e.afterHours {
		seen["after hours"]++
	} else {
		seen["business hours"]++
	}
	loc, _ := probe.LoadZone(p.Terms.Hours.Zone)
	if _, end := p.SentAt.In(loc).ZoneBounds(); !end.IsZero() && end.Before(deadline) {
		seen["dst change before the deadline"]++
	}
	for _, d := range p.Terms.Hours.Holidays {
		if day, err := time.ParseInLocation(time.DateOnly, d, loc); err == nil && day.After(p.SentAt.AddDate(0, 0, -1)) && day.Before(deadline) {
			seen["holiday before the deadline"]++
			break
		}
	}
	if e.sol >= 0 && e.sol == e.resp {
		seen["sign of life from a person"]++
	}
	if e.ack >= 0 && e.resp >= 0 && e.sol == e.ack {
		seen["automatic ack before a person"]++
	}
}

// FuzzFigures checks the oracle on the history generated from each seed the fuzzer
// tries.
func FuzzFigures(f *testing.F) {
	for _, s := range []uint64{0, 1, 42, 1 << 40, 0xdeadbeef} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		h := oracleGen(seed)
		h.seed = 0 // every check, through the JSON texts
		if err := oracleCheckHistory(h, nil); err != nil {
			t.Fatalf("history seed %d (now %s): %v\n%s", seed, h.now.UTC().Format(time.RFC3339Nano), err, oracleDescribe(h))
		}
	})
}

// oracleDescribe lists a history for a failure message.
func oracleDescribe(h oracleHistory) string {
	var b strings.Builder
	for _, p := range h.probes {
		fmt.Fprintf(&b, "  %s %s %s state=%s sent=%s skew=%v terms=%+v", p.ID, p.Vendor, p.Priority, p.State,
			p.SentAt.UTC().Format(time.RFC3339Nano), p.ClockSkew, p.Terms.Hours)
		if p.Terms.SLA != nil {
			fmt.Fprintf(&b, " sla=%v/%s", p.Terms.SLA.FirstResponse, p.Terms.SLA.Clock)
		}
		fmt.Fprintf(&b, " deadline=%v\n", p.Terms.Deadline)
		for _, r := range p.Replies {
			fmt.Fprintf(&b, "    %s %s received=%s (local %+v after sent)\n", r.ID, r.EffectiveKind(),
				r.ReceivedAt.UTC().Format(time.RFC3339Nano), r.ReceivedAt.Add(-p.ClockSkew).Sub(p.SentAt))
		}
	}
	return b.String()
}

// oracleBusiness is the business time in [a, b) for spec, counted independently of
// probe.BusinessHours, by walking the vendor's wall clock quarter hour by quarter hour
// (every zone the generator uses is offset from UTC by whole quarter hours and every
// opening time is on the quarter hour, so each piece is all open or all closed). On an
// open weekday that is no holiday the vendor opens the first time its wall clock shows
// the opening time or later on that date, and closes the first time after that it shows
// the closing time or the date changes: an hour that repeats when the clocks go back
// after closing time does not open the office again, and a day that starts late because
// the clocks went forward at midnight opens when it starts.
func oracleBusiness(spec probe.HoursSpec, a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if len(spec.Days) == 0 {
		return b.Sub(a)
	}
	var total time.Duration
	o := newOracleDay(spec, a)
	for t := o.t; t.Before(b); {
		next := t.Add(15 * time.Minute)
		if !o.step(t) {
			t = t.Add(o.closedFor(t))
			continue
		}
		{
			lo, hi := t, next
			if lo.Before(a) {
				lo = a
			}
			if hi.After(b) {
				hi = b
			}
			if hi.After(lo) {
				total += hi.Sub(lo)
			}
		}
		t = next
	}
	return total
}

// oracleDay walks a vendor's wall clock for oracleBusiness and oracleOpen.
type oracleDay struct {
	spec        probe.HoursSpec
	loc         *time.Location
	t           time.Time // the first quarter hour of the date the walk starts on
	y, d        int
	m           time.Month
	open, close int
	state       int // 0 not yet open today, 1 open, 2 closed for the rest of the date
}

// newOracleDay starts a walk at the first quarter hour of the local date of a.
func newOracleDay(spec probe.HoursSpec, a time.Time) *oracleDay {
	loc, err := probe.LoadZone(spec.Zone)
	if err != nil {
		panic(err)
	}
	clock := func(s string) int { return int(s[0]-'0')*600 + int(s[1]-'0')*60 + int(s[3]-'0')*10 + int(s[4]-'0') }
	o := &oracleDay{spec: spec, loc: loc, open: clock(spec.Open), close: clock(spec.Close)}
	y, m, d := a.In(loc).Date()
	t := a.Truncate(15 * time.Minute)
	for {
		py, pm, pd := t.Add(-15 * time.Minute).In(loc).Date()
		if py != y || pm != m || pd != d {
			break
		}
		t = t.Add(-15 * time.Minute)
	}
	o.t = t
	return o
}

// step advances the walk to the quarter hour starting at t (the walk's next one) and
// reports whether the vendor is open during it.
func (o *oracleDay) step(t time.Time) bool {
	lt := t.In(o.loc)
	if y, m, d := lt.Date(); y != o.y || m != o.m || d != o.d {
		o.y, o.m, o.d, o.state = y, m, d, 0
		if !slices.Contains(o.spec.Days, strings.ToLower(lt.Weekday().String()[:3])) || slices.Contains(o.spec.Holidays, lt.Format(time.DateOnly)) {
			o.state = 2
		}
	}
	tod := lt.Hour()*60 + lt.Minute()
	if o.state == 0 && tod >= o.open {
		o.state = 1
	}
	if o.state == 1 && tod >= o.close {
		o.state = 2
	}
	return o.state == 1
}

// closedFor returns how long from t, a quarter hour at which the walk found the vendor
// closed, it certainly stays closed: until an hour before its wall clock could show the
// opening time or the next date (a DST change moves the clock by an hour at most), in
// whole quarter hours, and at least one.
func (o *oracleDay) closedFor(t time.Time) time.Duration {
	lt := t.In(o.loc)
	tod := lt.Hour()*60 + lt.Minute()
	until := 24 * 60
	if o.state == 0 {
		until = o.open
	}
	return max(time.Duration(until-tod-60)*time.Minute, 15*time.Minute).Truncate(15 * time.Minute)
}

// oracleOpen reports whether the vendor is open at t, by the walk of oracleBusiness.
func oracleOpen(spec probe.HoursSpec, t time.Time) bool {
	if len(spec.Days) == 0 {
		return true
	}
	return oracleBusiness(spec, t, t.Add(time.Millisecond)) > 0
}

// oracleExpected is a probe's figures as the oracle derives them. Reply indices point into
// the probe's Replies; -1 is none.
type oracleExpected struct {
	status                  probe.Status
	sla                     probe.SLAState
	afterHours              bool
	resp, ack, sol, late    int
	respLat, ackLat, solLat time.Duration
	bizLat                  time.Duration
	early                   []int
}

// oracleExpect derives p's figures as of now from DESIGN.md's definitions.
func oracleExpect(p probe.Probe, now time.Time) oracleExpected {
	e := oracleExpected{resp: -1, ack: -1, sol: -1, late: -1, sla: probe.SLANone}
	switch p.State {
	case probe.StateSending:
		e.status = probe.StatusSending
		return e
	case probe.StateFailed:
		e.status = probe.StatusFailed
		return e
	case probe.StateUnknown:
		e.status = probe.StatusUnknown
		return e
	}
	e.afterHours = !oracleOpen(p.Terms.Hours, p.SentAt)
	deadline := p.SentAt.Add(p.Terms.Deadline)
	// Arrival order on the server's clock, the earlier stored first at equal times.
	order := make([]int, len(p.Replies))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return p.Replies[i].ReceivedAt.Compare(p.Replies[j].ReceivedAt) })
	lat := func(i int) time.Duration {
		d := p.Replies[i].ReceivedAt.Add(-p.ClockSkew).Sub(p.SentAt)
		if d < 0 {
			return 0 // within the tolerance: arrived "at" sent_at
		}
		return d
	}
	bounced := false
	for _, i := range order {
		r := p.Replies[i]
		local := r.ReceivedAt.Add(-p.ClockSkew)
		kind := r.Kind
		if r.Override != nil {
			kind = r.Override.Kind
		}
		switch {
		case local.Before(p.SentAt.Add(-probe.ArrivalTolerance)):
			e.early = append(e.early, i)
			continue
		case local.After(deadline):
			if kind == probe.KindHuman && e.resp < 0 && e.late < 0 {
				e.late = i
			}
			continue
		}
		switch kind {
		case probe.KindHuman:
			if e.resp < 0 {
				e.resp, e.respLat = i, lat(i)
				e.bizLat = oracleBusiness(p.Terms.Hours, p.SentAt, p.SentAt.Add(e.respLat))
			}
		case probe.KindAutoAck:
			if e.ack < 0 {
				e.ack, e.ackLat = i, lat(i)
			}
		case probe.KindBounce:
			bounced = true
		}
		if (kind == probe.KindHuman || kind == probe.KindAutoAck) && e.sol < 0 {
			e.sol, e.solLat = i, lat(i)
		}
	}
	ended := !now.Before(deadline)
	switch {
	case e.resp >= 0:
		e.status = probe.StatusAnswered
	case bounced:
		e.status = probe.StatusBounced
	case ended:
		e.status = probe.StatusUnanswered
	case e.ack >= 0:
		e.status = probe.StatusAcknowledged
	default:
		e.status = probe.StatusSent
	}
	t := p.Terms.SLA
	if t == nil || e.status == probe.StatusBounced {
		return e
	}
	elapsed := func(d time.Duration) time.Duration {
		if t.Clock == probe.Business {
			return oracleBusiness(p.Terms.Hours, p.SentAt, p.SentAt.Add(d))
		}
		return d
	}
	if e.resp >= 0 {
		e.sla = probe.SLABreached
		if elapsed(e.respLat) <= t.FirstResponse {
			e.sla = probe.SLAMet
		}
		return e
	}
	waited := elapsed(oracleEarliest(now, deadline).Sub(p.SentAt))
	switch {
	case waited > t.FirstResponse && ended:
		e.sla = probe.SLABreached
	case waited > t.FirstResponse:
		e.sla = probe.SLAOpenBreached
	case ended:
		e.sla = probe.SLAUndecided
	default:
		e.sla = probe.SLAOpen
	}
	return e
}

// oracleIndex returns r's position in p.Replies, -1 for nil.
func oracleIndex(p probe.Probe, r *probe.Reply) int {
	if r == nil {
		return -1
	}
	for i := range p.Replies {
		if &p.Replies[i] == r {
			return i
		}
	}
	return -2 // not a pointer into p.Replies
}

func oracleDurIs(name string, got *time.Duration, want time.Duration, present bool) error {
	switch {
	case (got != nil) != present:
		return fmt.Errorf("%s = %v, want present=%v", name, oracleDurText(got), present)
	case got != nil && *got < 0:
		return fmt.Errorf("%s = %v is negative", name, *got)
	case got != nil && *got != want:
		return fmt.Errorf("%s = %v, want %v", name, *got, want)
	}
	return nil
}

func oracleDurText(d *time.Duration) string {
	if d == nil {
		return "nil"
	}
	return d.String()
}

// oracleCheckProbe compares Measure(p, now) with the oracle and checks the per-probe
// invariants; it returns m for the history's checks.
func oracleCheckProbe(p probe.Probe, now time.Time) (probe.Measurement, oracleExpected, error) {
	m, err := probe.Measure(p, now)
	if err != nil {
		return m, oracleExpected{}, fmt.Errorf("probe %s: Measure: %w", p.ID, err)
	}
	e := oracleExpect(p, now)
	fail := func(format string, args ...any) (probe.Measurement, oracleExpected, error) {
		return m, e, fmt.Errorf("probe %s: "+format, append([]any{p.ID}, args...)...)
	}
	if m.Status != e.status || m.SLA != e.sla {
		return fail("Measure = %s, sla %s; oracle says %s, sla %s", m.Status, m.SLA, e.status, e.sla)
	}
	if p.State != probe.StateSent {
		if m.FirstResponse != nil || m.FirstAck != nil || m.FirstSignOfLife != nil || m.ResponseLatency != nil {
			return fail("a probe never sent (%s) has a reply figure", p.State)
		}
		return m, e, nil
	}
	if m.AfterHours != e.afterHours {
		return fail("AfterHours = %v, oracle says %v (sent %s)", m.AfterHours, e.afterHours, p.SentAt)
	}
	if g := oracleIndex(p, m.FirstResponse); g != e.resp {
		return fail("FirstResponse = reply #%d, oracle says #%d", g, e.resp)
	}
	if g := oracleIndex(p, m.FirstAck); g != e.ack {
		return fail("FirstAck = reply #%d, oracle says #%d", g, e.ack)
	}
	if g := oracleIndex(p, m.FirstSignOfLife); g != e.sol {
		return fail("FirstSignOfLife = reply #%d, oracle says #%d", g, e.sol)
	}
	if g := oracleIndex(p, m.LateResponse); g != e.late {
		return fail("LateResponse = reply #%d, oracle says #%d", g, e.late)
	}
	var early []int
	for _, r := range m.Early {
		early = append(early, oracleIndex(p, r))
	}
	if slices.Sort(early); !slices.Equal(early, slices.Sorted(slices.Values(e.early))) {
		return fail("Early = %v, oracle says %v", early, e.early)
	}
	for _, c := range []error{
		oracleDurIs("ResponseLatency", m.ResponseLatency, e.respLat, e.resp >= 0),
		oracleDurIs("BusinessLatency", m.BusinessLatency, e.bizLat, e.resp >= 0),
		oracleDurIs("AckLatency", m.AckLatency, e.ackLat, e.ack >= 0),
		oracleDurIs("SignOfLifeLatency", m.SignOfLifeLatency, e.solLat, e.sol >= 0),
	} {
		if c != nil {
			return fail("%v", c)
		}
	}
	if m.BusinessLatency != nil && *m.BusinessLatency > *m.ResponseLatency {
		return fail("business latency %v exceeds calendar latency %v", *m.BusinessLatency, *m.ResponseLatency)
	}
	if m.SignOfLifeLatency != nil && (m.ResponseLatency != nil && *m.SignOfLifeLatency > *m.ResponseLatency ||
		m.AckLatency != nil && *m.SignOfLifeLatency > *m.AckLatency) {
		return fail("first sign of life %v comes after the first ack %v or response %v", *m.SignOfLifeLatency, oracleDurText(m.AckLatency), oracleDurText(m.ResponseLatency))
	}
	for _, r := range []*probe.Reply{m.FirstResponse, m.FirstAck, m.FirstSignOfLife} {
		if r != nil && (p.IsLate(*r) || p.IsEarly(*r)) {
			return fail("reply %s counts although late=%v early=%v", r.ID, p.IsLate(*r), p.IsEarly(*r))
		}
	}
	// The instant a business-clock target passes, as BusinessHours.Add gives it (what
	// the generator aims replies at), is when that much business time has passed.
	if t := p.Terms.SLA; t != nil && t.Clock == probe.Business {
		at := probe.MustBusinessHours(p.Terms.Hours).Add(p.SentAt, t.FirstResponse)
		if got := oracleBusiness(p.Terms.Hours, p.SentAt, at); !at.IsZero() && got != t.FirstResponse {
			return fail("BusinessHours.Add(sent, %v) = %s, but the business time to then is %v", t.FirstResponse, at, got)
		}
	}
	// Past the deadline every probe with a target is decided.
	if p.Terms.SLA != nil && !now.Before(m.Deadline) && m.Status != probe.StatusBounced {
		switch m.SLA {
		case probe.SLAMet, probe.SLABreached, probe.SLAUndecided:
		default:
			return fail("past its deadline the SLA state is %s, not decided", m.SLA)
		}
	}
	// Late replies count for nothing but LateResponse, early ones for nothing at all.
	strip := func(drop func(probe.Reply) bool) probe.Probe {
		q := p
		q.Replies = slices.DeleteFunc(slices.Clone(p.Replies), drop)
		return q
	}
	if mq, err := probe.Measure(strip(p.IsLate), now); err != nil || mq.Status != m.Status || mq.SLA != m.SLA || oracleKey(mq) != oracleKey(m) {
		return fail("late replies changed the figures: with %s, sla %s %s; without %s, sla %s %s (err %v)", m.Status, m.SLA, oracleKey(m), mq.Status, mq.SLA, oracleKey(mq), err)
	}
	if mq, err := probe.Measure(strip(p.IsEarly), now); err != nil || oracleKey(mq) != oracleKey(m) || len(mq.Early) != 0 {
		return fail("early replies changed the figures: with %s; without %s (err %v)", oracleKey(m), oracleKey(mq), err)
	}
	return m, e, nil
}

// oracleKey prints the figures of m that do not depend on where its replies are stored.
func oracleKey(m probe.Measurement) string {
	id := func(r *probe.Reply) string {
		if r == nil {
			return "-"
		}
		return r.ID
	}
	return fmt.Sprintf("%s/%s/after=%v/resp=%s %s biz %s/ack=%s %s/sol=%s %s/deadline=%s", m.Status, m.SLA, m.AfterHours,
		id(m.FirstResponse), oracleDurText(m.ResponseLatency), oracleDurText(m.BusinessLatency), id(m.FirstAck), oracleDurText(m.AckLatency),
		id(m.FirstSignOfLife), oracleDurText(m.SignOfLifeLatency), m.Deadline.UTC().Format(time.RFC3339Nano))
}

// oracleEarliest returns the earlier of a and b.
func oracleEarliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// oracleObs is one observation of the oracle's Kaplan–Meier estimate.
type oracleObs struct {
	d     time.Duration
	event bool
}

// oracleQuantile is the textbook product-limit q-quantile: the smallest event time at
// which the estimated survival is at most 1−q; reached false (and the largest observed
// time) when it never gets that low.
func oracleQuantile(xs []oracleObs, q float64) (time.Duration, bool) {
	xs = slices.Clone(xs)
	slices.SortStableFunc(xs, func(a, b oracleObs) int { return cmp.Compare(a.d, b.d) })
	s, atRisk := 1.0, len(xs)
	for i := 0; i < len(xs); {
		j, events := i, 0
		for ; j < len(xs) && xs[j].d == xs[i].d; j++ {
			if xs[j].event {
				events++
			}
		}
		if events > 0 {
			s *= float64(atRisk-events) / float64(atRisk)
			if s <= 1-q+1e-9 {
				return xs[i].d, true
			}
		}
		atRisk -= j - i
		i = j
	}
	if len(xs) == 0 {
		return 0, false
	}
	return xs[len(xs)-1].d, false
}

// oracleMedian is oracleQuantile(xs, 0.5).
func oracleMedian(xs []oracleObs) (time.Duration, bool) { return oracleQuantile(xs, 0.5) }

// oracleCheckMedian checks a Summary against the oracle's observations.
func oracleCheckMedian(name string, s probe.Summary, xs []oracleObs) error {
	events := 0
	var lo, hi time.Duration
	for _, o := range xs {
		if o.event {
			if events == 0 || o.d < lo {
				lo = o.d
			}
			hi = max(hi, o.d)
			events++
		}
	}
	if s.N != len(xs) || s.Events != events {
		return fmt.Errorf("%s: N %d, events %d; oracle says %d, %d", name, s.N, s.Events, len(xs), events)
	}
	d, reached := oracleMedian(xs)
	if len(xs) > 0 && (s.Median.D != d || s.Median.Reached != reached) {
		return fmt.Errorf("%s: median %v (reached %v); oracle says %v (reached %v) over %v", name, s.Median.D, s.Median.Reached, d, reached, xs)
	}
	if d, reached := oracleQuantile(xs, 0.9); len(xs) > 0 && (s.P90.D != d || s.P90.Reached != reached) {
		return fmt.Errorf("%s: p90 %v (reached %v); oracle says %v (reached %v) over %v", name, s.P90.D, s.P90.Reached, d, reached, xs)
	}
	if s.P90.Reached && s.Median.Reached && s.P90.D < s.Median.D || !s.Median.Reached && s.P90.Reached {
		return fmt.Errorf("%s: p90 %v (reached %v) below the median %v (reached %v)", name, s.P90.D, s.P90.Reached, s.Median.D, s.Median.Reached)
	}
	if s.Median.Reached && (s.Median.D < lo || s.Median.D > hi) {
		return fmt.Errorf("%s: median %v outside the observed latencies [%v, %v]", name, s.Median.D, lo, hi)
	}
	return nil
}

// oracleCheckHistory runs every check on h.
func oracleCheckHistory(h oracleHistory, seen oracleTally) error {
	now := h.now
	ms := make([]probe.Measurement, len(h.probes))
	es := make([]oracleExpected, len(h.probes))
	for i, p := range h.probes {
		var err error
		if ms[i], es[i], err = oracleCheckProbe(p, now); err != nil {
			return err
		}
		seen.count(p, es[i])
	}
	f, err := probe.Compute(h.probes, now)
	if err != nil {
		return fmt.Errorf("Compute: %w", err)
	}
	if err := oracleCheckFigures(h, es, f); err != nil {
		return err
	}
	if err := oracleCheckHeadlines(h, ms, f); err != nil {
		return err
	}
	withJSON := h.seed%jsonEvery == 0
	if err := oracleCheckStoredTerms(h, f, withJSON); err != nil {
		return err
	}
	if h.seed%reportEvery != 0 {
		return nil
	}
	return oracleCheckReport(h, withJSON)
}

// oracleCheckHeadlines checks the figures computed from probes measured once
// (ComputeFrom, ComputeHeadlines, and SumHeadlines over groups of HeadlineOf's parts,
// as reports use them) against Compute's f and Breakdown's: the same, but for what the
// headline forms document as left out, over the probes in their order and reversed.
func oracleCheckHeadlines(h oracleHistory, ms []probe.Measurement, f probe.Figures) error {
	xs := make([]probe.Measured, len(h.probes))
	for i := range h.probes {
		hours, err := probe.NewBusinessHours(h.probes[i].Terms.Hours)
		if err != nil {
			return err
		}
		xs[i] = probe.Measured{Probe: &h.probes[i], M: &ms[i], Hours: &hours}
	}
	// Figures are compared as printed: an SLA rate over nothing decided is NaN, which
	// reflect.DeepEqual never finds equal to itself.
	same := func(a, b probe.Figures) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }
	headline := func(f probe.Figures) probe.Figures {
		f.Ack, f.BusinessResponse, f.Breaches, f.OpenBreached = probe.Summary{}, probe.Summary{}, nil, nil
		return f
	}
	rev := slices.Clone(xs)
	slices.Reverse(rev)
	for _, order := range [][]probe.Measured{xs, rev} {
		if got := probe.ComputeFrom(order, h.now); !same(got, f) {
			return fmt.Errorf("ComputeFrom = %+v, Compute = %+v", got, f)
		}
		if got, want := probe.ComputeHeadlines(order, h.now), headline(f); !same(got, want) {
			return fmt.Errorf("ComputeHeadlines = %+v, want %+v", got, want)
		}
	}
	for _, by := range []func(probe.Probe, probe.Measurement) string{probe.ByVendor, probe.ByPriority, probe.ByAfterHours, probe.ByHourOfDay} {
		full, err := probe.Breakdown(h.probes, h.now, by)
		if err != nil {
			return err
		}
		keys := make([]string, len(xs))
		for i, x := range xs {
			keys[i] = by(*x.Probe, *x.M)
		}
		parts := map[string][]probe.Headline{}
		for i, x := range xs {
			parts[keys[i]] = append(parts[keys[i]], probe.HeadlineOf(x, h.now))
		}
		if len(parts) != len(full) {
			return fmt.Errorf("%d groups of headlines, Breakdown has %d", len(parts), len(full))
		}
		for k, g := range parts {
			if got, want := probe.SumHeadlines(g), headline(full[k]); !same(got, want) {
				return fmt.Errorf("SumHeadlines of group %q = %+v, want %+v", k, got, want)
			}
		}
	}
	return nil
}

// reportEvery and jsonEvery keep TestOracleInvariants within a few seconds on a busy
// machine: building a report (every breakdown, curve and chart) costs more than all the
// other checks of a history together, so one history in reportEvery is also checked at
// the report level, and one in jsonEvery (a multiple of reportEvery) goes through the
// JSON texts themselves (history's and the report's, and the store's encoding of the
// probes) rather than the values they encode. What encoding could change (a field's
// name, a time's zone, a rounding) is the same for every history. FuzzFigures does all
// of it for every input.
const (
	reportEvery = 4
	jsonEvery   = 40
)

// oracleCheckFigures compares Compute's figures with the oracle's per-probe states.
func oracleCheckFigures(h oracleHistory, es []oracleExpected, f probe.Figures) error {
	var want probe.Figures
	want.Total = len(h.probes)
	sla := map[probe.Priority]probe.Attainment{}
	var breached, openBreached []string
	var resp, biz, ack []oracleObs
	for i, p := range h.probes {
		e := es[i]
		switch e.status {
		case probe.StatusFailed:
			want.Failed++
			continue
		case probe.StatusSending, probe.StatusUnknown:
			want.Unknown++
			continue
		case probe.StatusBounced:
			want.Sent++
			want.Bounced++
			continue
		case probe.StatusAnswered:
			want.Answered++
		case probe.StatusUnanswered:
			want.Unanswered++
		default:
			want.Open++
		}
		want.Sent++
		end := oracleEarliest(h.now, p.SentAt.Add(p.Terms.Deadline))
		if e.status == probe.StatusUnanswered {
			end = p.SentAt.Add(p.Terms.Deadline)
		}
		window := end.Sub(p.SentAt)
		if e.status == probe.StatusAnswered {
			resp = append(resp, oracleObs{e.respLat, true})
			biz = append(biz, oracleObs{e.bizLat, true})
		} else {
			resp = append(resp, oracleObs{d: window})
			biz = append(biz, oracleObs{d: oracleBusiness(p.Terms.Hours, p.SentAt, end)})
		}
		if e.sol >= 0 {
			ack = append(ack, oracleObs{e.solLat, true})
		} else {
			ack = append(ack, oracleObs{d: window})
		}
		if e.ack >= 0 {
			want.AutoAcked++
			if e.status != probe.StatusAnswered {
				want.AckOnly++
			}
		}
		if p.Terms.SLA == nil {
			continue
		}
		a := sla[p.Priority]
		switch e.sla {
		case probe.SLAMet:
			a.Met++
			a.Decided++
		case probe.SLABreached:
			a.Decided++
			breached = append(breached, p.ID)
		case probe.SLAOpenBreached:
			a.Decided++
			openBreached = append(openBreached, p.ID)
		case probe.SLAOpen:
			a.Open++
		case probe.SLAUndecided:
			a.Undecided++
		}
		sla[p.Priority] = a
	}
	got := [...]int{f.Total, f.Sent, f.Answered, f.Unanswered, f.Open, f.Bounced, f.Failed, f.Unknown, f.AckOnly, f.AutoAcked}
	exp := [...]int{want.Total, want.Sent, want.Answered, want.Unanswered, want.Open, want.Bounced, want.Failed, want.Unknown, want.AckOnly, want.AutoAcked}
	if got != exp {
		return fmt.Errorf("Compute counts (total sent answered unanswered open bounced failed unknown ack_only auto_acked) = %v; oracle says %v", got, exp)
	}
	if f.Sent != f.Answered+f.Unanswered+f.Open+f.Bounced || f.Total != f.Sent+f.Failed+f.Unknown {
		return fmt.Errorf("Compute counts do not partition the probes: %+v", got)
	}
	if len(f.SLA) != len(sla) {
		return fmt.Errorf("Compute SLA has %d priorities, oracle %d", len(f.SLA), len(sla))
	}
	for pr, a := range sla {
		g := f.SLA[pr]
		if g.Met != a.Met || g.Decided != a.Decided || g.Open != a.Open || g.Undecided != a.Undecided {
			return fmt.Errorf("attainment %s = met %d decided %d open %d undecided %d; per-probe states give %d %d %d %d",
				pr, g.Met, g.Decided, g.Open, g.Undecided, a.Met, a.Decided, a.Open, a.Undecided)
		}
	}
	bySent := func(ids []string) []string {
		slices.SortFunc(ids, func(a, b string) int {
			pa, pb := h.probes[oracleProbeIndex(h, a)], h.probes[oracleProbeIndex(h, b)]
			return cmp.Or(pa.SentAt.Compare(pb.SentAt), cmp.Compare(a, b))
		})
		return ids
	}
	if !slices.Equal(f.Breaches, bySent(breached)) || !slices.Equal(f.OpenBreached, bySent(openBreached)) {
		return fmt.Errorf("breaches %v + open %v; per-probe states give %v + %v", f.Breaches, f.OpenBreached, breached, openBreached)
	}
	if f.BreachCount() != len(breached)+len(openBreached) {
		return fmt.Errorf("BreachCount %d, breach list has %d", f.BreachCount(), len(breached)+len(openBreached))
	}
	for _, c := range []error{
		oracleCheckMedian("Response", f.Response, resp), oracleCheckMedian("BusinessResponse", f.BusinessResponse, biz), oracleCheckMedian("Ack", f.Ack, ack),
	} {
		if c != nil {
			return c
		}
	}
	return nil
}

func oracleProbeIndex(h oracleHistory, id string) int {
	return slices.IndexFunc(h.probes, func(p probe.Probe) bool { return p.ID == id })
}

// oracleCheckStoredTerms checks that a probe's figures come from the terms stored with it:
// terms taken from a vendor's configuration do not change when the configuration does,
// and a probe stored as JSON and read back has the same figures.
func oracleCheckStoredTerms(h oracleHistory, f probe.Figures, withJSON bool) error {
	stored := make([]probe.Probe, len(h.probes))
	for i, p := range h.probes {
		// Creation: the terms come from the vendor's configuration in force.
		spec := p.Terms.Hours
		spec.Days, spec.Holidays = slices.Clone(spec.Days), slices.Clone(spec.Holidays)
		v := probe.Vendor{Name: p.Vendor, Hours: probe.MustBusinessHours(spec), Deadline: p.Terms.Deadline, SLA: map[probe.Priority]probe.SLATarget{}}
		if p.Terms.SLA != nil {
			v.SLA[p.Priority] = *p.Terms.SLA
		}
		tm := v.Terms(p.Priority)
		if !reflect.DeepEqual(oracleNormTerms(tm), oracleNormTerms(p.Terms)) {
			return fmt.Errorf("probe %s: Vendor.Terms = %+v, want the configuration's %+v", p.ID, tm, p.Terms)
		}
		// The configuration changes afterwards: other hours, holidays, target, deadline.
		for i := range spec.Holidays {
			spec.Holidays[i] = "2030-01-01"
		}
		for i := range spec.Days {
			spec.Days[i] = "sun"
		}
		v.Hours = oracleTokyoSaturdays
		v.SLA[p.Priority] = probe.SLATarget{FirstResponse: time.Nanosecond, Clock: probe.Calendar}
		v.Deadline = time.Minute
		if !reflect.DeepEqual(oracleNormTerms(tm), oracleNormTerms(p.Terms)) {
			return fmt.Errorf("probe %s: changing the configuration changed its stored terms to %+v", p.ID, tm)
		}
		stored[i] = p
		stored[i].Terms = tm
	}
	// The terms are equal, so the figures are; what remains is storing the probes and
	// reading them back, as the store does (JSON).
	if !withJSON {
		return nil
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("marshal the probes: %w", err)
	}
	stored = nil
	if err := json.Unmarshal(b, &stored); err != nil {
		return fmt.Errorf("unmarshal the probes: %w", err)
	}
	for i, p := range h.probes {
		m0, _ := probe.Measure(p, h.now)
		m1, err := probe.Measure(stored[i], h.now)
		if err != nil || oracleKey(m0) != oracleKey(m1) {
			return fmt.Errorf("probe %s: stored and read back, its figures changed from %s to %s (err %v)", p.ID, oracleKey(m0), oracleKey(m1), err)
		}
	}
	g, err := probe.Compute(stored, h.now)
	if err != nil {
		return fmt.Errorf("Compute(stored): %w", err)
	}
	if a, b := fmt.Sprintf("%+v", f), fmt.Sprintf("%+v", g); a != b {
		return fmt.Errorf("figures changed when the probes were stored and read back:\n%s\n%s", a, b)
	}
	return nil
}

// oracleTokyoSaturdays are the business hours the configuration changes to in
// oracleCheckStoredTerms.
var oracleTokyoSaturdays = probe.MustBusinessHours(probe.HoursSpec{Zone: "Asia/Tokyo", Days: []string{"sat"}, Open: "10:00", Close: "11:00"})

// oracleNormTerms treats nil and empty slices alike (JSON's omitempty makes one the other).
func oracleNormTerms(t probe.Terms) probe.Terms {
	if len(t.Hours.Days) == 0 {
		t.Hours.Days = nil
	}
	if len(t.Hours.Holidays) == 0 {
		t.Hours.Holidays = nil
	}
	return t
}

// oracleCheckReport builds the report of h as `report --format json` prints it and checks it
// against a recomputation from the records `history --format json` prints; withJSON
// says whether to go through the printed JSON texts or take the values they encode.
func oracleCheckReport(h oracleHistory, withJSON bool) error {
	hist, err := view.Records(h.probes, h.now)
	if err != nil {
		return fmt.Errorf("view.Records: %w", err)
	}
	rep, err := report.Build(h.probes, nil, report.Options{Since: h.now.Add(-30 * 24 * time.Hour), Until: h.now.Add(time.Hour), Now: h.now})
	if err != nil {
		return fmt.Errorf("report.Build: %w", err)
	}
	if withJSON {
		var hj, rj bytes.Buffer
		if err := view.WriteJSON(&hj, hist); err != nil {
			return fmt.Errorf("history JSON: %w", err)
		}
		if err := rep.WriteJSON(&rj); err != nil {
			return fmt.Errorf("report JSON: %w", err)
		}
		// The text prints the same breach count.
		var txt bytes.Buffer
		if err := rep.WriteText(&txt); err != nil {
			return fmt.Errorf("report text: %w", err)
		}
		want := "SLA BREACHES: none"
		if n := len(rep.Breaches); n > 0 {
			want = fmt.Sprintf("SLA BREACHES (%d: ", n)
		}
		if !strings.Contains(txt.String(), want) {
			return fmt.Errorf("the text report does not say %q:\n%s", want, txt.String())
		}
		hist, rep = nil, report.Report{}
		if err := json.Unmarshal(hj.Bytes(), &hist); err != nil {
			return fmt.Errorf("read history JSON: %w", err)
		}
		if err := json.Unmarshal(rj.Bytes(), &rep); err != nil {
			return fmt.Errorf("read report JSON: %w", err)
		}
	}
	return oracleAgree(rep, hist, h.now)
}

// oracleFromHistory is what a script reading `history --format json` works out for one
// vendor, or for all of them.
type oracleFromHistory struct {
	counts     report.Counts
	resp, ack  []oracleObs
	bizN, bizE int
	sla        map[probe.Priority]*report.Attainment
	bars       []report.Bar
}

func (x *oracleFromHistory) add(rec view.Record, now time.Time) {
	c := &x.counts
	c.Total++
	switch rec.Status {
	case probe.StatusFailed:
		c.Failed++
		return
	case probe.StatusSending, probe.StatusUnknown:
		c.Unknown++
		return
	case probe.StatusBounced:
		c.Sent++
		c.Bounced++
		return
	case probe.StatusAnswered:
		c.Answered++
	case probe.StatusUnanswered:
		c.Unanswered++
	default:
		c.Open++
	}
	c.Sent++
	if rec.FirstAckAt != nil {
		c.AutoAcked++
		if rec.Status != probe.StatusAnswered {
			c.AckOnly++
		}
	}
	end := *rec.Deadline
	if rec.Status != probe.StatusUnanswered && now.Before(end) {
		end = now
	}
	window := end.Sub(*rec.SentAt)
	ms := func(s *float64) time.Duration { return time.Duration(*s*1000+0.5) * time.Millisecond }
	bar := report.Bar{ProbeID: rec.ID, Priority: rec.Priority, Status: rec.Status, SLA: rec.SLA, AfterHours: *rec.AfterHours,
		State: oracleChartState(rec.Status, rec.SLA)}
	x.bizN++
	if rec.Status == probe.StatusAnswered {
		x.resp = append(x.resp, oracleObs{ms(rec.ResponseLatencySeconds), true})
		x.bizE++
		bar.Seconds = *rec.ResponseLatencySeconds
	} else {
		x.resp = append(x.resp, oracleObs{d: window})
		bar.Seconds, bar.Censored = window.Seconds(), true
	}
	x.bars = append(x.bars, bar)
	if rec.SignOfLifeLatencySeconds != nil {
		x.ack = append(x.ack, oracleObs{ms(rec.SignOfLifeLatencySeconds), true})
	} else {
		x.ack = append(x.ack, oracleObs{d: window})
	}
	if rec.SLATargetSeconds == nil || rec.SLA == probe.SLANone {
		return
	}
	if x.sla == nil {
		x.sla = map[probe.Priority]*report.Attainment{}
	}
	a := x.sla[rec.Priority]
	if a == nil {
		a = &report.Attainment{Priority: rec.Priority, Targets: []report.Target{}}
		x.sla[rec.Priority] = a
	}
	if tg := (report.Target{Seconds: *rec.SLATargetSeconds, Clock: *rec.SLAClock}); !slices.Contains(a.Targets, tg) {
		a.Targets = append(a.Targets, tg)
	}
	switch rec.SLA {
	case probe.SLAMet:
		a.Met++
		a.Decided++
	case probe.SLABreached, probe.SLAOpenBreached:
		a.Decided++
	case probe.SLAOpen:
		a.Open++
	case probe.SLAUndecided:
		a.Undecided++
	}
}

// oracleAgree compares the report with the history records it must agree with.
func oracleAgree(rep report.Report, hist []view.Record, now time.Time) error {
	var all oracleFromHistory
	byVendor := map[string]*oracleFromHistory{}
	recByID := map[string]view.Record{}
	for _, rec := range hist {
		recByID[rec.ID] = rec
		all.add(rec, now)
		if byVendor[rec.Vendor] == nil {
			byVendor[rec.Vendor] = &oracleFromHistory{}
		}
		byVendor[rec.Vendor].add(rec, now)
	}
	if rep.Totals != all.counts {
		return fmt.Errorf("report totals %+v; history gives %+v", rep.Totals, all.counts)
	}
	// One breach list: decided breaches, then open ones past target, each by sent_at.
	var want []string
	for _, st := range []probe.SLAState{probe.SLABreached, probe.SLAOpenBreached} {
		var group []view.Record
		for _, rec := range hist {
			if rec.SLA == st {
				group = append(group, rec)
			}
		}
		slices.SortFunc(group, func(a, b view.Record) int { return cmp.Or(a.SentAt.Compare(*b.SentAt), cmp.Compare(a.ID, b.ID)) })
		for _, rec := range group {
			want = append(want, rec.ID+"/"+string(st))
		}
	}
	var got []string
	for _, b := range rep.Breaches {
		got = append(got, b.ProbeID+"/"+string(b.SLA))
		rec := recByID[b.ProbeID]
		if b.Status != rec.Status || b.FirstResponse == nil != (rec.FirstResponseAt == nil) || b.LateResponse == nil != (rec.LateResponseAt == nil) {
			return fmt.Errorf("breach %s: status %s, first response %v, late %v; history has %s, %v, %v", b.ProbeID, b.Status,
				b.FirstResponse != nil, b.LateResponse != nil, rec.Status, rec.FirstResponseAt != nil, rec.LateResponseAt != nil)
		}
		if b.LateResponse != nil && !b.LateResponse.Late {
			return fmt.Errorf("breach %s: its late response is not flagged late", b.ProbeID)
		}
		// The figure that breached, on the target's clock, is past the target.
		actual := rec.ResponseLatencySeconds
		if b.Target.Clock == probe.Business {
			actual = rec.BusinessLatencySeconds
		}
		switch {
		case !oracleSameNum(b.ActualSeconds, actual):
			return fmt.Errorf("breach %s: actual %s s; history gives %s s", b.ProbeID, oraclePtrText(b.ActualSeconds), oraclePtrText(actual))
		case b.ActualSeconds != nil && *b.ActualSeconds <= b.Target.Seconds:
			return fmt.Errorf("breach %s: answered in %v s, within its target of %v s", b.ProbeID, *b.ActualSeconds, b.Target.Seconds)
		case (b.WaitingSeconds != nil) != (b.SLA == probe.SLAOpenBreached):
			return fmt.Errorf("breach %s (%s): waiting %s", b.ProbeID, b.SLA, oraclePtrText(b.WaitingSeconds))
		case b.WaitingSeconds != nil && *b.WaitingSeconds <= b.Target.Seconds:
			return fmt.Errorf("breach %s: open past target but waiting %v s, within its target of %v s", b.ProbeID, *b.WaitingSeconds, b.Target.Seconds)
		}
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("report breaches %v; history gives %v", got, want)
	}
	waiting := 0
	for _, rec := range hist {
		for _, rp := range rec.Replies {
			if rp.Kind == probe.KindNeedsReview {
				waiting++
			}
		}
	}
	if rep.Review.Replies != waiting || (rep.Review.AnsweredIfPerson == nil) != (waiting == 0) ||
		rep.Review.AnsweredIfPerson != nil && *rep.Review.AnsweredIfPerson < rep.Totals.Answered {
		return fmt.Errorf("review %d replies (answered if a person: %v); history holds %d needs_review, %d answered", rep.Review.Replies,
			rep.Review.AnsweredIfPerson, waiting, rep.Totals.Answered)
	}
	if len(rep.Probes) != len(hist) {
		return fmt.Errorf("report has %d probe rows, history %d records", len(rep.Probes), len(hist))
	}
	for _, row := range rep.Probes {
		rec, ok := recByID[row.ID]
		if !ok {
			return fmt.Errorf("report row %s is not in the history", row.ID)
		}
		if row.Status != rec.Status || row.SLA != rec.SLA || !oracleSameNum(row.AckLatencySeconds, rec.AckLatencySeconds) ||
			!oracleSameNum(row.ResponseLatencySeconds, rec.ResponseLatencySeconds) || !oracleSameNum(row.BusinessLatencySeconds, rec.BusinessLatencySeconds) ||
			!oracleSameNum(row.SignOfLifeLatencySeconds, rec.SignOfLifeLatencySeconds) || !reflect.DeepEqual(row.AfterHours, rec.AfterHours) {
			return fmt.Errorf("report row %+v disagrees with history record %+v", row, rec)
		}
	}
	if len(rep.Vendors) != len(byVendor) {
		return fmt.Errorf("report has %d vendors, history %d", len(rep.Vendors), len(byVendor))
	}
	for _, v := range rep.Vendors {
		x := byVendor[v.Name]
		if x == nil {
			return fmt.Errorf("report vendor %s is not in the history", v.Name)
		}
		if v.Counts != x.counts {
			return fmt.Errorf("vendor %s: counts %+v; history gives %+v", v.Name, v.Counts, x.counts)
		}
		n := 0
		for _, b := range rep.Breaches {
			if b.Vendor == v.Name {
				n++
			}
		}
		if v.BreachCount != n {
			return fmt.Errorf("vendor %s: breach count %d, the breach list holds %d of its probes", v.Name, v.BreachCount, n)
		}
		for _, d := range []struct {
			name string
			got  report.Distribution
			xs   []oracleObs
		}{{"response", v.Response, x.resp}, {"ack", v.Ack, x.ack}} {
			if err := oracleDistAgrees(v.Name+" "+d.name, d.got, d.xs); err != nil {
				return err
			}
		}
		if v.BusinessResponse.N != x.bizN || v.BusinessResponse.Events != x.bizE {
			return fmt.Errorf("vendor %s: business response n %d events %d; history gives %d, %d", v.Name, v.BusinessResponse.N, v.BusinessResponse.Events, x.bizN, x.bizE)
		}
		if len(v.SLA) != len(x.sla) {
			return fmt.Errorf("vendor %s: SLA for %d priorities; history gives %d", v.Name, len(v.SLA), len(x.sla))
		}
		for _, a := range v.SLA {
			w := x.sla[a.Priority]
			if w == nil || a.Met != w.Met || a.Decided != w.Decided || a.Open != w.Open || a.Undecided != w.Undecided {
				return fmt.Errorf("vendor %s: attainment %+v; history gives %+v", v.Name, a, w)
			}
			slices.SortFunc(w.Targets, func(a, b report.Target) int {
				return cmp.Or(cmp.Compare(a.Seconds, b.Seconds), cmp.Compare(a.Clock, b.Clock))
			})
			if !slices.Equal(a.Targets, w.Targets) {
				return fmt.Errorf("vendor %s %s: targets %v; history gives %v", v.Name, a.Priority, a.Targets, w.Targets)
			}
			if (a.Rate == nil) != (a.Decided == 0) || a.Rate != nil && (*a.Rate != float64(a.Met)/float64(a.Decided) || *a.Lo > *a.Rate || *a.Hi < *a.Rate) {
				return fmt.Errorf("vendor %s: attainment %s rate %v [%v, %v] for %d/%d", v.Name, a.Priority, oraclePtrText(a.Rate), oraclePtrText(a.Lo), oraclePtrText(a.Hi), a.Met, a.Decided)
			}
		}
		for _, bd := range v.Breakdowns {
			var sum report.Counts
			for _, g := range bd.Groups {
				c := g.Counts
				sum.Total, sum.Sent, sum.Answered, sum.Unanswered = sum.Total+c.Total, sum.Sent+c.Sent, sum.Answered+c.Answered, sum.Unanswered+c.Unanswered
				sum.Open, sum.Bounced, sum.Failed, sum.Unknown = sum.Open+c.Open, sum.Bounced+c.Bounced, sum.Failed+c.Failed, sum.Unknown+c.Unknown
				sum.AckOnly, sum.AutoAcked = sum.AckOnly+c.AckOnly, sum.AutoAcked+c.AutoAcked
			}
			if sum != v.Counts {
				return fmt.Errorf("vendor %s: the %s breakdown's groups add up to %+v, not the vendor's %+v", v.Name, bd.By, sum, v.Counts)
			}
		}
		cells := 0
		for _, c := range v.Heatmap {
			if c.Sent != c.Answered+c.Unanswered+c.Open+c.Bounced || c.Sent == 0 {
				return fmt.Errorf("vendor %s: heatmap cell %+v does not add up", v.Name, c)
			}
			cells += c.Sent
		}
		if cells != v.Counts.Sent {
			return fmt.Errorf("vendor %s: the heatmap holds %d probes, %d were sent", v.Name, cells, v.Counts.Sent)
		}
		if len(v.Latencies) != len(x.bars) {
			return fmt.Errorf("vendor %s: %d latency bars; history gives %d", v.Name, len(v.Latencies), len(x.bars))
		}
		for _, b := range v.Latencies {
			i := slices.IndexFunc(x.bars, func(w report.Bar) bool { return w.ProbeID == b.ProbeID })
			if i < 0 || b != x.bars[i] {
				return fmt.Errorf("vendor %s: latency bar %+v; history gives %+v", v.Name, b, x.bars[max(i, 0)])
			}
		}
	}
	return nil
}

func oraclePtrText(f *float64) string {
	if f == nil {
		return "null"
	}
	return fmt.Sprint(*f)
}

func oracleSameNum(a, b *float64) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// oracleDistAgrees compares a report distribution with the oracle's estimate over the
// observations a script would take from the history.
func oracleDistAgrees(name string, d report.Distribution, xs []oracleObs) error {
	events := 0
	for _, o := range xs {
		if o.event {
			events++
		}
	}
	if d.N != len(xs) || d.Events != events {
		return fmt.Errorf("%s: n %d events %d; history gives %d, %d", name, d.N, d.Events, len(xs), events)
	}
	if len(xs) == 0 {
		if d.Median != nil {
			return fmt.Errorf("%s: a median over no observations", name)
		}
		return nil
	}
	m, reached := oracleMedian(xs)
	if d.Median == nil || d.Median.Seconds != m.Seconds() || d.Median.Reached != reached {
		return fmt.Errorf("%s: median %+v; history gives %v (reached %v) over %v", name, d.Median, m, reached, xs)
	}
	if m, reached := oracleQuantile(xs, 0.9); d.P90 == nil || d.P90.Seconds != m.Seconds() || d.P90.Reached != reached {
		return fmt.Errorf("%s: p90 %+v; history gives %v (reached %v) over %v", name, d.P90, m, reached, xs)
	}
	return nil
}

// TestOracleCatchesWrongFigures makes sure the oracle is not blind: figures bent the way
// issue 12 found them bent are reported.
func TestOracleCatchesWrongFigures(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00")
	now := sent.Add(deadline + 2*time.Hour)
	p := sentProbe(sent, terms(calendarSLA(time.Hour)), reply("h", probe.KindHuman, sent.Add(deadline+time.Hour)))
	h := oracleHistory{probes: []probe.Probe{p}, now: now}
	if err := oracleCheckHistory(h, nil); err != nil {
		t.Fatalf("oracleCheckHistory(a late reply) = %v, want no complaint", err)
	}
	// The oracle's own verdicts, against which the bent figures would be compared.
	if e := oracleExpect(p, now); e.status != probe.StatusUnanswered || e.sla != probe.SLABreached || e.resp != -1 || e.late != 0 {
		t.Errorf("oracleExpect(late reply) = %+v, want unanswered, breached, no response, late reply #0", e)
	}
	bent := []struct {
		name string
		f    probe.Figures
	}{
		{"late answer counted as met", probe.Figures{Total: 1, Sent: 1, Unanswered: 1, SLA: map[probe.Priority]probe.Attainment{"": {Met: 1, Decided: 1}}}},
		{"breach left out of the list", probe.Figures{Total: 1, Sent: 1, Unanswered: 1, SLA: map[probe.Priority]probe.Attainment{"": {Decided: 1}}}},
		{"unanswered counted as open", probe.Figures{Total: 1, Sent: 1, Open: 1, Breaches: []string{"p1"}, SLA: map[probe.Priority]probe.Attainment{"": {Decided: 1}}}},
	}
	for _, b := range bent {
		if err := oracleCheckFigures(h, []oracleExpected{oracleExpect(p, now)}, b.f); err == nil {
			t.Errorf("%s: oracleCheckFigures found nothing wrong", b.name)
		}
	}
	// A business-time count that ignores a holiday is caught by the independent count.
	spec := officeHours("America/Los_Angeles")
	day := wall(t, la, "2026-12-24 08:00")
	if got := oracleBusiness(spec, day, day.Add(48*time.Hour)); got != 9*time.Hour {
		t.Errorf("business(24–26 Dec, Christmas off) = %v, want 9h", got)
	}
}

// TestOracleGeneratorIsDeterministic checks that a seed names one history, so a failure
// reported by seed can be reproduced.
func TestOracleGeneratorIsDeterministic(t *testing.T) {
	for seed := range uint64(200) {
		a, b := oracleGen(seed), oracleGen(seed)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("oracleGen(%d) gave two different histories:\n%s\n%s", seed, oracleDescribe(a), oracleDescribe(b))
		}
	}
}

// oracleChartState is the chart state a bar of a delivered probe shows, written from the
// order the report documents (a decided breach, then open past target, then unanswered,
// then open, then answered) rather than taken from the report package.
func oracleChartState(st probe.Status, sla probe.SLAState) report.ChartState {
	switch {
	case st == probe.StatusBounced:
		return report.StateBounced
	case sla == probe.SLABreached:
		return report.StateBreached
	case sla == probe.SLAOpenBreached:
		return report.StateOpenBreached
	case st == probe.StatusUnanswered:
		return report.StateUnanswered
	case st == probe.StatusAnswered:
		return report.StateAnswered
	}
	return report.StateOpen
}
