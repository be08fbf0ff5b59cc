package mailworld

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Generators of machine mail
//
// With RealOptions.Generators, a Real world also makes the machine mail a prober meets,
// produced by the real programs rather than written by hand. Every generator answers mail
// sent through Postfix (Real.SMTPAddr) to one of the addresses below, and sends its report
// or reply to the message's envelope sender, so it lands in that user's INBOX:
//
//   - UnknownUserAddress: Postfix accepts any recipient of GeneratorDomain, Dovecot's LMTP
//     refuses one it does not know (550 5.1.1), and Postfix returns a bounce
//     (multipart/report, Action: failed, Status: 5.1.1, "User doesn't exist").
//   - MailboxFullAddress: a user with a one-byte Dovecot quota; LMTP refuses with 552 5.2.2
//     and Postfix bounces (Status: 5.2.2, "Quota exceeded (mailbox for user is full)").
//   - RelayRefusedAddress: Postfix relays the domain to a second smtpd of another name
//     (mx.relay-refused.test) that trusts nobody and answers 554 5.7.1 "Relay access
//     denied"; the first Postfix bounces (Status: 5.7.1).
//   - DeferredAddress: Postfix relays the domain to a loopback port nothing listens on and
//     defers the mail ("Connection refused"). delay_warning_time is 1 s: the first queue
//     run after that second (Real.FlushQueue) sends a delay warning ("Delayed Mail (still
//     being retried)", Action: delayed, Status: 4.4.1); the mail stays queued.
//   - Vacations: one user per language whose Sieve script (Dovecot Pigeonhole, run in
//     LMTP) answers with an RFC 3834 vacation reply ("Auto-Submitted: auto-replied"),
//     submitted to Postfix over SMTP, with the envelope sender <>.
//   - SieveRejectAddress: a user whose Sieve script is an RFC 5429 reject; Pigeonhole
//     accepts the message at LMTP (250), discards it and sends the sender a rejection
//     ("Rejected: " and the inquiry's subject, multipart/report;
//     report-type=disposition-notification, "Disposition: automatic-action/
//     MDN-sent-automatically; deleted") from Dovecot's postmaster_address.
//   - LoopAddress: Postfix relays LoopDomain to its own smtpd, which accepts it again
//     (a mail loop); after 50 rounds smtpd refuses it with 554 5.4.0 "Error: too many
//     hops" and Postfix bounces (Status: 5.4.0), returning the inquiry with its 50
//     Received: lines.
//   - SizeLimitAddress: Postfix relays SizeLimitDomain to a third smtpd
//     (mx.size-limit.test) whose message_size_limit is 300 bytes; Postfix's SMTP client
//     sees the server's SIZE and returns the inquiry unsent (Status: 5.3.4, "message
//     size 713 exceeds size limit 300 of server 127.0.0.1[127.0.0.1]").
//   - Real.VerifyAddress runs Postfix's "sendmail -bv": Postfix mails the sender a
//     verification report (multipart/report, Action: deliverable or undeliverable) and
//     delivers nothing.
//
// With RealOptions.Exim, Exim 4 (the exim4-daemon-light binary, see EximPath) runs as the
// MX of EximDomain on its own loopback port; Postfix relays that domain to it. Exim accepts
// any recipient at RCPT and then fails an unknown one, returning its own kind of bounce
// ("Mail delivery failed: returning message to sender" from Mailer-Daemon@mx.exim.test)
// to Postfix.
//
// With RealOptions.OpenSMTPD, OpenSMTPD 6.8 (the smtpd of the package opensmtpd, see
// OpenSMTPDPath) runs as the MX of OpenSMTPDDomain, a gateway in front of an internal server
// (a second listener of the same daemon) that refuses one recipient with 550 and defers
// another with 451: OpenSMTPD returns its bounce ("Delivery status notification: failed")
// and its delay notice ("Delivery status notification: delayed") from
// MAILER-DAEMON@mx.opensmtpd.test through Postfix. See OpenSMTPDDomain for how it runs.
//
// Facts measured here (Debian 12: Postfix 3.7.11, Dovecot 2.3.19 with Pigeonhole 0.5.19,
// Exim 4.96, OpenSMTPD 6.8.0p2; 2 cores shared with other work, load average about 15, 20
// for the OpenSMTPD figures, so times are upper bounds):
//
//   - At a load average of about 15: the mail-loop bounce reached the sender's INBOX
//     3.8 s after the inquiry (50 rounds through Postfix), the size-limit bounce 2.8 s
//     after. Postfix's smtp client did not report "mail for loop.test loops back to
//     myself" here, although the server greets with its own name: the loop ended only at
//     the hop count. Why that check did not fire was not found out.
//   - Every generated message reached the sender's INBOX within 0.9-2.1 s of its
//     submission (vacations first, 0.9-1.5 s; bounces, verification reports and the delay
//     warning after the queue flush 1.6-2.1 s). A world with generators started in 0.9 s,
//     one with Exim too in 1.6-4.3 s (a plain world in 1.1-1.2 s under the same load);
//     Close took 1.2-1.7 s.
//   - Postfix reports in multipart/report with message/delivery-status and the returned
//     message as message/rfc822 when the inquiry came without SMTPUTF8 (the prober sends
//     7-bit without it); with SMTPUTF8 the parts are message/global-delivery-status and
//     message/global. Every Postfix report carries "Auto-Submitted: auto-replied" and comes
//     from "Mail Delivery System <MAILER-DAEMON@mail.mailworld.test>" with Return-Path <>.
//   - Dovecot's LMTP answers an unknown user with 550 5.1.1 "User doesn't exist" and a full
//     mailbox with 552 5.2.2 "Quota exceeded (mailbox for user is full)"; the bounce quotes
//     the reply in Diagnostic-Code.
//   - smtpd learns an address's class (local, virtual, relay) from trivial-rewrite, so
//     "-o relay_domains=" on a second smtpd alone does not make it refuse to relay: the mail
//     looped back until "554 5.4.0 Error: too many hops". It needs its own trivial-rewrite
//     (rewrite_service_name).
//   - The delay warning says "Delayed Mail (still being retried)", Action: delayed, Status:
//     4.4.1, "could not be delivered for more than 0 hour(s)" (delay_warning_time is 1 s),
//     and returns the inquiry's headers only (text/rfc822-headers), with its Message-ID.
//   - "sendmail -bv" reads no message: the report ("Mail Delivery Status Report",
//     "Enclosed is the mail delivery report that you requested") returns the headers of
//     a message Postfix makes up (Subject: probe, From: the -f sender, a Postfix
//     Message-ID). A deliverable virtual mailbox is checked through LMTP (Action:
//     deliverable, Status 2.1.5, "250 2.1.5 OK"); a refused one gives Action: undeliverable
//     with the remote reply.
//   - Exim 4.96 bounces in multipart/report too, but thinner: its message/delivery-status
//     holds Reporting-MTA, Action: failed, Final-Recipient and Status 5.0.0, with no
//     Diagnostic-Code (the reason, "Unknown user", is only in the text part); it adds
//     X-Failed-Recipients, "Auto-Submitted: auto-replied" and References with the
//     inquiry's Message-ID, comes from "Mail Delivery System <Mailer-Daemon@exim.test>"
//     (the qualify_domain), and returns the whole inquiry as message/rfc822.
//   - Exim re-executes itself for each delivery from its compiled-in path
//     (/usr/sbin/exim4): an extracted binary needs exim_path. Started by root with -C and a
//     root-owned configuration, it needs no trusted-configurations list.
//   - OpenSMTPD took 1.1-1.5 s to start (unshare, then smtpd's six processes until its
//     greeting); a world with OpenSMTPD alone started in 2.0-3.1 s and closed in 1.2 s, one
//     with generators, Exim and OpenSMTPD in 2.6-5.4 s. Its bounce reached the sender's
//     INBOX 1.7-3.7 s after the inquiry was submitted to Postfix, its delay notice 1.6-3.4 s
//     after (Postfix, OpenSMTPD, its internal listener, back through Postfix and LMTP).
//   - OpenSMTPD 6.8 reports in multipart/mixed, not multipart/report: a text/plain
//     notification ("Hi! This is the MAILER-DAEMON, please DO NOT REPLY to this email.",
//     then one line per recipient with the remote reply, "no-such-user@opensmtpd.test: 550
//     Invalid recipient: <no-such-user@opensmtpd.test>"), a message/delivery-status part
//     (Reporting-MTA, Final-Recipient, Action failed or delayed, Status 5.0.0 or 4.0.0, no
//     Diagnostic-Code), and a text/rfc822-headers part that in fact holds the whole inquiry,
//     body included. It carries no Auto-Submitted, In-Reply-To or References; the inquiry's
//     Message-ID is only in the returned headers. It comes from "Mailer Daemon
//     <MAILER-DAEMON@mx.opensmtpd.test>" (the server's name: /etc/mailname, else the host
//     name) with the subject "Delivery status notification: failed" or "...: delayed".
//   - The delay notice says "A message is delayed for more than 1 second" and "The message
//     is kept in the queue for up to 7 days". OpenSMTPD sends it at a temporary failure
//     whose next retry falls after arrival plus the warn interval; the first retry of a
//     relayed message comes minutes later, so with "bounce warn-interval 1s" the first 451
//     brings the notice at once, with no queue flush.
//   - OpenSMTPD waits 5 s between two connections to the same host by default
//     ("mta limit conn-delay-route", undocumented in smtpd.conf(5)); everything here goes
//     to 127.0.0.1, so the world sets it to 0. A relay host that refuses connections does
//     not defer the mail soon: OpenSMTPD retried the connection every 5 s for the 35 s
//     watched without failing the envelope, so the deferring server answers 451 instead.
//   - Pigeonhole's vacation reply goes to the envelope sender (not Reply-To), from the bare
//     recipient address ("From: <away.de@generators.test>"), with "Auto-Submitted:
//     auto-replied (vacation)", "Precedence: bulk", "X-Auto-Response-Suppress: All",
//     In-Reply-To and References citing the inquiry, and "X-Sieve: Pigeonhole Sieve
//     0.5.19"; without :subject the subject is "Auto: " and the inquiry's subject;
//     non-ASCII subjects are RFC 2047 encoded, the body is 8-bit UTF-8. Its Message-ID
//     names the machine's host name unless DOVECOT_HOSTDOMAIN is set (the hostname setting
//     does not apply), so the world sets it.
//   - Pigeonhole's reject, run in LMTP, never refuses at the protocol level: LMTP answers
//     250 ("Saved"), logs "reject action: rejected message from <sender>", and Dovecot
//     sends its rejection (mail_send_rejection; only its wording is configurable, through
//     rejection_subject and rejection_reason), so Postfix makes no bounce. The rejection
//     reached the sender's INBOX 0.71-1.69 s after the inquiry's submission (4 runs, load
//     average about 5). It comes from "Postmaster <postmaster@mailworld.test>" (the
//     postmaster_address) with Return-Path <>, "Auto-Submitted: auto-replied (rejected)"
//     and "Precedence: bulk", but without In-Reply-To, References or X-Sieve; the subject
//     is "Rejected: " and the inquiry's subject. It is an MDN (RFC 8098 form), not a DSN: a
//     text/plain part ("Your message to <rejects@generators.test> was automatically
//     rejected:" and the script's reason), a message/disposition-notification part
//     (Reporting-UA: mail.mailworld.test; Dovecot Mail Delivery Agent, Final-Recipient,
//     Original-Message-ID: the inquiry's, "Disposition: automatic-action/
//     MDN-sent-automatically; deleted") and a message/rfc822 part that holds the
//     inquiry's headers only, without its body. ereject (RFC 5429's protocol-level form)
//     is not in this Pigeonhole: with "sieve_extensions = +ereject" it logs "ignored
//     unknown extension 'ereject'" and a script requiring it fails to compile, so the
//     message is kept; there is no second form to produce here.

// Addresses and domains of the generators (RealOptions.Generators and RealOptions.Exim; for
// RealOptions.OpenSMTPD see OpenSMTPDDomain).
const (
	// GeneratorDomain holds the generator users (a full mailbox, the vacations, a Sieve
	// reject) and accepts any other recipient at RCPT, which Dovecot then refuses.
	GeneratorDomain = "generators.test"
	// UnknownUserAddress gets a Postfix bounce: unknown user, 5.1.1.
	UnknownUserAddress = "no-such-user@" + GeneratorDomain
	// MailboxFullAddress gets a Postfix bounce: mailbox full (Dovecot quota), 5.2.2.
	MailboxFullAddress = "full@" + GeneratorDomain
	// SieveRejectAddress refuses every message with a Sieve reject (RFC 5429): Pigeonhole
	// accepts it at LMTP and sends the sender a rejection (an MDN, "Rejected: " and the
	// inquiry's subject) that says SieveRejectReason.
	SieveRejectAddress = "rejects@" + GeneratorDomain
	// SieveRejectReason is the reason SieveRejectAddress's Sieve script gives.
	SieveRejectReason = "This address no longer accepts support requests; please use https://support.vendor.test."
	// RelayRefusedDomain is relayed to a second smtpd that refuses to relay.
	RelayRefusedDomain = "relay-refused.test"
	// RelayRefusedAddress gets a Postfix bounce: relay access denied, 5.7.1.
	RelayRefusedAddress = "support@" + RelayRefusedDomain
	// DeferredDomain is relayed to a port nothing listens on.
	DeferredDomain = "deferred.test"
	// DeferredAddress gets a Postfix delay warning at the first queue run a second after
	// the message arrived (Real.FlushQueue).
	DeferredAddress = "support@" + DeferredDomain
	// LoopDomain is relayed to Postfix's own smtpd, so the mail goes round until Postfix
	// counts too many Received: lines (hopcount_limit, 50) and returns it.
	LoopDomain = "loop.test"
	// LoopAddress gets a Postfix bounce: mail loop, 554 5.4.0 "Error: too many hops".
	LoopAddress = "support@" + LoopDomain
	// SizeLimitDomain is relayed to a third smtpd whose message size limit (300 bytes) no
	// inquiry fits.
	SizeLimitDomain = "size-limit.test"
	// SizeLimitAddress gets a Postfix bounce: message too large for the next server, 5.3.4.
	SizeLimitAddress = "support@" + SizeLimitDomain
	// EximDomain is relayed to Exim (RealOptions.Exim).
	EximDomain = "exim.test"
	// EximUnknownAddress gets an Exim bounce: unknown user.
	EximUnknownAddress = "no-such-user@" + EximDomain
)

// Vacation is a user of GeneratorDomain whose Sieve script answers every message with an
// out-of-office reply in one language.
type Vacation struct {
	Language string // BCP 47 tag: "en", "de", "zh-Hans", ...
	Address  string
	// Subject is the script's :subject, "" for Pigeonhole's default ("Auto: " and the
	// original subject).
	Subject string
	// Reason is the reply's body.
	Reason string
}

// Vacations are the out-of-office users of a world with generators.
var Vacations = []Vacation{
	{Language: "en", Address: "away.en@" + GeneratorDomain, Subject: "",
		Reason: "Thank you for your message. I am out of the office until Monday, 14 December, with no access to e-mail.\nFor urgent matters please contact support-duty@vendor.test.\n\nMaria Jensen"},
	{Language: "de", Address: "away.de@" + GeneratorDomain, Subject: "Abwesenheitsnotiz",
		Reason: "Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich 18. Dezember nicht im Büro und lese meine E-Mails nur eingeschränkt.\nIn dringenden Fällen wenden Sie sich bitte an meine Kollegin Frau Weber.\n\nMit freundlichen Grüßen\nJonas Becker"},
	{Language: "fr", Address: "away.fr@" + GeneratorDomain, Subject: "Absence du bureau",
		Reason: "Bonjour,\nJe suis absent du bureau jusqu'au 21 décembre inclus. Je traiterai votre message à mon retour.\nPour toute urgence, merci de contacter le support au standard.\n\nCordialement,\nLuc Martin"},
	{Language: "es", Address: "away.es@" + GeneratorDomain, Subject: "Respuesta automática: fuera de la oficina",
		Reason: "Hola:\nEstoy fuera de la oficina hasta el 4 de enero y no tengo acceso al correo.\nPara asuntos urgentes, escriba a mi compañero Javier Ruiz.\n\nSaludos,\nCarmen López"},
	{Language: "zh-Hans", Address: "away.zh@" + GeneratorDomain, Subject: "自动回复：休假中",
		Reason: "您好，\n我正在休假，12月20日返回办公室，期间无法及时查看邮件。\n如有紧急事项，请联系值班工程师王磊。\n\n李娜"},
	{Language: "ja", Address: "away.ja@" + GeneratorDomain, Subject: "不在のお知らせ",
		Reason: "お世話になっております。\n誠に勝手ながら、12月25日まで休暇をいただいております。\n急ぎのご用件は、サポート窓口までご連絡ください。\n\n佐藤 健"},
}

// sieveRejectScript is the Sieve script of SieveRejectAddress (RFC 5429 reject).
const sieveRejectScript = "require [\"reject\"];\nreject \"" + SieveRejectReason + "\";\n"

// generatorPassword is the IMAP password of every generator user.
const generatorPassword = "generator"

// generatorUsers returns the users a world with generators adds, with the extra fields of
// their passwd-files.
func generatorUsers() []struct {
	user  User
	extra string
} {
	users := []struct {
		user  User
		extra string
	}{{User{MailboxFullAddress, generatorPassword}, "userdb_quota_rule=*:storage=1B"}}
	for _, v := range Vacations {
		users = append(users, struct {
			user  User
			extra string
		}{User{v.Address, generatorPassword}, ""})
	}
	return append(users, struct {
		user  User
		extra string
	}{User{SieveRejectAddress, generatorPassword}, ""})
}

// sieveScript returns v's Sieve vacation script.
func (v Vacation) sieveScript() []byte {
	var b bytes.Buffer
	b.WriteString("require [\"vacation\"];\n")
	b.WriteString("vacation")
	if v.Subject != "" {
		fmt.Fprintf(&b, " :subject %q", v.Subject)
	}
	fmt.Fprintf(&b, " :addresses [%q] text:\n%s\n.\n;\n", v.Address, v.Reason)
	return b.Bytes()
}

// writeGenerators writes the generator users' passwd-files and Sieve scripts and Postfix's
// transport map.
func (r *Real) writeGenerators() error {
	if r.cfg.Generators {
		for _, g := range generatorUsers() {
			if err := r.writeUserExtra(g.user, g.extra); err != nil {
				return err
			}
		}
		for _, v := range Vacations {
			home := r.path(mailDir, v.Address)
			if err := mkdirOwned(home, r.ids.mailUID, r.ids.mailGID, 0o700); err != nil {
				return err
			}
			if err := writeFile(filepath.Join(home, ".dovecot.sieve"), v.sieveScript(), r.ids.mailUID, r.ids.mailGID, 0o600); err != nil {
				return err
			}
		}
		home := r.path(mailDir, SieveRejectAddress)
		if err := mkdirOwned(home, r.ids.mailUID, r.ids.mailGID, 0o700); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(home, ".dovecot.sieve"), []byte(sieveRejectScript), r.ids.mailUID, r.ids.mailGID, 0o600); err != nil {
			return err
		}
	}
	var transport bytes.Buffer
	if r.cfg.Generators {
		fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", RelayRefusedDomain, r.cfg.RelayPort)
		fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", DeferredDomain, r.cfg.DeadPort)
		fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", LoopDomain, r.cfg.SMTPPort)
		fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", SizeLimitDomain, r.cfg.SizeLimitPort)
	}
	if r.programs {
		transport.WriteString(programsTransport())
	}
	if r.cfg.EximPort != 0 {
		fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", EximDomain, r.cfg.EximPort)
	}
	if r.cfg.SendmailPort != 0 {
		for _, d := range []string{"refused.", "deferred."} {
			fmt.Fprintf(&transport, "%s%s smtp:[127.0.0.1]:%d\n", d, SendmailDomain, r.cfg.SendmailPort)
		}
	}
	if r.cfg.OpenSMTPDPort != 0 {
		fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", OpenSMTPDDomain, r.cfg.OpenSMTPDPort)
	}
	return writeFile(r.path(transportMap), transport.Bytes(), 0, 0, 0o644)
}

// VerifyAddress asks Postfix to verify rcpt as "sendmail -bv" does: nothing is delivered,
// and Postfix mails sender a verification report (Action: deliverable, or undeliverable
// with the reason). It returns once the request is queued; the report reaches sender's
// INBOX about a second later. It returns an error wrapping ErrClosed after Close, or one
// ending with sendmail's output.
func (r *Real) VerifyAddress(sender, rcpt string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("verify %s: %w", rcpt, ErrClosed)
	}
	cmd := exec.Command(postfixSendmailPath, "-C", r.path(postfixConfDir), "-f", sender, "-bv", rcpt)
	cmd.Dir = r.dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	cmd.Stdin = bytes.NewReader(nil)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("verify %s for %s: %s: %w: %s", rcpt, sender, cmd, err, bytes.TrimSpace(out))
	}
	return nil
}

// Exim.

// postfixSendmailPath is Postfix's sendmail, for VerifyAddress.
const postfixSendmailPath = "/usr/sbin/sendmail"

// EnvEximPath names the environment variable that may give the path of the Exim binary.
const EnvEximPath = "SUPPORTPROBE_EXIM"

// eximCandidates are the places EximPath looks: the binary of an installed exim4-daemon-light
// package, and the private extraction .ci/run makes (exim4-daemon-light conflicts with
// postfix, so the package cannot be installed beside it).
var eximCandidates = []string{"/usr/sbin/exim4", "/usr/local/lib/supportprobe-exim/usr/sbin/exim4"}

// EximPath returns the Exim binary a world with RealOptions.Exim runs: $SUPPORTPROBE_EXIM
// if set, else the first of /usr/sbin/exim4 and
// /usr/local/lib/supportprobe-exim/usr/sbin/exim4 that exists. It returns an error wrapping
// ErrRealUnavailable that says how to get one otherwise.
func EximPath() (string, error) {
	if p := os.Getenv(EnvEximPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrRealUnavailable, EnvEximPath, p, err)
		}
		return p, nil
	}
	for _, p := range eximCandidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no exim binary at %v; extract the Debian package exim4-daemon-light (apt-get download, dpkg -x) into /usr/local/lib/supportprobe-exim as .ci/run does, or set %s", ErrRealUnavailable, eximCandidates, EnvEximPath)
}

// Layout of Exim's part of the world's directory.
const (
	eximDir     = "exim"
	eximConf    = "exim/exim.conf"
	eximSpool   = "exim/spool"
	eximLogDir  = "exim/log"
	eximPIDFile = "exim/exim.pid"
	eximMainLog = "exim/log/mainlog"
)

// eximConfig returns Exim's configuration: the MX of EximDomain on 127.0.0.1:EximPort,
// which accepts any recipient of that domain, fails every one of them in routing (so Exim
// returns its bounce), and sends all other mail (its bounces) to Postfix.
func (r *Real) eximConfig() []byte {
	return fmt.Appendf(nil, `# Generated by supportprobe's mailworld; rewritten on every start.
exim_path = %[7]s
exim_user = mail
exim_group = mail
never_users = root
primary_hostname = mx.%[1]s
qualify_domain = %[1]s
spool_directory = %[2]s
log_file_path = %[3]s/%%slog
pid_file_path = %[4]s
daemon_smtp_ports = %[5]d
local_interfaces = 127.0.0.1
host_lookup =
rfc1413_hosts =
keep_environment =
tls_advertise_hosts =
domainlist local_domains = %[1]s
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept domains = +local_domains
  deny message = relay not permitted

begin routers
unknown_user:
  driver = redirect
  domains = +local_domains
  allow_fail
  data = :fail: Unknown user
to_postfix:
  driver = manualroute
  domains = ! +local_domains
  transport = to_postfix
  route_list = * 127.0.0.1
  self = send

begin transports
to_postfix:
  driver = smtp
  port = %[6]d
  hosts_avoid_tls = *

begin retry
* * F,1h,1m
`, EximDomain, r.path(eximSpool), r.path(eximLogDir), r.path(eximPIDFile), r.cfg.EximPort, r.cfg.SMTPPort, r.eximPath)
}

// startExim writes Exim's configuration and starts its daemon, returning once it greets.
func (r *Real) startExim(deadline time.Time) error {
	for _, d := range []string{eximDir, eximSpool, eximLogDir} {
		if err := mkdirOwned(r.path(d), r.ids.mailUID, r.ids.mailGID, 0o750); err != nil {
			return err
		}
	}
	if pid, err := r.daemonPID(eximPIDFile); err == nil {
		return fmt.Errorf("an exim of this world is still running (pid %d in %s)", pid, eximPIDFile)
	}
	os.Remove(r.path(eximPIDFile))
	if err := writeFile(r.path(eximConf), r.eximConfig(), 0, 0, 0o644); err != nil {
		return err
	}
	if err := r.run("exim.out", r.eximPath, "-C", r.path(eximConf), "-bd"); err != nil {
		return fmt.Errorf("start exim: %w", err)
	}
	pid, err := r.waitPID(eximPIDFile, deadline)
	if err != nil {
		return fmt.Errorf("start exim: %w", err)
	}
	r.eximPID = pid
	for {
		err := greeting(r.EximAddr(), "220 ")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for exim smtp greeting: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// EximAddr returns Exim's SMTP address, "127.0.0.1:PORT", or "" in a world without Exim.
func (r *Real) EximAddr() string {
	if r.cfg.EximPort == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", r.cfg.EximPort)
}

// stopExim stops Exim's daemon and the delivery processes it started.
func (r *Real) stopExim() error {
	pid := r.eximPID
	if pid <= 0 {
		pid, _ = r.daemonPID(eximPIDFile)
	}
	if pid <= 0 {
		return nil
	}
	if err := terminateTree(pid, realStopTimeout); err != nil {
		return fmt.Errorf("stop exim (pid %d): %w", pid, err)
	}
	r.eximPID = 0
	return nil
}

// sievePluginPath is Pigeonhole's LMTP plugin, from the package dovecot-sieve.
const sievePluginPath = "/usr/lib/dovecot/modules/lib90_sieve_plugin.so"

// generatorDomains are the domains a world with generators keeps for itself.
var generatorDomains = []string{GeneratorDomain, RelayRefusedDomain, DeferredDomain, LoopDomain, SizeLimitDomain, EximDomain, OpenSMTPDDomain, "refused." + SendmailDomain, "deferred." + SendmailDomain}

// checkGeneratorDomain refuses a user in one of the generators' domains, in a world with
// generators: Postfix would route its mail to a generator instead of its mailbox.
func (r *Real) checkGeneratorDomain(u User) error {
	if !r.generators {
		return nil
	}
	if _, domain, _ := strings.Cut(u.Address, "@"); slices.Contains(generatorDomains, domain) {
		return fmt.Errorf("user %s: domain %s belongs to the generators of machine mail; choose another: %w", u.Address, domain, ErrInvalidUser)
	}
	return nil
}
