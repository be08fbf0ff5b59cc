package mailworld_test

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomail "github.com/wneessen/go-mail"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// EnvUpdateCorpus, set to "1", makes TestGeneratorsCorpus rewrite the gen-* files of
// probe/testdata/corpus from the messages it has just produced.
const EnvUpdateCorpus = "SUPPORTPROBE_UPDATE_CORPUS"

// corpusDir is the labelled corpus of the classifier, seen from this package.
var corpusDir = filepath.Join("..", "..", "probe", "testdata", "corpus")

// generated is one message a generator makes: the inquiry that provokes it, what the
// message must show, and where it goes in the corpus (directory = expected kind).
type generated struct {
	name   string // the corpus file, KIND/gen-NAME.eml
	to     string // the inquiry's recipient; "" for a verification report
	verify string // VerifyAddress's recipient, for a verification report
	flush  bool   // a delay warning: flush the queue once the message has waited
	// want are patterns the generated message must match (its headers and body as
	// received).
	want []string
	// subject matches the decoded Subject.
	subject string
	// fromSender puts the envelope sender in the inquiry's From: too, for programs that
	// answer the From: address (mailing lists, autoresponders).
	fromSender bool
}

func generators() []generated {
	g := []generated{
		{name: "bounce/gen-postfix-unknown-user", to: mailworld.UnknownUserAddress, want: []string{
			`(?m)^From: Mail Delivery System <MAILER-DAEMON@mail\.mailworld\.test>`, `(?m)^Subject: Undelivered Mail Returned to Sender`, `(?m)^Auto-Submitted: auto-replied`,
			`report-type=delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.1\.1`, `User\s+doesn't\s+exist`}},
		{name: "bounce/gen-postfix-mailbox-full", to: mailworld.MailboxFullAddress, want: []string{
			`(?m)^From: Mail Delivery System <MAILER-DAEMON@`, `report-type=delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.2\.2`, `Quota\s+exceeded`}},
		{name: "bounce/gen-postfix-relay-refused", to: mailworld.RelayRefusedAddress, want: []string{
			`(?m)^From: Mail Delivery System <MAILER-DAEMON@`, `report-type=delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.7\.1`, `Relay\s+access\s+denied`}},
		{name: "bounce/gen-postfix-mail-loop", to: mailworld.LoopAddress, want: []string{
			`(?m)^From: Mail Delivery System <MAILER-DAEMON@`, `report-type=delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.4\.0`,
			`554 5\.4\.0 Error: too many hops`}},
		{name: "bounce/gen-postfix-size-limit", to: mailworld.SizeLimitAddress, want: []string{
			`(?m)^From: Mail Delivery System <MAILER-DAEMON@`, `report-type=delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.3\.4`,
			`message size \d+ exceeds size limit 300 of server`}},
		{name: "delay/gen-postfix-delay-warning", to: mailworld.DeferredAddress, flush: true, want: []string{
			`(?m)^From: Mail Delivery System <MAILER-DAEMON@`, `(?m)^Subject: Delayed Mail \(still being retried\)`,
			`report-type=delivery-status`, `(?m)^Action: delayed`, `(?m)^Status: 4\.4\.1`, `Connection\s+refused`}},
		{name: "notification/gen-postfix-verify-deliverable", verify: lin.Address, want: []string{
			`(?m)^Subject: Mail Delivery Status Report`, `report-type=delivery-status`, `(?m)^Action: deliverable`}},
		{name: "notification/gen-postfix-verify-undeliverable", verify: mailworld.RelayRefusedAddress, want: []string{
			`(?m)^Subject: Mail Delivery Status Report`, `report-type=delivery-status`, `(?m)^Action: undeliverable`, `Relay\s+access\s+denied`}},
		{name: "bounce/gen-exim-unknown-user", to: mailworld.EximUnknownAddress, want: []string{
			`(?m)^From: Mail Delivery System <Mailer-Daemon@exim\.test>`, `(?m)^X-Failed-Recipients: no-such-user@exim\.test`,
			`(?m)^Subject: Mail delivery failed: returning message to sender`, `Unknown user`, `(?m)^Auto-Submitted: auto-replied`,
			`report-type=delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.0\.0`, `by mx\.exim\.test with esmtp \(Exim 4\.\d+\)`}},
		{name: "bounce/gen-opensmtpd-unknown-user", to: mailworld.OpenSMTPDUnknownAddress, want: []string{
			`(?m)^From: Mailer Daemon <MAILER-DAEMON@mx\.opensmtpd\.test>`, `(?m)^Subject: Delivery status notification: failed`,
			`(?m)^Content-Type: multipart/mixed;`, `(?m)^Content-Type: message/delivery-status`, `(?m)^Action: failed`, `(?m)^Status: 5\.0\.0`,
			`550 Invalid recipient: <no-such-user@opensmtpd\.test>`, `by mx\.opensmtpd\.test \(OpenSMTPD\)`,
			`(?m)^Message-ID: <inquiry-gen-opensmtpd-unknown-user@customer\.example>`}},
		{name: "delay/gen-opensmtpd-delay-notice", to: mailworld.OpenSMTPDDeferredAddress, want: []string{
			`(?m)^From: Mailer Daemon <MAILER-DAEMON@mx\.opensmtpd\.test>`, `(?m)^Subject: Delivery status notification: delayed`,
			`(?m)^Content-Type: message/delivery-status`, `(?m)^Action: delayed`, `(?m)^Status: 4\.0\.0`,
			`451 4\.3\.0 Mailbox temporarily unavailable`, `only a temporary failure report`}},
	}
	for _, v := range mailworld.Vacations {
		subject := "^" + regexp.QuoteMeta(v.Subject) + "$"
		if v.Subject == "" {
			subject = `^Auto: Streaming fails in region East China since 03:00$`
		}
		g = append(g, generated{name: "out_of_office/gen-sieve-vacation-" + strings.ToLower(v.Language), to: v.Address, subject: subject, want: []string{
			`(?m)^Auto-Submitted: auto-replied \(vacation\)`, `(?m)^Precedence: bulk`, `(?m)^From: <?` + regexp.QuoteMeta(v.Address),
			`(?m)^In-Reply-To: <inquiry-gen-sieve-vacation-` + strings.ToLower(v.Language) + `@customer\.example>`}})
	}
	// A Sieve reject: Pigeonhole's MDN, not a DSN, and only the inquiry's headers returned.
	g = append(g, generated{name: "bounce/gen-sieve-reject", to: mailworld.SieveRejectAddress,
		subject: `^Rejected: Streaming fails in region East China since 03:00$`, want: []string{
			`(?m)^From: Postmaster <postmaster@mailworld\.test>`, `(?m)^Auto-Submitted: auto-replied \(rejected\)`, `(?m)^Precedence: bulk`,
			`(?m)^Content-Type: multipart/report; report-type=disposition-notification;`, `(?m)^Content-Type: message/disposition-notification`,
			`(?m)^Reporting-UA: mail\.mailworld\.test; Dovecot Mail Delivery Agent`, `(?m)^Final-Recipient: rfc822; rejects@generators\.test`,
			`(?m)^Original-Message-ID: <inquiry-gen-sieve-reject@customer\.example>`,
			`(?m)^Disposition: automatic-action/MDN-sent-automatically; deleted`,
			`Your message to <rejects@generators\.test> was automatically rejected:\r?\n` + regexp.QuoteMeta(mailworld.SieveRejectReason),
			`(?m)^Content-Type: message/rfc822`}})
	return g
}

// TestGeneratorsCorpus provokes every generator of a world with generators, Exim and
// OpenSMTPD,
// checks that each message is what that program makes (report type, DSN Action and
// Status, automatic headers, the localised vacation subject), and compares it with the
// committed corpus file, which SUPPORTPROBE_UPDATE_CORPUS=1 rewrites instead.
func TestGeneratorsCorpus(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w := mailworldtest.RealWith(t, mailworld.RealOptions{Generators: true, Exim: true, OpenSMTPD: true}, lin)
	t.Logf("world with generators, Exim and OpenSMTPD started in %v", time.Since(start).Round(time.Millisecond))
	c := login(t, w, lin)
	cases := generators()
	sent := map[string]time.Time{}
	sendGenerated(t, w, cases, sent)
	// The delay warning: the deferred message has waited more than delay_warning_time (1 s)
	// at the queue run FlushQueue asks for. Its latency counts from the flush.
	flushAt := time.Now().Add(1500 * time.Millisecond)
	flush := func() {
		for _, g := range cases {
			if g.flush {
				sent[tagOf(g.name)] = time.Now()
			}
		}
		if err := w.FlushQueue(); err != nil {
			t.Fatal(err)
		}
	}
	got := waitTagged(t, w, c, sent, flushAt, flush)
	checkGenerated(t, w, cases, got)
}

// sendGenerated sends each case's inquiry (or asks for its verification report) from lin's
// plus-address of the case, recording when in sent.
func sendGenerated(t *testing.T, w *mailworld.Real, cases []generated, sent map[string]time.Time) {
	t.Helper()
	for _, g := range cases {
		tag := tagOf(g.name)
		sender := "lin.wei+" + tag + "@example.com"
		sent[tag] = time.Now()
		if g.verify != "" {
			if err := w.VerifyAddress(sender, g.verify); err != nil {
				t.Fatalf("%s: %v", g.name, err)
			}
			continue
		}
		from := "Lin Wei <lin.wei@example.com>"
		if g.fromSender {
			from = "Lin Wei <" + sender + ">"
		}
		if err := sendInquiry(w, from, sender, g.to, "inquiry-"+tag+"@customer.example"); err != nil {
			t.Fatalf("%s: send to %s: %v", g.name, g.to, err)
		}
	}
}

// checkGenerated checks each case's message in got against the case's patterns and the
// committed corpus file, or rewrites that file with SUPPORTPROBE_UPDATE_CORPUS=1.
func checkGenerated(t *testing.T, w *mailworld.Real, cases []generated, got map[string][]byte) {
	t.Helper()
	for _, g := range cases {
		m, ok := got[tagOf(g.name)]
		if !ok {
			t.Errorf("%s: no message arrived for %s", g.name, tagOf(g.name))
			continue
		}
		for _, re := range g.want {
			if !regexp.MustCompile(re).Match(m) {
				t.Errorf("%s: message does not match %s:\n%s", g.name, re, m)
			}
		}
		if g.subject != "" {
			if subject := decodedSubject(t, m); !regexp.MustCompile(g.subject).MatchString(subject) {
				t.Errorf("%s: subject %q does not match %s", g.name, subject, g.subject)
			}
		}
		if bytes.Contains(m, []byte(w.Dir())) {
			t.Errorf("%s: message names the world's directory %s", g.name, w.Dir())
		}
		if host, err := os.Hostname(); err == nil && regexp.MustCompile(`[@.(\[ _]`+regexp.QuoteMeta(host)+`[>)\]; -]`).Match(m) {
			t.Errorf("%s: message names this machine, %q:\n%s", g.name, host, m)
		}
		file := filepath.Join(corpusDir, g.name+".eml")
		if os.Getenv(EnvUpdateCorpus) == "1" {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, m, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: %v (run with %s=1 to write it)", g.name, err, EnvUpdateCorpus)
			continue
		}
		for _, re := range g.want {
			if !regexp.MustCompile(re).Match(old) {
				t.Errorf("%s: the committed %s no longer matches %s, which the generator's message does; regenerate it with %s=1", g.name, file, re, EnvUpdateCorpus)
			}
		}
	}
}

// tagOf returns the plus-address detail that tells a case's message from the others: the
// file name without its directory.
func tagOf(name string) string { return filepath.Base(name) }

// sendInquiry sends a customer's inquiry from from (a From: header's value) to to with the
// given Message-ID and envelope sender as the prober does: 7-bit (quoted-printable), without
// SMTPUTF8.
func sendInquiry(w mailworld.World, from, envFrom, to, messageID string) error {
	host, port, err := net.SplitHostPort(w.SMTPAddr())
	if err != nil {
		return err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	client, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithHELO("client.customer.test"), gomail.WithTimeout(10*time.Second), gomail.WithoutSMTPUTF8())
	if err != nil {
		return err
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := errors.Join(m.From(from), m.To("Support <"+to+">"), m.EnvelopeFrom(envFrom)); err != nil {
		return err
	}
	m.Subject("Streaming fails in region East China since 03:00")
	m.SetMessageIDWithValue(messageID)
	m.SetDate()
	m.SetBodyString(gomail.TypeTextPlain, "Hello,\r\n\r\nsince 03:00 (UTC+8) no stream can be started in region East China (华东); the\r\nconsole shows error 502. Could you please look into it?\r\n\r\nLin Wei\r\n")
	return client.DialAndSend(m)
}

var deliveredToRe = regexp.MustCompile(`(?m)^Delivered-To: lin\.wei\+([^@]+)@example\.com`)

// waitTagged waits until lin's INBOX holds a message for every tag of sent, at most 20 s,
// calling flush once at flushAt, and returns the messages by the plus-address detail they
// were delivered to. It logs how long each took to arrive after its time in sent (measured
// by polling every 20 ms).
func waitTagged(t *testing.T, w *mailworld.Real, c *imapclient.Client, sent map[string]time.Time, flushAt time.Time, flush func()) map[string][]byte {
	t.Helper()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("SELECT INBOX: %v", err)
	}
	got := map[string][]byte{}
	arrived := map[string]time.Duration{}
	deadline := time.Now().Add(20 * time.Second)
	flushed := false
	for len(got) < len(sent) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if !flushed && time.Now().After(flushAt) {
			flush()
			flushed = true
		}
		if err := c.Noop().Wait(); err != nil {
			t.Fatalf("NOOP: %v", err)
		}
		for _, m := range fetch(t, c, imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}) {
			sub := deliveredToRe.FindSubmatch(raw(m))
			if sub == nil {
				t.Fatalf("message without a tagged Delivered-To:\n%s", raw(m))
			}
			tag := strings.ToLower(string(sub[1]))
			if _, ok := got[tag]; !ok {
				got[tag] = bytes.Clone(raw(m))
				arrived[tag] = time.Since(sent[tag])
			}
		}
	}
	var lines []string
	for tag, d := range arrived {
		lines = append(lines, fmt.Sprintf("%-40s %v", tag, d.Round(10*time.Millisecond)))
	}
	slices.Sort(lines)
	t.Logf("arrival after the inquiry (the delay warning: after the flush), polled every 20 ms:\n%s", strings.Join(lines, "\n"))
	if len(got) < len(sent) {
		t.Logf("INBOX holds %d of %d messages after 20 s; the world's logs:\n%s", len(got), len(sent), w.Logs())
	}
	return got
}

// decodedSubject returns m's Subject with its encoded words decoded.
func decodedSubject(t *testing.T, m []byte) string {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", msg.Header.Get("Subject"), err)
	}
	return s
}

// TestGeneratorDomainsRefused: a world with generators refuses users in the generators'
// domains, at start and in AddUser, since Postfix routes that mail to a generator.
func TestGeneratorDomainsRefused(t *testing.T) {
	t.Parallel()
	opts := mailworld.RealOptions{Generators: true}
	w := mailworldtest.RealWith(t, opts, lin) // skips, or fails, where generators cannot run
	for _, addr := range []string{"someone@" + mailworld.GeneratorDomain, mailworld.RelayRefusedAddress, mailworld.DeferredAddress, mailworld.EximUnknownAddress, mailworld.OpenSMTPDUnknownAddress} {
		u := mailworld.User{Address: addr, Password: "pw"}
		if w, err := mailworld.StartRealWithOptions("", opts, lin, u); !errors.Is(err, mailworld.ErrInvalidUser) || !strings.Contains(err.Error(), "generators") {
			if err == nil {
				w.Close()
			}
			t.Errorf("StartRealWithOptions with user %s = %v, want ErrInvalidUser naming the generators", addr, err)
		}
	}
	if err := w.AddUser(mailworld.User{Address: "x@" + mailworld.GeneratorDomain, Password: "pw"}); !errors.Is(err, mailworld.ErrInvalidUser) {
		t.Errorf("AddUser(x@%s) = %v, want ErrInvalidUser", mailworld.GeneratorDomain, err)
	}
	if err := w.AddUser(agent); err != nil {
		t.Errorf("AddUser(%s) in a world with generators = %v", agent.Address, err)
	}
}

// programs are the messages of the mailing lists and autoresponders (RealOptions.Programs).
func programs() []generated {
	var g []generated
	for _, l := range mailworld.Lists {
		name, _, _ := strings.Cut(l.Address, "@")
		from := `(?m)^From: ` + regexp.QuoteMeta(name) + `\+owner@programs\.test`
		c := generated{name: "bounce/gen-mlmmj-" + name + "-" + l.Language, to: l.Address, fromSender: true, want: []string{
			from, `(?m)^Content-Type: multipart/mixed;`,
			`(?m)^Content-Type: message/rfc822`, `(?m)^Message-ID: <inquiry-gen-mlmmj-`}}
		switch {
		case l.Language == "zh-cn":
			// "Awaiting release to LIST: ", in Chinese.
			c.subject = `^等待发布到 ` + regexp.QuoteMeta(l.Address) + `：Streaming fails`
			c.want = append(c.want, `邮件列表的 Mlmmj 程序`, `需要版主审核后才能发布到该列表`)
		case l.Language == "de":
			c.subject = `^Ihre Nachricht an ` + regexp.QuoteMeta(l.Address) + ` wurde abgewiesen: Streaming fails`
			c.want = append(c.want, `Hallo, hier ist das Programm Mlmmj`, `konnte nicht über die\s+Liste verteilt werden, weil Sie die Liste nicht abonniert haben`)
		case l.Control["maxmailsize"] != "":
			c.subject = `^Post to ` + regexp.QuoteMeta(l.Address) + ` denied: Streaming fails`
			c.want = append(c.want, `exceeded the maximum allowed message size\s+of 400 bytes`, `The beginning of the denied message is below`)
		case l.Control["moderated"] != "" || l.Control["moderators"] != "":
			c.subject = `^Awaiting release to ` + regexp.QuoteMeta(l.Address) + `: Streaming fails`
			c.want = append(c.want, `the moderators are being asked to review it\s+before\s+releasing it to the list because this is a moderated list`)
		default:
			c.subject = `^Post to ` + regexp.QuoteMeta(l.Address) + ` denied: Streaming fails`
			c.want = append(c.want, `Hi, this is the Mlmmj program managing the <`+regexp.QuoteMeta(l.Address)+`> mailing\s+list`,
				`because you are not a list subscriber`)
		}
		if _, moderated := l.Control["moderated"]; moderated {
			// A post awaiting a moderator: neither delivered nor refused. mlmmj sends it from
			// the owner's address; a denial from the list's bounce address.
			c.name = "other/gen-mlmmj-" + name + "-" + l.Language
			c.want = append(c.want, `(?m)^Return-Path: <`+regexp.QuoteMeta(name)+`\+owner@programs\.test>`)
		} else {
			c.want = append(c.want, `(?m)^Return-Path: <`+regexp.QuoteMeta(name)+`\+bounces-help@programs\.test>`)
		}
		g = append(g, c)
	}
	for _, a := range mailworld.Autoresponders {
		name, _, _ := strings.Cut(a.Address, "@")
		c := generated{name: "auto_ack/gen-mailbot-" + name, to: a.Address, fromSender: true,
			subject: `^Re: Streaming fails in region East China since 03:00$`, want: []string{
				`(?m)^From: ` + regexp.QuoteMeta(a.From) + `\r?$`, `(?m)^Auto-Submitted: auto-replied\r?$`, `(?m)^Precedence: junk`,
				`(?m)^In-Reply-To: <inquiry-gen-mailbot-` + regexp.QuoteMeta(name) + `@customer\.example>`,
				`(?m)^Content-Type: text/plain; format=flowed; delsp=yes; charset="utf-8"`,
				regexp.QuoteMeta(strings.SplitN(a.Text, "\n", 2)[0])}}
		if a.DSN {
			c.want = append(c.want, `(?m)^Content-Type: multipart/report; report-type=delivery-status;`,
				`(?m)^Final-Recipient: rfc822; `+regexp.QuoteMeta(a.Address), `(?m)^Action: delivered`, `(?m)^Status: 2\.0\.0`,
				`(?m)^Content-Type: text/rfc822-headers`)
		} else {
			// A plain reply quotes the inquiry above the text, after "NAME writes:".
			c.want = append(c.want, `(?m)^Lin Wei writes:\r?\n\r?\n> Hello,`)
		}
		if a.Away {
			c.name = "out_of_office/gen-mailbot-" + name
		}
		g = append(g, c)
	}
	return g
}

// TestProgramsCorpus is TestGeneratorsCorpus for the mailing lists (mlmmj) and
// autoresponders (maildrop's mailbot) of a world with RealOptions.Programs.
func TestProgramsCorpus(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w := mailworldtest.RealWith(t, mailworld.RealOptions{Programs: true}, lin)
	t.Logf("world with mailing lists and autoresponders started in %v", time.Since(start).Round(time.Millisecond))
	c := login(t, w, lin)
	cases := programs()
	sent := map[string]time.Time{}
	sendGenerated(t, w, cases, sent)
	got := waitTagged(t, w, c, sent, time.Now().Add(time.Hour), func() {})
	checkGenerated(t, w, cases, got)
}

// TestProgramsDomainRefused: a world with programs refuses a user in ProgramsDomain, whose
// mail Postfix hands to mlmmj, mailbot or the discard transport instead of a mailbox.
func TestProgramsDomainRefused(t *testing.T) {
	t.Parallel()
	opts := mailworld.RealOptions{Programs: true}
	if err := mailworld.RealAvailableWith(opts); err != nil {
		if os.Getenv(mailworldtest.EnvRequireReal) == "1" {
			t.Fatalf("%s=1, but: %v", mailworldtest.EnvRequireReal, err)
		}
		t.Skipf("%v", err)
	}
	u := mailworld.User{Address: "someone@" + mailworld.ProgramsDomain, Password: "pw"}
	w, err := mailworld.StartRealWithOptions("", opts, lin, u)
	if err == nil {
		w.Close()
	}
	if !errors.Is(err, mailworld.ErrInvalidUser) || !strings.Contains(err.Error(), mailworld.ProgramsDomain) {
		t.Errorf("StartRealWithOptions with user %s = %v, want ErrInvalidUser naming %s", u.Address, err, mailworld.ProgramsDomain)
	}
}

// sendmailCases are Sendmail's messages (RealOptions.Sendmail).
func sendmailCases() []generated {
	return []generated{
		{name: "bounce/gen-sendmail-relay-refused", to: mailworld.SendmailRefusedAddress, want: []string{
			`(?m)^From: Mail Delivery Subsystem <MAILER-DAEMON@mx\.sendmail\.test>`, `(?m)^Subject: Returned mail: see transcript for details`,
			`(?m)^Auto-Submitted: auto-generated \(failure\)`, `report-type=delivery-status`, `(?m)^Reporting-MTA: dns; mx\.sendmail\.test`,
			`(?m)^Action: failed`, `(?m)^Status: 5\.7\.1`, `Relay access denied`, `by mx\.sendmail\.test \(8\.\d+`}},
		{name: "delay/gen-sendmail-delay-warning", to: mailworld.SendmailDeferredAddress, want: []string{
			`(?m)^From: Mail Delivery Subsystem <MAILER-DAEMON@mx\.sendmail\.test>`, `(?m)^Subject: Warning: could not send message for past 1 second`,
			`(?m)^Auto-Submitted: auto-generated \(warning-timeout\)`, `report-type=delivery-status`, `(?m)^Action: delayed`, `(?m)^Status: 4\.0\.0`,
			`Warning: message still undelivered after 1 second`}},
	}
}

// TestSendmailCorpus is TestGeneratorsCorpus for Sendmail's bounce and delay warning.
func TestSendmailCorpus(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w := mailworldtest.RealWith(t, mailworld.RealOptions{Generators: true, Sendmail: true}, lin)
	t.Logf("world with generators and Sendmail started in %v", time.Since(start).Round(time.Millisecond))
	c := login(t, w, lin)
	cases := sendmailCases()
	sent := map[string]time.Time{}
	sendGenerated(t, w, cases, sent)
	got := waitTagged(t, w, c, sent, time.Now().Add(time.Hour), func() {})
	checkGenerated(t, w, cases, got)
}
