// Package oauth gets and keeps the OAuth 2.0 tokens that company mailboxes (Microsoft
// 365, Google Workspace) require instead of passwords.
//
// Login runs the device authorization grant (RFC 8628) once, interactively, and writes
// the refresh token to a file (mode 0600) in the state directory. A Source then hands
// out access tokens to every IMAP and SMTP login of the daemon, refreshing them shortly
// before they expire, retrying a failed refresh with backoff, and saving a rotated
// refresh token. No token is ever logged, and none goes into the database.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"supportprobe/mailbox"
)

// Defaults for Config.
const (
	// DefaultEarly is how long before its expiry an access token is replaced.
	DefaultEarly = 5 * time.Minute
	// DefaultBackoff is the wait after the first failed refresh, doubled after each
	// further failure up to DefaultMaxBackoff.
	DefaultBackoff    = 2 * time.Second
	DefaultMaxBackoff = 1 * time.Minute
	// DefaultAttempts bounds the tries of one refresh.
	DefaultAttempts = 5
	// DefaultHTTPTimeout bounds each request to the authorization server.
	DefaultHTTPTimeout = 30 * time.Second
)

// ErrLoginRequired means there is no usable refresh token: none was stored yet, or the
// authorization server says it was revoked or has expired (invalid_grant). Only running
// `supportprobe login` again helps. Errors wrapping it also wrap mailbox.ErrAuthFailed,
// so mail logins back off as after a refused password.
var ErrLoginRequired = errors.New("sign-in required")

// Config says where tokens come from and where the refresh token is kept.
type Config struct {
	// ClientID and ClientSecret identify the app registered with the provider;
	// ClientSecret may be empty (Microsoft public clients).
	ClientID, ClientSecret string
	// DeviceURL is the device authorization endpoint, TokenURL the token endpoint.
	DeviceURL, TokenURL string
	// Scopes are requested at login.
	Scopes []string
	// TokenFile holds the refresh token; Login writes it with mode 0600.
	TokenFile string
	// HTTPClient talks to the authorization server; default one with
	// DefaultHTTPTimeout.
	HTTPClient *http.Client
	// Logger receives refreshes and failures (never a token); nil discards them.
	Logger *slog.Logger
	// Now is our clock, Sleep a wait that ends early with ctx; tests inject both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Early, Backoff, MaxBackoff and Attempts tune refreshing; zero means the default.
	Early, Backoff, MaxBackoff time.Duration
	Attempts                   int
}

func (c Config) withDefaults() Config {
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if c.Early <= 0 {
		c.Early = DefaultEarly
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	return c
}

func (c Config) oauth2() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: c.DeviceURL,
			TokenURL:      c.TokenURL,
			// Public clients (Microsoft) must send client_id in the body; Google
			// accepts it there too. Fixing it avoids oauth2's probing with a second
			// request.
			AuthStyle: oauth2.AuthStyleInParams,
		},
		Scopes: c.Scopes,
	}
}

func (c Config) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.HTTPClient)
}

// stored is the token file's content. The client and endpoint are kept so that a token
// issued to another app is recognised instead of failing obscurely.
type stored struct {
	RefreshToken string    `json:"refresh_token"`
	ClientID     string    `json:"client_id"`
	TokenURL     string    `json:"token_url"`
	Scopes       []string  `json:"scopes"`
	SavedAt      time.Time `json:"saved_at"`
}

// DeviceCode is what the user must do to sign in: open VerificationURI and enter
// UserCode (or open VerificationURIComplete, which carries the code) before Expiry.
type DeviceCode struct {
	UserCode, VerificationURI, VerificationURIComplete string
	Expiry                                             time.Time
}

// Login runs the device authorization grant: it asks for a device code, hands it to
// show (which tells the user), then polls the token endpoint, blocking until the user
// has signed in, the code expires, the user declines, or ctx ends. On success it writes
// the refresh token to cfg.TokenFile (mode 0600, replacing any earlier one). Errors name
// the endpoint and the provider's error code.
func Login(ctx context.Context, cfg Config, show func(DeviceCode)) error {
	cfg = cfg.withDefaults()
	oc := cfg.oauth2()
	hctx := cfg.ctx(ctx)
	da, err := oc.DeviceAuth(hctx)
	if err != nil {
		return fmt.Errorf("device authorization at %s: %w", cfg.DeviceURL, describe(err))
	}
	show(DeviceCode{UserCode: da.UserCode, VerificationURI: da.VerificationURI,
		VerificationURIComplete: da.VerificationURIComplete, Expiry: da.Expiry})
	tok, err := oc.DeviceAccessToken(hctx, da)
	if err != nil {
		return fmt.Errorf("waiting for sign-in at %s: %w", cfg.TokenURL, describe(err))
	}
	if tok.RefreshToken == "" {
		return fmt.Errorf("sign-in at %s returned no refresh token: the daemon could not renew access; include offline_access in mail.oauth2.scopes (Microsoft) or check the app's type", cfg.TokenURL)
	}
	return save(cfg, tok.RefreshToken)
}

// save writes the refresh token atomically with mode 0600.
func save(cfg Config, refresh string) error {
	data, err := json.MarshalIndent(stored{RefreshToken: refresh, ClientID: cfg.ClientID, TokenURL: cfg.TokenURL,
		Scopes: cfg.Scopes, SavedAt: cfg.Now().UTC()}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(cfg.TokenFile)
	f, err := os.CreateTemp(dir, ".oauth2-token-*")
	if err != nil {
		return fmt.Errorf("save refresh token in %s: %w (the state directory must exist and be writable by supportprobe's user)", dir, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save refresh token: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save refresh token to %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save refresh token to %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save refresh token to %s: %w", f.Name(), err)
	}
	if err := os.Rename(f.Name(), cfg.TokenFile); err != nil {
		return fmt.Errorf("save refresh token to %s: %w", cfg.TokenFile, err)
	}
	return nil
}

// load reads the refresh token, checking it was issued for cfg's app.
func load(cfg Config) (string, error) {
	data, err := os.ReadFile(cfg.TokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &loginError{fmt.Errorf("no OAuth 2.0 token in %s yet: run `supportprobe login` once to sign in", cfg.TokenFile)}
	}
	if err != nil {
		return "", fmt.Errorf("read token file %s: %w (it must be readable by supportprobe's user)", cfg.TokenFile, err)
	}
	var s stored
	if err := json.Unmarshal(data, &s); err != nil || s.RefreshToken == "" {
		return "", &loginError{fmt.Errorf("token file %s is damaged: run `supportprobe login` again", cfg.TokenFile)}
	}
	if s.ClientID != cfg.ClientID || s.TokenURL != cfg.TokenURL {
		return "", &loginError{fmt.Errorf("token file %s was issued to client %s at %s, but the configuration names client %s at %s: run `supportprobe login` again",
			cfg.TokenFile, s.ClientID, s.TokenURL, cfg.ClientID, cfg.TokenURL)}
	}
	return s.RefreshToken, nil
}

// loginError wraps ErrLoginRequired and mailbox.ErrAuthFailed around its cause.
type loginError struct{ err error }

func (e *loginError) Error() string   { return e.err.Error() }
func (e *loginError) Unwrap() []error { return []error{ErrLoginRequired, mailbox.ErrAuthFailed, e.err} }

// describe turns an authorization server's error into "CODE: description".
func describe(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
		}
		return fmt.Errorf("%s (HTTP %d)", re.ErrorCode, re.Response.StatusCode)
	}
	return err
}

// Source hands out access tokens, refreshing them from the stored refresh token. It is
// safe for concurrent use: one Source should serve every login of a process, so that the
// token is refreshed once and a rotated refresh token is saved once.
type Source struct {
	cfg    Config
	mu     sync.Mutex
	access *oauth2.Token
	// refreshAt is when access is replaced: Config.Early before its expiry, or halfway
	// through its life if that is shorter than twice Early.
	refreshAt time.Time
}

// NewSource returns a Source for cfg. It reads nothing yet: the first AccessToken does.
func NewSource(cfg Config) *Source { return &Source{cfg: cfg.withDefaults()} }

var _ mailbox.TokenFunc = (*Source)(nil).AccessToken

// AccessToken returns an access token that stays valid for at least Config.Early (or
// half its lifetime, for short-lived tokens), refreshing it when needed. A refresh that fails for a reason that may pass (the
// network, a 5xx) is retried with backoff, up to Config.Attempts tries or until ctx
// ends. Its errors start with "token refresh: "; one that wraps ErrLoginRequired (no
// token stored, or invalid_grant: revoked or expired) says to run `supportprobe login`.
func (s *Source) AccessToken(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access != nil && (s.access.Expiry.IsZero() || s.cfg.Now().Before(s.refreshAt)) {
		return s.access.AccessToken, nil
	}
	refresh, err := load(s.cfg)
	if err != nil {
		return "", fmt.Errorf("token refresh: %w", err)
	}
	wait := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		tok, err := s.cfg.oauth2().TokenSource(s.cfg.ctx(ctx), &oauth2.Token{RefreshToken: refresh}).Token()
		if err == nil {
			return s.got(tok, refresh)
		}
		if perr := permanent(err, s.cfg.TokenURL); perr != nil {
			s.cfg.Logger.Error("oauth2 token refresh refused", "token_url", s.cfg.TokenURL, "err", perr)
			return "", perr
		}
		if attempt >= s.cfg.Attempts || ctx.Err() != nil {
			return "", fmt.Errorf("token refresh at %s failed %d times, last: %w", s.cfg.TokenURL, attempt, describe(err))
		}
		s.cfg.Logger.Warn("oauth2 token refresh failed; retrying", "token_url", s.cfg.TokenURL, "attempt", attempt, "retry_in", wait, "err", describe(err))
		if err := s.cfg.Sleep(ctx, wait); err != nil {
			return "", fmt.Errorf("token refresh at %s: %w", s.cfg.TokenURL, err)
		}
		wait = min(2*wait, s.cfg.MaxBackoff)
	}
}

// Forget drops the cached access token if it is token, which a server refused (revoked
// before its expiry, or issued without the scope it needs): the next AccessToken
// refreshes instead of handing it out again until it expires.
func (s *Source) Forget(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.access != nil && s.access.AccessToken == token {
		s.access = nil
		s.cfg.Logger.Warn("oauth2 access token refused by a mail server; the next login refreshes it")
	}
}

// got keeps a fresh access token and saves a rotated refresh token.
func (s *Source) got(tok *oauth2.Token, refresh string) (string, error) {
	if tok.AccessToken == "" {
		return "", fmt.Errorf("token refresh at %s: the response holds no access token", s.cfg.TokenURL)
	}
	s.access = tok
	if life := tok.Expiry.Sub(s.cfg.Now()); life > 0 {
		s.refreshAt = tok.Expiry.Add(-min(s.cfg.Early, life/2))
	}
	s.cfg.Logger.Info("oauth2 access token refreshed", "expires", tok.Expiry.UTC().Format(time.RFC3339))
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		if err := save(s.cfg, tok.RefreshToken); err != nil {
			// The new access token works now; the old refresh token may keep working
			// (Microsoft and Google honour it until it expires), so go on and say so.
			s.cfg.Logger.Error("oauth2 rotated refresh token not saved; the next refresh uses the previous one", "err", err)
		} else {
			s.cfg.Logger.Info("oauth2 rotated refresh token saved", "file", s.cfg.TokenFile)
		}
	}
	return tok.AccessToken, nil
}

// permanent returns the error to report when err will not pass by retrying: the server
// answered with an OAuth error (4xx). invalid_grant means the refresh token is revoked or
// expired; the others mean the app's registration or the configuration is wrong.
func permanent(err error, tokenURL string) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests {
		return nil
	}
	switch re.ErrorCode {
	case "invalid_grant":
		return &loginError{fmt.Errorf("token refresh: %w: the refresh token was revoked or has expired (a password change, an admin, or months unused); run `supportprobe login`", describe(err))}
	case "invalid_client", "unauthorized_client", "invalid_scope":
		return &loginError{fmt.Errorf("token refresh at %s: %w: check mail.oauth2 (client_id, client secret, scopes) against the app registration, then run `supportprobe login`", tokenURL, describe(err))}
	}
	return &loginError{fmt.Errorf("token refresh at %s: %w; run `supportprobe login`", tokenURL, describe(err))}
}
