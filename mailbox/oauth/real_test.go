package oauth_test

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/mailbox/oauth"
	"supportprobe/mailbox/oauth/oauthtest"
	"supportprobe/probe"
)

func serverAt(t *testing.T, addr string, tokens mailbox.TokenFunc) mailbox.Server {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return mailbox.Server{Host: host, Port: p, Security: mailbox.SecurityNone, Username: "lin.wei@example.com", Token: tokens, Timeout: 10 * time.Second}
}

// TestRealDovecotAndPostfixTokenLogins signs in by device code, then logs in to real
// Dovecot (IMAP) and Postfix (SMTP AUTH through Dovecot SASL) with the access tokens,
// which Dovecot's oauth2 passdb checks at the fake server's introspection endpoint;
// across an access-token expiry the Source refreshes and logins go on; an expired token
// is refused by the server; a revoked refresh token asks for a new login.
func TestRealDovecotAndPostfixTokenLogins(t *testing.T) {
	lin := mailworld.User{Address: "lin.wei@example.com", Password: "internal-only-pw"}
	srv := oauthtest.Start(t, "app-1", "", lin.Address, 4*time.Second, 0)
	w := mailworldtest.RealWith(t, mailworld.RealOptions{OAuth2IntrospectionURL: srv.IntrospectURL()}, lin)

	cfg := oauth.Config{ClientID: "app-1", DeviceURL: srv.DeviceURL(), TokenURL: srv.TokenURL(), Scopes: []string{"mail"},
		TokenFile: filepath.Join(t.TempDir(), "oauth2-token.json"), Early: time.Second}
	if err := oauth.Login(t.Context(), cfg, func(oauth.DeviceCode) {}); err != nil {
		t.Fatalf("Login() error: %v", err)
	}
	src := oauth.NewSource(cfg)
	imapSrv, smtpSrv := serverAt(t, w.IMAPAddr(), src.AccessToken), serverAt(t, w.SMTPAddr(), src.AccessToken)

	c, err := mailbox.DialIMAP(t.Context(), imapSrv)
	if err != nil {
		t.Fatalf("DialIMAP() with a token: %v\n%s", err, w.Logs())
	}
	if !c.Caps().Has(imap.Cap("IDLE")) {
		t.Errorf("no IDLE after the token login: %v", c.Caps())
	}
	c.Close()

	send := func(n int) {
		t.Helper()
		in := probe.Inquiry{From: lin.Address, To: []string{lin.Address}, Subject: "token probe " + strconv.Itoa(n), Body: "Hello",
			MessageID: "tok" + strconv.Itoa(n) + "@example.com", Date: time.Now()}
		if _, err := mailbox.NewSender(smtpSrv, mailbox.SenderOptions{}).Send(t.Context(), in); err != nil {
			t.Fatalf("Send() #%d with a token: %v\n%s", n, err, w.Logs())
		}
	}
	send(1)
	first := srv.Refreshes()

	time.Sleep(4 * time.Second) // the access token expires
	send(2)
	c, err = mailbox.DialIMAP(t.Context(), imapSrv)
	if err != nil {
		t.Fatalf("DialIMAP() after the access token expired: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if *st.NumMessages == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("INBOX holds %d messages, want the 2 sent with tokens\n%s", *st.NumMessages, w.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.Close()
	if srv.Refreshes() <= first {
		t.Errorf("Refreshes() = %d after expiry, want more than %d", srv.Refreshes(), first)
	}

	// Access tokens revoked before their expiry: Dovecot refuses the cached one, the
	// Source forgets it, and the next login refreshes and gets in.
	srv.RevokeAccessTokens()
	before := srv.Refreshes()
	forgetful := imapSrv
	forgetful.TokenRefused = src.Forget
	if _, err := mailbox.DialIMAP(t.Context(), forgetful); !errors.Is(err, mailbox.ErrAuthFailed) {
		t.Fatalf("DialIMAP() with a revoked cached access token = %v, want ErrAuthFailed", err)
	}
	c, err = mailbox.DialIMAP(t.Context(), forgetful)
	if err != nil {
		t.Fatalf("DialIMAP() after the refused token was forgotten: %v", err)
	}
	c.Close()
	if srv.Refreshes() != before+1 {
		t.Errorf("Refreshes() = %d, want %d: one refresh after the refusal", srv.Refreshes(), before+1)
	}

	// A token the server no longer accepts is refused by Dovecot, not by us.
	stale := srv.IssuedAccessTokens()
	srv.RevokeAll()
	_, err = mailbox.DialIMAP(t.Context(), serverAt(t, w.IMAPAddr(), func(context.Context) (string, error) { return stale[0], nil }))
	if !errors.Is(err, mailbox.ErrAuthFailed) {
		t.Errorf("DialIMAP() with a revoked access token = %v, want ErrAuthFailed", err)
	}
	_, err = mailbox.NewSender(serverAt(t, w.SMTPAddr(), func(context.Context) (string, error) { return stale[0], nil }),
		mailbox.SenderOptions{}).Send(t.Context(), probe.Inquiry{From: lin.Address, To: []string{lin.Address}, Subject: "x", Body: "x", MessageID: "tok3@example.com", Date: time.Now()})
	if !errors.Is(err, mailbox.ErrAuthFailed) {
		t.Errorf("Send() with a revoked access token = %v, want ErrAuthFailed", err)
	}

	// The refresh token is revoked too: a fresh Source cannot refresh and says what to run.
	_, err = mailbox.DialIMAP(t.Context(), serverAt(t, w.IMAPAddr(), oauth.NewSource(cfg).AccessToken))
	if !errors.Is(err, oauth.ErrLoginRequired) || !strings.Contains(err.Error(), "run `supportprobe login`") {
		t.Errorf("DialIMAP() with a revoked refresh token = %v, want ErrLoginRequired", err)
	}
}
