package probe_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"supportprobe/probe"
)

// This file generates random probe histories for the oracle (oracle_test.go): a seeded
// generator, so a failure names the seed that reproduces it. Every history is what the
// store could hold at one instant: probes of a few vendors, sent around DST nights in
// zones that have them (some change at midnight, some by 30 minutes), with business or
// wall clocks, holidays, deadlines, SLA targets on either clock (and configuration
// changes between one probe and the next), measured clock skews
// around probe.ArrivalTolerance, and replies of every kind (overrides set by mark or
// link included) that arrived early, within the tolerance, exactly at the boundaries
// that matter, in time, or after the deadline.
//
// All instants are whole milliseconds, as are skews and durations, so that a figure
// the JSON forms round to the millisecond is exact and can be compared for equality.

// oracleZones have DST changes at 02:00, 01:00 (London), 00:00 (Santiago, Havana), by
// 30 minutes (Lord Howe), at odd offsets (Chatham, Kathmandu), or none.
var oracleZones = []string{
	"UTC", "America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin",
	"Australia/Sydney", "Australia/Lord_Howe", "America/Santiago", "America/Havana",
	"Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham",
}

// oracleClock are the opening and closing times the generator uses: all on a 15-minute
// grid (the oracle's business-time count relies on it), none inside a DST gap of the
// zones above except midnight, whose gap in Santiago and Havana is the case to cover.
var oracleClock = []string{"00:00", "04:00", "06:30", "07:45", "08:00", "09:00", "09:15", "12:00",
	"13:30", "17:00", "18:00", "18:45", "20:00", "22:00", "23:30", "24:00"}

var oracleDays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// oracleHistory is one generated probe history: the probes as stored and the instant the
// figures are computed at.
type oracleHistory struct {
	seed   uint64
	probes []probe.Probe
	now    time.Time
}

// oracleGen draws one history from r. Every probe's replies arrived by now (on our clock), as
// replies stored by a running daemon did.
func oracleGen(seed uint64) oracleHistory {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	h := oracleHistory{seed: seed}
	// A base instant in 2026, moved to the eve of a zone change half of the time.
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Millisecond)
	nVendors := 1 + r.IntN(3)
	type vendor struct {
		name string
		hrs  probe.HoursSpec
		sla  map[probe.Priority]*probe.SLATarget
		dl   time.Duration
	}
	var vendors []vendor
	for i := range nVendors {
		v := vendor{name: fmt.Sprintf("v%d", i), hrs: oracleGenHours(r, base), dl: oraclePick(r, []time.Duration{
			time.Hour, 8 * time.Hour, 24 * time.Hour, 72 * time.Hour, 7 * 24 * time.Hour, 10 * 24 * time.Hour,
		}) + time.Duration(r.IntN(60))*time.Minute, sla: map[probe.Priority]*probe.SLATarget{}}
		for _, pr := range probe.Priorities {
			if r.IntN(5) == 0 {
				continue // no target for this priority
			}
			clock := probe.Calendar
			if r.IntN(2) == 0 {
				clock = probe.Business
			}
			v.sla[pr] = &probe.SLATarget{Clock: clock, FirstResponse: oraclePick(r, []time.Duration{
				30 * time.Minute, time.Hour, 4 * time.Hour, 8 * time.Hour, 24 * time.Hour, 40 * time.Hour,
				5 * 24 * time.Hour, 12 * 24 * time.Hour, v.dl,
			})}
		}
		vendors = append(vendors, v)
	}
	if r.IntN(2) == 0 {
		loc, _ := probe.LoadZone(vendors[0].hrs.Zone)
		if _, end := base.In(loc).ZoneBounds(); !end.IsZero() {
			base = end.Add(-time.Duration(r.Int64N(int64(36 * time.Hour)))).Truncate(time.Millisecond)
		}
	}
	h.now = base.Add(time.Duration(r.Int64N(int64(14 * 24 * time.Hour)))).Truncate(time.Millisecond)

	n := 1 + r.IntN(8)
	for i := range n {
		vi := r.IntN(len(vendors))
		if r.IntN(8) == 0 {
			// The configuration changed: this probe and the vendor's later ones are
			// created under other terms; the earlier ones keep theirs.
			v := &vendors[vi]
			v.hrs, v.dl = oracleGenHours(r, base), v.dl+time.Duration(r.IntN(48)-24)*time.Hour
			if v.dl <= 0 {
				v.dl = time.Hour
			}
			sla := map[probe.Priority]*probe.SLATarget{}
			for _, pr := range probe.Priorities { // not the map's order: a seed must give one history
				t := v.sla[pr]
				if t == nil {
					continue
				}
				c := *t
				c.FirstResponse += time.Duration(r.IntN(4)) * time.Hour
				sla[pr] = &c
			}
			v.sla = sla
		}
		v := vendors[vi]
		pr := oraclePick(r, probe.Priorities)
		tm := probe.Terms{Hours: v.hrs, Deadline: v.dl}
		if t := v.sla[pr]; t != nil {
			c := *t
			tm.SLA = &c
		}
		p := probe.Probe{
			ID: fmt.Sprintf("p%02d", i), Token: fmt.Sprintf("TK%02d", i), Vendor: v.name,
			Script: oraclePick(r, []string{"s-login", "s-billing", "s-outage"}), Priority: pr,
			Language: oraclePick(r, []string{"en", "zh", "de", ""}), State: probe.StateSent, Terms: tm,
			MessageID: fmt.Sprintf("p%02d@probe.test", i),
		}
		// Sent between 14 days before now and now, at a DST night a third of the time.
		sent := h.now.Add(-time.Duration(r.Int64N(int64(14 * 24 * time.Hour))))
		if r.IntN(3) == 0 {
			loc, _ := probe.LoadZone(v.hrs.Zone)
			if start, _ := h.now.In(loc).ZoneBounds(); !start.IsZero() && h.now.Sub(start) < 30*24*time.Hour {
				sent = start.Add(time.Duration(r.Int64N(int64(8*time.Hour))) - 4*time.Hour)
			}
		}
		switch r.IntN(12) {
		case 0: // the deadline is now
			sent = h.now.Add(-tm.Deadline)
		case 1: // a calendar target passes now
			if t := tm.SLA; t != nil && t.Clock == probe.Calendar {
				sent = h.now.Add(-t.FirstResponse)
			}
		}
		if sent.After(h.now) {
			sent = h.now
		}
		sent = sent.Truncate(time.Millisecond)
		p.CreatedAt, p.SentAt = sent.Add(-time.Second), sent
		if r.IntN(3) == 0 {
			p.ScheduledAt = sent.Add(-time.Duration(r.IntN(600)) * time.Second)
		}
		switch r.IntN(12) {
		case 0:
			p.State, p.SentAt, p.FailReason = probe.StateFailed, time.Time{}, "550 5.7.1 refused"
		case 1:
			p.State, p.SentAt, p.FailReason = probe.StateUnknown, time.Time{}, "crash before the 250"
		case 2:
			p.State, p.SentAt = probe.StateSending, time.Time{}
		}
		if r.IntN(5) != 0 {
			p.SkewMeasured = true
			p.ClockSkew = oraclePick(r, []time.Duration{0, 500 * time.Millisecond, time.Second, probe.ArrivalTolerance,
				probe.ArrivalTolerance + time.Millisecond, 3 * time.Second, 2 * time.Minute, time.Hour})
			if r.IntN(2) == 0 {
				p.ClockSkew = -p.ClockSkew
			}
		}
		p.Replies = oracleGenReplies(r, p, sent, h.now)
		h.probes = append(h.probes, p)
	}
	return h
}

// oracleGenHours draws a vendor's business week: around the clock a quarter of the time,
// otherwise some open days, opening hours and up to four holidays near base.
func oracleGenHours(r *rand.Rand, base time.Time) probe.HoursSpec {
	s := probe.HoursSpec{Zone: oraclePick(r, oracleZones)}
	if r.IntN(4) == 0 {
		return s
	}
	for _, d := range oracleDays {
		if r.IntN(3) != 0 {
			s.Days = append(s.Days, d)
		}
	}
	if len(s.Days) == 0 {
		s.Days = []string{oraclePick(r, oracleDays)}
	}
	i := r.IntN(len(oracleClock) - 1)
	j := i + 1 + r.IntN(len(oracleClock)-1-i)
	s.Open, s.Close = oracleClock[i], oracleClock[j]
	for range r.IntN(5) {
		d := base.AddDate(0, 0, r.IntN(24)-16).Format(time.DateOnly)
		if !slices.Contains(s.Holidays, d) {
			s.Holidays = append(s.Holidays, d)
		}
	}
	return s
}

// oracleGenReplies draws up to six replies for a probe sent at sent (for one never sent, at
// the instant it was attempted), each arriving by now on our clock.
func oracleGenReplies(r *rand.Rand, p probe.Probe, sent, now time.Time) []probe.Reply {
	var out []probe.Reply
	for k := range r.IntN(7) {
		var at time.Duration // arrival on our clock, after sent
		switch r.IntN(10) {
		case 0: // early: before the inquiry, beyond the tolerance
			at = -probe.ArrivalTolerance - time.Millisecond - time.Duration(r.Int64N(int64(2*time.Hour)))
		case 1: // within the tolerance, or exactly at its edges
			at = oraclePick(r, []time.Duration{-probe.ArrivalTolerance, -probe.ArrivalTolerance - time.Millisecond,
				-time.Second, -time.Millisecond, 0, time.Millisecond})
		case 2: // at the deadline, just before or just after it
			at = p.Terms.Deadline + oraclePick(r, []time.Duration{-time.Millisecond, 0, time.Millisecond, time.Second})
		case 3: // at the SLA target, on its clock
			if t := p.Terms.SLA; t != nil {
				end := sent.Add(t.FirstResponse)
				if t.Clock == probe.Business {
					end = probe.MustBusinessHours(p.Terms.Hours).Add(sent, t.FirstResponse)
				}
				if !end.IsZero() {
					at = end.Sub(sent) + oraclePick(r, []time.Duration{-time.Millisecond, 0, time.Millisecond})
				}
			}
		case 4, 5: // late
			at = p.Terms.Deadline + time.Millisecond + time.Duration(r.Int64N(int64(3*24*time.Hour)))
		default: // in time
			at = time.Duration(r.Int64N(int64(p.Terms.Deadline)))
		}
		local := sent.Add(at).Truncate(time.Millisecond)
		if local.After(now) {
			continue // not arrived yet
		}
		kind := oraclePick(r, []probe.Kind{probe.KindHuman, probe.KindHuman, probe.KindAutoAck, probe.KindAutoAck,
			probe.KindOutOfOffice, probe.KindBounce, probe.KindOther, probe.KindNeedsReview})
		rp := probe.Reply{
			ID: fmt.Sprintf("%s-r%d", p.ID, k), ProbeID: p.ID, MessageID: fmt.Sprintf("%s-r%d@vendor.test", p.ID, k),
			Folder: "INBOX", UID: uint32(k + 1), ReceivedAt: local.Add(p.ClockSkew), DetectedAt: local.Add(time.Minute),
			From: "agent@vendor.test", Subject: "Re: " + p.Subject, Kind: kind, Reason: "generated",
			MatchedBy: oraclePick(r, []probe.Rung{probe.RungMessageID, probe.RungPlusAddress, probe.RungThread, probe.RungToken}),
		}
		switch r.IntN(8) {
		case 0: // marked by hand
			rp.Override = &probe.Override{Kind: oraclePick(r, probe.Kinds), Note: "mark", At: now}
		case 1: // linked by hand (link records the kind it was given)
			rp.MatchedBy = probe.RungManual
			rp.Override = &probe.Override{Kind: oraclePick(r, []probe.Kind{probe.KindHuman, probe.KindAutoAck}), Note: "link", At: now}
		}
		if r.IntN(6) == 0 && len(out) > 0 {
			rp.ReceivedAt = out[r.IntN(len(out))].ReceivedAt // same INTERNALDATE as another reply
		}
		if r.IntN(3) == 0 {
			rp.Language = oraclePick(r, []string{"en", "zh", "de"})
		}
		out = append(out, rp)
	}
	return out
}

func oraclePick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
