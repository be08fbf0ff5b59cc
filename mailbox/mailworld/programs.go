package mailworld

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Mail programs: mailing lists and autoresponders.
//
// With RealOptions.Programs, a Real world also runs two programs that answer mail
// themselves, each delivered by Postfix's pipe(8) as its documentation sets it up, as the
// user mail:
//
//   - mlmmj (the Debian package mlmmj) runs the mailing lists of Lists, each made by
//     mlmmj-make-ml in the texts of its language. Postfix pipes each message for a list to
//     "mlmmj-receive -F -L lists/NAME" (flags=ORhu); mlmmj sends its notices over SMTP to
//     Postfix (control/relayhost and control/smtpport). A list whose control/subonlypost is
//     set refuses a post from a non-subscriber with its "deny-post" text ("Post to LIST
//     denied: SUBJECT", the post attached as message/rfc822); one with control/moderated
//     and control/notifymod tells the poster that the post waits for a moderator
//     ("wait-post": "Awaiting release to LIST: SUBJECT"); one with control/maxmailsize
//     refuses a larger post with "deny-post" too, quoting its first 300 bytes.
//   - maildrop's mailbot (the Debian package maildrop) answers every message sent to one of
//     Autoresponders with the autoresponder's text, as a reply or, with -M, as a delivery
//     status notification (multipart/report, Action: delivered) that carries the text.
//     mailbot hands its reply to a program; Postfix's sendmail cannot take it there (its
//     postdrop refuses a configuration directory that /etc/postfix/main.cf does not list
//     to anyone but root, and pipe(8) never runs as root), so the program is programs/submit,
//     a bash script that submits the reply to Postfix over SMTP with the null sender, as
//     'sendmail -f ""' would.
//
// Facts measured here (Debian 12: mlmmj 1.3.0, maildrop 2.9.3; load average about 15):
//
//   - A world with programs started in 1.9-3.9 s (mlmmj-make-ml for five lists). Each
//     answer reached the sender's INBOX 0.85-1.44 s after the inquiry (mlmmj) or
//     1.5-2.2 s after (mailbot, which runs through sh, unshare and bash).
//   - mlmmj's notices carry no Auto-Submitted, Precedence or In-Reply-To, and no DSN: a
//     multipart/mixed with the list's text (text/plain; charset=utf8) and the post as
//     message/rfc822, from "LIST+owner@DOMAIN" (no display name), the denial with
//     Return-Path <LIST+bounces-help@DOMAIN> and the moderation notice with Return-Path
//     <LIST+owner@DOMAIN>; the subject is RFC 2047 encoded even in English, and the text
//     opens "Hi, this is the Mlmmj program managing the <LIST> mailing list." (German
//     "Hallo, hier ist das Programm Mlmmj, ...", Chinese "嗨，我是管理 <LIST> 邮件列表的
//     Mlmmj 程序。"). mlmmj greets with the machine's host name unless control/smtphelo
//     names another, which the world sets.
//   - mailbot's reply has "Auto-Submitted: auto-replied", "Precedence: junk",
//     In-Reply-To and References, the subject "Re: " and the inquiry's, is sent with
//     Return-Path <>, and quotes the inquiry under "NAME writes:" above the text
//     (format=flowed, 8bit). With -M it is multipart/report; report-type=delivery-status:
//     the text, a message/delivery-status part without Reporting-MTA ("Final-Recipient:
//     rfc822; the autoresponder's address", "Action: delivered", "Status: 2.0.0") and the
//     inquiry's headers as text/rfc822-headers. Its MIME boundaries name the host
//     ("=_HOST-PID-TIME-0001").
//
// Every list and autoresponder answers the message's poster, but not always at the
// envelope sender: mlmmj checks subscribers against the From: address and, its TUNABLES
// say, sends the moderation notice to the envelope sender; mailbot answers the From: (or
// Reply-To:) address. The tests send with the envelope sender in From: too, so every
// answer reaches the tagged address.

// ProgramsDomain holds the mailing lists and autoresponders of RealOptions.Programs.
const ProgramsDomain = "programs.test"

// List is an mlmmj mailing list of a world with RealOptions.Programs.
type List struct {
	// Address is the list's address.
	Address string
	// Language is the directory of /usr/share/mlmmj/text.skel whose texts the list uses:
	// "en", "de", "fr", "zh-cn", ...
	Language string
	// Control are the files of the list's control/ directory beyond listaddress and
	// owner, with their contents ("" for a boolean).
	Control map[string]string
}

// Lists are the mlmmj mailing lists of a world with RealOptions.Programs. Each has one
// subscriber, member@example.com, who is never a prober.
var Lists = []List{
	{Address: "users@" + ProgramsDomain, Language: "en", Control: map[string]string{"subonlypost": ""}},
	{Address: "nutzer@" + ProgramsDomain, Language: "de", Control: map[string]string{"subonlypost": ""}},
	{Address: "announce@" + ProgramsDomain, Language: "en", Control: map[string]string{
		"moderated": "", "notifymod": "", "moderators": listModerator}},
	{Address: "gonggao@" + ProgramsDomain, Language: "zh-cn", Control: map[string]string{
		"moderated": "", "notifymod": "", "moderators": listModerator}},
	{Address: "small@" + ProgramsDomain, Language: "en", Control: map[string]string{"maxmailsize": "400"}},
}

// listModerator moderates the moderated lists; Postfix discards its mail.
const listModerator = "moderator@" + ProgramsDomain

// listOwner owns every list; Postfix discards its mail.
const listOwner = "owner@" + ProgramsDomain

// listSubscriber is every list's one subscriber.
const listSubscriber = "member@example.com"

// Autoresponder is an address of a world with RealOptions.Programs that maildrop's mailbot
// answers.
type Autoresponder struct {
	// Address is the address mailbot answers for.
	Address string
	// From is the autoreply's From: header.
	From string
	// DSN formats the autoreply as a delivery status notification (mailbot -M Address).
	DSN bool
	// Away marks a text that announces an absence (an out-of-office reply) rather than a
	// receipt.
	Away bool
	// Text is the autoreply's text (mailbot -t, UTF-8): one line a paragraph, since mailbot
	// reads it as format=flowed, where a line without a trailing space ends a paragraph.
	Text string
}

// Autoresponders are the mailbot addresses of a world with RealOptions.Programs.
var Autoresponders = []Autoresponder{
	{Address: "help@" + ProgramsDomain, From: "Vendor Support <help@" + ProgramsDomain + ">",
		Text: "Thank you for contacting Vendor support. We have received your message and a member of our team will answer it within one business day.\n\nVendor Support\n"},
	{Address: "help-dsn@" + ProgramsDomain, From: "Vendor Support <help-dsn@" + ProgramsDomain + ">", DSN: true,
		Text: "Your request has been received by Vendor support and will be answered in the order it arrived.\n\nVendor Support\n"},
	{Address: "urlaub@" + ProgramsDomain, From: "Petra Schulz <urlaub@" + ProgramsDomain + ">", Away: true,
		Text: "Vielen Dank für Ihre Nachricht. Ich bin bis zum 4. Januar im Urlaub und habe keinen Zugriff auf meine E-Mails.\nIn dringenden Fällen wenden Sie sich bitte an support@vendor.test.\n\nPetra Schulz\n"},
}

// Layout of the programs' part of the world's directory.
const (
	programsDir = "programs"        // mailbot's texts and scripts, the submit script
	listsDir    = "lists"           // mlmmj's spool: one directory per list
	submitPath  = "programs/submit" // the submit script
)

// Paths of the programs' binaries (Debian packages mlmmj and maildrop).
const (
	mlmmjReceivePath = "/usr/bin/mlmmj-receive"
	mlmmjMakeMLPath  = "/usr/bin/mlmmj-make-ml"
	mailbotPath      = "/usr/bin/mailbot"
	bashPath         = "/bin/bash"
	mlmmjTextDir     = "/usr/share/mlmmj/text.skel"
)

// programsAvailable returns nil, or an error wrapping ErrRealUnavailable naming every
// program of RealOptions.Programs that is missing and its package.
func programsAvailable() error {
	var errs []error
	for _, p := range []struct{ path, pkg string }{
		{mlmmjReceivePath, "mlmmj"}, {mlmmjMakeMLPath, "mlmmj"}, {mlmmjTextDir, "mlmmj"},
		{mailbotPath, "maildrop"}, {bashPath, "bash"},
	} {
		if _, err := os.Stat(p.path); err != nil {
			errs = append(errs, fmt.Errorf("%w: no %s (Debian package %s; .ci/run installs it)", ErrRealUnavailable, p.path, p.pkg))
		}
	}
	return errors.Join(errs...)
}

// submitScript is programs/submit: it sends the message on its standard input to Postfix
// over SMTP, from the null sender to its one argument, and exits 75 (EX_TEMPFAIL) when
// Postfix refuses, so that pipe(8) tries again.
const submitScript = `#!/bin/bash
# Generated by supportprobe's mailworld. submit RCPT < message: submits the message to the
# world's Postfix over SMTP with the null envelope sender, as 'sendmail -f ""' would.
set -u
rcpt=$1
exec 3<>/dev/tcp/127.0.0.1/%d || exit 75
expect() {
  local line
  while IFS= read -r line <&3; do
    line=${line%%$'\r'}
    case $line in
      "$1"-*) ;;
      "$1 "*) return 0 ;;
      *) echo "submit: $2: $line" >&2; exit 75 ;;
    esac
  done
  echo "submit: $2: connection closed" >&2
  exit 75
}
expect 220 greeting
printf 'HELO %%s\r\n' '` + ProgramsDomain + `' >&3; expect 250 HELO
printf 'MAIL FROM:<>\r\n' >&3; expect 250 "MAIL FROM"
printf 'RCPT TO:<%%s>\r\n' "$rcpt" >&3; expect 250 "RCPT TO:<$rcpt>"
printf 'DATA\r\n' >&3; expect 354 DATA
sed -e 's/\r$//' -e 's/^\./../' -e 's/$/\r/' -e '$a\' >&3
printf '.\r\n' >&3; expect 250 "end of DATA"
printf 'QUIT\r\n' >&3
exit 0
`

// localPart returns the part of address before "@".
func localPart(address string) string {
	l, _, _ := strings.Cut(address, "@")
	return l
}

// mailbotScript returns the shell script Postfix's mailbot transport runs for a, with the
// envelope sender as its argument: mailbot with a's text and headers, handing the reply to
// programs/submit for that sender. mailbot names its MIME boundaries after the host name,
// so where the kernel lets an unprivileged user make namespaces it runs in a user and UTS
// namespace of its own named mailbotHost; elsewhere under the machine's name.
func (r *Real) mailbotScript(a Autoresponder) []byte {
	name := localPart(a.Address)
	args := []string{mailbotPath, "-t", r.path(programsDir, name+".txt"), "-c", "utf-8", "-A", shellQuote("From: " + a.From)}
	if a.DSN {
		args = append(args, "-M", a.Address, "-N")
	}
	args = append(args, bashPath, r.path(submitPath), `"$1"`)
	return fmt.Appendf(nil, `#!/bin/sh
# Generated by supportprobe's mailworld: the autoresponder of %s.
set -- %s
if unshare -Ur --uts true 2>/dev/null; then
  exec unshare -Ur --uts /bin/sh -c 'hostname %s && exec "$@"' sh "$@"
fi
exec "$@"
`, a.Address, strings.Join(args, " "), mailbotHost)
}

// mailbotHost is the host name mailbot runs under, where it can.
const mailbotHost = "mailbot." + ProgramsDomain

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writePrograms makes the mailing lists with mlmmj-make-ml and writes the autoresponders'
// texts and scripts and the submit script.
func (r *Real) writePrograms() error {
	for _, d := range []string{programsDir, listsDir} {
		if err := os.RemoveAll(r.path(d)); err != nil {
			return err
		}
		if err := mkdirOwned(r.path(d), r.ids.mailUID, r.ids.mailGID, 0o755); err != nil {
			return err
		}
	}
	if err := writeFile(r.path(submitPath), fmt.Appendf(nil, submitScript, r.cfg.SMTPPort), 0, 0, 0o755); err != nil {
		return err
	}
	for _, a := range Autoresponders {
		name := localPart(a.Address)
		if err := writeFile(r.path(programsDir, name+".txt"), []byte(a.Text), 0, 0, 0o644); err != nil {
			return err
		}
		if err := writeFile(r.path(programsDir, name+".sh"), r.mailbotScript(a), 0, 0, 0o755); err != nil {
			return err
		}
	}
	for _, l := range Lists {
		if err := r.makeList(l); err != nil {
			return err
		}
	}
	return nil
}

// makeList makes l's directory with mlmmj-make-ml, answering its questions (domain, owner,
// language of the texts), then writes l's control files and its subscriber, all owned by
// the user mail, as whom Postfix runs mlmmj.
func (r *Real) makeList(l List) error {
	name, domain, _ := strings.Cut(l.Address, "@")
	cmd := exec.Command(mlmmjMakeMLPath, "-L", name, "-s", r.path(listsDir))
	cmd.Dir = r.dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	// Domain, owner, texts, then "no" to adding a crontab or aliases.
	cmd.Stdin = strings.NewReader(domain + "\n" + listOwner + "\n" + l.Language + "\nN\nN\nN\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("make mailing list %s with %s: %w: %s", l.Address, mlmmjMakeMLPath, err, bytes.TrimSpace(out))
	}
	dir := r.path(listsDir, name)
	if _, err := os.Stat(filepath.Join(dir, "text", "deny-post")); err != nil {
		return fmt.Errorf("make mailing list %s: %s did not copy the %q texts of %s: %w", l.Address, mlmmjMakeMLPath, l.Language, mlmmjTextDir, err)
	}
	// smtphelo: mlmmj greets with the machine's host name otherwise, which its notices
	// would carry in their Received: line.
	control := map[string]string{"smtpport": fmt.Sprint(r.cfg.SMTPPort), "relayhost": "127.0.0.1", "smtphelo": "lists." + ProgramsDomain}
	for k, v := range l.Control {
		control[k] = v
	}
	for k, v := range control {
		if v != "" {
			v += "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "control", k), []byte(v), 0o644); err != nil {
			return fmt.Errorf("make mailing list %s: %w", l.Address, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "subscribers.d", "m"), []byte(listSubscriber+"\n"), 0o644); err != nil {
		return fmt.Errorf("make mailing list %s: %w", l.Address, err)
	}
	return filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, r.ids.mailUID, r.ids.mailGID)
	})
}

// programsTransport returns the transport_maps lines of the programs: each list to mlmmj,
// each autoresponder to mailbot, everything else of ProgramsDomain (the lists' owner and
// moderator) discarded.
func programsTransport() string {
	var b strings.Builder
	for _, l := range Lists {
		fmt.Fprintf(&b, "%s mlmmj:\n", l.Address)
	}
	for _, a := range Autoresponders {
		fmt.Fprintf(&b, "%s mailbot:\n", a.Address)
	}
	fmt.Fprintf(&b, "%s discard:\n", ProgramsDomain)
	return b.String()
}
