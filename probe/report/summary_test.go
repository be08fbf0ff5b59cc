package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/probe/report/reporttest"
	"supportprobe/probe/view"
)

// weekReport builds the report of a synthetic week of n probes over vendors vendors,
// with the week before it (as many probes) to compare against, as of six hours after
// the week.
func weekReport(t testing.TB, n, vendors int) (report.Report, []probe.Probe) {
	t.Helper()
	prevStart := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	since, until := prevStart.AddDate(0, 0, 7), prevStart.AddDate(0, 0, 14)
	prev := reporttest.Week(7, "Q", n, vendors, prevStart)
	cur := reporttest.Week(8, "P", n, vendors, since)
	r, err := report.Build(cur, prev, report.Options{Since: since, Until: until, PrevSince: prevStart, Now: until.Add(6 * time.Hour),
		Title: "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov, UTC)"})
	if err != nil {
		t.Fatal(err)
	}
	return r, cur
}

// width counts terminal columns as the report's own tests do: East Asian wide runes
// take two.
func width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf, r >= 0xac00 && r <= 0xd7a3,
			r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6:
			n += 2
		default:
			n++
		}
	}
	return n
}

// TestSummaryText checks the summary's text on a week of 1,000 probes over 20 vendors:
// every line within 80 columns; at most five headlines, which name the breaches, the
// after-hours misses, the biggest change and the review queue; the first vendor's
// table whole within the first 25 lines (one screen); the breach list capped at 50 and
// the rest counted.
func TestSummaryText(t *testing.T) {
	r, _ := weekReport(t, 1000, 20)
	var buf bytes.Buffer
	opts := report.SummaryOptions{Attachment: "supportprobe-2026-W48-breaches.csv", AttachedBreaches: len(r.Breaches)}
	if err := r.WriteSummaryText(&buf, opts); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines {
		if w := width(l); w > 80 {
			t.Errorf("line %d is %d columns wide: %q", i+1, w, l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d is not UTF-8: %q", i+1, l)
		}
	}

	hs := r.Headlines()
	if len(hs) == 0 || len(hs) > 5 {
		t.Fatalf("Headlines() = %d lines, want 1 to 5: %q", len(hs), hs)
	}
	prefixes := []string{fmt.Sprintf("Breaches %d (", len(r.Breaches)), "After hours, unanswered: ", "Biggest change: ", "Review: "}
	for i, p := range prefixes {
		if i >= len(hs) || !strings.HasPrefix(hs[i], p) {
			t.Errorf("headline %d = %q, want it to start %q", i+1, hs, p)
		}
	}
	top := lines[:min(25, len(lines))]
	first := r.Vendors[0]
	at := func(s string) int {
		for i, l := range top {
			if strings.HasPrefix(l, s) {
				return i
			}
		}
		return -1
	}
	hl := r.HeadlineLines()
	if len(hl) > 5 {
		t.Errorf("the headlines take %d lines, want at most 5: %q", len(hl), hl)
	}
	for i, h := range hl {
		if at(h) < 0 {
			t.Errorf("headline line %q is not within the first 25 lines:\n%s", h, strings.Join(top, "\n"))
		}
		if strings.Join(strings.Fields(strings.Join(hl, " ")), " ") != strings.Join(strings.Fields(strings.Join(hs, " ")), " ") {
			t.Errorf("headline line %d: the lines %q do not read as the headlines %q", i+1, hl, hs)
			break
		}
	}
	// The vendor's table: its heading, the row of all its probes, a row per priority
	// and one per business and after hours, each with the figures of the report.
	if at("== "+first.Name+" ") < 0 {
		t.Errorf("the first vendor, %s, does not start within the first 25 lines:\n%s", first.Name, strings.Join(top, "\n"))
	}
	wantRows := []string{fmt.Sprintf("  all  %s%d", strings.Repeat(" ", 17-len(fmt.Sprint(first.Counts.Total))), first.Counts.Total)}
	for _, b := range first.Breakdowns {
		if b.By == report.ByPriority || b.By == report.ByHours {
			for _, g := range b.Groups {
				wantRows = append(wantRows, "  "+g.Key+" ")
			}
		}
	}
	for _, w := range wantRows {
		if at(w) < 0 {
			t.Errorf("the first vendor's table lacks a row starting %q within the first 25 lines:\n%s", w, strings.Join(top, "\n"))
		}
	}
	if i := at("  all "); i >= 0 && !strings.HasSuffix(top[i], " "+fmt.Sprint(first.BreachCount)) {
		t.Errorf("the first vendor's row of all probes = %q, want it to end with its %d breaches", top[i], first.BreachCount)
	}

	if len(r.Breaches) <= report.DefaultMaxBreaches {
		t.Fatalf("the week has %d breaches; the test needs more than %d to see the cap", len(r.Breaches), report.DefaultMaxBreaches)
	}
	listed := 0
	for _, b := range r.Breaches {
		if strings.Contains(text, "\n  "+b.ProbeID+" ") {
			listed++
		}
	}
	if listed != report.DefaultMaxBreaches {
		t.Errorf("the summary lists %d breaches, want the first %d", listed, report.DefaultMaxBreaches)
	}
	for _, b := range r.Breaches[:report.DefaultMaxBreaches] {
		if !strings.Contains(text, "\n  "+b.ProbeID+" ") {
			t.Errorf("breach %s, among the first %d, is not listed", b.ProbeID, report.DefaultMaxBreaches)
		}
	}
	more := fmt.Sprintf("… and %d more breaches; all %d are in the attached supportprobe-2026-W48-breaches.csv.",
		len(r.Breaches)-report.DefaultMaxBreaches, len(r.Breaches))
	if !strings.Contains(strings.Join(strings.Fields(text), " "), more) {
		t.Errorf("the summary does not say %q", more)
	}
}

// TestHeadlines checks each headline's wording on small reports where the answer is
// known.
func TestHeadlines(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	since := time.Date(2026, 11, 23, 0, 0, 0, 0, la)
	until := since.AddDate(0, 0, 7)
	terms := probe.Terms{Hours: probe.HoursSpec{Zone: "America/Los_Angeles", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"},
		Deadline: 48 * time.Hour, SLA: &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}}
	mk := func(id, vendor string, sentAt time.Time, replies ...probe.Reply) probe.Probe {
		for i := range replies {
			replies[i].ProbeID, replies[i].ID = id, fmt.Sprintf("%s-r%d", id, i+1)
		}
		return probe.Probe{ID: id, Vendor: vendor, Script: "s", Priority: probe.P1, Language: "en", State: probe.StateSent,
			CreatedAt: sentAt, SentAt: sentAt, Terms: terms, Replies: replies}
	}
	human := func(at time.Time) probe.Reply {
		return probe.Reply{Kind: probe.KindHuman, ReceivedAt: at, From: "a@acme.example", Subject: "Re", MatchedBy: probe.RungMessageID}
	}
	night := time.Date(2026, 11, 24, 3, 0, 0, 0, la) // Tuesday 03:00, after hours
	day := time.Date(2026, 11, 24, 10, 0, 0, 0, la)  // Tuesday 10:00
	now := until.Add(time.Hour)

	tests := []struct {
		name      string
		cur, prev []probe.Probe
		want      []string
	}{
		{
			name: "quiet week",
			cur:  []probe.Probe{mk("P1", "acme", day, human(day.Add(30*time.Minute)))},
			want: []string{
				"Breaches: none; the one probe decided met its SLA target",
				"After hours: no probe was sent outside business hours",
				"Change: no previous period to compare with",
				"Review: nothing waits for a decision",
			},
		},
		{
			name: "a breach at night and a review",
			cur: []probe.Probe{
				mk("P1", "acme", night),                                    // unanswered after hours: breached
				mk("P2", "acme", day, human(day.Add(3*time.Hour))),         // answered late: breached
				mk("P3", "lotus", night, human(night.Add(20*time.Minute))), // met
				mk("P4", "lotus", day, probe.Reply{Kind: probe.KindNeedsReview, ReceivedAt: day.Add(10 * time.Minute), MatchedBy: probe.RungMessageID}),
			},
			prev: []probe.Probe{
				mk("Q1", "acme", day.AddDate(0, 0, -7), human(day.AddDate(0, 0, -7).Add(10*time.Minute))),
				mk("Q2", "lotus", day.AddDate(0, 0, -7), human(day.AddDate(0, 0, -7).Add(10*time.Minute))),
			},
			want: []string{
				"Breaches 3: acme 2 (P1 2); lotus 1 (P1 1)",
				"After hours, unanswered: acme 1 of 1",
				"Biggest change: acme P1 SLA met 100% → 0% (-100 pts; 0 of 2 now)",
				"Review: 1 reply awaits a decision; it could make 3 answered, not 2",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := report.Options{Since: since, Until: until, Now: now}
			if tt.prev != nil {
				opts.PrevSince = since.AddDate(0, 0, -7)
			}
			r, err := report.Build(tt.cur, tt.prev, opts)
			if err != nil {
				t.Fatal(err)
			}
			got := r.Headlines()
			for i := range max(len(got), len(tt.want)) {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(tt.want) {
					w = tt.want[i]
					if len(w) > 80 {
						w = view.Fit(w, 80)
					}
				}
				if g != w {
					t.Errorf("headline %d = %q, want %q", i+1, g, w)
				}
			}
		})
	}
}

// TestBreachCSV reads the breach CSV back as RFC 4180 (CRLF line ends, a header) and
// checks it has one row per breach, in the report's order, with the figures that
// `history --format json` prints for the same probe.
func TestBreachCSV(t *testing.T) {
	r, cur := weekReport(t, 1000, 5)
	var buf bytes.Buffer
	if err := r.WriteBreachCSV(&buf, 0); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if strings.Count(raw, "\r\n") != strings.Count(raw, "\n") {
		t.Errorf("the CSV has line ends other than CRLF")
	}
	recs, err := csv.NewReader(strings.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("read the CSV back: %v", err)
	}
	if len(recs) != len(r.Breaches)+1 {
		t.Fatalf("the CSV has %d rows, want a header and %d breaches", len(recs), len(r.Breaches))
	}
	head := recs[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	byID := map[string]probe.Probe{}
	for _, p := range cur {
		byID[p.ID] = p
	}
	// The history records, as JSON, to compare with by field name.
	for i, b := range r.Breaches {
		row := recs[i+1]
		if row[col["id"]] != b.ProbeID {
			t.Fatalf("row %d is probe %s, want %s (the report's order)", i+1, row[col["id"]], b.ProbeID)
		}
		rec, err := view.NewRecord(byID[b.ProbeID], r.GeneratedAt)
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(rec)
		var hist map[string]any
		if err := json.Unmarshal(js, &hist); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"id", "vendor", "script", "priority", "sent_at", "vendor_zone", "after_hours", "status", "sla",
			"sla_target_seconds", "sla_clock", "response_latency_seconds", "business_latency_seconds", "first_response_at", "late_response_at"} {
			want := ""
			switch v := hist[f].(type) {
			case nil:
			case float64:
				want = fmt.Sprint(v)
			case bool:
				want = fmt.Sprint(v)
			default:
				want = fmt.Sprint(v)
			}
			if got := row[col[f]]; got != want {
				t.Errorf("probe %s: CSV %s = %q, history --format json says %q", b.ProbeID, f, got, want)
			}
		}
		// The DKIM result is that of the reply history names first response.
		if at := row[col["first_response_at"]]; at != "" {
			var dkim string
			for _, rp := range rec.Replies {
				if rp.ReceivedAt.Format(time.RFC3339) == at && rp.Kind == probe.KindHuman {
					dkim = rp.DKIM
				}
			}
			if got := row[col["first_response_dkim"]]; got != dkim || dkim == "" {
				t.Errorf("probe %s: CSV first_response_dkim = %q, history says %q", b.ProbeID, got, dkim)
			}
		}
	}
	if t.Failed() {
		return
	}
	buf.Reset()
	if err := r.WriteBreachCSV(&buf, 3); err != nil {
		t.Fatal(err)
	}
	if recs, err := csv.NewReader(&buf).ReadAll(); err != nil || len(recs) != 4 {
		t.Errorf("WriteBreachCSV(limit 3) = %d rows (%v), want a header and 3", len(recs), err)
	}
}

// TestSummaryHTML checks the summary's HTML carries the same headlines, a table per
// vendor and the capped breach list with each reply's DKIM result, escapes what
// vendors control, and loads nothing.
func TestSummaryHTML(t *testing.T) {
	r, _ := weekReport(t, 1000, 20)
	r.Breaches[0].FirstResponse = &report.Reply{ID: "x", From: "<img src=x onerror=alert(1)>", Subject: "<script>alert(1)</script>",
		ReceivedAt: r.GeneratedAt, DKIM: "DKIM pass, d=vendor01.example"}
	var buf bytes.Buffer
	if err := r.WriteSummaryHTML(&buf, report.SummaryOptions{Attachment: "b.zip", AttachedBreaches: 10}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if len(page) > 100<<10 {
		t.Errorf("the summary's HTML is %d KB for 20 vendors; Gmail clips above 102 kB", len(page)>>10)
	}
	for _, bad := range []string{"<img src=x", "<script>alert", "<link", "href=", "@import", "url(", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("the summary's HTML holds %q", bad)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "DKIM pass, d=vendor01.example",
		fmt.Sprintf("the first %d", report.DefaultMaxBreaches), "the attached b.zip holds the first 10 of the"} {
		if !strings.Contains(page, want) {
			t.Errorf("the summary's HTML lacks %q", want)
		}
	}
	if n := strings.Count(page, `class="vendor"`); n != len(r.Vendors) {
		t.Errorf("the summary's HTML has %d vendor tables, want %d", n, len(r.Vendors))
	}
	for _, h := range r.Headlines() {
		_, text, _ := strings.Cut(h, ": ")
		text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(text)
		if !strings.Contains(page, text) {
			t.Errorf("the summary's HTML lacks the headline %q", h)
		}
	}
}
