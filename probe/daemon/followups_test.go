package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/store"
)

const followupConfig = `state_dir: STATE
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none, username: lin.wei@example.com, password_env: SP_UNUSED, append_sent: false}
scripts:
  - id: outage-en
    language: en
    priority: P1
    subject: "Streams failing"
    body: "Hello {{.Vendor}}"
    followups:
      - {after_response: 10m, body: "That did not help."}
      - {if_unanswered: 4h, body: "Any news?"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    deadline: 1d
    LIMITS
`

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

func mustFollowupDaemon(t *testing.T, limits string, s probe.Sender, sf probe.SentFolder, c *testClock) *Daemon {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	text := strings.ReplaceAll(followupConfig, "STATE", dir)
	text = strings.ReplaceAll(text, "LIMITS", limits)
	cfg, err := configs.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: s, SentFolder: sf, Now: c.now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.DB().Check(); err != nil {
			t.Errorf("Check() = %v", err)
		}
		d.Close()
	})
	return d
}

func mustSendProbe(t *testing.T, d *Daemon) probe.Probe {
	t.Helper()
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPass(t *testing.T, d *Daemon) probe.Probe {
	t.Helper()
	if err := d.followupPass(context.Background(), d.followupLimiter()); err != nil {
		t.Fatalf("followupPass() = %v", err)
	}
	ps, err := d.DB().Probes(store.Filter{})
	if err != nil || len(ps) == 0 {
		t.Fatalf("Probes() = %v, %v", ps, err)
	}
	return ps[len(ps)-1]
}

func TestFollowupReminderFiresOnce(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "", s, nil, c)
	p := mustSendProbe(t, d)

	c.set(clock.Add(4*time.Hour - time.Second))
	if got := mustPass(t, d); len(got.Followups) != 0 {
		t.Fatalf("follow-ups before 4h = %+v, want none", got.Followups)
	}
	c.set(clock.Add(4 * time.Hour))
	s.at = c.now()
	got := mustPass(t, d)
	if len(got.Followups) != 1 || got.Followups[0].Kind != probe.FollowupReminder || got.Followups[0].State != probe.StateSent {
		t.Fatalf("follow-ups at 4h = %+v, want one sent reminder", got.Followups)
	}
	in := s.sent[len(s.sent)-1]
	if in.Subject != "Re: Streams failing" || in.InReplyTo != p.MessageID || in.MessageID == p.MessageID {
		t.Errorf("reminder subject %q, in-reply-to %q, id %q; want Re: ours, in reply to %q", in.Subject, in.InReplyTo, in.MessageID, p.MessageID)
	}
	if id, _ := d.DB().ProbeByMessageID(in.MessageID); id != p.ID {
		t.Errorf("ProbeByMessageID(reminder) = %q, want %s (in the thread)", id, p.ID)
	}
	c.set(clock.Add(5 * time.Hour))
	mustPass(t, d)
	if len(s.sent) != 2 {
		t.Errorf("sent %d mails, want the inquiry and one reminder", len(s.sent))
	}
	if !got.NeededReminder() {
		t.Error("NeededReminder() = false")
	}
}

func TestFollowupAfterResponse(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "", s, nil, c)
	p := mustSendProbe(t, d)
	answered := clock.Add(time.Hour)
	raw := "From: Dana <dana@acme.example>\r\nSubject: [#1] Re: Streams failing\r\nMessage-ID: <agent-1@acme.example>\r\nIn-Reply-To: <" +
		p.MessageID + ">\r\n\r\nWe fixed it.\r\n"
	if _, err := d.DB().AddReply(probe.Reply{ProbeID: p.ID, MessageID: "agent-1@acme.example", ReceivedAt: answered,
		From: "Dana <dana@acme.example>", Subject: "[#1] Re: Streams failing", Kind: probe.KindHuman}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	c.set(answered.Add(9 * time.Minute))
	if got := mustPass(t, d); len(got.Followups) != 0 {
		t.Fatalf("follow-ups 9m after the answer = %+v, want none", got.Followups)
	}
	c.set(answered.Add(10 * time.Minute))
	s.at = c.now()
	got := mustPass(t, d)
	if len(got.Followups) != 1 || got.Followups[0].Kind != probe.FollowupAfterResponse {
		t.Fatalf("follow-ups = %+v, want one after_response (and no reminder: answered within 4h)", got.Followups)
	}
	in := s.sent[len(s.sent)-1]
	if in.InReplyTo != "agent-1@acme.example" || in.Subject != "Re: [#1] Re: Streams failing" {
		t.Errorf("follow-up in-reply-to %q subject %q", in.InReplyTo, in.Subject)
	}
	if !strings.Contains(in.Body, "That did not help.") || !strings.Contains(in.Body, "> We fixed it.") {
		t.Errorf("follow-up body = %q, want the script's text and the reply quoted", in.Body)
	}
}

func TestFollowupNeverAfterDeadline(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "", s, nil, c)
	mustSendProbe(t, d)
	c.set(clock.Add(25 * time.Hour)) // the daemon was down past the 1d deadline
	got := mustPass(t, d)
	if len(got.Followups) != 1 || got.Followups[0].State != probe.StateSkipped || len(s.sent) != 1 {
		t.Errorf("follow-ups = %+v, sent %d; want the reminder skipped, nothing sent", got.Followups, len(s.sent))
	}
}

func TestFollowupObeysLimits(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "limits: {max_per_day: 1}", s, nil, c)
	mustSendProbe(t, d)
	c.set(clock.Add(4 * time.Hour))
	got := mustPass(t, d)
	if len(got.Followups) != 1 || got.Followups[0].State != probe.StateSkipped || !strings.Contains(got.Followups[0].Reason, "max_per_day") {
		t.Errorf("follow-ups = %+v; want the reminder skipped by max_per_day", got.Followups)
	}
	c.set(clock.Add(5 * time.Hour))
	mustPass(t, d)
	if len(s.sent) != 1 {
		t.Errorf("sent %d, want only the inquiry (a skipped follow-up is never retried)", len(s.sent))
	}
}

func TestFollowupInterruptedIsNeverResent(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	sf := &fakeSentFolder{known: map[string]time.Time{}}
	d := mustFollowupDaemon(t, "", s, sf, c)
	p := mustSendProbe(t, d)
	// A crash after recording the reminder as sending, before the 250.
	if _, err := d.DB().UpdateProbe(p.ID, func(p *probe.Probe) error {
		p.Followups = append(p.Followups, probe.Followup{Index: 1, Kind: probe.FollowupReminder, State: probe.StateSending, MessageID: "r@example.com"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.resolvePendingFollowups(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.set(clock.Add(5 * time.Hour))
	got := mustPass(t, d)
	if len(got.Followups) != 1 || got.Followups[0].State != probe.StateUnknown || len(s.sent) != 1 {
		t.Errorf("follow-ups = %+v, sent %d; want the reminder unknown and not re-sent", got.Followups, len(s.sent))
	}
}
