package mailworld_test

import (
	"bytes"
	"fmt"
	"net"
	"net/smtp"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// rtQueue is the help desk's mailbox in the RT tests.
var rtQueue = mailworld.User{Address: "support@rt-vendor.test", Password: "queue-secret"}

// waitRTMail waits up to 30 s (RT answers in 1–7 s on a busy machine) until lin's INBOX
// holds n messages, and returns them parsed, in UID order.
func waitRTMail(t *testing.T, c *imapclient.Client, n uint32) []rtMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatalf("STATUS INBOX: %v", err)
		}
		if *st.NumMessages >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lin's INBOX holds %d messages after 30 s, want %d", *st.NumMessages, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("SELECT INBOX: %v", err)
	}
	var out []rtMail
	for _, m := range fetch(t, c, imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}) {
		h, body := parse(t, m)
		out = append(out, rtMail{h: h, body: body, raw: bytes.Clone(raw(m))})
	}
	// Dovecot's STATUS on the selected mailbox shows the session's view, which would
	// not grow while we poll.
	if err := c.Unselect().Wait(); err != nil {
		t.Fatalf("UNSELECT: %v", err)
	}
	return out
}

type rtMail struct {
	h    mail.Header
	body string
	raw  []byte // the message as fetched
}

func (m rtMail) String() string {
	return fmt.Sprintf("%q from %q (In-Reply-To %q, References %q)", m.h.Get("Subject"), m.h.Get("From"), m.h.Get("In-Reply-To"), m.h.Get("References"))
}

// TestRTHelpDesk runs Request Tracker 5 in the real world and checks the behaviour that
// the matcher and the classifier meet, as measured: an inquiry mailed to the queue
// becomes a ticket whose AutoReply goes to the inquiry's Reply-To citing its Message-ID;
// a REST answer carries no In-Reply-To and only <RT-Ticket-N@name> in References; a
// private comment mails nothing; a web-form answer cites the inquiry; the Resolved
// notice comes under the agent's name; every RT mail carries Precedence: bulk. Close
// stops rt-server.
func TestRTHelpDesk(t *testing.T) {
	w := mailworldtest.Real(t, lin, rtQueue)
	rt := mailworldtest.RT(t, w, rtQueue)
	c := login(t, w, lin)

	inquiry := "<inquiry-1@example.com>"
	msg := strings.ReplaceAll(fmt.Sprintf(`From: Lin Wei <lin.wei@example.com>
Reply-To: Lin Wei <lin.wei+K7Q2MX@example.com>
To: Support <%s>
Subject: Stream ingest fails in East China
Message-ID: %s
Date: %s
Content-Type: text/plain; charset=utf-8

Hello, since 03:00 no stream can be pushed to the East China ingest. Can you help?

Lin Wei
`, rtQueue.Address, inquiry, time.Now().Format(time.RFC1123Z)), "\n", "\r\n")
	if err := smtp.SendMail(w.SMTPAddr(), nil, lin.Address, []string{rtQueue.Address}, []byte(msg)); err != nil {
		t.Fatalf("send inquiry to %s: %v", rtQueue.Address, err)
	}
	ticket, err := rt.WaitTicket("Stream ingest fails", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	pseudo := fmt.Sprintf("<RT-Ticket-%d@%s>", ticket.ID, rt.Name())
	tag := fmt.Sprintf("[%s #%d]", rt.Name(), ticket.ID)

	check := func(m rtMail, what, subject, inReplyTo string, autoSubmitted bool) {
		t.Helper()
		if got := m.h.Get("Subject"); got != subject {
			t.Errorf("%s: Subject = %q, want %q", what, got, subject)
		}
		if got := m.h.Get("To"); !strings.Contains(got, "lin.wei+K7Q2MX@example.com") {
			t.Errorf("%s: To = %q, want the inquiry's Reply-To", what, got)
		}
		if got := strings.TrimSpace(m.h.Get("In-Reply-To")); got != inReplyTo {
			t.Errorf("%s: In-Reply-To = %q, want %q", what, got, inReplyTo)
		}
		if refs := strings.Fields(m.h.Get("References")); len(refs) == 0 || refs[0] != pseudo {
			t.Errorf("%s: References = %q, want %s first", what, m.h.Get("References"), pseudo)
		}
		if got := m.h.Get("Precedence"); got != "bulk" {
			t.Errorf("%s: Precedence = %q, want bulk", what, got)
		}
		if got := m.h.Get("Auto-Submitted"); (got != "") != autoSubmitted {
			t.Errorf("%s: Auto-Submitted = %q, want it present: %v", what, got, autoSubmitted)
		}
		if from, _ := m.h.AddressList("From"); len(from) != 1 || from[0].Address != rtQueue.Address {
			t.Errorf("%s: From = %q, want the queue address %s", what, m.h.Get("From"), rtQueue.Address)
		}
	}

	got := waitRTMail(t, c, 1)
	check(got[0], "AutoReply", tag+" AutoReply: Stream ingest fails in East China", inquiry, true)

	if err := rt.Correspond(ticket.ID, "Hi Lin,\n\nwe moved your streams to a healthy ingest node.\n\nDana"); err != nil {
		t.Fatal(err)
	}
	got = waitRTMail(t, c, 2)
	check(got[1], "REST answer", tag+" Stream ingest fails in East China", "", false)
	if !strings.Contains(got[1].body, "healthy ingest node") {
		t.Errorf("REST answer body = %q, want the agent's text", got[1].body)
	}

	if err := rt.Comment(ticket.ID, "Internal: the node was out of disk."); err != nil {
		t.Fatal(err)
	}
	if err := rt.RespondWeb(ticket.ID, "Hi Lin,\n\nthe node is fixed for good now.\n\nDana"); err != nil {
		t.Fatal(err)
	}
	// RT handles one request at a time and mails within it, so a mail for the comment
	// would have been submitted before the web answer's.
	got = waitRTMail(t, c, 3)
	check(got[2], "web answer", tag+" Stream ingest fails in East China", inquiry, false)
	if !strings.Contains(got[2].body, "fixed for good") {
		t.Errorf("web answer = %v with body %q, want the web form's text (the comment must send nothing)", got[2], got[2].body)
	}

	if err := rt.Resolve(ticket.ID); err != nil {
		t.Fatal(err)
	}
	got = waitRTMail(t, c, 4)
	check(got[3], "Resolved notice", tag+" Resolved: Stream ingest fails in East China", "", false)
	if from := got[3].h.Get("From"); !strings.Contains(from, rt.Agent().RealName) {
		t.Errorf("Resolved notice From = %q, want the agent's name %q", from, rt.Agent().RealName)
	}
	time.Sleep(2 * time.Second)
	if got = waitRTMail(t, c, 4); len(got) != 4 {
		t.Errorf("lin's INBOX holds %d messages, want 4 (the comment sends nothing): %v", len(got), got)
	}
	if fed, err := rt.Fed(); fed != 1 || err != nil {
		t.Errorf("Fed() = %d, %v; want 1 message fed to rt-mailgate and no error", fed, err)
	}

	if err := rt.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(rt.URL(), "http://"), time.Second); err == nil {
		conn.Close()
		t.Errorf("rt-server still accepts on %s after Close", rt.URL())
	}
}

// TestStartRTOptions: options RT cannot run with are refused before anything starts,
// each with a message naming the bad value.
func TestStartRTOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts mailworld.RTOptions
		dir  string
		want string
	}{
		{"no queue", mailworld.RTOptions{SMTPAddr: "127.0.0.1:25", IMAPAddr: "127.0.0.1:143"}, "rt", "need Queue, SMTPAddr and IMAPAddr"},
		{"no servers", mailworld.RTOptions{Queue: rtQueue}, "rt", "need Queue, SMTPAddr and IMAPAddr"},
		{"quote in the name", mailworld.RTOptions{Name: "acme's rt", Queue: rtQueue, SMTPAddr: "127.0.0.1:25", IMAPAddr: "127.0.0.1:143"}, "rt", `"acme's rt" cannot be written`},
		{"backslash in the dir", mailworld.RTOptions{Queue: rtQueue, SMTPAddr: "127.0.0.1:25", IMAPAddr: "127.0.0.1:143"}, `rt\x`, "cannot be written into RT's Perl configuration"},
		{"SMTP address without a port", mailworld.RTOptions{Queue: rtQueue, SMTPAddr: "127.0.0.1", IMAPAddr: "127.0.0.1:143"}, "rt", `SMTP address "127.0.0.1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), tc.dir)
			rt, err := mailworld.StartRT(dir, tc.opts)
			if err == nil {
				rt.Close()
				t.Fatalf("StartRT(%q, %+v) = nil error, want one containing %q", dir, tc.opts, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("StartRT(%q, %+v) error = %v, want it to contain %q", dir, tc.opts, err, tc.want)
			}
		})
	}
}

// TestRTNoticesCorpus runs RT with RTOptions.Notices, the notices a help desk adds to RT's
// defaults, and keeps what it mails the requestor in the classifier's corpus as
// TestGeneratorsCorpus does: the queue's own AutoReply in German, the notice that the
// ticket was taken, and RT's stock status-change notice.
func TestRTNoticesCorpus(t *testing.T) {
	w := mailworldtest.Real(t, lin, rtQueue)
	rt := mailworldtest.RTWith(t, w, mailworld.RTOptions{Queue: rtQueue, Notices: true})
	c := login(t, w, lin)
	msg := strings.ReplaceAll(fmt.Sprintf(`From: Lin Wei <lin.wei@example.com>
To: Support <%s>
Subject: Streaming fails in region East China since 03:00
Message-ID: <inquiry-gen-rt-notices@customer.example>
Date: %s
Content-Type: text/plain; charset=utf-8

Hello,

since 03:00 (UTC+8) no stream can be started in region East China; the console shows
error 502. Could you please look into it?

Lin Wei
`, rtQueue.Address, time.Now().Format(time.RFC1123Z)), "\n", "\r\n")
	if err := smtp.SendMail(w.SMTPAddr(), nil, lin.Address, []string{rtQueue.Address}, []byte(msg)); err != nil {
		t.Fatalf("send inquiry to %s: %v", rtQueue.Address, err)
	}
	ticket, err := rt.WaitTicket("Streaming fails", 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tag := regexp.QuoteMeta(fmt.Sprintf("[%s #%d]", rt.Name(), ticket.ID))
	common := []string{`(?m)^X-RT-Ticket: ` + regexp.QuoteMeta(fmt.Sprintf("%s #%d", rt.Name(), ticket.ID)), `(?m)^Precedence: bulk`,
		`(?m)^X-RT-Loop-Prevention: ` + regexp.QuoteMeta(rt.Name()), `(?m)^Content-Type: multipart/alternative`}
	cases := []generated{
		{name: "auto_ack/gen-rt-autoreply-de", subject: `^` + tag + ` Ihre Anfrage ist eingegangen: Streaming fails`, want: append([]string{
			`(?m)^Auto-Submitted: auto-replied`, `(?m)^In-Reply-To: <inquiry-gen-rt-notices@customer\.example>`,
			`Ihre Anfrage wurde unter der Nummer`}, common...)},
		{name: "other/gen-rt-taken", subject: `^` + tag + ` Your request has been assigned: Streaming fails`, want: append([]string{
			`has been assigned to ` + regexp.QuoteMeta(rt.Agent().RealName)}, common...)},
		{name: "other/gen-rt-status-changed", subject: `^` + tag + ` Status Changed to: open$`, want: append([]string{
			`Ticket/Display\.html\?id=` + fmt.Sprint(ticket.ID)}, common...)},
	}
	steps := []func() error{nil, func() error { return rt.Take(ticket.ID) }, func() error { return rt.SetStatus(ticket.ID, "open") }}
	got := map[string][]byte{}
	for i, g := range cases {
		if steps[i] != nil {
			if err := steps[i](); err != nil {
				t.Fatal(err)
			}
		}
		mails := waitRTMail(t, c, uint32(i+1))
		got[tagOf(g.name)] = mails[i].raw
	}
	time.Sleep(2 * time.Second)
	if mails := waitRTMail(t, c, uint32(len(cases))); len(mails) != len(cases) {
		t.Errorf("lin's INBOX holds %d messages, want %d: %v", len(mails), len(cases), mails)
	}
	checkGenerated(t, w, cases, got)
}
