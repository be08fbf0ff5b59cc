package configs_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"supportprobe/configs"
)

// oauthMinimal turns minimal into a configuration whose servers both log in with OAuth
// 2.0 tokens from provider, followed by extra lines of the oauth2 block.
func oauthMinimal(t *testing.T, provider string, extra ...string) []byte {
	t.Helper()
	block := "  oauth2:\n    provider: " + provider + "\n    client_id: 11111111-2222-3333-4444-555555555555\n"
	for _, l := range extra {
		block += "    " + l + "\n"
	}
	return edit(t,
		"    username: lin.wei@example.com\n    password_file: /etc/supportprobe/smtp.pass\n", "    auth: oauth2\n    username: lin.wei@example.com\n",
		"    username: lin.wei@example.com\n    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    auth: oauth2\n    username: lin.wei@example.com\n"+block)
}

func TestOAuth2Presets(t *testing.T) {
	tests := []struct {
		name                string
		data                []byte
		device, token       string
		scopes              []string
		tenant              string
		secretEnv           string
		stateDirTokenFileOK bool
	}{
		{"microsoft default tenant", oauthMinimal(t, "microsoft"),
			"https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode", "https://login.microsoftonline.com/organizations/oauth2/v2.0/token",
			[]string{configs.ScopeMicrosoftIMAP, configs.ScopeMicrosoftSMTP, configs.ScopeOfflineAccess}, "organizations", "", true},
		{"microsoft own tenant", oauthMinimal(t, "microsoft", "tenant: contoso.onmicrosoft.com"),
			"https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode", "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
			[]string{configs.ScopeMicrosoftIMAP, configs.ScopeMicrosoftSMTP, configs.ScopeOfflineAccess}, "contoso.onmicrosoft.com", "", true},
		{"google", oauthMinimal(t, "google", "client_secret_env: GOOGLE_SECRET"),
			"https://oauth2.googleapis.com/device/code", "https://oauth2.googleapis.com/token",
			[]string{configs.ScopeGoogleMail}, "", "GOOGLE_SECRET", true},
		{"custom on loopback", oauthMinimal(t, "custom", "device_url: http://127.0.0.1:8080/device", "token_url: http://127.0.0.1:8080/token", "scopes: [mail]"),
			"http://127.0.0.1:8080/device", "http://127.0.0.1:8080/token", []string{"mail"}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, tt.data)
			o := c.Mail.OAuth2
			if o == nil {
				t.Fatal("Mail.OAuth2 = nil")
			}
			if c.Mail.SMTP.Auth != configs.AuthOAuth2 || c.Mail.IMAP.Auth != configs.AuthOAuth2 {
				t.Errorf("Auth = %q, %q, want oauth2 twice", c.Mail.SMTP.Auth, c.Mail.IMAP.Auth)
			}
			if o.DeviceURL != tt.device || o.TokenURL != tt.token {
				t.Errorf("endpoints = %s, %s, want %s, %s", o.DeviceURL, o.TokenURL, tt.device, tt.token)
			}
			if !slices.Equal(o.Scopes, tt.scopes) {
				t.Errorf("Scopes = %q, want %q", o.Scopes, tt.scopes)
			}
			if o.Tenant != tt.tenant || o.ClientSecret.Env != tt.secretEnv {
				t.Errorf("Tenant, ClientSecret = %q, %v, want %q, env %q", o.Tenant, o.ClientSecret, tt.tenant, tt.secretEnv)
			}
			if want := filepath.Join("/var/lib/supportprobe", configs.TokenFileName); o.TokenFile != want {
				t.Errorf("TokenFile = %q, want %q", o.TokenFile, want)
			}
		})
	}
}

func TestOAuth2OnlyIMAPAsksOnlyIMAPScope(t *testing.T) {
	data := edit(t, "    username: lin.wei@example.com\n    password_env: SUPPORTPROBE_IMAP_PASSWORD\n",
		"    auth: oauth2\n    username: lin.wei@example.com\n  oauth2: {provider: microsoft, client_id: abc}\n")
	c := mustParse(t, data)
	if c.Mail.SMTP.Auth != configs.AuthPassword || c.Mail.SMTP.Password.File == "" {
		t.Errorf("SMTP = %v with %v, want password auth with its file", c.Mail.SMTP.Auth, c.Mail.SMTP.Password)
	}
	if want := []string{configs.ScopeMicrosoftIMAP, configs.ScopeOfflineAccess}; !slices.Equal(c.Mail.OAuth2.Scopes, want) {
		t.Errorf("Scopes = %q, want %q", c.Mail.OAuth2.Scopes, want)
	}
}

func TestOAuth2Errors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"oauth2 server without block",
			edit(t, "    username: lin.wei@example.com\n    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    auth: oauth2\n    username: lin.wei@example.com\n"),
			[]string{`mail.oauth2: required when a server has auth: oauth2`}},
		{"block without oauth2 server",
			edit(t, "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n  oauth2: {provider: google, client_id: x}\n"),
			[]string{`mail.oauth2: no server uses it; set auth: oauth2 under mail.smtp and/or mail.imap, or remove mail.oauth2`}},
		{"password with oauth2",
			edit(t, "    username: lin.wei@example.com\n    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    auth: oauth2\n    username: lin.wei@example.com\n    password_env: X\n  oauth2: {provider: microsoft, client_id: x}\n"),
			[]string{`mail.imap.password_env: auth oauth2 logs in with a token, not a password; remove password_env`}},
		{"oauth2 without username",
			edit(t, "    username: lin.wei@example.com\n    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    auth: oauth2\n  oauth2: {provider: microsoft, client_id: x}\n"),
			[]string{`mail.imap.username: required with auth oauth2`}},
		{"unknown auth", edit(t, "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n    auth: kerberos\n"),
			[]string{`mail.imap.auth: unknown auth "kerberos" (want password or oauth2)`}},
		{"unknown provider", oauthMinimal(t, "yahoo"), []string{`mail.oauth2.provider: unknown provider "yahoo" (want microsoft, google or custom)`}},
		{"no client id", []byte(strings.Replace(string(oauthMinimal(t, "microsoft")), "client_id: 11111111-2222-3333-4444-555555555555", "tenant: organizations", 1)),
			[]string{`mail.oauth2.client_id: required: the application (client) id`}},
		{"google without secret", oauthMinimal(t, "google"), []string{`provider google needs the client secret`}},
		{"tenant outside microsoft", oauthMinimal(t, "google", "client_secret_file: s", "tenant: x"), []string{`mail.oauth2.tenant: only provider microsoft has a tenant; remove it`}},
		{"bad tenant", oauthMinimal(t, "microsoft", "tenant: ../evil"), []string{`mail.oauth2.tenant: "../evil" is not a tenant id or domain`}},
		{"endpoint on a preset", oauthMinimal(t, "microsoft", "token_url: https://evil.example/token"),
			[]string{`mail.oauth2.token_url: provider microsoft sets token_url itself; remove it, or use provider custom`}},
		{"custom without endpoints", oauthMinimal(t, "custom"),
			[]string{`mail.oauth2.device_url: required with provider custom`, `mail.oauth2.token_url: required with provider custom`}},
		{"custom over plain http", oauthMinimal(t, "custom", "device_url: http://auth.example.com/device", "token_url: https://auth.example.com/token"),
			[]string{`"http://auth.example.com/device" would send tokens in the clear; use https`}},
		{"both client secrets", oauthMinimal(t, "google", "client_secret_file: s", "client_secret_env: S"),
			[]string{`client_secret_file and client_secret_env are both set; keep one`}},
		{"scope twice", oauthMinimal(t, "google", "client_secret_file: s", "scopes: [a, a]"), []string{`scope "a" is listed twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse(tt.data, "supportprobe.yaml")
			if err == nil {
				t.Fatalf("Parse() = nil error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse() error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestOAuth2ClientSecretProblems(t *testing.T) {
	c := mustParse(t, oauthMinimal(t, "google", "client_secret_env: SUPPORTPROBE_TEST_UNSET_SECRET"))
	var found bool
	for _, err := range c.SecretProblems() {
		if strings.Contains(err.Error(), "mail.oauth2.client_secret_env") && strings.Contains(err.Error(), "SUPPORTPROBE_TEST_UNSET_SECRET is not set") {
			found = true
		}
	}
	if !found {
		t.Errorf("SecretProblems() = %v, want one naming mail.oauth2.client_secret_env", c.SecretProblems())
	}
}
