package mailbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	message "github.com/emersion/go-message"
	gomessage "github.com/emersion/go-message/mail"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// summaryCSV is the week's CSV: a BOM, CRLF rows, Chinese, a quoted comma, a final row
// ending in a bare LF. It must arrive byte for byte.
var summaryCSV = []byte("\ufeffvendor,probes,replied,median_hours\r\n" +
	"Acme 支持,12,9,3.5\r\n" +
	"\"Quote, Inc.\",3,0,\r\n" +
	"=3D not qp,1,1,0.25\n")

// weeklySummary is the 2026-W48 summary, from Lin Wei to the support desk.
func weeklySummary() Summary {
	return Summary{
		From:    `"Lin Wei" <lin.wei@example.com>`,
		To:      []string{"support@acme.example"},
		Subject: "supportprobe weekly summary 2026-W48 周报",
		Text: "supportprobe weekly summary, 2026-W48 (23-29 November 2026)\n\n" +
			"Probes sent: 15, answered: 9 (60%), median first reply 3.5 h.\n" +
			"Acme 支持 answered 9 of 12; Quote, Inc. answered none of 3, which is a line long enough for quoted-printable to break it.\n" +
			".a line starting with a dot\n",
		HTML: "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>supportprobe 周报 2026-W48</title></head>\n" +
			"<body><h1>supportprobe weekly summary 2026-W48</h1>\n" +
			"<table><tr><th>vendor</th><th>probes</th><th>replied</th></tr>\n" +
			"<tr><td>Acme 支持</td><td>12</td><td>9</td></tr></table></body></html>\n",
		Attachments: []Attachment{{Name: "supportprobe-2026-W48.csv", ContentType: "text/csv; charset=utf-8", Data: summaryCSV}},
		MessageID:   "summary.2026-W48.0123456789abcdef@example.com",
		Date:        time.Date(2026, 11, 30, 9, 0, 0, 0, time.FixedZone("CST", 8*3600)),
	}
}

// summaryPart is one node of a parsed message's MIME tree.
type summaryPart struct {
	path        string // "" for the root, then "0", "0.1", ...
	contentType string // media type only
	params      map[string]string
	disposition string
	filename    string
	body        []byte // decoded; nil for multiparts
}

// summaryTree walks raw with go-message and returns its parts in order.
func summaryTree(t *testing.T, raw []byte) []summaryPart {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("go-message: read: %v", err)
	}
	var parts []summaryPart
	err = e.Walk(func(path []int, e *message.Entity, err error) error {
		if err != nil {
			return err
		}
		var p summaryPart
		for i, n := range path {
			if i > 0 {
				p.path += "."
			}
			p.path += string(rune('0' + n))
		}
		p.contentType, p.params, _ = e.Header.ContentType()
		if d, params, err := e.Header.ContentDisposition(); err == nil {
			p.disposition, p.filename = d, params["filename"]
		}
		if !strings.HasPrefix(p.contentType, "multipart/") {
			if p.body, err = io.ReadAll(e.Body); err != nil {
				return err
			}
		}
		parts = append(parts, p)
		return nil
	})
	if err != nil {
		t.Fatalf("go-message: walk: %v", err)
	}
	return parts
}

// checkSummary parses raw (sent or delivered) as the mail for s with go-message's mail
// reader: headers, both alternatives, every attachment with its name and exact bytes,
// and the MIME tree. It returns the Message-ID.
func checkSummary(t *testing.T, s Summary, raw []byte) string {
	t.Helper()
	mr, err := gomessage.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	defer mr.Close()
	h := mr.Header
	if got, err := h.Subject(); err != nil || got != s.Subject {
		t.Errorf("Subject = %q, %v; want %q", got, err, s.Subject)
	}
	id, err := h.MessageID()
	if err != nil || id == "" {
		t.Errorf("Message-ID = %q, %v", id, err)
	}
	if s.MessageID != "" && id != s.MessageID {
		t.Errorf("Message-ID = %q, want %q", id, s.MessageID)
	}
	if got, err := h.Date(); err != nil || !got.Equal(s.Date) {
		t.Errorf("Date = %v, %v; want %v", got, err, s.Date)
	}
	checkAddrs(t, h, "From", []string{s.From})
	checkAddrs(t, h, "To", s.To)
	for _, k := range forbidden {
		if h.Has(k) {
			t.Errorf("header %s present: %q", k, h.Get(k))
		}
	}
	if got := h.Get("MIME-Version"); got != "1.0" {
		t.Errorf("MIME-Version = %q, want 1.0", got)
	}

	// The mail reader flattens the tree into the inline texts and the attachments.
	var texts [][2]string // content type, body
	var atts []Attachment
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		switch ph := p.Header.(type) {
		case *gomessage.InlineHeader:
			ct, params, err := ph.ContentType()
			if err != nil {
				t.Errorf("part Content-Type %q: %v", ph.Get("Content-Type"), err)
			}
			if !strings.EqualFold(params["charset"], "utf-8") {
				t.Errorf("%s charset = %q, want utf-8", ct, params["charset"])
			}
			if cte := ph.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
				t.Errorf("%s Content-Transfer-Encoding = %q, want quoted-printable", ct, cte)
			}
			texts = append(texts, [2]string{ct, strings.ReplaceAll(string(body), "\r\n", "\n")})
		case *gomessage.AttachmentHeader:
			name, err := ph.Filename()
			if err != nil {
				t.Errorf("attachment filename: %v", err)
			}
			ct, params, err := ph.ContentType()
			if err != nil {
				t.Errorf("attachment Content-Type %q: %v", ph.Get("Content-Type"), err)
			}
			if params["name"] != name {
				t.Errorf("attachment Content-Type name=%q, Content-Disposition filename=%q; want the same", params["name"], name)
			}
			delete(params, "name")
			if len(params) > 0 {
				ct += "; " + strings.TrimPrefix(formatParams(params), "; ")
			}
			atts = append(atts, Attachment{Name: name, ContentType: ct, Data: body})
		default:
			t.Errorf("part of unknown kind %T", p.Header)
		}
	}
	wantTexts := [][2]string{{"text/plain", s.Text}, {"text/html", s.HTML}}
	if !slices.Equal(texts, wantTexts) {
		t.Errorf("inline parts =\n%q\nwant\n%q", texts, wantTexts)
	}
	if len(atts) != len(s.Attachments) {
		t.Fatalf("%d attachments, want %d", len(atts), len(s.Attachments))
	}
	for i, a := range atts {
		want := s.Attachments[i]
		if want.ContentType == "" {
			want.ContentType = "application/octet-stream"
		}
		if a.Name != want.Name || !strings.EqualFold(a.ContentType, want.ContentType) {
			t.Errorf("attachment %d = %q (%s), want %q (%s)", i+1, a.Name, a.ContentType, want.Name, want.ContentType)
		}
		if !bytes.Equal(a.Data, want.Data) {
			t.Errorf("attachment %d %q = %q, want exactly %q", i+1, a.Name, a.Data, want.Data)
		}
	}

	// The tree: mixed { alternative { plain, html }, attachments... }, or the alternative
	// alone without attachments.
	var shape []string
	for _, p := range summaryTree(t, raw) {
		d := ""
		if p.disposition != "" {
			d = " " + p.disposition + ":" + p.filename
		}
		shape = append(shape, p.path+" "+p.contentType+d)
	}
	want := []string{" multipart/alternative", "0 text/plain", "1 text/html"}
	if len(s.Attachments) > 0 {
		want = []string{" multipart/mixed", "0 multipart/alternative", "0.0 text/plain", "0.1 text/html"}
		for i, a := range s.Attachments {
			ct := a.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			ct, _, _ = strings.Cut(ct, ";")
			want = append(want, string(rune('1'+i))+" "+ct+" attachment:"+a.Name)
		}
	}
	if !slices.Equal(shape, want) {
		t.Errorf("MIME tree =\n%s\nwant\n%s", strings.Join(shape, "\n"), strings.Join(want, "\n"))
	}
	return id
}

// formatParams writes params sorted, as "; k=v; k=v".
func formatParams(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString("; " + k + "=" + params[k])
	}
	return b.String()
}

// checkSummaryBytes checks what every rendered summary must be: 7-bit, CRLF only,
// ending in CRLF, short lines (the one-line Message-ID aside), the top-level headers in
// order and nothing naming software.
func checkSummaryBytes(t *testing.T, raw []byte, topType string) {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("message does not end in CRLF: %q", raw[max(0, len(raw)-20):])
	}
	for i, b := range raw {
		if b >= 0x80 {
			t.Fatalf("byte %d is %#x: the message must be 7-bit", i, b)
		}
		if b == '\n' && (i == 0 || raw[i-1] != '\r') {
			t.Fatalf("bare LF at byte %d", i)
		}
		if b == '\r' && (i+1 == len(raw) || raw[i+1] != '\n') {
			t.Fatalf("bare CR at byte %d", i)
		}
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		// go-mail does not fold a part's header, so an encoded non-ASCII file name can
		// make a line longer than 78 characters (the hard limit is 998).
		long := strings.HasPrefix(line, "Message-ID: ") ||
			(strings.HasPrefix(line, "Content-Type: ") || strings.HasPrefix(line, "Content-Disposition: ")) &&
				strings.Contains(line, "=?UTF-8?q?")
		if len(line) > 998 || len(line) > 78 && !long {
			t.Errorf("line of %d characters: %q", len(line), line)
		}
	}
	want := []string{"Date", "MIME-Version", "Message-ID", "Subject", "From", "To", "Content-Type"}
	if got := headerNames(raw); !slices.Equal(got, want) {
		t.Errorf("headers = %v, want exactly %v", got, want)
	}
	if !bytes.Contains(raw, []byte("\r\nContent-Type: "+topType+";\r\n boundary=")) {
		t.Errorf("no top-level Content-Type %s in\n%s", topType, raw)
	}
	for _, software := range []string{"go-mail", "User-Agent", "X-Mailer"} {
		if bytes.Contains(raw, []byte(software)) {
			t.Errorf("message mentions %q", software)
		}
	}
}

var generatedSummaryID = regexp.MustCompile(`^summary\.20261130T010000Z\.[a-z2-7]{26}@example\.com$`)

func TestRenderSummary(t *testing.T) {
	t.Parallel()
	noAttachments := weeklySummary()
	noAttachments.Attachments = nil
	noAttachments.Text = "no final newline"
	generated := weeklySummary()
	generated.MessageID = ""
	several := weeklySummary()
	several.To = []string{"support@acme.example", `"Help Desk" <helpdesk@acme.example>`}
	several.Attachments = append(several.Attachments,
		Attachment{Name: "周报 2026-W48.txt", ContentType: "text/plain; charset=utf-8", Data: []byte("中文附件\n")},
		Attachment{Name: "raw.bin", Data: []byte{0, 1, 2, '\r', '\n', '.', 0xff, 0xfe}},
		Attachment{Name: "empty.csv", ContentType: "text/csv", Data: nil},
	)
	tests := []struct {
		name    string
		s       Summary
		topType string
	}{
		{"weekly summary with csv", weeklySummary(), "multipart/mixed"},
		{"generated message-id", generated, "multipart/mixed"},
		{"chinese file name, binary and empty attachments, two recipients", several, "multipart/mixed"},
		{"no attachments", noAttachments, "multipart/alternative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw, err := RenderSummary(tt.s)
			if err != nil {
				t.Fatalf("RenderSummary: %v", err)
			}
			checkSummaryBytes(t, raw, tt.topType)
			id := checkSummary(t, tt.s, raw)
			if !bytes.Contains(raw, []byte("\r\nMessage-ID: <"+id+">\r\n")) {
				t.Errorf("Message-ID <%s> not on one line in\n%s", id, raw)
			}
			if tt.s.MessageID == "" {
				if !generatedSummaryID.MatchString(id) {
					t.Errorf("generated Message-ID %q does not match %v", id, generatedSummaryID)
				}
				again, err := RenderSummary(tt.s)
				if err != nil {
					t.Fatal(err)
				}
				if id2, err := messageIDOf(again); err != nil || id2 == id {
					t.Errorf("second render's Message-ID = %q, %v; want a new one", id2, err)
				}
			}
		})
	}
}

func TestRenderSummaryRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*Summary)
		want string
	}{
		{"message-id with brackets", func(s *Summary) { s.MessageID = "<a@b>" }, "Message-ID"},
		{"message-id without @", func(s *Summary) { s.MessageID = "ab" }, "Message-ID"},
		{"message-id with CRLF", func(s *Summary) { s.MessageID = "a@b\r\nBcc: x@y" }, "Message-ID"},
		{"no date", func(s *Summary) { s.Date = time.Time{} }, "no Date"},
		{"bad from", func(s *Summary) { s.From = "Lin Wei" }, "from"},
		{"bad from, generated message-id", func(s *Summary) { s.From, s.MessageID = "Lin Wei", "" }, "from"},
		{"non-ascii from domain, generated message-id", func(s *Summary) { s.From, s.MessageID = "lin@例子.测试", "" }, "set MessageID"},
		{"no recipients", func(s *Summary) { s.To = nil }, "no recipients"},
		{"bad recipient", func(s *Summary) { s.To = []string{"not an address"} }, "to"},
		{"no text", func(s *Summary) { s.Text = "" }, "no Text"},
		{"no html", func(s *Summary) { s.HTML = "" }, "no HTML"},
		{"attachment without name", func(s *Summary) { s.Attachments[0].Name = "" }, "attachment 1: no Name"},
		{"attachment content type with CRLF", func(s *Summary) {
			s.Attachments[0].ContentType = "text/csv\r\nBcc: x@example.net"
		}, "ContentType"},
		{"attachment content type malformed", func(s *Summary) { s.Attachments[0].ContentType = "csv" }, "ContentType"},
		{"attachment multipart", func(s *Summary) { s.Attachments[0].ContentType = "multipart/mixed; boundary=x" }, "ContentType"},
		{"attachment name too long for a header line", func(s *Summary) {
			s.Attachments[0].Name = strings.Repeat("周", 120) + ".csv"
		}, "998"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := weeklySummary()
			tt.edit(&s)
			raw, err := RenderSummary(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RenderSummary = %v, want an error mentioning %q\n%s", err, tt.want, raw)
			}
		})
	}
}

// TestSendSummaryDelivers sends the weekly summary through each world and reads it back
// over IMAP.
func TestSendSummaryDelivers(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		two := weeklySummary()
		two.To = []string{"support@acme.example", `"Help Desk" <helpdesk@acme.example>`}
		two.MessageID = "summary.2026-W48.two-recipients@example.com"
		generated := weeklySummary()
		generated.MessageID = ""
		generated.Date = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
		tests := []struct {
			name string
			s    Summary
			to   []mailworld.User
		}{
			{"weekly summary", weeklySummary(), []mailworld.User{support}},
			{"two recipients", two, []mailworld.User{support, helpdsk}},
			{"generated message-id", generated, []mailworld.User{support}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				snd := NewSender(smtpServer(t, w, lin), SenderOptions{})
				before := time.Now()
				res, err := snd.SendSummary(context.Background(), tt.s)
				after := time.Now()
				if err != nil {
					t.Fatalf("SendSummary: %v", err)
				}
				if res.Attempts != 1 {
					t.Errorf("Attempts = %d, want 1", res.Attempts)
				}
				if res.AcceptedAt.Before(before) || res.AcceptedAt.After(after) {
					t.Errorf("AcceptedAt = %v, want within the call [%v, %v]", res.AcceptedAt, before, after)
				}
				checkSummaryBytes(t, res.Raw, "multipart/mixed")
				id, err := messageIDOf(res.Raw)
				if err != nil {
					t.Fatal(err)
				}
				if tt.s.MessageID == "" && !generatedSummaryID.MatchString(id) {
					t.Errorf("generated Message-ID %q does not match %v", id, generatedSummaryID)
				}
				for _, u := range tt.to {
					m := waitDelivered(t, w, u, id)
					delivered := m.BodySection[0].Bytes
					if !bytes.HasSuffix(delivered, res.Raw) {
						t.Fatalf("the delivered message does not end with the bytes sent.\nsent:\n%s\ndelivered:\n%s", res.Raw, delivered)
					}
					if prefix := delivered[:len(delivered)-len(res.Raw)]; bytes.Contains(prefix, []byte("\r\n\r\n")) {
						t.Errorf("the MTA prepended more than header lines:\n%s", prefix)
					}
					if got := checkSummary(t, tt.s, delivered); got != id {
						t.Errorf("delivered Message-ID %q, sent %q", got, id)
					}
				}
			})
		}
	})
}

// TestSendSummaryRecipientRefused: a refused recipient is Send's permanent *SendError.
func TestSendSummaryRecipientRefused(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		s := weeklySummary()
		if m, ok := w.(*mailworld.Memory); ok {
			if err := m.SetRcptFault(support.Address, 550); err != nil {
				t.Fatal(err)
			}
		} else {
			s.To = []string{"nobody@acme.example"} // Postfix: unknown user
		}
		clock := newFakeClock()
		srv := smtpServer(t, w, lin)
		_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).SendSummary(context.Background(), s)
		var se *SendError
		if !errors.As(err, &se) {
			t.Fatalf("SendSummary = %v, want a *SendError", err)
		}
		if se.Code != 550 || se.Temporary || se.Attempts != 1 || se.Step != "RCPT TO <"+s.To[0]+">" || se.Host != srv.Addr() {
			t.Errorf("SendError = %+v, want code 550, permanent, 1 attempt, step RCPT TO <%s>", se, s.To[0])
		}
		if !strings.Contains(err.Error(), "(permanent, 1 attempt)") {
			t.Errorf("error %q, want it to say (permanent, 1 attempt)", err)
		}
		if got := clock.Slept(); len(got) != 0 {
			t.Errorf("slept %v before giving up on a permanent failure", got)
		}
	})
}

// TestSendSummaryRetries: Send's backoff and window apply, and the bytes rendered once
// are the bytes finally delivered.
func TestSendSummaryRetries(t *testing.T) {
	t.Parallel()
	t.Run("451 cleared on the first retry", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.Memory(t, users...)
		if err := w.SetRcptFault(support.Address, 451); err != nil {
			t.Fatal(err)
		}
		clock := newFakeClock()
		clock.onSleep = func(int) { w.SetRcptFault(support.Address, 0) }
		s := weeklySummary()
		s.MessageID = ""
		res, err := NewSender(smtpServer(t, w, lin), SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).
			SendSummary(context.Background(), s)
		if err != nil {
			t.Fatalf("SendSummary: %v", err)
		}
		if got := clock.Slept(); !slices.Equal(got, []time.Duration{DefaultBackoff}) {
			t.Errorf("waits = %v, want [%v]", got, DefaultBackoff)
		}
		if res.Attempts != 2 || !res.AcceptedAt.Equal(clock.Now()) {
			t.Errorf("SendSummary = %d attempts at %v, want 2 at %v", res.Attempts, res.AcceptedAt, clock.Now())
		}
		id, err := messageIDOf(res.Raw)
		if err != nil {
			t.Fatal(err)
		}
		m := waitDelivered(t, w, support, id)
		if !bytes.HasSuffix(m.BodySection[0].Bytes, res.Raw) {
			t.Errorf("the delivered message does not end with SendResult.Raw")
		}
	})
	t.Run("451 throughout a short window", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.Memory(t, users...)
		if err := w.SetRcptFault(support.Address, 451); err != nil {
			t.Fatal(err)
		}
		clock := newFakeClock()
		opts := SenderOptions{Now: clock.Now, Sleep: clock.Sleep, Backoff: time.Second, MaxBackoff: 4 * time.Second, RetryWindow: 10 * time.Second}
		_, err := NewSender(smtpServer(t, w, lin), opts).SendSummary(context.Background(), weeklySummary())
		var se *SendError
		if !errors.As(err, &se) || !se.Temporary || se.Code != 451 || se.Attempts != 4 {
			t.Fatalf("SendSummary = %v, want a temporary 451 *SendError after 4 attempts", err)
		}
		if !strings.Contains(err.Error(), "(temporary, 4 attempts, retry window of 10s used up)") {
			t.Errorf("error %q does not say the window was used up", err)
		}
		if got, want := clock.Slept(), []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(got, want) {
			t.Errorf("waits = %v, want %v", got, want)
		}
	})
	t.Run("context canceled while waiting", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.Memory(t, users...)
		if err := w.SetRcptFault(support.Address, 451); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clock := newFakeClock()
		clock.onSleep = func(int) { cancel() }
		_, err := NewSender(smtpServer(t, w, lin), SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).SendSummary(ctx, weeklySummary())
		var se *SendError
		if !errors.As(err, &se) || !errors.Is(err, context.Canceled) || se.Attempts != 1 {
			t.Fatalf("SendSummary = %v, want a *SendError wrapping context.Canceled after 1 attempt", err)
		}
	})
}

// TestSendSummaryRejectsBadInput covers what SendSummary refuses before dialing.
func TestSendSummaryRejectsBadInput(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	srv := serverAt(t, ln.Addr().String(), SecurityNone, mailworld.User{})
	ln.Close() // a dial would be refused, and would be a *SendError
	tests := []struct {
		name string
		srv  Server
		edit func(*Summary)
		want string
	}{
		{"unknown security", Server{Host: "127.0.0.1", Port: 25, Security: "ssl"}, nil, `unknown security "ssl"`},
		{"no recipients", srv, func(s *Summary) { s.To = nil }, "no recipients"},
		{"bad recipient", srv, func(s *Summary) { s.To = []string{"not an address"} }, "not an address"},
		{"bad from, generated message-id", srv, func(s *Summary) { s.From, s.MessageID = "Lin Wei", "" }, "summary: from"},
		{"bad message-id", srv, func(s *Summary) { s.MessageID = "no-at-sign" }, "Message-ID"},
		{"no html", srv, func(s *Summary) { s.HTML = "" }, "no HTML"},
		{"attachment without name", srv, func(s *Summary) { s.Attachments[0].Name = "" }, "no Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := weeklySummary()
			if tt.edit != nil {
				tt.edit(&s)
			}
			clock := newFakeClock()
			_, err := NewSender(tt.srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).SendSummary(context.Background(), s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("SendSummary = %v, want an error mentioning %q", err, tt.want)
			}
			var se *SendError
			if errors.As(err, &se) {
				t.Errorf("SendSummary = %#v, want no *SendError: nothing was sent", se)
			}
		})
	}
}
