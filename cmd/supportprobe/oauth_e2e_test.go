package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/mailbox/oauth/oauthtest"
	"supportprobe/probe/daemon"
)

// oauthWorldConfig probes acme-cloud by hand through w, logging in to both servers
// only with tokens from srv; /healthz listens on httpAddr.
const oauthWorldConfig = `state_dir: %[1]s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, auth: oauth2, username: lin.wei@example.com}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, auth: oauth2, username: lin.wei@example.com, sent_folder: Sent}
  oauth2: {provider: custom, client_id: app-1, device_url: "%[4]s", token_url: "%[5]s", scopes: [mail]}
http: {listen: "%[6]s"}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello, streams fail since 03:00."}
vendors:
  - name: acme-cloud
    to: ["Acme Support <support@acme.example>"]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`

// TestOAuthDaemonEndToEnd: a daemon signed in only with OAuth tokens (real Dovecot and
// Postfix checking them at the test authorization server) sends probes and records the
// vendor's answers across several access-token expiries without a restart. Then the
// refresh token is revoked and the IMAP server restarts: /healthz names the token
// refresh failure and the command to run, and everything recorded stays.
func TestOAuthDaemonEndToEnd(t *testing.T) {
	const lifetime = 4 * time.Second
	srv := oauthtest.Start(t, "app-1", "", linUser.Address, lifetime, 0)
	w := mailworldtest.RealWith(t, mailworld.RealOptions{OAuth2IntrospectionURL: srv.IntrospectURL()}, linUser, supportUser)

	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	_, smtpPort, _ := net.SplitHostPort(w.SMTPAddr())
	_, imapPort, _ := net.SplitHostPort(w.IMAPAddr())
	httpAddr := freeLoopbackAddr(t)
	cfgPath := filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, oauthWorldConfig, stateDir, smtpPort, imapPort, srv.DeviceURL(), srv.TokenURL(), httpAddr), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := invoke(t, time.Now(), "login", "--config", cfgPath); code != exitOK {
		t.Fatalf("login: exit %d, %s", code, stderr)
	}
	startDaemon(t, cfgPath, stateDir, "--no-schedules")

	const rounds = 3
	var ids []string
	for i := range rounds {
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("round %d: send: exit %d, %s", i, code, stderr)
		}
		id := strings.TrimSpace(stdout)
		ids = append(ids, id)
		p := waitHistory(t, cfgPath, id, "sent", func(p historyProbe) bool { return p.Status == "sent" })
		vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf("From: Dana Li <dana@acme.example>\nTo: Lin Wei <lin.wei@example.com>\nSubject: Re: Streams failing\nMessage-ID: <agent-%[1]s@helpdesk.acme.example>\nIn-Reply-To: <%[2]s>\nReferences: <%[2]s>\nDate: %[3]s\nContent-Type: text/plain; charset=utf-8\n\nHi Lin,\n\nwe moved your streams to a healthy ingest node; new streams should start now.\n\nDana\n",
			p.Token, p.MessageID, time.Now().Format(time.RFC1123Z)))
		waitHistory(t, cfgPath, id, "answered", func(p historyProbe) bool { return p.Status == "answered" })
		time.Sleep(lifetime) // the access token in use expires before the next round
	}
	if n := srv.Refreshes(); n < rounds {
		t.Errorf("the authorization server saw %d refreshes over %d access-token lifetimes, want at least %d", n, rounds, rounds)
	}

	srv.RevokeAll()
	if err := w.StopIMAP(); err != nil {
		t.Fatal(err)
	}
	if err := w.StartIMAP(); err != nil {
		t.Fatal(err)
	}
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if strings.Contains(body, "invalid_grant") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never named the revoked token within 30 s; last: %s", body)
		}
	}
	for _, want := range []string{"token refresh: invalid_grant", "run `supportprobe login`"} {
		if !strings.Contains(body, want) {
			t.Errorf("/healthz = %s, want it to contain %q", body, want)
		}
	}
	answered := 0
	for _, p := range readHistory(t, cfgPath) {
		if p.Status == "answered" {
			answered++
		}
	}
	if answered != rounds {
		t.Errorf("history holds %d answered probes after the revocation, want all %d kept", answered, rounds)
	}
	data, _ := os.ReadFile(daemon.DatabasePath(stateDir))
	for _, tok := range append(srv.IssuedRefreshTokens(), srv.IssuedAccessTokens()...) {
		if strings.Contains(body, tok) || (len(data) > 0 && strings.Contains(string(data), tok)) {
			t.Errorf("token %s appears in /healthz or the database", tok)
		}
	}
}
