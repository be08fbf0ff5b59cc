package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// generatorCase is a vendor whose address makes a real program answer a probe with machine
// mail: a bounce, a delay warning, a verification report or a vacation reply.
type generatorCase struct {
	vendor, to string
	verify     bool // after sending, run "sendmail -bv" for the vendor's address, reporting to the probe's plus-address
	flush      bool // a delay warning: flush Postfix's queue once the probe has waited delay_warning_time
	wantKind   string
	wantStatus string // the probe's status once that mail is recorded
}

func generatorCases() []generatorCase {
	cases := []generatorCase{
		{vendor: "postfix-unknown-user", to: mailworld.UnknownUserAddress, wantKind: "bounce", wantStatus: "bounced"},
		{vendor: "postfix-mailbox-full", to: mailworld.MailboxFullAddress, wantKind: "bounce", wantStatus: "bounced"},
		{vendor: "postfix-relay-refused", to: mailworld.RelayRefusedAddress, wantKind: "bounce", wantStatus: "bounced"},
		{vendor: "exim-unknown-user", to: mailworld.EximUnknownAddress, wantKind: "bounce", wantStatus: "bounced"},
		{vendor: "opensmtpd-unknown-user", to: mailworld.OpenSMTPDUnknownAddress, wantKind: "bounce", wantStatus: "bounced"},
		// The recipient's Sieve filter refused the inquiry (RFC 5429 reject): Pigeonhole's
		// MDN with "Disposition: ...; deleted" says nobody will read it.
		{vendor: "sieve-reject", to: mailworld.SieveRejectAddress, wantKind: "bounce", wantStatus: "bounced"},
		// A delay warning and a verification report say the inquiry may still arrive, or
		// can: neither is a bounce, and neither is an answer.
		{vendor: "postfix-delayed", to: mailworld.DeferredAddress, flush: true, wantKind: "other", wantStatus: "sent"},
		{vendor: "opensmtpd-delayed", to: mailworld.OpenSMTPDDeferredAddress, wantKind: "other", wantStatus: "sent"},
		{vendor: "postfix-verified", to: supportUser.Address, verify: true, wantKind: "other", wantStatus: "sent"},
	}
	for _, v := range mailworld.Vacations {
		cases = append(cases, generatorCase{vendor: "vacation-" + strings.ToLower(v.Language), to: v.Address, wantKind: "out_of_office", wantStatus: "sent"})
	}
	return cases
}

// generatorsConfig is worldConfig with one vendor per generator case and no schedule that
// could fire during the test (probes are sent by hand, and the daemon runs with
// --no-schedules).
func generatorsConfig(t *testing.T, w mailworld.World, cases []generatorCase) (cfgPath, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "state")
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(linUser.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, smtpPort, _ := net.SplitHostPort(w.SMTPAddr())
	_, imapPort, _ := net.SplitHostPort(w.IMAPAddr())
	var b strings.Builder
	fmt.Fprintf(&b, `state_dir: %s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: %s, security: none, username: lin.wei@example.com, password_file: %s}
  imap: {host: 127.0.0.1, port: %s, security: none, username: lin.wei@example.com, password_file: %s, sent_folder: Sent}
scripts:
  - {id: outage-zh, language: zh, priority: P1, subject: "紧急：{{.Region}} 推流失败", body: "您好，\n从 {{.LocalTime.Format \"15:04\"}} 起 {{.Region}} 无法推流。\n", vars: {Region: 华东}}
vendors:
`, stateDir, smtpPort, pw, imapPort, pw)
	for _, c := range cases {
		fmt.Fprintf(&b, `  - name: %s
    to: ["Support <%s>"]
    timezone: Asia/Shanghai
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "0 3 1 1 *", scripts: [outage-zh]}
`, c.vendor, c.to)
	}
	cfgPath = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, stateDir
}

// TestGeneratorsEndToEnd sends a probe to each generator of machine mail in the real
// mail world (Postfix bounces for an unknown user, a full mailbox and a refused relay; an
// Exim bounce; an OpenSMTPD bounce; a Sieve reject's rejection notice; Postfix and OpenSMTPD delay warnings; a Postfix
// verification report; Sieve vacation replies in six languages) and checks what the daemon
// makes of the answer: none ever marks the probe answered; bounces (the Sieve rejection
// among them) mark it bounced, delay warnings and a verification
// report do not, vacation replies are out_of_office and leave the probe waiting for a
// person.
//
// Every answer must arrive, be matched to its probe and get its kind; a misread is
// logged ("MISREAD: ...") with the classifier's reason and fails the subtest.
func TestGeneratorsEndToEnd(t *testing.T) {
	w := mailworldtest.RealWith(t, mailworld.RealOptions{Generators: true, Exim: true, OpenSMTPD: true}, linUser, supportUser)
	cases := generatorCases()
	cfgPath, stateDir := generatorsConfig(t, w, cases)
	startDaemon(t, cfgPath, stateDir, "--no-schedules")

	ids := make([]string, len(cases))
	for i, c := range cases {
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", c.vendor)
		if code != exitOK {
			t.Fatalf("send --vendor %s: exit %d, %s", c.vendor, code, stderr)
		}
		ids[i] = strings.TrimSpace(stdout)
	}
	sentAt := time.Now()
	for i, c := range cases {
		p := waitHistory(t, cfgPath, ids[i], "sent", func(p historyProbe) bool { return p.Status != "" && p.Token != "" })
		if c.verify {
			// As a vendor's mail system checking the address the inquiry asks replies to:
			// the report goes to the probe's plus-address.
			if err := w.VerifyAddress("lin.wei+"+p.Token+"@example.com", c.to); err != nil {
				t.Fatalf("%s: %v", c.vendor, err)
			}
		}
	}
	// Postfix sends a delay warning at the first queue run after delay_warning_time (1 s).
	time.Sleep(time.Until(sentAt.Add(1500 * time.Millisecond)))
	if err := w.FlushQueue(); err != nil {
		t.Fatal(err)
	}

	var misreads []string
	for i, c := range cases {
		t.Run(c.vendor, func(t *testing.T) {
			p := waitHistory(t, cfgPath, ids[i], "a reply recorded", func(p historyProbe) bool { return len(p.Replies) > 0 })
			if len(p.Replies) != 1 {
				t.Errorf("probe %s to %s: replies %+v, want exactly one", ids[i], c.to, p.Replies)
			}
			r := p.Replies[0]
			if r.MatchedBy == "" || r.Reason == "" {
				t.Errorf("probe %s: reply %+v has no matching rung or no reason", ids[i], r)
			}
			t.Logf("probe %s to %s: reply kind %s, matched by %s, status %s; reason: %s", ids[i], c.to, r.Kind, r.MatchedBy, p.Status, r.Reason)
			if p.Status == "answered" {
				t.Errorf("probe %s to %s: answered by %s alone (reply kind %s): machine mail is never a first response", ids[i], c.to, generatorWhat(c), r.Kind)
			}
			if r.Kind != c.wantKind {
				misread := fmt.Sprintf("MISREAD: %s (%s): %s classified %s, want %s; reason: %s", c.vendor, c.to, generatorWhat(c), r.Kind, c.wantKind, r.Reason)
				misreads = append(misreads, misread)
				t.Fatal(misread)
			}
			if p.Status != c.wantStatus {
				t.Errorf("probe %s to %s: status %s after a %s reply, want %s", ids[i], c.to, p.Status, r.Kind, c.wantStatus)
			}
		})
	}
	if len(misreads) > 0 {
		t.Logf("%d of %d generated replies misread by the classifier:\n%s", len(misreads), len(cases), strings.Join(misreads, "\n"))
	}
}

// generatorWhat names the machine mail a case provokes, for the misread log.
func generatorWhat(c generatorCase) string {
	switch {
	case c.verify:
		return "a Postfix verification report (Action: deliverable)"
	case c.flush:
		return "a Postfix delay warning (Action: delayed)"
	case c.vendor == "opensmtpd-delayed":
		return "an OpenSMTPD delay notice (Action: delayed)"
	case strings.HasPrefix(c.vendor, "exim"):
		return "an Exim bounce"
	case strings.HasPrefix(c.vendor, "opensmtpd"):
		return "an OpenSMTPD bounce"
	case c.vendor == "sieve-reject":
		return "a Sieve reject's rejection notice (Pigeonhole MDN, Disposition: ...; deleted)"
	case strings.HasPrefix(c.vendor, "postfix"):
		return "a Postfix bounce"
	default:
		return "a Sieve vacation reply (" + strings.TrimPrefix(c.vendor, "vacation-") + ")"
	}
}
