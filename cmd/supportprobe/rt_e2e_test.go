package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

var saveRTCorpus = flag.Bool("save-rt-corpus", false, "TestRTEndToEnd: write every message RT sent to probe/testdata/corpus/<kind>/rt-*.eml")

// rtConfig probes acme-cloud, whose help desk is Request Tracker, without plus-addressing:
// RT's REST answers cite no Message-ID of ours, so only what the daemon learned from the
// AutoReply (RT's pseudo-reference and ticket key) can tie them to their probe.
const rtConfig = `state_dir: %[1]s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: false
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, username: lin.wei@example.com, password_file: %[4]s}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, username: lin.wei@example.com, password_file: %[4]s, sent_folder: Sent}
scripts:
  - {id: ingest-en, language: en, priority: P1, subject: "Stream ingest fails in {{.Region}}", body: "Hello,\n\nsince {{.LocalTime.Format \"15:04\"}} no stream can be pushed to our {{.Region}} ingest. Could you have a look?\n\nThanks,\nLin\n", vars: {Region: East China}}
vendors:
  - name: acme-cloud
    to: ["Acme Support <support@acme.example>"]
    timezone: UTC
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "0 3 * * *", scripts: [ingest-en]}
`

// rtMailTimeout bounds the wait for RT's mail to be recorded: RT mails 1–7 s after an
// action on a busy machine, and the daemon sees it within a second of delivery.
const rtMailTimeout = 45 * time.Second

// misread fails the test for a message of RT the classifier gave the wrong kind, with
// its reason; the assertions that depend on the kind are then skipped.
func misread(t *testing.T, what, got, want, reason string) {
	t.Helper()
	t.Errorf("CLASSIFIER MISREAD: %s classified %s (reason %q), want %s", what, got, reason, want)
}

// TestRTEndToEnd runs the daemon against a real Request Tracker 5 in the real mail world.
// Probe A: RT's AutoReply is auto_ack, matched by our Message-ID; an agent's answer
// through REST 2 (no In-Reply-To, only RT's pseudo-reference) is human, matched through
// what the AutoReply taught, and answers the probe. Probe B: a private comment sends
// nothing; the Resolved notice (RT's text under the agent's name) does not answer the
// probe; the agent's later answer through the web form is human and does, with a latency
// measured to that answer, not to the notice.
func TestRTEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Request Tracker (about a minute)")
	}
	w := mailworldtest.Real(t, linUser, supportUser)
	start := time.Now()
	rt := mailworldtest.RT(t, w, supportUser)
	t.Logf("Request Tracker up in %v", time.Since(start).Round(100*time.Millisecond))

	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(linUser.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, smtpPort, _ := net.SplitHostPort(w.SMTPAddr())
	_, imapPort, _ := net.SplitHostPort(w.IMAPAddr())
	cfgPath := filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, rtConfig, stateDir, smtpPort, imapPort, pw), 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")

	var tickets []int
	// sendProbeToRT sends a probe and waits for its ticket.
	sendProbeToRT := func() (historyProbe, int) {
		t.Helper()
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("send: exit %d, %s", code, stderr)
		}
		id := strings.TrimSpace(stdout)
		p := waitHistory(t, cfgPath, id, "sent", func(p historyProbe) bool { return p.Status == "sent" })
		deadline := time.Now().Add(60 * time.Second)
		for {
			ts, err := rt.Tickets()
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range ts {
				if !slices.Contains(tickets, tk.ID) {
					tickets = append(tickets, tk.ID)
					return p, tk.ID
				}
			}
			if time.Now().After(deadline) {
				fed, err := rt.Fed()
				t.Fatalf("probe %s: no new RT ticket within 60 s (tickets %v; %d messages fed to rt-mailgate, last error %v)", id, ts, fed, err)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitReplies := func(id string, n int) historyProbe {
		t.Helper()
		return waitHistoryWithin(t, cfgPath, id, fmt.Sprintf("%d replies recorded", n), rtMailTimeout, func(p historyProbe) bool { return len(p.Replies) >= n })
	}
	checkAck := func(p historyProbe, ticket int) {
		t.Helper()
		r := p.Replies[0]
		if r.MatchedBy != "message_id" {
			t.Errorf("probe %s: AutoReply of ticket %d matched by %s, want message_id (it cites our inquiry)", p.ID, ticket, r.MatchedBy)
		}
		if r.Kind != "auto_ack" {
			misread(t, fmt.Sprintf("RT's AutoReply (ticket %d)", ticket), r.Kind, "auto_ack", r.Reason)
		} else if p.Status != "acknowledged" || p.AckLatencySeconds == nil {
			t.Errorf("probe %s after the AutoReply: status %s, ack latency %v; want acknowledged with a latency", p.ID, p.Status, deref(p.AckLatencySeconds))
		}
	}
	// checkHuman checks that reply i, the agent's answer made at answeredAt, is human,
	// matched, and the probe's response: its latency runs from sent_at to this reply's
	// arrival, unless an earlier reply was misread as human (logged, latency skipped).
	checkHuman := func(p historyProbe, i int, what string, answeredAt time.Time) {
		t.Helper()
		r := p.Replies[i]
		if r.MatchedBy == "" || r.MatchedBy == "manual" {
			t.Errorf("probe %s: %s matched by %q, want an automatic rung", p.ID, what, r.MatchedBy)
		}
		if r.Kind != "human" {
			misread(t, what, r.Kind, "human", r.Reason)
			return
		}
		if p.Status != "answered" || p.ResponseLatencySeconds == nil {
			t.Errorf("probe %s after %s: status %s, response latency %v; want answered", p.ID, what, p.Status, deref(p.ResponseLatencySeconds))
			return
		}
		sentAt, arrivals := rtTimes(t, cfgPath, p.ID)
		if got := arrivals[i]; got.Before(answeredAt.Add(-time.Second)) {
			t.Errorf("probe %s: %s received_at %v, before the agent answered (%v)", p.ID, what, got, answeredAt)
		}
		for j := range i {
			if p.Replies[j].Kind == "human" {
				t.Logf("probe %s: response latency runs to reply %d (%s, misread as human), not to %s; latency check skipped", p.ID, j+1, p.Replies[j].Reason, what)
				return
			}
		}
		want := arrivals[i].Sub(sentAt).Seconds()
		if got := *p.ResponseLatencySeconds; got < want-1 || got > want+1 {
			t.Errorf("probe %s: response latency %.1f s, want %.1f (sent_at to the arrival of %s)", p.ID, got, want, what)
		}
	}

	// Probe A: AutoReply, then an answer through REST 2.
	a, ticketA := sendProbeToRT()
	a = waitReplies(a.ID, 1)
	checkAck(a, ticketA)
	restAt := time.Now()
	if err := rt.Correspond(ticketA, "Hi Lin,\n\nwe found a misconfigured ingest node in East China and moved your streams to a healthy one. New streams should start normally now; please tell us if you still see failures.\n\nDana"); err != nil {
		t.Fatal(err)
	}
	a = waitReplies(a.ID, 2)
	if r := a.Replies[1]; r.MatchedBy != "thread" && r.MatchedBy != "ticket_key" {
		t.Errorf("probe %s: REST answer matched by %s (%s), want thread or ticket_key (learned from the AutoReply)", a.ID, r.MatchedBy, r.Reason)
	}
	checkHuman(a, 1, fmt.Sprintf("the REST 2 answer (ticket %d)", ticketA), restAt)

	// Probe B: a private comment, the Resolved notice, then an answer through the web form.
	b, ticketB := sendProbeToRT()
	b = waitReplies(b.ID, 1)
	checkAck(b, ticketB)
	if err := rt.Comment(ticketB, "Internal: ingest-7 ran out of disk; moving the customer."); err != nil {
		t.Fatal(err)
	}
	if err := rt.Resolve(ticketB); err != nil {
		t.Fatal(err)
	}
	b = waitReplies(b.ID, 2)
	if r := b.Replies[1]; r.Kind == "human" {
		misread(t, fmt.Sprintf("RT's Resolved notice (ticket %d)", ticketB), r.Kind, "anything but human", r.Reason)
	} else if b.Status == "answered" || b.ResponseLatencySeconds != nil {
		t.Errorf("probe %s after the Resolved notice (%s): status %s, response latency %v; want no response counted", b.ID, r.Kind, b.Status, deref(b.ResponseLatencySeconds))
	}
	webAt := time.Now()
	if err := rt.RespondWeb(ticketB, "Hi Lin,\n\nsorry for closing this too early: the ingest node is fixed now, and we moved your streams to a healthy one. Please try again.\n\nDana"); err != nil {
		t.Fatal(err)
	}
	b = waitReplies(b.ID, 3)
	checkHuman(b, 2, fmt.Sprintf("the web-form answer (ticket %d)", ticketB), webAt)

	// The comment sent nothing: lin's INBOX holds exactly RT's five mails, all matched.
	msgs := rawInbox(t, w, linUser)
	if len(msgs) != 5 {
		t.Errorf("lin's INBOX holds %d messages, want 5 (2 for ticket %d, 3 for ticket %d; the comment sends nothing)", len(msgs), ticketA, ticketB)
	}
	if len(a.Replies) != 2 || len(b.Replies) != 3 {
		t.Errorf("replies: probe A %d, probe B %d; want 2 and 3", len(a.Replies), len(b.Replies))
	}
	code, stdout, _ := invoke(t, time.Now(), "inbox", "--config", cfgPath, "--unmatched", "--format", "json")
	if code != exitOK || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("inbox --unmatched: exit %d, %s; want no unmatched mail", code, stdout)
	}
	for i, r := range append(a.Replies, b.Replies...) {
		t.Logf("RT mail %d: kind %s, matched by %s; reason: %s", i+1, r.Kind, r.MatchedBy, r.Reason)
	}
	if *saveRTCorpus {
		saveRTMessages(t, msgs)
	}
}

// rtTimes returns probe id's sent_at and its replies' received_at, from history.
func rtTimes(t *testing.T, cfgPath, id string) (time.Time, []time.Time) {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("history: exit %d, %s", code, stderr)
	}
	var h []struct {
		ID      string     `json:"id"`
		SentAt  *time.Time `json:"sent_at"`
		Replies []struct {
			ReceivedAt time.Time `json:"received_at"`
		} `json:"replies"`
	}
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatalf("history --format json: %v", err)
	}
	for _, p := range h {
		if p.ID == id && p.SentAt != nil {
			var at []time.Time
			for _, r := range p.Replies {
				at = append(at, r.ReceivedAt)
			}
			return *p.SentAt, at
		}
	}
	t.Fatalf("history has no sent probe %s: %s", id, stdout)
	return time.Time{}, nil
}

// waitHistoryWithin is waitHistory with its own bound.
func waitHistoryWithin(t *testing.T, cfgPath, id, what string, within time.Duration, cond func(historyProbe) bool) historyProbe {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, p := range readHistory(t, cfgPath) {
			if p.ID == id && cond(p) {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %s: %s did not happen within %v; history: %+v", id, what, within, readHistory(t, cfgPath))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rawInbox returns every message in u's INBOX as stored, in UID order.
func rawInbox(t *testing.T, w mailworld.World, u mailworld.User) [][]byte {
	t.Helper()
	c, err := imapclient.DialInsecure(w.IMAPAddr(), nil)
	if err != nil {
		t.Fatalf("dial IMAP %s: %v", w.IMAPAddr(), err)
	}
	defer c.Close()
	if err := c.Login(u.Address, u.Password).Wait(); err != nil {
		t.Fatalf("IMAP login %s: %v", u.Address, err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("select %s's INBOX: %v", u.Address, err)
	}
	fetched, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatalf("fetch %s's INBOX: %v", u.Address, err)
	}
	var out [][]byte
	for _, m := range fetched {
		out = append(out, m.FindBodySection(&imap.FetchItemBodySection{}))
	}
	return out
}

// saveRTMessages writes RT's mails into the classifier corpus, labelled by what RT sent
// them for (not by what the classifier said): the AutoReply is auto_ack, an agent's answer
// human, the Resolved notice a notification.
func saveRTMessages(t *testing.T, msgs [][]byte) {
	t.Helper()
	root := filepath.Join("..", "..", "probe", "testdata", "corpus")
	for _, raw := range msgs {
		r, err := mail.CreateReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatalf("parse RT message: %v", err)
		}
		subject, _ := r.Header.Subject()
		var kind, name string
		switch {
		case strings.Contains(subject, "AutoReply:"):
			kind, name = "auto_ack", "rt-autoreply"
		case strings.Contains(subject, "Resolved:"):
			kind, name = "notification", "rt-resolved"
		case strings.TrimSpace(r.Header.Get("In-Reply-To")) == "":
			kind, name = "human", "rt-answer-rest"
		default:
			kind, name = "human", "rt-answer-web"
		}
		ticket := strings.TrimSpace(r.Header.Get("X-RT-Ticket"))
		ticket = ticket[strings.LastIndexByte(ticket, '#')+1:]
		dir := filepath.Join(root, kind)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, fmt.Sprintf("%s-ticket%s.eml", name, ticket))
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s", file)
	}
}
