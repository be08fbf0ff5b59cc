package mailbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"supportprobe/mailbox/mailworld/mailworldtest"
)

// recordingProxy forwards TCP connections on 127.0.0.1 to a server and keeps every
// byte the clients send, so a test can tell what reached the wire.
type recordingProxy struct {
	addr    string
	copying sync.WaitGroup // client → server copies still running
	mu      sync.Mutex
	sent    bytes.Buffer
}

// startRecordingProxy proxies to target until the test ends.
func startRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			wg.Add(2)
			p.copying.Add(1)
			go func() { // client → server, recorded
				defer wg.Done()
				defer p.copying.Done()
				defer server.Close()
				io.Copy(io.MultiWriter(server, p), client)
			}()
			go func() { // server → client
				defer wg.Done()
				defer client.Close()
				io.Copy(client, server)
			}()
		}
	}()
	return p
}

func (p *recordingProxy) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.Write(b)
}

// clientBytes waits until every client has closed its connection, then returns what
// they sent.
func (p *recordingProxy) clientBytes(t *testing.T) string {
	t.Helper()
	done := make(chan struct{})
	go func() { p.copying.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the client kept its connection open 10 s after failing")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String()
}

// secretForms are the ways a client could put u's password on the wire: as is (IMAP
// LOGIN, SMTP AUTH LOGIN's second line is base64), and inside AUTH PLAIN's base64.
func secretForms(user, password string) []string {
	return []string{
		password,
		base64.StdEncoding.EncodeToString([]byte(password)),
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password)),
		base64.StdEncoding.EncodeToString([]byte(user + "\x00" + user + "\x00" + password)),
	}
}

// TestStartTLSNeverLogsInInTheClear points a client configured for starttls at servers
// that do not offer STARTTLS (the in-process world speaks plain text only), through a
// proxy that records what the client sends: the send and the login must fail, and
// neither the login command nor the password, in any encoding, may reach the wire.
func TestStartTLSNeverLogsInInTheClear(t *testing.T) {
	w := mailworldtest.Memory(t, users...)
	tests := []struct {
		proto   string
		target  string
		do      func(srv Server) error
		spoke   string   // what the client must have sent: proof the proxy saw the talk
		forbids []string // commands that carry credentials
	}{
		{"smtp", w.SMTPAddr(), func(srv Server) error {
			clock := newFakeClock()
			_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), chineseInquiry())
			return err
		}, "EHLO", []string{"AUTH", "MAIL FROM"}},
		{"imap", w.IMAPAddr(), func(srv Server) error {
			c, err := DialIMAP(context.Background(), srv)
			if err == nil {
				c.Close()
			}
			return err
		}, "STARTTLS", []string{"LOGIN", "AUTHENTICATE"}},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			p := startRecordingProxy(t, tt.target)
			srv := serverAt(t, p.addr, SecurityStartTLS, lin)
			err := tt.do(srv)
			if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
				t.Errorf("%s with starttls against a server without it = %v, want an error naming STARTTLS", tt.proto, err)
			}
			wire := p.clientBytes(t)
			if !strings.Contains(strings.ToUpper(wire), tt.spoke) {
				t.Fatalf("the client sent %q, without %s: the proxy did not see the conversation", wire, tt.spoke)
			}
			for _, cmd := range tt.forbids {
				for line := range strings.Lines(wire) {
					if f := strings.Fields(strings.ToUpper(line)); len(f) > 0 && (f[0] == cmd || len(f) > 1 && f[1] == cmd) {
						t.Errorf("the client sent %q in the clear", strings.TrimSpace(line))
					}
				}
			}
			for _, s := range secretForms(lin.Address, lin.Password) {
				if strings.Contains(wire, s) {
					t.Errorf("the password went over the wire in the clear (as %q); the client sent:\n%s", s, wire)
				}
			}
		})
	}
}

// TestNoneRefusesPasswordToRemoteHost: security none with a password is refused for any
// host that is not loopback before anything is dialled, even when the configuration's
// own check was bypassed.
func TestNoneRefusesPasswordToRemoteHost(t *testing.T) {
	for _, host := range []string{"mail.example.com", "192.0.2.10", "2001:db8::1", "localhost.example.com", "127.0.0.1.example.com"} {
		srv := Server{Host: host, Port: 25, Security: SecurityNone, Username: lin.Address, Password: lin.Password, Timeout: time.Second}
		_, serr := NewSender(srv, SenderOptions{}).Send(context.Background(), chineseInquiry())
		_, ierr := DialIMAP(context.Background(), srv)
		for proto, err := range map[string]error{"smtp": serr, "imap": ierr} {
			var se *SendError
			if err == nil || !strings.Contains(err.Error(), "in the clear") || errors.As(err, &se) && se.Attempts > 0 {
				t.Errorf("%s to %s with security none = %v; want a refusal before connecting that says the password would go in the clear", proto, host, err)
			}
		}
	}
}

// TestRenderKeepsHeaderIntact renders an inquiry and a summary whose Subject (a script
// subject or summary title from the configuration) and attachment name carry CRLF and a
// Bcc, raw and RFC 2047 encoded, and parses the bytes with go-message: the header must
// hold exactly the fields Render and RenderSummary write, the Subject must come back as
// the single field it was given, and no Bcc may appear anywhere in a header.
func TestRenderKeepsHeaderIntact(t *testing.T) {
	const hostile = "Streams failing\r\nBcc: attacker@evil.example\r\n\r\n<script>x()</script>"
	const encoded = "=?utf-8?q?x=0D=0ABcc:_attacker@evil.example?="
	for _, subject := range []string{hostile, encoded, "紧急\nBcc: attacker@evil.example"} {
		in := chineseInquiry()
		in.Subject = subject
		inquiry, err := Render(in)
		if err != nil {
			t.Fatalf("Render(subject %q) = %v", subject, err)
		}
		checkHeaderFields(t, "inquiry", inquiry, []string{"Date", "From", "Message-Id", "Mime-Version", "Reply-To", "Subject", "To",
			"Content-Type", "Content-Transfer-Encoding"}, subject)

		s := weeklySummary()
		s.Subject = subject
		s.Attachments[0].Name = "week\r\nBcc: attacker@evil.example.csv"
		summary, err := RenderSummary(s)
		if err != nil {
			t.Fatalf("RenderSummary(subject %q) = %v", subject, err)
		}
		checkHeaderFields(t, "summary", summary, []string{"Date", "From", "Message-Id", "Mime-Version", "Subject", "To", "Content-Type"}, subject)
		if bytes.Contains(bytes.ToLower(summary), []byte("\r\nbcc:")) {
			t.Errorf("summary with subject %q: a line starts with Bcc:\n%s", subject, summary)
		}
	}
}

// checkHeaderFields parses raw and fails unless its header fields are exactly want (any
// order) and its Subject decodes to subject's words (line breaks inside the one field
// are data, not new fields).
func checkHeaderFields(t *testing.T, what string, raw []byte, want []string, subject string) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: parse: %v", what, err)
	}
	var keys []string
	for f := r.Header.Fields(); f.Next(); {
		keys = append(keys, textproto.CanonicalMIMEHeaderKey(f.Key()))
	}
	slices.Sort(keys)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(keys, want) {
		t.Errorf("%s with subject %q: header fields %v, want exactly %v", what, subject, keys, want)
	}
	got, err := r.Header.Subject()
	if err != nil {
		t.Errorf("%s: Subject: %v", what, err)
	}
	// An encoded-word given as the subject is sent as written, and so read back decoded.
	if dec, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = dec
	}
	if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(subject), " ") {
		t.Errorf("%s: Subject = %q, want the words of %q", what, got, subject)
	}
}
