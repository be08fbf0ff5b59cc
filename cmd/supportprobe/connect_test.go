package main

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// connectConfig writes a configuration whose servers are imapAddr and smtpAddr with
// the given IMAP security and folders list, logging in as lin with the password in the
// environment variable SP_CONNECT_PASSWORD, and returns its path.
func connectConfig(t *testing.T, imapAddr, smtpAddr, security, folders string) string {
	t.Helper()
	ih, ip, err := net.SplitHostPort(imapAddr)
	if err != nil {
		t.Fatal(err)
	}
	sh, sp, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`state_dir: %s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: %s, port: %s, security: none, username: lin.wei@example.com, password_env: SP_CONNECT_PASSWORD, timeout: 5s}
  imap: {host: %s, port: %s, security: %s, username: lin.wei@example.com, password_env: SP_CONNECT_PASSWORD, folders: %s, timeout: 5s}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    domains: [acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`, filepath.Join(dir, "state"), sh, sp, ih, ip, security, folders)
	path := filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var lin = mailworld.User{Address: "lin.wei@example.com", Password: "correct horse"}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func wantLines(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestCheckConnect(t *testing.T) {
	mailworldtest.Each(t, []mailworld.User{lin}, func(t *testing.T, w mailworld.World) {
		t.Run("ok", func(t *testing.T) {
			t.Setenv("SP_CONNECT_PASSWORD", lin.Password)
			path := connectConfig(t, w.IMAPAddr(), w.SMTPAddr(), "none", "[INBOX, Junk]")
			code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
			t.Logf("stdout:\n%s", stdout)
			if code != exitOK {
				t.Fatalf("check --connect exited %d\nstderr: %s", code, stderr)
			}
			// Dovecot marks Sent \Sent, which check names; the in-process world marks none.
			if strings.Contains(stdout, "Sent (sent copies; ") && !strings.Contains(stdout, `Sent (sent copies; \Sent, SPECIAL-USE)`) {
				t.Errorf("sent folder described oddly:\n%s", stdout)
			}
			wantLines(t, stdout,
				"IMAP "+w.IMAPAddr()+" (none)",
				"  ok    DNS      127.0.0.1 is an IP address",
				"  ok    TCP      connected to "+w.IMAPAddr(),
				"  ok    TLS      none: not encrypted",
				"  ok    login    lin.wei@example.com",
				"  ok    folders  INBOX (by name), Junk (by name), Sent (sent copies",
				"  ok    IDLE     offered",
				"SMTP "+w.SMTPAddr()+" (none)",
				"  ok    EHLO",
				"  ok    AUTH     lin.wei@example.com (PLAIN)",
				"  ok    NOOP",
				"Both mail servers work",
			)
			if strings.Contains(stdout, "FAIL") {
				t.Errorf("a step failed")
			}
		})

		t.Run("wrong password", func(t *testing.T) {
			t.Setenv("SP_CONNECT_PASSWORD", "wrong")
			path := connectConfig(t, w.IMAPAddr(), w.SMTPAddr(), "none", "[INBOX]")
			code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			wantLines(t, stdout, "  FAIL  login", "authentication failed", "app password", "  FAIL  AUTH")
			wantLines(t, stderr, "connection check failed: IMAP login failed", "SMTP AUTH PLAIN as lin.wei@example.com failed")
			if strings.Contains(stdout, "folders  ") {
				t.Errorf("steps after the failed login ran")
			}
		})

		t.Run("missing folder", func(t *testing.T) {
			t.Setenv("SP_CONNECT_PASSWORD", lin.Password)
			path := connectConfig(t, w.IMAPAddr(), w.SMTPAddr(), "none", "[INBOX, Nope]")
			code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
			t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			wantLines(t, stdout, "  FAIL  folders  folder Nope (mail.imap.folders)", "the account has: ", "Junk",
				"  ok    IDLE", "  ok    NOOP")
			wantLines(t, stderr, "folder Nope")
			if strings.Contains(stdout, "folder INBOX") {
				t.Errorf("INBOX reported missing")
			}
		})
	})
}

func TestCheckConnectClosedPort(t *testing.T) {
	t.Setenv("SP_CONNECT_PASSWORD", "pw")
	imapAddr, smtpAddr := closedAddr(t), closedAddr(t)
	path := connectConfig(t, imapAddr, smtpAddr, "none", "[INBOX]")
	code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	wantLines(t, stdout,
		"  FAIL  TCP      TCP connect to "+imapAddr+" failed: connection refused",
		"try: is the port right? security: tls uses 993, starttls 143",
		"  FAIL  TCP      TCP connect to "+smtpAddr+" failed: connection refused",
		"security: tls uses 465, starttls 587")
	wantLines(t, stderr, "IMAP TCP connect to "+imapAddr+" failed: connection refused — is the port right?")
	if strings.Contains(stdout, "login") {
		t.Errorf("steps after the failed TCP connect ran")
	}
}

// An implicit-TLS server with a certificate this machine does not trust: the TLS step
// fails and says what to do.
func TestCheckConnectUntrustedCertificate(t *testing.T) {
	t.Setenv("SP_CONNECT_PASSWORD", "pw")
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	path := connectConfig(t, srv.Listener.Addr().String(), closedAddr(t), "tls", "[INBOX]")
	code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	wantLines(t, stdout, "  ok    TCP", "  FAIL  TLS      TLS handshake with", "the certificate is signed by", "trust store")
}

// A plain-text server configured as implicit TLS: the TLS step says the port speaks
// plain text.
func TestCheckConnectPlainPortAsTLS(t *testing.T) {
	w := mailworldtest.Memory(t, lin)
	t.Setenv("SP_CONNECT_PASSWORD", lin.Password)
	path := connectConfig(t, w.IMAPAddr(), w.SMTPAddr(), "tls", "[INBOX]")
	code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	wantLines(t, stdout, "  FAIL  TLS", "did not answer with TLS", "starttls")
}

// A server without STARTTLS configured as starttls: the TLS step says so.
func TestCheckConnectNoStartTLS(t *testing.T) {
	w := mailworldtest.Memory(t, lin)
	t.Setenv("SP_CONNECT_PASSWORD", lin.Password)
	path := connectConfig(t, w.IMAPAddr(), w.SMTPAddr(), "starttls", "[INBOX]")
	code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	wantLines(t, stdout, "  FAIL  TLS", "STARTTLS")
}

// ca_file and server_name reach check --connect: the test server's own CA makes its
// certificate trusted; a server_name the certificate does not carry fails and names the
// key; a ca_file without a certificate is named.
func TestCheckConnectCAFileAndServerName(t *testing.T) {
	t.Setenv("SP_CONNECT_PASSWORD", "pw")
	srv := httptest.NewTLSServer(nil)
	defer srv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)
	with := func(keys string) string {
		path := connectConfig(t, srv.Listener.Addr().String(), closedAddr(t), "tls", "[INBOX]")
		b, _ := os.ReadFile(path)
		b = []byte(strings.Replace(string(b), "security: tls, ", "security: tls, "+keys+", ", 1))
		os.WriteFile(path, b, 0o600)
		return path
	}
	for _, tc := range []struct {
		name, keys string
		want       []string
	}{
		{"trusted through ca_file", "ca_file: " + ca, []string{"  ok    TLS"}},
		{"name not on the certificate", "ca_file: " + ca + ", server_name: mail.acme.example",
			[]string{"  FAIL  TLS", "the certificate is for example.com", "not mail.acme.example", "mail.imap.server_name"}},
		{"name on the certificate", "ca_file: " + ca + ", server_name: example.com", []string{"  ok    TLS"}},
		{"ca_file without a certificate", "ca_file: " + notPEM, []string{"  FAIL  TLS", "holds no PEM certificate", "fix mail.imap.ca_file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stdout, stderr := invoke(t, now, "check", "--config", with(tc.keys), "--connect")
			wantLines(t, stdout+stderr, tc.want...)
		})
	}
	// Without ca_file the same server is untrusted, and the hint names the key.
	_, stdout, _ := invoke(t, now, "check", "--config", connectConfig(t, srv.Listener.Addr().String(), closedAddr(t), "tls", "[INBOX]"), "--connect")
	wantLines(t, stdout, "  FAIL  TLS", "set mail.imap.ca_file")
}

// TestCheckConnectNamesDiscoveredFolders: `check --connect` says which folder \Junk names
// on the server and how it was found: by the SPECIAL-USE attribute ("Junk Email", not
// the plain "Junk" beside it), by its usual name where no folder is marked, or not at all.
func TestCheckConnectNamesDiscoveredFolders(t *testing.T) {
	w := mailworldtest.Memory(t)
	if err := w.AddUserWithFolders(lin, mailworld.Folder{Name: "Sent"}, mailworld.Folder{Name: "Junk"},
		mailworld.Folder{Name: "Junk Email", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}); err != nil {
		t.Fatal(err)
	}
	plain := mailworld.User{Address: "plain@example.com", Password: lin.Password}
	none := mailworld.User{Address: "none@example.com", Password: lin.Password}
	if err := w.AddUser(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.AddUserWithFolders(none, mailworld.Folder{Name: "Sent"}); err != nil {
		t.Fatal(err)
	}
	// An account whose sent folder has another name, marked \Sent (Microsoft 365's "Sent
	// Items"): the daemon files its copies there, and check opens that one.
	items := mailworld.User{Address: "items@example.com", Password: lin.Password}
	if err := w.AddUserWithFolders(items, mailworld.Folder{Name: "Sent Items", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrSent}},
		mailworld.Folder{Name: "Junk Email", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SP_CONNECT_PASSWORD", lin.Password)
	tests := []struct{ user, want string }{
		{items.Address, `  ok    folders  INBOX (by name), Junk Email (\Junk, SPECIAL-USE), Sent Items (sent copies; \Sent, SPECIAL-USE)`},
		{lin.Address, `  ok    folders  INBOX (by name), Junk Email (\Junk, SPECIAL-USE), Sent (sent copies)`},
		{plain.Address, `  ok    folders  INBOX (by name), Junk (\Junk: no folder marked; found by its usual name), Sent (sent copies)`},
		{none.Address, `  ok    folders  INBOX (by name), \Junk: no folder marked, none of the usual names (Junk, Spam), Sent (sent copies)`},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			path := connectConfig(t, w.IMAPAddr(), w.SMTPAddr(), "none", `[INBOX, \Junk]`)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), "username: lin.wei@example.com, password_env: SP_CONNECT_PASSWORD, folders", "username: "+tt.user+", password_env: SP_CONNECT_PASSWORD, folders", 1))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
			if code != exitOK {
				t.Fatalf("check --connect exited %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			wantLines(t, stdout, tt.want)
		})
	}
}
