package daemon

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"path/filepath"
	"strings"
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
