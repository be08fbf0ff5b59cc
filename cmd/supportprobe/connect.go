package main

// check --connect: talk to the configured IMAP and SMTP servers one step at a time (DNS,
// TCP, TLS, login, folders, IDLE; DNS, TCP, EHLO, TLS, AUTH, NOOP), print each step's
// verdict and timing, and on a failure say which step failed and what to try. Nothing is
// ever sent or changed: folders are opened read-only (EXAMINE), and the SMTP session ends
// with QUIT after NOOP.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/textproto"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/wneessen/go-mail/smtp"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/oauth"
	"supportprobe/probe/daemon"
)

// runConnect checks both mail servers of cfg and prints a report to e.stdout. It returns
// nil when every step passed, else an error naming each failed step and what to try
// (exitFailure). Warnings (no IDLE) do not fail.
func runConnect(ctx context.Context, cfg *configs.Config, e *env) error {
	fmt.Fprintln(e.stdout, "Connecting to the mail servers (nothing is sent or changed):")
	var failures []string
	if err := connectIMAP(ctx, e.stdout, cfg.Mail.IMAP); err != nil {
		failures = append(failures, "IMAP "+err.Error())
	}
	if err := connectSMTP(ctx, e.stdout, cfg.Mail.SMTP); err != nil {
		failures = append(failures, "SMTP "+err.Error())
	}
	if len(failures) > 0 {
		return fmt.Errorf("connection check failed: %s", strings.Join(failures, "; "))
	}
	fmt.Fprintln(e.stdout, "\nBoth mail servers work: `supportprobe run` can send probes and watch for replies.")
	return nil
}

// stepFailure is a failed step: what happened, and what to try about it.
type stepFailure struct {
	what, hint string
}

func (f *stepFailure) Error() string {
	if f.hint == "" {
		return f.what
	}
	return f.what + " — " + f.hint
}

func failed(what, hint string) error { return &stepFailure{what, hint} }

// stepResult is a passed step: its detail, and whether it deserves attention (a
// warning does not fail the check).
type stepResult struct {
	detail  string
	warn    bool
	untimed bool // the step talks to nobody: no timing shown
}

// connectReport prints the steps of one server and remembers its first failure. After
// a failure the later steps are skipped, unless the failure was soft (a missing folder
// does not make IDLE untestable).
type connectReport struct {
	w       io.Writer
	err     error
	blocked bool
}

// soft is step for a failure that does not stop the later steps.
func (r *connectReport) soft(name string, f func() (stepResult, error)) {
	blocked := r.blocked
	r.step(name, f)
	r.blocked = blocked
}

const detailWidth = 44

// step runs f unless an earlier step of the server failed, and prints its verdict.
func (r *connectReport) step(name string, f func() (stepResult, error)) {
	if r.blocked {
		return
	}
	start := time.Now()
	res, err := f()
	took := time.Since(start)
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		r.blocked = true
		what, hint := err.Error(), ""
		var sf *stepFailure
		if errors.As(err, &sf) {
			what, hint = sf.what, sf.hint
		}
		r.line("FAIL", name, what, took)
		if hint != "" {
			fmt.Fprintf(r.w, "        %-8s try: %s\n", "", hint)
		}
		return
	}
	mark := "ok"
	if res.warn {
		mark = "warn"
	}
	if res.untimed {
		took = -1
	}
	r.line(mark, name, res.detail, took)
}

// line prints one step: its mark, name and detail, and its timing in a column when the
// detail fits (took < 0: none).
func (r *connectReport) line(mark, name, detail string, took time.Duration) {
	l := fmt.Sprintf("  %-4s  %-8s %s", mark, name, detail)
	if took >= 0 {
		ms := fmt.Sprintf("%d ms", took.Milliseconds())
		if n := detailWidth - len([]rune(detail)); n > 0 {
			l += strings.Repeat(" ", n) + fmt.Sprintf("%6s", ms)
		} else {
			l += " (" + ms + ")"
		}
	}
	fmt.Fprintln(r.w, l)
}

// --- steps shared by IMAP and SMTP ---

// portAdvice says which ports go with which security, for hints.
func portAdvice(proto string) string {
	if proto == "imap" {
		return "security: tls uses 993, starttls 143"
	}
	return "security: tls uses 465, starttls 587 (none uses 25)"
}

// dnsStep resolves s.Host unless it is an IP address.
func dnsStep(ctx context.Context, proto string, s configs.Server) (stepResult, error) {
	if _, err := netip.ParseAddr(strings.Trim(s.Host, "[]")); err == nil {
		return stepResult{detail: s.Host + " is an IP address: no lookup", untimed: true}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, s.Host)
	if err != nil {
		what := fmt.Sprintf("DNS lookup of %s failed: %v", s.Host, err)
		var de *net.DNSError
		if errors.As(err, &de) && de.Err != "" {
			what = fmt.Sprintf("DNS lookup of %s failed: %s", s.Host, de.Err)
		}
		switch {
		case errors.As(err, &de) && de.IsNotFound:
			return stepResult{}, failed(what, fmt.Sprintf("check the spelling of mail.%s.host; the provider's help pages name the server", proto))
		case errors.As(err, &de) && de.IsTimeout, errors.Is(err, context.DeadlineExceeded):
			return stepResult{}, failed(what, "the resolver did not answer: check this machine's DNS settings (/etc/resolv.conf) and network")
		}
		return stepResult{}, failed(what, "check this machine's DNS settings (/etc/resolv.conf) and network")
	}
	detail := strings.Join(addrs, ", ")
	if len(addrs) > 3 {
		detail = strings.Join(addrs[:3], ", ") + fmt.Sprintf(" (+%d)", len(addrs)-3)
	}
	return stepResult{detail: detail}, nil
}

// tcpStep connects to s.Addr().
func tcpStep(ctx context.Context, proto string, s configs.Server) (net.Conn, stepResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		reason := err.Error()
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Err != nil {
			reason = oe.Err.Error()
		}
		hint := "check mail." + proto + ".host and port, and that this machine may reach them"
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			reason = "connection refused"
			hint = "is the port right? " + portAdvice(proto) + "; is the server running?"
		case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
			reason = fmt.Sprintf("no answer within %v", s.Timeout)
			hint = "a firewall may drop the connection, or the host or port is wrong; " + portAdvice(proto)
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
			hint = "this machine has no route to " + s.Host + ": check its network and firewall"
		}
		return nil, stepResult{}, failed(fmt.Sprintf("TCP connect to %s failed: %s", s.Addr(), reason), hint)
	}
	return conn, stepResult{detail: "connected to " + conn.RemoteAddr().String()}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// tlsConfig is the configuration mailbox uses: the server's server_name (else its
// host), its ca_file besides the system's roots, TLS 1.2 or later. It records the
// connection state once verified, for the report.
func tlsConfig(s configs.Server, state *tls.ConnectionState) (*tls.Config, error) {
	c, err := mailbox.TLSConfig(s.CAFile, s.ServerName)
	if err != nil {
		return nil, err
	}
	if c.ServerName == "" {
		c.ServerName = strings.Trim(s.Host, "[]")
	}
	c.VerifyConnection = func(cs tls.ConnectionState) error {
		*state = cs
		return nil
	}
	return c, nil
}

// tlsDetail describes a verified TLS connection.
func tlsDetail(cs tls.ConnectionState, host string) string {
	d := tls.VersionName(cs.Version)
	if len(cs.PeerCertificates) > 0 {
		d += fmt.Sprintf(", certificate valid for %s until %s", host, cs.PeerCertificates[0].NotAfter.UTC().Format(time.DateOnly))
	}
	return d
}

// noTLS is the TLS step of security none.
func noTLS() (stepResult, error) {
	return stepResult{detail: "none: not encrypted (allowed for loopback only)", untimed: true}, nil
}

// tlsFailure explains a failed handshake, certificate problems first.
func tlsFailure(proto string, s configs.Server, step string, err error) error {
	what := fmt.Sprintf("%s with %s failed: %v", step, s.Addr(), err)
	var (
		hostErr    x509.HostnameError
		unknownErr x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &hostErr):
		names := "no DNS names"
		if c := hostErr.Certificate; c != nil && len(c.DNSNames) > 0 {
			names = strings.Join(c.DNSNames, ", ")
		}
		return failed(fmt.Sprintf("%s with %s: the certificate is for %s, not %s", step, s.Addr(), names, hostErr.Host),
			fmt.Sprintf("set mail.%s.host to a name the certificate carries (the provider's documented server name), or mail.%s.server_name when you must connect by another name or address", proto, proto))
	case errors.As(err, &unknownErr):
		issuer := "an unknown authority"
		if c := unknownErr.Cert; c != nil {
			issuer = fmt.Sprintf("%q, an authority this machine does not trust", c.Issuer.String())
		}
		return failed(fmt.Sprintf("%s with %s: the certificate is signed by %s", step, s.Addr(), issuer),
			fmt.Sprintf("if the server uses a private CA or a self-signed certificate, set mail.%s.ca_file to that CA's certificate (PEM), "+
				"or install it in this machine's trust store (Debian: copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)", proto))
	case errors.As(err, &invalidErr) && invalidErr.Reason == x509.Expired:
		return failed(fmt.Sprintf("%s with %s: the certificate is expired or not yet valid (%v)", step, s.Addr(), invalidErr.Detail),
			fmt.Sprintf("check this machine's clock (it says %s); if it is right, the server's certificate must be renewed",
				time.Now().UTC().Format(time.RFC3339)))
	case errors.As(err, &invalidErr):
		return failed(what, "the server's certificate is not valid for TLS server use; ask the provider")
	case errors.As(err, &recordErr):
		return failed(fmt.Sprintf("%s with %s failed: the server did not answer with TLS", step, s.Addr()),
			"the port speaks plain text first: use security: starttls, or the TLS port; "+portAdvice(proto))
	case isTimeout(err):
		return failed(what, "the server did not complete the handshake; "+portAdvice(proto))
	}
	return failed(what, "supportprobe needs TLS 1.2 or later; "+portAdvice(proto))
}

// --- IMAP ---

// connectIMAP checks the IMAP server: DNS, TCP, TLS on a first connection; then login
// with mailbox.DialIMAP (what the daemon uses), the folders and IDLE on a second one.
func connectIMAP(ctx context.Context, w io.Writer, cfg configs.IMAP) error {
	s := cfg.Server
	fmt.Fprintf(w, "IMAP %s (%s)\n", s.Addr(), s.Security)
	r := &connectReport{w: w}
	r.step("DNS", func() (stepResult, error) { return dnsStep(ctx, "imap", s) })
	var conn net.Conn
	r.step("TCP", func() (res stepResult, err error) {
		conn, res, err = tcpStep(ctx, "imap", s)
		return res, err
	})
	if conn != nil {
		defer conn.Close()
	}
	r.step("TLS", func() (stepResult, error) {
		var cs tls.ConnectionState
		cfg, err := tlsConfig(s, &cs)
		if err != nil {
			return stepResult{}, failed(fmt.Sprintf("TLS settings of mail.imap: %v", err), "fix mail.imap.ca_file")
		}
		switch s.Security {
		case configs.SecurityTLS:
			tc := tls.Client(conn, cfg)
			stop := mailbox.Watchdog(ctx, s.Timeout, conn)
			if err := stop(tc.Handshake()); err != nil {
				return stepResult{}, tlsFailure("imap", s, "TLS handshake", err)
			}
		case configs.SecurityStartTLS:
			stop := mailbox.Watchdog(ctx, s.Timeout, conn)
			c, err := imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: cfg})
			if err = stop(err); err != nil {
				var ie *imap.Error
				if errors.As(err, &ie) {
					return stepResult{}, failed(fmt.Sprintf("STARTTLS with %s refused: %v", s.Addr(), err),
						"the server does not offer STARTTLS here; if the port expects TLS from the first byte, use security: tls; "+portAdvice("imap"))
				}
				if isTimeout(err) {
					return stepResult{}, failed(fmt.Sprintf("STARTTLS with %s failed: no greeting within %v", s.Addr(), s.Timeout),
						"a TLS port waits for the client to speak first: use security: tls; "+portAdvice("imap"))
				}
				return stepResult{}, tlsFailure("imap", s, "STARTTLS", err)
			}
			c.Close()
		default:
			return noTLS()
		}
		return stepResult{detail: tlsDetail(cs, s.Host)}, nil
	})
	if conn != nil {
		conn.Close() // the rest goes over mailbox.DialIMAP's own connection
	}

	var c *imapclient.Client
	r.step("login", func() (stepResult, error) {
		srv, err := daemon.MailServer("imap", s)
		if err != nil {
			return stepResult{}, failed(fmt.Sprintf("no password to log in with: %v", err),
				"set up the password named in mail.imap (password_file or password_env)")
		}
		c, err = mailbox.DialIMAP(ctx, srv)
		if s.Auth == configs.AuthOAuth2 && err != nil {
			return stepResult{}, failed(fmt.Sprintf("login failed: %v", err), oauthHint(err))
		}
		if errors.Is(err, mailbox.ErrAuthFailed) {
			return stepResult{}, failed(fmt.Sprintf("login failed: %v", err),
				"check mail.imap.username and the password; providers with two-step sign-in (Gmail, Microsoft 365, iCloud) want an app password")
		}
		if err != nil {
			return stepResult{}, failed(fmt.Sprintf("login failed: %v", err), "")
		}
		return stepResult{detail: s.Username}, nil
	})
	if c != nil {
		defer func() {
			stop := mailbox.Watchdog(ctx, s.Timeout, c)
			_ = stop(c.Logout().Wait())
			c.Close()
		}()
	}
	r.soft("folders", func() (stepResult, error) { return imapFolders(ctx, c, cfg) })
	r.step("IDLE", func() (stepResult, error) {
		if c.Caps().Has(imap.CapIdle) {
			return stepResult{detail: "offered: replies are seen within a second", untimed: true}, nil
		}
		return stepResult{detail: fmt.Sprintf("not offered: folders are polled every %v, so replies are seen up to that late",
			mailbox.DefaultWatchPollInterval), warn: true, untimed: true}, nil
	})
	return r.err
}

// imapFolders opens each watched folder, and the sent folder when copies go there,
// read-only (EXAMINE).
func imapFolders(ctx context.Context, c *imapclient.Client, cfg configs.IMAP) (stepResult, error) {
	timeout := cfg.Timeout
	examine := func(name string) error {
		stop := mailbox.Watchdog(ctx, timeout, c)
		_, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
		return stop(err)
	}
	var names, missing []string
	var problems []string
	folders, err := mailbox.ResolveFoldersOn(ctx, c, timeout, cfg.Folders)
	if err != nil {
		return stepResult{}, failed(fmt.Sprintf("find the folders of mail.imap.folders: %v", err), "")
	}
	for _, f := range folders {
		if f.Name == "" {
			// Not an error: the account may have no junk folder yet; the daemon looks
			// for one at every sync.
			names = append(names, f.String())
			continue
		}
		if err := examine(f.Name); err != nil {
			missing = append(missing, f.Name)
			problems = append(problems, fmt.Sprintf("folder %s (mail.imap.folders): %v", f.Name, err))
			continue
		}
		names = append(names, f.String())
	}
	sentMissing := false
	if cfg.AppendSent {
		// As the daemon does: without sent_folder in the file, the folder the server
		// marks \Sent ("Sent Items", "Gesendete Elemente"), else the default name.
		sent, how := cfg.SentFolder, "sent copies"
		if cfg.DiscoverSent {
			if found, err := mailbox.SpecialUseOn(ctx, c, timeout, imap.MailboxAttrSent); err != nil {
				problems = append(problems, fmt.Sprintf("find the folder marked \\Sent: %v", err))
			} else if found != "" {
				sent, how = found, "sent copies; \\Sent, SPECIAL-USE"
			}
		}
		if err := examine(sent); err != nil {
			sentMissing = true
			problems = append(problems, fmt.Sprintf("sent folder %s (mail.imap.sent_folder): %v", sent, err))
		} else {
			names = append(names, sent+" ("+how+")")
		}
	}
	if len(problems) == 0 {
		return stepResult{detail: strings.Join(names, ", ")}, nil
	}

	var hints []string
	if len(missing) > 0 {
		hints = append(hints, "fix mail.imap.folders")
	}
	if sentMissing {
		hints = append(hints, "fix mail.imap.sent_folder, or set append_sent: false if the SMTP server files sent mail itself")
	}
	if have := listFolders(ctx, c, timeout); len(have) > 0 {
		hints = append(hints, "the account has: "+strings.Join(have, ", "))
	}
	return stepResult{}, failed(strings.Join(problems, "; "), strings.Join(hints, "; "))
}

// listFolders returns the account's folder names (at most 30), or nil if LIST fails.
func listFolders(ctx context.Context, c *imapclient.Client, timeout time.Duration) []string {
	stop := mailbox.Watchdog(ctx, timeout, c)
	list, err := c.List("", "*", nil).Collect()
	if stop(err) != nil {
		return nil
	}
	var names []string
	for _, l := range list {
		if !slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) {
			names = append(names, l.Mailbox)
		}
	}
	slices.Sort(names)
	if len(names) > 30 {
		names = append(names[:30], fmt.Sprintf("… %d more", len(names)-30))
	}
	return names
}

// --- SMTP ---

// connectSMTP checks the SMTP server on one connection: DNS, TCP, TLS and EHLO (in the
// order the security setting wants), AUTH when a username is set, NOOP and QUIT. No
// MAIL FROM is ever sent.
func connectSMTP(ctx context.Context, w io.Writer, s configs.Server) error {
	fmt.Fprintf(w, "SMTP %s (%s)\n", s.Addr(), s.Security)
	r := &connectReport{w: w}
	r.step("DNS", func() (stepResult, error) { return dnsStep(ctx, "smtp", s) })
	var conn net.Conn
	r.step("TCP", func() (res stepResult, err error) {
		conn, res, err = tcpStep(ctx, "smtp", s)
		return res, err
	})
	if conn == nil {
		return r.err
	}
	defer conn.Close()
	raw := conn
	// Every step is bounded by s.Timeout; ctx ending closes the connection.
	deadline := func() { raw.SetDeadline(time.Now().Add(s.Timeout)) }
	defer context.AfterFunc(ctx, func() { raw.Close() })()

	var cs tls.ConnectionState
	tcfg, err := tlsConfig(s, &cs)
	if err != nil {
		r.step("TLS", func() (stepResult, error) {
			return stepResult{}, failed(fmt.Sprintf("TLS settings of mail.smtp: %v", err), "fix mail.smtp.ca_file")
		})
		return r.err
	}
	if s.Security == configs.SecurityTLS {
		r.step("TLS", func() (stepResult, error) {
			deadline()
			tc := tls.Client(raw, tcfg)
			if err := tc.Handshake(); err != nil {
				return stepResult{}, tlsFailure("smtp", s, "TLS handshake", err)
			}
			conn = tc
			return stepResult{detail: tlsDetail(cs, s.Host)}, nil
		})
	}

	var c *smtp.Client
	r.step("EHLO", func() (stepResult, error) {
		deadline()
		var err error
		c, err = smtp.NewClient(conn, strings.Trim(s.Host, "[]"))
		if err != nil {
			if isTimeout(err) && s.Security != configs.SecurityTLS {
				return stepResult{}, failed(fmt.Sprintf("no greeting from %s within %v", s.Addr(), s.Timeout),
					"a TLS port waits for the client to speak first: use security: tls; "+portAdvice("smtp"))
			}
			return stepResult{}, failed(fmt.Sprintf("greeting from %s failed: %v", s.Addr(), err), portAdvice("smtp"))
		}
		if err := c.Hello(heloName()); err != nil {
			return stepResult{}, failed(fmt.Sprintf("EHLO to %s failed: %v", s.Addr(), err), "")
		}
		detail := c.HelloResponse()
		if ok, mechs := c.Extension("AUTH"); ok {
			detail += "; AUTH " + mechs
		}
		return stepResult{detail: detail}, nil
	})

	switch s.Security {
	case configs.SecurityStartTLS:
		r.step("TLS", func() (stepResult, error) {
			if ok, _ := c.Extension("STARTTLS"); !ok {
				return stepResult{}, failed(fmt.Sprintf("%s does not offer STARTTLS", s.Addr()),
					"if the port expects TLS from the first byte, use security: tls; "+portAdvice("smtp"))
			}
			deadline()
			if err := c.StartTLS(tcfg); err != nil {
				return stepResult{}, tlsFailure("smtp", s, "STARTTLS", err)
			}
			return stepResult{detail: tlsDetail(cs, s.Host)}, nil
		})
	case configs.SecurityNone:
		r.step("TLS", func() (stepResult, error) { return noTLS() })
	}

	r.step("AUTH", func() (stepResult, error) {
		if s.Username == "" {
			return stepResult{detail: "none: no username, mail is sent without logging in", untimed: true}, nil
		}
		srv, err := daemon.MailServer("smtp", s)
		if err != nil {
			return stepResult{}, failed(fmt.Sprintf("no password to log in with: %v", err),
				"set up the password named in mail.smtp (password_file or password_env)")
		}
		ok, offered := c.Extension("AUTH")
		if !ok {
			return stepResult{}, failed(fmt.Sprintf("%s offers no AUTH", s.Addr()),
				"use the submission port the provider documents ("+portAdvice("smtp")+"), or remove mail.smtp.username if the server takes mail without login")
		}
		if s.Auth == configs.AuthOAuth2 {
			return smtpTokenAuth(ctx, c, srv, offered, deadline)
		}
		mech, auth := smtpAuth(offered, srv, s.Security == configs.SecurityNone)
		if auth == nil {
			return stepResult{}, failed(fmt.Sprintf("%s offers AUTH %s, none of which supportprobe speaks", s.Addr(), offered),
				"supportprobe logs in with PLAIN, LOGIN, SCRAM-SHA-256, SCRAM-SHA-1 or CRAM-MD5")
		}
		deadline()
		if err := c.Auth(auth); err != nil {
			var tp *textproto.Error
			if errors.As(err, &tp) && tp.Code == 535 {
				return stepResult{}, failed(fmt.Sprintf("AUTH %s as %s failed: authentication failed: %v", mech, s.Username, err),
					"check mail.smtp.username and the password; providers with two-step sign-in (Gmail, Microsoft 365, iCloud) want an app password")
			}
			return stepResult{}, failed(fmt.Sprintf("AUTH %s as %s failed: %v", mech, s.Username, err), "")
		}
		return stepResult{detail: fmt.Sprintf("%s (%s)", s.Username, mech)}, nil
	})
	r.step("NOOP", func() (stepResult, error) {
		deadline()
		if err := c.Noop(); err != nil {
			return stepResult{}, failed(fmt.Sprintf("NOOP to %s failed: %v", s.Addr(), err), "")
		}
		_ = c.Quit()
		return stepResult{detail: "ready to take mail (none was sent)"}, nil
	})
	return r.err
}

// smtpTokenAuth is the AUTH step for auth: oauth2: the token refresh, then OAUTHBEARER
// or XOAUTH2, each failure named with what to do.
func smtpTokenAuth(ctx context.Context, c *smtp.Client, srv mailbox.Server, offered string, deadline func()) (stepResult, error) {
	tok, err := srv.Token(ctx)
	if err != nil {
		return stepResult{}, failed(err.Error(), oauthHint(err))
	}
	mech, err := mailbox.BearerMechanism(strings.Fields(strings.ToUpper(offered)))
	if err != nil {
		return stepResult{}, failed(fmt.Sprintf("AUTH as %s: %v", srv.Username, err), "")
	}
	deadline()
	if err := c.Auth(mailbox.SMTPBearerAuth(srv.Username, tok, srv.Host, srv.Port)); err != nil {
		return stepResult{}, failed(fmt.Sprintf("AUTH %s as %s failed: %v", mech, srv.Username, err),
			"the server refused the token: check that mail.smtp.username is the account you signed in as, that the app has the SMTP scope (Microsoft: SMTP.Send, and SMTP AUTH enabled for the mailbox), then run `supportprobe login` again")
	}
	return stepResult{detail: fmt.Sprintf("%s (%s)", srv.Username, mech)}, nil
}

// oauthHint says what to do about a failed token login.
func oauthHint(err error) string {
	if errors.Is(err, oauth.ErrLoginRequired) {
		return "run `supportprobe login` (with the same --config), then try again"
	}
	if errors.Is(err, mailbox.ErrAuthFailed) {
		return "the server refused the token: check that the username is the account you signed in as and that the app has this protocol's scope, then run `supportprobe login` again"
	}
	return "check that this machine can reach the provider's token endpoint (mail.oauth2)"
}

// smtpAuth picks the mechanism the Sender would (PLAIN, then LOGIN, then the
// challenge-response ones) from the server's AUTH parameters.
func smtpAuth(offered string, srv mailbox.Server, plainText bool) (string, smtp.Auth) {
	mechs := strings.Fields(strings.ToUpper(offered))
	host := strings.Trim(srv.Host, "[]")
	for _, m := range []string{"PLAIN", "LOGIN", "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5"} {
		if !slices.Contains(mechs, m) {
			continue
		}
		switch m {
		case "PLAIN":
			return m, smtp.PlainAuth("", srv.Username, srv.Password, host, plainText)
		case "LOGIN":
			return m, smtp.LoginAuth(srv.Username, srv.Password, host, plainText)
		case "SCRAM-SHA-256":
			return m, smtp.ScramSHA256Auth(srv.Username, srv.Password)
		case "SCRAM-SHA-1":
			return m, smtp.ScramSHA1Auth(srv.Username, srv.Password)
		case "CRAM-MD5":
			return m, smtp.CRAMMD5Auth(srv.Username, srv.Password)
		}
	}
	return "", nil
}

func heloName() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}
