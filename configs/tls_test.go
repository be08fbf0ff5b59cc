package configs_test

import (
	"strings"
	"testing"
)

func TestServerTLSKeys(t *testing.T) {
	c := mustParse(t, edit(t, "    host: imap.example.com\n", "    host: 10.0.0.7\n    ca_file: /etc/supportprobe/company-ca.pem\n    server_name: imap.example.com\n"))
	if s := c.Mail.IMAP.Server; s.CAFile != "/etc/supportprobe/company-ca.pem" || s.ServerName != "imap.example.com" {
		t.Errorf("IMAP server = %+v, want the CA file and server name", s)
	}
	if s := c.Mail.SMTP; s.CAFile != "" || s.ServerName != "" {
		t.Errorf("SMTP server = %+v, want no TLS settings", s)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"ca_file without TLS", "    host: smtp.example.com\n    security: tls\n", "    host: smtp.example.com\n    security: none\n    ca_file: /x.pem\n",
			"mail.smtp.ca_file: security none uses no TLS, so ca_file has no effect"},
		{"server_name not a name", "    host: imap.example.com\n", "    host: imap.example.com\n    server_name: \"imap.example.com:993\"\n",
			`mail.imap.server_name: "imap.example.com:993" is not a host name`},
		{"no skip-verify key", "    host: imap.example.com\n", "    host: imap.example.com\n    insecure_skip_verify: true\n", "insecure_skip_verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseString(string(edit(t, tc.old, tc.new)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
