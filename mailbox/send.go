package mailbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"syscall"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"supportprobe/probe"
)

// Defaults for SenderOptions.
const (
	// DefaultBackoff is the wait after the first transient failure.
	DefaultBackoff = 5 * time.Second
	// DefaultMaxBackoff caps the doubling waits.
	DefaultMaxBackoff = 2 * time.Minute
	// DefaultRetryWindow bounds all the retries of one Send.
	DefaultRetryWindow = 10 * time.Minute
)

// SenderOptions tune a Sender. The zero value is the production setting.
type SenderOptions struct {
	// Now is our clock: SendResult.AcceptedAt and the retry window are read from it.
	// Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends, returning ctx's error then. Default: a timer.
	// Tests inject one that advances their Now instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Backoff is the wait after the first transient failure, doubled after each
	// further one up to MaxBackoff. Defaults DefaultBackoff and DefaultMaxBackoff.
	Backoff, MaxBackoff time.Duration
	// RetryWindow bounds the retries, from the start of Send: a wait that would end
	// after it is not taken and Send gives up instead. Default DefaultRetryWindow.
	RetryWindow time.Duration
	// HELO is the name given in EHLO; default the machine's host name.
	HELO string
	// Logger receives a warning for each transient failure that will be retried;
	// nil discards them.
	Logger *slog.Logger
}

// Sender sends probe inquiries through one SMTP server with go-mail. It is safe for
// concurrent use; each Send opens its own connections.
type Sender struct {
	srv  Server
	opts SenderOptions
}

var _ probe.Sender = (*Sender)(nil)

// NewSender returns a Sender for the SMTP server s. Problems with s (no host, unknown
// security, a password over security none to a host that is not loopback) are reported
// by Send.
func NewSender(s Server, opts SenderOptions) *Sender {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.RetryWindow <= 0 {
		opts.RetryWindow = DefaultRetryWindow
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{srv: s, opts: opts}
}

// Send renders in once, hands the bytes to in.BeforeSend (when set; its error stops the
// send before any connection is made) and sends those bytes, calling in.BeforeDataEnd
// (when set) in each attempt just before the final "." of DATA (its error abandons the
// transaction before the ".", permanently, so nothing goes out), blocking until the server answered 250 to
// the end of DATA or Send gave up. A nil error means the server accepted the message;
// SendResult.AcceptedAt is our clock at that reply (before QUIT) and SendResult.Raw the
// exact bytes given to DATA (before dot-stuffing).
//
// Transient failures (4xx replies, refused or reset connections, timeouts) are retried
// with exponential backoff within the retry window; a permanent one (5xx, an untrusted
// certificate, refused credentials) returns at once. SMTP failures come back as
// *SendError carrying the server's reply. An inquiry that cannot be rendered (bad
// address, Message-ID or Date) is an error before any connection is made. When ctx ends
// during a wait or a conversation, Send returns a *SendError that wraps ctx's error.
//
// A connection lost after the final "." but before the reply is retried like any other
// transient failure; the server may have accepted the first copy, so the vendor can
// receive the inquiry twice. SMTP has no way to tell.
func (s *Sender) Send(ctx context.Context, in probe.Inquiry) (probe.SendResult, error) {
	if err := s.srv.check("smtp"); err != nil {
		return probe.SendResult{}, err
	}
	env, err := envelopeOf(in)
	if err != nil {
		return probe.SendResult{}, fmt.Errorf("smtp %s: message %s: %w", s.srv.Addr(), in.MessageID, err)
	}
	raw, err := Render(in)
	if err != nil {
		return probe.SendResult{}, fmt.Errorf("smtp %s: message %s: %w", s.srv.Addr(), in.MessageID, err)
	}
	if in.BeforeSend != nil {
		if err := in.BeforeSend(raw); err != nil {
			return probe.SendResult{}, fmt.Errorf("message %s not sent: keeping it before sending: %w", in.MessageID, err)
		}
	}
	return s.sendRaw(ctx, env, raw, in.MessageID, in.BeforeDataEnd)
}

// sendRaw sends raw to env's recipients, retrying transient failures with backoff
// within the retry window; messageID names the message in logs. beforeDataEnd, when not
// nil, is called in each attempt just before the final "." of DATA (see attempt).
func (s *Sender) sendRaw(ctx context.Context, env envelope, raw []byte, messageID string, beforeDataEnd func() error) (probe.SendResult, error) {
	start := s.opts.Now()
	delay := s.opts.Backoff
	maybeDelivered := false
	for attempt := 1; ; attempt++ {
		acceptedAt, err := s.attempt(ctx, env, raw, beforeDataEnd)
		if err == nil {
			return probe.SendResult{AcceptedAt: acceptedAt, Raw: raw, Attempts: attempt}, nil
		}
		se := s.sendError(err, attempt)
		maybeDelivered = maybeDelivered || (se.Step == "end of DATA" && se.Code == 0)
		se.MaybeDelivered = maybeDelivered
		if !se.Temporary {
			return probe.SendResult{}, se
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			se.stopped = ctxErr
			return probe.SendResult{}, se
		}
		if s.opts.Now().Add(delay).After(start.Add(s.opts.RetryWindow)) {
			se.window = s.opts.RetryWindow
			return probe.SendResult{}, se
		}
		s.opts.Logger.Warn("smtp transient failure, will retry", "smtp", s.srv.Addr(), "message_id", messageID,
			"attempt", attempt, "delay", delay, "err", se.Error())
		if err := s.opts.Sleep(ctx, delay); err != nil {
			se.stopped = err
			return probe.SendResult{}, se
		}
		delay = min(2*delay, s.opts.MaxBackoff)
	}
}

// envelope is the SMTP envelope: bare addresses for MAIL FROM and RCPT TO.
type envelope struct {
	from string
	to   []string
}

func envelopeOf(in probe.Inquiry) (envelope, error) {
	from, err := netmail.ParseAddress(in.From)
	if err != nil {
		return envelope{}, fmt.Errorf("from %q: %w", in.From, err)
	}
	if len(in.To) == 0 {
		return envelope{}, errors.New("no recipients")
	}
	env := envelope{from: from.Address}
	for _, to := range in.To {
		a, err := netmail.ParseAddress(to)
		if err != nil {
			return envelope{}, fmt.Errorf("to %q: %w", to, err)
		}
		env.to = append(env.to, a.Address)
	}
	return env, nil
}

// attempt makes one connection and one mail transaction. It returns our clock at the
// 250 after DATA, or a *stepError naming the step that failed.
//
// beforeDataEnd, when not nil, runs after raw was handed to DATA's writer and before
// that writer's Close, which writes the final "." and reads the reply: go-mail's DATA
// writer is a textproto.DotWriter, which sends the terminating "." only on Close, so no
// custom writer is needed to hold it back. (Bytes of raw may already be on the wire; a
// server accepts nothing before the "."). When beforeDataEnd fails, Close is not called
// and the deferred close of the connection abandons the transaction: nothing goes out,
// and the failure is permanent, since trying again would meet it again.
func (s *Sender) attempt(ctx context.Context, env envelope, raw []byte, beforeDataEnd func() error) (time.Time, error) {
	srv := s.srv
	timeout := srv.timeout()

	// Our own dial func: it does implicit TLS itself (so its errors name the step and the
	// certificate problem), and it lets ctx cut a conversation short by closing the
	// connection, which go-mail would only do for the dial.
	var conn net.Conn
	stop := func() bool { return false }
	dialFunc := func(dctx context.Context, _, _ string) (net.Conn, error) {
		c, err := dial(dctx, srv)
		if err != nil {
			return nil, err
		}
		conn = c
		stop = context.AfterFunc(ctx, func() { c.Close() })
		return c, nil
	}
	defer func() {
		stop()
		if conn != nil {
			conn.Close()
		}
	}()

	policy := mail.NoTLS // implicit TLS is done by dialFunc; none is none
	if srv.security() == SecurityStartTLS {
		policy = mail.TLSMandatory
	}
	opts := []mail.Option{
		// go-mail defaults to port 587 with mandatory STARTTLS: set both.
		mail.WithPort(srv.Port),
		mail.WithTLSPolicy(policy),
		mail.WithTLSConfig(srv.tlsConfig()),
		mail.WithTimeout(timeout),
		mail.WithDialContextFunc(dialFunc),
		// The message is 7-bit (encoded words, quoted-printable): no need for SMTPUTF8.
		mail.WithoutSMTPUTF8(),
	}
	if s.opts.HELO != "" {
		opts = append(opts, mail.WithHELO(s.opts.HELO))
	}
	var bearer *smtpBearer
	if srv.Token != nil {
		tok, err := bearerToken(ctx, srv)
		if err != nil {
			return time.Time{}, err
		}
		bearer = &smtpBearer{client: &bearerClient{user: srv.Username, token: tok, host: srv.Host, port: srv.Port}}
		opts = append(opts, mail.WithUsername(srv.Username), mail.WithSMTPAuthCustom(bearer))
	} else if srv.Username != "" {
		// PLAIN or LOGIN, whichever the server offers first in this order, else go-mail's
		// autodiscovery (SCRAM, CRAM-MD5, ...). go-mail refuses PLAIN and LOGIN without
		// TLS unless the host is literally localhost, 127.0.0.1 or ::1; security none is
		// only allowed to loopback (Server.check), so the NOENC variants are safe there.
		mechs := []mail.SMTPAuthType{mail.SMTPAuthPlain, mail.SMTPAuthLogin}
		if srv.security() == SecurityNone {
			mechs = []mail.SMTPAuthType{mail.SMTPAuthPlainNoEnc, mail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts, mail.WithUsername(srv.Username), mail.WithPassword(srv.Password),
			mail.WithOpportunisticSMTPAuth(mechs...))
	}
	client, err := mail.NewClient(srv.Host, opts...)
	if err != nil {
		return time.Time{}, &stepError{"configure client", err}
	}
	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		var se *stepError
		if errors.As(err, &se) {
			return time.Time{}, se
		}
		if bearer != nil && (bearer.err != nil || bearer.client.mech != "") {
			err = bearerSetupError(srv.Username, bearer, err)
			if errors.Is(err, ErrAuthFailed) {
				srv.refused(bearer.client.token)
			}
			return time.Time{}, err
		}
		return time.Time{}, s.setupError(err)
	}

	step := func(name string, f func() error) error {
		if err := sc.UpdateDeadline(timeout); err != nil {
			return &stepError{name, err}
		}
		if err := f(); err != nil {
			return &stepError{name, err}
		}
		return nil
	}
	if err := step("MAIL FROM <"+env.from+">", func() error { return sc.Mail("<" + env.from + ">") }); err != nil {
		return time.Time{}, err
	}
	for _, to := range env.to {
		if err := step("RCPT TO <"+to+">", func() error { return sc.Rcpt("<" + to + ">") }); err != nil {
			return time.Time{}, err
		}
	}
	var w io.WriteCloser
	if err := step("DATA", func() (err error) { w, err = sc.Data(); return err }); err != nil {
		return time.Time{}, err
	}
	if err := step("DATA", func() error { _, err := w.Write(raw); return err }); err != nil {
		return time.Time{}, err
	}
	if beforeDataEnd != nil {
		if err := beforeDataEnd(); err != nil {
			return time.Time{}, &stepError{"before the end of DATA", &hookError{err}}
		}
	}
	if err := step("end of DATA", w.Close); err != nil {
		return time.Time{}, err
	}
	acceptedAt := s.opts.Now()
	_ = sc.Quit() // the message is accepted; a failed QUIT changes nothing
	return acceptedAt, nil
}

// hookError is a failure of the caller's BeforeDataEnd: not the server's doing, and
// never retried.
type hookError struct{ err error }

func (e *hookError) Error() string { return "not sent: " + e.err.Error() }
func (e *hookError) Unwrap() error { return e.err }

// setupError names the step of go-mail's connection setup (greeting, EHLO, STARTTLS,
// AUTH) that err came from, as well as the error allows.
func (s *Sender) setupError(err error) error {
	switch {
	case strings.HasPrefix(err.Error(), "SMTP AUTH failed"), errors.Is(err, mail.ErrNoSupportedAuthDiscovered),
		errors.Is(err, mail.ErrPlainAuthNotSupported), errors.Is(err, mail.ErrLoginAuthNotSupported),
		errors.Is(err, smtp.ErrUnencrypted), errors.Is(err, smtp.ErrWrongHostname),
		err.Error() == "server does not support SMTP AUTH":
		var tp *textproto.Error
		if errors.As(err, &tp) && tp.Code == 535 {
			err = &authError{user: s.srv.Username, err: err}
		}
		return &stepError{"AUTH as " + s.srv.Username, err}
	case s.srv.security() == SecurityStartTLS && (isCertError(err) || isTLSError(err) || strings.Contains(err.Error(), "STARTTLS")):
		return &stepError{"STARTTLS", describeTLSError(err, s.srv.tlsConfig().ServerName)}
	}
	return &stepError{"greeting/EHLO", err}
}

// bearerSetupError describes a failed token login over SMTP: the server offered no
// token mechanism, or refused the token (535, wrapped in ErrAuthFailed).
func bearerSetupError(user string, b *smtpBearer, err error) error {
	if b.err != nil {
		return &stepError{"AUTH as " + user, b.err}
	}
	var tp *textproto.Error
	if errors.As(err, &tp) && tp.Code/100 == 5 {
		return &stepError{"AUTH " + b.client.mech + " as " + user, bearerAuthError(user, b.client.mech, b.client, err)}
	}
	return &stepError{"AUTH " + b.client.mech + " as " + user, err}
}

// SendError is a failed Send: the last attempt's failure, whether it was temporary, and
// how many attempts were made. Its message reads like
//
//	smtp smtp.example.com:465: RCPT TO <x@y>: 550 5.1.1 mailbox unavailable (permanent, 1 attempt)
//
// It wraps Err (and ctx's error when ctx ended the retries), so errors.Is finds
// ErrAuthFailed, ErrUntrustedCertificate, context.Canceled and the like.
type SendError struct {
	// Host is the server as "host:port".
	Host string
	// Step is what failed: "TCP connect", "TLS handshake", "STARTTLS", "greeting/EHLO",
	// "AUTH as USER", "MAIL FROM <a>", "RCPT TO <a>", "DATA", "before the end of
	// DATA" (the caller's Inquiry.BeforeDataEnd failed) or "end of DATA".
	Step string
	// Code is the server's reply code, 0 when the failure was not a reply.
	Code int
	// Temporary is true for a transient failure (4xx, network) that outlasted the retry
	// window or was cut short by ctx; false for a permanent one.
	Temporary bool
	// Attempts counts the connections tried.
	Attempts int
	// Text is the server's reply after the code (enhanced status code included, lines
	// joined by spaces), or the cause's message when there was no reply.
	Text string
	// Err is the last attempt's cause.
	Err error
	// MaybeDelivered is true when an attempt wrote the final "." of DATA and heard no
	// reply (the connection was lost or timed out): the server may have accepted that
	// copy, so the failure does not prove the message was not sent. The error then
	// wraps probe.ErrMaybeSent.
	MaybeDelivered bool

	stopped error         // ctx's error, when ctx ended the retries
	window  time.Duration // the retry window, when it ran out
}

// Error implements error.
func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "smtp %s: %s: ", e.Host, e.Step)
	if e.Code != 0 {
		fmt.Fprintf(&b, "%d ", e.Code)
	}
	b.WriteString(e.Text)
	attempts := "1 attempt"
	if e.Attempts != 1 {
		attempts = fmt.Sprintf("%d attempts", e.Attempts)
	}
	if e.MaybeDelivered {
		attempts += "; a copy may have been accepted: no reply came after its final \".\""
	}
	switch {
	case e.stopped != nil:
		fmt.Fprintf(&b, " (temporary, %s; stopped: %v)", attempts, e.stopped)
	case !e.Temporary:
		fmt.Fprintf(&b, " (permanent, %s)", attempts)
	case e.window > 0:
		fmt.Fprintf(&b, " (temporary, %s, retry window of %s used up)", attempts, e.window)
	default:
		fmt.Fprintf(&b, " (temporary, %s)", attempts)
	}
	return b.String()
}

// Unwrap returns Err, ctx's error when ctx ended the retries, and probe.ErrMaybeSent
// when MaybeDelivered.
func (e *SendError) Unwrap() []error {
	errs := []error{e.Err}
	if e.stopped != nil {
		errs = append(errs, e.stopped)
	}
	if e.MaybeDelivered {
		errs = append(errs, probe.ErrMaybeSent)
	}
	return errs
}

func (s *Sender) sendError(err error, attempts int) *SendError {
	se := &SendError{Host: s.srv.Addr(), Step: "send", Attempts: attempts, Err: err}
	var step *stepError
	if errors.As(err, &step) {
		se.Step, err = step.step, step.err
	}
	se.Code, se.Text, se.Temporary = classify(err)
	return se
}

// classify returns the reply code and text of err, and whether trying again later may
// succeed.
func classify(err error) (code int, text string, temporary bool) {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code, strings.ReplaceAll(tp.Msg, "\n", " "), tp.Code >= 400 && tp.Code < 500
	}
	text = err.Error()
	var (
		dnsErr *net.DNSError
		hook   *hookError
	)
	switch {
	case errors.As(err, &hook):
		return 0, text, false
	case errors.Is(err, ErrUntrustedCertificate), errors.Is(err, ErrAuthFailed), isTLSError(err):
		return 0, text, false
	case errors.As(err, &dnsErr):
		return 0, text, !dnsErr.IsNotFound
	case isNetError(err), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return 0, text, true
	}
	return 0, text, false
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// isTLSError reports a TLS failure that retrying will not fix: the server speaks no TLS on
// this port, or refuses our handshake.
func isTLSError(err error) bool {
	var (
		rec   tls.RecordHeaderError
		alert tls.AlertError
	)
	return errors.As(err, &rec) || errors.As(err, &alert)
}

// Render builds the message for in with go-mail, as Send sends it: Date, MIME-Version,
// Message-ID, In-Reply-To and References (when set, for a follow-up), Subject (RFC
// 2047), From, To, Reply-To (when set),
// Content-Transfer-Encoding and Content-Type, then a quoted-printable UTF-8 text/plain
// body ending in CRLF; nothing else, so no User-Agent or X-Mailer (go-mail adds one
// unless told not to) and none of the headers help desks take for automated mail. The
// output is 7-bit with CRLF line ends. It is an error when in has no Date, a malformed
// From, To or Reply-To, or a Message-ID that is not id-left@id-right (no brackets, no
// spaces, at most 900 characters). Send renders once and sends exactly those bytes;
// Render is for showing a message without sending it.
func Render(in probe.Inquiry) ([]byte, error) {
	if in.MessageID == "" || len(in.MessageID) > 900 || strings.ContainsAny(in.MessageID, "<> \t\r\n") || !strings.Contains(in.MessageID, "@") {
		return nil, fmt.Errorf("Message-ID %q: want id-left@id-right without brackets or spaces, at most 900 characters", in.MessageID)
	}
	if in.Date.IsZero() {
		return nil, errors.New("no Date")
	}
	m := mail.NewMsg(mail.WithNoDefaultUserAgent(), mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP))
	if err := m.From(in.From); err != nil {
		return nil, fmt.Errorf("from %q: %w", in.From, err)
	}
	if err := m.To(in.To...); err != nil {
		return nil, fmt.Errorf("to %q: %w", in.To, err)
	}
	if in.ReplyTo != "" {
		if err := m.ReplyTo(in.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to %q: %w", in.ReplyTo, err)
		}
	}
	m.Subject(in.Subject)
	m.SetMessageIDWithValue(in.MessageID)
	for _, id := range append([]string{in.InReplyTo}, in.References...) {
		if strings.ContainsAny(id, "<> \t\r\n") || len(id) > 900 {
			return nil, fmt.Errorf("reference %q: want id-left@id-right without brackets or spaces", id)
		}
	}
	if in.InReplyTo != "" {
		m.SetGenHeader(mail.HeaderInReplyTo, "<"+in.InReplyTo+">")
	}
	if len(in.References) > 0 {
		m.SetGenHeader(mail.HeaderReferences, "<"+strings.Join(in.References, "> <")+">")
	}
	m.SetDateWithValue(in.Date)
	body := in.Body
	if !strings.HasSuffix(body, "\n") {
		body += "\n" // so the message ends in CRLF and DATA adds nothing to it
	}
	m.SetBodyString(mail.TypeTextPlain, body)

	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	raw := joinBareFieldNames(buf.Bytes())
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		raw = append(raw, '\r', '\n')
	}
	return raw, nil
}

// joinBareFieldNames undoes go-mail's habit of folding right after the colon when a
// field's first word is long, which leaves lines like "Subject:" and "Message-ID:" with
// the value on the next line. That is legal, but a mail client writes the value on the
// field's own line, and so does this: a Message-ID always (a help desk's parser must
// find it where it expects it; it fits the 998-character limit), another field when the
// joined line stays within 78 characters.
func joinBareFieldNames(raw []byte) []byte {
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		return raw
	}
	lines := bytes.Split(head, []byte("\r\n"))
	out := make([][]byte, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if hasFieldName(l, "References:") || hasFieldName(l, "In-Reply-To:") {
			// Threading fields stay on one line like Message-ID: some help desks read
			// only the first line of a field.
			joined := bytes.Clone(l)
			for i+1 < len(lines) && (bytes.HasPrefix(lines[i+1], []byte(" ")) || bytes.HasPrefix(lines[i+1], []byte("\t"))) {
				joined = append(joined, ' ')
				joined = append(joined, bytes.TrimLeft(lines[i+1], " \t")...)
				i++
			}
			out = append(out, joined)
			continue
		}
		if i+1 < len(lines) && bytes.HasSuffix(l, []byte(":")) && !bytes.ContainsAny(l, " \t") &&
			bytes.HasPrefix(lines[i+1], []byte(" ")) {
			joined := append(append(bytes.Clone(l), ' '), bytes.TrimLeft(lines[i+1], " \t")...)
			if len(joined) <= 78 || bytes.EqualFold(l, []byte("Message-ID:")) {
				out = append(out, joined)
				i++
				continue
			}
		}
		out = append(out, l)
	}
	var b bytes.Buffer
	b.Grow(len(raw))
	b.Write(bytes.Join(out, []byte("\r\n")))
	b.WriteString("\r\n\r\n")
	b.Write(body)
	return b.Bytes()
}

// hasFieldName reports whether line l starts with the field name (colon included),
// case-insensitively.
func hasFieldName(l []byte, name string) bool {
	return len(l) >= len(name) && bytes.EqualFold(l[:len(name)], []byte(name))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
