package mailbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/wneessen/go-mail/smtp"
)

// The SASL mechanisms that log in with an OAuth 2.0 bearer token.
const (
	// MechOAuthBearer is OAUTHBEARER, RFC 7628 (Gmail, Dovecot).
	MechOAuthBearer = "OAUTHBEARER"
	// MechXOAuth2 is XOAUTH2, the older form Microsoft 365 and Gmail accept.
	MechXOAuth2 = "XOAUTH2"
)

// TokenFunc returns an OAuth 2.0 access token valid for at least the next login. It is
// called once per login, so it should cache the token and refresh it shortly before it
// expires. Its error is shown as it is, after the server's name: it should name the step
// ("token refresh: invalid_grant: …") and what to do.
type TokenFunc func(ctx context.Context) (string, error)

// chooseBearerMech picks the mechanism to log in with from those a server advertises:
// OAUTHBEARER, the standard, when offered, else XOAUTH2.
func chooseBearerMech(advertised []string) (string, error) {
	for _, want := range []string{MechOAuthBearer, MechXOAuth2} {
		if slices.ContainsFunc(advertised, func(m string) bool { return strings.EqualFold(m, want) }) {
			return want, nil
		}
	}
	offers := "none"
	if len(advertised) > 0 {
		offers = strings.Join(advertised, ", ")
	}
	return "", fmt.Errorf("the server offers neither OAUTHBEARER nor XOAUTH2 for logging in with a token (it offers: %s); set auth: password, or check that OAuth is enabled for this mailbox", offers)
}

// bearerClient is the client side of OAUTHBEARER and XOAUTH2, as a go-sasl client (for
// go-imap) and, through smtpBearer, a go-mail smtp.Auth. After a refusal, serverError
// holds the server's explanation (RFC 7628 section 3.2.2 JSON).
type bearerClient struct {
	mech, user, token, host string
	port                    int
	serverError             string
}

var _ sasl.Client = (*bearerClient)(nil)

// Start returns the initial response, which carries the token.
func (b *bearerClient) Start() (string, []byte, error) {
	if b.mech == MechXOAuth2 {
		return b.mech, []byte("user=" + b.user + "\x01auth=Bearer " + b.token + "\x01\x01"), nil
	}
	gs2 := "n,a=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(b.user) + ","
	kv := "\x01host=" + b.host + "\x01port=" + strconv.Itoa(b.port) + "\x01auth=Bearer " + b.token + "\x01\x01"
	return b.mech, []byte(gs2 + kv), nil
}

// Next answers the one challenge these mechanisms have, the server's error report, with
// the response that ends the exchange (RFC 7628: %x01; XOAUTH2: empty), so that the
// server completes the command with its failure reply.
func (b *bearerClient) Next(challenge []byte) ([]byte, error) {
	b.serverError = describeBearerError(challenge)
	if b.mech == MechXOAuth2 {
		return []byte{}, nil
	}
	return []byte{0x01}, nil
}

// describeBearerError turns the server's JSON error challenge into words.
func describeBearerError(challenge []byte) string {
	var e struct {
		Status string `json:"status"`
		Scope  string `json:"scope"`
	}
	if json.Unmarshal(challenge, &e) != nil || e.Status == "" {
		return strings.TrimSpace(string(challenge))
	}
	s := "token refused with status " + e.Status
	if e.Scope != "" {
		s += " (scope needed: " + e.Scope + ")"
	}
	return s
}

// refused reports a token the server refused to s.TokenRefused, when set.
func (s Server) refused(token string) {
	if s.TokenRefused != nil {
		s.TokenRefused(token)
	}
}

// bearerAuthError is a refused token: it wraps ErrAuthFailed and says what to check.
func bearerAuthError(user, mech string, b *bearerClient, err error) error {
	why := err.Error()
	if b.serverError != "" {
		why = b.serverError + "; " + why
	}
	return &authError{user: user, err: fmt.Errorf("%s: %s (check that the token's account is %s and that its scopes include this protocol, or run `supportprobe login` again)", mech, why, user)}
}

// smtpBearer adapts bearerClient to go-mail's smtp.Auth, choosing the mechanism from
// the server's EHLO.
type smtpBearer struct {
	client *bearerClient
	err    error // a failure of Start, kept so the caller can report it plainly
}

var _ smtp.Auth = (*smtpBearer)(nil)

func (a *smtpBearer) Start(info *smtp.ServerInfo) (string, []byte, error) {
	mech, err := chooseBearerMech(info.Auth)
	if err != nil {
		a.err = err
		return "", nil, err
	}
	a.client.mech = mech
	return a.client.Start()
}

func (a *smtpBearer) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	return a.client.Next(fromServer)
}

// SMTPBearerAuth returns a go-mail smtp.Auth that presents token for user by OAUTHBEARER,
// or XOAUTH2 when the server's EHLO offers only that; it is what Sender uses for a
// Server with a Token, for callers that drive an smtp.Client themselves. Start fails,
// naming what the server offers, when it offers neither.
func SMTPBearerAuth(user, token, host string, port int) smtp.Auth {
	return &smtpBearer{client: &bearerClient{user: user, token: token, host: host, port: port}}
}

// BearerMechanism returns the mechanism a token login picks from those a server
// advertises (OAUTHBEARER, else XOAUTH2), or an error naming what it offers instead.
func BearerMechanism(advertised []string) (string, error) { return chooseBearerMech(advertised) }

// bearerToken fetches the token for one login, naming the server in its error.
func bearerToken(ctx context.Context, s Server) (string, error) {
	tok, err := s.Token(ctx)
	if err != nil {
		return "", err
	}
	if tok == "" {
		return "", errors.New("token refresh: the authorization server returned an empty access token")
	}
	return tok, nil
}
