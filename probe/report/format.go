package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/view"
)

// Formatting shared by the text and HTML writers, so both print the same strings.

// dur formats seconds as the CLI does, with its one rounding rule (view.Duration):
// "45s", "3m20s", "2h05m", "3d04h"; a negative value gets a leading "-".
func dur(s float64) string { return view.Duration(&s) }

// est formats an estimate: "2h05m", or "> 3d00h" when not reached; "-" for none.
func est(e *Estimate) string {
	if e == nil {
		return "-"
	}
	if !e.Reached {
		return "> " + dur(e.Seconds)
	}
	return dur(e.Seconds)
}

// pct formats a share as a whole percentage: "75%"; "-" for none.
func pct(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", math.Round(*f*100))
}

// points formats a change of shares in percentage points: "+25 pts".
func points(f float64) string {
	v := math.Round(f * 100)
	switch {
	case v == 0:
		return "±0 pts" // also -0
	case v > 0:
		return fmt.Sprintf("+%.0f pts", v)
	}
	return fmt.Sprintf("%.0f pts", v)
}

// signedDur formats a change of durations: "+1h20m", "-45m00s".
func signedDur(s float64) string {
	if s > 0 {
		return "+" + dur(s)
	}
	if s == 0 {
		return "±0s"
	}
	return dur(s)
}

// target formats an SLA target: "4h00m calendar".
func target(t Target) string { return dur(t.Seconds) + " " + string(t.Clock) }

func targets(ts []Target) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, target(t))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " / ")
}

// ratio formats answered/decided with its share: "3/4 75%"; "-" when nothing is
// decided.
func ratio(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d %.0f%%", n, of, math.Round(float64(n)/float64(of)*100))
}

// attainment formats "5/6 met, 83% [44%–97%]", "3/4 met, 75% (too few for an
// interval)" under MinIntervalN decided probes, or "none decided yet" when no probe is
// decided.
func attainment(a Attainment) string {
	if a.Decided == 0 || a.Rate == nil {
		return "none decided yet"
	}
	if a.Decided < MinIntervalN {
		return fmt.Sprintf("%d/%d met, %s (too few for an interval)", a.Met, a.Decided, pct(a.Rate))
	}
	return fmt.Sprintf("%d/%d met, %s [%s–%s]", a.Met, a.Decided, pct(a.Rate), pct(a.Lo), pct(a.Hi))
}

// localTime formats t on the wall clock of zone: "Tue 24 Nov 03:10". An unknown zone
// (Build has already refused those) falls back to UTC.
func localTime(t time.Time, zone string) string {
	loc, err := probe.LoadZone(zone)
	if err != nil || zone == "" {
		loc = time.UTC
	}
	return t.In(loc).Format("Mon 2 Jan 15:04")
}

func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") + " UTC" }

// actual describes a breach's outcome on the target's clock.
func actual(b Breach) string {
	switch {
	case b.WaitingSeconds != nil:
		return "open past target, waiting " + dur(*b.WaitingSeconds)
	case b.ActualSeconds == nil && b.LateResponse != nil:
		return "no answer in time (late reply)"
	case b.ActualSeconds == nil:
		return "no answer by the deadline"
	}
	return dur(*b.ActualSeconds)
}

// statusWord names a status for people.
func statusWord(s probe.Status) string {
	switch s {
	case probe.StatusSent, probe.StatusAcknowledged:
		return "open"
	}
	return string(s)
}

// pad fits s into exactly w columns, left-aligned.
func pad(s string, w int) string {
	s = view.Fit(s, w)
	return s + strings.Repeat(" ", w-view.TextWidth(s))
}

// padLeft fits s into exactly w columns, right-aligned.
func padLeft(s string, w int) string {
	s = view.Fit(s, w)
	return strings.Repeat(" ", w-view.TextWidth(s)) + s
}

// reviewText says how many replies wait for a decision and what they could change:
// "REVIEW: 2 replies await a decision (P3, P9) and count as no response until then; as
// a person's answers they would make 7 probes answered instead of 5. Run supportprobe
// review."
func reviewText(r Report) string {
	rv := r.Review
	n := plural(rv.Replies, "reply")
	verb := "await"
	if rv.Replies == 1 {
		verb = "awaits"
	}
	s := fmt.Sprintf("REVIEW: %s %s a decision (%s) and count as no response until then", n, verb, strings.Join(rv.Probes, ", "))
	if a := rv.AnsweredIfPerson; a != nil && *a != r.Totals.Answered {
		s += fmt.Sprintf("; as a person's answers they would make %s answered instead of %d", plural(*a, "probe"), r.Totals.Answered)
	} else {
		s += "; as a person's answers they would not change how many probes were answered"
	}
	return s + ". Decide them with `supportprobe review`."
}

// pauseText is one pause window in a line: "2026-12-23 23:00 UTC – 2026-12-26 23:00 UTC,
// configured: holiday freeze", or "… – until resumed, by hand".
func pauseText(w PauseWindow) string {
	end := "until resumed"
	if w.Until != nil {
		end = utcTime(*w.Until)
	}
	how := "by hand"
	if w.Source == probe.PauseConfig {
		how = "configured"
	}
	s := utcTime(w.From) + " – " + end + ", " + how
	if w.Note != "" {
		s += ": " + view.Clean(w.Note)
	}
	return s
}

// pausedText heads a vendor's pauses: "3d00h in this period".
func pausedText(p Paused) string { return dur(p.Seconds) + " in this period" }
