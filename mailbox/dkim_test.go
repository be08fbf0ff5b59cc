package mailbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"supportprobe/probe"
)

// dkimSigner is a vendor-side signer: a key, its domain and selector, and the TXT
// record it publishes.
type dkimSigner struct {
	domain, selector string
	opts             *dkim.SignOptions
	txt              string
}

func mustEd25519Signer(t *testing.T, domain, selector string) dkimSigner {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return dkimSigner{domain: domain, selector: selector,
		opts: &dkim.SignOptions{Domain: domain, Selector: selector, Signer: priv},
		txt:  "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
}

func mustRSASigner(t *testing.T, domain, selector string) dkimSigner {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return dkimSigner{domain: domain, selector: selector,
		opts: &dkim.SignOptions{Domain: domain, Selector: selector, Signer: priv},
		txt:  "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)}
}

func (s dkimSigner) name() string { return s.selector + "._domainkey." + s.domain }

// mustSign signs msg as the vendor's mail server would.
func (s dkimSigner) mustSign(t *testing.T, msg string) string {
	t.Helper()
	var b bytes.Buffer
	if err := dkim.Sign(&b, strings.NewReader(msg), s.opts); err != nil {
		t.Fatalf("dkim.Sign(d=%s) = %v", s.domain, err)
	}
	return b.String()
}

const dkimReply = "From: Acme Support <support@acme.example>\r\n" +
	"To: lin.wei@example.com\r\n" +
	"Subject: Re: Streams failing\r\n" +
	"Message-ID: <r1@acme.example>\r\n" +
	"Date: Sun, 29 Nov 2026 03:00:04 -0800\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"We restarted the ingest nodes; streams should work again.\r\n"

// txtMap is a fake resolver: name -> records; a name mapped to nil is a server failure.
type txtMap map[string][]string

func (m txtMap) lookup(_ context.Context, name string) ([]string, error) {
	recs, ok := m[strings.TrimSuffix(name, ".")]
	switch {
	case !ok:
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	case recs == nil:
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	return recs, nil
}

func TestCheckDKIM(t *testing.T) {
	acme := mustEd25519Signer(t, "acme.example", "k2026")
	acmeRSA := mustRSASigner(t, "mail.acme.example", "rsa1")
	desk := mustEd25519Signer(t, "helpdesk.example", "hd")
	gone := mustEd25519Signer(t, "acme.example", "retired")
	flaky := mustEd25519Signer(t, "acme.example", "flaky")
	dns := txtMap{acme.name(): {acme.txt}, acmeRSA.name(): {acmeRSA.txt}, desk.name(): {desk.txt}, flaky.name(): nil}
	vendor := []string{"acme.example"}

	tests := []struct {
		name    string
		raw     string
		want    []probe.Signature // Reason compared as a substring
		result  probe.DKIMResult
		signed  bool // VendorSigned
		summary string
	}{
		{"pass", acme.mustSign(t, dkimReply),
			[]probe.Signature{{Domain: "acme.example", Selector: "k2026", Result: probe.DKIMPass, Aligned: true}},
			probe.DKIMPass, true, "DKIM pass, d=acme.example"},
		{"pass rsa subdomain", acmeRSA.mustSign(t, dkimReply),
			[]probe.Signature{{Domain: "mail.acme.example", Selector: "rsa1", Result: probe.DKIMPass, Aligned: true}},
			probe.DKIMPass, true, "DKIM pass, d=mail.acme.example"},
		{"body altered in transit", strings.Replace(acme.mustSign(t, dkimReply), "restarted", "rebooted", 1),
			[]probe.Signature{{Domain: "acme.example", Selector: "k2026", Result: probe.DKIMFail, Reason: "body hash", Aligned: true}},
			probe.DKIMFail, false, "DKIM fail, d=acme.example: "},
		{"subject altered in transit", strings.Replace(acme.mustSign(t, dkimReply), "Subject: Re: Streams", "Subject: Re: Stream", 1),
			[]probe.Signature{{Domain: "acme.example", Selector: "k2026", Result: probe.DKIMFail, Reason: "signature", Aligned: true}},
			probe.DKIMFail, false, "DKIM fail, d=acme.example: "},
		{"unsigned", dkimReply, nil, probe.DKIMNone, false, "DKIM none (unsigned)"},
		{"third-party help desk", desk.mustSign(t, dkimReply),
			[]probe.Signature{{Domain: "helpdesk.example", Selector: "hd", Result: probe.DKIMPass, Aligned: false}},
			probe.DKIMPass, false, "DKIM pass, d=helpdesk.example (not the vendor's domain)"},
		{"help desk and vendor", acme.mustSign(t, desk.mustSign(t, dkimReply)),
			[]probe.Signature{{Domain: "acme.example", Selector: "k2026", Result: probe.DKIMPass, Aligned: true},
				{Domain: "helpdesk.example", Selector: "hd", Result: probe.DKIMPass}},
			probe.DKIMPass, true, "DKIM pass, d=acme.example [2 signatures]"},
		{"key withdrawn", gone.mustSign(t, dkimReply),
			[]probe.Signature{{Domain: "acme.example", Selector: "retired", Result: probe.DKIMPermError, Reason: "no key", Aligned: true}},
			probe.DKIMPermError, false, "DKIM permerror, d=acme.example: no key"},
		{"lookup failed temporarily", flaky.mustSign(t, dkimReply),
			[]probe.Signature{{Domain: "acme.example", Selector: "flaky", Result: probe.DKIMTempError, Reason: "key unavailable", Aligned: true}},
			probe.DKIMTempError, false, "; retried later"},
	}
	now := time.Date(2026, 11, 29, 11, 0, 5, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := CheckDKIM(context.Background(), []byte(tt.raw), vendor, DKIMOptions{LookupTXT: dns.lookup, Now: func() time.Time { return now }})
			if len(a.Signatures) != len(tt.want) {
				t.Fatalf("CheckDKIM signatures = %+v, want %+v", a.Signatures, tt.want)
			}
			for i, w := range tt.want {
				g := a.Signatures[i]
				if g.Domain != w.Domain || g.Selector != w.Selector || g.Result != w.Result || g.Aligned != w.Aligned ||
					!strings.Contains(g.Reason, w.Reason) || (w.Reason == "") != (g.Reason == "") {
					t.Errorf("signature %d = %+v, want %+v", i, g, w)
				}
			}
			if a.Result() != tt.result || a.VendorSigned() != tt.signed || a.NeedsRetry() != (tt.result == probe.DKIMTempError) {
				t.Errorf("Result() = %s, VendorSigned() = %v, NeedsRetry() = %v; want %s, %v", a.Result(), a.VendorSigned(), a.NeedsRetry(), tt.result, tt.signed)
			}
			if s := a.Summary(); !strings.Contains(s, tt.summary) {
				t.Errorf("Summary() = %q, want it to contain %q", s, tt.summary)
			}
			if !a.CheckedAt.Equal(now) || a.Attempts != 1 {
				t.Errorf("CheckedAt, Attempts = %v, %d; want %v, 1", a.CheckedAt, a.Attempts, now)
			}
		})
	}
}

// A DNS server that does not answer must not hold the check (and so the recording of
// the next reply) beyond the timeout, and the result is a temperror to retry.
func TestCheckDKIMTimeout(t *testing.T) {
	acme := mustEd25519Signer(t, "acme.example", "k2026")
	hang := func(ctx context.Context, name string) ([]string, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	a := CheckDKIM(context.Background(), []byte(acme.mustSign(t, dkimReply)), []string{"acme.example"},
		DKIMOptions{LookupTXT: hang, Timeout: 200 * time.Millisecond})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("CheckDKIM took %v with a 200ms timeout", took)
	}
	if a.Result() != probe.DKIMTempError || !a.NeedsRetry() {
		t.Errorf("CheckDKIM with a silent DNS = %+v, want temperror", a.Signatures)
	}
}

// Only the topmost Authentication-Results, the one our own server adds, is kept: a
// sender can write any number below it.
func TestCheckDKIMAuthenticationResults(t *testing.T) {
	raw := "Authentication-Results: mx.example.com;\r\n dkim=pass header.d=acme.example\r\n" +
		"Authentication-Results: mx.example.com; dkim=pass header.d=forged.example\r\n" + dkimReply
	a := CheckDKIM(context.Background(), []byte(raw), nil, DKIMOptions{LookupTXT: txtMap{}.lookup})
	if want := "mx.example.com; dkim=pass header.d=acme.example"; a.AuthenticationResults != want {
		t.Errorf("AuthenticationResults = %q, want %q", a.AuthenticationResults, want)
	}
}

func TestCheckDKIMUnreadableHeader(t *testing.T) {
	a := CheckDKIM(context.Background(), []byte("no colon here\r\n\r\nbody"), nil, DKIMOptions{LookupTXT: txtMap{}.lookup})
	if a.Result() != probe.DKIMPermError || a.Signatures[0].Reason == "" {
		t.Errorf("CheckDKIM(unreadable header) = %+v, want one permerror with a reason", a.Signatures)
	}
}
