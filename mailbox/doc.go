// Package mailbox is supportprobe's mail I/O: it sends inquiries over SMTP (Sender, built
// on github.com/wneessen/go-mail), files and finds sent copies over IMAP while measuring
// the IMAP server's clock against ours (SentFolder), and logs in to IMAP for anything
// else, such as the inbox watcher (DialIMAP, on go-imap v2). Sub-package mailworld runs
// an in-process or a real (Postfix and Dovecot) mail world for tests and the demo.
//
// # The sending contract
//
// A probe's sent_at is our clock when the SMTP server answered 250 to the end of DATA.
// Sender.Send blocks until that reply (or until it gives up) and returns it as
// SendResult.AcceptedAt, read before QUIT; its nil error is the acceptance and nothing
// else is. The caller does the store writes around it:
//
//  1. write the probe as "sending", with its Message-ID, before calling Send;
//  2. call Send;
//  3. on success write it as "sent" with AcceptedAt and keep SendResult.Raw, the exact
//     bytes given to DATA (before dot-stuffing): the delivered copy ends with them, after
//     the headers the receiving servers prepend; on failure write it as "failed" with
//     the error, which carries the server's reply.
//
// A crash between 2 and 3 leaves "sending"; only a human or the sent folder can tell
// whether the message went out. Send renders the message once and sends those bytes, so
// Raw is what was sent even if rendering were not deterministic.
//
// The message is what a person's mail client would write: Date (the inquiry's), MIME-Version,
// Message-ID (ours, on one line), an RFC 2047 encoded Subject, From, To, Reply-To when
// set, and one text/plain; charset=UTF-8 quoted-printable body ending in CRLF. It carries
// no User-Agent or X-Mailer (go-mail adds one by default), and none of Auto-Submitted,
// Precedence, List-* or X-Auto-Response-Suppress: help desks drop or never acknowledge
// mail that looks automated, which would read as "the vendor never answered".
//
// # TLS
//
// Server.Security chooses the protection, for SMTP and IMAP alike:
//
//   - "tls": TLS from the first byte (SMTP 465, IMAP 993);
//   - "starttls": plain text upgraded with STARTTLS before anything else; a server that
//     does not offer it is an error, never a reason to go on in the clear (SMTP 587,
//     IMAP 143);
//   - "none": no encryption, for a server on this machine. The configuration allows it
//     for loopback hosts only, and this package refuses to send a password over it to
//     any other host.
//
// Certificates are verified against the system's roots (or Server.TLSConfig.RootCAs)
// for Server.Host (or TLSConfig.ServerName); TLS 1.2 is the minimum. A certificate that
// does not verify is a permanent error wrapping ErrUntrustedCertificate that names the
// host and says what to check. SMTP AUTH uses PLAIN or LOGIN, whichever the server
// offers (go-mail's autodiscovery otherwise); a refused password wraps ErrAuthFailed.
//
// # Retries
//
// Send retries transient failures: 4xx replies, refused or reset connections, timeouts
// and DNS failures other than "no such host". It waits SenderOptions.Backoff (5 s) after
// the first, doubling each time up to MaxBackoff (2 min), and gives up rather than start
// a wait that would end after RetryWindow (10 min) from the start of Send. Permanent
// failures (5xx replies, untrusted certificates, refused credentials, a server that
// does not speak TLS where it should) return at once. Either way the error is a
// *SendError naming the server, the step, the reply and the attempts:
//
//	smtp smtp.example.com:465: RCPT TO <x@y>: 550 5.1.1 mailbox unavailable (permanent, 1 attempt)
//
// A connection lost after the final "." and before the reply is retried too; the
// server may have taken the first copy, so the vendor can get the inquiry twice. SMTP
// offers no way to know. When Send gives up after such an attempt, its *SendError says
// MaybeDelivered and wraps probe.ErrMaybeSent, so the caller does not take the message
// for unsent.
//
// # Clock skew
//
// SentFolder.AppendSent appends the sent copy without a date, so its INTERNALDATE is
// the IMAP server's clock at arrival, and returns that clock minus ours: the middle of
// the interval the one-second resolution allows, good to about ±0.5 s (see Appended).
// Replies are timed by their INTERNALDATE, so the skew puts them and sent_at on one
// time base.
package mailbox
