package mailbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"supportprobe/probe"
)

// bearerCheck is the servers' side of a token login: it records every attempt and
// accepts user with the one valid token.
type bearerCheck struct {
	mu       sync.Mutex
	user     string
	valid    string
	attempts []bearerAttempt
}

type bearerAttempt struct{ mech, user, token, host, port string }

// server returns a SASL server for mech that parses the initial response as the RFC
// (OAUTHBEARER) or Google's description (XOAUTH2) says, and on a bad token sends the
// RFC 7628 error challenge and fails once the client has answered it.
func (b *bearerCheck) server(mech string, refusal error, onSuccess func(user string) error) sasl.Server {
	failed := false
	return saslServerFunc(func(resp []byte) ([]byte, bool, error) {
		if failed {
			return nil, true, refusal
		}
		a := bearerAttempt{mech: mech}
		fields := strings.Split(string(resp), "\x01")
		if mech == MechOAuthBearer {
			gs2, _, _ := strings.Cut(fields[0], ",")
			if gs2 != "n" {
				return nil, true, fmt.Errorf("bad gs2 header %q", fields[0])
			}
			a.user = strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(fields[0], ",", 3)[1], "a="), "")
		}
		for _, f := range fields {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "user":
				a.user = v
			case "auth":
				a.token = strings.TrimPrefix(v, "Bearer ")
			case "host":
				a.host = v
			case "port":
				a.port = v
			}
		}
		b.mu.Lock()
		b.attempts = append(b.attempts, a)
		ok := a.user == b.user && a.token == b.valid
		b.mu.Unlock()
		if !ok {
			failed = true
			return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.example/"}`), false, nil
		}
		return nil, true, onSuccess(a.user)
	})
}

func (b *bearerCheck) last() bearerAttempt {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.attempts) == 0 {
		return bearerAttempt{}
	}
	return b.attempts[len(b.attempts)-1]
}

type saslServerFunc func([]byte) ([]byte, bool, error)

func (f saslServerFunc) Next(r []byte) ([]byte, bool, error) { return f(r) }

// bearerIMAPSession is an imapmemserver session that logs in only by token.
type bearerIMAPSession struct {
	imapserver.Session
	mechs    []string
	check    *bearerCheck
	password string
}

func (s *bearerIMAPSession) AuthenticateMechanisms() []string { return s.mechs }

func (s *bearerIMAPSession) Authenticate(mech string) (sasl.Server, error) {
	return s.check.server(mech, errors.New("invalid token"), func(user string) error { return s.Session.Login(user, s.password) }), nil
}

func (s *bearerIMAPSession) Login(string, string) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN disabled: use a token"}
}

// startBearerIMAP serves user's mailbox on 127.0.0.1, offering mechs for AUTHENTICATE.
func startBearerIMAP(t *testing.T, check *bearerCheck, mechs ...string) Server {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(check.user, "internal-password")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &bearerIMAPSession{Session: mem.NewSession(), mechs: mechs, check: check, password: "internal-password"}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().(*net.TCPAddr)
	return Server{Host: "127.0.0.1", Port: addr.Port, Security: SecurityNone, Username: check.user, Timeout: 5 * time.Second}
}

func tokenOf(tok string) TokenFunc {
	return func(context.Context) (string, error) { return tok, nil }
}

func TestIMAPBearerLogin(t *testing.T) {
	tests := []struct {
		name     string
		offered  []string
		wantMech string
	}{
		{"both offered: OAUTHBEARER", []string{MechXOAuth2, MechOAuthBearer}, MechOAuthBearer},
		{"only XOAUTH2 (Microsoft 365)", []string{MechXOAuth2}, MechXOAuth2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}
			s := startBearerIMAP(t, check, tt.offered...)
			s.Token = tokenOf("good-token")
			c, err := DialIMAP(t.Context(), s)
			if err != nil {
				t.Fatalf("DialIMAP() error: %v", err)
			}
			defer c.Close()
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Errorf("SELECT INBOX after the token login: %v", err)
			}
			got := check.last()
			want := bearerAttempt{mech: tt.wantMech, user: "lin.wei@example.com", token: "good-token"}
			if tt.wantMech == MechOAuthBearer {
				want.host, want.port = "127.0.0.1", fmt.Sprint(s.Port)
			}
			if got != want {
				t.Errorf("server saw %+v, want %+v", got, want)
			}
		})
	}
}

func TestIMAPBearerRefused(t *testing.T) {
	for _, mech := range []string{MechOAuthBearer, MechXOAuth2} {
		t.Run(mech, func(t *testing.T) {
			check := &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}
			s := startBearerIMAP(t, check, mech)
			s.Token = tokenOf("stale-token")
			var refused []string
			s.TokenRefused = func(tok string) { refused = append(refused, tok) }
			_, err := DialIMAP(t.Context(), s)
			if len(refused) != 1 || refused[0] != "stale-token" {
				t.Errorf("TokenRefused got %q, want the refused token once", refused)
			}
			if !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("DialIMAP() error = %v, want ErrAuthFailed", err)
			}
			for _, want := range []string{"imap " + s.Addr(), "authentication failed for lin.wei@example.com", mech, "token refused with status 401", "run `supportprobe login` again"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("DialIMAP() error = %v, want it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "stale-token") {
				t.Errorf("DialIMAP() error shows the token: %v", err)
			}
		})
	}
}

func TestIMAPBearerNotOffered(t *testing.T) {
	check := &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}
	s := startBearerIMAP(t, check, "PLAIN")
	s.Token = tokenOf("good-token")
	_, err := DialIMAP(t.Context(), s)
	if err == nil || !strings.Contains(err.Error(), "offers neither OAUTHBEARER nor XOAUTH2") || !strings.Contains(err.Error(), "it offers: PLAIN") {
		t.Fatalf("DialIMAP() error = %v, want it to say which mechanisms the server offers", err)
	}
	if len(check.attempts) != 0 {
		t.Errorf("the token was sent %d times to a server that does not take tokens", len(check.attempts))
	}
}

func TestIMAPTokenFailureStopsBeforeLogin(t *testing.T) {
	check := &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}
	s := startBearerIMAP(t, check, MechOAuthBearer)
	refused := errors.New("token refresh: invalid_grant: AADSTS70008; run `supportprobe login`")
	s.Token = func(context.Context) (string, error) { return "", refused }
	_, err := DialIMAP(t.Context(), s)
	if !errors.Is(err, refused) || !strings.HasPrefix(err.Error(), "imap "+s.Addr()+": token refresh: invalid_grant") {
		t.Fatalf("DialIMAP() error = %v, want the server then the token source's error", err)
	}
	if len(check.attempts) != 0 {
		t.Errorf("the server saw %d AUTHENTICATEs, want none", len(check.attempts))
	}
}

// bearerSMTP is a go-smtp backend that accepts mail only after a token login.
type bearerSMTP struct {
	mechs []string
	check *bearerCheck
	mu    sync.Mutex
	got   [][]byte
}

type bearerSMTPSession struct {
	b    *bearerSMTP
	auth bool
}

func (b *bearerSMTP) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &bearerSMTPSession{b: b}, nil
}

func (s *bearerSMTPSession) AuthMechanisms() []string { return s.b.mechs }
func (s *bearerSMTPSession) Auth(mech string) (sasl.Server, error) {
	// Real servers answer 535 5.7.8 (Postfix with Dovecot, Gmail) or 5.7.3 (Microsoft).
	refusal := &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
	return s.b.check.server(mech, refusal, func(string) error { s.auth = true; return nil }), nil
}
func (s *bearerSMTPSession) Mail(string, *smtp.MailOptions) error {
	if !s.auth {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	return nil
}
func (s *bearerSMTPSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *bearerSMTPSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.got = append(s.b.got, b)
	s.b.mu.Unlock()
	return err
}
func (s *bearerSMTPSession) Reset()        {}
func (s *bearerSMTPSession) Logout() error { return nil }

func startBearerSMTP(t *testing.T, b *bearerSMTP) Server {
	t.Helper()
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Server{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, Security: SecurityNone, Username: b.check.user, Timeout: 5 * time.Second}
}

func bearerInquiry() probe.Inquiry {
	return probe.Inquiry{From: "lin.wei@example.com", To: []string{"support@acme.example"}, Subject: "Streams failing",
		Body: "Hello", MessageID: "k3f9qz.1@example.com", Date: time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)}
}

func TestSMTPBearerLogin(t *testing.T) {
	tests := []struct {
		name     string
		offered  []string
		wantMech string
	}{
		{"both offered: OAUTHBEARER", []string{"PLAIN", MechXOAuth2, MechOAuthBearer}, MechOAuthBearer},
		{"only XOAUTH2 (Microsoft 365)", []string{MechXOAuth2}, MechXOAuth2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bearerSMTP{mechs: tt.offered, check: &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}}
			s := startBearerSMTP(t, b)
			s.Token = tokenOf("good-token")
			if _, err := NewSender(s, SenderOptions{}).Send(t.Context(), bearerInquiry()); err != nil {
				t.Fatalf("Send() error: %v", err)
			}
			if len(b.got) != 1 || !bytes.Contains(b.got[0], []byte("Streams failing")) {
				t.Errorf("server received %d messages, want the inquiry once", len(b.got))
			}
			if got := b.check.last(); got.mech != tt.wantMech || got.user != "lin.wei@example.com" || got.token != "good-token" {
				t.Errorf("server saw %+v, want %s for lin.wei@example.com with the token", got, tt.wantMech)
			}
		})
	}
}

func TestSMTPBearerRefusedIsPermanent(t *testing.T) {
	for _, mech := range []string{MechOAuthBearer, MechXOAuth2} {
		t.Run(mech, func(t *testing.T) {
			b := &bearerSMTP{mechs: []string{mech}, check: &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}}
			s := startBearerSMTP(t, b)
			s.Token = tokenOf("stale-token")
			var refused []string
			s.TokenRefused = func(tok string) { refused = append(refused, tok) }
			defer func() {
				if len(refused) != 1 || refused[0] != "stale-token" {
					t.Errorf("TokenRefused got %q, want the refused token once", refused)
				}
			}()
			_, err := NewSender(s, SenderOptions{Sleep: func(context.Context, time.Duration) error {
				t.Error("a refused token was retried")
				return errors.New("stop: retried")
			}}).Send(t.Context(), bearerInquiry())
			var se *SendError
			if !errors.As(err, &se) || se.Temporary || !errors.Is(err, ErrAuthFailed) {
				t.Fatalf("Send() error = %v, want a permanent *SendError wrapping ErrAuthFailed", err)
			}
			for _, want := range []string{"AUTH " + mech + " as lin.wei@example.com", "token refused with status 401"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Send() error = %v, want it to contain %q", err, want)
				}
			}
			if len(b.got) != 0 {
				t.Errorf("server received %d messages after a refused login", len(b.got))
			}
		})
	}
}

func TestSMTPBearerNotOffered(t *testing.T) {
	b := &bearerSMTP{mechs: []string{"PLAIN"}, check: &bearerCheck{user: "lin.wei@example.com", valid: "good-token"}}
	s := startBearerSMTP(t, b)
	s.Token = tokenOf("good-token")
	_, err := NewSender(s, SenderOptions{}).Send(t.Context(), bearerInquiry())
	if err == nil || !strings.Contains(err.Error(), "offers neither OAUTHBEARER nor XOAUTH2 for logging in with a token (it offers: PLAIN)") {
		t.Fatalf("Send() error = %v, want it to name what the server offers", err)
	}
}
