package configs_test

import (
	"slices"
	"strings"
	"testing"

	"supportprobe/configs"
)

// presetTail is the part of a configuration after the mail section.
const presetTail = `scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello. Ref {{.Token}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`

// presetConfig is a configuration whose mail section is mail (indented by two spaces).
func presetConfig(mail string) []byte {
	return []byte("state_dir: /var/lib/supportprobe\nmail:\n  from: \"Lin Wei <lin.wei@example.com>\"\n" + mail + presetTail)
}

func TestProviderPresetsFillServers(t *testing.T) {
	const oauthBlock = "  oauth2:\n    client_id: 11111111-2222-3333-4444-555555555555\n"
	tests := []struct {
		name, mail       string
		smtp, imap       string // host:port
		smtpSec, imapSec configs.Security
		auth             configs.Auth
		oauthProvider    string
		filesSent        bool
		chose            []string
	}{
		{"microsoft365", "  provider: microsoft365\n  smtp: {username: lin.wei@example.com}\n  imap: {username: lin.wei@example.com}\n" + oauthBlock,
			"smtp.office365.com:587", "outlook.office365.com:993", configs.SecurityStartTLS, configs.SecurityTLS, configs.AuthOAuth2, configs.ProviderMicrosoft, true,
			[]string{"mail.smtp.host: smtp.office365.com", "mail.smtp.security: starttls", "mail.smtp.port: 587", "mail.smtp.auth: oauth2",
				"mail.imap.host: outlook.office365.com", "mail.imap.security: tls", "mail.imap.port: 993", "mail.imap.auth: oauth2", "mail.oauth2.provider: microsoft"}},
		{"gmail", "  provider: gmail\n  smtp: {username: lin.wei@example.com}\n  imap: {username: lin.wei@example.com}\n" + oauthBlock + "    client_secret_env: GOOGLE_SECRET\n",
			"smtp.gmail.com:465", "imap.gmail.com:993", configs.SecurityTLS, configs.SecurityTLS, configs.AuthOAuth2, configs.ProviderGoogle, true,
			[]string{"mail.smtp.host: smtp.gmail.com", "mail.smtp.security: tls", "mail.smtp.port: 465", "mail.smtp.auth: oauth2",
				"mail.imap.host: imap.gmail.com", "mail.imap.security: tls", "mail.imap.port: 993", "mail.imap.auth: oauth2", "mail.oauth2.provider: google"}},
		{"fastmail with app passwords", "  provider: Fastmail\n  smtp: {username: lin.wei@example.com, password_env: FM_PASS}\n  imap: {username: lin.wei@example.com, password_env: FM_PASS}\n",
			"smtp.fastmail.com:465", "imap.fastmail.com:993", configs.SecurityTLS, configs.SecurityTLS, configs.AuthPassword, "", false,
			[]string{"mail.smtp.host: smtp.fastmail.com", "mail.smtp.security: tls", "mail.smtp.port: 465",
				"mail.imap.host: imap.fastmail.com", "mail.imap.security: tls", "mail.imap.port: 993"}},
		// Explicit keys win: another host, a security whose default port then applies
		// (the preset's port goes only with the preset's security), and password login.
		{"explicit keys win", "  provider: microsoft365\n  smtp: {host: relay.example.com, security: tls, username: lin.wei@example.com, password_file: /etc/sp/smtp.pass}\n  imap: {port: 1993, auth: password, username: lin.wei@example.com, password_file: /etc/sp/imap.pass}\n",
			"relay.example.com:465", "outlook.office365.com:1993", configs.SecurityTLS, configs.SecurityTLS, configs.AuthPassword, "", true,
			[]string{"mail.imap.host: outlook.office365.com", "mail.imap.security: tls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustParse(t, presetConfig(tt.mail))
			m := c.Mail
			if got := m.SMTP.Addr(); got != tt.smtp {
				t.Errorf("SMTP = %s, want %s", got, tt.smtp)
			}
			if got := m.IMAP.Addr(); got != tt.imap {
				t.Errorf("IMAP = %s, want %s", got, tt.imap)
			}
			if m.SMTP.Security != tt.smtpSec || m.IMAP.Security != tt.imapSec {
				t.Errorf("security = %s, %s, want %s, %s", m.SMTP.Security, m.IMAP.Security, tt.smtpSec, tt.imapSec)
			}
			if m.SMTP.Auth != tt.auth || m.IMAP.Auth != tt.auth {
				t.Errorf("auth = %s, %s, want %s", m.SMTP.Auth, m.IMAP.Auth, tt.auth)
			}
			if tt.oauthProvider != "" && (m.OAuth2 == nil || m.OAuth2.Provider != tt.oauthProvider) {
				t.Errorf("OAuth2 = %+v, want provider %s", m.OAuth2, tt.oauthProvider)
			}
			if m.IMAP.ProviderFilesSent != tt.filesSent {
				t.Errorf("ProviderFilesSent = %v, want %v", m.IMAP.ProviderFilesSent, tt.filesSent)
			}
			if !m.IMAP.DiscoverSent || m.IMAP.SentFolder != configs.DefaultSentFolder {
				t.Errorf("sent folder = %q, discover %v; want %q found from \\Sent", m.IMAP.SentFolder, m.IMAP.DiscoverSent, configs.DefaultSentFolder)
			}
			var chose []string
			for _, c := range m.Preset {
				chose = append(chose, c.String())
			}
			if !slices.Equal(chose, tt.chose) {
				t.Errorf("Preset =\n  %s\nwant\n  %s", strings.Join(chose, "\n  "), strings.Join(tt.chose, "\n  "))
			}
		})
	}
}

func TestProviderGenericAndNamedSentFolder(t *testing.T) {
	c := mustParse(t, edit(t, "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n", "    password_env: SUPPORTPROBE_IMAP_PASSWORD\n    sent_folder: Gesendet\n"))
	if c.Mail.Provider != configs.PresetGeneric || len(c.Mail.Preset) != 0 || c.Mail.IMAP.ProviderFilesSent {
		t.Errorf("omitted provider: Provider %q, Preset %v, ProviderFilesSent %v; want generic, nothing filled, false", c.Mail.Provider, c.Mail.Preset, c.Mail.IMAP.ProviderFilesSent)
	}
	if c.Mail.IMAP.DiscoverSent || c.Mail.IMAP.SentFolder != "Gesendet" {
		t.Errorf("named sent_folder: %q, discover %v; want Gesendet as named", c.Mail.IMAP.SentFolder, c.Mail.IMAP.DiscoverSent)
	}
}

func TestProviderPresetErrors(t *testing.T) {
	tests := []struct{ name, mail, want string }{
		{"unknown", "  provider: yahoo\n  smtp: {host: smtp.example.com, username: a@example.com, password_env: P}\n  imap: {host: imap.example.com, username: a@example.com, password_env: P}\n",
			`line 4: mail.provider: unknown provider "yahoo" (want microsoft365, gmail, fastmail or generic)`},
		{"microsoft365 without oauth2", "  provider: microsoft365\n  smtp: {username: a@example.com}\n  imap: {username: a@example.com}\n",
			"mail.oauth2: required: provider microsoft365 signs in with OAuth 2.0; add mail.oauth2 with the client_id of the app you registered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse(presetConfig(tt.mail), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
