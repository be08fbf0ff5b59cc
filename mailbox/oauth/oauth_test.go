package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox"
	"supportprobe/mailbox/oauth"
	"supportprobe/mailbox/oauth/oauthtest"
)

// mustLogin runs the device grant against srv and returns the config it used.
func mustLogin(t *testing.T, srv *oauthtest.Server, logs *bytes.Buffer) oauth.Config {
	t.Helper()
	cfg := oauth.Config{ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, DeviceURL: srv.DeviceURL(), TokenURL: srv.TokenURL(),
		Scopes: []string{"mail"}, TokenFile: filepath.Join(t.TempDir(), "oauth2-token.json")}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var shown oauth.DeviceCode
	if err := oauth.Login(t.Context(), cfg, func(d oauth.DeviceCode) { shown = d }); err != nil {
		t.Fatalf("Login() error: %v", err)
	}
	if shown.UserCode != "WDJB-MJHT" || shown.VerificationURI != srv.URL+"/activate" {
		t.Errorf("Login showed %+v, want the server's user code and address", shown)
	}
	return cfg
}

func TestLoginStoresRefreshTokenPrivately(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 1)
	cfg := mustLogin(t, srv, nil)
	if srv.Polls() != 2 {
		t.Errorf("Polls() = %d, want 2 (one authorization_pending, one success)", srv.Polls())
	}
	fi, err := os.Stat(cfg.TokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode = %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(cfg.TokenFile)
	rts := srv.IssuedRefreshTokens()
	if len(rts) != 1 || !strings.Contains(string(data), rts[0]) {
		t.Errorf("token file %s does not hold the issued refresh token %v", data, rts)
	}
	for _, at := range srv.IssuedAccessTokens() {
		if strings.Contains(string(data), at) {
			t.Errorf("token file holds access token %s; only the refresh token belongs there", at)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(cfg.TokenFile))
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries after login, want only the token file (no temp files)", len(entries))
	}
}

func TestLoginDeclined(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	srv.Deny()
	cfg := oauth.Config{ClientID: "app-1", DeviceURL: srv.DeviceURL(), TokenURL: srv.TokenURL(), TokenFile: filepath.Join(t.TempDir(), "t.json")}
	err := oauth.Login(t.Context(), cfg, func(oauth.DeviceCode) {})
	if err == nil || !strings.Contains(err.Error(), "access_denied") || !strings.Contains(err.Error(), srv.TokenURL()) {
		t.Fatalf("Login() error = %v, want access_denied naming the token endpoint", err)
	}
	if _, err := os.Stat(cfg.TokenFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("token file exists after a declined sign-in (stat error %v)", err)
	}
}

func TestLoginWrongClient(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "s3cret", "lin.wei@example.com", time.Hour, 0)
	cfg := oauth.Config{ClientID: "app-1", ClientSecret: "wrong", DeviceURL: srv.DeviceURL(), TokenURL: srv.TokenURL(), TokenFile: filepath.Join(t.TempDir(), "t.json")}
	err := oauth.Login(t.Context(), cfg, func(oauth.DeviceCode) { t.Error("show called for a refused client") })
	if err == nil || !strings.Contains(err.Error(), "invalid_client") || !strings.Contains(err.Error(), srv.DeviceURL()) {
		t.Fatalf("Login() error = %v, want invalid_client naming the device endpoint", err)
	}
}

func TestSourceRefreshesBeforeExpiryAndSavesRotation(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	srv.SetRotate(true)
	var logs bytes.Buffer
	cfg := mustLogin(t, srv, &logs)
	before, _ := os.ReadFile(cfg.TokenFile)
	offset := time.Duration(0)
	cfg.Now = func() time.Time { return time.Now().Add(offset) }
	src := oauth.NewSource(cfg)

	first, err := src.AccessToken(t.Context())
	if err != nil || !srv.Valid(first) {
		t.Fatalf("AccessToken() = %q, %v; want a valid token", first, err)
	}
	again, _ := src.AccessToken(t.Context())
	if again != first || srv.Refreshes() != 1 {
		t.Errorf("second AccessToken() = %q after %d refreshes, want the cached %q after 1", again, srv.Refreshes(), first)
	}
	after, _ := os.ReadFile(cfg.TokenFile)
	if bytes.Equal(before, after) {
		t.Error("the rotated refresh token was not saved")
	}
	if fi, _ := os.Stat(cfg.TokenFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode after rotation = %v, want 0600", fi.Mode().Perm())
	}

	// 56 minutes on, the token has less than DefaultEarly (5 min) left: replaced.
	offset = 56 * time.Minute
	third, err := src.AccessToken(t.Context())
	if err != nil || third == first || srv.Refreshes() != 2 {
		t.Errorf("AccessToken() near expiry = %q, %v after %d refreshes; want a new token after 2", third, err, srv.Refreshes())
	}
	for _, tok := range append(srv.IssuedAccessTokens(), srv.IssuedRefreshTokens()...) {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("the log shows token %s:\n%s", tok, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "oauth2 access token refreshed") {
		t.Errorf("the log does not mention the refresh:\n%s", logs.String())
	}
}

func TestSourceRetriesTransientFailures(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	cfg := mustLogin(t, srv, nil)
	var waits []time.Duration
	cfg.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	srv.FailNext(2)
	tok, err := oauth.NewSource(cfg).AccessToken(t.Context())
	if err != nil || !srv.Valid(tok) {
		t.Fatalf("AccessToken() = %q, %v after two 503s; want a valid token", tok, err)
	}
	if want := []time.Duration{oauth.DefaultBackoff, 2 * oauth.DefaultBackoff}; len(waits) != 2 || waits[0] != want[0] || waits[1] != want[1] {
		t.Errorf("waits = %v, want %v", waits, want)
	}

	srv.FailNext(10)
	cfg.Attempts = 3
	_, err = oauth.NewSource(cfg).AccessToken(t.Context())
	if err == nil || !strings.Contains(err.Error(), "failed 3 times") || errors.Is(err, oauth.ErrLoginRequired) {
		t.Errorf("AccessToken() with the server down = %v, want a transient failure after 3 tries that does not ask for a login", err)
	}
}

func TestSourceRevokedRefreshToken(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	cfg := mustLogin(t, srv, nil)
	srv.RevokeAll()
	_, err := oauth.NewSource(cfg).AccessToken(t.Context())
	if !errors.Is(err, oauth.ErrLoginRequired) || !errors.Is(err, mailbox.ErrAuthFailed) {
		t.Errorf("AccessToken() error = %v, want it to wrap ErrLoginRequired and mailbox.ErrAuthFailed", err)
	}
	for _, want := range []string{"token refresh: invalid_grant", "revoked or has expired", "run `supportprobe login`"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("AccessToken() error = %v, want it to contain %q", err, want)
		}
	}
	if _, serr := os.Stat(cfg.TokenFile); serr != nil {
		t.Errorf("the token file is gone after a refused refresh: %v", serr)
	}
}

func TestSourceWithoutLogin(t *testing.T) {
	dir := t.TempDir()
	cfg := oauth.Config{ClientID: "app-1", TokenURL: "http://127.0.0.1:1/token", TokenFile: filepath.Join(dir, "oauth2-token.json")}
	_, err := oauth.NewSource(cfg).AccessToken(t.Context())
	if !errors.Is(err, oauth.ErrLoginRequired) || !strings.Contains(err.Error(), "run `supportprobe login` once") {
		t.Errorf("AccessToken() without a token file = %v, want ErrLoginRequired saying to run login", err)
	}

	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	logged := mustLogin(t, srv, nil)
	logged.ClientID = "app-2"
	_, err = oauth.NewSource(logged).AccessToken(t.Context())
	if !errors.Is(err, oauth.ErrLoginRequired) || !strings.Contains(err.Error(), "was issued to client app-1") {
		t.Errorf("AccessToken() for another client = %v, want ErrLoginRequired naming the client it was issued to", err)
	}
}

func TestSourceForgetsRefusedToken(t *testing.T) {
	srv := oauthtest.Start(t, "app-1", "", "lin.wei@example.com", time.Hour, 0)
	src := oauth.NewSource(mustLogin(t, srv, nil))
	first, err := src.AccessToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	src.Forget("some-other-token")
	if again, _ := src.AccessToken(t.Context()); again != first || srv.Refreshes() != 1 {
		t.Errorf("after forgetting another token: %q after %d refreshes, want the cached %q after 1", again, srv.Refreshes(), first)
	}
	src.Forget(first)
	next, err := src.AccessToken(t.Context())
	if err != nil || next == first || srv.Refreshes() != 2 {
		t.Errorf("after forgetting the cached token: %q, %v after %d refreshes; want a new token after 2", next, err, srv.Refreshes())
	}
}
