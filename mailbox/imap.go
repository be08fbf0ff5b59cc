package mailbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// DialIMAP connects to the IMAP server s, protects the connection as s.Security says,
// waits for the greeting and logs in with s.Username and s.Password. It returns a client
// in the authenticated state; the caller must Close it (after Logout, if it likes).
//
// ctx and s.Timeout bound each of the dial, the handshake, the greeting and the login;
// afterwards ctx no longer matters and go-imap's own deadlines apply (30 s for a reply,
// none while idle), so the client suits long IDLEs.
//
// Errors name the server as "imap host:port" and the step that failed: "DNS lookup of
// HOST", "TCP connect", "TLS handshake", "STARTTLS", "greeting" or "login as USER"; a
// refused login reads "authentication failed for USER" and wraps ErrAuthFailed, an
// untrusted certificate wraps ErrUntrustedCertificate.
func DialIMAP(ctx context.Context, s Server) (*imapclient.Client, error) {
	return DialIMAPWithOptions(ctx, s, nil)
}

// DialIMAPWithOptions is DialIMAP with client options, such as the unilateral-data
// handler an IDLE watcher needs (it can only be set when the client is created). opts
// may be nil; its TLSConfig and Dialer are ignored: s decides those.
func DialIMAPWithOptions(ctx context.Context, s Server, opts *imapclient.Options) (*imapclient.Client, error) {
	if err := s.check("imap"); err != nil {
		return nil, err
	}
	if s.Username == "" {
		return nil, fmt.Errorf("imap %s: no username", s.Addr())
	}
	fail := func(err error) (*imapclient.Client, error) {
		return nil, fmt.Errorf("imap %s: %w", s.Addr(), err)
	}

	conn, err := dial(ctx, s)
	if err != nil {
		return fail(err)
	}
	var o imapclient.Options
	if opts != nil {
		o = *opts
	}
	o.Dialer = nil
	o.TLSConfig = s.tlsConfig()

	// go-imap sets its own deadlines (30 s for a reply, none while idle) and its commands
	// take no context: a watchdog that closes the connection bounds each step instead.
	var c *imapclient.Client
	if s.security() == SecurityStartTLS {
		stop := Watchdog(ctx, s.timeout(), conn)
		c, err = imapclient.NewStartTLS(conn, &o)
		if err := stop(err); err != nil {
			conn.Close()
			return fail(&stepError{"STARTTLS", describeTLSError(err, o.TLSConfig.ServerName)})
		}
	} else {
		c = imapclient.New(conn, &o)
	}
	stop := Watchdog(ctx, s.timeout(), c)
	if err := stop(c.WaitGreeting()); err != nil {
		c.Close()
		return fail(&stepError{"greeting", err})
	}
	if s.Token != nil {
		if err := loginBearer(ctx, s, c); err != nil {
			c.Close()
			return fail(err)
		}
		return c, nil
	}
	stop = Watchdog(ctx, s.timeout(), c)
	if err := stop(c.Login(s.Username, s.Password).Wait()); err != nil {
		c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) {
			return fail(&authError{user: s.Username, err: err})
		}
		return fail(&stepError{"login as " + s.Username, err})
	}
	return c, nil
}

// loginBearer logs c in with an OAuth 2.0 access token from s.Token, by OAUTHBEARER or
// XOAUTH2, whichever the server advertises (OAUTHBEARER first).
func loginBearer(ctx context.Context, s Server, c *imapclient.Client) error {
	tok, err := bearerToken(ctx, s)
	if err != nil {
		return err
	}
	stop := Watchdog(ctx, s.timeout(), c)
	caps := c.Caps() // may send CAPABILITY
	if err := stop(nil); err != nil {
		return &stepError{"capabilities", err}
	}
	mech, err := chooseBearerMech(caps.AuthMechanisms())
	if err != nil {
		return &stepError{"login as " + s.Username, err}
	}
	b := &bearerClient{mech: mech, user: s.Username, token: tok, host: s.Host, port: s.Port}
	stop = Watchdog(ctx, s.timeout(), c)
	if err := stop(c.Authenticate(b)); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			s.refused(tok)
			return bearerAuthError(s.Username, mech, b, err)
		}
		return &stepError{"AUTHENTICATE " + mech + " as " + s.Username, err}
	}
	return nil
}

// Watchdog closes c when ctx ends or d passes, unless the returned stop is called first;
// it bounds a step of a client whose commands take no context (go-imap, net/smtp).
// stop takes the step's error and returns it, or, if the watchdog fired, an error that
// says why (ctx's error, or a timeout wrapping os.ErrDeadlineExceeded) and wraps both.
func Watchdog(ctx context.Context, d time.Duration, c io.Closer) (stop func(error) error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	after := context.AfterFunc(wctx, func() { c.Close() })
	return func(err error) error {
		fired := !after()
		cancel()
		if !fired {
			return err
		}
		why := ctx.Err()
		if why == nil {
			why = fmt.Errorf("no reply within %v: %w", d, os.ErrDeadlineExceeded)
		}
		if err == nil {
			return why
		}
		return fmt.Errorf("%w (%w)", why, err)
	}
}
