package report

import (
	"fmt"
	"io"
	"strings"

	"supportprobe/probe"
	"supportprobe/probe/view"
)

// lineWidth is the widest line WriteText writes, in terminal columns.
const lineWidth = 80

// textWriter remembers the first write error, so the layout code reads straight.
type textWriter struct {
	w   io.Writer
	err error
}

// line writes one line, cut to lineWidth columns (the layout keeps within it; this
// guards against strings it could not foresee).
func (t *textWriter) line(format string, args ...any) {
	if t.err != nil {
		return
	}
	s := strings.TrimRight(fmt.Sprintf(format, args...), " ")
	if view.TextWidth(s) > lineWidth {
		s = view.Fit(s, lineWidth)
	}
	_, t.err = io.WriteString(t.w, s+"\n")
}

func (t *textWriter) blank() { t.line("") }

// WriteText writes r for a terminal or a plain-text mail: no line wider than 80
// columns, breaches first, then one section per vendor. Vendor-controlled strings are
// cleaned of control characters and truncated to their column. It returns the first
// error from w.
func (r Report) WriteText(w io.Writer) error {
	t := &textWriter{w: w}
	title := view.Wrap(r.Title, lineWidth)
	for _, l := range title {
		t.line("%s", l)
	}
	t.line("%s", strings.Repeat("=", min(lineWidth, maxWidth(title))))
	t.line("Period    %s to %s", utcTime(r.Since), utcTime(r.Until))
	if r.PrevSince != nil {
		t.line("Previous  %s to %s", utcTime(*r.PrevSince), utcTime(r.Since))
	}
	t.line("As of     %s; open probes are measured up to this instant", utcTime(r.GeneratedAt))
	t.line("Probes    %s", totalsText(r.Totals))
	if rv := r.Review; rv.Replies > 0 {
		t.blank()
		for _, l := range view.Wrap(reviewText(r), lineWidth) {
			t.line("%s", l)
		}
	}

	r.textBreaches(t)
	if len(r.Vendors) > 1 {
		r.textOverview(t)
	}
	for _, v := range r.Vendors {
		v.text(t, r.PrevSince != nil)
	}

	t.blank()
	for _, l := range view.Wrap("Notes: a response is the first reply by a person, timed from our SMTP "+
		"server's acceptance of the inquiry to the reply's arrival at the IMAP server. "+
		"A reply after the probe's deadline is shown as late and never counts as an "+
		"answer; one that arrived before the inquiry was sent never counts at all. "+
		"The first sign of life is the first automatic acknowledgement or reply by a "+
		"person, whichever came first; \"acknowledged by a system\" counts the probes "+
		"that got an automatic acknowledgement at all. "+
		"Medians and p90 are Kaplan–Meier estimates: a probe nobody answered counts as "+
		"waiting until its deadline, an open one until the time above, and \"> X\" "+
		"means the estimate is not reached yet. SLA rates leave out open probes still "+
		"within their target and undecided ones (no answer by a deadline that came "+
		"before the target could pass); the interval is 95% Wilson. Breaches are the "+
		"decided breaches and the open probes already past their target.", lineWidth) {
		t.line("%s", l)
	}
	return t.err
}

func maxWidth(lines []string) int {
	n := 0
	for _, l := range lines {
		n = max(n, view.TextWidth(l))
	}
	return n
}

func totalsText(c Counts) string {
	s := fmt.Sprintf("%d: %d sent", c.Total, c.Sent)
	if c.Failed > 0 {
		s += fmt.Sprintf(", %d failed", c.Failed)
	}
	if c.Unknown > 0 {
		s += fmt.Sprintf(", %d unknown", c.Unknown)
	}
	return s
}

func sentText(c Counts) string {
	return fmt.Sprintf("%d: %d answered, %d unanswered, %d open, %d bounced",
		c.Sent, c.Answered, c.Unanswered, c.Open, c.Bounced)
}

// Columns of the breach table.
const (
	bwID     = 8
	bwVendor = 12
	bwPri    = 3
	bwTarget = 14
	bwIndent = 2 + bwID + 2 // where continuation lines start
)

// textBreaches writes the one list of breaches: decided ones first, then open probes
// past their target, each labelled by its ACTUAL column; the count in the title is the
// count the vendor table shows.
func (r Report) textBreaches(t *textWriter) {
	open := 0
	for _, b := range r.Breaches {
		if b.SLA == probe.SLAOpenBreached {
			open++
		}
	}
	t.blank()
	if len(r.Breaches) == 0 {
		t.line("SLA BREACHES: none")
		return
	}
	t.line("SLA BREACHES (%d: %d breached, %d open past target)", len(r.Breaches), len(r.Breaches)-open, open)
	writeBreachRows(t, r.Breaches)
}

func (r Report) textOverview(t *textWriter) {
	t.blank()
	t.line("  %s  %s  %s  %s  %s  %s  %s", pad("VENDOR", 14), padLeft("PROBES", 6), pad("ANSWERED", 9),
		pad("MEDIAN", 9), pad("P90", 9), pad("SLA MET", 7), "BREACHES")
	for _, v := range r.Vendors {
		met, decided := 0, 0
		for _, a := range v.SLA {
			met += a.Met
			decided += a.Decided
		}
		t.line("  %s  %s  %s  %s  %s  %s  %s", pad(v.Name, 14), padLeft(fmt.Sprint(v.Counts.Total), 6),
			pad(ratio(v.Counts.Answered, v.Counts.Answered+v.Counts.Unanswered), 9),
			pad(est(v.Response.Median), 9), pad(est(v.Response.P90), 9),
			pad(fraction(met, decided), 7), fmt.Sprint(v.BreachCount))
	}
}

// plural formats a count and a noun: "1 probe", "3 probes", "2 replies".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(noun) > 1 && strings.HasSuffix(noun, "y") && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])) {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func fraction(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", n, of)
}

func (v Vendor) text(t *textWriter, compare bool) {
	t.blank()
	head := "== " + view.Fit(v.Name, lineWidth-8) + " "
	t.line("%s%s", head, strings.Repeat("=", lineWidth-view.TextWidth(head)))
	zones := strings.Join(v.Zones, ", ")
	if zones == "" {
		zones = v.Hours.Zone
	}
	t.line("Hours     %s", view.Fit(hoursText(v.Hours)+" ("+zones+")", lineWidth-10))
	if len(v.Paused.Windows) > 0 {
		t.line("Paused    %s", pausedText(v.Paused))
		for _, w := range v.Paused.Windows {
			for _, l := range view.Wrap(pauseText(w), lineWidth-10) {
				t.line("          %s", l)
			}
		}
	}
	if v.Counts.Total == 0 {
		t.line("Probes    none in this period")
		if v.Change != nil {
			t.line("          %d in the previous period", v.Change.Previous.Total)
		}
		return
	}
	t.line("Probes    %s", totalsText(v.Counts))
	t.line("Sent      %s", sentText(v.Counts))
	if v.Counts.AutoAcked > 0 {
		t.line("          %d acknowledged by a system, %d of them not answered by a person", v.Counts.AutoAcked, v.Counts.AckOnly)
	}
	if v.AnsweredRate != nil {
		t.line("Answered  %d of %d with a known outcome (%s)", v.Counts.Answered, v.Counts.Answered+v.Counts.Unanswered, pct(v.AnsweredRate))
	} else {
		t.line("Answered  no probe has a known outcome yet")
	}
	v.textLanguage(t)
	if f := v.Followups; f.Sent > 0 || f.NeededReminder > 0 {
		t.line("Reminder  needed a reminder: %d of %d", f.NeededReminder, f.Probes)
		next := "no next response yet"
		if f.MedianNextResponseSeconds != nil {
			next = fmt.Sprintf("next response median %s (plain, %d observed)", dur(*f.MedianNextResponseSeconds), f.NextResponses)
		}
		t.line("Follow-up %s sent; %s", plural(f.Sent, "follow-up"), next)
	}

	t.blank()
	if v.Response.N == 0 {
		t.line("Latency   no probe reached the vendor")
	} else {
		t.line("Latency (Kaplan–Meier over %s; \"> X\": not reached)", plural(v.Response.N, "probe"))
		t.line("  %s  %s  %s  %s  %s", pad("", 16), pad("OBSERVED", 10), pad("MEDIAN", 10), pad("P90", 10), "MAX")
		for _, d := range []struct {
			name string
			d    Distribution
		}{{"sign of life", v.Ack}, {"first response", v.Response}, {"(business time)", v.BusinessResponse}} {
			t.line("  %s  %s  %s  %s  %s", pad(d.name, 16), pad(fmt.Sprintf("%d of %d", d.d.Events, d.d.N), 10),
				pad(est(d.d.Median), 10), pad(est(d.d.P90), 10), est(d.d.Max))
		}
	}

	if len(v.SLA) > 0 {
		t.blank()
		for _, l := range view.Wrap(fmt.Sprintf("SLA attainment (95%% Wilson interval, shown from %d decided probes: fewer say too little; open and undecided probes left out)", MinIntervalN), lineWidth) {
			t.line("%s", l)
		}
		for _, a := range v.SLA {
			var rest []string
			if a.Open > 0 {
				rest = append(rest, fmt.Sprintf("%d open", a.Open))
			}
			if a.Undecided > 0 {
				rest = append(rest, fmt.Sprintf("%d undecided", a.Undecided))
			}
			open := strings.Join(rest, ", ")
			t.line("  %s  %s  %s  %s", pad(string(a.Priority), 3), pad(targets(a.Targets), 16), pad(attainment(a), 38), view.Fit(open, lineWidth-65))
		}
	}

	if compare && v.Change != nil {
		c := v.Change
		t.blank()
		t.line("Change against the previous period (%s then)", plural(c.Previous.Total, "probe"))
		shift := func(s Shift) string {
			d := "n/a"
			if s.Delta != nil {
				d = points(*s.Delta)
			}
			return fmt.Sprintf("%s (%s → %s)", d, pct(s.Prev), pct(s.Cur))
		}
		t.line("  %s  %s", pad("answered", 18), shift(c.AnsweredRate))
		m := "n/a"
		if c.MedianResponse.DeltaSeconds != nil {
			m = signedDur(*c.MedianResponse.DeltaSeconds)
		}
		t.line("  %s  %s (%s → %s)", pad("median response", 18), m, est(c.MedianResponse.Prev), est(c.MedianResponse.Cur))
		for _, s := range c.SLA {
			t.line("  %s  %s", pad(string(s.Priority)+" SLA met", 18), shift(s.Shift))
		}
	}

	v.textHeatmap(t, zones)

	t.blank()
	t.line("%s  %s  %s  %s  %s  %s  %s", pad("Breakdown", 24), padLeft("PROBES", 6), pad("ANSWERED", 9),
		padLeft("OPEN", 4), pad("MEDIAN", 9), pad("P90", 9), "SLA MET")
	labels := map[string]string{ByPriority: "priority", ByHours: "sent during", ByLanguage: "language", ByScript: "script", ByHour: "hour sent, vendor's clock"}
	for _, b := range v.Breakdowns {
		t.line("  %s", labels[b.By])
		for _, g := range b.Groups {
			key := g.Key
			if key == "" {
				key = "(none)"
			}
			t.line("    %s  %s  %s  %s  %s  %s  %s", pad(key, 20), padLeft(fmt.Sprint(g.Counts.Total), 6),
				pad(ratio(g.Counts.Answered, g.Counts.Answered+g.Counts.Unanswered), 9),
				padLeft(fmt.Sprint(g.Counts.Open), 4), pad(est(g.MedianResponse), 9), pad(est(g.P90Response), 9),
				fraction(g.SLAMet, g.SLADecided))
		}
	}
}

// langFit formats a LanguageFit: "2 of 3", with the share when share is set ("2 of 3
// (67%)"), "-" when no reply's language is known, then ", 1 unknown" when some are not.
func langFit(l LanguageFit, share bool) string {
	s := "-"
	if l.Known > 0 {
		s = fmt.Sprintf("%d of %d", l.Matched, l.Known)
		if share {
			rate := float64(l.Matched) / float64(l.Known)
			s += " (" + pct(&rate) + ")"
		}
	}
	if l.Unknown > 0 {
		s += fmt.Sprintf(", %d unknown", l.Unknown)
	}
	return s
}

// languageGroups returns the groups of v's ByLanguage breakdown that have a human
// reply, or none when there are fewer than two (the vendor's figure says it all).
func (v Vendor) languageGroups() []Group {
	var gs []Group
	for _, b := range v.Breakdowns {
		if b.By != ByLanguage {
			continue
		}
		for _, g := range b.Groups {
			if g.ReplyLanguage.Known+g.ReplyLanguage.Unknown > 0 {
				gs = append(gs, g)
			}
		}
	}
	if len(gs) < 2 {
		return nil
	}
	return gs
}

// mismatchText describes a reply in another language: "P111 (outage-en) asked in en,
// answered in zh".
func mismatchText(m LanguageMismatch) string {
	return fmt.Sprintf("%s (%s) asked in %s, answered in %s", m.ProbeID, m.Script, m.Asked, m.Got)
}

// textLanguage writes whether v's replies came in the language asked, per language
// asked, and the probes answered in another; nothing when no person replied.
func (v Vendor) textLanguage(t *textWriter) {
	l := v.ReplyLanguage
	if l.Known+l.Unknown == 0 {
		return
	}
	t.line("Language  %s", view.Fit("answered in the language asked: "+langFit(l, true), lineWidth-10))
	const ind = "          "
	var per []string
	for _, g := range v.languageGroups() {
		per = append(per, keyOr(g.Key)+" "+langFit(g.ReplyLanguage, false))
	}
	if len(per) > 0 {
		for _, s := range view.Wrap("by language asked: "+strings.Join(per, "; "), lineWidth-len(ind)) {
			t.line("%s%s", ind, s)
		}
	}
	for _, m := range v.LanguageMismatches {
		t.line("%s%s", ind, view.Fit(mismatchText(m), lineWidth-len(ind)))
	}
}

// keyOr returns a group key for people: "(none)" for the empty key.
func keyOr(k string) string {
	if k == "" {
		return "(none)"
	}
	return k
}

// textHeatmap writes v's hour-of-week heatmap: a row per day, a column per hour, each
// hour with probes showing the letter of the worst state it holds and how many probes
// were sent in it ("P3"); "." is an hour without probes. The legend follows, then the
// hours whose probes are in more than one state, with the count of each. Nothing when
// no probe was sent.
func (v Vendor) textHeatmap(t *textWriter, zones string) {
	if len(v.Heatmap) == 0 {
		return
	}
	var grid [7][24]string
	for _, c := range v.Heatmap {
		for d, name := range Days {
			if name == c.Day && c.Hour >= 0 && c.Hour < 24 {
				grid[d][c.Hour] = heatText(c)
			}
		}
	}
	t.blank()
	for _, l := range view.Wrap("Probes by hour of the week sent, in "+zones+": the letter of the worst state, then how many", lineWidth) {
		t.line("%s", l)
	}
	var b strings.Builder
	b.WriteString("     ")
	for hr := range 24 {
		fmt.Fprintf(&b, " %02d", hr)
	}
	t.line("%s", b.String())
	for d, name := range Days {
		b.Reset()
		b.WriteString("  " + name)
		for hr := range 24 {
			c := grid[d][hr]
			if c == "" {
				c = "."
			}
			b.WriteString(padLeft(c, 3))
		}
		t.line("%s", b.String())
	}
	for _, l := range view.Wrap("Worst first: "+legendText()+".", lineWidth-2) {
		t.line("  %s", l)
	}
	if mixed := mixedCells(v.Heatmap); len(mixed) > 0 {
		for _, l := range view.Wrap("Hours holding more than one state: "+strings.Join(mixed, "; ")+".", lineWidth-2) {
			t.line("  %s", l)
		}
	}
	var over []string
	for _, c := range v.Heatmap {
		if c.Sent > 99 && !c.States.Mixed() {
			over = append(over, fmt.Sprintf("%s %02dh: %s", c.Day, c.Hour, c.States.Text()))
		}
	}
	if len(over) > 0 {
		for _, l := range view.Wrap("Hours with over 99 probes (\"++\"): "+strings.Join(over, "; ")+".", lineWidth-2) {
			t.line("  %s", l)
		}
	}
}

// heatText is a heatmap cell in the text report: the worst state's letter and the
// probes sent, "B3"; "B++" above 99, which the list under the grid then spells out.
func heatText(c Cell) string {
	if c.Sent > 99 {
		return c.Worst.Letter() + "++"
	}
	return fmt.Sprintf("%s%d", c.Worst.Letter(), c.Sent)
}
