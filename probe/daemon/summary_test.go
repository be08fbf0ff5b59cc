package daemon

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/mail"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

func TestWeeks(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	tests := []struct {
		week       string
		since, end string
	}{
		{"2026-W48", "2026-11-23T00:00:00+08:00", "2026-11-30T00:00:00+08:00"},
		{"2026-W01", "2025-12-29T00:00:00+08:00", "2026-01-05T00:00:00+08:00"}, // week 1 starts in 2025
		{"2026-W53", "2026-12-28T00:00:00+08:00", "2027-01-04T00:00:00+08:00"}, // 2026 has 53 weeks
	}
	for _, tt := range tests {
		t.Run(tt.week, func(t *testing.T) {
			since, until, err := ParseWeek(tt.week, sh)
			if err != nil {
				t.Fatal(err)
			}
			if since.Format(time.RFC3339) != tt.since || until.Format(time.RFC3339) != tt.end {
				t.Errorf("ParseWeek(%s) = %s, %s; want %s, %s", tt.week, since.Format(time.RFC3339), until.Format(time.RFC3339), tt.since, tt.end)
			}
		})
	}
	for _, bad := range []string{"2027-W53", "2026-48", "W48", "2026-W0"} {
		if _, _, err := ParseWeek(bad, sh); err == nil {
			t.Errorf("ParseWeek(%q) succeeded", bad)
		}
	}
	// Monday 09:00 in Shanghai is still Sunday in UTC: the previous week is judged in
	// the summary's zone.
	at := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	since, until, week := PreviousWeek(at, sh)
	if week != "2026-W48" || since.Format(time.RFC3339) != "2026-11-23T00:00:00+08:00" || until.Format(time.RFC3339) != "2026-11-30T00:00:00+08:00" {
		t.Errorf("PreviousWeek(%v) = %v, %v, %s; want 2026-W48 in Shanghai", at, since, until, week)
	}
}

// TestSummaryOncePerWeek sends the weekly summary through each mail world, reads it back
// and parses it (both alternatives, the CSV attached, the week in the subject), then
// checks a second fire for the same week sends nothing.
func TestSummaryOncePerWeek(t *testing.T) {
	lin := mailworld.User{Address: "lin.wei@example.com", Password: "lin-pw"}
	buyer := mailworld.User{Address: "procurement@example.com", Password: "buyer-pw"}
	mailworldtest.Each(t, []mailworld.User{lin, buyer}, func(t *testing.T, w mailworld.World) {
		fire := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // Monday 09:00 in Shanghai
		d := summaryDaemon(t, w, lin, fire, "Streams failing")
		if _, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: probe.P1, State: probe.StateSent,
			CreatedAt: fire.AddDate(0, 0, -3), SentAt: fire.AddDate(0, 0, -3), Subject: "Streams failing",
			Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "America/Los_Angeles"}, Deadline: 48 * time.Hour, SLA: &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := d.sendSummary(context.Background(), fire); err != nil {
				t.Fatalf("sendSummary = %v", err)
			}
		}
		if s, ok, _ := d.DB().SummaryFor("2026-W48"); !ok || s.SentAt.IsZero() {
			t.Errorf("SummaryFor(2026-W48) = %+v, %v; want it recorded", s, ok)
		}
		msgs := readAll(t, w, buyer, 1)
		time.Sleep(300 * time.Millisecond) // a second mail, if any, would have arrived by now
		if msgs = readAll(t, w, buyer, 1); len(msgs) != 1 {
			t.Fatalf("procurement received %d summaries, want 1", len(msgs))
		}
		r, err := mail.CreateReader(bytes.NewReader(msgs[0]))
		if err != nil {
			t.Fatal(err)
		}
		if subj, _ := r.Header.Subject(); !strings.Contains(subj, "2026-W48") {
			t.Errorf("Subject = %q, want the week", subj)
		}
		kinds := map[string]string{}
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(p.Body)
			switch h := p.Header.(type) {
			case *mail.InlineHeader:
				ct, _, _ := h.ContentType()
				kinds[ct] = string(body)
			case *mail.AttachmentHeader:
				name, _ := h.Filename()
				kinds["attachment:"+name] = string(body)
			}
		}
		if !strings.Contains(kinds["text/plain"], "acme-cloud") || !strings.Contains(kinds["text/html"], "acme-cloud") {
			t.Errorf("alternatives = %v, want text/plain and text/html naming the vendor", keys(kinds))
		}
		if csv := kinds["attachment:supportprobe-2026-W48.csv"]; !strings.HasPrefix(csv, "id,") || !strings.Contains(csv, "acme-cloud") {
			t.Errorf("CSV attachment = %q (parts %v)", csv, keys(kinds))
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// readAll waits until u's INBOX holds at least n messages and returns them all.
func readAll(t *testing.T, w mailworld.World, u mailworld.User, n int) [][]byte {
	t.Helper()
	host, port, _ := net.SplitHostPort(w.IMAPAddr())
	var p int
	fmt.Sscan(port, &p)
	srv := mailbox.Server{Host: host, Port: p, Security: mailbox.SecurityNone, Username: u.Address, Password: u.Password, Timeout: 5 * time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := mailbox.DialIMAP(context.Background(), srv)
		if err != nil {
			t.Fatal(err)
		}
		sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		if sel.NumMessages > 0 {
			var all imap.SeqSet
			all.AddRange(1, sel.NumMessages)
			msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range msgs {
				for _, b := range m.BodySection {
					out = append(out, b.Bytes)
				}
			}
		}
		c.Logout().Wait()
		c.Close()
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
	}
}
