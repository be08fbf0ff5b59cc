package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	gomessage "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

// forbidden are headers that make help desks treat mail as automated, or name software.
var forbidden = []string{"Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe", "List-Post",
	"List-Help", "List-Owner", "X-Auto-Response-Suppress", "X-Mailer", "User-Agent"}

func TestRender(t *testing.T) {
	short := chineseInquiry()
	short.ReplyTo = ""
	short.MessageID = "a1.k7q2@example.com"
	short.Body = "no final newline"
	long := chineseInquiry()
	long.MessageID = "20260301T030405.p20260301-0042-with-a-long-probe-id.k7q2.0123456789abcdef@mail.example.com"
	long.Subject = "A long English subject line that go-mail has to fold somewhere in the middle, twice over"
	tests := []struct {
		name    string
		in      probe.Inquiry
		headers []string // in order
	}{
		{"chinese, reply-to, long message-id", chineseInquiry(),
			[]string{"Date", "MIME-Version", "Message-ID", "Subject", "From", "To", "Reply-To", "Content-Transfer-Encoding", "Content-Type"}},
		{"long message-id and ascii subject", long,
			[]string{"Date", "MIME-Version", "Message-ID", "Subject", "From", "To", "Reply-To", "Content-Transfer-Encoding", "Content-Type"}},
		{"no reply-to, short message-id, no final newline", short,
			[]string{"Date", "MIME-Version", "Message-ID", "Subject", "From", "To", "Content-Transfer-Encoding", "Content-Type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := Render(tt.in)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			again, err := Render(tt.in)
			if err != nil || !bytes.Equal(raw, again) {
				t.Errorf("render is not deterministic:\n%s\n---\n%s", raw, again)
			}
			if !bytes.HasSuffix(raw, []byte("\r\n")) {
				t.Errorf("message does not end in CRLF: %q", raw[max(0, len(raw)-20):])
			}
			for i, b := range raw {
				if b >= 0x80 {
					t.Fatalf("byte %d is %#x: the message must be 7-bit", i, b)
				}
				if b == '\n' && (i == 0 || raw[i-1] != '\r') {
					t.Fatalf("bare LF at byte %d", i)
				}
			}
			for _, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 78 && !strings.HasPrefix(line, "Message-ID: ") {
					t.Errorf("line longer than 78 characters: %q", line)
				}
			}

			h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
			if err != nil {
				t.Fatalf("read header: %v", err)
			}
			if got := headerNames(raw); !slices.Equal(got, tt.headers) {
				t.Errorf("headers = %v, want exactly %v", got, tt.headers)
			}
			for _, k := range forbidden {
				if _, ok := h[textproto.CanonicalMIMEHeaderKey(k)]; ok {
					t.Errorf("header %s present", k)
				}
			}
			// One line, as mail clients write it, even where go-mail folds.
			if want := "\r\nMessage-ID: <" + tt.in.MessageID + ">\r\n"; !bytes.Contains(raw, []byte(want)) {
				t.Errorf("no line %q in\n%s", want, raw)
			}
			if want := "\r\nDate: " + tt.in.Date.Format(time.RFC1123Z) + "\r\n"; !bytes.Contains(raw, []byte(want)) && !bytes.HasPrefix(raw, []byte(want[2:])) {
				t.Errorf("no line %q in\n%s", want, raw)
			}
			if got := h.Get("Content-Type"); !strings.EqualFold(got, "text/plain; charset=utf-8") {
				t.Errorf("Content-Type = %q, want text/plain; charset=utf-8", got)
			}
		})
	}
}

func TestRenderRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(*probe.Inquiry)
		want string
	}{
		{"message-id with brackets", func(in *probe.Inquiry) { in.MessageID = "<a@b>" }, "Message-ID"},
		{"message-id without @", func(in *probe.Inquiry) { in.MessageID = "ab" }, "Message-ID"},
		{"message-id too long", func(in *probe.Inquiry) { in.MessageID = strings.Repeat("a", 900) + "@b" }, "Message-ID"},
		{"message-id with CRLF", func(in *probe.Inquiry) { in.MessageID = "a@b\r\nBcc: x@y" }, "Message-ID"},
		{"no date", func(in *probe.Inquiry) { in.Date = time.Time{} }, "no Date"},
		{"bad from", func(in *probe.Inquiry) { in.From = "Lin Wei" }, "from"},
		{"bad reply-to", func(in *probe.Inquiry) { in.ReplyTo = "lin wei at example" }, "reply-to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := chineseInquiry()
			tt.edit(&in)
			if _, err := Render(in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestSendRejectsBadInput covers what Send refuses before dialing.
func TestSendRejectsBadInput(t *testing.T) {
	ok := Server{Host: "127.0.0.1", Port: 1, Security: SecurityNone}
	tests := []struct {
		name string
		srv  Server
		edit func(*probe.Inquiry)
		want string
	}{
		{"unknown security", Server{Host: "127.0.0.1", Port: 25, Security: "ssl"}, nil, `unknown security "ssl"`},
		{"password in the clear to a remote host", Server{Host: "mail.example.com", Port: 25, Security: SecurityNone, Username: "u", Password: "p"},
			nil, "in the clear"},
		{"port out of range", Server{Host: "127.0.0.1", Port: 0}, nil, "port 0"},
		{"no recipients", ok, func(in *probe.Inquiry) { in.To = nil }, "no recipients"},
		{"bad recipient", ok, func(in *probe.Inquiry) { in.To = []string{"not an address"} }, "not an address"},
		{"bad message-id", ok, func(in *probe.Inquiry) { in.MessageID = "" }, "Message-ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := chineseInquiry()
			if tt.edit != nil {
				tt.edit(&in)
			}
			clock := newFakeClock()
			_, err := NewSender(tt.srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Send = %v, want an error mentioning %q", err, tt.want)
			}
			var se *SendError
			if errors.As(err, &se) {
				t.Errorf("Send = %#v, want no *SendError: nothing was sent", se)
			}
		})
	}
}

func TestSendDelivers(t *testing.T) {
	t.Parallel()
	plain := chineseInquiry()
	plain.To = []string{"support@acme.example", "Help Desk <helpdesk@acme.example>"}
	plain.ReplyTo = ""
	plain.Subject = "Cannot connect to the database"
	plain.MessageID = "20260301T030405.p2.abc123.fedcba9876543210@example.com"
	plain.Body = ".a line starting with a dot\n..and two\n.\nlast line, no newline"

	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		tests := []struct {
			name string
			in   probe.Inquiry
			to   []mailworld.User
		}{
			{"chinese subject and body, plus-address reply-to", chineseInquiry(), []mailworld.User{support}},
			{"two recipients, leading dots, no final newline", plain, []mailworld.User{support, helpdsk}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := NewSender(smtpServer(t, w, lin), SenderOptions{})
				before := time.Now()
				res, err := s.Send(context.Background(), tt.in)
				after := time.Now()
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if res.Attempts != 1 {
					t.Errorf("Attempts = %d, want 1", res.Attempts)
				}
				if res.AcceptedAt.Before(before) || res.AcceptedAt.After(after) {
					t.Errorf("AcceptedAt = %v, want within the Send call [%v, %v]", res.AcceptedAt, before, after)
				}
				for _, u := range tt.to {
					m := waitDelivered(t, w, u, tt.in.MessageID)
					checkDelivered(t, tt.in, res, m.BodySection[0].Bytes, m.InternalDate)
				}
			})
		}
	})
}

// checkDelivered checks a delivered copy against what was sent.
func checkDelivered(t *testing.T, in probe.Inquiry, res probe.SendResult, delivered []byte, internal time.Time) {
	t.Helper()
	if !bytes.HasSuffix(delivered, res.Raw) {
		t.Fatalf("the delivered message does not end with the bytes sent.\nsent:\n%s\ndelivered:\n%s", res.Raw, delivered)
	}
	prefix := delivered[:len(delivered)-len(res.Raw)]
	if len(prefix) > 0 && (!bytes.HasSuffix(prefix, []byte("\r\n")) || bytes.Contains(prefix, []byte("\r\n\r\n"))) {
		t.Errorf("the MTA prepended more than header lines:\n%s", prefix)
	}
	if d := res.AcceptedAt.Sub(internal); d < -time.Second || d > time.Second {
		t.Errorf("AcceptedAt %v is %v from the delivered INTERNALDATE %v, want within 1 s", res.AcceptedAt, d, internal)
	}

	mr, err := gomessage.CreateReader(bytes.NewReader(delivered))
	if err != nil {
		t.Fatalf("parse delivered message: %v", err)
	}
	h := mr.Header
	if got, err := h.Subject(); err != nil || got != in.Subject {
		t.Errorf("Subject = %q, %v; want %q", got, err, in.Subject)
	}
	if got, err := h.MessageID(); err != nil || got != in.MessageID {
		t.Errorf("Message-ID = %q, %v; want %q", got, err, in.MessageID)
	}
	if got, err := h.Date(); err != nil || !got.Equal(in.Date) {
		t.Errorf("Date = %v, %v; want %v", got, err, in.Date)
	}
	checkAddrs(t, h, "From", []string{in.From})
	checkAddrs(t, h, "To", in.To)
	if in.ReplyTo != "" {
		checkAddrs(t, h, "Reply-To", []string{in.ReplyTo})
	} else if h.Has("Reply-To") {
		t.Errorf("Reply-To = %q, want none", h.Get("Reply-To"))
	}
	for _, k := range forbidden {
		if h.Has(k) {
			t.Errorf("delivered message has %s: %q", k, h.Get(k))
		}
	}
	p, err := mr.NextPart()
	if err != nil {
		t.Fatalf("body part: %v", err)
	}
	body, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	want := in.Body
	if !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want {
		t.Errorf("body = %q, want %q", got, want)
	}
}

func checkAddrs(t *testing.T, h gomessage.Header, key string, want []string) {
	t.Helper()
	got, err := h.AddressList(key)
	if err != nil {
		t.Errorf("%s: %v", key, err)
		return
	}
	var gotS, wantS []string
	for _, a := range got {
		gotS = append(gotS, a.String())
	}
	for _, w := range want {
		a, err := gomessage.ParseAddress(w)
		if err != nil {
			t.Fatalf("parse %q: %v", w, err)
		}
		wantS = append(wantS, a.String())
	}
	if !slices.Equal(gotS, wantS) {
		t.Errorf("%s = %v, want %v", key, gotS, wantS)
	}
}

func TestSendRecipientRefused(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		in := chineseInquiry()
		var text string
		if m, ok := w.(*mailworld.Memory); ok {
			if err := m.SetRcptFault(support.Address, 550); err != nil {
				t.Fatal(err)
			}
			text = "injected fault for <support@acme.example>"
		} else {
			in.To = []string{"nobody@acme.example"} // Postfix: unknown user
			text = "User unknown"
		}
		clock := newFakeClock()
		srv := smtpServer(t, w, lin)
		_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), in)
		var se *SendError
		if !errors.As(err, &se) {
			t.Fatalf("Send = %v, want a *SendError", err)
		}
		rcpt, _ := gomessage.ParseAddress(in.To[0])
		if se.Code != 550 || se.Temporary || se.Attempts != 1 || se.Step != "RCPT TO <"+rcpt.Address+">" || se.Host != srv.Addr() {
			t.Errorf("SendError = %+v, want code 550, permanent, 1 attempt, step RCPT TO <%s>, host %s", se, rcpt.Address, srv.Addr())
		}
		for _, want := range []string{"smtp " + srv.Addr() + ": RCPT TO <" + rcpt.Address + ">: 550 ", text, "(permanent, 1 attempt)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		if s := clock.Slept(); len(s) != 0 {
			t.Errorf("slept %v before giving up on a permanent failure, want no waits", s)
		}
	})
}

func TestSendAuthFailed(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		srv := smtpServer(t, w, mailworld.User{Address: lin.Address, Password: "wrong"})
		clock := newFakeClock()
		_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), chineseInquiry())
		var se *SendError
		if !errors.As(err, &se) {
			t.Fatalf("Send = %v, want a *SendError", err)
		}
		if !errors.Is(err, ErrAuthFailed) || se.Code != 535 || se.Temporary || se.Attempts != 1 || se.Step != "AUTH as "+lin.Address {
			t.Errorf("Send = %v (%+v), want ErrAuthFailed, 535, permanent, 1 attempt, step AUTH as %s", err, se, lin.Address)
		}
	})
}

func TestSendRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		opts         SenderOptions
		clearOnSleep int // clear the fault when the n-th wait ends; 0 never
		wantAttempts int
		wantSlept    []time.Duration
		wantErr      string
	}{
		{"451 cleared on the first retry", SenderOptions{}, 1, 2, []time.Duration{5 * time.Second}, ""},
		{"451 throughout the default window", SenderOptions{}, 0, 9,
			[]time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
				2 * time.Minute, 2 * time.Minute, 2 * time.Minute},
			"451 4.0.0 mailworld: injected fault for <support@acme.example> (temporary, 9 attempts, retry window of 10m0s used up)"},
		{"451 throughout a short window", SenderOptions{Backoff: time.Second, MaxBackoff: 4 * time.Second, RetryWindow: 10 * time.Second}, 0, 4,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
			"(temporary, 4 attempts, retry window of 10s used up)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := mailworldtest.Memory(t, users...)
			if err := w.SetRcptFault(support.Address, 451); err != nil {
				t.Fatal(err)
			}
			clock := newFakeClock()
			clock.onSleep = func(i int) {
				if i == tt.clearOnSleep {
					w.SetRcptFault(support.Address, 0)
				}
			}
			opts := tt.opts
			opts.Now, opts.Sleep = clock.Now, clock.Sleep
			start := clock.Now()
			in := chineseInquiry()
			res, err := NewSender(smtpServer(t, w, lin), opts).Send(context.Background(), in)
			if got := clock.Slept(); !slices.Equal(got, tt.wantSlept) {
				t.Errorf("waits = %v, want %v", got, tt.wantSlept)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if res.Attempts != tt.wantAttempts || !res.AcceptedAt.Equal(clock.Now()) {
					t.Errorf("Send = %d attempts, accepted at %v; want %d, %v", res.Attempts, res.AcceptedAt, tt.wantAttempts, clock.Now())
				}
				waitDelivered(t, w, support, in.MessageID)
				return
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want a *SendError", err)
			}
			if !se.Temporary || se.Code != 451 || se.Attempts != tt.wantAttempts {
				t.Errorf("SendError = %+v, want temporary, 451, %d attempts", se, tt.wantAttempts)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			window := cmp(opts.RetryWindow, DefaultRetryWindow)
			if used := clock.Now().Sub(start); used > window {
				t.Errorf("retried for %v, beyond the window of %v", used, window)
			}
		})
	}
}

func cmp(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func TestSendServerDown(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	srv := serverAt(t, ln.Addr().String(), SecurityNone, mailworld.User{})
	ln.Close() // nothing listens there now: connection refused
	clock := newFakeClock()
	_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep, RetryWindow: time.Minute}).
		Send(context.Background(), chineseInquiry())
	var se *SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send = %v, want a *SendError", err)
	}
	if !se.Temporary || se.Attempts != 4 || se.Step != "TCP connect" || se.Code != 0 {
		t.Errorf("SendError = %+v, want temporary, 4 attempts (waits 5 s, 10 s, 20 s), step TCP connect", se)
	}
	for _, want := range []string{"smtp " + srv.Addr() + ": TCP connect: ", "connection refused", "4 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, users...)
	if err := w.SetRcptFault(support.Address, 451); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := newFakeClock()
	clock.onSleep = func(i int) {
		if i == 2 {
			cancel()
		}
	}
	_, err := NewSender(smtpServer(t, w, lin), SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(ctx, chineseInquiry())
	var se *SendError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want a *SendError wrapping context.Canceled", err)
	}
	if se.Attempts != 2 || !strings.Contains(err.Error(), "stopped: context canceled") || !strings.Contains(err.Error(), "451") {
		t.Errorf("error %q (%d attempts), want 2 attempts, the 451 and 'stopped: context canceled'", err, se.Attempts)
	}
}

// tlsSMTP is a go-smtp server speaking TLS with a certificate made for the test. It
// accepts any envelope after AUTH PLAIN as lin, and keeps the messages it receives.
type tlsSMTP struct {
	mu   sync.Mutex
	data [][]byte
}

func startTLSSMTP(t *testing.T, implicit bool, cert tls.Certificate) (*tlsSMTP, string) {
	t.Helper()
	b := &tlsSMTP{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &tlsSession{b: b}, nil }))
	s.Domain = "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	ln := listen(t)
	addr := ln.Addr().String()
	if implicit {
		ln = tls.NewListener(ln, s.TLSConfig)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return b, addr
}

func (b *tlsSMTP) messages() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.data)
}

type tlsSession struct {
	b      *tlsSMTP
	authed bool
}

func (s *tlsSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *tlsSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != lin.Address || pass != lin.Password {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *tlsSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}

func (s *tlsSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (s *tlsSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.data = append(s.b.data, data)
	s.b.mu.Unlock()
	return nil
}

func (s *tlsSession) Reset()        {}
func (s *tlsSession) Logout() error { return nil }

func TestSendTLS(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	tests := []struct {
		name     string
		security string
		tls      *tls.Config
		wantStep string // "" for success
	}{
		{"implicit, trusted", SecurityTLS, &tls.Config{RootCAs: pool}, ""},
		{"implicit, unknown authority", SecurityTLS, nil, "TLS handshake"},
		{"implicit, name not on the certificate", SecurityTLS, &tls.Config{RootCAs: pool, ServerName: "mail.example.com"}, "TLS handshake"},
		{"starttls, trusted", SecurityStartTLS, &tls.Config{RootCAs: pool}, ""},
		{"starttls, unknown authority", SecurityStartTLS, nil, "STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, addr := startTLSSMTP(t, tt.security == SecurityTLS, cert)
			srv := serverAt(t, addr, tt.security, lin)
			srv.TLSConfig = tt.tls
			clock := newFakeClock()
			res, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), chineseInquiry())
			if tt.wantStep == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if got := b.messages(); len(got) != 1 || !bytes.Equal(got[0], res.Raw) {
					t.Errorf("server received %d messages; want exactly SendResult.Raw", len(got))
				}
				return
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want a *SendError", err)
			}
			if !errors.Is(err, ErrUntrustedCertificate) || se.Temporary || se.Attempts != 1 || se.Step != tt.wantStep {
				t.Errorf("Send = %v (%+v), want ErrUntrustedCertificate, permanent, 1 attempt, step %s", err, se, tt.wantStep)
			}
			var x509Err x509.UnknownAuthorityError
			var hostErr x509.HostnameError
			if !errors.As(err, &x509Err) && !errors.As(err, &hostErr) {
				t.Errorf("Send = %v, want it to wrap the x509 error", err)
			}
			for _, want := range []string{"smtp " + srv.Addr(), "certificate"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			// The advice fits the problem: another name wants server_name, an unknown
			// authority ca_file or the trust store.
			if fix := map[bool]string{true: "server_name", false: "trust store"}[errors.As(err, &hostErr)]; !strings.Contains(err.Error(), fix) {
				t.Errorf("error %q does not name the fix %q", err, fix)
			}
			if len(b.messages()) != 0 {
				t.Errorf("a message arrived over an untrusted connection")
			}
		})
	}
}

// TestSendStartTLSRequired: a server without STARTTLS is refused, not used in the clear.
func TestSendStartTLSRequired(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, users...)
	srv := smtpServer(t, w, lin)
	srv.Security = SecurityStartTLS
	clock := newFakeClock()
	_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), chineseInquiry())
	var se *SendError
	if !errors.As(err, &se) || se.Step != "STARTTLS" || se.Temporary || se.Attempts != 1 {
		t.Fatalf("Send = %v, want a permanent *SendError at step STARTTLS after 1 attempt", err)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     int
		temporay bool
	}{
		{"4xx reply", &textproto.Error{Code: 451, Msg: "4.3.0 try later"}, 451, true},
		{"421 greeting", &textproto.Error{Code: 421, Msg: "4.7.0 too busy"}, 421, true},
		{"5xx reply", &textproto.Error{Code: 554, Msg: "5.7.1 no"}, 554, false},
		{"DNS name not found", &net.DNSError{Err: "no such host", Name: "smtp.exmaple.com", IsNotFound: true}, 0, false},
		{"DNS timeout", &net.DNSError{Err: "i/o timeout", Name: "smtp.example.com", IsTimeout: true}, 0, true},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, 0, true},
		{"EOF", io.EOF, 0, true},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, 0, false},
		{"untrusted", &certError{name: "h", err: x509.UnknownAuthorityError{}}, 0, false},
		{"unknown", errors.New("something odd"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, temp := classify(tt.err)
			if code != tt.code || temp != tt.temporay {
				t.Errorf("classify(%v) = %d, %v; want %d, %v", tt.err, code, temp, tt.code, tt.temporay)
			}
		})
	}
}

// headerNames returns the names of raw's header fields in order.
func headerNames(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var names []string
	for _, line := range strings.Split(string(head), "\r\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		names = append(names, name)
	}
	return names
}

// TestSendSilentServer: a server that accepts connections but never greets is bounded by
// Server.Timeout (a transient failure, retried) and by ctx (which stops at once).
func TestSendSilentServer(t *testing.T) {
	t.Parallel()
	silent := listen(t) // the kernel accepts; nobody speaks
	tests := []struct {
		name         string
		timeout      time.Duration
		ctxTimeout   time.Duration
		wantAttempts int
		want         []string
		wantIs       error
	}{
		{"server timeout", 100 * time.Millisecond, 0, 2, []string{": greeting/EHLO: ", "i/o timeout", "(temporary, 2 attempts, retry window of 10s used up)"}, nil},
		{"context deadline", 10 * time.Second, 100 * time.Millisecond, 1, []string{"stopped: context deadline exceeded"}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serverAt(t, silent.Addr().String(), SecurityNone, mailworld.User{})
			srv.Timeout = tt.timeout
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			clock := newFakeClock()
			start := time.Now()
			_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep, RetryWindow: 10 * time.Second}).
				Send(ctx, chineseInquiry())
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Send took %v, want it bounded by the timeout or ctx", took)
			}
			var se *SendError
			if !errors.As(err, &se) || se.Attempts != tt.wantAttempts || !se.Temporary {
				t.Fatalf("Send = %v, want a temporary *SendError after %d attempts", err, tt.wantAttempts)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Send = %v, want it to wrap %v", err, tt.wantIs)
			}
		})
	}
}

// TestSendBeforeDataEnd checks the hook that marks the end of DATA: it runs once the
// message is written and before the final ".", so the server holds nothing yet; a
// failing hook abandons the transaction, permanently, and nothing is delivered.
func TestSendBeforeDataEnd(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, users...)
	c := mustDialIMAP(t, imapServer(t, w, support))
	deliveredNow := func(messageID string) bool {
		t.Helper()
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatalf("EXAMINE INBOX: %v", err)
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{
			Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID}},
		}, nil).Wait()
		if err != nil {
			t.Fatalf("UID SEARCH: %v", err)
		}
		return len(data.AllUIDs()) > 0
	}

	t.Run("runs before the final dot", func(t *testing.T) {
		in := chineseInquiry()
		in.MessageID = "20260301T030405.p3.hook.0123456789abcdef@example.com"
		var calls []string
		in.BeforeSend = func([]byte) error { calls = append(calls, "before send"); return nil }
		in.BeforeDataEnd = func() error {
			calls = append(calls, "before data end")
			if deliveredNow(in.MessageID) {
				t.Error("the server delivered the message before the end of DATA")
			}
			return nil
		}
		res, err := NewSender(smtpServer(t, w, lin), SenderOptions{}).Send(context.Background(), in)
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if want := []string{"before send", "before data end"}; !slices.Equal(calls, want) {
			t.Errorf("hooks called %v, want %v", calls, want)
		}
		waitDelivered(t, w, support, in.MessageID)
		if res.Attempts != 1 {
			t.Errorf("Attempts = %d, want 1", res.Attempts)
		}
	})

	t.Run("its failure sends nothing", func(t *testing.T) {
		in := chineseInquiry()
		in.MessageID = "20260301T030405.p4.hook.0123456789abcdef@example.com"
		noted := errors.New("database full")
		calls := 0
		in.BeforeDataEnd = func() error { calls++; return noted }
		_, err := NewSender(smtpServer(t, w, lin), SenderOptions{}).Send(context.Background(), in)
		var se *SendError
		if !errors.As(err, &se) || !errors.Is(err, noted) {
			t.Fatalf("Send = %v, want a *SendError wrapping the hook's error", err)
		}
		if se.Step != "before the end of DATA" || se.Temporary || se.Attempts != 1 || calls != 1 {
			t.Errorf("SendError = step %q, temporary %v, %d attempts (hook called %d times); want %q, permanent, 1, 1",
				se.Step, se.Temporary, se.Attempts, calls, "before the end of DATA")
		}
		// Delivery follows the final dot within milliseconds; give it ample time.
		time.Sleep(300 * time.Millisecond)
		if deliveredNow(in.MessageID) {
			t.Error("the message was delivered although the hook before the end of DATA failed")
		}
	})
}

// TestSendMaybeDelivered runs Send against a server that takes the whole message and
// then hangs up without a reply to the final ".", and against one that answers it with a
// 451: only the first failure may have delivered the message, and says so.
func TestSendMaybeDelivered(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		reply   string // to the final "."; "" hangs up
		want    bool
		wantDot int
	}{
		{"connection lost after the final dot", "", true, 2},
		{"451 to the final dot", "451 4.3.0 try again later", false, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln := listen(t)
			var mu sync.Mutex
			dots := 0
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						r := bufio.NewReader(c)
						fmt.Fprint(c, "220 localhost ESMTP\r\n")
						inData := false
						for {
							line, err := r.ReadString('\n')
							if err != nil {
								return
							}
							switch {
							case inData && line == ".\r\n":
								mu.Lock()
								dots++
								mu.Unlock()
								if tt.reply == "" {
									return
								}
								fmt.Fprintf(c, "%s\r\n", tt.reply)
								inData = false
							case inData:
							case strings.HasPrefix(line, "EHLO"):
								fmt.Fprint(c, "250 localhost\r\n")
							case strings.HasPrefix(line, "DATA"):
								fmt.Fprint(c, "354 go ahead\r\n")
								inData = true
							case strings.HasPrefix(line, "QUIT"):
								fmt.Fprint(c, "221 bye\r\n")
								return
							default:
								fmt.Fprint(c, "250 ok\r\n")
							}
						}
					}()
				}
			}()
			host, port, _ := net.SplitHostPort(ln.Addr().String())
			p, _ := strconv.Atoi(port)
			clock := newFakeClock()
			s := NewSender(Server{Host: host, Port: p, Security: SecurityNone, Timeout: 5 * time.Second},
				SenderOptions{Now: clock.Now, Sleep: clock.Sleep, Backoff: time.Second, RetryWindow: 1500 * time.Millisecond})
			_, err := s.Send(context.Background(), chineseInquiry())
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want a *SendError", err)
			}
			if se.MaybeDelivered != tt.want || errors.Is(err, probe.ErrMaybeSent) != tt.want || se.Attempts != 2 {
				t.Errorf("Send = %v: MaybeDelivered %v, wraps ErrMaybeSent %v, %d attempts; want %v, %v, 2",
					err, se.MaybeDelivered, errors.Is(err, probe.ErrMaybeSent), se.Attempts, tt.want, tt.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if dots != tt.wantDot {
				t.Errorf("the server saw %d final dots, want %d", dots, tt.wantDot)
			}
		})
	}
}
