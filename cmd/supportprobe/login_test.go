package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/oauth/oauthtest"
)

// oauthConfig writes a configuration whose servers (imapAddr, smtpAddr) log in with
// tokens from the fake authorization server srv, and returns its path and state dir.
func oauthConfig(t *testing.T, srv *oauthtest.Server, imapAddr, smtpAddr string) (path, stateDir string) {
	t.Helper()
	ih, ip, _ := net.SplitHostPort(imapAddr)
	sh, sp, _ := net.SplitHostPort(smtpAddr)
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "state")
	cfg := fmt.Sprintf(`state_dir: %s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: %s, port: %s, security: none, auth: oauth2, username: lin.wei@example.com, timeout: 5s}
  imap: {host: %s, port: %s, security: none, auth: oauth2, username: lin.wei@example.com, folders: [INBOX], timeout: 5s}
  oauth2:
    provider: custom
    client_id: %s
    device_url: %s
    token_url: %s
    scopes: [mail]
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`, stateDir, sh, sp, ih, ip, srv.ClientID, srv.DeviceURL(), srv.TokenURL())
	path = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, stateDir
}

func TestLoginCommand(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 1)
	path, stateDir := oauthConfig(t, srv, "127.0.0.1:143", "127.0.0.1:25")

	code, stdout, stderr := invoke(t, now, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check before login: exit %d\n%s", code, stderr)
	}
	wantLines(t, stdout, "OAuth 2.0 for IMAP and SMTP: provider custom, client app-1", "scopes mail", "not signed in yet")
	wantLines(t, stderr, "warning: mail.imap and mail.smtp log in with OAuth 2.0 but no token is stored yet: run `supportprobe login --config "+path+"`")

	code, stdout, stderr = invoke(t, now, "login", "--config", path, "--provider", "custom")
	if code != exitOK {
		t.Fatalf("login: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	wantLines(t, stdout, "Open "+srv.URL+"/activate in a browser, sign in as lin.wei@example.com and enter the code:", "    WDJB-MJHT",
		"Signed in. The refresh token is in "+filepath.Join(stateDir, configs.TokenFileName))
	fi, err := os.Stat(filepath.Join(stateDir, configs.TokenFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v; want one with mode 0600", err, fi)
	}
	for _, tok := range append(srv.IssuedRefreshTokens(), srv.IssuedAccessTokens()...) {
		if strings.Contains(stdout+stderr, tok) {
			t.Errorf("login printed token %s", tok)
		}
	}

	code, stdout, stderr = invoke(t, now, "check", "--config", path)
	if code != exitOK || !strings.Contains(stdout, "signed in: ") || strings.Contains(stderr, "no token is stored") {
		t.Errorf("check after login: exit %d, stdout %s, stderr %s; want it signed in without a warning", code, stdout, stderr)
	}
}

func TestLoginUsage(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	path, _ := oauthConfig(t, srv, "127.0.0.1:143", "127.0.0.1:25")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"provider mismatch", []string{"login", "--config", path, "--provider", "microsoft"}, exitUsage, "--provider microsoft, but mail.oauth2.provider in " + path + " is custom"},
		{"unknown provider", []string{"login", "--config", path, "--provider", "yahoo"}, exitUsage, `--provider "yahoo": want microsoft, google or custom`},
		{"password configuration", []string{"login", "--config", "../../configs/supportprobe.example.yaml"}, exitConfig, "no server in ../../configs/supportprobe.example.yaml has auth: oauth2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := invoke(t, now, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestCheckConnectRevokedToken: after the refresh token is revoked, check --connect
// names the failing step and the command to run, for IMAP and SMTP alike.
func TestCheckConnectRevokedToken(t *testing.T) {
	w, err := mailworld.StartMemory(lin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	path, _ := oauthConfig(t, srv, w.IMAPAddr(), w.SMTPAddr())
	if code, _, stderr := invoke(t, now, "login", "--config", path); code != exitOK {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	srv.RevokeAll()
	code, stdout, stderr := invoke(t, now, "check", "--config", path, "--connect")
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	wantLines(t, stdout, "  FAIL  login", "token refresh: invalid_grant: AADSTS70008", "run `supportprobe login`",
		"  FAIL  AUTH     token refresh: invalid_grant")
	wantLines(t, stderr, "connection check failed")
}
