package main

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestDKIMEndToEnd: a probe goes out and the vendor's mail server answers four times
// through the mail world's SMTP server, DKIM-signing as a vendor's server would, with the
// keys published on a DNS server on loopback handed to `run` as its resolver. History
// JSON and show carry, per reply: pass for acme.example's signature, fail for a signed
// reply whose body changed after signing, none for an unsigned one, and pass but not the
// vendor's domain for a third-party help desk's signature. The keys come from a real DNS
// server (Debian's unbound) in the real world, from an in-process one in memory.
func TestDKIMEndToEnd(t *testing.T) {
	// The vendor's keys, published before the DNS server starts (unbound serves fixed
	// local data).
	type key struct {
		domain, selector string
		priv             ed25519.PrivateKey
	}
	keys := map[string]key{}
	records := map[string][]string{}
	for _, k := range []struct{ domain, selector string }{{"acme.example", "s2026"}, {"acme.example", "s2026b"}, {"desk.example", "hd1"}} {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[k.selector] = key{k.domain, k.selector, priv}
		records[k.selector+"._domainkey."+k.domain] = []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
	}
	run := func(t *testing.T, w mailworld.World, resolver string) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		startDaemonWith(t, cfgPath, stateDir, func(e *env) { e.dnsResolver = resolver }, "--no-schedules")
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("send: exit %d, %s", code, stderr)
		}
		id := strings.TrimSpace(stdout)
		p := waitHistory(t, cfgPath, id, "sent", func(p historyProbe) bool { return p.Status == "sent" })

		sign := func(selector, msg string) string {
			t.Helper()
			k := keys[selector]
			var b bytes.Buffer
			if err := dkim.Sign(&b, strings.NewReader(msg), &dkim.SignOptions{Domain: k.domain, Selector: k.selector, Signer: k.priv}); err != nil {
				t.Fatal(err)
			}
			return b.String()
		}
		reply := func(n string) string {
			return strings.ReplaceAll(fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: Streams failing
Message-ID: <dkim-%[1]s-%[2]s@acme.example>
In-Reply-To: <%[3]s>
References: <%[3]s>
Date: %[4]s
Content-Type: text/plain; charset=utf-8

Hi Lin, we moved your streams to a healthy ingest node (%[1]s).
`, n, p.Token, p.MessageID, time.Now().Format(time.RFC1123Z)), "\n", "\r\n")
		}
		send := func(msg string) {
			t.Helper()
			if err := smtp.SendMail(w.SMTPAddr(), nil, "dana@acme.example", []string{"lin.wei@example.com"}, []byte(msg)); err != nil {
				t.Fatalf("vendor send: %v", err)
			}
		}
		want := map[string]string{ // Message-ID part -> the dkim line history must show
			"pass": "DKIM pass, d=acme.example",
			"fail": "DKIM fail, d=acme.example: ",
			"none": "DKIM none (unsigned)",
			"desk": "DKIM pass, d=desk.example (not the vendor's domain)",
		}
		send(sign("s2026", reply("pass")))
		send(strings.Replace(sign("s2026b", reply("fail")), "healthy", "HEALTHY", 1))
		send(reply("none"))
		send(sign("hd1", reply("desk")))

		waitHistory(t, cfgPath, id, "four replies", func(p historyProbe) bool { return len(p.Replies) == 4 })
		// The check follows the recording: wait until all four carry one.
		var got map[string]string
		deadline := time.Now().Add(20 * time.Second)
		for {
			got = dkimLines(t, cfgPath, id)
			if len(got) == 4 || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		for k, w := range want {
			if !strings.HasPrefix(got[k], w) {
				t.Errorf("reply %s: dkim = %q, want it to start %q", k, got[k], w)
			}
		}
		code, stdout, stderr = invoke(t, time.Now(), "show", "--config", cfgPath, id)
		if code != exitOK {
			t.Fatalf("show: exit %d, %s", code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stdout, "Authenticity: "+w) {
				t.Errorf("show lacks %q:\n%s", "Authenticity: "+w, stdout)
			}
		}
		// The evidence archive carries it in its signed manifest, and still verifies.
		zipPath := filepath.Join(t.TempDir(), "evidence.zip")
		if code, _, stderr := invoke(t, time.Now(), "export", "--config", cfgPath, "--probe", id, "--out", zipPath); code != exitOK {
			t.Fatalf("export: exit %d, %s", code, stderr)
		}
		zr, err := zip.OpenReader(zipPath)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		mf, err := zr.Open("manifest.json")
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := io.ReadAll(mf)
		mf.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{`"dkim": "DKIM pass, d=acme.example"`, `"dkim": "DKIM none (unsigned)"`, `"selector": "hd1"`} {
			if !bytes.Contains(manifest, []byte(w)) {
				t.Errorf("manifest.json lacks %s", w)
			}
		}
		if code, stdout, stderr := invoke(t, time.Now(), "export", "--verify", zipPath); code != exitOK {
			t.Errorf("export --verify: exit %d, %s%s", code, stdout, stderr)
		}
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		ns, err := mailworld.StartDNS()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ns.Close() })
		for name, recs := range records {
			ns.SetTXT(name, recs...)
		}
		run(t, mailworldtest.Memory(t, linUser, supportUser), ns.Addr)
	})
	// The real world: Postfix and Dovecot carry the mail, and Debian's unbound serves
	// the keys.
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.Real(t, linUser, supportUser)
		if err := mailworld.UnboundAvailable(); err != nil {
			if os.Getenv(mailworldtest.EnvRequireReal) == "1" {
				t.Fatalf("%s=1, but: %v", mailworldtest.EnvRequireReal, err)
			}
			t.Skip(err)
		}
		u, err := mailworld.StartUnbound(t.TempDir(), records)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { u.Close() })
		run(t, w, u.Addr)
	})
}

// dkimLines reads history JSON and returns, for each reply of probe id that has been
// checked, its dkim line keyed by the word after "dkim-" in its Message-ID.
func dkimLines(t *testing.T, cfgPath, id string) map[string]string {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("history: exit %d, %s", code, stderr)
	}
	var h []struct {
		ID      string `json:"id"`
		Replies []struct {
			MessageID string          `json:"message_id"`
			DKIM      string          `json:"dkim"`
			Auth      json.RawMessage `json:"auth"`
		} `json:"replies"`
	}
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range h {
		if p.ID != id {
			continue
		}
		for _, r := range p.Replies {
			if string(r.Auth) == "null" || len(r.Auth) == 0 {
				continue
			}
			k, _, _ := strings.Cut(strings.TrimPrefix(strings.Trim(r.MessageID, "<>"), "dkim-"), "-")
			out[k] = r.DKIM
		}
	}
	return out
}
