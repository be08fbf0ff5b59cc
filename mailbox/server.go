package mailbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// The values of Server.Security.
const (
	// SecurityTLS speaks TLS from the first byte (SMTP submission on 465, IMAP on 993).
	SecurityTLS = "tls"
	// SecurityStartTLS connects in plain text and upgrades with STARTTLS before anything
	// else, failing if the server does not offer it (SMTP on 587, IMAP on 143).
	SecurityStartTLS = "starttls"
	// SecurityNone never encrypts. It is meant for a server on the same machine: the
	// package refuses to send a password over it to a host that is not loopback.
	SecurityNone = "none"
)

// DefaultTimeout bounds each dial, handshake, login and command when Server.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Errors that callers branch on; test for them with errors.Is. The errors that wrap them
// carry the host, the step and the server's own words.
var (
	// ErrAuthFailed means the server refused the username or password (SMTP AUTH 535,
	// IMAP LOGIN NO). Retrying will not help; the configuration must change.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrUntrustedCertificate means the server's TLS certificate did not verify: signed
	// by an unknown authority, issued for another name, or expired.
	ErrUntrustedCertificate = errors.New("untrusted TLS certificate")
)

// Server says how to reach an SMTP or IMAP server and log in. The zero Timeout means
// DefaultTimeout; the empty Security means SecurityTLS.
type Server struct {
	// Host is a DNS name or an IP address; it is also the name the TLS certificate
	// must carry unless TLSConfig.ServerName says otherwise.
	Host string
	// Port is 1 to 65535.
	Port int
	// Security is SecurityTLS ("tls", implicit), SecurityStartTLS ("starttls", required)
	// or SecurityNone ("none", loopback only when a password is sent).
	Security string
	// Username and Password log in (SMTP AUTH PLAIN or LOGIN; IMAP LOGIN). An empty
	// Username sends mail without AUTH; IMAP always needs one.
	Username, Password string
	// Token, when set, replaces Password: each login asks it for an OAuth 2.0 access
	// token and presents it for Username with SASL OAUTHBEARER, or XOAUTH2 when the
	// server offers only that.
	Token TokenFunc
	// TokenRefused, when set, is told each token the server refused, so that a cached
	// token revoked before its expiry is dropped and the next login gets a fresh one.
	TokenRefused func(token string)
	// Timeout bounds each dial, TLS handshake, login and command.
	Timeout time.Duration
	// TLSConfig is optional; it is cloned, never modified. Tests set RootCAs to trust
	// their own CA. ServerName defaults to Host and MinVersion to TLS 1.2.
	TLSConfig *tls.Config
}

// Addr returns "host:port", the form every error of this package names the server by.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

func (s Server) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s Server) security() string {
	if s.Security == "" {
		return SecurityTLS
	}
	return strings.ToLower(s.Security)
}

// check reports a Server that cannot be used; proto ("smtp", "imap") prefixes the message.
func (s Server) check(proto string) error {
	switch {
	case s.Host == "":
		return fmt.Errorf("%s: no host", proto)
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("%s %s: port %d is not 1 to 65535", proto, s.Addr(), s.Port)
	}
	switch s.security() {
	case SecurityTLS, SecurityStartTLS:
	case SecurityNone:
		// The configuration refuses this already; a second check costs nothing and keeps
		// a password off the wire if some other caller forgets.
		if (s.Username != "" || s.Token != nil) && !isLoopback(s.Host) {
			return fmt.Errorf("%s %s: security none would send the password or token in the clear to a host that is not loopback; use tls or starttls", proto, s.Addr())
		}
	default:
		return fmt.Errorf("%s %s: unknown security %q (want tls, starttls or none)", proto, s.Addr(), s.Security)
	}
	if s.Token != nil && s.Username == "" {
		return fmt.Errorf("%s %s: a token login needs the username it is presented for", proto, s.Addr())
	}
	return nil
}

func (s Server) tlsConfig() *tls.Config {
	var c *tls.Config
	if s.TLSConfig != nil {
		c = s.TLSConfig.Clone()
	} else {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = s.Host
	}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// isLoopback reports whether host is "localhost" or a loopback IP literal.
func isLoopback(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && addr.Unmap().IsLoopback()
}

// stepError is a failure of one step of talking to a server ("connect", "TLS handshake",
// "RCPT TO <x@y>"). Its message is the step and the cause; the caller adds the server.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// dial connects to s.Addr() and, for SecurityTLS, completes the TLS handshake. Its
// errors are *stepError naming the step: "DNS lookup of HOST", "TCP connect" or "TLS
// handshake"; an untrusted certificate wraps ErrUntrustedCertificate and says what to do.
func dial(ctx context.Context, s Server) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, &stepError{"DNS lookup of " + s.Host, err}
		}
		return nil, &stepError{"TCP connect", err}
	}
	if s.security() != SecurityTLS {
		return conn, nil
	}
	cfg := s.tlsConfig()
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, &stepError{"TLS handshake", describeTLSError(err, cfg.ServerName)}
	}
	return tc, nil
}

// describeTLSError turns a certificate verification failure into a *certError, which
// names the server, says what to do and wraps ErrUntrustedCertificate. Other errors come
// back as they are.
func describeTLSError(err error, serverName string) error {
	if !isCertError(err) {
		return err
	}
	return &certError{name: serverName, err: err}
}

type certError struct {
	name string
	err  error
}

func (e *certError) Error() string {
	var (
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
	)
	switch {
	case errors.As(e.err, &hostname):
		names := "no DNS name"
		if c := hostname.Certificate; c != nil && len(c.DNSNames) > 0 {
			names = strings.Join(c.DNSNames, ", ")
		}
		return fmt.Sprintf("the certificate presented for %s is for another name (%s): connect by a name it carries, or set server_name to one of them", e.name, names)
	case errors.As(e.err, &unknown):
		return fmt.Sprintf("the certificate presented for %s is signed by an authority this machine does not trust (%v): if the server uses a private CA, "+
			"set ca_file to that CA's certificate (PEM) or install it in the system trust store", e.name, e.err)
	case errors.As(e.err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("the certificate presented for %s has expired or is not yet valid (%v): have the server's certificate renewed, and check this machine's clock", e.name, e.err)
	}
	return fmt.Sprintf("the certificate presented for %s is not trusted (%v); check that %s is the name on the server's certificate "+
		"(else set server_name) and that this machine's clock is right, and if the server uses a private CA, set ca_file to it or install it in the system trust store",
		e.name, e.err, e.name)
}

// TLSConfig returns the TLS settings of a server with a private CA and/or a certificate
// name other than its host: the system's roots plus the PEM certificates in caFile
// ("" for none), and serverName ("" for the host). An unreadable file, or one holding
// no certificate, is an error that names it.
func TLSConfig(caFile, serverName string) (*tls.Config, error) {
	c := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w (it must name a readable PEM file of the CA certificate)", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", caFile)
	}
	c.RootCAs = pool
	return c, nil
}

func (e *certError) Unwrap() []error { return []error{ErrUntrustedCertificate, e.err} }

// authError is a refused login: it names the user and wraps ErrAuthFailed and the
// server's reply.
type authError struct {
	user string
	err  error
}

func (e *authError) Error() string {
	return fmt.Sprintf("authentication failed for %s: %v", e.user, e.err)
}

func (e *authError) Unwrap() []error { return []error{ErrAuthFailed, e.err} }

func isCertError(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		systemErr x509.SystemRootsError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &systemErr)
}
