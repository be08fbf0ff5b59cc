package configs_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
)

// minimal is the smallest valid configuration; tests edit it with edit.
const minimal = `state_dir: /var/lib/supportprobe
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp:
    host: smtp.example.com
    security: tls
    username: lin.wei@example.com
    password_file: /etc/supportprobe/smtp.pass
  imap:
    host: imap.example.com
    security: tls
    username: lin.wei@example.com
    password_env: SUPPORTPROBE_IMAP_PASSWORD
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello. Ref {{.Token}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`

// edit returns minimal with each old replaced by the new that follows it.
func edit(t *testing.T, pairs ...string) []byte {
	t.Helper()
	s := minimal
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not in the minimal configuration", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return []byte(s)
}

func mustParse(t *testing.T, data []byte) *configs.Config {
	t.Helper()
	c, err := configs.Parse(data, "supportprobe.yaml")
	if err != nil {
		t.Fatalf("Parse() error:\n%v", err)
	}
	return c
}

func TestExampleLoads(t *testing.T) {
	c := mustParse(t, configs.Example)

	if got, want := c.Mail.From.Address, "lin.wei@example.com"; got != want {
		t.Errorf("Mail.From.Address = %q, want %q", got, want)
	}
	var ids []string
	for _, s := range c.Scripts {
		ids = append(ids, s.ID+"/"+s.Language)
	}
	if want := []string{"outage-en/en", "invoice-zh/zh"}; !slices.Equal(ids, want) {
		t.Errorf("scripts = %v, want %v", ids, want)
	}

	acme, ok := c.Vendor("acme-cloud")
	if !ok {
		t.Fatal(`Vendor("acme-cloud") not found`)
	}
	if !acme.Hours.AlwaysOpen() {
		t.Error("acme-cloud: Hours.AlwaysOpen() = false, want true (no business_hours: 24x7)")
	}
	if got, want := acme.SLA[probe.P1], (probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}); got != want {
		t.Errorf("acme-cloud: SLA[P1] = %+v, want %+v", got, want)
	}
	if len(acme.Schedules) != 1 || acme.Schedules[0].Spec != "0 3 * * *" || acme.Schedules[0].Jitter != 20*time.Minute {
		t.Errorf("acme-cloud: Schedules = %+v, want one at 0 3 * * * with 20m jitter", acme.Schedules)
	}
	if m := acme.TicketKey.FindStringSubmatch("Re: [#4711] Streams failing"); len(m) != 2 || m[1] != "4711" {
		t.Errorf("acme-cloud: TicketKey match = %q, want the key 4711", m)
	}

	lotus, ok := c.Vendor("lotus-ops")
	if !ok {
		t.Fatal(`Vendor("lotus-ops") not found`)
	}
	if lotus.Hours.AlwaysOpen() || lotus.Hours.Location().String() != "Asia/Shanghai" {
		t.Errorf("lotus-ops: Hours = %+v, want business hours in Asia/Shanghai", lotus.Hours.Spec())
	}
	if got := lotus.SLA[probe.P3].Clock; got != probe.Business {
		t.Errorf("lotus-ops: SLA[P3].Clock = %q, want business", got)
	}
	// A national-day holiday, 10:00 Beijing time, is closed.
	if holiday := time.Date(2026, 10, 1, 10, 0, 0, 0, lotus.Hours.Location()); lotus.Hours.IsOpen(holiday) {
		t.Errorf("lotus-ops: IsOpen(%v) = true, want false (a holiday)", holiday)
	}
	for _, s := range lotus.Schedules {
		if s.Location.String() != "Asia/Shanghai" {
			t.Errorf("lotus-ops: schedule %q Location = %v, want the vendor's zone", s.Spec, s.Location)
		}
	}

	if c.Summary == nil || c.Summary.Location.String() != "Asia/Shanghai" || c.Summary.Spec != "0 9 * * MON" {
		t.Errorf("Summary = %+v, want Monday 09:00 Asia/Shanghai", c.Summary)
	}
	if _, ok := c.Script("nonexistent"); ok {
		t.Error(`Script("nonexistent") found, want not found`)
	}
	if strings.Contains(string(configs.Example), "password:") {
		t.Error("the example holds a literal password: key")
	}
}

// TestInvalidFiles checks each testdata/invalid-*.yaml, whose first line reads
// "# want: <message>", produces exactly that message. Line numbers count that line.
func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid-*.yaml files (err %v)", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("first line %q does not start with %q", first, "# want: ")
			}
			_, err = configs.Parse(data, "supportprobe.yaml")
			if err == nil {
				t.Fatalf("Parse() = nil error, want:\n%s", want)
			}
			if got := err.Error(); got != want {
				t.Errorf("Parse() error:\n got: %s\nwant: %s", got, want)
			}
			var cerr *configs.Error
			if !errors.As(err, &cerr) || cerr.Source != "supportprobe.yaml" {
				t.Errorf("Parse() error %T does not unwrap to a *configs.Error from supportprobe.yaml", err)
			}
		})
	}
}

func TestParseReportsEveryProblemInFileOrder(t *testing.T) {
	data := edit(t,
		"    timezone: America/Los_Angeles", "    timezone: America/LA",
		`"0 3 * * *"`, `"0 3 * * *", jitter: 1fortnight`,
		"priority: P1", "priority: P9",
		"    security: tls\n    username: lin.wei@example.com\n    password_file", "    security: none\n    username: lin.wei@example.com\n    password_file",
	)
	_, err := configs.Parse(data, "supportprobe.yaml")
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("Parse() error = %v, want several joined", err)
	}
	var got []string
	for _, e := range joined.Unwrap() {
		var ce *configs.Error
		if !errors.As(e, &ce) {
			t.Fatalf("joined error %T is not a *configs.Error", e)
		}
		got = append(got, ce.Path)
	}
	want := []string{
		"mail.smtp.security",
		`scripts[0] "outage-en": priority`,
		`vendors[0] "acme-cloud": timezone`,
		`vendors[0] "acme-cloud": schedules[0].jitter`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("error paths = %q, want %q\n%v", got, want, err)
	}
}

func TestParseDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"top-level unknown key", []byte("stat_dir: /x\n" + minimal),
			`supportprobe.yaml: line 1: unknown key "stat_dir" (did you mean "state_dir"?)`},
		{"unknown key far from any known one", edit(t, "    timezone: America/Los_Angeles", "    timezone: America/Los_Angeles\n    colour: blue"),
			`supportprobe.yaml: line 20: vendors[0] "acme-cloud": unknown key "colour" (known keys: name, to, domains, timezone, business_hours, sla, deadline, ticket_key, schedules, limits, rules, pause)`},
		{"every unknown key at once", edit(t, "    host: smtp.example.com", "    hots: smtp.example.com", "    host: imap.example.com", "    hots: imap.example.com"),
			"supportprobe.yaml: line 5: mail.smtp: unknown key \"hots\" (did you mean \"host\"?)\n" +
				"supportprobe.yaml: line 10: mail.imap: unknown key \"hots\" (did you mean \"host\"?)"},
		{"alias for a key", edit(t, `{cron: "0 3 * * *"`, `{cron: "0 3 * * *", tz: UTC`),
			`supportprobe.yaml: line 21: vendors[0] "acme-cloud": schedules[0]: unknown key "tz" (did you mean "timezone"?)`},
		{"list where a value belongs", edit(t, "security: tls", "security: [tls]"),
			`supportprobe.yaml: line 6: mail.smtp.security: want a single value, got a list`},
		{"value where a list belongs", edit(t, "to: [support@acme.example]", "to: support@acme.example"),
			`supportprobe.yaml: line 18: vendors[0] "acme-cloud": to: want a list, got "support@acme.example"`},
		{"top level is a list", []byte("- a\n- b\n"),
			`supportprobe.yaml: line 1: the top level must be a mapping of keys (state_dir, mail, scripts, vendors, summary, http, dashboard, alerts, control), not a list`},
		{"null document", []byte("~\n"), `supportprobe.yaml: the file is empty (start from the example that ` + "`supportprobe init`" + ` writes)`},
		{"trailing document marker is fine", []byte(minimal + "---\n"), ""},
		{"empty first document", []byte("---\n---\n" + minimal), ""},
		{"second document", []byte(minimal + "---\n# more\nstate_dir: /srv\n"), "supportprobe.yaml: line 22: a second YAML document starts here; keep the whole configuration in one document"},
		{"only a document marker", []byte("---\n"), `supportprobe.yaml: the file is empty (start from the example that ` + "`supportprobe init`" + ` writes)`},
		{"tab indentation", []byte("mail:\n\tfrom: x\n"),
			`supportprobe.yaml: line 2: found character that cannot start any token (a tab indents this line; YAML indents with spaces)`},
		{"mapping where a value belongs", edit(t, "timezone: America/Los_Angeles", "timezone: {name: America/Los_Angeles}"),
			`supportprobe.yaml: line 19: vendors[0] "acme-cloud": timezone: want a single value, got a mapping of keys`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := configs.Parse(tt.data, "supportprobe.yaml")
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Parse() error:\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := mustParse(t, []byte(minimal))
	if c.Mail.SMTP.Port != 465 || c.Mail.IMAP.Port != 993 {
		t.Errorf("ports = %d, %d, want 465, 993", c.Mail.SMTP.Port, c.Mail.IMAP.Port)
	}
	if !slices.Equal(c.Mail.IMAP.Folders, []string{"INBOX", `\Junk`}) || c.Mail.IMAP.SentFolder != "Sent" || !c.Mail.IMAP.AppendSent {
		t.Errorf(`IMAP = %+v, want folders [INBOX \Junk], sent folder Sent, append_sent true`, c.Mail.IMAP)
	}
	if c.Mail.SMTP.Timeout != configs.DefaultTimeout {
		t.Errorf("SMTP.Timeout = %v, want %v", c.Mail.SMTP.Timeout, configs.DefaultTimeout)
	}
	v := c.Vendors[0]
	if v.Deadline != 7*24*time.Hour {
		t.Errorf("Deadline = %v, want 7d", v.Deadline)
	}
	if !slices.Equal(v.Domains, []string{"acme.example"}) {
		t.Errorf("Domains = %v, want those of to: [acme.example]", v.Domains)
	}
	if !v.Hours.AlwaysOpen() || v.Hours.Location().String() != "America/Los_Angeles" {
		t.Errorf("Hours = %+v, want 24x7 in America/Los_Angeles", v.Hours.Spec())
	}
	if got := v.Schedules[0].Location.String(); got != "America/Los_Angeles" {
		t.Errorf("Schedules[0].Location = %s, want the vendor's zone", got)
	}
	if v.TicketKey != nil || v.SLA != nil || c.Summary != nil {
		t.Errorf("TicketKey, SLA, Summary = %v, %v, %v, want all absent", v.TicketKey, v.SLA, c.Summary)
	}
	if c.Path != "" {
		t.Errorf("Path = %q, want empty for Parse", c.Path)
	}
}

func TestDefaultPorts(t *testing.T) {
	tests := []struct {
		security, host     string
		wantSMTP, wantIMAP int
	}{
		{"tls", "mail.example.com", 465, 993},
		{"starttls", "mail.example.com", 587, 143},
		{"none", "localhost", 25, 143},
		{"none", "127.0.0.1", 25, 143},
		{"STARTTLS", "mail.example.com", 587, 143},
	}
	for _, tt := range tests {
		t.Run(tt.security+"@"+tt.host, func(t *testing.T) {
			c := mustParse(t, []byte(strings.NewReplacer(
				"security: tls", "security: "+tt.security,
				"host: smtp.example.com", "host: "+tt.host,
				"host: imap.example.com", "host: "+tt.host,
			).Replace(minimal)))
			if c.Mail.SMTP.Port != tt.wantSMTP || c.Mail.IMAP.Port != tt.wantIMAP {
				t.Errorf("ports = %d, %d, want %d, %d", c.Mail.SMTP.Port, c.Mail.IMAP.Port, tt.wantSMTP, tt.wantIMAP)
			}
			if got := c.Mail.SMTP.Addr(); !strings.HasSuffix(got, ":"+strconv.Itoa(tt.wantSMTP)) {
				t.Errorf("SMTP.Addr() = %q, want port %d", got, tt.wantSMTP)
			}
		})
	}
}

func TestSMTPWithoutAuthentication(t *testing.T) {
	c := mustParse(t, edit(t,
		"    security: tls\n    username: lin.wei@example.com\n    password_file: /etc/supportprobe/smtp.pass\n",
		"    security: none\n",
		"host: smtp.example.com", "host: ::1"))
	if c.Mail.SMTP.Username != "" || !c.Mail.SMTP.Password.IsZero() {
		t.Errorf("SMTP = %+v, want no login", c.Mail.SMTP)
	}
	if got := c.Mail.SMTP.Addr(); got != "[::1]:25" {
		t.Errorf("SMTP.Addr() = %q, want [::1]:25", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "supportprobe.yaml")
	data := edit(t,
		"state_dir: /var/lib/supportprobe", "state_dir: state",
		"password_file: /etc/supportprobe/smtp.pass", "password_file: smtp.pass")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "smtp.pass"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "imap-s3cret")

	c, err := configs.Load(path)
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	if c.Path != path {
		t.Errorf("Path = %q, want %q", c.Path, path)
	}
	if want := filepath.Join(dir, "state"); c.StateDir != want {
		t.Errorf("StateDir = %q, want %q (relative to the file)", c.StateDir, want)
	}
	if got, err := c.Mail.SMTP.Password.Value(); err != nil || got != "s3cret" {
		t.Errorf("SMTP.Password.Value() = %q, %v, want s3cret", got, err)
	}
	if probs := c.SecretProblems(); len(probs) != 0 {
		t.Errorf("SecretProblems() = %v, want none", probs)
	}

	_, err = configs.Load(filepath.Join(dir, "missing.yaml"))
	var ce *configs.Error
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load(missing) error = %v, want a *configs.Error naming the file and wrapping ErrNotExist", err)
	}
}

func TestSecretProblems(t *testing.T) {
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "")
	os.Unsetenv("SUPPORTPROBE_IMAP_PASSWORD")
	missing := filepath.Join(t.TempDir(), "smtp.pass")
	c := mustParse(t, edit(t, "/etc/supportprobe/smtp.pass", missing))
	var got []string
	for _, err := range c.SecretProblems() {
		got = append(got, err.Error())
	}
	want := []string{
		"supportprobe.yaml: line 8: mail.smtp.password_file: password file " + missing +
			": no such file or directory (create it holding only the password, mode 0600, owned by the user supportprobe runs as)",
		"supportprobe.yaml: line 13: mail.imap.password_env: environment variable SUPPORTPROBE_IMAP_PASSWORD is not set" +
			" (set it in supportprobe's environment, for example with EnvironmentFile= in the systemd unit, or use password_file)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("SecretProblems():\n got: %q\nwant: %q", got, want)
	}
}

func TestCronSpec(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec string
		loc  *time.Location
		want string
	}{
		{"0 3 * * *", shanghai, "CRON_TZ=Asia/Shanghai 0 3 * * *"},
		{" 0 9 * * MON ", time.UTC, "CRON_TZ=UTC 0 9 * * MON"},
		{"0 3 * * *", nil, "CRON_TZ=UTC 0 3 * * *"},
	}
	for _, tt := range tests {
		if got := configs.CronSpec(tt.spec, tt.loc); got != tt.want {
			t.Errorf("CronSpec(%q, %v) = %q, want %q", tt.spec, tt.loc, got, tt.want)
		}
	}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name, section string
		want          *configs.HTTP
		wantErr       string
	}{
		{"absent", "", nil, ""},
		{"loopback", `{listen: "127.0.0.1:9108"}`, &configs.HTTP{Listen: "127.0.0.1:9108"}, ""},
		{"localhost", `{listen: "localhost:9108"}`, &configs.HTTP{Listen: "localhost:9108"}, ""},
		{"ipv6 loopback, any port", `{listen: "[::1]:0"}`, &configs.HTTP{Listen: "[::1]:0"}, ""},
		{"remote with auth and TLS", `{listen: "10.0.0.1:9108", allow_remote: true, auth: {bearer_tokens_file: /etc/sp/tokens}, cert_file: /etc/sp/cert.pem, key_file: /etc/sp/key.pem}`,
			&configs.HTTP{Listen: "10.0.0.1:9108", AllowRemote: true, Auth: configs.HTTPAuth{BearerTokensFile: "/etc/sp/tokens"}, CertFile: "/etc/sp/cert.pem", KeyFile: "/etc/sp/key.pem"}, ""},
		{"remote with basic auth in plaintext", `{listen: "10.0.0.1:9108", allow_remote: true, auth: {basic_file: /etc/sp/users}, insecure_plaintext: true}`,
			&configs.HTTP{Listen: "10.0.0.1:9108", AllowRemote: true, Auth: configs.HTTPAuth{BasicFile: "/etc/sp/users"}, InsecurePlaintext: true}, ""},
		{"loopback with auth, both kinds", `{listen: "127.0.0.1:0", auth: {bearer_tokens_file: /t, basic_file: /u}}`,
			&configs.HTTP{Listen: "127.0.0.1:0", Auth: configs.HTTPAuth{BearerTokensFile: "/t", BasicFile: "/u"}}, ""},
		{"remote without auth or TLS", `{listen: "10.0.0.1:9108", allow_remote: true}`, nil,
			"supportprobe.yaml: line 22: http: allow_remote: true needs authentication: set http.auth.bearer_tokens_file (one token per line) or http.auth.basic_file (user:bcrypt-hash lines, as htpasswd -B writes); only /healthz stays open\n" +
				"supportprobe.yaml: line 22: http: allow_remote: true needs TLS so that credentials and metrics are not sent in the clear: set http.cert_file and http.key_file, or, on a network you trust, http.insecure_plaintext: true"},
		{"remote with auth, no TLS", "\n  listen: \"10.0.0.1:9108\"\n  allow_remote: true\n  auth: {basic_file: /u}", nil,
			"supportprobe.yaml: line 24: http: allow_remote: true needs TLS so that credentials and metrics are not sent in the clear: set http.cert_file and http.key_file, or, on a network you trust, http.insecure_plaintext: true"},
		{"remote with TLS, no auth", `{listen: "10.0.0.1:9108", allow_remote: true, cert_file: /c, key_file: /k}`, nil,
			"supportprobe.yaml: line 22: http: allow_remote: true needs authentication: set http.auth.bearer_tokens_file (one token per line) or http.auth.basic_file (user:bcrypt-hash lines, as htpasswd -B writes); only /healthz stays open"},
		{"empty auth", `{listen: "10.0.0.1:9108", allow_remote: true, auth: {}, insecure_plaintext: true}`, nil,
			"supportprobe.yaml: line 22: http.auth: names no credentials; set bearer_tokens_file or basic_file, or remove auth"},
		{"cert without key", `{listen: "127.0.0.1:9108", cert_file: /c}`, nil,
			"supportprobe.yaml: line 22: http: cert_file is set without key_file; set both to serve HTTPS, or neither"},
		{"plaintext on loopback", `{listen: "127.0.0.1:9108", insecure_plaintext: true}`, nil,
			"supportprobe.yaml: line 22: http.insecure_plaintext: has effect only with allow_remote: true; remove it (a loopback listener needs no TLS)"},
		{"plaintext and TLS", `{listen: "10.0.0.1:9108", allow_remote: true, auth: {basic_file: /u}, cert_file: /c, key_file: /k, insecure_plaintext: true}`, nil,
			"supportprobe.yaml: line 22: http.insecure_plaintext: contradicts cert_file and key_file, which serve TLS; remove insecure_plaintext"},
		{"every interface", `{listen: ":9108"}`, nil,
			"supportprobe.yaml: line 22: http.listen: every interface is not a loopback host, so anyone on the network could read the metrics; listen on localhost, 127.0.0.1 or ::1, or set http.allow_remote: true (with http.auth and TLS)"},
		{"no port", `{listen: "127.0.0.1"}`, nil,
			`supportprobe.yaml: line 22: http.listen: "127.0.0.1" is not host:port, e.g. 127.0.0.1:9108`},
		{"named port", `{listen: "127.0.0.1:http"}`, nil,
			`supportprobe.yaml: line 22: http.listen: port "http" is not a number from 0 to 65535`},
		{"no listen", `{allow_remote: true}`, nil,
			"supportprobe.yaml: line 22: http.listen: required: the address /metrics and /healthz are served on, e.g. 127.0.0.1:9108"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := minimal
			if tt.section != "" {
				data += "http: " + tt.section + "\n"
			}
			c, err := configs.Parse([]byte(data), "supportprobe.yaml")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Parse() error:\n got: %v\nwant: %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error:\n%v", err)
			}
			if (c.HTTP == nil) != (tt.want == nil) || c.HTTP != nil && *c.HTTP != *tt.want {
				t.Errorf("HTTP = %+v, want %+v", c.HTTP, tt.want)
			}
		})
	}
}

func TestExampleFollowups(t *testing.T) {
	c := mustParse(t, configs.Example)
	s, ok := c.Script("outage-en")
	if !ok {
		t.Fatal(`Script("outage-en") not found`)
	}
	want := []struct {
		kind  probe.FollowupKind
		after time.Duration
	}{{probe.FollowupAfterResponse, 10 * time.Minute}, {probe.FollowupReminder, 4 * time.Hour}}
	if len(s.Followups) != len(want) {
		t.Fatalf("Followups = %+v, want %d", s.Followups, len(want))
	}
	for i, w := range want {
		if f := s.Followups[i]; f.Kind != w.kind || f.After != w.after {
			t.Errorf("Followups[%d] = %s %s, want %s %s", i, f.Kind, f.After, w.kind, w.after)
		}
	}
}

// TestPauseWindows reads the example's maintenance window: an instant range with its
// offset kept, the note, and the vendor's name on it.
func TestPauseWindows(t *testing.T) {
	c := mustParse(t, configs.Example)
	v, ok := c.Vendor("acme-cloud")
	if !ok {
		t.Fatal("no vendor acme-cloud in the example")
	}
	if len(v.Pauses) != 1 {
		t.Fatalf("Pauses = %+v, want one window", v.Pauses)
	}
	p := v.Pauses[0]
	from := time.Date(2026, 12, 23, 23, 0, 0, 0, time.UTC)
	if !p.From.Equal(from) || !p.Until.Equal(from.Add(72*time.Hour)) || p.Note != "holiday freeze" ||
		p.Source != probe.PauseConfig || p.Vendor != "acme-cloud" {
		t.Errorf("Pauses[0] = %+v, want acme-cloud's holiday freeze 2026-12-23T23:00Z for 72h from the configuration", p)
	}
	if _, offset := p.From.Zone(); offset != 3600 {
		t.Errorf("Pauses[0].From offset = %d s, want the file's +01:00", offset)
	}
}
