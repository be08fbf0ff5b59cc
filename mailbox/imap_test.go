package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

func TestDialIMAP(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		tests := []struct {
			name    string
			user    mailworld.User
			wantErr string // "" for success
		}{
			{"right password", lin, ""},
			{"wrong password", mailworld.User{Address: lin.Address, Password: "wrong"}, "authentication failed for lin.wei@example.com"},
			{"unknown user", mailworld.User{Address: "nobody@example.com", Password: "x"}, "authentication failed for nobody@example.com"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				srv := imapServer(t, w, tt.user)
				c, err := DialIMAP(context.Background(), srv)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("DialIMAP: %v", err)
					}
					defer c.Close()
					// Not c.State(): go-imap beta.8 updates it only after Wait returns.
					if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
						t.Errorf("EXAMINE INBOX after DialIMAP: %v", err)
					}
					return
				}
				if err == nil {
					c.Close()
					t.Fatalf("DialIMAP succeeded, want %q", tt.wantErr)
				}
				want := "imap " + srv.Addr() + ": " + tt.wantErr
				if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), want) {
					t.Errorf("DialIMAP = %v, want ErrAuthFailed and %q", err, want)
				}
			})
		}
	})
}

func TestDialIMAPConnectionFailures(t *testing.T) {
	t.Parallel()
	closed := listen(t)
	refused := closed.Addr().String()
	closed.Close()
	silent := listen(t) // accepts (the kernel does), never greets
	tests := []struct {
		name     string
		addr     string
		timeout  time.Duration
		ctxAfter time.Duration
		want     []string
		wantIs   error
	}{
		{"connection refused", refused, time.Second, 0, []string{"imap " + refused + ": TCP connect: ", "connection refused"}, nil},
		{"no greeting within the timeout", silent.Addr().String(), 100 * time.Millisecond, 0,
			[]string{"imap " + silent.Addr().String() + ": greeting: ", "timeout"}, nil},
		{"context ends while waiting for the greeting", silent.Addr().String(), 10 * time.Second, 100 * time.Millisecond,
			[]string{"imap " + silent.Addr().String() + ": greeting: "}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serverAt(t, tt.addr, SecurityNone, lin)
			srv.Timeout = tt.timeout
			ctx := context.Background()
			if tt.ctxAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxAfter)
				defer cancel()
			}
			start := time.Now()
			c, err := DialIMAP(ctx, srv)
			if err == nil {
				c.Close()
				t.Fatal("DialIMAP succeeded, want an error")
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("DialIMAP took %v, want it to give up promptly", took)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("DialIMAP = %q, want it to contain %q", err, want)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("DialIMAP = %v, want it to wrap %v", err, tt.wantIs)
			}
		})
	}
}

// startTLSIMAP serves imapmemserver with lin as its user over TLS (implicit or
// STARTTLS) with cert, and returns the address.
func startTLSIMAP(t *testing.T, implicit bool, cert tls.Certificate) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(lin.Address, lin.Password)
	if err := u.Create("Sent", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	s := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}},
		TLSConfig: cfg,
		Logger:    log.New(io.Discard, "", 0),
	})
	ln := listen(t)
	addr := ln.Addr().String()
	if implicit {
		ln = tls.NewListener(ln, cfg)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return addr
}

func TestDialIMAPTLS(t *testing.T) {
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
		{"implicit, name not on the certificate", SecurityTLS, &tls.Config{RootCAs: pool, ServerName: "imap.example.com"}, "TLS handshake"},
		{"starttls, trusted", SecurityStartTLS, &tls.Config{RootCAs: pool}, ""},
		{"starttls, unknown authority", SecurityStartTLS, nil, "STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serverAt(t, startTLSIMAP(t, tt.security == SecurityTLS, cert), tt.security, lin)
			srv.TLSConfig = tt.tls
			c, err := DialIMAP(context.Background(), srv)
			if tt.wantStep == "" {
				if err != nil {
					t.Fatalf("DialIMAP: %v", err)
				}
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("DialIMAP succeeded over an untrusted certificate")
			}
			want := "imap " + srv.Addr() + ": " + tt.wantStep + ": the certificate presented for "
			if !errors.Is(err, ErrUntrustedCertificate) || !strings.Contains(err.Error(), want) {
				t.Errorf("DialIMAP = %v, want ErrUntrustedCertificate and %q", err, want)
			}
		})
	}
}
