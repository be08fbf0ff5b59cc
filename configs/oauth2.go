package configs

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// TokenFileName is the file in the state directory that `supportprobe login` writes the
// refresh token to (mode 0600). It is never part of the database or an export.
const TokenFileName = "oauth2-token.json"

// The OAuth 2.0 providers mail.oauth2.provider names.
const (
	// ProviderMicrosoft is Microsoft Entra ID (Microsoft 365, Exchange Online).
	ProviderMicrosoft = "microsoft"
	// ProviderGoogle is Google (Gmail, Google Workspace).
	ProviderGoogle = "google"
	// ProviderCustom is any other authorization server that offers the device
	// authorization grant (RFC 8628); its device_url and token_url must be given.
	ProviderCustom = "custom"
)

// The scopes mail needs at each provider.
const (
	// ScopeMicrosoftIMAP lets the token read the mailbox over IMAP.
	ScopeMicrosoftIMAP = "https://outlook.office.com/IMAP.AccessAsUser.All"
	// ScopeMicrosoftSMTP lets the token send over SMTP AUTH.
	ScopeMicrosoftSMTP = "https://outlook.office.com/SMTP.Send"
	// ScopeOfflineAccess asks Microsoft for a refresh token.
	ScopeOfflineAccess = "offline_access"
	// ScopeGoogleMail is Google's one scope for IMAP and SMTP (it includes offline use).
	ScopeGoogleMail = "https://mail.google.com/"
)

// DefaultTenant is the Microsoft tenant used when mail.oauth2.tenant is omitted: any
// work or school account. A tenant id or domain restricts sign-in to that organisation.
const DefaultTenant = "organizations"

// OAuth2 is the authorization server that issues the access tokens servers with
// AuthOAuth2 log in with, and the app (client) registered there. It holds no token:
// those live in TokenFile.
type OAuth2 struct {
	// Provider is ProviderMicrosoft, ProviderGoogle or ProviderCustom.
	Provider string
	// ClientID is the application (client) id the user registered with the provider.
	ClientID string
	// ClientSecret says where the client secret is kept; zero when the app has none
	// (Microsoft public clients). Google's device flow needs one.
	ClientSecret Secret
	// Tenant is the Microsoft tenant (DefaultTenant if omitted); empty for the others.
	Tenant string
	// DeviceURL is the device authorization endpoint (RFC 8628) and TokenURL the token
	// endpoint: filled in from Provider, given in the file for ProviderCustom.
	DeviceURL, TokenURL string
	// Scopes are requested at login; the provider's mail scopes if omitted.
	Scopes []string
	// TokenFile is where the refresh token is kept: TokenFileName in the state directory.
	TokenFile string
}

var tenantName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]*$`)

// oauth2 validates mail.oauth2 against the servers' auth keys: it is required when a
// server says auth: oauth2 and refused when none does.
func (v *validator) oauth2(mailAt at, r *rawMail, m *Mail) *OAuth2 {
	a := mailAt.key("oauth2")
	smtp, imap := m.SMTP.Auth == AuthOAuth2, m.IMAP.Auth == AuthOAuth2
	if r.OAuth2 == nil {
		if p := presets[m.Provider]; (smtp || imap) && p.oauth2 != "" {
			v.p.addf(a, "required: provider %s signs in with OAuth 2.0; add mail.oauth2 with the client_id of the app you registered (README, \"Company mailboxes\"; its provider defaults to %s), then run `supportprobe login`; or set auth: password with password_file under mail.smtp and mail.imap", m.Provider, p.oauth2)
		} else if smtp || imap {
			v.p.addf(a, "required when a server has auth: oauth2: the provider (microsoft, google or custom) and the client_id of the app you registered there")
		}
		return nil
	}
	if !smtp && !imap {
		v.p.addf(a, "no server uses it; set auth: oauth2 under mail.smtp and/or mail.imap, or remove mail.oauth2")
		return nil
	}
	ro := r.OAuth2
	o := &OAuth2{Provider: strings.ToLower(ro.Provider), ClientID: strings.TrimSpace(ro.ClientID)}
	if o.ClientID == "" {
		v.p.addf(a.key("client_id"), "required: the application (client) id of the app you registered with the provider (see the README, \"Company mailboxes\")")
	}
	switch {
	case ro.ClientSecretFile != "" && ro.ClientSecretEnv != "":
		v.p.addf(a.lineOf("client_secret_env"), "client_secret_file and client_secret_env are both set; keep one")
	case ro.ClientSecretFile != "":
		fa := a.key("client_secret_file")
		if f, ok := v.filePath(fa, ro.ClientSecretFile); ok {
			o.ClientSecret = Secret{File: f}
			v.lines[fa.path] = fa.line
		}
	case ro.ClientSecretEnv != "":
		ea := a.key("client_secret_env")
		if !envName.MatchString(ro.ClientSecretEnv) {
			v.p.addf(ea, "%q is not an environment variable name (letters, digits and _, not starting with a digit)", ro.ClientSecretEnv)
		} else {
			o.ClientSecret = Secret{Env: ro.ClientSecretEnv}
			v.lines[ea.path] = ea.line
		}
	}
	if ro.Tenant != "" && o.Provider != ProviderMicrosoft {
		v.p.addf(a.key("tenant"), "only provider microsoft has a tenant; remove it")
	}
	if o.Provider != ProviderCustom {
		for _, k := range []string{"device_url", "token_url"} {
			if a.key(k).present() && o.Provider != "" {
				v.p.addf(a.key(k), "provider %s sets %s itself; remove it, or use provider custom to name your own endpoints", o.Provider, k)
			}
		}
	}
	switch o.Provider {
	case ProviderMicrosoft:
		o.Tenant = DefaultTenant
		if ro.Tenant != "" {
			if !tenantName.MatchString(ro.Tenant) {
				v.p.addf(a.key("tenant"), "%q is not a tenant id or domain (want organizations, a GUID or a domain such as example.onmicrosoft.com)", ro.Tenant)
			} else {
				o.Tenant = ro.Tenant
			}
		}
		base := "https://login.microsoftonline.com/" + o.Tenant + "/oauth2/v2.0/"
		o.DeviceURL, o.TokenURL = base+"devicecode", base+"token"
		if imap {
			o.Scopes = append(o.Scopes, ScopeMicrosoftIMAP)
		}
		if smtp {
			o.Scopes = append(o.Scopes, ScopeMicrosoftSMTP)
		}
		o.Scopes = append(o.Scopes, ScopeOfflineAccess)
	case ProviderGoogle:
		o.DeviceURL, o.TokenURL = "https://oauth2.googleapis.com/device/code", "https://oauth2.googleapis.com/token"
		o.Scopes = []string{ScopeGoogleMail}
		if ro.ClientSecretFile == "" && ro.ClientSecretEnv == "" {
			v.p.addf(a.lineOf("client_id"), "provider google needs the client secret of the app (type \"TVs and Limited Input devices\"); set client_secret_file or client_secret_env")
		}
	case ProviderCustom:
		o.DeviceURL = v.endpoint(a, "device_url", ro.DeviceURL)
		o.TokenURL = v.endpoint(a, "token_url", ro.TokenURL)
	case "":
		v.p.addf(a.key("provider"), "required: microsoft, google or custom")
	default:
		v.p.addf(a.key("provider"), "unknown provider %q (want microsoft, google or custom)", ro.Provider)
	}
	if sa := a.key("scopes"); sa.present() {
		if len(ro.Scopes) == 0 {
			v.p.addf(sa, "empty; list the scopes to request, or omit scopes for the provider's mail scopes")
		}
		for i, s := range ro.Scopes {
			switch {
			case strings.TrimSpace(s) == "" || strings.ContainsAny(s, " \t\r\n"):
				v.p.addf(sa.item(i, ""), "%q is not a scope (one scope per item, no spaces)", s)
			case slices.Contains(ro.Scopes[:i], s):
				v.p.addf(sa.item(i, ""), "scope %q is listed twice", s)
			}
		}
		o.Scopes = ro.Scopes
	}
	if smtp {
		m.SMTP.OAuth2 = o
	}
	if imap {
		m.IMAP.OAuth2 = o
	}
	return o
}

// endpoint validates a custom provider's endpoint URL: required, absolute, https unless
// the host is loopback (a test or a local proxy), since tokens travel over it.
func (v *validator) endpoint(a at, key, raw string) string {
	ka := a.key(key)
	if raw == "" {
		v.p.addf(ka, "required with provider custom: the authorization server's %s endpoint URL", strings.TrimSuffix(key, "_url"))
		return ""
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		v.p.addf(ka, "%q is not an absolute http(s) URL", raw)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		v.p.addf(ka, "%q would send tokens in the clear; use https (http is allowed only for a loopback host)", raw)
	case u.User != nil:
		v.p.addf(ka, "%q holds credentials; name the client secret with client_secret_file or client_secret_env instead", u.Redacted())
	default:
		return raw
	}
	return ""
}
