// Package oauthtest runs a small OAuth 2.0 authorization server on 127.0.0.1 for tests:
// the device authorization grant (RFC 8628), a token endpoint that refreshes and
// rotates refresh tokens and answers invalid_grant for revoked ones, and token
// introspection (RFC 7662) for mail servers that validate bearer tokens.
package oauthtest

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Server is a running fake authorization server. Its fields may be changed between
// requests under no lock only before the first request; use the methods afterwards.
type Server struct {
	// URL is the base address, "http://127.0.0.1:PORT".
	URL string
	// ClientID is the one client accepted; ClientSecret, when not empty, must be sent.
	ClientID, ClientSecret string
	// User is the account every sign-in is for (introspection's "username").
	User string

	srv *httptest.Server
	mu  sync.Mutex
	// pending counts the polls answered authorization_pending before the user "signs in".
	pending  int
	denied   bool
	lifetime time.Duration
	rotate   bool
	refresh  map[string]bool      // refresh token -> still valid
	access   map[string]time.Time // access token -> expiry
	devices  map[string]int       // device code -> polls so far
	// Counts of requests by kind, for assertions.
	refreshes, polls int
	failNext         int // answer this many token requests with 503
}

// Start runs a Server for clientID (and clientSecret, may be empty) signing in user.
// Access tokens live lifetime (expires_in); the user "approves" after pendingPolls
// polls. It is closed at the end of the test through t.Cleanup.
func Start(t interface{ Cleanup(func()) }, clientID, clientSecret, user string, lifetime time.Duration, pendingPolls int) *Server {
	s := &Server{ClientID: clientID, ClientSecret: clientSecret, User: user, lifetime: lifetime, pending: pendingPolls,
		refresh: map[string]bool{}, access: map[string]time.Time{}, devices: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /device", s.device)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /introspect", s.introspect)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// DeviceURL and TokenURL are the endpoints to configure.
func (s *Server) DeviceURL() string { return s.URL + "/device" }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// IntrospectURL is the RFC 7662 introspection endpoint.
func (s *Server) IntrospectURL() string { return s.URL + "/introspect" }

// SetRotate makes every refresh issue a new refresh token (the old one stays valid, as
// at Microsoft).
func (s *Server) SetRotate(on bool) { s.mu.Lock(); s.rotate = on; s.mu.Unlock() }

// Deny makes the user decline the next sign-in (access_denied).
func (s *Server) Deny() { s.mu.Lock(); s.denied = true; s.mu.Unlock() }

// FailNext answers the next n token requests with 503, as an overloaded server would.
func (s *Server) FailNext(n int) { s.mu.Lock(); s.failNext = n; s.mu.Unlock() }

// RevokeAll revokes every refresh token and access token issued so far.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.refresh {
		s.refresh[k] = false
	}
	clear(s.access)
}

// RevokeAccessTokens revokes every access token issued so far, keeping the refresh
// tokens: what an administrator's "revoke sessions" does at some providers.
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// Refreshes returns how many refresh_token grants succeeded, and Polls how many device
// polls were made.
func (s *Server) Refreshes() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshes }

// Polls returns how many device-code polls the token endpoint received.
func (s *Server) Polls() int { s.mu.Lock(); defer s.mu.Unlock(); return s.polls }

// Valid reports whether tok is an access token this server issued that has not expired
// or been revoked.
func (s *Server) Valid(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[tok]
	return ok && time.Now().Before(exp)
}

// IssuedRefreshTokens returns every refresh token issued, for leak checks.
func (s *Server) IssuedRefreshTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.refresh {
		out = append(out, k)
	}
	return out
}

// IssuedAccessTokens returns every access token still known, for leak checks.
func (s *Server) IssuedAccessTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.access {
		out = append(out, k)
	}
	return out
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *Server) client(w http.ResponseWriter, r *http.Request) bool {
	if r.PostFormValue("client_id") != s.ClientID || (s.ClientSecret != "" && r.PostFormValue("client_secret") != s.ClientSecret) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return false
	}
	return true
}

func (s *Server) device(w http.ResponseWriter, r *http.Request) {
	if !s.client(w, r) {
		return
	}
	code := rand.Text()
	s.mu.Lock()
	s.devices[code] = 0
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"device_code": code, "user_code": "WDJB-MJHT", "verification_uri": s.URL + "/activate",
		"verification_uri_complete": s.URL + "/activate?user_code=WDJB-MJHT", "expires_in": 600, "interval": 1,
	})
}

func (s *Server) issue(w http.ResponseWriter, refresh string) {
	access := "at-" + rand.Text()
	s.access[access] = time.Now().Add(s.lifetime)
	body := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(s.lifetime / time.Second)}
	if refresh != "" {
		body["refresh_token"] = refresh
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !s.client(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		http.Error(w, "temporarily overloaded", http.StatusServiceUnavailable)
		return
	}
	switch r.PostFormValue("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.polls++
		code := r.PostFormValue("device_code")
		n, ok := s.devices[code]
		switch {
		case !ok:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown device code")
		case s.denied:
			delete(s.devices, code)
			s.denied = false
			oauthError(w, http.StatusBadRequest, "access_denied", "the user declined")
		case n < s.pending:
			s.devices[code] = n + 1
			oauthError(w, http.StatusBadRequest, "authorization_pending", "waiting for the user")
		default:
			delete(s.devices, code)
			rt := "rt-" + rand.Text()
			s.refresh[rt] = true
			s.issue(w, rt)
		}
	case "refresh_token":
		rt := r.PostFormValue("refresh_token")
		if !s.refresh[rt] {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "AADSTS70008: The refresh token has expired or been revoked")
			return
		}
		s.refreshes++
		next := ""
		if s.rotate {
			next = "rt-" + rand.Text()
			s.refresh[next] = true
		}
		s.issue(w, next)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", r.PostFormValue("grant_type"))
	}
}

// introspect answers RFC 7662 requests: {"active": true, "username": User} for a live
// access token, {"active": false} otherwise. The token may come as the form field
// "token" or, as Dovecot's oauth2 passdb sends it, in an Authorization: Bearer header.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	if h := r.Header.Get("Authorization"); tok == "" && strings.HasPrefix(h, "Bearer ") {
		tok = strings.TrimPrefix(h, "Bearer ")
	}
	w.Header().Set("Content-Type", "application/json")
	if !s.Valid(tok) {
		json.NewEncoder(w).Encode(map[string]any{"active": false})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"active": true, "username": s.User, "email": s.User, "client_id": s.ClientID})
}
