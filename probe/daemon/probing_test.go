package daemon

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
)

const probingConfig = `state_dir: STATE
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none, username: lin.wei@example.com, password_env: SP_UNUSED, append_sent: false}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
  - {id: invoice-zh, language: zh, priority: P3, subject: "关于发票的问题", body: "您好"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h}}
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en, invoice-zh]}
`

// fakeSender accepts or refuses every inquiry and remembers them. Like a real Sender it
// calls the inquiry's BeforeSend and, for an inquiry it accepts, BeforeDataEnd.
type fakeSender struct {
	mu   sync.Mutex
	err  error
	sent []probe.Inquiry
	at   time.Time
}

func (f *fakeSender) Send(_ context.Context, in probe.Inquiry) (probe.SendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw := []byte("Subject: " + in.Subject + "\r\n\r\n" + in.Body)
	if in.BeforeSend != nil {
		if err := in.BeforeSend(raw); err != nil {
			return probe.SendResult{}, err
		}
	}
	if f.err != nil {
		return probe.SendResult{Attempts: 1}, f.err
	}
	if in.BeforeDataEnd != nil {
		if err := in.BeforeDataEnd(); err != nil {
			return probe.SendResult{Attempts: 1}, err
		}
	}
	f.sent = append(f.sent, in)
	return probe.SendResult{AcceptedAt: f.at, Raw: raw, Attempts: 1}, nil
}

// fakeSentFolder measures a fixed skew and knows a fixed set of Message-IDs.
type fakeSentFolder struct {
	skew  time.Duration
	known map[string]time.Time
	err   error
}

func (f *fakeSentFolder) AppendSent(context.Context, []byte) (time.Duration, error) {
	return f.skew, f.err
}

func (f *fakeSentFolder) FindSent(_ context.Context, id string) (time.Time, bool, error) {
	t, ok := f.known[id]
	return t, ok, f.err
}

// quiet keeps the daemon's logs out of test output.
var quiet = slog.New(slog.DiscardHandler)

var clock = time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC)

func mustProbingDaemon(t *testing.T, s probe.Sender, sf probe.SentFolder) *Daemon {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(probingConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: s, SentFolder: sf, Now: func() time.Time { return clock }, Logger: quiet})
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

func TestSendRecordsSentProbe(t *testing.T) {
	s := &fakeSender{at: clock.Add(300 * time.Millisecond)}
	d := mustProbingDaemon(t, s, &fakeSentFolder{skew: 2 * time.Second})
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en", ScheduledAt: clock})
	if err != nil {
		t.Fatal(err)
	}
	if p.State != probe.StateSent || !p.SentAt.Equal(s.at) || !p.ScheduledAt.Equal(clock) {
		t.Errorf("probe = state %s, sent_at %v, scheduled_at %v; want sent at %v, scheduled %v", p.State, p.SentAt, p.ScheduledAt, s.at, clock)
	}
	if !p.SkewMeasured || p.ClockSkew != 2*time.Second {
		t.Errorf("skew = %v (measured %v), want 2s", p.ClockSkew, p.SkewMeasured)
	}
	if p.Terms.SLA == nil || p.Terms.SLA.FirstResponse != time.Hour || p.Terms.Hours.Zone != "America/Los_Angeles" {
		t.Errorf("terms = %+v, want the vendor's P1 target and zone", p.Terms)
	}
	if !probe.IsOurMessageID(d.key, p.MessageID, p.ID) {
		t.Errorf("MessageID %q does not verify with the database key", p.MessageID)
	}
	if in := s.sent[0]; in.ReplyTo != `"Lin Wei" <lin.wei+`+p.Token+`@example.com>` || in.MessageID != p.MessageID {
		t.Errorf("inquiry Reply-To %q, Message-ID %q; want the probe's token and ID", in.ReplyTo, in.MessageID)
	}
	raw, err := d.DB().InquiryRaw(p.ID)
	if err != nil || !strings.Contains(string(raw.Data), "Streams failing") {
		t.Errorf("InquiryRaw = %q, %v", raw.Data, err)
	}
	if ps, _ := d.DB().PendingProbes(); len(ps) != 0 {
		t.Errorf("pending after send = %d, want 0", len(ps))
	}
}

func TestSendFailureIsRecorded(t *testing.T) {
	refused := errors.New("smtp 127.0.0.1:2525: RCPT TO <support@acme.example>: 550 5.1.1 mailbox unavailable (permanent, 1 attempt)")
	d := mustProbingDaemon(t, &fakeSender{err: refused}, nil)
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud"})
	if !errors.Is(err, refused) {
		t.Fatalf("Send() = %v, want the sender's error", err)
	}
	got, _ := d.DB().Probe(p.ID)
	if got.State != probe.StateFailed || !strings.Contains(got.FailReason, "550 5.1.1") {
		t.Errorf("stored probe = %s %q, want failed with the server's text", got.State, got.FailReason)
	}
	m, _ := probe.Measure(got, clock.Add(30*24*time.Hour))
	if m.Status != probe.StatusFailed || m.ResponseLatency != nil {
		t.Errorf("a failed probe measures as %s with latency %v; it must never count as vendor latency", m.Status, m.ResponseLatency)
	}
}

func TestSendRotatesScripts(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{at: clock}, nil)
	var got []string
	for range 4 {
		p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud"})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Script)
	}
	if strings.Join(got, ",") != "outage-en,invoice-zh,outage-en,invoice-zh" {
		t.Errorf("scripts sent = %v, want a rotation through the schedule's list", got)
	}
}

func TestSendUnknownVendor(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{}, nil)
	if _, err := d.Send(context.Background(), SendRequest{Vendor: "nope"}); !errors.Is(err, ErrUnknownVendor) {
		t.Errorf("Send(unknown vendor) = %v, want ErrUnknownVendor", err)
	}
}

func TestResolvePending(t *testing.T) {
	copyAt := clock.Add(-time.Minute)
	sf := &fakeSentFolder{known: map[string]time.Time{"found@example.com": copyAt}}
	d := mustProbingDaemon(t, &fakeSender{}, sf)
	mk := func(msgID string) string {
		p, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", State: probe.StateSending, MessageID: msgID})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	found, missing, early := mk("found@example.com"), mk("missing@example.com"), mk("")
	if err := d.resolvePending(context.Background()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id    string
		state probe.State
	}{{found, probe.StateSent}, {missing, probe.StateUnknown}, {early, probe.StateFailed}}
	for _, tt := range tests {
		p, _ := d.DB().Probe(tt.id)
		if p.State != tt.state {
			t.Errorf("probe %s (%q) resolved to %s, want %s", tt.id, p.MessageID, p.State, tt.state)
		}
	}
	if p, _ := d.DB().Probe(found); !p.SentAt.Equal(copyAt) {
		t.Errorf("found probe sent_at = %v, want the copy's INTERNALDATE %v", p.SentAt, copyAt)
	}
	if ps, _ := d.DB().PendingProbes(); len(ps) != 0 {
		t.Errorf("still pending: %d", len(ps))
	}
}

func TestResolvePendingKeepsProbeWhenFolderUnreachable(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{}, &fakeSentFolder{err: errors.New("imap down")})
	p, _ := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", State: probe.StateSending, MessageID: "x@example.com"})
	if err := d.resolvePending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.DB().Probe(p.ID); got.State != probe.StateSending {
		t.Errorf("state = %s, want still sending (checked again at next start)", got.State)
	}
}
