//go:build !race

// The 100,000-probe week takes minutes under the race detector; its size does not
// depend on it, so these tests run only without it.

package daemon

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe/report"
	"supportprobe/probe/report/reporttest"
)

// sizedWeek builds the report of a synthetic week of n probes over 20 vendors, compared
// with a week before it of as many, as the scheduled summary does.
func sizedWeek(t *testing.T, n int) report.Report {
	t.Helper()
	prevStart := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	since, until := prevStart.AddDate(0, 0, 7), prevStart.AddDate(0, 0, 14)
	prev := reporttest.Week(7, "Q", n, 20, prevStart)
	cur := reporttest.Week(8, "P", n, 20, since)
	r, err := report.Build(cur, prev, report.Options{Since: since, Until: until, PrevSince: prevStart, Now: until.Add(6 * time.Hour),
		Title: "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov, UTC)"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// renderedSummary renders r's summary mail exactly as SendSummary would send it, and
// returns the raw message with its parts decoded: content type (or
// "attachment:NAME") to body.
func renderedSummary(t *testing.T, r report.Report) ([]byte, map[string][]byte) {
	t.Helper()
	cfg := &configs.Config{Summary: &configs.Summary{To: []string{"procurement@example.com"}, Location: time.UTC}}
	cfg.Mail.From.Address = "lin.wei@example.com"
	m, err := SummaryMail(cfg, r, "2026-W48", r.GeneratedAt)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := mailbox.RenderSummary(m)
	if err != nil {
		t.Fatal(err)
	}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := h.ContentType()
			parts[ct] = body
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			parts["attachment:"+name] = body
		}
	}
	return raw, parts
}

// TestSummaryMail100k renders the summary mail of a 100,000-probe week (and as many the
// week before) with every MIME part as it would be sent, and checks the whole message
// is under 2 MB, its HTML part under Gmail's 102 kB clipping limit, and the attached
// zip holds the breach list the mail says it holds.
func TestSummaryMail100k(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a report of 200,000 probes; skipped with -short")
	}
	start := time.Now()
	r := sizedWeek(t, 100_000)
	built := time.Since(start)
	raw, parts := renderedSummary(t, r)
	t.Logf("100,000 probes, %d breaches: report built in %v; mail %d KB (text %d KB, HTML %d KB)",
		len(r.Breaches), built.Round(time.Millisecond), len(raw)>>10, len(parts["text/plain"])>>10, len(parts["text/html"])>>10)
	if len(raw) >= 2<<20 {
		t.Errorf("the summary mail of 100,000 probes is %d bytes, want under 2 MB", len(raw))
	}
	if n := len(parts["text/html"]); n >= 102_000 {
		t.Errorf("the HTML part is %d bytes; Gmail clips a body above 102 kB", n)
	}
	z := parts["attachment:supportprobe-2026-W48-breaches.zip"]
	if z == nil {
		t.Fatalf("no breach zip attached; parts: %v", partNames(parts))
	}
	if _, ok := parts["attachment:supportprobe-2026-W48.csv"]; ok {
		t.Errorf("the per-probe CSV of 100,000 probes is attached; it must stay out at this size")
	}
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatalf("the breach attachment is not a zip: %v", err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "supportprobe-2026-W48-breaches.csv" {
		t.Fatalf("the zip holds %d files, want the one CSV", len(zr.File))
	}
	f, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read the zipped CSV: %v", err)
	}
	got := len(rows) - 1
	t.Logf("the breach zip is %d KB and holds %d of the %d breaches", len(z)>>10, got, len(r.Breaches))
	text := strings.Join(strings.Fields(string(parts["text/plain"])), " ")
	switch {
	case got == len(r.Breaches):
		if want := fmt.Sprintf("all %d are in the attached supportprobe-2026-W48-breaches.zip", got); !strings.Contains(text, want) {
			t.Errorf("the text does not say %q", want)
		}
	case got > 0 && got < len(r.Breaches):
		if want := fmt.Sprintf("holds the first %d of the %d", got, len(r.Breaches)); !strings.Contains(text, want) {
			t.Errorf("the zip holds %d of %d breaches, and the text does not say %q", got, len(r.Breaches), want)
		}
	default:
		t.Errorf("the zipped CSV holds %d breaches of %d", got, len(r.Breaches))
	}
	for i, row := range rows[1:] {
		if row[0] != r.Breaches[i].ProbeID {
			t.Fatalf("zipped CSV row %d is probe %s, want %s", i+1, row[0], r.Breaches[i].ProbeID)
		}
	}
}

// TestSummaryMailOneScreen reads the text part of a 1,000-probe week's summary as a
// mail client gets it (decoded from quoted-printable): no line over 80 columns, and
// the first 25 lines, one screen, hold the headlines and the whole first vendor table.
func TestSummaryMailOneScreen(t *testing.T) {
	r := sizedWeek(t, 1000)
	raw, parts := renderedSummary(t, r)
	t.Logf("1,000 probes, %d breaches: mail %d KB", len(r.Breaches), len(raw)>>10)
	text := string(parts["text/plain"])
	if text == "" {
		t.Fatalf("no text/plain part; parts: %v", partNames(parts))
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(text, "\r\n", "\n"), "\n"), "\n")
	for i, l := range lines {
		if w := columnsOf(l); w > 80 {
			t.Errorf("text line %d is %d columns: %q", i+1, w, l)
		}
	}
	top := strings.Join(lines[:min(25, len(lines))], "\n") + "\n"
	for _, h := range r.HeadlineLines() {
		if !strings.Contains(top, h+"\n") {
			t.Errorf("headline %q is not in the first 25 lines:\n%s", h, top)
		}
	}
	first := r.Vendors[0]
	head := strings.Index(top, "== "+first.Name+" ")
	if head < 0 {
		t.Fatalf("the first vendor %s is not in the first 25 lines:\n%s", first.Name, top)
	}
	// The table: all probes, each priority, then business and after hours (a 24x7
	// vendor has no after hours), in that order.
	rows := []string{"all"}
	for _, b := range first.Breakdowns {
		if b.By == report.ByPriority || b.By == report.ByHours {
			for _, g := range b.Groups {
				rows = append(rows, g.Key)
			}
		}
	}
	at := head
	for _, row := range rows {
		i := strings.Index(top[at:], "\n  "+row+" ")
		if i < 0 {
			t.Errorf("the first vendor's table is not whole in the first 25 lines: no row %q after the ones before it:\n%s", row, top)
			break
		}
		at += i + 1
	}
	if _, ok := parts["attachment:supportprobe-2026-W48-breaches.csv"]; !ok {
		t.Errorf("the 1,000-probe week's breach list is not attached as plain CSV; parts: %v", partNames(parts))
	}
	if _, ok := parts["attachment:supportprobe-2026-W48.csv"]; !ok {
		t.Errorf("the 1,000-probe week's per-probe CSV is not attached; parts: %v", partNames(parts))
	}
}

func partNames(parts map[string][]byte) []string {
	var out []string
	for k := range parts {
		out = append(out, k)
	}
	return out
}

// columnsOf counts terminal columns: East Asian wide runes take two.
func columnsOf(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 && (r <= 0x115f || r >= 0x2e80 && r <= 0xa4cf || r >= 0xac00 && r <= 0xd7a3 || r >= 0xf900 && r <= 0xfaff ||
			r >= 0xfe30 && r <= 0xfe4f || r >= 0xff00 && r <= 0xff60 || r >= 0xffe0 && r <= 0xffe6) {
			n += 2
		} else {
			n++
		}
	}
	return n
}
