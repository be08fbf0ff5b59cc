package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the golden files must not depend on the machine's zone database
	"unicode"

	"golang.org/x/text/width"

	"supportprobe/probe"
	"supportprobe/probe/view"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The seeded trial, week 2026-W48 in Asia/Shanghai: two vendors in two zones, with
// probes of every outcome, and a previous week to compare with.
//
//	acme   America/Los_Angeles (PST, UTC−8), Mon–Fri 09:00–18:00, Thanksgiving off,
//	       72h deadline, P1 4h calendar, P2 8h business, P3 no target
//	lotus  Asia/Shanghai (UTC+8), Mon–Sat 09:00–21:00, 48h deadline,
//	       P1 1h calendar, P2 4h business, P3 no target
//	nimbus probed only in the previous week: its schedule stopped
//
// The report is computed at 2026-11-30 02:00 UTC (Sun 29 Nov 18:00 in Los Angeles,
// Mon 30 Nov 10:00 in Shanghai).

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q) = %v", name, err)
	}
	return loc
}

// wall parses "2006-01-02 15:04" on loc's wall clock.
func wall(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatalf("ParseInLocation(%q) = %v", s, err)
	}
	return at
}

func acmeTerms(pr probe.Priority) probe.Terms {
	tm := probe.Terms{
		Hours: probe.HoursSpec{Zone: "America/Los_Angeles", Days: []string{"mon", "tue", "wed", "thu", "fri"},
			Open: "09:00", Close: "18:00", Holidays: []string{"2026-11-26"}},
		Deadline: 72 * time.Hour,
	}
	switch pr {
	case probe.P1:
		tm.SLA = &probe.SLATarget{FirstResponse: 4 * time.Hour, Clock: probe.Calendar}
	case probe.P2:
		tm.SLA = &probe.SLATarget{FirstResponse: 8 * time.Hour, Clock: probe.Business}
	}
	return tm
}

func lotusTerms(pr probe.Priority) probe.Terms {
	tm := probe.Terms{
		Hours:    probe.HoursSpec{Zone: "Asia/Shanghai", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat"}, Open: "09:00", Close: "21:00"},
		Deadline: 48 * time.Hour,
	}
	switch pr {
	case probe.P1:
		tm.SLA = &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}
	case probe.P2:
		tm.SLA = &probe.SLATarget{FirstResponse: 4 * time.Hour, Clock: probe.Business}
	}
	return tm
}

func termsOf(vendor string, pr probe.Priority) probe.Terms {
	if vendor == "acme" {
		return acmeTerms(pr)
	}
	return lotusTerms(pr)
}

// sent is a probe that our SMTP server accepted at sentAt.
func sent(id, vendor, script, lang string, pr probe.Priority, sentAt time.Time, replies ...probe.Reply) probe.Probe {
	for i := range replies {
		replies[i].ProbeID = id
		replies[i].ID = id + "-r" + string(rune('1'+i))
	}
	return probe.Probe{
		ID: id, Token: "T" + id, Vendor: vendor, Script: script, Priority: pr, Language: lang,
		From: "Lin Wei <lin.wei@example.com>", To: []string{"support@" + vendor + ".example"},
		Subject: "Question " + id, MessageID: id + "@probe.example",
		CreatedAt: sentAt.Add(-3 * time.Second), ScheduledAt: sentAt.Add(-time.Minute), SentAt: sentAt,
		State: probe.StateSent, Terms: termsOf(vendor, pr), Replies: replies,
	}
}

// notSent is a probe that never reached the vendor: failed or unknown.
func notSent(id, vendor, script, lang string, pr probe.Priority, state probe.State, scheduled time.Time, reason string) probe.Probe {
	return probe.Probe{
		ID: id, Token: "T" + id, Vendor: vendor, Script: script, Priority: pr, Language: lang,
		From: "Lin Wei <lin.wei@example.com>", To: []string{"support@" + vendor + ".example"},
		Subject: "Question " + id, MessageID: id + "@probe.example",
		CreatedAt: scheduled.Add(2 * time.Second), ScheduledAt: scheduled,
		State: state, FailReason: reason, Terms: termsOf(vendor, pr),
	}
}

func rep(kind probe.Kind, at time.Time, from, subject string) probe.Reply {
	return probe.Reply{Kind: kind, ReceivedAt: at, DetectedAt: at.Add(40 * time.Second), HeaderDate: at.Add(-10 * time.Second),
		From: from, Subject: subject, MatchedBy: probe.RungMessageID}
}

// dkim is a reply's DKIM check with one signature by domain.
func dkim(domain string, result probe.DKIMResult, reason string, aligned bool) *probe.Auth {
	return &probe.Auth{CheckedAt: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Attempts: 1,
		Signatures: []probe.Signature{{Domain: domain, Selector: "s1", Result: result, Reason: reason, Aligned: aligned}}}
}

// signed sets a reply's DKIM check.
func signed(a *probe.Auth, r probe.Reply) probe.Reply {
	r.Auth = a
	return r
}

// in sets the detected language of a reply's new text.
func in(lang string, r probe.Reply) probe.Reply {
	r.Language = lang
	return r
}

func seed(t *testing.T) (cur, prev []probe.Probe, opts Options) {
	t.Helper()
	la, sh := mustLoc(t, "America/Los_Angeles"), mustLoc(t, "Asia/Shanghai")
	L := func(s string) time.Time { return wall(t, la, s) }
	S := func(s string) time.Time { return wall(t, sh, s) }
	const h, m = time.Hour, time.Minute
	acmeAck := "Acme Support <support@acme.example>"

	p101 := sent("P101", "acme", "billing-question", "en", probe.P2, L("2026-11-23 10:00"),
		rep(probe.KindAutoAck, L("2026-11-23 10:03"), acmeAck, "[ACME-4402] We received your request"),
		in("en", rep(probe.KindHuman, L("2026-11-23 12:15"), "Dana Whitfield <dana@acme.example>", "Re: [ACME-4402] Question about our invoice")))
	p101.ClockSkew, p101.SkewMeasured = 2*time.Second, true
	// A scripted "that did not help" 10 minutes after the answer; no reply since.
	p101.Followups = []probe.Followup{{Index: 0, Kind: probe.FollowupAfterResponse, State: probe.StateSent,
		SentAt: L("2026-11-23 12:25"), MessageID: "P101-f1@probe.example"}}
	cur = []probe.Probe{
		p101,
		// Sunday night, P1: a person answered after 6h20m, past the 4h target.
		sent("P104", "acme", "night-outage", "en", probe.P1, L("2026-11-22 21:30"),
			rep(probe.KindAutoAck, L("2026-11-22 21:32"), acmeAck, "[ACME-4399] We received your request"),
			signed(dkim("acme.example", probe.DKIMPass, "", true),
				in("en", rep(probe.KindHuman, L("2026-11-23 03:50"), `"Tom Becker" <tom@acme.example>`, "Re: [ACME-4399] Production database unreachable")))),
		// Acknowledged only; the deadline passed.
		sent("P102", "acme", "night-outage", "en", probe.P1, L("2026-11-24 03:10"),
			rep(probe.KindAutoAck, L("2026-11-24 03:12"), acmeAck, "[ACME-4410] We received your request")),
		// A person answered 74h later, after the 72h deadline: unanswered, late.
		sent("P109", "acme", "billing-question", "en", probe.P2, L("2026-11-23 16:00"),
			signed(&probe.Auth{CheckedAt: L("2026-11-26 18:01"), Attempts: 1},
				in("en", rep(probe.KindHuman, L("2026-11-26 18:00"), "Maria Gonzalez <maria@help.acme.example>", "RE: Invoice question")))),
		// 45h in calendar time but 6h of business time (Thanksgiving is off): met. The
		// reply's language could not be told (too short).
		sent("P103", "acme", "contract-terms", "en", probe.P2, L("2026-11-25 14:00"),
			rep(probe.KindHuman, L("2026-11-27 11:00"), "Dana Whitfield <dana@acme.example>", "Re: Contract terms for the support plan")),
		sent("P105", "acme", "contract-terms", "en", probe.P3, L("2026-11-26 23:00"),
			rep(probe.KindBounce, L("2026-11-26 23:01"), "Mail Delivery System <MAILER-DAEMON@mx.acme.example>", "Undelivered Mail Returned to Sender")),
		notSent("P106", "acme", "night-outage", "en", probe.P1, probe.StateFailed, L("2026-11-27 09:30"), "554 5.7.1 relay access denied"),
		// Open, already past the 4h target.
		sent("P107", "acme", "night-outage", "en", probe.P1, L("2026-11-28 02:00"),
			rep(probe.KindAutoAck, L("2026-11-28 02:04"), acmeAck, "[ACME-4431] We received your request")),
		// Open, within its business-time target (no business hour has passed).
		sent("P108", "acme", "billing-question", "en", probe.P2, L("2026-11-28 20:00")),

		sent("P110", "lotus", "outage-zh", "zh", probe.P1, S("2026-11-23 10:00"),
			rep(probe.KindAutoAck, S("2026-11-23 10:01"), "莲花科技客服 <support@lotus.example>", "【工单 LT-20920】我们已收到您的请求"),
			// Asked in Chinese, answered in English.
			in("en", rep(probe.KindHuman, S("2026-11-23 10:25"), "李娜 <li.na@lotus.example>", "回复：系统无法登录"))),
		sent("P111", "lotus", "outage-en", "en", probe.P1, S("2026-11-24 03:00"),
			// Asked in English, answered in Chinese.
			signed(dkim("lotus.example", probe.DKIMFail, "body hash did not verify", true),
				in("zh", rep(probe.KindHuman, S("2026-11-24 05:40"), "王工 <wang.gong@lotus.example>",
					"回复: 生产环境故障，数据库连接全部中断 Production outage, all database connections dropped [LT-20931]")))),
		sent("P112", "lotus", "billing-zh", "zh", probe.P2, S("2026-11-25 22:30")),
		sent("P113", "lotus", "contract-en", "en", probe.P3, S("2026-11-26 14:00"),
			rep(probe.KindOutOfOffice, S("2026-11-26 14:01"), "Chen Jie <chen.jie@lotus.example>", "Automatic reply: out of office"),
			in("en", rep(probe.KindHuman, S("2026-11-26 17:00"), "Zhou Min <zhou.min@lotus.example>", "Re: Contract options"))),
		sent("P114", "lotus", "outage-en", "en", probe.P1, S("2026-11-29 02:00"),
			rep(probe.KindAutoAck, S("2026-11-29 02:01"), "莲花科技客服 <support@lotus.example>", "【工单 LT-20977】我们已收到您的请求")),
		sent("P115", "lotus", "billing-zh", "zh", probe.P2, S("2026-11-29 20:00")),
		notSent("P116", "lotus", "contract-en", "en", probe.P3, probe.StateUnknown, S("2026-11-27 15:00"), "crashed between DATA and the server's reply"),
	}
	for i := range cur {
		if cur[i].ID == "P113" {
			// Nobody but an out-of-office by 16:00: a reminder; a person answered an
			// hour later.
			cur[i].Followups = []probe.Followup{{Index: 1, Kind: probe.FollowupReminder, State: probe.StateSent,
				SentAt: S("2026-11-26 16:00"), MessageID: "P113-f2@probe.example"}}
		}
	}

	human := func(id, vendor string, pr probe.Priority, at time.Time, after time.Duration) probe.Probe {
		return sent(id, vendor, "prev", "en", pr, at, rep(probe.KindHuman, at.Add(after), "Agent <agent@"+vendor+".example>", "Re: Question "+id))
	}
	prev = []probe.Probe{
		human("P090", "acme", probe.P1, L("2026-11-16 10:00"), 90*m),
		human("P091", "acme", probe.P1, L("2026-11-17 02:00"), 5*h),
		human("P092", "acme", probe.P2, L("2026-11-18 11:00"), 3*h),
		sent("P093", "acme", "prev", "en", probe.P2, L("2026-11-19 22:00")),
		human("P094", "lotus", probe.P1, S("2026-11-16 09:30"), 20*m),
		human("P095", "lotus", probe.P1, S("2026-11-17 23:00"), 50*m),
		human("P096", "lotus", probe.P2, S("2026-11-19 14:00"), h),
	}
	nimbus := human("P097", "acme", probe.P1, L("2026-11-20 09:00"), 30*m)
	nimbus.Vendor = "nimbus"
	prev = append(prev, nimbus)

	since := S("2026-11-23 00:00")
	opts = Options{
		Since: since, Until: since.AddDate(0, 0, 7), PrevSince: since.AddDate(0, 0, -7),
		Now:   time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC),
		Title: "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov, Asia/Shanghai)",
		// acme: a configured window and a pause by hand that overlap (counted once);
		// lotus: a pause by hand still in force at Now; a pause of acme wholly in the
		// previous week, which the report leaves out.
		Pauses: []probe.Pause{
			{Vendor: "acme", From: L("2026-11-25 00:00"), Until: L("2026-11-26 00:00"), Note: "Thanksgiving <freeze>", Source: probe.PauseConfig},
			{Vendor: "acme", From: L("2026-11-25 18:00"), Until: L("2026-11-26 06:00"), Source: probe.PauseManual, By: "lin"},
			{Vendor: "lotus", From: S("2026-11-29 12:00"), Note: "portal migration", Source: probe.PauseManual},
			{Vendor: "acme", From: L("2026-11-18 00:00"), Until: L("2026-11-19 00:00"), Source: probe.PauseConfig},
		},
	}
	return cur, prev, opts
}

func mustBuild(t *testing.T, cur, prev []probe.Probe, opts Options) Report {
	t.Helper()
	r, err := Build(cur, prev, opts)
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	return r
}

func seededReport(t *testing.T) Report {
	t.Helper()
	cur, prev, opts := seed(t)
	return mustBuild(t, cur, prev, opts)
}

func render(t *testing.T, r Report, format string) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "txt":
		err = r.WriteText(&buf)
	case "html":
		err = r.WriteHTML(&buf)
	case "json":
		err = r.WriteJSON(&buf)
	case "csv":
		err = r.WriteCSV(&buf)
	}
	if err != nil {
		t.Fatalf("Write %s = %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	r := seededReport(t)
	for _, format := range []string{"txt", "html", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			got := render(t, r, format)
			path := filepath.Join("testdata", "report."+format)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./probe/report -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test ./probe/report -update and review the diff):\n%s", format, path, firstDiff(got, want))
			}
		})
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + a + "\nwant: " + b
		}
	}
	return "(no line differs)"
}

// columns counts terminal columns independently of the code under test: East Asian
// wide and fullwidth runes take two, combining marks none.
func columns(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case width.LookupRune(r).Kind() == width.EastAsianWide, width.LookupRune(r).Kind() == width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

func TestTextWidth(t *testing.T) {
	cur, prev, opts := seed(t)
	long := strings.Repeat("very-long-name-", 8)
	// Everything that could widen a line, at once: a long title, vendor, script and
	// language, CJK in From and Subject, control characters.
	hostile := cur[1]
	hostile.ID, hostile.Vendor, hostile.Script, hostile.Language = "P999999999999", long, long, long
	hostile.Replies[1].From = "技术支持工程师技术支持工程师技术支持工程师技术支持工程师 <" + long + "@example.com>"
	hostile.Replies[1].Subject = "回复：" + strings.Repeat("数据库", 40) + "\x1b[31mred\x1b[0m\r\nX-Injected: yes"
	wideOpts := opts
	wideOpts.Title = strings.Repeat("Wochenbericht ", 12) + strings.Repeat("週報", 30)
	tests := []struct {
		name string
		cur  []probe.Probe
		opts Options
	}{
		{"seeded", cur, opts},
		{"hostile strings", append(cur, hostile), wideOpts},
		{"no probes", nil, opts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, mustBuild(t, tt.cur, prev, tt.opts), "txt"))
			for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if n := columns(line); n > 80 {
					t.Errorf("line %d is %d columns wide (max 80):\n%s", i+1, n, line)
				}
				if strings.ContainsFunc(line, unicode.IsControl) {
					t.Errorf("line %d holds a control character: %q", i+1, line)
				}
			}
		})
	}
}

func TestHTMLEscaping(t *testing.T) {
	cur, prev, opts := seed(t)
	// P104 breached its target; its first human reply is hostile, and so are the vendor
	// and script names the configuration could carry.
	evil := cur[1]
	evil.ID, evil.Vendor, evil.Script = "P666", `<svg onload=alert(2)>`, `"><iframe src=x>`
	evil.Replies[1].Subject = `<script>alert(1)</script>`
	evil.Replies[1].From = `"<img src=x onerror=alert(1)>" <evil@acme.example>`
	evil.Replies[1].Language = "zh" // listed among the replies in another language
	out := string(render(t, mustBuild(t, append(cur, evil), prev, opts), "html"))

	for _, raw := range []string{"<script", "<img", "<svg", "<iframe"} {
		if strings.Contains(strings.ToLower(out), raw) {
			t.Errorf("HTML holds %q unescaped", raw)
		}
	}
	for _, escaped := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		"&#34;&lt;img src=x onerror=alert(1)&gt;&#34; &lt;evil@acme.example&gt;",
		"&lt;svg onload=alert(2)&gt;",
		"&#34;&gt;&lt;iframe src=x&gt;",
	} {
		if !strings.Contains(out, escaped) {
			t.Errorf("HTML lacks the escaped form %q", escaped)
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	out := strings.ToLower(string(render(t, seededReport(t), "html")))
	// Gmail clips a message body above 102 kB; two vendors must stay well below that.
	if len(out) > 80<<10 {
		t.Errorf("HTML is %d bytes for two vendors; keep it small enough for Gmail's 102 kB clipping", len(out))
	}
	out = withoutPrintStyle(t, out)
	for _, s := range []string{"<script", "<style", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http://", "https://", "javascript:"} {
		if strings.Contains(out, s) {
			t.Errorf("HTML holds %q; it must not load or run anything", s)
		}
	}
	for _, s := range []string{"<!doctype html>", `<meta charset="utf-8">`, "</html>"} {
		if !strings.Contains(out, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	cur, prev, opts := seed(t)
	noCompare := opts
	noCompare.PrevSince = time.Time{}
	tests := []struct {
		name string
		cur  []probe.Probe
		opts Options
	}{
		{"seeded", cur, opts},
		{"no comparison", cur, noCompare},
		{"no probes", nil, opts},
		// Only open probes within target: SLA entries with nothing decided, whose Wilson
		// rate is NaN.
		{"nothing decided", []probe.Probe{cur[8], cur[14]}, opts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustBuild(t, tt.cur, prev, tt.opts)
			data := render(t, r, "json")
			if bytes.Contains(data, []byte("NaN")) || bytes.Contains(data, []byte("Inf")) {
				t.Errorf("JSON holds NaN or Inf:\n%s", data)
			}
			var back Report
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("json.Unmarshal() = %v", err)
			}
			if !reflect.DeepEqual(back, r) {
				t.Errorf("JSON round trip changed the report:\n got %+v\nwant %+v", back, r)
			}
			if again := render(t, back, "json"); !bytes.Equal(again, data) {
				t.Errorf("re-encoding the decoded report differs:\n%s", firstDiff(again, data))
			}
		})
	}
}

func TestNothingDecidedIsNull(t *testing.T) {
	cur, prev, opts := seed(t)
	r := mustBuild(t, []probe.Probe{cur[8]}, prev, opts) // P108: open, within target
	if len(r.Vendors) == 0 || len(r.Vendors[0].SLA) != 1 {
		t.Fatalf("Build().Vendors = %+v, want acme with one SLA entry", r.Vendors)
	}
	a := r.Vendors[0].SLA[0]
	if a.Decided != 0 || a.Open != 1 || a.Rate != nil || a.Lo != nil || a.Hi != nil {
		t.Errorf("SLA = %+v, want nothing decided, one open, null rate and interval", a)
	}
	var m map[string]any
	if err := json.Unmarshal(render(t, r, "json"), &m); err != nil {
		t.Fatal(err)
	}
	sla := m["vendors"].([]any)[0].(map[string]any)["sla"].([]any)[0].(map[string]any)
	for _, k := range []string{"rate", "lo", "hi"} {
		if v, ok := sla[k]; !ok || v != nil {
			t.Errorf("sla[%q] = %v, want null", k, v)
		}
	}
}

func TestCSV(t *testing.T) {
	cur, prev, opts := seed(t)
	rows, err := csv.NewReader(bytes.NewReader(render(t, mustBuild(t, cur, prev, opts), "csv"))).ReadAll()
	if err != nil {
		t.Fatalf("csv ReadAll() = %v", err)
	}
	want := []string{"id", "vendor", "script", "priority", "language", "sent_at", "status", "after_hours",
		"ack_latency_seconds", "response_latency_seconds", "business_latency_seconds", "sla"}
	if !reflect.DeepEqual(rows[0], want) {
		t.Errorf("header = %v, want %v", rows[0], want)
	}
	if len(rows)-1 != len(cur) {
		t.Errorf("%d data rows, want one per probe (%d)", len(rows)-1, len(cur))
	}
}

// TestBreaches checks the breach list against the seeded outcomes worked out by hand.
func TestBreaches(t *testing.T) {
	r := seededReport(t)
	type row struct {
		id      string
		sla     probe.SLAState
		actual  string
		replied bool
	}
	var got []row
	for _, b := range r.Breaches {
		got = append(got, row{b.ProbeID, b.SLA, actual(b), b.FirstResponse != nil})
	}
	want := []row{
		{"P104", probe.SLABreached, "6h20m", true}, // 4h calendar
		{"P111", probe.SLABreached, "2h40m", true}, // 1h calendar
		// 8h business: Mon 2h, Tue 9h, Wed 9h, Thanksgiving off; the person answered
		// after the deadline, which is shown but never counts as an answer.
		{"P109", probe.SLABreached, "no answer in time (late reply)", false},
		{"P102", probe.SLABreached, "no answer by the deadline", false},           // acknowledged only
		{"P112", probe.SLABreached, "no answer by the deadline", false},           // nothing at all
		{"P107", probe.SLAOpenBreached, "open past target, waiting 1d16h", false}, // Sat 02:00 to Sun 18:00 PST
		{"P114", probe.SLAOpenBreached, "open past target, waiting 1d08h", false}, // Sun 02:00 to Mon 10:00 CST
	}
	if late := r.Breaches[2].LateResponse; late == nil || !late.Late {
		t.Errorf("P109 LateResponse = %+v, want the late reply", late)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Breaches =\n%v\nwant\n%v", got, want)
	}
}

func TestBuildOptions(t *testing.T) {
	cur, prev, opts := seed(t)
	tests := []struct {
		name string
		edit func(*Options)
	}{
		{"no now", func(o *Options) { o.Now = time.Time{} }},
		{"no since", func(o *Options) { o.Since = time.Time{} }},
		{"until before since", func(o *Options) { o.Until = o.Since.Add(-time.Hour) }},
		{"empty period", func(o *Options) { o.Until = o.Since }},
		{"previous after since", func(o *Options) { o.PrevSince = o.Since.Add(time.Hour) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			tt.edit(&o)
			if _, err := Build(cur, prev, o); !errors.Is(err, ErrOptions) {
				t.Errorf("Build() = %v, want ErrOptions", err)
			}
		})
	}
	bad := cur[0]
	bad.Terms.Hours.Zone = "Mars/Olympus_Mons"
	if _, err := Build([]probe.Probe{bad}, nil, opts); err == nil || !strings.Contains(err.Error(), "P101") {
		t.Errorf("Build(unknown zone) = %v, want an error naming the probe", err)
	}
}

// TestReplyLanguage checks the language figures against the seeded replies: acme
// answered in English twice by the deadline (P109's English answer came after it and
// does not count) and once in a language not told; lotus answered P110
// (asked in Chinese) in English and P111 (asked in English) in Chinese.
func TestReplyLanguage(t *testing.T) {
	r := seededReport(t)
	want := map[string]struct {
		fit        LanguageFit
		mismatches []LanguageMismatch
		groups     map[string]LanguageFit
	}{
		"acme": {LanguageFit{Matched: 2, Known: 2, Unknown: 1}, []LanguageMismatch{},
			map[string]LanguageFit{"en": {Matched: 2, Known: 2, Unknown: 1}}},
		"lotus": {LanguageFit{Matched: 1, Known: 3}, []LanguageMismatch{
			{ProbeID: "P110", Script: "outage-zh", ReplyID: "P110-r2", Asked: "zh", Got: "en"},
			{ProbeID: "P111", Script: "outage-en", ReplyID: "P111-r1", Asked: "en", Got: "zh"},
		}, map[string]LanguageFit{"en": {Matched: 1, Known: 2}, "zh": {Known: 1}}},
		"nimbus": {LanguageFit{}, []LanguageMismatch{}, map[string]LanguageFit{}},
	}
	for _, v := range r.Vendors {
		w := want[v.Name]
		if v.ReplyLanguage != w.fit {
			t.Errorf("%s: ReplyLanguage = %+v, want %+v", v.Name, v.ReplyLanguage, w.fit)
		}
		if !reflect.DeepEqual(v.LanguageMismatches, w.mismatches) {
			t.Errorf("%s: LanguageMismatches = %+v, want %+v", v.Name, v.LanguageMismatches, w.mismatches)
		}
		got := map[string]LanguageFit{}
		for _, b := range v.Breakdowns {
			if b.By == ByLanguage {
				for _, g := range b.Groups {
					got[g.Key] = g.ReplyLanguage
				}
			}
		}
		if !reflect.DeepEqual(got, w.groups) {
			t.Errorf("%s: language groups = %+v, want %+v", v.Name, got, w.groups)
		}
	}

	txt := string(render(t, r, "txt"))
	for _, line := range []string{
		"Language  answered in the language asked: 2 of 2 (100%), 1 unknown\n",
		"Language  answered in the language asked: 1 of 3 (33%)\n",
		"          by language asked: en 1 of 2; zh 0 of 1\n",
		"          P110 (outage-zh) asked in zh, answered in en\n",
		"          P111 (outage-en) asked in en, answered in zh\n",
	} {
		if !strings.Contains(txt, line) {
			t.Errorf("text lacks %q", line)
		}
	}
	html := string(render(t, r, "html"))
	for _, s := range []string{
		"Answered in the language asked: <b>1 of 3 (33%)</b>",
		"By language asked: en 1 of 2; zh 0 of 1",
		"P110 (outage-zh) asked in zh, answered in en",
	} {
		if !strings.Contains(html, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
}

// TestHistoryReplyLanguage checks the history record's reply_language and
// language_match, which come from the first human reply (it lives here because the
// seeded probes do).
func TestHistoryReplyLanguage(t *testing.T) {
	cur, _, opts := seed(t)
	byID := map[string]probe.Probe{}
	for _, p := range cur {
		byID[p.ID] = p
	}
	tests := []struct {
		id       string
		lang     any // JSON value of reply_language
		match    any // JSON value of language_match
		replyLng []any
	}{
		{"P101", "en", true, []any{nil, "en"}},
		{"P110", "en", false, []any{nil, "en"}}, // asked in Chinese
		{"P111", "zh", false, []any{"zh"}},      // asked in English
		{"P103", nil, nil, []any{nil}},          // the reply's language is unknown
		{"P102", nil, nil, []any{nil}},          // no person replied
	}
	for _, tt := range tests {
		rec, err := view.NewRecord(byID[tt.id], opts.Now)
		if err != nil {
			t.Fatalf("NewRecord(%s) = %v", tt.id, err)
		}
		var buf bytes.Buffer
		if err := view.WriteJSON(&buf, []view.Record{rec}); err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		m := got[0]
		for _, k := range []string{"reply_language", "language_match"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: record lacks %q", tt.id, k)
			}
		}
		if m["reply_language"] != tt.lang || m["language_match"] != tt.match {
			t.Errorf("%s: reply_language, language_match = %v, %v; want %v, %v", tt.id, m["reply_language"], m["language_match"], tt.lang, tt.match)
		}
		var langs []any
		for _, rp := range m["replies"].([]any) {
			langs = append(langs, rp.(map[string]any)["language"])
		}
		if !reflect.DeepEqual(langs, tt.replyLng) {
			t.Errorf("%s: replies' language = %v, want %v", tt.id, langs, tt.replyLng)
		}
	}
}

// TestBreachesCountedOnce: the text report once said "SLA BREACHES: none" above a
// vendor table with "BREACHES 2", because open probes past target were counted in one
// place and not the other. Breaches are one list and one count in every format.
func TestBreachesCountedOnce(t *testing.T) {
	r := seededReport(t)
	sum, open := 0, 0
	for _, v := range r.Vendors {
		sum += v.BreachCount
	}
	for _, b := range r.Breaches {
		if b.SLA == probe.SLAOpenBreached {
			open++
		}
	}
	if sum != len(r.Breaches) || open == 0 {
		t.Fatalf("vendors' BreachCount sum to %d, report lists %d breaches (%d open); want equal, some open", sum, len(r.Breaches), open)
	}
	txt := string(render(t, r, "txt"))
	head := fmt.Sprintf("SLA BREACHES (%d: %d breached, %d open past target)", len(r.Breaches), len(r.Breaches)-open, open)
	if !strings.Contains(txt, head) {
		t.Errorf("text lacks %q", head)
	}
	for _, v := range r.Vendors {
		re := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(v.Name) + ` .* (\d+)$`)
		m := re.FindStringSubmatch(txt)
		if m == nil || m[1] != fmt.Sprint(v.BreachCount) {
			t.Errorf("vendor table row for %s = %v, want BREACHES %d", v.Name, m, v.BreachCount)
		}
	}
	html := string(render(t, r, "html"))
	if !strings.Contains(html, fmt.Sprintf("SLA breaches (%d: %d breached, %d open past target)", len(r.Breaches), len(r.Breaches)-open, open)) {
		t.Errorf("html lacks the one breach count")
	}
}

// TestReviewWaiting: replies the classifier could not decide count as no response, and
// every format says at the top how many wait and what deciding them could change.
func TestReviewWaiting(t *testing.T) {
	cur, prev, opts := seed(t)
	// P102 was only acknowledged; a reply under review came 2h after it was sent.
	for i := range cur {
		if cur[i].ID == "P102" {
			r := rep(probe.KindNeedsReview, cur[i].SentAt.Add(2*time.Hour), "Dana <dana@acme.example>", "Re: Question P102")
			r.ID, r.ProbeID = "P102-rv", "P102"
			cur[i].Replies = append(cur[i].Replies, r)
		}
	}
	before := seededReport(t)
	r := mustBuild(t, cur, prev, opts)
	if r.Review.Replies != 1 || !reflect.DeepEqual(r.Review.Probes, []string{"P102"}) || r.Review.AnsweredIfPerson == nil ||
		*r.Review.AnsweredIfPerson != before.Totals.Answered+1 {
		t.Fatalf("Review = %+v, want 1 reply on P102 that would make %d answered", r.Review, before.Totals.Answered+1)
	}
	if r.Totals.Answered != before.Totals.Answered {
		t.Errorf("a reply under review changed Answered: %d, want %d", r.Totals.Answered, before.Totals.Answered)
	}
	want := fmt.Sprintf("would make %d probes answered instead of %d", before.Totals.Answered+1, before.Totals.Answered)
	for _, format := range []string{"txt", "html"} {
		out := strings.Join(strings.Fields(string(render(t, r, format))), " ")
		if !strings.Contains(out, "1 reply awaits a decision (P102)") || !strings.Contains(out, want) {
			t.Errorf("%s lacks the review line %q", format, want)
		}
	}
	if before.Review.Replies != 0 || before.Review.AnsweredIfPerson != nil {
		t.Errorf("without replies under review, Review = %+v", before.Review)
	}
}

// TestPlural checks the counts the reports print read as English.
func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n          int
		noun, want string
	}{
		{1, "reply", "1 reply"}, {2, "reply", "2 replies"}, {0, "reply", "0 replies"},
		{1, "probe", "1 probe"}, {3, "probe", "3 probes"}, {2, "holiday", "2 holidays"},
	} {
		if got := plural(tt.n, tt.noun); got != tt.want {
			t.Errorf("plural(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
	r := Report{Review: Review{Replies: 2, Probes: []string{"P1", "P2"}, AnsweredIfPerson: ptrTo(1)}}
	if got := reviewText(r); !strings.Contains(got, "2 replies await a decision (P1, P2)") || !strings.Contains(got, "would make 1 probe answered instead of 0") {
		t.Errorf("reviewText = %q, want 2 replies and 1 probe", got)
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestPausedTime: a vendor paused in the period is listed even with no probes, its
// paused time stops at Now (the rest of the period has not happened), and a pause of
// another period adds nothing.
func TestPausedTime(t *testing.T) {
	since := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)
	opts := Options{Since: since, Until: since.AddDate(0, 0, 7), Now: since.Add(50 * time.Hour),
		Pauses: []probe.Pause{
			{Vendor: "quiet", From: since.Add(-24 * time.Hour), Source: probe.PauseManual},
			{Vendor: "quiet", From: since.AddDate(0, 0, -14), Until: since.AddDate(0, 0, -13), Source: probe.PauseConfig},
		}}
	r := mustBuild(t, nil, nil, opts)
	if len(r.Vendors) != 1 || r.Vendors[0].Name != "quiet" {
		t.Fatalf("Vendors = %+v, want the paused vendor alone", r.Vendors)
	}
	p := r.Vendors[0].Paused
	if p.Seconds != 50*3600 || len(p.Windows) != 1 || p.Windows[0].Until != nil {
		t.Errorf("Paused = %+v, want 50h (period start to Now) from the one open-ended pause", p)
	}
	text := string(render(t, r, "txt"))
	if !strings.Contains(text, "Paused    2d02h in this period") || !strings.Contains(text, "until resumed, by hand") {
		t.Errorf("text report lacks the pause:\n%s", text)
	}
}

// withoutPrintStyle checks that page holds exactly one <style> block, for printing
// only (an @page rule and one @media print block, loading nothing), and returns page
// without it.
func withoutPrintStyle(t *testing.T, page string) string {
	t.Helper()
	blocks := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatchIndex(page, -1)
	if len(blocks) != 1 {
		t.Fatalf("HTML has %d <style> blocks, want the one print stylesheet", len(blocks))
	}
	css := page[blocks[0][2]:blocks[0][3]]
	rules := regexp.MustCompile(`(?s)^\s*@page \{[^{}]*\}\s*@media print \{(?:[^{}]*\{[^{}]*\})*\s*\}\s*$`)
	if !rules.MatchString(css) {
		t.Errorf("the <style> block holds more than an @page rule and an @media print block:\n%s", css)
	}
	for _, s := range []string{"url(", "@import", "expression(", "javascript:"} {
		if strings.Contains(css, s) {
			t.Errorf("the print stylesheet holds %q; it must load nothing", s)
		}
	}
	return page[:blocks[0][0]] + page[blocks[0][1]:]
}
