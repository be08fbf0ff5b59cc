package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestReportEmailThroughDaemon: with the daemon running, `report --email` has the daemon
// mail the summary with its own SMTP login, and the mail reaches summary.to.
func TestReportEmailThroughDaemon(t *testing.T) {
	w := mailworldtest.Memory(t, linUser, supportUser, mailworld.User{Address: "procurement@example.com", Password: "p-pw"})
	cfgPath, stateDir := mustWorldConfig(t, w)
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append(b, []byte("summary: {cron: \"0 9 * * 1\", timezone: UTC, to: [\"procurement@example.com\"]}\n")...), 0o600)
	startDaemonWith(t, cfgPath, stateDir, nil, "--no-schedules")
	if code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud"); code != exitOK {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := invoke(t, time.Now(), "report", "--config", cfgPath, "--week", "this", "--email")
	if code != exitOK || !strings.Contains(stdout, "sent to procurement@example.com by daemon pid") {
		t.Fatalf("report --email: exit %d\n%s%s", code, stdout, stderr)
	}
	mails := waitForMail(t, w, mailworld.User{Address: "procurement@example.com", Password: "p-pw"}, 1, 20*time.Second)
	if subj := mails[0].header.Get("Subject"); subj == "" {
		t.Errorf("summary mail without a subject: %+v", mails[0].header)
	}
}
