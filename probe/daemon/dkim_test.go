package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/probe"
	"supportprobe/probe/view"
)

// TestReplyDKIM records signed replies through the daemon's handler, with the keys
// served by a DNS server on loopback (Options.DNSResolver), and checks what each reply
// carries: pass, fail after an alteration, none, a help desk's pass that is not the
// vendor's; and a temperror that the retry pass turns into a pass once DNS answers.
func TestReplyDKIM(t *testing.T) {
	srv, err := mailworld.StartDNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(pipelineConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: &fakeSender{at: clock}, Now: func() time.Time { return clock }, Logger: quiet,
		DNSResolver: srv.Addr, DKIMTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.DB().Check(); err != nil {
			t.Errorf("Check() = %v", err)
		}
		d.Close()
	})
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}

	sign := func(domain, selector, msg string) string {
		t.Helper()
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		srv.SetTXT(selector+"._domainkey."+domain, "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
		var b bytes.Buffer
		if err := dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{Domain: domain, Selector: selector, Signer: priv}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	reply := func(n string) string {
		return strings.ReplaceAll("From: Acme Support <support@acme.example>\n"+
			"To: lin.wei@example.com\nSubject: Re: Streams failing\nMessage-ID: <r"+n+"@acme.example>\n"+
			"In-Reply-To: <"+p.MessageID+">\nDate: Sun, 29 Nov 2026 03:00:04 -0800\n"+
			"Content-Type: text/plain; charset=utf-8\n\nWe restarted the ingest nodes ("+n+").\n", "\n", "\r\n")
	}
	flaky := sign("acme.example", "flaky", reply("5"))
	srv.Fail("flaky._domainkey.acme.example")

	tests := []struct {
		name, raw string
		want      probe.DKIMResult
		aligned   bool
		summary   string
	}{
		{"pass", sign("acme.example", "k1", reply("1")), probe.DKIMPass, true, "DKIM pass, d=acme.example"},
		{"body altered in transit", strings.Replace(sign("acme.example", "k2", reply("2")), "restarted", "rebooted", 1),
			probe.DKIMFail, true, "DKIM fail, d=acme.example: "},
		{"unsigned", reply("3"), probe.DKIMNone, false, "DKIM none (unsigned)"},
		{"third-party help desk", sign("desk.example", "hd", reply("4")), probe.DKIMPass, false,
			"DKIM pass, d=desk.example (not the vendor's domain)"},
		{"DNS failing", flaky, probe.DKIMTempError, true, "DKIM temperror, d=acme.example"},
	}
	ids := map[string]string{}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mailbox.Fetched{Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1), InternalDate: clock, DetectedAt: clock,
				Raw: []byte(tt.raw), Size: int64(len(tt.raw))}
			if err := d.handleMail(context.Background(), f); err != nil {
				t.Fatalf("handleMail = %v", err)
			}
			m, _ := mailbox.Parse(f.Raw, mailbox.ParseOptions{})
			id, _, _ := d.DB().Seen(m.MessageID)
			r, err := d.DB().Reply(id)
			if err != nil {
				t.Fatalf("reply of %s: %v", m.MessageID, err)
			}
			ids[tt.name] = r.ID
			if r.Auth == nil {
				t.Fatalf("reply %s has no DKIM check", r.ID)
			}
			if got := r.Auth.Result(); got != tt.want {
				t.Errorf("reply %s: Result() = %s, want %s (%+v)", r.ID, got, tt.want, r.Auth.Signatures)
			}
			if tt.want != probe.DKIMNone && r.Auth.Signatures[0].Aligned != tt.aligned {
				t.Errorf("reply %s: aligned = %v, want %v", r.ID, r.Auth.Signatures[0].Aligned, tt.aligned)
			}
			if s := r.Auth.Summary(); !strings.HasPrefix(s, tt.summary) {
				t.Errorf("reply %s: Summary() = %q, want it to start %q", r.ID, s, tt.summary)
			}
			if want := []string{"acme.example"}; strings.Join(r.Auth.VendorDomains, ",") != strings.Join(want, ",") {
				t.Errorf("reply %s: VendorDomains = %v, want %v (from the support address)", r.ID, r.Auth.VendorDomains, want)
			}
		})
	}

	// show carries it.
	got, err := d.DB().Probe(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rec, err := view.NewRecord(got, clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := view.WriteThread(&out, rec); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Authenticity: DKIM pass, d=acme.example", "Authenticity: DKIM none (unsigned)",
		"Authenticity: DKIM pass, d=desk.example (not the vendor's domain)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("show output lacks %q:\n%s", want, out.String())
		}
	}

	// history --json carries it too.
	var js bytes.Buffer
	if err := view.WriteJSON(&js, []view.Record{rec}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"dkim": "DKIM pass, d=acme.example"`, `"selector": "k1"`, `"aligned": true`, `"result": "fail"`} {
		if !strings.Contains(js.String(), want) {
			t.Errorf("history JSON lacks %s:\n%s", want, js.String())
		}
	}
	if n := srv.Asked("flaky._domainkey.acme.example"); n == 0 {
		t.Errorf("the failing key was never asked for")
	}

	// Still failing: the retry pass tries again and keeps the temperror.
	if n := d.retryDKIMOnce(context.Background()); n != 1 {
		t.Errorf("retryDKIMOnce() = %d, want 1 (the temperror)", n)
	}
	// DNS answers again: the next pass records the pass, as a second attempt.
	srv.Recover("flaky._domainkey.acme.example")
	if n := d.retryDKIMOnce(context.Background()); n != 1 {
		t.Errorf("retryDKIMOnce() = %d, want 1", n)
	}
	r, err := d.DB().Reply(ids["DNS failing"])
	if err != nil {
		t.Fatal(err)
	}
	if r.Auth.Result() != probe.DKIMPass || r.Auth.Attempts != 3 {
		t.Errorf("after the retries: %s, attempts %d; want pass after 3", r.Auth.Summary(), r.Auth.Attempts)
	}
	if n := d.retryDKIMOnce(context.Background()); n != 0 {
		t.Errorf("retryDKIMOnce() after the pass = %d, want 0", n)
	}
}

// countHandler counts the log records whose message is msg.
type countHandler struct {
	msg string
	n   *atomic.Int64
}

func (h countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.n.Add(1)
	}
	return nil
}
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countHandler) WithGroup(string) slog.Handler      { return h }

// TestDKIMRetryArming: the DKIM retry loop runs no pass while no reply awaits a retry,
// arms its timer when a check ends in a temperror, retries until the key answers, and
// then sleeps again.
func TestDKIMRetryArming(t *testing.T) {
	srv, err := mailworld.StartDNS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(pipelineConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var passes atomic.Int64
	d, err := New(cfg, Options{Sender: &fakeSender{at: clock}, Now: func() time.Time { return clock },
		Logger:      slog.New(countHandler{msg: "DKIM retry pass", n: &passes}),
		DNSResolver: srv.Addr, DKIMTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	const interval = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.retryDKIM(ctx, interval) }()
	t.Cleanup(func() { cancel(); <-done })

	// Nothing awaits a retry: eight intervals pass without a pass.
	time.Sleep(8 * interval)
	if n := passes.Load(); n != 0 {
		t.Fatalf("%d DKIM retry passes with no reply awaiting one, want 0: the timer is armed for nothing", n)
	}

	// A reply whose key lookup fails: its check wakes the loop, which retries it.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetTXT("flaky._domainkey.acme.example", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	srv.Fail("flaky._domainkey.acme.example")
	msg := strings.ReplaceAll("From: Acme Support <support@acme.example>\nTo: lin.wei@example.com\n"+
		"Subject: Re: Streams failing\nMessage-ID: <flaky@acme.example>\nIn-Reply-To: <"+p.MessageID+">\n"+
		"Date: Sun, 29 Nov 2026 03:00:04 -0800\nContent-Type: text/plain; charset=utf-8\n\nWe are on it.\n", "\n", "\r\n")
	var signed bytes.Buffer
	if err := dkim.Sign(&signed, strings.NewReader(msg), &dkim.SignOptions{Domain: "acme.example", Selector: "flaky", Signer: priv}); err != nil {
		t.Fatal(err)
	}
	f := mailbox.Fetched{Folder: "INBOX", UIDValidity: 1, UID: 1, InternalDate: clock, DetectedAt: clock,
		Raw: signed.Bytes(), Size: int64(signed.Len())}
	if err := d.handleMail(context.Background(), f); err != nil {
		t.Fatalf("handleMail = %v", err)
	}
	id, _, _ := d.DB().Seen("flaky@acme.example")
	attempts := func() (int, probe.DKIMResult) {
		r, err := d.DB().Reply(id)
		if err != nil || r.Auth == nil {
			t.Fatalf("reply %s: %v, auth %v", id, err, r.Auth)
		}
		return r.Auth.Attempts, r.Auth.Result()
	}
	if n, res := attempts(); n != 1 || res != probe.DKIMTempError {
		t.Fatalf("first check: attempt %d, %s; want 1, temperror", n, res)
	}
	waitFor(t, "a retry of the temperror", 5*time.Second, func() bool { n, _ := attempts(); return n >= 2 })

	// The key answers again: the next pass records the pass, then the loop sleeps.
	srv.Recover("flaky._domainkey.acme.example")
	waitFor(t, "the pass recorded", 5*time.Second, func() bool { _, res := attempts(); return res == probe.DKIMPass })
	time.Sleep(2 * interval) // the pass that recorded it ends
	after := passes.Load()
	time.Sleep(8 * interval)
	if n := passes.Load(); n != after {
		t.Errorf("%d DKIM retry passes after the last temperror was resolved, want none", n-after)
	}
}

// waitFor polls cond every 10 ms until it holds, failing the test after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
