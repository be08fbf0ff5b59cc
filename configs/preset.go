package configs

import (
	"fmt"
	"strings"
)

// The mail providers mail.provider names. A preset fills the keys the file leaves out;
// a key written in the file always wins.
const (
	// PresetGeneric fills nothing: every server key comes from the file. It is what an
	// omitted mail.provider means.
	PresetGeneric = "generic"
	// PresetMicrosoft365 is Exchange Online (Microsoft 365 work and school mailboxes):
	// IMAP outlook.office365.com:993 tls, SMTP smtp.office365.com:587 starttls, auth
	// oauth2 with mail.oauth2 provider microsoft.
	PresetMicrosoft365 = "microsoft365"
	// PresetGmail is Gmail and Google Workspace: IMAP imap.gmail.com:993 tls, SMTP
	// smtp.gmail.com:465 tls, auth oauth2 with mail.oauth2 provider google.
	PresetGmail = "gmail"
	// PresetFastmail is Fastmail: IMAP imap.fastmail.com:993 tls, SMTP
	// smtp.fastmail.com:465 tls, auth password (an app password).
	PresetFastmail = "fastmail"
)

// preset is what a provider's preset fills in.
type preset struct {
	imapHost, smtpHost string
	imapPort, smtpPort int
	imapSec, smtpSec   Security
	auth               Auth   // AuthOAuth2 or AuthPassword
	oauth2             string // the mail.oauth2 provider its tokens come from, "" for none
	// filesSent says the provider itself files a copy of every message submitted over
	// SMTP in the Sent folder, so append_sent must not add a second one.
	filesSent bool
}

// presets are the known providers' settings.
//
// Which providers file SMTP submissions in Sent themselves:
//   - Gmail does: Google's recommended IMAP client settings say "Do NOT save sent messages
//     on the server. If your client is sending mail through Gmail's SMTP server, your sent
//     messages will be automatically copied to the [Gmail]/Sent Mail folder"
//     (https://support.google.com/mail/answer/78892, quoted in
//     https://forums.macrumors.com/threads/weird-gmail-send-mail-problem.787956/; the
//     WildDuck wiki, https://github.com/nodemailer/wildduck/wiki/Gmail-sending, adds that
//     Gmail skips the copy when a message with the same Message-ID is already there).
//   - Microsoft 365 does: Exchange Online files what a mailbox sends through
//     smtp.office365.com in Sent Items, as it does for Outlook. (Not confirmed from a
//     Microsoft page here; the runtime check below covers a tenant that behaves otherwise.)
//   - Fastmail does not by default: a client files its own copy. (Likewise unconfirmed.)
//
// A preset names no folder: the sent folder and the watched junk folder are the ones the
// server marks \Sent and \Junk (SPECIAL-USE, RFC 6154), whatever the provider and the
// account's language call them ("Sent Items", "[Gmail]/Spam", "Junk-E-Mail"), unless the
// file names them (see DefaultFolders and IMAP.DiscoverSent).
//
// The daemon does not trust this list alone: after each send it looks for the
// provider's copy by Message-ID before appending (mailbox.SentFolder), waiting a little
// for providers listed here and checking once for the others: a provider wrongly listed
// costs a few seconds per send; one wrongly left out is still caught when its copy is
// already there at the check.
var presets = map[string]preset{
	PresetMicrosoft365: {
		imapHost: "outlook.office365.com", imapPort: 993, imapSec: SecurityTLS,
		smtpHost: "smtp.office365.com", smtpPort: 587, smtpSec: SecurityStartTLS,
		auth: AuthOAuth2, oauth2: ProviderMicrosoft, filesSent: true,
	},
	PresetGmail: {
		imapHost: "imap.gmail.com", imapPort: 993, imapSec: SecurityTLS,
		smtpHost: "smtp.gmail.com", smtpPort: 465, smtpSec: SecurityTLS,
		auth: AuthOAuth2, oauth2: ProviderGoogle, filesSent: true,
	},
	PresetFastmail: {
		imapHost: "imap.fastmail.com", imapPort: 993, imapSec: SecurityTLS,
		smtpHost: "smtp.fastmail.com", smtpPort: 465, smtpSec: SecurityTLS,
		auth: AuthPassword,
	},
}

// PresetChoice is one value a provider preset filled in because the file left its key
// out; `check` prints them.
type PresetChoice struct {
	// Key is the configuration key, e.g. "mail.imap.host".
	Key string
	// Value is what the preset set it to, as it would be written in the file.
	Value string
}

// String returns "key: value".
func (c PresetChoice) String() string { return c.Key + ": " + c.Value }

// applyPreset fills the keys of r the file omitted from provider's preset, and returns
// what it filled. It reports an unknown provider at mail.provider.
func (v *validator) applyPreset(a at, r *rawMail) (name string, p preset, chose []PresetChoice) {
	name = strings.ToLower(strings.TrimSpace(r.Provider))
	if name == "" || name == PresetGeneric {
		return PresetGeneric, preset{}, nil
	}
	p, ok := presets[name]
	if !ok {
		v.p.addf(a.key("provider"), "unknown provider %q (want microsoft365, gmail, fastmail or generic)", r.Provider)
		return PresetGeneric, preset{}, nil
	}
	if r.SMTP == nil {
		r.SMTP = &rawServer{}
	}
	if r.IMAP == nil {
		r.IMAP = &rawIMAP{}
	}
	fill := func(key string, s *rawServer, host string, port int, sec Security) {
		if s.Host == "" {
			s.Host = host
			chose = append(chose, PresetChoice{key + ".host", host})
		}
		if s.Security == "" {
			s.Security = string(sec)
			chose = append(chose, PresetChoice{key + ".security", string(sec)})
		}
		if s.Port == nil {
			// A port written in the file keeps its own; the preset's only goes with
			// the preset's security, else the security's default port applies.
			if Security(strings.ToLower(s.Security)) == sec {
				port := port
				s.Port = &port
				chose = append(chose, PresetChoice{key + ".port", fmt.Sprint(port)})
			}
		}
		// auth oauth2 only when the file names no password: a password written in the
		// file (an app password) means the user chose password login.
		if s.Auth == "" && (s.PasswordFile == "" && s.PasswordEnv == "" && s.Password == nil) {
			s.Auth = string(p.auth)
			chose = append(chose, PresetChoice{key + ".auth", string(p.auth)})
		}
	}
	fill("mail.smtp", r.SMTP, p.smtpHost, p.smtpPort, p.smtpSec)
	fill("mail.imap", &r.IMAP.rawServer, p.imapHost, p.imapPort, p.imapSec)
	if r.OAuth2 != nil && r.OAuth2.Provider == "" && p.oauth2 != "" {
		r.OAuth2.Provider = p.oauth2
		chose = append(chose, PresetChoice{"mail.oauth2.provider", p.oauth2})
	}
	return name, p, chose
}
