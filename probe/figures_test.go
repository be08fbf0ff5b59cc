package probe_test

import (
	"testing"
	"time"

	"supportprobe/probe"
)

// These tests pin the figure definitions of DESIGN.md that issue 12 found bent: each
// names the defect it would have caught.

// goldenWeek is the README's Asia/Shanghai vendor: Mon–Fri 09:00–18:00, the 2026 Golden
// Week holidays off, a 7-day deadline.
func goldenWeek(sla *probe.SLATarget) probe.Terms {
	return probe.Terms{
		Hours: probe.HoursSpec{Zone: "Asia/Shanghai", Days: []string{"mon", "tue", "wed", "thu", "fri"},
			Open: "09:00", Close: "18:00", Holidays: []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"}},
		Deadline: 7 * 24 * time.Hour, SLA: sla,
	}
}

// Defect 1: with a business clock, a probe whose deadline comes before the target can
// pass stayed "open" forever. Sent Wed 30 Sep 20:00 Beijing time: 1–7 October hold no
// business hour at all, so the 8h target cannot pass before the 7 Oct 20:00 deadline.
func TestSLABusinessClockDecidesByDeadline(t *testing.T) {
	sh := mustLoc(t, "Asia/Shanghai")
	sent := wall(t, sh, "2026-09-30 20:00")
	p := sentProbe(sent, goldenWeek(businessSLA(8*time.Hour)))
	tests := []struct {
		name       string
		now        time.Time
		wantStatus probe.Status
		wantSLA    probe.SLAState
	}{
		{"before the deadline", wall(t, sh, "2026-10-03 12:00"), probe.StatusSent, probe.SLAOpen},
		{"at the deadline", sent.Add(7 * 24 * time.Hour), probe.StatusUnanswered, probe.SLAUndecided},
		{"a month later", wall(t, sh, "2026-11-01 12:00"), probe.StatusUnanswered, probe.SLAUndecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMeasure(t, p, tt.now)
			if m.Status != tt.wantStatus || m.SLA != tt.wantSLA {
				t.Errorf("Measure() = %s, sla %s; want %s, sla %s", m.Status, m.SLA, tt.wantStatus, tt.wantSLA)
			}
		})
	}

	// The same probe sent a week earlier has business time to spare: breached.
	early := sentProbe(wall(t, sh, "2026-09-21 20:00"), goldenWeek(businessSLA(8*time.Hour)))
	if m := mustMeasure(t, early, wall(t, sh, "2026-11-01 12:00")); m.SLA != probe.SLABreached {
		t.Errorf("Measure(sent 21 Sep).SLA = %s, want breached", m.SLA)
	}

	f, err := probe.Compute([]probe.Probe{p}, wall(t, sh, "2026-11-01 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	if a := f.SLA[p.Priority]; a.Undecided != 1 || a.Decided != 0 || a.Open != 0 {
		t.Errorf("Compute().SLA = %+v, want 1 undecided, nothing decided or open", a)
	}
}

// Defect 2: a person's reply after the deadline made the SLA "met". Calendar target 10d
// (beyond the 72h deadline), business target 40h (more than the 27h of business time
// before the deadline): either way a late answer must not meet it.
func TestLateReplyNeverMeetsSLA(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00")
	late := reply("h", probe.KindHuman, sent.Add(deadline+time.Hour))
	for _, sla := range []*probe.SLATarget{calendarSLA(10 * 24 * time.Hour), businessSLA(40 * time.Hour), calendarSLA(time.Hour)} {
		p := sentProbe(sent, terms(sla), late)
		m := mustMeasure(t, p, sent.Add(deadline+2*time.Hour))
		if m.Status != probe.StatusUnanswered || m.SLA == probe.SLAMet {
			t.Errorf("target %v %s: Measure() = %s, sla %s; want unanswered, never met", sla.FirstResponse, sla.Clock, m.Status, m.SLA)
		}
		if m.FirstResponse != nil || m.ResponseLatency != nil {
			t.Errorf("target %v: a late reply became the first response (%v)", sla.FirstResponse, durString(m.ResponseLatency))
		}
		if replyID(m.LateResponse) != "h" {
			t.Errorf("Measure().LateResponse = %s, want h", replyID(m.LateResponse))
		}
		f, err := probe.Compute([]probe.Probe{p}, sent.Add(deadline+2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if a := f.SLA[p.Priority]; a.Met != 0 {
			t.Errorf("target %v: attainment %+v counts a late reply as met", sla.FirstResponse, a)
		}
	}
	// A late ack or bounce changes nothing either.
	for _, k := range []probe.Kind{probe.KindAutoAck, probe.KindBounce} {
		p := sentProbe(sent, terms(calendarSLA(time.Hour)), reply("x", k, sent.Add(deadline+time.Minute)))
		if m := mustMeasure(t, p, sent.Add(deadline+time.Hour)); m.Status != probe.StatusUnanswered || m.FirstAck != nil || m.SLA != probe.SLABreached {
			t.Errorf("late %s: Measure() = %s, ack %s, sla %s; want unanswered, no ack, breached", k, m.Status, replyID(m.FirstAck), m.SLA)
		}
	}
}

// Defect 3: a reply that arrived before its inquiry was sent read as "answered in 0 s".
// Within ArrivalTolerance (INTERNALDATE's second, the skew's uncertainty) it is taken as
// arriving at sent_at; earlier, it is never a latency.
func TestEarlyReplyIsNeverALatency(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00")
	tests := []struct {
		name     string
		at       time.Time
		skew     time.Duration
		wantResp string
		early    bool
	}{
		{"hours before", sent.Add(-3 * time.Hour), 0, "nil", true},
		{"3 s before", sent.Add(-3 * time.Second), 0, "nil", true},
		{"1 s before: INTERNALDATE resolution", sent.Add(-time.Second), 0, "0s", false},
		{"server clock 10 min ahead, 5 s after", sent.Add(10*time.Minute + 5*time.Second), 10 * time.Minute, "5s", false},
		{"server clock 10 min ahead, 5 min before", sent.Add(5 * time.Minute), 10 * time.Minute, "nil", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := sentProbe(sent, terms(calendarSLA(time.Hour)), reply("h", probe.KindHuman, tt.at))
			p.ClockSkew = tt.skew
			m := mustMeasure(t, p, sent.Add(time.Hour/2))
			if got := durString(m.ResponseLatency); got != tt.wantResp {
				t.Errorf("ResponseLatency = %s, want %s", got, tt.wantResp)
			}
			if (len(m.Early) == 1) != tt.early || p.IsEarly(p.Replies[0]) != tt.early {
				t.Errorf("Early = %d, IsEarly = %v; want early %v", len(m.Early), p.IsEarly(p.Replies[0]), tt.early)
			}
			if tt.early && (m.Status != probe.StatusSent || m.SLA != probe.SLAOpen) {
				t.Errorf("Measure() = %s, sla %s; want sent, open", m.Status, m.SLA)
			}
		})
	}
}

// Defect 5: the ack figure ("time to first sign of life") censored probes that a person
// answered directly. A person's answer also acknowledges.
func TestFirstSignOfLife(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	sent := wall(t, la, "2026-06-01 10:00")
	direct := sentProbe(sent, terms(nil), reply("h", probe.KindHuman, sent.Add(25*time.Second)))
	acked := sentProbe(sent, terms(nil), reply("a", probe.KindAutoAck, sent.Add(10*time.Second)), reply("h", probe.KindHuman, sent.Add(time.Hour)))
	acked.ID = "p2"
	m := mustMeasure(t, direct, sent.Add(time.Hour))
	if replyID(m.FirstSignOfLife) != "h" || durString(m.SignOfLifeLatency) != "25s" || m.FirstAck != nil {
		t.Errorf("direct answer: sign of life %s in %s, ack %s; want h in 25s, no ack", replyID(m.FirstSignOfLife), durString(m.SignOfLifeLatency), replyID(m.FirstAck))
	}
	m = mustMeasure(t, acked, sent.Add(2*time.Hour))
	if replyID(m.FirstSignOfLife) != "a" || durString(m.SignOfLifeLatency) != "10s" {
		t.Errorf("acked: sign of life %s in %s, want a in 10s", replyID(m.FirstSignOfLife), durString(m.SignOfLifeLatency))
	}

	// Measured again an hour and a day later, the figure does not grow.
	for _, now := range []time.Time{sent.Add(2 * time.Hour), sent.Add(50 * time.Hour)} {
		f, err := probe.Compute([]probe.Probe{direct, acked}, now)
		if err != nil {
			t.Fatal(err)
		}
		if f.Ack.Events != 2 || f.Ack.P90.String() != "25s" || f.AutoAcked != 1 {
			t.Errorf("at %v: Ack events %d, p90 %s, auto-acked %d; want 2, 25s, 1", now.Sub(sent), f.Ack.Events, f.Ack.P90, f.AutoAcked)
		}
	}
}
