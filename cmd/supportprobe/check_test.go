package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
)

// TestCheckWarnsDeadlineBeforeTarget: with the example's lotus-ops given a 7d deadline,
// its 8h business-clock P3 target cannot pass for probes sent just before Golden Week;
// check says so, naming the send times, and the file stays valid.
func TestCheckWarnsDeadlineBeforeTarget(t *testing.T) {
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "")
	data := bytes.Replace(configs.Example, []byte("    deadline: 10d"), []byte("    deadline: 7d"), 1)
	if bytes.Equal(data, configs.Example) {
		t.Fatal("the example has no lotus-ops deadline of 10d to change")
	}
	path := filepath.Join(t.TempDir(), "supportprobe.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	code, _, stderr := invoke(t, before, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check: exit %d, want %d\n%s", code, exitOK, stderr)
	}
	want := `warning: vendor "lotus-ops": sla.P3: the 8h business-time target cannot pass within the 7d deadline for probes sent Wed 2026-09-30 10:00 to Thu 2026-10-01 17:00 (Asia/Shanghai`
	if !strings.Contains(stderr, want) {
		t.Errorf("check stderr lacks\n%s\n got:\n%s", want, stderr)
	}

	// The example itself (10d) draws no such warning.
	_, _, stderr = invoke(t, before, "check", "--config", "../../configs/supportprobe.example.yaml")
	if strings.Contains(stderr, "cannot pass within") {
		t.Errorf("check of the example warns about a deadline:\n%s", stderr)
	}
}

// TestCheckHTTP: check shows the listener, warns about insecure_plaintext, and names a
// credentials file the daemon could not use, while the file stays valid.
func TestCheckHTTP(t *testing.T) {
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "")
	dir := t.TempDir()
	path := filepath.Join(dir, "supportprobe.yaml")
	data := append(bytes.Clone(configs.Example),
		"http: {listen: \"0.0.0.0:9108\", allow_remote: true, auth: {bearer_tokens_file: http-tokens}, insecure_plaintext: true}\n"...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	const plaintext = "warning: http.insecure_plaintext: remote access to 0.0.0.0:9108 without TLS: tokens, passwords and metrics cross the network in the clear"
	tokens := filepath.Join(dir, "http-tokens")

	code, stdout, stderr := invoke(t, now, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check: exit %d, want %d\n%s", code, exitOK, stderr)
	}
	for _, want := range []string{plaintext, "warning: http.auth.bearer_tokens_file " + tokens + ": no such file or directory", "`supportprobe run` will refuse to start until it is fixed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check stderr lacks\n%s\ngot:\n%s", want, stderr)
		}
	}
	if want := "HTTP http://0.0.0.0:9108  (remote allowed; auth bearer tokens on every path but /healthz)"; !strings.Contains(stdout, want) {
		t.Errorf("check stdout lacks\n%s\ngot:\n%s", want, stdout)
	}

	if want := "Dashboard http://0.0.0.0:9108/  read-only"; !strings.Contains(stdout, want) {
		t.Errorf("check stdout lacks\n%s\ngot:\n%s", want, stdout)
	}

	if err := os.WriteFile(tokens, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// With dashboard.read_only: false, check says decisions are allowed on the page.
	if err := os.WriteFile(path, append(bytes.Clone(data), "dashboard: {read_only: false}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stdout, _ = invoke(t, now, "check", "--config", path)
	if want := "Dashboard http://0.0.0.0:9108/  decisions allowed (dashboard.read_only: false)"; !strings.Contains(stdout, want) {
		t.Errorf("check stdout lacks\n%s\ngot:\n%s", want, stdout)
	}
	_, _, stderr = invoke(t, now, "check", "--config", path)
	if !strings.Contains(stderr, plaintext) || strings.Contains(stderr, "bearer_tokens_file") {
		t.Errorf("with the tokens file in place, check stderr =\n%s\nwant only the plaintext warning about http", stderr)
	}
}

// TestCheckMicrosoft365PresetWithoutToken is issue 18's "done when": check on a
// provider: microsoft365 configuration that has not signed in yet prints what the preset
// chose and says exactly which command to run.
func TestCheckMicrosoft365PresetWithoutToken(t *testing.T) {
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	path := filepath.Join(dir, "supportprobe.yaml")
	cfg := `state_dir: ` + stateDir + `
mail:
  from: "Lin Wei <lin.wei@example.com>"
  provider: microsoft365
  smtp: {username: lin.wei@example.com}
  imap: {username: lin.wei@example.com}
  oauth2:
    client_id: 11111111-2222-3333-4444-555555555555
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoke(t, now, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	wantLines(t, stdout,
		`From: "Lin Wei" <lin.wei@example.com>  (SMTP smtp.office365.com:587, starttls; IMAP outlook.office365.com:993, tls, folders INBOX, the folder marked \Junk)`,
		"Provider preset microsoft365 chose (keys written in the file win):",
		"  mail.smtp.host: smtp.office365.com", "  mail.smtp.security: starttls", "  mail.smtp.port: 587", "  mail.smtp.auth: oauth2",
		"  mail.imap.host: outlook.office365.com", "  mail.imap.security: tls", "  mail.imap.port: 993", "  mail.imap.auth: oauth2",
		"  mail.oauth2.provider: microsoft",
		`Sent copies: microsoft365 files one itself; after each send supportprobe waits for it in the folder the server marks \Sent, else "Sent" and appends its own only if none appears`,
		"OAuth 2.0 for IMAP and SMTP: provider microsoft, client 11111111-2222-3333-4444-555555555555, tenant organizations",
		"  not signed in yet: no "+filepath.Join(stateDir, configs.TokenFileName))
	wantLines(t, stderr, "warning: mail.imap and mail.smtp log in with OAuth 2.0 but no token is stored yet: run `supportprobe login --config "+path+"`")
}
