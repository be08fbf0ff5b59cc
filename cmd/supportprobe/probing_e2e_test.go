package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/daemon"
)

var (
	linUser     = mailworld.User{Address: "lin.wei@example.com", Password: "lin-pw"}
	supportUser = mailworld.User{Address: "support@acme.example", Password: "support-pw"}
)

// worldConfig is a configuration that probes acme-cloud every minute through w.
const worldConfig = `state_dir: %[1]s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, username: lin.wei@example.com, password_file: %[4]s}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, username: lin.wei@example.com, password_file: %[4]s, sent_folder: Sent}
scripts:
  - {id: outage-zh, language: zh, priority: P1, subject: "紧急：{{.Region}} 推流失败", body: "您好，\n从 {{.LocalTime.Format \"15:04\"}} 起 {{.Region}} 无法推流。\n", vars: {Region: 华东}}
vendors:
  - name: acme-cloud
    to: ["Acme Support <support@acme.example>"]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "* * * * *", scripts: [outage-zh]}
`

func mustWorldConfig(t *testing.T, w mailworld.World) (cfgPath, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "state")
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(linUser.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, smtpPort, _ := net.SplitHostPort(w.SMTPAddr())
	_, imapPort, _ := net.SplitHostPort(w.IMAPAddr())
	cfgPath = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, worldConfig, stateDir, smtpPort, imapPort, pw), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, stateDir
}

// startDaemon runs `supportprobe run` in-process until the test ends.
func startDaemon(t *testing.T, cfgPath, stateDir string, args ...string) {
	t.Helper()
	startDaemonStoppable(t, cfgPath, stateDir, args...)
}

// startDaemonStoppable runs `supportprobe run` in-process and returns a function that
// stops it and waits for it to exit; the test's end stops it too.
func startDaemonStoppable(t *testing.T, cfgPath, stateDir string, args ...string) (stop func()) {
	t.Helper()
	return startDaemonWith(t, cfgPath, stateDir, nil, args...)
}

// startDaemonWith is startDaemonStoppable with the daemon's environment adjusted by tune
// (nil for none) before it starts: follow-ups are looked for every 200 ms unless tune
// says otherwise.
func startDaemonWith(t *testing.T, cfgPath, stateDir string, tune func(*env), args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logs syncBuffer
	e := &env{stdout: &syncBuffer{}, stderr: &logs, now: time.Now, getenv: os.Getenv, followupInterval: 200 * time.Millisecond}
	if tune != nil {
		tune(e)
	}
	go func() {
		done <- e.run(ctx, append([]string{"run", "--config", cfgPath}, args...))
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != exitOK || t.Failed() {
				t.Logf("run exited %d; its log:\n%s", code, logs.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not stop within 30 s")
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := daemon.Dial(context.Background(), stateDir)
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the daemon's logger and the test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// delivered is one message in a mailbox, as fetched.
type delivered struct {
	internalDate time.Time
	header       mail.Header
	body         string
}

// waitForMail polls u's INBOX until it holds n messages or the timeout passes.
func waitForMail(t *testing.T, w mailworld.World, u mailworld.User, n int, timeout time.Duration) []delivered {
	t.Helper()
	host, port, _ := net.SplitHostPort(w.IMAPAddr())
	var p int
	fmt.Sscan(port, &p)
	srv := mailbox.Server{Host: host, Port: p, Security: mailbox.SecurityNone, Username: u.Address, Password: u.Password, Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		c, err := mailbox.DialIMAP(context.Background(), srv)
		if err != nil {
			t.Fatal(err)
		}
		var out []delivered
		sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		var msgs []*imapclient.FetchMessageBuffer
		if sel.NumMessages > 0 {
			msgs, err = c.Fetch(imap.SeqSetNum(seqRange(sel.NumMessages)...), &imap.FetchOptions{
				InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
			}).Collect()
			if err != nil {
				t.Fatalf("fetch %s's INBOX: %v", u.Address, err)
			}
		}
		c.Logout().Wait()
		c.Close()
		for _, m := range msgs {
			var raw []byte
			for _, b := range m.BodySection {
				raw = b.Bytes
			}
			r, err := mail.CreateReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("parse delivered message: %v", err)
			}
			d := delivered{internalDate: m.InternalDate, header: r.Header}
			if p, err := r.NextPart(); err == nil {
				var b bytes.Buffer
				b.ReadFrom(p.Body)
				d.body = b.String()
			}
			out = append(out, d)
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d messages after %v, want %d", u.Address, len(out), timeout, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func seqRange(n uint32) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i + 1)
	}
	return out
}

// TestProbingEndToEnd runs the real daemon against each mail world: a send by hand goes
// through the daemon's socket, the every-minute schedule fires, and the vendor's mailbox
// receives both inquiries with headers a person's mail would have; history shows them
// sent, with sent_at within a second of delivery and the clock skew measured.
func TestProbingEndToEnd(t *testing.T) {
	run := func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		startDaemon(t, cfgPath, stateDir)

		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK || !strings.HasPrefix(stdout, "P") {
			t.Fatalf("send: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		// The schedule fires at the next minute boundary.
		msgs := waitForMail(t, w, supportUser, 2, 75*time.Second)

		var hist []struct {
			ID               string     `json:"id"`
			Status           string     `json:"status"`
			SentAt           *time.Time `json:"sent_at"`
			ScheduledAt      *time.Time `json:"scheduled_at"`
			MessageID        string     `json:"message_id"`
			Token            string     `json:"token"`
			ClockSkewSeconds *float64   `json:"clock_skew_seconds"`
			Language         string     `json:"language"`
		}
		// The sent copy is filed after the vendor has the mail: wait for both skews.
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			code, stdout, stderr = invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
			if code != exitOK {
				t.Fatalf("history: exit %d, %s", code, stderr)
			}
			if err := json.Unmarshal([]byte(stdout), &hist); err != nil {
				t.Fatal(err)
			}
			if len(hist) >= 2 && hist[0].ClockSkewSeconds != nil && hist[1].ClockSkewSeconds != nil || time.Now().After(deadline) {
				break
			}
		}
		if len(hist) < 2 {
			t.Fatalf("history holds %d probes, want 2:\n%s", len(hist), stdout)
		}
		if hist[0].ScheduledAt != nil {
			t.Errorf("%s sent by hand has scheduled_at %v, want null", hist[0].ID, hist[0].ScheduledAt)
		}
		if s := hist[1].ScheduledAt; s == nil || s.Second() != 0 || s.Nanosecond() != 0 {
			t.Errorf("%s fired by cron has scheduled_at %v, want a minute boundary", hist[1].ID, s)
		}
		byMessageID := map[string]delivered{}
		for _, m := range msgs {
			id, _ := m.header.MessageID()
			byMessageID[id] = m
		}
		for _, p := range hist[:2] {
			if p.Status != "sent" || p.SentAt == nil || p.ClockSkewSeconds == nil || p.Language != "zh" {
				t.Errorf("%s: status %s, sent_at %v, skew %v, language %s; want sent, skew measured, zh", p.ID, p.Status, p.SentAt, p.ClockSkewSeconds, p.Language)
				continue
			}
			m, ok := byMessageID[p.MessageID]
			if !ok {
				t.Errorf("%s: Message-ID %s not in the vendor's mailbox", p.ID, p.MessageID)
				continue
			}
			// INTERNALDATE has 1 s resolution and truncates.
			if d := m.internalDate.Sub(*p.SentAt); d < -time.Second || d > time.Second {
				t.Errorf("%s: sent_at %v is %v from delivery (INTERNALDATE %v), want within 1 s", p.ID, p.SentAt, d, m.internalDate)
			}
			checkHumanHeaders(t, p.ID, p.Token, m)
		}
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Memory(t, linUser, supportUser))
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Real(t, linUser, supportUser))
	})
}

// checkHumanHeaders checks that an inquiry looks like a person's mail.
func checkHumanHeaders(t *testing.T, id, token string, m delivered) {
	t.Helper()
	for _, h := range []string{"Auto-Submitted", "Precedence", "X-Auto-Response-Suppress", "X-Mailer", "User-Agent",
		"List-Id", "List-Unsubscribe", "List-Post"} {
		if m.header.Has(h) {
			t.Errorf("%s: inquiry carries %s: %q", id, h, m.header.Get(h))
		}
	}
	fields := m.header.Fields()
	for fields.Next() {
		if strings.HasPrefix(strings.ToLower(fields.Key()), "list-") {
			t.Errorf("%s: inquiry carries %s", id, fields.Key())
		}
	}
	if subj, err := m.header.Subject(); err != nil || subj != "紧急：华东 推流失败" {
		t.Errorf("%s: Subject = %q, %v; want the Chinese subject intact", id, subj, err)
	}
	if from, _ := m.header.AddressList("From"); len(from) != 1 || from[0].Address != "lin.wei@example.com" || from[0].Name != "Lin Wei" {
		t.Errorf("%s: From = %v, want Lin Wei", id, from)
	}
	if rt, _ := m.header.AddressList("Reply-To"); len(rt) != 1 || rt[0].Address != "lin.wei+"+token+"@example.com" {
		t.Errorf("%s: Reply-To = %v, want the plus-address with token %s", id, rt, token)
	}
	if d, err := m.header.Date(); err != nil || time.Since(d) > 5*time.Minute {
		t.Errorf("%s: Date = %v, %v; want a normal, current Date", id, d, err)
	}
	if !strings.Contains(m.body, "Ref: "+token) || !strings.Contains(m.body, "华东 无法推流") {
		t.Errorf("%s: body lacks the rendered text or the reference code:\n%s", id, m.body)
	}
	// The Message-ID is shaped like Thunderbird's (a version-4 UUID at the sender's
	// domain) and names neither the probe nor its token.
	mid := strings.ToLower(m.header.Get("Message-Id"))
	if !clientMessageID.MatchString(mid) || strings.Contains(mid, strings.ToLower(id)+".") || strings.Contains(mid, strings.ToLower(token)) {
		t.Errorf("%s: Message-ID %q gives the probe away; want <uuid@example.com>", id, mid)
	}
	// Headers a mail client writes are there, and nothing a client does not write.
	for _, h := range []string{"Date", "From", "To", "Subject", "Message-Id", "Mime-Version", "Content-Type"} {
		if !m.header.Has(h) {
			t.Errorf("%s: inquiry lacks %s, which every mail client writes", id, h)
		}
	}
}

// clientMessageID is a Message-ID as Thunderbird writes it.
var clientMessageID = regexp.MustCompile(`^<[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@example\.com>$`)
