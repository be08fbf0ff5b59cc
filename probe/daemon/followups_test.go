package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/schedule"
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
	return mustFollowupDaemonIn(t, dir, strings.ReplaceAll(followupConfig, "LIMITS", limits), s, sf, c)
}

// mustFollowupDaemonIn opens a daemon on state directory dir with the configuration
// text (STATE stands for dir), and checks and closes its database at the end of the
// test. Close it earlier to open another daemon on dir.
func mustFollowupDaemonIn(t *testing.T, dir, text string, s probe.Sender, sf probe.SentFolder, c *testClock) *Daemon {
	t.Helper()
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(text, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: s, SentFolder: sf, Now: c.now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.DB().Check(); err != nil && !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
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

// mustAddReply records a reply of kind to p, received at at, as the watcher would.
func mustAddReply(t *testing.T, d *Daemon, p probe.Probe, kind probe.Kind, at time.Time, msgID string) {
	t.Helper()
	raw := "From: Dana <dana@acme.example>\r\nSubject: Re: Streams failing\r\nMessage-ID: <" + msgID + ">\r\nIn-Reply-To: <" +
		p.MessageID + ">\r\n\r\nLooking into it.\r\n"
	if _, err := d.DB().AddReply(probe.Reply{ProbeID: p.ID, MessageID: msgID, ReceivedAt: at, DetectedAt: at,
		From: "Dana <dana@acme.example>", Subject: "Re: Streams failing", Kind: kind}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// TestFollowupNoReminderAfterAnswer: the vendor answered at +5 h, after the reminder's
// time (+4 h), and the first look after that is at +6 h (the daemon was down): the
// vendor answered, so no reminder goes out, then or later.
func TestFollowupNoReminderAfterAnswer(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "", s, nil, c)
	p := mustSendProbe(t, d)
	mustAddReply(t, d, p, probe.KindHuman, clock.Add(5*time.Hour), "agent-1@acme.example")
	for _, at := range []time.Duration{6 * time.Hour, 7 * time.Hour} {
		c.set(clock.Add(at))
		s.at = c.now()
		got := mustPass(t, d)
		for _, f := range got.Followups {
			if f.Kind == probe.FollowupReminder {
				t.Fatalf("at +%s: reminder %+v recorded after the vendor answered at +5h", at, f)
			}
		}
	}
	for _, in := range s.sent[1:] {
		if strings.Contains(in.Body, "Any news?") {
			t.Errorf("reminder sent after the vendor answered: %q", in.Body)
		}
	}
}

// replyingLimiter records a reply when the follow-up pass checks the vendor's limits:
// after the pass decided a reminder is due, before it records the send.
type replyingLimiter struct {
	schedule.Limiter
	calls int
	reply func()
}

func (l *replyingLimiter) Allow(ctx context.Context, vendor string, now time.Time) (bool, string, error) {
	l.calls++
	l.reply()
	return l.Limiter.Allow(ctx, vendor, now)
}

// TestFollowupReplyBetweenDecisionAndSend: a person's answer recorded after the pass
// decided the reminder was due and before it recorded the send stops the reminder: the
// decision is taken again inside the transaction that records it. A reply waiting for
// review stops it too (it may be a person's).
func TestFollowupReplyBetweenDecisionAndSend(t *testing.T) {
	for _, kind := range []probe.Kind{probe.KindHuman, probe.KindNeedsReview} {
		t.Run(string(kind), func(t *testing.T) {
			c := &testClock{t: clock}
			s := &fakeSender{at: clock}
			d := mustFollowupDaemon(t, "", s, nil, c)
			p := mustSendProbe(t, d)
			c.set(clock.Add(4*time.Hour + time.Minute))
			s.at = c.now()
			lim := &replyingLimiter{Limiter: d.followupLimiter(), reply: func() {
				mustAddReply(t, d, p, kind, clock.Add(4*time.Hour), "agent-1@acme.example")
			}}
			if err := d.followupPass(context.Background(), lim); err != nil {
				t.Fatal(err)
			}
			if lim.calls != 1 {
				t.Fatalf("limits checked %d times, want once (the reminder was decided due)", lim.calls)
			}
			got, err := d.DB().Probe(p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Followups) != 0 || len(s.sent) != 1 {
				t.Errorf("follow-ups %+v, sent %d; want no reminder recorded and only the inquiry sent", got.Followups, len(s.sent))
			}
		})
	}
}

// fakeInbox stands in for the inbox watcher: SyncNow runs sync (the mail the watcher
// would read) and records a complete sync, unless the inbox is stuck.
type fakeInbox struct {
	clock *testClock
	mu    sync.Mutex
	st    mailbox.WatchState
	stuck bool
	syncs int
	sync  func()
}

func (f *fakeInbox) State() mailbox.WatchState { f.mu.Lock(); defer f.mu.Unlock(); return f.st }

func (f *fakeInbox) SyncNow() {
	f.mu.Lock()
	f.syncs++
	stuck, sync := f.stuck, f.sync
	f.sync = nil
	f.mu.Unlock()
	if stuck {
		return
	}
	started := f.clock.now()
	if sync != nil {
		sync()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.LastSyncStarted, f.st.LastSync = started, f.clock.now()
}

// TestFollowupReminderWaitsForInbox: before a reminder the pass has the watcher read the
// mail that arrived before it decided; an answer found that way stops the reminder, and
// a watcher that cannot catch up defers it instead of letting it go out blind.
func TestFollowupReminderWaitsForInbox(t *testing.T) {
	t.Run("answer waiting in the inbox", func(t *testing.T) {
		c := &testClock{t: clock}
		s := &fakeSender{at: clock}
		d := mustFollowupDaemon(t, "", s, nil, c)
		in := &fakeInbox{clock: c, st: mailbox.WatchState{LastSyncStarted: clock, LastSync: clock}}
		d.inboxOverride = in
		p := mustSendProbe(t, d)
		in.sync = func() {
			mustAddReply(t, d, p, probe.KindHuman, clock.Add(4*time.Hour-time.Second), "agent-1@acme.example")
		}
		c.set(clock.Add(4 * time.Hour))
		s.at = c.now()
		got := mustPass(t, d)
		if in.syncs != 1 || len(got.Followups) != 0 || len(s.sent) != 1 {
			t.Errorf("syncs %d, follow-ups %+v, sent %d; want one sync, which found the answer, and no reminder", in.syncs, got.Followups, len(s.sent))
		}
	})
	t.Run("watcher behind", func(t *testing.T) {
		c := &testClock{t: clock}
		s := &fakeSender{at: clock}
		d := mustFollowupDaemon(t, "", s, nil, c)
		d.inboxWait = 50 * time.Millisecond
		in := &fakeInbox{clock: c, st: mailbox.WatchState{LastSyncStarted: clock, LastSync: clock}, stuck: true}
		d.inboxOverride = in
		p := mustSendProbe(t, d)
		c.set(clock.Add(4 * time.Hour))
		s.at = c.now()
		next, err := d.followupRound(context.Background(), d.followupLimiter())
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.DB().Probe(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Followups) != 0 || len(s.sent) != 1 {
			t.Fatalf("follow-ups %+v, sent %d; want the reminder deferred, nothing recorded or sent", got.Followups, len(s.sent))
		}
		if want := c.now().Add(reminderRetry); !next.Equal(want) {
			t.Errorf("next look at %s, want %s (the deferred reminder's retry)", next, want)
		}
		// The watcher catches up on its own (no new mail): the reminder goes out at the
		// retry without another sync being asked for.
		c.set(clock.Add(4*time.Hour + reminderRetry))
		s.at = c.now()
		in.mu.Lock()
		in.stuck, in.st.LastSyncStarted = false, c.now()
		asked := in.syncs
		in.mu.Unlock()
		got = mustPass(t, d)
		if len(got.Followups) != 1 || got.Followups[0].State != probe.StateSent || len(s.sent) != 2 || in.syncs != asked {
			t.Errorf("follow-ups %+v, sent %d, syncs asked %d; want the reminder sent without asking for a sync", got.Followups, len(s.sent), in.syncs-asked)
		}
	})
}

// TestFollowupStoredTermsSurviveConfigChange: a probe's follow-ups are the ones its
// script had when it was created. The configuration then changes (the reminder comes
// sooner, with another text, and the after_response follow-up is gone): the probe still
// gets its own reminder, at +4 h, with its own text. A probe stored without follow-up
// terms (created before they were stored) follows the current configuration.
func TestFollowupStoredTermsSurviveConfigChange(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	before := strings.ReplaceAll(followupConfig, "LIMITS", "")
	d := mustFollowupDaemonIn(t, dir, before, s, nil, c)
	p := mustSendProbe(t, d)
	if st := p.Terms.Script; st == nil || len(st.Followups) != 2 || st.Followups[1].Body != "Any news?" {
		t.Fatalf("stored script terms = %+v, want both follow-ups", p.Terms.Script)
	}
	old := mustSendProbe(t, d)
	if _, err := d.DB().UpdateProbe(old.ID, func(p *probe.Probe) error { p.Terms.Script = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := d.DB().Check(); err != nil {
		t.Fatal(err)
	}
	d.Close()

	after := strings.Replace(before, `    followups:
      - {after_response: 10m, body: "That did not help."}
      - {if_unanswered: 4h, body: "Any news?"}`, `    followups:
      - {if_unanswered: 1h, body: "Changed text."}`, 1)
	if after == before {
		t.Fatal("test configuration changed: cannot edit its follow-ups")
	}
	d = mustFollowupDaemonIn(t, dir, after, s, nil, c)
	pass := func(at time.Duration) {
		t.Helper()
		c.set(clock.Add(at))
		s.at = c.now()
		mustPass(t, d)
	}
	stored := func(id string) probe.Probe {
		t.Helper()
		p, err := d.DB().Probe(id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	pass(time.Hour)
	if got := stored(p.ID); len(got.Followups) != 0 {
		t.Errorf("at +1h: follow-ups %+v; want none (its reminder is at +4h, as stored)", got.Followups)
	}
	if got := stored(old.ID); len(got.Followups) != 1 || got.Followups[0].Index != 0 || got.Followups[0].State != probe.StateSent {
		t.Errorf("at +1h: old probe's follow-ups %+v; want the current configuration's reminder sent", got.Followups)
	}
	if len(s.sent) != 3 || !strings.Contains(s.sent[2].Body, "Changed text.") {
		t.Fatalf("sent %d mails; want the two inquiries and the old probe's reminder with the configuration's text", len(s.sent))
	}

	pass(4 * time.Hour)
	got := stored(p.ID)
	if len(got.Followups) != 1 || got.Followups[0].Index != 1 || got.Followups[0].Kind != probe.FollowupReminder || got.Followups[0].State != probe.StateSent {
		t.Fatalf("at +4h: follow-ups %+v; want the stored reminder (index 1) sent", got.Followups)
	}
	if len(s.sent) != 4 {
		t.Fatalf("sent %d mails, want 4", len(s.sent))
	}
	if body := s.sent[3].Body; !strings.Contains(body, "Any news?") || strings.Contains(body, "Changed text.") {
		t.Errorf("reminder body %q; want the stored text, not the configuration's", body)
	}
	if got := stored(old.ID); len(got.Followups) != 1 {
		t.Errorf("old probe's follow-ups %+v; want only the one its current script has", got.Followups)
	}
}

// TestFollowupSafetyNetSkipsIdlePasses: the follow-up loop's safety-net passes read the
// probes only when a pass can find something new: after a record was written, or once
// a follow-up it knew of has fallen due. While nothing changes, however often the
// safety net fires, no pass reads the probes after the first.
func TestFollowupSafetyNetSkipsIdlePasses(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "", s, nil, c)
	p := mustSendProbe(t, d)
	select { // the send's wake-up, which would add a pass
	case <-d.followupWake.c():
	default:
	}
	const grid = 20 * time.Millisecond // the fake clock stands still: the net fires every 20 ms
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.runFollowups(ctx, grid, nil) }()
	t.Cleanup(func() { cancel(); <-done })
	waitScans := func(want uint64, why string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for d.followupScans.Load() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d passes read the probes, want %d", why, d.followupScans.Load(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(15 * grid) // the safety net fires again and again meanwhile
		if got := d.followupScans.Load(); got != want {
			t.Fatalf("%s: %d passes read the probes, want %d (the safety net read them though nothing changed)", why, got, want)
		}
	}
	waitScans(1, "idle after the first pass")

	// A write (of any probe or reply record) makes the next pass read them again, once.
	if _, err := d.db.UpdateProbe(p.ID, func(*probe.Probe) error { return nil }); err != nil {
		t.Fatal(err)
	}
	waitScans(2, "after a write")

	// The reminder falls due (+4 h): its own timer reads them, and it goes out.
	c.set(clock.Add(4*time.Hour + time.Second))
	s.mu.Lock()
	s.at = c.now()
	s.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := d.db.Probe(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Followups) == 1 && got.Followups[0].State == probe.StateSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reminder not sent within 5 s of falling due: follow-ups %+v, %d passes", got.Followups, d.followupScans.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInquiryTextIncludesFollowups checks that the text handed to the classifier as
// "ours" holds the reminder as sent beside the inquiry, so a help desk's notice that
// pastes our reminder unquoted does not have it counted as the desk's words.
func TestInquiryTextIncludesFollowups(t *testing.T) {
	c := &testClock{t: clock}
	s := &fakeSender{at: clock}
	d := mustFollowupDaemon(t, "", s, nil, c)
	p := mustSendProbe(t, d)
	c.set(clock.Add(4 * time.Hour))
	s.at = c.now()
	got := mustPass(t, d)
	if len(got.Followups) != 1 || got.Followups[0].State != probe.StateSent {
		t.Fatalf("follow-ups = %+v, want one sent", got.Followups)
	}
	inquiry, reminder := s.sent[0].Body, s.sent[len(s.sent)-1].Body
	text := d.inquiryText(p.ID, []int{got.Followups[0].Index})
	for _, want := range []string{firstLine(inquiry), firstLine(reminder)} {
		if !strings.Contains(text, want) {
			t.Errorf("inquiryText lacks %q:\n%s", want, text)
		}
	}
	if only := d.inquiryText(p.ID, nil); strings.Contains(only, firstLine(reminder)) && !strings.Contains(inquiry, firstLine(reminder)) {
		t.Errorf("inquiryText without follow-ups holds the reminder:\n%s", only)
	}
	// A follow-up whose copy is missing costs only its own recognition.
	if text := d.inquiryText(p.ID, []int{7}); !strings.Contains(text, firstLine(inquiry)) {
		t.Errorf("inquiryText with a missing follow-up copy lost the inquiry:\n%s", text)
	}
}

// firstLine returns the first non-blank line of s, trimmed.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
