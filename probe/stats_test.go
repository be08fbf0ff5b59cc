package probe

import (
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

// Helpers here carry a "stats" prefix: this internal test file shares its package with
// the rest of probe and must not collide with names others add.

func statsLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q) = %v", name, err)
	}
	return loc
}

// statsAt parses "2006-01-02 15:04" on loc's wall clock.
func statsAt(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatalf("ParseInLocation(%q) = %v", s, err)
	}
	return at
}

func statsNear(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// statsNear4 reports whether got rounds to want at four decimals.
func statsNear4(got, want float64) bool { return math.Abs(got-want) < 0.00005 }

func statsEvent(h float64) Observation {
	return Observation{Duration: time.Duration(h * float64(time.Hour)), Event: true}
}

func statsCensored(h float64) Observation {
	return Observation{Duration: time.Duration(h * float64(time.Hour))}
}

func TestKaplanMeierTextbook(t *testing.T) {
	// Ten latencies in hours, "+" censored: 1, 2+, 3, 3, 5, 5+, 6, 8+, 9, 10+.
	// Given shuffled, to check that KaplanMeier sorts.
	obs := []Observation{statsCensored(10), statsEvent(3), statsEvent(1), statsCensored(5), statsEvent(9), statsCensored(2), statsEvent(5), statsEvent(6), statsEvent(3), statsCensored(8)}
	orig := slices.Clone(obs)
	km := KaplanMeier(obs)
	if !reflect.DeepEqual(obs, orig) {
		t.Errorf("KaplanMeier modified its input: %v", obs)
	}

	// By hand, S(t) = S(t−)·(1 − d/n):
	//   t=1   n=10 d=1       S = 1 · 9/10            = 0.9
	//   t=2   n=9  censored  S = 0.9
	//   t=3   n=8  d=2       S = 0.9 · 6/8           = 0.675
	//   t=5   n=6  d=1 c=1   S = 0.675 · 5/6         = 0.5625
	//         (the censored one is still at risk at 5; censoring first would give
	//          n=5 and 0.675 · 4/5 = 0.54)
	//   t=6   n=4  d=1       S = 0.5625 · 3/4        = 0.421875
	//   t=8   n=3  censored  S = 0.421875
	//   t=9   n=2  d=1       S = 0.421875 · 1/2      = 0.2109375
	//   t=10  n=1  censored  S = 0.2109375
	want := []Step{
		{At: 1 * time.Hour, S: 0.9, AtRisk: 10, Events: 1},
		{At: 2 * time.Hour, S: 0.9, AtRisk: 9, Censored: 1},
		{At: 3 * time.Hour, S: 0.675, AtRisk: 8, Events: 2},
		{At: 5 * time.Hour, S: 0.5625, AtRisk: 6, Events: 1, Censored: 1},
		{At: 6 * time.Hour, S: 0.421875, AtRisk: 4, Events: 1},
		{At: 8 * time.Hour, S: 0.421875, AtRisk: 3, Censored: 1},
		{At: 9 * time.Hour, S: 0.2109375, AtRisk: 2, Events: 1},
		{At: 10 * time.Hour, S: 0.2109375, AtRisk: 1, Censored: 1},
	}
	got := km.Steps()
	if len(got) != len(want) {
		t.Fatalf("Steps() = %v, want %v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.At != w.At || !statsNear(g.S, w.S) || g.AtRisk != w.AtRisk || g.Events != w.Events || g.Censored != w.Censored {
			t.Errorf("Steps()[%d] = %+v, want %+v", i, g, w)
		}
	}

	// Quantile q: the first event time with S ≤ 1−q.
	quantiles := []struct {
		q       float64
		d       time.Duration
		reached bool
	}{
		{0.1, 1 * time.Hour, true},    // S ≤ 0.9: at t=1 S is exactly 0.9
		{0.25, 3 * time.Hour, true},   // S ≤ 0.75: 0.675 at t=3
		{0.4375, 5 * time.Hour, true}, // S ≤ 0.5625: exactly at t=5
		{0.5, 6 * time.Hour, true},    // median: S ≤ 0.5 first at t=6 (0.421875)
		{0.75, 9 * time.Hour, true},   // S ≤ 0.25: 0.2109375 at t=9
		{0.9, 10 * time.Hour, false},  // S ≤ 0.1 never: "> 10h", the last observed time
		{1, 10 * time.Hour, false},
		{0, 0, false},
		{1.5, 0, false},
		{math.NaN(), 0, false},
	}
	for _, c := range quantiles {
		d, ok := km.Quantile(c.q)
		if d != c.d || ok != c.reached {
			t.Errorf("Quantile(%v) = %v, %v, want %v, %v", c.q, d, ok, c.d, c.reached)
		}
	}
	if d, ok := km.Median(); d != 6*time.Hour || !ok {
		t.Errorf("Median() = %v, %v, want 6h, true", d, ok)
	}
	// The last observation (10h) is censored: the largest latency is only known to
	// exceed 10h, and the largest observed one is 9h.
	if d, ok := km.Max(); d != 10*time.Hour || ok {
		t.Errorf("Max() = %v, %v, want 10h, false", d, ok)
	}
	if d, ok := km.MaxEvent(); d != 9*time.Hour || !ok {
		t.Errorf("MaxEvent() = %v, %v, want 9h, true", d, ok)
	}
	at := []struct {
		t time.Duration
		s float64
	}{
		{0, 1}, {59 * time.Minute, 1}, {time.Hour, 0.9}, {4 * time.Hour, 0.675},
		{5 * time.Hour, 0.5625}, {20 * time.Hour, 0.2109375},
	}
	for _, c := range at {
		if got := km.At(c.t); !statsNear(got, c.s) {
			t.Errorf("At(%v) = %v, want %v", c.t, got, c.s)
		}
	}
}

func TestKaplanMeierSmallCases(t *testing.T) {
	tests := []struct {
		name      string
		obs       []Observation
		steps     []Step
		median    Estimate
		p90       Estimate
		max       Estimate
		maxEvent  Estimate // Reached is MaxEvent's ok
		medianStr string
	}{
		{
			// Four at 2h, two events and two censored. Events first: n=4 at 2h, so
			// S = 1 − 2/4 = 0.5, which reaches the median exactly. (Censorings first
			// would give n=2 and S = 0.) The largest time holds censorings: max "> 2h".
			name:      "ties",
			obs:       []Observation{statsCensored(2), statsEvent(2), statsCensored(2), statsEvent(2)},
			steps:     []Step{{At: 2 * time.Hour, S: 0.5, AtRisk: 4, Events: 2, Censored: 2}},
			median:    Estimate{2 * time.Hour, true},
			p90:       Estimate{2 * time.Hour, false},
			max:       Estimate{2 * time.Hour, false},
			maxEvent:  Estimate{2 * time.Hour, true},
			medianStr: "2h",
		},
		{
			// Nothing answered: S stays 1, no quantile is reached, everything is "> 3h".
			name: "all censored",
			obs:  []Observation{statsCensored(3), statsCensored(1), statsCensored(2)},
			steps: []Step{
				{At: 1 * time.Hour, S: 1, AtRisk: 3, Censored: 1},
				{At: 2 * time.Hour, S: 1, AtRisk: 2, Censored: 1},
				{At: 3 * time.Hour, S: 1, AtRisk: 1, Censored: 1},
			},
			median:    Estimate{3 * time.Hour, false},
			p90:       Estimate{3 * time.Hour, false},
			max:       Estimate{3 * time.Hour, false},
			maxEvent:  Estimate{0, false},
			medianStr: "> 3h",
		},
		{
			// One event at 90m: S = 1 − 1/1 = 0, so every quantile is 90m.
			name:      "single event",
			obs:       []Observation{statsEvent(1.5)},
			steps:     []Step{{At: 90 * time.Minute, S: 0, AtRisk: 1, Events: 1}},
			median:    Estimate{90 * time.Minute, true},
			p90:       Estimate{90 * time.Minute, true},
			max:       Estimate{90 * time.Minute, true},
			maxEvent:  Estimate{90 * time.Minute, true},
			medianStr: "1h30m",
		},
		{
			// Censored after the last event: 1h, 2h, 4h+. S(1h) = 2/3, S(2h) = 2/3·1/2
			// = 1/3. Median 2h, p90 not reached (S never ≤ 0.1), max "> 4h".
			name: "censored tail",
			obs:  []Observation{statsEvent(1), statsEvent(2), statsCensored(4)},
			steps: []Step{
				{At: 1 * time.Hour, S: 2.0 / 3, AtRisk: 3, Events: 1},
				{At: 2 * time.Hour, S: 1.0 / 3, AtRisk: 2, Events: 1},
				{At: 4 * time.Hour, S: 1.0 / 3, AtRisk: 1, Censored: 1},
			},
			median:    Estimate{2 * time.Hour, true},
			p90:       Estimate{4 * time.Hour, false},
			max:       Estimate{4 * time.Hour, false},
			maxEvent:  Estimate{2 * time.Hour, true},
			medianStr: "2h",
		},
		{
			name:      "empty",
			obs:       nil,
			steps:     nil,
			medianStr: "> 0s",
		},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			km := KaplanMeier(c.obs)
			got := km.Steps()
			if len(got) != len(c.steps) {
				t.Fatalf("Steps() = %+v, want %+v", got, c.steps)
			}
			for i := range got {
				g, w := got[i], c.steps[i]
				if g.At != w.At || !statsNear(g.S, w.S) || g.AtRisk != w.AtRisk || g.Events != w.Events || g.Censored != w.Censored {
					t.Errorf("Steps()[%d] = %+v, want %+v", i, g, w)
				}
			}
			check := func(name string, d time.Duration, ok bool, want Estimate) {
				t.Helper()
				if d != want.D || ok != want.Reached {
					t.Errorf("%s = %v, %v, want %v, %v", name, d, ok, want.D, want.Reached)
				}
			}
			d, ok := km.Median()
			check("Median()", d, ok, c.median)
			d, ok = km.Quantile(0.9)
			check("Quantile(0.9)", d, ok, c.p90)
			d, ok = km.Max()
			check("Max()", d, ok, c.max)
			d, ok = km.MaxEvent()
			check("MaxEvent()", d, ok, c.maxEvent)
			if s := Summarize(c.obs).Median.String(); s != c.medianStr {
				t.Errorf("Summarize().Median.String() = %q, want %q", s, c.medianStr)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	// z = 1.959963984540054, z² = 3.841459 (to 6 places).
	//   centre = (p + z²/2n) / (1 + z²/n)
	//   half   = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²)
	tests := []struct {
		name      string
		s, n      int
		p, lo, hi float64
	}{
		// 8/10: p = 0.8, z²/n = 0.384146, 1 + z²/n = 1.384146.
		//   centre = (0.8 + 0.192073) / 1.384146 = 0.992073 / 1.384146 = 0.716740
		//   radicand = 0.8·0.2/10 + 3.841459/400 = 0.016 + 0.009604 = 0.025604
		//   half = 1.959964/1.384146 · √0.025604 = 1.416010 · 0.160011 = 0.226578
		//   [0.716740 − 0.226578, 0.716740 + 0.226578] = [0.4902, 0.9433]
		{"8 of 10", 8, 10, 0.8, 0.4902, 0.9433},
		// 0/5: p = 0, z²/n = 0.768292, 1 + z²/n = 1.768292.
		//   centre = (0 + 0.384146) / 1.768292 = 0.217241
		//   radicand = 0 + 3.841459/100 = 0.038415, √ = 0.195996 (= z/10)
		//   half = 1.959964/1.768292 · 0.195996 = 1.108394 · 0.195996 = 0.217241
		//   [0, 0.434482] = [0.0000, 0.4345]: the interval still reaches 43%.
		{"0 of 5", 0, 5, 0, 0, 0.4345},
		// 5/5 mirrors 0/5: centre = (1 + 0.384146) / 1.768292 = 0.782759, the same half
		// 0.217241, [0.565518, 1] = [0.5655, 1.0000].
		{"5 of 5", 5, 5, 1, 0.5655, 1},
		// 37/40: p = 0.925, z²/n = 0.096036, 1 + z²/n = 1.096036.
		//   centre = (0.925 + 0.048018) / 1.096036 = 0.973018 / 1.096036 = 0.887761
		//   radicand = 0.925·0.075/40 + 3.841459/6400 = 0.001734 + 0.000600 = 0.002335
		//   half = 1.959964/1.096036 · √0.002335 = 1.788229 · 0.048318 = 0.086403
		//   [0.887761 − 0.086403, 0.887761 + 0.086403] = [0.8014, 0.9742]
		{"37 of 40", 37, 40, 0.925, 0.8014, 0.9742},
		// 1/4 (used in TestCompute): p = 0.25, z²/n = 0.960365, 1 + z²/n = 1.960365.
		//   centre = (0.25 + 0.480182) / 1.960365 = 0.372473
		//   radicand = 0.25·0.75/4 + 3.841459/64 = 0.046875 + 0.060023 = 0.106898
		//   half = 1.959964/1.960365 · √0.106898 = 0.999796 · 0.326952 = 0.326885
		//   [0.0456, 0.6994]
		{"1 of 4", 1, 4, 0.25, 0.0456, 0.6994},
		// 1/2 (used in TestCompute): centre = (0.5 + 0.960365) / 2.920729 = 0.5
		//   radicand = 0.125 + 3.841459/16 = 0.125 + 0.240091 = 0.365091, √ = 0.604228
		//   half = 1.959964/2.920729 · 0.604228 = 0.671053 · 0.604228 = 0.405469
		//   [0.0945, 0.9055]
		{"1 of 2", 1, 2, 0.5, 0.0945, 0.9055},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			p, lo, hi := Wilson(c.s, c.n, Wilson95)
			if !statsNear(p, c.p) || !statsNear4(lo, c.lo) || !statsNear4(hi, c.hi) {
				t.Errorf("Wilson(%d, %d) = %.4f [%.4f, %.4f], want %.4f [%.4f, %.4f]", c.s, c.n, p, lo, hi, c.p, c.lo, c.hi)
			}
			if lo < 0 || hi > 1 || lo > p || hi < p {
				t.Errorf("Wilson(%d, %d) = %v [%v, %v]: not inside [0, 1] around p", c.s, c.n, p, lo, hi)
			}
		})
	}
	t.Run("no trials", func(t *testing.T) {
		p, lo, hi := Wilson(0, 0, Wilson95)
		if !math.IsNaN(p) || lo != 0 || hi != 1 {
			t.Errorf("Wilson(0, 0) = %v [%v, %v], want NaN [0, 1]", p, lo, hi)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, c := range [][2]int{{3, 2}, {-1, 2}, {0, -1}} {
			p, lo, hi := Wilson(c[0], c[1], Wilson95)
			if !math.IsNaN(p) || !math.IsNaN(lo) || !math.IsNaN(hi) {
				t.Errorf("Wilson(%d, %d) = %v [%v, %v], want NaN", c[0], c[1], p, lo, hi)
			}
		}
	})
}

func TestEstimateString(t *testing.T) {
	tests := []struct {
		e    Estimate
		want string
	}{
		{Estimate{3*time.Hour + 20*time.Minute, false}, "> 3h20m"},
		{Estimate{90 * time.Minute, true}, "1h30m"},
		{Estimate{72 * time.Hour, false}, "> 72h"},
		{Estimate{time.Hour + 5*time.Second, true}, "1h0m5s"},
		{Estimate{45 * time.Minute, true}, "45m"},
		{Estimate{10 * time.Second, true}, "10s"},
		{Estimate{2*time.Minute + 499*time.Millisecond, true}, "2m"},
		{Estimate{0, true}, "0s"},
	}
	for _, c := range tests {
		if got := c.e.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.e, got, c.want)
		}
	}
}

// The vendor of the Compute tests: Mon–Fri 09:00–18:00 America/Los_Angeles (PDT, UTC−7,
// in June 2026; 2026-06-01 is a Monday), 72 hours to answer, P1 within 4 calendar hours,
// P2 within 8 business hours, no target for P3.
func statsTerms(pr Priority) Terms {
	tm := Terms{
		Hours:    HoursSpec{Zone: "America/Los_Angeles", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"},
		Deadline: 72 * time.Hour,
	}
	switch pr {
	case P1:
		tm.SLA = &SLATarget{FirstResponse: 4 * time.Hour, Clock: Calendar}
	case P2:
		tm.SLA = &SLATarget{FirstResponse: 8 * time.Hour, Clock: Business}
	}
	return tm
}

func statsProbe(id string, pr Priority, sent time.Time, replies ...Reply) Probe {
	return Probe{
		ID: id, Vendor: "acme", Priority: pr, Language: "en", Script: "login",
		State: StateSent, SentAt: sent, Terms: statsTerms(pr), Replies: replies,
	}
}

func statsReply(kind Kind, at time.Time) Reply {
	return Reply{Kind: kind, ReceivedAt: at}
}

// statsProbes returns the probe set of TestCompute and the instant it is measured at:
// Monday 2026-06-08 12:00 PDT.
func statsProbes(t *testing.T) ([]Probe, time.Time) {
	la := statsLoc(t, "America/Los_Angeles")
	at := func(s string) time.Time { return statsAt(t, la, s) }

	// Answered in 1h30m with an ack after 2m; the IMAP server's clock is 1m ahead of
	// ours, so its INTERNALDATEs read 1m later.
	a := statsProbe("a-answered", P1, at("2026-06-01 10:00"),
		statsReply(KindAutoAck, at("2026-06-01 10:03")),
		statsReply(KindHuman, at("2026-06-01 11:31")))
	a.ClockSkew, a.SkewMeasured = time.Minute, true
	// Acknowledged after 5m, never answered; sent after hours.
	b := statsProbe("b-acked", P1, at("2026-06-01 20:00"),
		statsReply(KindAutoAck, at("2026-06-01 20:05")))
	// Nothing at all; sent at 3 a.m.
	c := statsProbe("c-silent", P2, at("2026-06-02 03:00"))
	// Acknowledged after 30m; a person answered after 73h, one hour late.
	d := statsProbe("d-late", P1, at("2026-06-03 09:00"),
		statsReply(KindAutoAck, at("2026-06-03 09:30")),
		statsReply(KindHuman, at("2026-06-06 10:00")))
	// Sent two hours before now, nothing yet.
	e := statsProbe("e-open", P1, at("2026-06-08 10:00"))
	// Sent Saturday, acknowledged after 1m, no person after 51h: past the 4h target.
	f := statsProbe("f-open-breached", P1, at("2026-06-06 09:00"),
		statsReply(KindAutoAck, at("2026-06-06 09:01")))
	f.Language, f.Script = "zh", "billing"
	// Bounced.
	g := statsProbe("g-bounced", P3, at("2026-06-01 11:00"),
		statsReply(KindBounce, at("2026-06-01 11:01")))
	// Our SMTP server refused it at 2 a.m.
	h := statsProbe("h-failed", P1, time.Time{})
	h.State, h.ScheduledAt = StateFailed, at("2026-06-01 02:00")
	i := statsProbe("i-unknown", P1, time.Time{})
	i.State, i.CreatedAt = StateUnknown, at("2026-06-02 12:00")
	j := statsProbe("j-sending", P1, time.Time{})
	j.State, j.CreatedAt = StateSending, at("2026-06-08 11:59")
	// Sent Friday 17:00, answered Monday 10:00: 65h calendar, 2h business
	// (Fri 17:00–18:00 and Mon 09:00–10:00); no ack.
	k := statsProbe("k-weekend", P2, at("2026-06-05 17:00"),
		statsReply(KindHuman, at("2026-06-08 10:00")))
	k.Language, k.Script = "zh", "billing"

	// Out of order, so the breach lists must be sorted.
	return []Probe{k, d, j, a, h, f, c, i, g, e, b}, at("2026-06-08 12:00")
}

func TestCompute(t *testing.T) {
	ps, now := statsProbes(t)
	f, err := Compute(ps, now)
	if err != nil {
		t.Fatalf("Compute() = %v", err)
	}

	counts := []struct {
		name      string
		got, want int
	}{
		{"Total", f.Total, 11},
		{"Sent", f.Sent, 8}, // a b c d e f g k
		{"Answered", f.Answered, 2},
		{"AckOnly", f.AckOnly, 3},     // b and d (unanswered), f (open)
		{"AutoAcked", f.AutoAcked, 4}, // a (answered), b, d, f
		{"Unanswered", f.Unanswered, 3},
		{"Open", f.Open, 2},
		{"Bounced", f.Bounced, 1},
		{"Failed", f.Failed, 1},
		{"Unknown", f.Unknown, 2}, // i unknown, j sending
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("Compute().%s = %d, want %d", c.name, c.got, c.want)
		}
	}

	// Response, calendar, hours: a 1.5, k 65 (events); e 2+ (open, now − sent),
	// f 51+ (open), b 72+, c 72+, d 72+ (deadline; d's answer at 73h is late and is not
	// an event). Bounced g and the unsent h, i, j are left out.
	//   1.5h  n=7 d=1   S = 6/7            = 0.857143
	//   2h    n=6 c=1
	//   51h   n=5 c=1
	//   65h   n=4 d=1   S = 6/7 · 3/4      = 0.642857
	//   72h   n=3 c=3
	// S never reaches 0.5: median "> 72h". (The answered probes alone would give a
	// median of 33h15m, and nothing would show that most probes were never answered.)
	wantResponse := []Step{
		{At: 90 * time.Minute, S: 6.0 / 7, AtRisk: 7, Events: 1},
		{At: 2 * time.Hour, S: 6.0 / 7, AtRisk: 6, Censored: 1},
		{At: 51 * time.Hour, S: 6.0 / 7, AtRisk: 5, Censored: 1},
		{At: 65 * time.Hour, S: 9.0 / 14, AtRisk: 4, Events: 1},
		{At: 72 * time.Hour, S: 9.0 / 14, AtRisk: 3, Censored: 3},
	}
	statsCheckSummary(t, "Response", f.Response, 7, 2, "> 72h", "> 72h", "> 72h", wantResponse)

	// Business response, hours: a 1.5 and k 2 (events); e 2+ (Mon 10:00–12:00), f 3+
	// (Sat and Sun closed, Mon 09:00–12:00), and b, c, d 27+ each: from the send to the
	// deadline three days later lie three full 9h business days (b: Mon 20:00 → Thu
	// 20:00 covers Tue, Wed, Thu; c: Tue 03:00 → Fri 03:00 covers Tue, Wed, Thu; d: Wed
	// 09:00 → Sat 09:00 covers Wed, Thu, Fri).
	//   1.5h  n=7 d=1       S = 6/7         = 0.857143
	//   2h    n=6 d=1 c=1   S = 6/7 · 5/6   = 5/7 = 0.714286 (event first, e still at risk)
	//   3h    n=4 c=1
	//   27h   n=3 c=3
	wantBusiness := []Step{
		{At: 90 * time.Minute, S: 6.0 / 7, AtRisk: 7, Events: 1},
		{At: 2 * time.Hour, S: 5.0 / 7, AtRisk: 6, Events: 1, Censored: 1},
		{At: 3 * time.Hour, S: 5.0 / 7, AtRisk: 4, Censored: 1},
		{At: 27 * time.Hour, S: 5.0 / 7, AtRisk: 3, Censored: 3},
	}
	statsCheckSummary(t, "BusinessResponse", f.BusinessResponse, 7, 2, "> 27h", "> 27h", "> 27h", wantBusiness)

	// Ack (first sign of life): f 1m, a 2m (skew removed), b 5m, d 30m (acks), k 65h
	// (no ack, but a person answered: an answer also acknowledges); e 2h+ (open); c
	// 72h+.
	//   1m    n=7 d=1   S = 6/7            = 0.857143
	//   2m    n=6 d=1   S = 6/7 · 5/6      = 5/7 = 0.714286
	//   5m    n=5 d=1   S = 5/7 · 4/5      = 4/7 = 0.571429
	//   30m   n=4 d=1   S = 4/7 · 3/4      = 3/7 = 0.428571  ≤ 0.5: median 30m
	//   2h    censored
	//   65h   n=2 d=1   S = 3/7 · 1/2      = 3/14 = 0.214286
	//   72h   censored; S never ≤ 0.1: p90 "> 72h"
	wantAck := []Step{
		{At: time.Minute, S: 6.0 / 7, AtRisk: 7, Events: 1},
		{At: 2 * time.Minute, S: 5.0 / 7, AtRisk: 6, Events: 1},
		{At: 5 * time.Minute, S: 4.0 / 7, AtRisk: 5, Events: 1},
		{At: 30 * time.Minute, S: 3.0 / 7, AtRisk: 4, Events: 1},
		{At: 2 * time.Hour, S: 3.0 / 7, AtRisk: 3, Censored: 1},
		{At: 65 * time.Hour, S: 3.0 / 14, AtRisk: 2, Events: 1},
		{At: 72 * time.Hour, S: 3.0 / 14, AtRisk: 1, Censored: 1},
	}
	statsCheckSummary(t, "Ack", f.Ack, 7, 5, "30m", "> 72h", "> 72h", wantAck)

	// SLA. P1 (4h calendar): a met; b and d breached; f open-breached (51h > 4h, so it
	// is decided); e open (2h); h failed, no SLA. Met 1 of 4: 0.25 [0.0456, 0.6994].
	// P2 (8h business): k met (2h); c breached (27h business by its deadline).
	// Met 1 of 2: 0.5 [0.0945, 0.9055]. P3 has no target and g bounced: no entry.
	wantSLA := map[Priority]Attainment{
		P1: {Met: 1, Decided: 4, Open: 1, Rate: 0.25, Lo: 0.0456, Hi: 0.6994},
		P2: {Met: 1, Decided: 2, Open: 0, Rate: 0.5, Lo: 0.0945, Hi: 0.9055},
	}
	if len(f.SLA) != len(wantSLA) {
		t.Errorf("Compute().SLA = %+v, want %+v", f.SLA, wantSLA)
	}
	for pr, w := range wantSLA {
		g, ok := f.SLA[pr]
		if !ok || g.Met != w.Met || g.Decided != w.Decided || g.Open != w.Open ||
			!statsNear(g.Rate, w.Rate) || !statsNear4(g.Lo, w.Lo) || !statsNear4(g.Hi, w.Hi) {
			t.Errorf("Compute().SLA[%s] = %+v, want %+v", pr, g, w)
		}
	}
	if want := []string{"b-acked", "c-silent", "d-late"}; !slices.Equal(f.Breaches, want) {
		t.Errorf("Compute().Breaches = %v, want %v", f.Breaches, want)
	}
	if want := []string{"f-open-breached"}; !slices.Equal(f.OpenBreached, want) {
		t.Errorf("Compute().OpenBreached = %v, want %v", f.OpenBreached, want)
	}
	if r, ok := f.AnsweredRate(); !ok || !statsNear(r, 0.4) { // 2 of 2+3
		t.Errorf("AnsweredRate() = %v, %v, want 0.4, true", r, ok)
	}
}

func statsCheckSummary(t *testing.T, name string, s Summary, n, events int, median, p90, maxStr string, steps []Step) {
	t.Helper()
	if s.N != n || s.Events != events {
		t.Errorf("%s: N, Events = %d, %d, want %d, %d", name, s.N, s.Events, n, events)
	}
	if s.Median.String() != median || s.P90.String() != p90 || s.Max.String() != maxStr {
		t.Errorf("%s: median, p90, max = %s, %s, %s, want %s, %s, %s", name, s.Median, s.P90, s.Max, median, p90, maxStr)
	}
	if len(s.Curve) != len(steps) {
		t.Fatalf("%s: Curve = %+v, want %+v", name, s.Curve, steps)
	}
	for i := range steps {
		g, w := s.Curve[i], steps[i]
		if g.At != w.At || !statsNear(g.S, w.S) || g.AtRisk != w.AtRisk || g.Events != w.Events || g.Censored != w.Censored {
			t.Errorf("%s: Curve[%d] = %+v, want %+v", name, i, g, w)
		}
	}
}

// TestComputeCensoring checks, one probe at a time, where each kind of probe enters the
// three distributions.
func TestComputeCensoring(t *testing.T) {
	la := statsLoc(t, "America/Los_Angeles")
	at := func(s string) time.Time { return statsAt(t, la, s) }
	sent := at("2026-06-01 10:00") // Monday, open
	// obs is one distribution's single observation; none means no observation at all.
	type obs struct {
		d     time.Duration
		event bool
	}
	none := obs{-1, false}
	tests := []struct {
		name                string
		p                   Probe
		now                 time.Time
		resp, biz, ack      obs
		ackOnly, unanswered int
	}{
		{
			name: "answered",
			p:    statsProbe("p", P1, sent, statsReply(KindHuman, at("2026-06-01 19:00"))),
			now:  at("2026-06-10 00:00"),
			// 9h calendar; business Mon 10:00–18:00 = 8h; no automatic ack, but the
			// answer is the first sign of life.
			resp: obs{9 * time.Hour, true}, biz: obs{8 * time.Hour, true}, ack: obs{9 * time.Hour, true},
		},
		{
			name: "late answer censored at the deadline",
			p:    statsProbe("p", P1, sent, statsReply(KindHuman, at("2026-06-05 10:00"))),
			now:  at("2026-06-10 00:00"),
			// Business to Thu 10:00: Mon 8h + Tue 9h + Wed 9h + Thu 1h = 27h.
			resp: obs{72 * time.Hour, false}, biz: obs{27 * time.Hour, false}, ack: obs{72 * time.Hour, false},
			unanswered: 1,
		},
		{
			name: "ack after the deadline is no ack",
			p:    statsProbe("p", P1, sent, statsReply(KindAutoAck, at("2026-06-05 10:00"))),
			now:  at("2026-06-10 00:00"),
			resp: obs{72 * time.Hour, false}, biz: obs{27 * time.Hour, false}, ack: obs{72 * time.Hour, false},
			unanswered: 1,
		},
		{
			name: "open acknowledged",
			p:    statsProbe("p", P1, sent, statsReply(KindAutoAck, at("2026-06-01 10:10"))),
			now:  at("2026-06-02 10:00"),
			// 24h calendar, Mon 8h + Tue 1h business.
			resp: obs{24 * time.Hour, false}, biz: obs{9 * time.Hour, false}, ack: obs{10 * time.Minute, true},
			ackOnly: 1,
		},
		{
			name: "now before the send",
			p:    statsProbe("p", P1, sent),
			now:  at("2026-06-01 09:00"),
			resp: obs{0, false}, biz: obs{0, false}, ack: obs{0, false},
		},
		{
			name: "bounced",
			p:    statsProbe("p", P1, sent, statsReply(KindBounce, at("2026-06-01 10:01"))),
			now:  at("2026-06-10 00:00"),
			resp: none, biz: none, ack: none,
		},
		{
			name: "failed",
			p:    Probe{ID: "p", Priority: P1, State: StateFailed, Terms: statsTerms(P1)},
			now:  at("2026-06-10 00:00"),
			resp: none, biz: none, ack: none,
		},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			f, err := Compute([]Probe{c.p}, c.now)
			if err != nil {
				t.Fatalf("Compute() = %v", err)
			}
			for _, d := range []struct {
				name string
				s    Summary
				want obs
			}{{"Response", f.Response, c.resp}, {"BusinessResponse", f.BusinessResponse, c.biz}, {"Ack", f.Ack, c.ack}} {
				if d.want == none {
					if d.s.N != 0 {
						t.Errorf("%s = %+v, want no observation", d.name, d.s.Curve)
					}
					continue
				}
				st := d.s.Curve
				if d.s.N != 1 || len(st) != 1 || st[0].At != d.want.d || (st[0].Events == 1) != d.want.event {
					t.Errorf("%s = %+v, want one observation at %v, event %v", d.name, st, d.want.d, d.want.event)
				}
			}
			if f.AckOnly != c.ackOnly || f.Unanswered != c.unanswered {
				t.Errorf("AckOnly, Unanswered = %d, %d, want %d, %d", f.AckOnly, f.Unanswered, c.ackOnly, c.unanswered)
			}
		})
	}
}

func TestComputeBadTerms(t *testing.T) {
	p := statsProbe("p-bad", P1, time.Date(2026, 6, 1, 17, 0, 0, 0, time.UTC))
	p.Terms.Hours.Zone = "Mars/Olympus"
	if _, err := Compute([]Probe{p}, p.SentAt); err == nil {
		t.Errorf("Compute() with an unknown zone = nil error")
	}
	if _, err := Breakdown([]Probe{p}, p.SentAt, ByPriority); err == nil {
		t.Errorf("Breakdown() with an unknown zone = nil error")
	}
}

func TestComputeEmpty(t *testing.T) {
	f, err := Compute(nil, time.Now())
	if err != nil {
		t.Fatalf("Compute(nil) = %v", err)
	}
	if f.Total != 0 || f.Response.N != 0 || len(f.SLA) != 0 || f.Breaches != nil {
		t.Errorf("Compute(nil) = %+v, want empty figures", f)
	}
	if _, ok := f.AnsweredRate(); ok {
		t.Errorf("AnsweredRate() of no probes: ok = true")
	}
}

func TestBreakdownMatchesCompute(t *testing.T) {
	ps, now := statsProbes(t)
	keys := []struct {
		name string
		by   func(Probe, Measurement) string
		want map[string][]string // key → probe IDs
	}{
		{"ByVendor", ByVendor, map[string][]string{
			"acme": {"a-answered", "b-acked", "c-silent", "d-late", "e-open", "f-open-breached", "g-bounced", "h-failed", "i-unknown", "j-sending", "k-weekend"},
		}},
		{"ByPriority", ByPriority, map[string][]string{
			"P1": {"a-answered", "b-acked", "d-late", "e-open", "f-open-breached", "h-failed", "i-unknown", "j-sending"},
			"P2": {"c-silent", "k-weekend"},
			"P3": {"g-bounced"},
		}},
		// Business hours are Mon–Fri 09:00–18:00: b (Mon 20:00), c (Tue 03:00), f (Sat)
		// and h (attempted Mon 02:00) are after hours; d at 09:00 sharp is inside.
		{"ByAfterHours", ByAfterHours, map[string][]string{
			KeyAfterHours:    {"b-acked", "c-silent", "f-open-breached", "h-failed"},
			KeyBusinessHours: {"a-answered", "d-late", "e-open", "g-bounced", "i-unknown", "j-sending", "k-weekend"},
		}},
		{"ByLanguage", ByLanguage, map[string][]string{
			"en": {"a-answered", "b-acked", "c-silent", "d-late", "e-open", "g-bounced", "h-failed", "i-unknown", "j-sending"},
			"zh": {"f-open-breached", "k-weekend"},
		}},
		{"ByScript", ByScript, map[string][]string{
			"login":   {"a-answered", "b-acked", "c-silent", "d-late", "e-open", "g-bounced", "h-failed", "i-unknown", "j-sending"},
			"billing": {"f-open-breached", "k-weekend"},
		}},
		{"ByHourOfDay", ByHourOfDay, map[string][]string{
			"02": {"h-failed"}, "03": {"c-silent"}, "09": {"d-late", "f-open-breached"},
			"10": {"a-answered", "e-open"}, "11": {"g-bounced", "j-sending"}, "12": {"i-unknown"},
			"17": {"k-weekend"}, "20": {"b-acked"},
		}},
	}
	byID := map[string]Probe{}
	for _, p := range ps {
		byID[p.ID] = p
	}
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			got, err := Breakdown(ps, now, k.by)
			if err != nil {
				t.Fatalf("Breakdown() = %v", err)
			}
			if len(got) != len(k.want) {
				t.Errorf("Breakdown() has keys %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(k.want)))
			}
			for key, ids := range k.want {
				var group []Probe
				for _, id := range ids {
					group = append(group, byID[id])
				}
				want, err := Compute(group, now)
				if err != nil {
					t.Fatalf("Compute(%s) = %v", key, err)
				}
				// Compared as printed, so that a NaN rate equals a NaN rate.
				if g, ok := got[key]; !ok || fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", want) {
					t.Errorf("Breakdown()[%q] = %+v, want Compute(%v) = %+v", key, g, ids, want)
				}
			}
		})
	}
}

// TestBreakdownByHourOfDayDST keys probes by the hour on Los Angeles' wall clock, which
// moves against UTC twice a year: PST is UTC−8, PDT UTC−7; on 2026-03-08 02:00 PST jumps
// to 03:00 PDT, on 2026-11-01 02:00 PDT falls back to 01:00 PST.
func TestBreakdownByHourOfDayDST(t *testing.T) {
	utc := func(s string) time.Time { return statsAt(t, time.UTC, s) }
	sent := func(id string, at time.Time) Probe { return statsProbe(id, P1, at) }
	failed := statsProbe("failed-jul", P1, time.Time{})
	failed.State, failed.ScheduledAt = StateFailed, utc("2026-07-15 10:05")
	ps := []Probe{
		sent("jan-11z", utc("2026-01-15 11:00")),   // 03:00 PST
		sent("jul-10z", utc("2026-07-15 10:00")),   // 03:00 PDT: the same wall hour, an hour earlier in UTC
		sent("jan-10z", utc("2026-01-15 10:00")),   // 02:00 PST
		sent("mar-0930z", utc("2026-03-08 09:30")), // 01:30 PST, half an hour before the jump
		sent("mar-10z", utc("2026-03-08 10:00")),   // 03:00 PDT: 02:xx never happens that night
		sent("nov-0830z", utc("2026-11-01 08:30")), // 01:30 PDT
		sent("nov-0930z", utc("2026-11-01 09:30")), // 01:30 PST, the repeated hour
		failed, // attempted 03:05 PDT
	}
	got, err := Breakdown(ps, utc("2027-01-01 00:00"), ByHourOfDay)
	if err != nil {
		t.Fatalf("Breakdown() = %v", err)
	}
	want := map[string]struct{ total, unanswered, failed int }{
		"01": {3, 3, 0},
		"02": {1, 1, 0},
		"03": {4, 3, 1},
	}
	if len(got) != len(want) {
		t.Errorf("Breakdown() has keys %v, want 01, 02, 03", slices.Sorted(maps.Keys(got)))
	}
	for key, w := range want {
		g := got[key]
		if g.Total != w.total || g.Unanswered != w.unanswered || g.Failed != w.failed {
			t.Errorf("Breakdown()[%q]: Total, Unanswered, Failed = %d, %d, %d, want %d, %d, %d",
				key, g.Total, g.Unanswered, g.Failed, w.total, w.unanswered, w.failed)
		}
	}
	noTime := statsProbe("no-time", P1, time.Time{})
	noTime.State = StateUnknown
	if k := ByHourOfDay(noTime, Measurement{}); k != "" {
		t.Errorf("ByHourOfDay(probe without times) = %q, want \"\"", k)
	}
}

func TestChange(t *testing.T) {
	prev := Figures{
		Answered: 3, Unanswered: 1,
		Response: Summary{N: 4, Median: Estimate{2 * time.Hour, true}},
		SLA: map[Priority]Attainment{
			P1: {Met: 2, Decided: 4, Rate: 0.5},
			P2: {Open: 1, Rate: math.NaN()},
			P3: {Met: 1, Decided: 1, Rate: 1},
		},
	}
	cur := Figures{
		Answered: 1, Unanswered: 1,
		Response: Summary{N: 2, Median: Estimate{3 * time.Hour, true}},
		SLA: map[Priority]Attainment{
			P1: {Met: 2, Decided: 2, Rate: 1},
			P2: {Met: 1, Decided: 1, Rate: 1},
			P4: {Met: 1, Decided: 1, Rate: 1},
		},
	}
	d := Change(prev, cur)
	// 1/2 − 3/4 = −0.25; 3h − 2h; P1 1 − 0.5. P2 had nothing decided before, P3 nothing
	// now and P4 nothing before: no change is made up for them.
	if d.AnsweredRate == nil || !statsNear(*d.AnsweredRate, -0.25) {
		t.Errorf("Change().AnsweredRate = %v, want -0.25", d.AnsweredRate)
	}
	if d.MedianResponse == nil || *d.MedianResponse != time.Hour {
		t.Errorf("Change().MedianResponse = %v, want 1h", d.MedianResponse)
	}
	if want := map[Priority]float64{P1: 0.5}; !reflect.DeepEqual(d.SLARate, want) {
		t.Errorf("Change().SLARate = %v, want %v", d.SLARate, want)
	}

	// A median not reached has no change; zero figures compare to nothing.
	cur.Response.Median.Reached = false
	if d := Change(prev, cur); d.MedianResponse != nil {
		t.Errorf("Change() with an unreached median: MedianResponse = %v, want nil", *d.MedianResponse)
	}
	if d := Change(Figures{}, cur); d.AnsweredRate != nil || d.MedianResponse != nil || d.SLARate != nil {
		t.Errorf("Change(Figures{}, cur) = %+v, want no changes", d)
	}
	if d := Change(prev, Figures{}); d.AnsweredRate != nil || d.MedianResponse != nil || d.SLARate != nil {
		t.Errorf("Change(prev, Figures{}) = %+v, want no changes", d)
	}
}
