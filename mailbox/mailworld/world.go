// Package mailworld starts a small mail world for tests and the demo: an SMTP server on
// loopback that delivers to its users' INBOX, and an IMAP server that serves those mailboxes.
//
// Two implementations share the World interface, so a test is written once and run against
// both:
//
//   - Memory (StartMemory) runs in-process: go-imap's imapserver over imapmemserver and a
//     go-smtp server. It starts in microseconds, needs nothing installed, and can inject faults
//     (SetRcptFault).
//   - Real (StartReal) runs Postfix and Dovecot from configuration generated in a directory.
//     It needs root and the Debian packages postfix, dovecot-imapd and dovecot-lmtpd
//     (RealAvailable says what is missing). It starts in about 0.15 s and stops in about 1 s.
//
// Both worlds speak plain text on 127.0.0.1 only (no TLS), accept AUTH PLAIN with a user's
// address and password but do not require it, treat '+' as the recipient delimiter
// (lin.wei+TOKEN@example.com is delivered to lin.wei@example.com, and the delivered copy
// starts with "Delivered-To: lin.wei+TOKEN@example.com"), refuse unknown recipients at RCPT
// with a 5xx reply, and give every user the mailboxes INBOX, Sent and Junk. Mail for any
// address outside the world is refused: nothing ever leaves the machine.
//
// Differences that remain: Real accepts a message (250 after DATA) once it is queued and
// delivers it to the INBOX a few milliseconds later, while Memory answers 250 only after the
// message is in the INBOX, so readers must poll with a bound. Real advertises more IMAP
// extensions (CONDSTORE, QRESYNC) and marks Sent and Junk with SPECIAL-USE attributes (under
// the names RealOptions.SentFolder and JunkFolder choose); Memory advertises IMAP4rev1, the
// extensions imapmemserver implements, and SPECIAL-USE, but marks no folder unless the user
// was added with AddUserWithFolders. Unknown users in a world domain get
// 550 from both; other domains get 550 from Memory and 554 (relay access denied) from Real.
// A failed login costs about 0.5 s in Real and nothing in Memory. INTERNALDATE has one-second
// resolution in both (it is sent that way).
//
// A Real world started with RealOptions.Generators (and RealOptions.Exim,
// RealOptions.OpenSMTPD) also holds real generators of machine mail: Postfix bounces, delay
// warnings and verification reports, Sieve vacation replies in several languages, Exim
// bounces, and OpenSMTPD bounces and delay notices. See GeneratorDomain and OpenSMTPDDomain
// for the addresses that provoke each one and for the facts measured about them.
package mailworld

import (
	"errors"
	"fmt"
	"strings"
)

// User is a mailbox in the world. Address is the login name for IMAP and SMTP AUTH, and the
// address mail is delivered to; Password is stored and compared in plain text.
type User struct {
	Address  string // for example "lin.wei@example.com"
	Password string
}

// World is a running mail world: SMTP accepts mail on loopback and delivers it to the users'
// INBOX, reachable over IMAP. Both servers speak plain text on 127.0.0.1.
//
// A World is safe for concurrent use. Whoever starts a World must call Close.
type World interface {
	// SMTPAddr returns the SMTP server's address, "127.0.0.1:PORT".
	SMTPAddr() string
	// IMAPAddr returns the IMAP server's address, "127.0.0.1:PORT".
	IMAPAddr() string
	// Users returns a copy of the world's users in the order they were added.
	Users() []User
	// AddUser adds a user. Once it returns, the user can log in over IMAP and SMTP
	// and mail to the address is accepted. It returns an error wrapping ErrInvalidUser
	// for a malformed user, ErrUserExists for an address already present, and ErrClosed
	// after Close.
	AddUser(u User) error
	// Close stops the servers and waits for them to stop. It is idempotent: later calls
	// return the first call's result.
	Close() error
}

// Errors returned by the worlds; test them with errors.Is.
var (
	// ErrInvalidUser means a User cannot exist in a world (see User's validation in AddUser).
	ErrInvalidUser = errors.New("invalid user")
	// ErrUserExists means a user with the same address is already in the world.
	ErrUserExists = errors.New("user already exists")
	// ErrClosed means the world has been closed.
	ErrClosed = errors.New("mail world closed")
)

// Hostname is the name both worlds' SMTP servers greet with and write into Received lines.
const Hostname = "mail.mailworld.test"

// checkUser reports whether u can live in a world. Addresses are restricted to what both
// worlds treat alike: lower case (Dovecot folds logins to lower case, imapmemserver compares
// exactly), no '+' in the local part (it is the recipient delimiter), and no characters that
// are special in Postfix maps, Dovecot passwd-files or file names.
func checkUser(u User) error {
	local, domain, ok := strings.Cut(u.Address, "@")
	switch {
	case !ok || local == "" || domain == "" || strings.Contains(domain, "@"):
		return fmt.Errorf("user %q: address must be local@domain: %w", u.Address, ErrInvalidUser)
	case strings.Contains(local, "+"):
		return fmt.Errorf("user %q: '+' is the recipient delimiter and cannot be in the local part: %w", u.Address, ErrInvalidUser)
	case strings.ToLower(u.Address) != u.Address:
		return fmt.Errorf("user %q: address must be lower case: %w", u.Address, ErrInvalidUser)
	case strings.ContainsAny(u.Address, " \t\r\n:/\\\"#,<>()[];%"):
		return fmt.Errorf("user %q: address contains a character the worlds do not support: %w", u.Address, ErrInvalidUser)
	case u.Password == "" || strings.ContainsAny(u.Password, ":\r\n\x00"):
		return fmt.Errorf("user %q: password must be non-empty, without ':', NUL or line breaks: %w", u.Address, ErrInvalidUser)
	}
	return nil
}

// baseAddress returns the mailbox address that rcpt delivers to: the address without a
// "+detail" suffix on its local part, lower-cased.
func baseAddress(rcpt string) string {
	rcpt = strings.ToLower(rcpt)
	local, domain, ok := strings.Cut(rcpt, "@")
	if !ok {
		return rcpt
	}
	local, _, _ = strings.Cut(local, "+")
	return local + "@" + domain
}
