package configs_test

import (
	"fmt"
	"strings"
	"testing"

	"supportprobe/configs"
)

// TestSecurityRule is the TLS rule as a table: for IMAP and SMTP alike, a server is
// reached in plain text only when the file says `security: none` explicitly and the host
// is loopback (127.0.0.0/8, ::1, localhost); an omitted security means tls, and none
// for any other host, name or address, is an error that says how to fix it.
func TestSecurityRule(t *testing.T) {
	hosts := []struct {
		host     string
		loopback bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.53", true},
		{`"::1"`, true},
		{"localhost", true},
		{"LOCALHOST", true},
		{"mail.example.com", false},
		{"localhost.example.com", false},
		{"127.0.0.1.example.com", false},
		{"192.0.2.10", false},
		{`"2001:db8::1"`, false},
		{"0.0.0.0", false},
	}
	securities := []struct {
		line string // the security line as written; "" leaves it out
		want configs.Security
	}{
		{"", configs.SecurityTLS},
		{"security: none", configs.SecurityNone},
		{"security: starttls", configs.SecurityStartTLS},
		{"security: tls", configs.SecurityTLS},
	}
	for _, proto := range []string{"smtp", "imap"} {
		for _, h := range hosts {
			for _, sec := range securities {
				name := fmt.Sprintf("%s/%s/%s", proto, strings.Trim(h.host, `"`), strings.TrimPrefix(sec.line, "security: "))
				t.Run(name, func(t *testing.T) {
					data := edit(t, "    host: "+proto+".example.com\n    security: tls\n",
						"    host: "+h.host+"\n"+indent(sec.line))
					c, err := configs.Parse(data, "supportprobe.yaml")
					plainRefused := sec.want == configs.SecurityNone && !h.loopback
					if plainRefused {
						if err == nil || !strings.Contains(err.Error(), "mail."+proto+".security: none sends the password in the clear") ||
							!strings.Contains(err.Error(), "use tls or starttls") {
							t.Fatalf("Parse() = %v, want the none-for-a-remote-host error on mail.%s.security", err, proto)
						}
						return
					}
					if err != nil {
						t.Fatalf("Parse() error:\n%v", err)
					}
					got := c.Mail.SMTP.Security
					if proto == "imap" {
						got = c.Mail.IMAP.Security
					}
					if got != sec.want {
						t.Errorf("mail.%s.security = %q, want %q", proto, got, sec.want)
					}
				})
			}
		}
	}
}

func indent(line string) string {
	if line == "" {
		return ""
	}
	return "    " + line + "\n"
}
