package probe_test

import (
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

// The vendor in these tests: Mon–Fri 09:00–18:00 America/Los_Angeles, Christmas 2026 off,
// 72 hours to answer. In June 2026 LA is on PDT (UTC−7); 2026-06-01 is a Monday.
const deadline = 72 * time.Hour

func terms(sla *probe.SLATarget) probe.Terms {
	return probe.Terms{Hours: officeHours("America/Los_Angeles"), Deadline: deadline, SLA: sla}
}

func calendarSLA(d time.Duration) *probe.SLATarget {
	return &probe.SLATarget{FirstResponse: d, Clock: probe.Calendar}
}

func businessSLA(d time.Duration) *probe.SLATarget {
	return &probe.SLATarget{FirstResponse: d, Clock: probe.Business}
}

func sentProbe(sentAt time.Time, tm probe.Terms, replies ...probe.Reply) probe.Probe {
	return probe.Probe{ID: "p1", Token: "TK1", State: probe.StateSent, SentAt: sentAt, Terms: tm, Replies: replies}
}

// reply is a reply with the given kind whose INTERNALDATE (server clock) is at.
func reply(id string, kind probe.Kind, at time.Time) probe.Reply {
	return probe.Reply{ID: id, ProbeID: "p1", Kind: kind, ReceivedAt: at, DetectedAt: at.Add(time.Minute)}
}

func overridden(r probe.Reply, kind probe.Kind) probe.Reply {
	r.Override = &probe.Override{Kind: kind, Note: "checked by hand"}
	return r
}

func mustMeasure(t *testing.T, p probe.Probe, now time.Time) probe.Measurement {
	t.Helper()
	m, err := probe.Measure(p, now)
	if err != nil {
		t.Fatalf("Measure(%s, %v) = %v", p.ID, now, err)
	}
	return m
}

func durString(d *time.Duration) string {
	if d == nil {
		return "nil"
	}
	return d.String()
}

func replyID(r *probe.Reply) string {
	if r == nil {
		return "nil"
	}
	return r.ID
}

func TestMeasureStatus(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00") // Monday, open
	due := sent.Add(deadline)               // Thu 2026-06-04 10:00
	after := func(d time.Duration) time.Time { return sent.Add(d) }
	withState := func(s probe.State) probe.Probe {
		p := sentProbe(time.Time{}, terms(calendarSLA(4*time.Hour)))
		p.State = s
		return p
	}
	tests := []struct {
		name string
		p    probe.Probe
		now  time.Time
		want probe.Status
	}{
		{"sending", withState(probe.StateSending), after(time.Hour), probe.StatusSending},
		{"failed", withState(probe.StateFailed), after(time.Hour), probe.StatusFailed},
		{"unknown", withState(probe.StateUnknown), after(time.Hour), probe.StatusUnknown},
		{"sent, nothing yet", sentProbe(sent, terms(nil)), after(time.Hour), probe.StatusSent},
		{"sent, 1ns before the deadline", sentProbe(sent, terms(nil)), due.Add(-1), probe.StatusSent},
		{"out-of-office and other do not count", sentProbe(sent, terms(nil),
			reply("o", probe.KindOutOfOffice, after(time.Minute)),
			reply("n", probe.KindOther, after(2*time.Minute))), after(time.Hour), probe.StatusSent},
		{"acknowledged", sentProbe(sent, terms(nil), reply("a", probe.KindAutoAck, after(5*time.Minute))), after(time.Hour), probe.StatusAcknowledged},
		{"answered", sentProbe(sent, terms(nil),
			reply("a", probe.KindAutoAck, after(5*time.Minute)),
			reply("h", probe.KindHuman, after(2*time.Hour))), after(3 * time.Hour), probe.StatusAnswered},
		// Seen before the deadline even though now is long after it.
		{"answered, viewed after the deadline", sentProbe(sent, terms(nil), reply("h", probe.KindHuman, after(2*time.Hour))), due.Add(24 * time.Hour), probe.StatusAnswered},
		{"answered exactly at the deadline", sentProbe(sent, terms(nil), reply("h", probe.KindHuman, due)), due, probe.StatusAnswered},
		// The deadline is reached at now == SentAt + 72h with no person.
		{"unanswered, deadline reached", sentProbe(sent, terms(nil)), due, probe.StatusUnanswered},
		{"unanswered, only an ack", sentProbe(sent, terms(nil), reply("a", probe.KindAutoAck, after(5*time.Minute))), due.Add(time.Hour), probe.StatusUnanswered},
		// A person answered 1h after the deadline: still unanswered (IsLate, below).
		{"answered late", sentProbe(sent, terms(nil), reply("h", probe.KindHuman, due.Add(time.Hour))), due.Add(2 * time.Hour), probe.StatusUnanswered},
		{"bounced", sentProbe(sent, terms(nil), reply("b", probe.KindBounce, after(time.Minute))), after(time.Hour), probe.StatusBounced},
		{"bounced, deadline passed", sentProbe(sent, terms(nil), reply("b", probe.KindBounce, after(time.Minute))), due.Add(time.Hour), probe.StatusBounced},
		// One address bounced, another reached a person.
		{"bounce then a person", sentProbe(sent, terms(nil),
			reply("b", probe.KindBounce, after(time.Minute)),
			reply("h", probe.KindHuman, after(time.Hour))), after(2 * time.Hour), probe.StatusAnswered},
		{"override auto_ack to human", sentProbe(sent, terms(nil),
			overridden(reply("a", probe.KindAutoAck, after(30*time.Minute)), probe.KindHuman)), after(time.Hour), probe.StatusAnswered},
		{"override human to other", sentProbe(sent, terms(nil),
			overridden(reply("h", probe.KindHuman, after(30*time.Minute)), probe.KindOther)), after(time.Hour), probe.StatusSent},
		{"override bounce to other", sentProbe(sent, terms(nil),
			overridden(reply("b", probe.KindBounce, after(time.Minute)), probe.KindOther)), after(time.Hour), probe.StatusSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMeasure(t, tt.p, tt.now)
			if m.Status != tt.want {
				t.Errorf("Measure(%s).Status = %v, want %v", tt.name, m.Status, tt.want)
			}
		})
	}
}

func TestMeasureUnsentHasNoFigures(t *testing.T) {
	for _, s := range []probe.State{probe.StateSending, probe.StateFailed, probe.StateUnknown} {
		t.Run(string(s), func(t *testing.T) {
			p := sentProbe(time.Time{}, terms(calendarSLA(time.Hour)))
			p.State = s
			m := mustMeasure(t, p, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
			if m.SLA != probe.SLANone || !m.Deadline.IsZero() || m.AfterHours || m.FirstAck != nil || m.FirstResponse != nil {
				t.Errorf("Measure(%s) = %+v, want SLA none, zero Deadline and no figures", s, m)
			}
		})
	}
}

func TestMeasureLatency(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sh := mustLoc(t, "Asia/Shanghai")
	mon10 := wall(t, la, "2026-06-01 10:00")
	tests := []struct {
		name         string
		p            probe.Probe
		now          time.Time
		wantAck      string // ID of FirstAck, or "nil"
		wantAckLat   string
		wantResp     string // ID of FirstResponse, or "nil"
		wantRespLat  string
		wantBusiness string
		wantAfter    bool
	}{
		{"no replies", sentProbe(mon10, terms(nil)), mon10.Add(time.Hour), "nil", "nil", "nil", "nil", "nil", false},
		// Same clock: ack 10:05, person 12:00.
		{"ack and response, no skew", sentProbe(mon10, terms(nil),
			reply("a", probe.KindAutoAck, mon10.Add(5*time.Minute)),
			reply("h", probe.KindHuman, mon10.Add(2*time.Hour))), mon10.Add(3 * time.Hour),
			"a", "5m0s", "h", "2h0m0s", "2h0m0s", false},
		// The IMAP server's clock is 3s ahead (ClockSkew = +3s). INTERNALDATEs read 10:01:00
		// and 12:00:00, raw differences of 60s and 2h; on our clock the mail arrived at
		// 10:00:57 and 11:59:57, so the latencies are 57s and 1h59m57s.
		{"server clock 3s ahead", func() probe.Probe {
			p := sentProbe(mon10, terms(nil),
				reply("a", probe.KindAutoAck, mon10.Add(time.Minute)),
				reply("h", probe.KindHuman, mon10.Add(2*time.Hour)))
			p.ClockSkew, p.SkewMeasured = 3*time.Second, true
			return p
		}(), mon10.Add(3 * time.Hour),
			"a", "57s", "h", "1h59m57s", "1h59m57s", false},
		// Server 2s behind: INTERNALDATE 12:00:00 is 12:00:02 on our clock.
		{"server clock 2s behind", func() probe.Probe {
			p := sentProbe(mon10, terms(nil), reply("h", probe.KindHuman, mon10.Add(2*time.Hour)))
			p.ClockSkew, p.SkewMeasured = -2*time.Second, true
			return p
		}(), mon10.Add(3 * time.Hour),
			"nil", "nil", "h", "2h0m2s", "2h0m2s", false},
		// The slice is not in arrival order; the earliest of each kind wins.
		{"replies out of order", sentProbe(mon10, terms(nil),
			reply("h2", probe.KindHuman, mon10.Add(3*time.Hour)),
			reply("h1", probe.KindHuman, mon10.Add(time.Hour)),
			reply("a2", probe.KindAutoAck, mon10.Add(20*time.Minute)),
			reply("a1", probe.KindAutoAck, mon10.Add(10*time.Minute))), mon10.Add(4 * time.Hour),
			"a1", "10m0s", "h1", "1h0m0s", "1h0m0s", false},
		// The help desk's mail at 10:30 was classified auto_ack; a person overrode it.
		{"override auto_ack to human", sentProbe(mon10, terms(nil),
			overridden(reply("a", probe.KindAutoAck, mon10.Add(30*time.Minute)), probe.KindHuman)), mon10.Add(time.Hour),
			"nil", "nil", "a", "30m0s", "30m0s", false},
		// Sent Fri 17:30 (open), answered Mon 10:15. Calendar: Fri 17:30 → Mon 17:30 is
		// 72h, minus 7h15m = 64h45m. Business: Fri 17:30–18:00 (30m) + Mon 09:00–10:15
		// (1h15m) = 1h45m.
		{"Friday evening to Monday", sentProbe(wall(t, la, "2026-06-05 17:30"), terms(nil),
			reply("h", probe.KindHuman, wall(t, la, "2026-06-08 10:15"))), wall(t, la, "2026-06-08 11:00"),
			"nil", "nil", "h", "64h45m0s", "1h45m0s", false},
		// Sent Tue 03:00, answered 09:30: 6h30m of calendar time, 30m of business time.
		{"3 a.m. send", sentProbe(wall(t, la, "2026-06-02 03:00"), terms(nil),
			reply("h", probe.KindHuman, wall(t, la, "2026-06-02 09:30"))), wall(t, la, "2026-06-02 10:00"),
			"nil", "nil", "h", "6h30m0s", "30m0s", true},
		// Sent Sat 11:00, answered Mon 09:45: 48h − 1h15m = 46h45m; business 45m.
		{"weekend send", sentProbe(wall(t, la, "2026-06-06 11:00"), terms(nil),
			reply("h", probe.KindHuman, wall(t, la, "2026-06-08 09:45"))), wall(t, la, "2026-06-08 10:00"),
			"nil", "nil", "h", "46h45m0s", "45m0s", true},
		// Sent Fri 25 Dec 11:00 (holiday), answered Mon 09:20: 72h − 1h40m = 70h20m;
		// business 20m.
		{"holiday send", sentProbe(wall(t, la, "2026-12-25 11:00"), terms(nil),
			reply("h", probe.KindHuman, wall(t, la, "2026-12-28 09:20"))), wall(t, la, "2026-12-28 10:00"),
			"nil", "nil", "h", "70h20m0s", "20m0s", true},
		// A 24x7 vendor is never after hours, and business time is calendar time.
		{"24x7 vendor at 3 a.m.", sentProbe(wall(t, la, "2026-06-02 03:00"),
			probe.Terms{Hours: probe.HoursSpec{Zone: "America/Los_Angeles"}, Deadline: deadline},
			reply("h", probe.KindHuman, wall(t, la, "2026-06-02 09:30"))), wall(t, la, "2026-06-02 10:00"),
			"nil", "nil", "h", "6h30m0s", "6h30m0s", false},
		// Judged in the vendor's zone: 17:00Z is Tue 01:00 in Shanghai (closed), the answer
		// at 02:00Z next day is Tue 10:00 there. Calendar 9h, business 09:00–10:00 = 1h.
		{"Shanghai vendor", sentProbe(time.Date(2026, 6, 1, 17, 0, 0, 0, time.UTC),
			probe.Terms{Hours: officeHours("Asia/Shanghai"), Deadline: deadline},
			reply("h", probe.KindHuman, wall(t, sh, "2026-06-02 10:00"))), wall(t, sh, "2026-06-02 11:00"),
			"nil", "nil", "h", "9h0m0s", "1h0m0s", true},
		// A late answer (73h, after the 72h deadline) is no first response and has no
		// latency: it is LateResponse (TestMeasureLateAndEarly); Status says unanswered
		// (TestMeasureStatus).
		{"answered late", sentProbe(mon10, terms(nil), reply("h", probe.KindHuman, mon10.Add(73*time.Hour))), mon10.Add(74 * time.Hour),
			"nil", "nil", "nil", "nil", "nil", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMeasure(t, tt.p, tt.now)
			if got := replyID(m.FirstAck); got != tt.wantAck {
				t.Errorf("Measure().FirstAck = %v, want %v", got, tt.wantAck)
			}
			if got := durString(m.AckLatency); got != tt.wantAckLat {
				t.Errorf("Measure().AckLatency = %v, want %v", got, tt.wantAckLat)
			}
			if got := replyID(m.FirstResponse); got != tt.wantResp {
				t.Errorf("Measure().FirstResponse = %v, want %v", got, tt.wantResp)
			}
			if got := durString(m.ResponseLatency); got != tt.wantRespLat {
				t.Errorf("Measure().ResponseLatency = %v, want %v", got, tt.wantRespLat)
			}
			if got := durString(m.BusinessLatency); got != tt.wantBusiness {
				t.Errorf("Measure().BusinessLatency = %v, want %v", got, tt.wantBusiness)
			}
			if m.AfterHours != tt.wantAfter {
				t.Errorf("Measure().AfterHours = %v, want %v", m.AfterHours, tt.wantAfter)
			}
			if want := tt.p.SentAt.Add(deadline); !m.Deadline.Equal(want) {
				t.Errorf("Measure().Deadline = %v, want %v", m.Deadline, want)
			}
		})
	}
}

// TestMeasurePointsIntoReplies checks that FirstAck and FirstResponse are the caller's
// replies (so a caller can override or link them), whether or not the replies carry IDs.
func TestMeasurePointsIntoReplies(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00")
	tests := []struct {
		name     string
		ids      [4]string
		wantAck  int // index into Replies
		wantResp int
	}{
		{"distinct IDs", [4]string{"h2", "h1", "a2", "a1"}, 3, 1},
		// Replies not yet stored have no ID.
		{"no IDs", [4]string{"", "", "", ""}, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sentProbe(sent, terms(nil),
				reply(tt.ids[0], probe.KindHuman, sent.Add(3*time.Hour)),
				reply(tt.ids[1], probe.KindHuman, sent.Add(time.Hour)),
				reply(tt.ids[2], probe.KindAutoAck, sent.Add(20*time.Minute)),
				reply(tt.ids[3], probe.KindAutoAck, sent.Add(10*time.Minute)))
			m := mustMeasure(t, p, sent.Add(4*time.Hour))
			if m.FirstAck != &p.Replies[tt.wantAck] {
				t.Errorf("Measure().FirstAck = %p (%+v), want &Replies[%d]", m.FirstAck, m.FirstAck, tt.wantAck)
			}
			if m.FirstResponse != &p.Replies[tt.wantResp] {
				t.Errorf("Measure().FirstResponse = %p (%+v), want &Replies[%d]", m.FirstResponse, m.FirstResponse, tt.wantResp)
			}
			if got := durString(m.AckLatency); got != "10m0s" {
				t.Errorf("Measure().AckLatency = %v, want %v", got, "10m0s")
			}
			if got := durString(m.ResponseLatency); got != "1h0m0s" {
				t.Errorf("Measure().ResponseLatency = %v, want %v", got, "1h0m0s")
			}
		})
	}
}

func TestMeasureSLA(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	mon10 := wall(t, la, "2026-06-01 10:00")
	fri1730 := wall(t, la, "2026-06-05 17:30") // deadline Mon 2026-06-08 17:30
	withState := func(s probe.State) probe.Probe {
		p := sentProbe(time.Time{}, terms(calendarSLA(4*time.Hour)))
		p.State = s
		return p
	}
	tests := []struct {
		name string
		p    probe.Probe
		now  time.Time
		want probe.SLAState
	}{
		// Calendar clock, 4h target, sent Mon 10:00.
		{"calendar met", sentProbe(mon10, terms(calendarSLA(4*time.Hour)), reply("h", probe.KindHuman, mon10.Add(3*time.Hour))), mon10.Add(5 * time.Hour), probe.SLAMet},
		{"calendar met exactly at target", sentProbe(mon10, terms(calendarSLA(4*time.Hour)), reply("h", probe.KindHuman, mon10.Add(4*time.Hour))), mon10.Add(5 * time.Hour), probe.SLAMet},
		{"calendar breached", sentProbe(mon10, terms(calendarSLA(4*time.Hour)), reply("h", probe.KindHuman, mon10.Add(5*time.Hour))), mon10.Add(6 * time.Hour), probe.SLABreached},
		// INTERNALDATE 4h0m2s, server 3s ahead: 3h59m59s on our clock, within target.
		{"calendar met after removing skew", func() probe.Probe {
			p := sentProbe(mon10, terms(calendarSLA(4*time.Hour)), reply("h", probe.KindHuman, mon10.Add(4*time.Hour+2*time.Second)))
			p.ClockSkew = 3 * time.Second
			return p
		}(), mon10.Add(5 * time.Hour), probe.SLAMet},
		{"calendar open", sentProbe(mon10, terms(calendarSLA(4*time.Hour))), mon10.Add(3 * time.Hour), probe.SLAOpen},
		{"calendar open at the target", sentProbe(mon10, terms(calendarSLA(4*time.Hour))), mon10.Add(4 * time.Hour), probe.SLAOpen},
		{"calendar open_breached", sentProbe(mon10, terms(calendarSLA(4*time.Hour))), mon10.Add(5 * time.Hour), probe.SLAOpenBreached},
		{"calendar open_breached with only an ack", sentProbe(mon10, terms(calendarSLA(4*time.Hour)),
			reply("a", probe.KindAutoAck, mon10.Add(time.Minute))), mon10.Add(5 * time.Hour), probe.SLAOpenBreached},
		// Deadline (72h) reached with no person: closed as breached.
		{"calendar unanswered", sentProbe(mon10, terms(calendarSLA(4*time.Hour))), mon10.Add(deadline), probe.SLABreached},
		{"calendar answered late", sentProbe(mon10, terms(calendarSLA(4*time.Hour)), reply("h", probe.KindHuman, mon10.Add(73*time.Hour))), mon10.Add(74 * time.Hour), probe.SLABreached},

		// Business clock, 4h target, sent Fri 17:30 (30m of Friday left).
		// Answered Mon 12:30: 30m + 09:00–12:30 (3h30m) = 4h, met.
		{"business met at the target", sentProbe(fri1730, terms(businessSLA(4*time.Hour)),
			reply("h", probe.KindHuman, wall(t, la, "2026-06-08 12:30"))), wall(t, la, "2026-06-08 13:00"), probe.SLAMet},
		// Answered Mon 12:45: 30m + 3h45m = 4h15m, breached.
		{"business breached", sentProbe(fri1730, terms(businessSLA(4*time.Hour)),
			reply("h", probe.KindHuman, wall(t, la, "2026-06-08 12:45"))), wall(t, la, "2026-06-08 13:00"), probe.SLABreached},
		// Mon 08:00: 62h30m of calendar time but 30m of business time.
		{"business open over the weekend", sentProbe(fri1730, terms(businessSLA(4*time.Hour))), wall(t, la, "2026-06-08 08:00"), probe.SLAOpen},
		// Mon 13:00: 30m + 4h = 4h30m.
		{"business open_breached", sentProbe(fri1730, terms(businessSLA(4*time.Hour))), wall(t, la, "2026-06-08 13:00"), probe.SLAOpenBreached},
		// Deadline Mon 17:30: 30m + 8h30m = 9h of business time, breached.
		{"business unanswered", sentProbe(fri1730, terms(businessSLA(4*time.Hour))), wall(t, la, "2026-06-08 17:30"), probe.SLABreached},
		// The same probe on a calendar clock: 62h30m and 67h > 4h.
		{"calendar open_breached over the weekend", sentProbe(fri1730, terms(calendarSLA(4*time.Hour))), wall(t, la, "2026-06-08 08:00"), probe.SLAOpenBreached},
		{"calendar breached over the weekend", sentProbe(fri1730, terms(calendarSLA(4*time.Hour)),
			reply("h", probe.KindHuman, wall(t, la, "2026-06-08 12:30"))), wall(t, la, "2026-06-08 13:00"), probe.SLABreached},

		// No SLA state without a target, or when the probe never reached the vendor.
		{"no target, answered", sentProbe(mon10, terms(nil), reply("h", probe.KindHuman, mon10.Add(time.Hour))), mon10.Add(2 * time.Hour), probe.SLANone},
		{"no target, unanswered", sentProbe(mon10, terms(nil)), mon10.Add(deadline), probe.SLANone},
		{"bounced, calendar target", sentProbe(mon10, terms(calendarSLA(4*time.Hour)), reply("b", probe.KindBounce, mon10.Add(time.Minute))), mon10.Add(5 * time.Hour), probe.SLANone},
		{"bounced, business target", sentProbe(fri1730, terms(businessSLA(4*time.Hour)), reply("b", probe.KindBounce, fri1730.Add(time.Minute))), wall(t, la, "2026-06-08 17:30"), probe.SLANone},
		{"failed", withState(probe.StateFailed), mon10.Add(5 * time.Hour), probe.SLANone},
		{"unknown", withState(probe.StateUnknown), mon10.Add(5 * time.Hour), probe.SLANone},
		{"sending", withState(probe.StateSending), mon10.Add(5 * time.Hour), probe.SLANone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMeasure(t, tt.p, tt.now)
			if m.SLA != tt.want {
				t.Errorf("Measure(%s).SLA = %v, want %v (status %v)", tt.name, m.SLA, tt.want, m.Status)
			}
		})
	}
}

func TestMeasureBadTerms(t *testing.T) {
	p := sentProbe(time.Date(2026, 6, 1, 17, 0, 0, 0, time.UTC), probe.Terms{Hours: probe.HoursSpec{Zone: "Mars/Olympus_Mons"}, Deadline: deadline})
	p.ID = "01JPROBE"
	_, err := probe.Measure(p, p.SentAt.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "01JPROBE") || !strings.Contains(err.Error(), "Mars/Olympus_Mons") {
		t.Errorf("Measure(bad zone) = %v, want an error naming the probe and the zone", err)
	}
}

func TestProbeIsLate(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00")
	due := sent.Add(deadline)
	tests := []struct {
		name string
		skew time.Duration
		sent time.Time
		at   time.Time // INTERNALDATE
		want bool
	}{
		{"before the deadline", 0, sent, due.Add(-time.Hour), false},
		{"at the deadline", 0, sent, due, false},
		{"after the deadline", 0, sent, due.Add(time.Second), true},
		// INTERNALDATE 2s past the deadline, server 3s ahead: 1s before it on our clock.
		{"late on the server's clock only", 3 * time.Second, sent, due.Add(2 * time.Second), false},
		// INTERNALDATE 2s before, server 3s behind: 1s after on our clock.
		{"late on our clock only", -3 * time.Second, sent, due.Add(-2 * time.Second), true},
		{"never sent", 0, time.Time{}, due.Add(time.Hour), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sentProbe(tt.sent, terms(nil))
			p.ClockSkew = tt.skew
			r := reply("h", probe.KindHuman, tt.at)
			if got := p.IsLate(r); got != tt.want {
				t.Errorf("IsLate(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}
