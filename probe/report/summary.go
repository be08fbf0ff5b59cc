package report

import (
	"cmp"
	_ "embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/view"
)

// The summary is what the weekly mail carries: a reader sees in one minute who broke
// which promise. At the top, at most five Headlines; then one compact table per vendor;
// then the breach list, capped (SummaryOptions.MaxBreaches), the rest in the attached
// CSV (WriteBreachCSV). Its size grows with the vendors and the cap, not with the
// probes: a week of 100,000 probes mails as small as one of 1,000. The full report
// (WriteText, WriteHTML) keeps every breakdown, chart and breach.

// DefaultMaxBreaches is how many breaches the summary lists when
// SummaryOptions.MaxBreaches is 0.
const DefaultMaxBreaches = 50

// SummaryOptions shapes the summary: how many breaches it lists and what it says about
// the files that go with it.
type SummaryOptions struct {
	// MaxBreaches caps the breach list; 0 means DefaultMaxBreaches. The rest are
	// counted ("and 85,221 more").
	MaxBreaches int
	// Attachment names the attached file holding the whole breach list (the CSV of
	// WriteBreachCSV, possibly zipped), "" when none is attached.
	Attachment string
	// AttachedBreaches is how many breaches that file holds; fewer than
	// len(Report.Breaches) only when it had to be cut to keep the mail small, which the
	// summary then says.
	AttachedBreaches int
	// AllBreaches is the command that prints the whole breach list, e.g. "supportprobe
	// report --week 2026-W48 --format breaches", named when the attachment had to be cut;
	// "" names the full report instead.
	AllBreaches string
	// More says where the rest is, one sentence, e.g. "The full report: supportprobe
	// report --week 2026-W48 --format html." Printed last; "" prints nothing.
	More string
}

func (o SummaryOptions) maxBreaches() int {
	if o.MaxBreaches <= 0 {
		return DefaultMaxBreaches
	}
	return o.MaxBreaches
}

// headlineWidth is the width of a headline's line: with the two columns a
// continuation line is indented by, it fits the text mail's 80 columns.
const headlineWidth = lineWidth - 2

// Headlines returns the summary's headlines, four of them: who breached which SLA and
// how often, who left probes sent after hours unanswered, the biggest change against
// the previous period, and what waits for review. Wrapped to headlineWidth
// (HeadlineLines), the first takes at most two lines and the others one: five lines at
// most. Each names the vendors worst first as far as its lines allow and counts the
// rest.
func (r Report) Headlines() []string {
	return []string{r.breachHeadline(), r.afterHoursHeadline(), r.changeHeadline(), r.reviewHeadline()}
}

// HeadlineLines returns the Headlines as the text summary prints them: wrapped to 78
// columns, continuation lines indented by two; at most five lines of 80 columns.
func (r Report) HeadlineLines() []string {
	var out []string
	for _, h := range r.Headlines() {
		for i, l := range view.Wrap(h, headlineWidth) {
			if i > 0 {
				l = "  " + l
			}
			out = append(out, l)
		}
	}
	return out
}

// packLine returns head followed by as many of items, joined by sep, as fit in lines
// lines of headlineWidth, then tail(n) for the n items that did not fit (tail(0) when
// all did). sep is left out before a tail when no item fits.
func packLine(head string, items []string, sep string, lines int, tail func(rest int) string) string {
	fits := func(s string) bool {
		ls := view.Wrap(s, headlineWidth)
		return len(ls) <= lines && (lines > 1 || view.TextWidth(s) <= headlineWidth)
	}
	for n := len(items); n > 0; n-- {
		s := head + strings.Join(items[:n], sep)
		if t := tail(len(items) - n); t != "" {
			s += sep + t
		}
		if fits(s) {
			return s
		}
	}
	return view.Fit(head+tail(len(items)), headlineWidth)
}

// moreVendors is the tail of a headline that could not name every vendor.
func moreVendors(rest int) string {
	if rest == 0 {
		return ""
	}
	return "+" + plural(rest, "more vendor")
}

func (r Report) breachHeadline() string {
	if len(r.Breaches) == 0 {
		decided := 0
		for _, v := range r.Vendors {
			for _, a := range v.SLA {
				decided += a.Decided
			}
		}
		if decided == 0 {
			return "Breaches: none; no probe has met or missed an SLA target yet"
		}
		if decided == 1 {
			return "Breaches: none; the one probe decided met its SLA target"
		}
		return fmt.Sprintf("Breaches: none; all %d probes decided met their SLA target", decided)
	}
	type tally struct {
		name string
		n    int
		by   map[probe.Priority]int
	}
	var ts []*tally
	open := 0
	for _, b := range r.Breaches {
		if b.SLA == probe.SLAOpenBreached {
			open++
		}
		i := slices.IndexFunc(ts, func(t *tally) bool { return t.name == b.Vendor })
		if i < 0 {
			ts = append(ts, &tally{name: b.Vendor, by: map[probe.Priority]int{}})
			i = len(ts) - 1
		}
		ts[i].n++
		ts[i].by[b.Priority]++
	}
	slices.SortStableFunc(ts, func(a, b *tally) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.name, b.name)) })
	var items []string
	for _, t := range ts {
		var prs []string
		for _, pr := range sortedPriorities(t.by) {
			prs = append(prs, fmt.Sprintf("%s %d", pr, t.by[pr]))
		}
		items = append(items, fmt.Sprintf("%s %d (%s)", view.Clean(t.name), t.n, strings.Join(prs, ", ")))
	}
	head := fmt.Sprintf("Breaches %d", len(r.Breaches))
	if open > 0 {
		head += fmt.Sprintf(" (%d open past target)", open)
	}
	return packLine(head+": ", items, "; ", 2, moreVendors)
}

func sortedPriorities(m map[probe.Priority]int) []probe.Priority {
	var out []probe.Priority
	for pr := range m {
		out = append(out, pr)
	}
	slices.SortFunc(out, func(a, b probe.Priority) int { return priorityOrder(string(a), string(b)) })
	return out
}

// afterHoursGroup returns v's after-hours group, if it has one.
func (v Vendor) afterHoursGroup() (Group, bool) {
	for _, b := range v.Breakdowns {
		if b.By != ByHours {
			continue
		}
		for _, g := range b.Groups {
			if g.Key == probe.KeyAfterHours {
				return g, true
			}
		}
	}
	return Group{}, false
}

func (r Report) afterHoursHeadline() string {
	type miss struct {
		name             string
		unanswered, outc int
	}
	var ms []miss
	sent, known := 0, 0
	for _, v := range r.Vendors {
		g, ok := v.afterHoursGroup()
		if !ok {
			continue
		}
		sent += g.Counts.Sent
		k := g.Counts.Answered + g.Counts.Unanswered
		known += k
		if g.Counts.Unanswered > 0 {
			ms = append(ms, miss{view.Clean(v.Name), g.Counts.Unanswered, k})
		}
	}
	switch {
	case sent == 0:
		return "After hours: no probe was sent outside business hours"
	case len(ms) == 0 && known == 0:
		return fmt.Sprintf("After hours: %s sent, none has a known outcome yet", plural(sent, "probe"))
	case len(ms) == 0:
		return fmt.Sprintf("After hours: all %d probes with a known outcome were answered", known)
	}
	slices.SortStableFunc(ms, func(a, b miss) int {
		// The larger share unanswered first, then the larger count.
		return cmp.Or(cmp.Compare(b.unanswered*a.outc, a.unanswered*b.outc), cmp.Compare(b.unanswered, a.unanswered), cmp.Compare(a.name, b.name))
	})
	var items []string
	for _, m := range ms {
		items = append(items, fmt.Sprintf("%s %d of %d", m.name, m.unanswered, m.outc))
	}
	return packLine("After hours, unanswered: ", items, ", ", 1, moreVendors)
}

// changeHeadline names the largest change of a share (answered, or SLA met for one
// priority) between the previous period and this one, over all vendors.
func (r Report) changeHeadline() string {
	if r.PrevSince == nil {
		return "Change: no previous period to compare with"
	}
	best, bestAbs := "", -1.0
	consider := func(abs float64, s string) {
		if abs > bestAbs {
			best, bestAbs = s, abs
		}
	}
	for _, v := range r.Vendors {
		c := v.Change
		if c == nil {
			continue
		}
		name := view.Clean(v.Name)
		if d := c.AnsweredRate.Delta; d != nil {
			consider(math.Abs(*d), fmt.Sprintf("%s answered %s → %s (%s; %d of %d now)", name,
				pct(c.AnsweredRate.Prev), pct(c.AnsweredRate.Cur), points(*d), v.Counts.Answered, v.Counts.Answered+v.Counts.Unanswered))
		}
		for _, s := range c.SLA {
			if s.Delta == nil {
				continue
			}
			consider(math.Abs(*s.Delta), fmt.Sprintf("%s %s SLA met %s → %s (%s; %d of %d now)", name, s.Priority,
				pct(s.Prev), pct(s.Cur), points(*s.Delta), s.Met, s.Decided))
		}
	}
	if best == "" {
		return "Change: no vendor has a share to compare in both periods"
	}
	if bestAbs < 0.005 {
		return view.Fit("Biggest change: none; every share is as in the previous period", headlineWidth)
	}
	return view.Fit("Biggest change: "+best, headlineWidth)
}

func (r Report) reviewHeadline() string {
	rv := r.Review
	if rv.Replies == 0 {
		return "Review: nothing waits for a decision"
	}
	verb := "await"
	if rv.Replies == 1 {
		verb = "awaits"
	}
	s := fmt.Sprintf("Review: %s %s a decision", plural(rv.Replies, "reply"), verb)
	if len(rv.Probes) != rv.Replies {
		s += fmt.Sprintf(" (on %s)", plural(len(rv.Probes), "probe"))
	}
	if a := rv.AnsweredIfPerson; a != nil && *a != r.Totals.Answered {
		s += fmt.Sprintf("; it could make %d answered, not %d", *a, r.Totals.Answered)
	} else {
		s += "; counted as no response until then"
	}
	return view.Fit(s, headlineWidth)
}

// summaryRow is one row of a vendor's compact table.
type summaryRow struct {
	Label    string
	Probes   int
	Answered string
	Median   string
	P90      string
	SLA      string
	Breaches int
}

// summaryTable is a vendor's compact table: all probes, each priority, business and
// after hours.
type summaryTable struct {
	Name    string
	Hours   string // "Mon–Fri 09:00–18:00 (America/Los_Angeles)"
	Targets string // "P1 4h00m calendar, P2 8h00m business"; "" without SLA
	Paused  string // "1d06h in this period"; "" when not paused
	Empty   string // for a vendor without probes: what to say instead of the table
	Rows    []summaryRow
}

// slaCell is "33% of 6" (met of decided), "-" when nothing is decided.
func slaCell(met, decided int) string {
	if decided == 0 {
		return "-"
	}
	rate := float64(met) / float64(decided)
	return pct(&rate) + " of " + fmt.Sprint(decided)
}

func (r Report) summaryTables() []summaryTable {
	type key struct {
		vendor string
		group  string
	}
	breaches := map[key]int{}
	for _, b := range r.Breaches {
		breaches[key{b.Vendor, ""}]++
		breaches[key{b.Vendor, string(b.Priority)}]++
		h := probe.KeyBusinessHours
		if b.AfterHours {
			h = probe.KeyAfterHours
		}
		breaches[key{b.Vendor, "hours:" + h}]++
	}
	var out []summaryTable
	for _, v := range r.Vendors {
		zones := strings.Join(v.Zones, ", ")
		if zones == "" {
			zones = v.Hours.Zone
		}
		t := summaryTable{Name: v.Name, Hours: hoursText(v.Hours) + " (" + zones + ")"}
		var tg []string
		for _, a := range v.SLA {
			tg = append(tg, string(a.Priority)+" "+targets(a.Targets))
		}
		t.Targets = strings.Join(tg, ", ")
		if len(v.Paused.Windows) > 0 {
			t.Paused = pausedText(v.Paused)
		}
		if v.Counts.Total == 0 {
			t.Empty = "No probes in this period."
			if v.Change != nil {
				t.Empty = fmt.Sprintf("No probes in this period; %d in the previous one.", v.Change.Previous.Total)
			}
			out = append(out, t)
			continue
		}
		met, decided := 0, 0
		for _, a := range v.SLA {
			met += a.Met
			decided += a.Decided
		}
		t.Rows = append(t.Rows, summaryRow{Label: "all", Probes: v.Counts.Total, Answered: pct(v.AnsweredRate),
			Median: est(v.Response.Median), P90: est(v.Response.P90), SLA: slaCell(met, decided), Breaches: v.BreachCount})
		for _, b := range v.Breakdowns {
			if b.By != ByPriority && b.By != ByHours {
				continue
			}
			for _, g := range b.Groups {
				k, label := g.Key, keyOr(g.Key)
				if b.By == ByHours {
					k = "hours:" + g.Key
				}
				t.Rows = append(t.Rows, summaryRow{Label: label, Probes: g.Counts.Total, Answered: pct(g.AnsweredRate),
					Median: est(g.MedianResponse), P90: est(g.P90Response), SLA: slaCell(g.SLAMet, g.SLADecided),
					Breaches: breaches[key{v.Name, k}]})
			}
		}
		out = append(out, t)
	}
	return out
}

// Columns of the summary's vendor table.
const (
	swLabel  = 14
	swProbes = 6
	swAns    = 8
	swDur    = 8
	swSLA    = 12
)

// WriteSummaryText writes the summary of r as plain text for the mail, no line wider
// than 80 columns: the title and period, the Headlines, one compact table per vendor,
// then the first breaches (opts.MaxBreaches) and a count of the rest, and where the
// rest is. Vendor-controlled strings are cleaned of control characters and cut to their
// column. It returns the first error from w.
func (r Report) WriteSummaryText(w io.Writer, opts SummaryOptions) error {
	t := &textWriter{w: w}
	title := view.Wrap(r.Title, lineWidth)
	for _, l := range title {
		t.line("%s", l)
	}
	t.line("%s", strings.Repeat("=", min(lineWidth, maxWidth(title))))
	t.line("Period    %s to %s; as of %s", r.Since.UTC().Format("2006-01-02 15:04"), utcTime(r.Until), utcTime(r.GeneratedAt))
	t.line("Probes    %s", totalsText(r.Totals))
	t.line("Answered  %s", answeredText(r.Totals))
	t.blank()
	for _, l := range r.HeadlineLines() {
		t.line("%s", l)
	}
	for _, st := range r.summaryTables() {
		t.blank()
		head := "== " + view.Fit(st.Name, lineWidth-8) + " "
		t.line("%s%s", head, strings.Repeat("=", lineWidth-view.TextWidth(head)))
		t.line("Hours     %s", view.Fit(st.Hours, lineWidth-10))
		for i, l := range view.Wrap(st.Targets, lineWidth-10) {
			if i == 0 {
				t.line("SLA       %s", l)
			} else {
				t.line("          %s", l)
			}
		}
		if st.Paused != "" {
			t.line("Paused    %s", st.Paused)
		}
		if st.Empty != "" {
			t.line("%s", st.Empty)
			continue
		}
		t.line("  %s  %s  %s  %s  %s  %s  %s", pad("", swLabel), padLeft("PROBES", swProbes), padLeft("ANSWERED", swAns),
			pad("MEDIAN", swDur), pad("P90", swDur), pad("SLA MET", swSLA), "BREACHES")
		for _, row := range st.Rows {
			t.line("  %s  %s  %s  %s  %s  %s  %s", pad(row.Label, swLabel), padLeft(fmt.Sprint(row.Probes), swProbes),
				padLeft(row.Answered, swAns), pad(row.Median, swDur), pad(row.P90, swDur), pad(row.SLA, swSLA),
				padLeft(fmt.Sprint(row.Breaches), 8))
		}
	}
	r.textBreachList(t, r.Breaches[:min(len(r.Breaches), opts.maxBreaches())])
	for _, l := range view.Wrap(r.restText(opts), lineWidth) {
		t.line("%s", l)
	}
	t.blank()
	for _, l := range view.Wrap(summaryNotes, lineWidth) {
		t.line("%s", l)
	}
	if opts.More != "" {
		for _, l := range view.Wrap(opts.More, lineWidth) {
			t.line("%s", l)
		}
	}
	return t.err
}

// summaryNotes says in a few lines how to read the summary's figures.
const summaryNotes = "Answered: of the probes with a known outcome, those a person answered by the " +
	"deadline; unanswered: no person's reply by the deadline. Median and P90: time to first response, Kaplan–Meier over every probe " +
	"that reached the vendor (\"> X\": not reached). SLA met: of the probes decided, " +
	"those answered within the target. Breaches: decided breaches and open probes " +
	"already past their target."

// answeredText is "6 of 9 with a known outcome (67%)".
func answeredText(c Counts) string {
	known := c.Answered + c.Unanswered
	if known == 0 {
		return "none with a known outcome yet"
	}
	rate := float64(c.Answered) / float64(known)
	return fmt.Sprintf("%d of %d with a known outcome (%s)", c.Answered, known, pct(&rate))
}

// restText says how many breaches the summary left out and where they are: "" when it
// lists them all.
func (r Report) restText(opts SummaryOptions) string {
	n := len(r.Breaches)
	rest := n - min(n, opts.maxBreaches())
	if rest == 0 {
		if opts.Attachment != "" && n > 0 {
			return fmt.Sprintf("The same list, with every figure, is in the attached %s.", opts.Attachment)
		}
		return ""
	}
	s := fmt.Sprintf("… and %d more breaches", rest)
	switch {
	case opts.Attachment == "":
		return s + ", in the full report."
	case opts.AttachedBreaches >= n:
		return s + fmt.Sprintf("; all %d are in the attached %s.", n, opts.Attachment)
	}
	all := "the full report has them all."
	if opts.AllBreaches != "" {
		all = opts.AllBreaches + " prints them all."
	}
	return s + fmt.Sprintf("; the attached %s holds the first %d of the %d (all would make the mail too big); %s",
		opts.Attachment, opts.AttachedBreaches, n, all)
}

// textBreachList writes the given breaches, each with its reply and the reply's DKIM
// result, under a heading that counts all of r's.
func (r Report) textBreachList(t *textWriter, bs []Breach) {
	t.blank()
	if len(r.Breaches) == 0 {
		t.line("SLA BREACHES: none")
		return
	}
	open := 0
	for _, b := range r.Breaches {
		if b.SLA == probe.SLAOpenBreached {
			open++
		}
	}
	head := fmt.Sprintf("SLA BREACHES (%d: %d breached, %d open past target)", len(r.Breaches), len(r.Breaches)-open, open)
	if len(bs) < len(r.Breaches) {
		head += fmt.Sprintf(", the first %d", len(bs))
	}
	t.line("%s", head)
	writeBreachRows(t, bs)
}

// writeBreachRows writes the breach table of the text report and summary.
func writeBreachRows(t *textWriter, bs []Breach) {
	t.line("  %s  %s  %s  %s  %s", pad("PROBE", bwID), pad("VENDOR", bwVendor), pad("PRI", bwPri), pad("TARGET", bwTarget), "ACTUAL")
	rest := lineWidth - (2 + bwID + 2 + bwVendor + 2 + bwPri + 2 + bwTarget + 2)
	ind := strings.Repeat(" ", bwIndent)
	const lw = 7 // "script "
	for _, b := range bs {
		t.line("  %s  %s  %s  %s  %s", pad(b.ProbeID, bwID), pad(b.Vendor, bwVendor),
			pad(string(b.Priority), bwPri), pad(target(b.Target), bwTarget), view.Fit(actual(b), rest))
		sent := localTime(b.SentAt, b.Zone) + " " + b.Zone
		if b.AfterHours {
			sent += ", after hours"
		}
		t.line("%ssent   %s", ind, view.Fit(sent, lineWidth-bwIndent-lw))
		t.line("%sscript %s", ind, view.Fit(b.Script, lineWidth-bwIndent-lw))
		for _, rp := range []struct {
			label string
			r     *Reply
		}{{"reply  ", b.FirstResponse}, {"late   ", b.LateResponse}} {
			if rp.r == nil {
				continue
			}
			t.line("%s%s%s", ind, rp.label, view.Fit(rp.r.From, lineWidth-bwIndent-lw))
			t.line("%s       %s", ind, view.Fit(rp.r.Subject, lineWidth-bwIndent-lw))
			t.line("%s       %s", ind, view.Fit(rp.r.DKIM, lineWidth-bwIndent-lw))
		}
	}
}

// timeCell formats t as history's JSON does: RFC 3339 in UTC with the fraction of a
// second it has.
func timeCell(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// breachCSVHeader is the breach CSV's column order, a contract with spreadsheets:
// columns are only ever appended. The names are those of `history --format json`
// where the figure is the same.
var breachCSVHeader = []string{
	"id", "vendor", "script", "priority", "sent_at", "vendor_zone", "after_hours", "status", "sla",
	"sla_target_seconds", "sla_clock", "response_latency_seconds", "business_latency_seconds",
	"first_response_at", "first_response_from", "first_response_dkim", "late_response_at",
	"late_response_from", "late_response_dkim", "waiting_seconds",
}

// WriteBreachCSV writes r's breaches (the one list, Report.Breaches, in its order), one
// row each after a header row, as RFC 4180 CSV: CRLF line ends, fields quoted where
// needed. The figures are those `history --format json` prints for the same probe
// (sent_at, after_hours, status, sla, the SLA target, the latencies, the first and
// late response's arrival, times to the fraction of a second as the JSON has them), plus the replies' From and DKIM result and, for an open
// probe past its target, waiting_seconds: the time waited on the target's clock as of
// the report's GeneratedAt. Times are RFC 3339 UTC, durations seconds; absent values
// are empty cells. Vendor-controlled strings are written as received, control
// characters replaced. limit > 0 writes only the first limit breaches. It returns the
// first error from w.
func (r Report) WriteBreachCSV(w io.Writer, limit int) error {
	// Each breach's row, by position: a map of whole rows copied every row of the
	// period, 100,000 of them in a large week.
	rows := make(map[string]int, len(r.Probes))
	for i := range r.Probes {
		rows[r.Probes[i].ID] = i
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(breachCSVHeader); err != nil {
		return err
	}
	bs := r.Breaches
	if limit > 0 && limit < len(bs) {
		bs = bs[:limit]
	}
	for _, b := range bs {
		var p Row
		if i, ok := rows[b.ProbeID]; ok {
			p = r.Probes[i]
		}
		target := b.Target.Seconds
		clock := string(b.Target.Clock)
		rec := []string{
			b.ProbeID, b.Vendor, b.Script, string(b.Priority), timeCell(b.SentAt), b.Zone,
			fmt.Sprint(b.AfterHours), string(b.Status), string(b.SLA), view.NumCell(&target), clock,
			view.NumCell(p.ResponseLatencySeconds), view.NumCell(p.BusinessLatencySeconds),
		}
		for _, rp := range []*Reply{b.FirstResponse, b.LateResponse} {
			if rp == nil {
				rec = append(rec, "", "", "")
				continue
			}
			rec = append(rec, timeCell(rp.ReceivedAt), view.Clean(rp.From), rp.DKIM)
		}
		rec = append(rec, view.NumCell(b.WaitingSeconds))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

//go:embed summary.html.tmpl
var summarySource string

// summaryTemplate is the report's template set (for its "printcss" block and its
// functions) with the summary page added.
var summaryTemplate = template.Must(template.Must(htmlTemplate.Clone()).New("summary").Parse(summarySource))

type summaryPage struct {
	Report     Report
	Title      string
	Since      time.Time
	Until      time.Time
	ProbesText string
	Headlines  []summaryHeadline
	Tables     []summaryTable
	// List is the breaches shown, Decided and Open count all of them by kind.
	List          []Breach
	Decided, Open int
	Rest          string
	Notes, More   string
	GeneratedAt   time.Time
}

// summaryHeadline is a headline split for the HTML: its label in bold, its colour the
// state it reports (red for breaches and misses, green when there are none).
type summaryHeadline struct {
	Label, Text, Color string
}

// WriteSummaryHTML writes the summary of r as one self-contained HTML page for the
// mail's text/html part, the same content as WriteSummaryText in the report's look
// (inline styles, no scripts, no external resources; a print stylesheet). Strings are
// escaped by html/template. It returns the first error from w.
func (r Report) WriteSummaryHTML(w io.Writer, opts SummaryOptions) error {
	pg := summaryPage{Report: r, Title: r.Title, Since: r.Since, Until: r.Until, GeneratedAt: r.GeneratedAt,
		ProbesText: totalsText(r.Totals) + "; answered " + answeredText(r.Totals), Tables: r.summaryTables(),
		List: r.Breaches[:min(len(r.Breaches), opts.maxBreaches())], Rest: r.restText(opts), Notes: summaryNotes, More: opts.More}
	for _, b := range r.Breaches {
		if b.SLA == probe.SLAOpenBreached {
			pg.Open++
		} else {
			pg.Decided++
		}
	}
	for i, h := range r.Headlines() {
		label, text, _ := strings.Cut(h, ": ")
		if text == "" {
			label, text = "", h
		}
		color := "#009e73"
		bad := []bool{len(r.Breaches) > 0, strings.Contains(h, "unanswered"), false, r.Review.Replies > 0}
		if i < len(bad) && bad[i] {
			color = "#d55e00"
		}
		if i == 2 {
			color = "#57606a"
		}
		if label != "" {
			label += ":"
		}
		pg.Headlines = append(pg.Headlines, summaryHeadline{Label: label, Text: text, Color: color})
	}
	return summaryTemplate.ExecuteTemplate(w, "summary", pg)
}
