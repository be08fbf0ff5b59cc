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
		if err := sendInquiry(w, sender, g.to, "inquiry-"+tag+"@customer.example"); err != nil {
			t.Fatalf("%s: send to %s: %v", g.name, g.to, err)
		}
	}
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
		if host, err := os.Hostname(); err == nil && regexp.MustCompile(`[@.(\[ ]`+regexp.QuoteMeta(host)+`[>)\]; ]`).Match(m) {
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

// sendInquiry sends a customer's inquiry to to with the given Message-ID and envelope
// sender as the prober does: 7-bit (quoted-printable), without SMTPUTF8.
func sendInquiry(w mailworld.World, envFrom, to, messageID string) error {
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
	if err := errors.Join(m.From("Lin Wei <lin.wei@example.com>"), m.To("Support <"+to+">"), m.EnvelopeFrom(envFrom)); err != nil {
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
