package daemon

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

// providerSender stands in for a provider's SMTP submission: it accepts every inquiry
// and, when files is set, files the message in the mailbox's Sent folder itself, as
// Gmail and Microsoft 365 do, after delay.
type providerSender struct {
	imap  mailbox.Server
	files bool
	delay time.Duration
	t     *testing.T
}

func (s *providerSender) Send(ctx context.Context, in probe.Inquiry) (probe.SendResult, error) {
	raw, err := mailbox.Render(in)
	if err != nil {
		return probe.SendResult{}, err
	}
	if in.BeforeSend != nil {
		if err := in.BeforeSend(raw); err != nil {
			return probe.SendResult{}, err
		}
	}
	if in.BeforeDataEnd != nil {
		if err := in.BeforeDataEnd(); err != nil {
			return probe.SendResult{Attempts: 1}, err
		}
	}
	if s.files {
		go func() {
			time.Sleep(s.delay)
			c, err := mailbox.DialIMAP(context.Background(), s.imap)
			if err != nil {
				s.t.Errorf("provider: dial IMAP: %v", err)
				return
			}
			defer c.Close()
			cmd := c.Append("Sent", int64(len(raw)), nil)
			cmd.Write(raw)
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				s.t.Errorf("provider: APPEND to Sent: %v", err)
			}
		}()
	}
	return probe.SendResult{AcceptedAt: time.Now(), Raw: raw, Attempts: 1}, nil
}

// TestSendKeepsOneSentCopy: with provider: gmail (servers written out, pointing at a
// loopback mail world), a provider that files the submission in Sent a moment after the
// send gets no second copy from the daemon, and the probe records no skew; with the
// generic preset and a provider that files nothing, the daemon's own copy is the one copy
// and the skew is measured.
func TestSendKeepsOneSentCopy(t *testing.T) {
	lin := mailworld.User{Address: "lin.wei@example.com", Password: "lin-secret"}
	w := mailworldtest.Memory(t, lin)
	host, port, _ := net.SplitHostPort(w.IMAPAddr())
	portNum, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	// The memory world has a Sent folder (with no \Sent mark: the name is the fallback).
	imapSrv := mailbox.Server{Host: host, Port: portNum, Security: "none", Username: lin.Address, Password: lin.Password, Timeout: 5 * time.Second}
	t.Setenv("SP_TEST_IMAP_PASSWORD", lin.Password)
	tests := []struct {
		name, provider string
		files          bool
		wantSkew       bool
	}{
		{"gmail files its own copy", "gmail", true, false},
		{"generic, nothing filed", "generic", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgText := strings.ReplaceAll(probingConfig, "STATE", filepath.Join(t.TempDir(), "state"))
			cfgText = strings.Replace(cfgText, "  plus_addressing: true\n", "  plus_addressing: true\n  provider: "+tt.provider+"\n", 1)
			cfgText = strings.Replace(cfgText, "  smtp: {host: 127.0.0.1, port: 2525, security: none}",
				"  smtp: {host: 127.0.0.1, port: 2525, security: none, auth: password}", 1)
			cfgText = strings.Replace(cfgText, "port: 1143, security: none, username: lin.wei@example.com, password_env: SP_UNUSED, append_sent: false}",
				"port: "+port+", security: none, auth: password, username: lin.wei@example.com, password_env: SP_TEST_IMAP_PASSWORD, timeout: 5s}", 1)
			cfg, err := configs.Parse([]byte(cfgText), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Mail.IMAP.ProviderFilesSent != tt.files || !cfg.Mail.IMAP.AppendSent || !cfg.Mail.IMAP.DiscoverSent {
				t.Fatalf("config: ProviderFilesSent %v, AppendSent %v, DiscoverSent %v", cfg.Mail.IMAP.ProviderFilesSent, cfg.Mail.IMAP.AppendSent, cfg.Mail.IMAP.DiscoverSent)
			}
			s := &providerSender{imap: imapSrv, files: tt.files, delay: 800 * time.Millisecond, t: t}
			d, err := New(cfg, Options{Sender: s, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en", ScheduledAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			if p.State != probe.StateSent || p.SkewMeasured != tt.wantSkew {
				t.Errorf("probe: state %s, skew measured %v; want sent, measured %v", p.State, p.SkewMeasured, tt.wantSkew)
			}
			time.Sleep(s.delay + 200*time.Millisecond) // a provider copy arriving late would show now
			if n := countSent(t, imapSrv, strings.Trim(p.MessageID, "<>")); n != 1 {
				t.Errorf("%d copies of %s in Sent, want exactly 1", n, p.MessageID)
			}
		})
	}
}

// countSent returns how many messages in Sent carry Message-ID id.
func countSent(t *testing.T, srv mailbox.Server, id string) int {
	t.Helper()
	c, err := mailbox.DialIMAP(context.Background(), srv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Select("Sent", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("EXAMINE Sent: %v", err)
	}
	var all imap.SeqSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("FETCH 1:* in Sent: %v", err)
	}
	n := 0
	for _, m := range msgs {
		if m.Envelope != nil && m.Envelope.MessageID == id {
			n++
		}
	}
	return n
}
