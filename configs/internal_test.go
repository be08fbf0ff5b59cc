package configs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "30m", want: 30 * time.Minute},
		{in: "24h", want: 24 * time.Hour},
		{in: "7d", want: 7 * 24 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "12h1d", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "1h30m15s", want: time.Hour + 30*time.Minute + 15*time.Second},
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "0", want: 0},
		{in: "0s", want: 0},
		{in: " 2h ", want: 2 * time.Hour},
		{in: "+2h", want: 2 * time.Hour},
		{in: "", wantErr: `bad duration "": empty (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "-2h", wantErr: `duration "-2h" is negative`},
		{in: "-1d", wantErr: `duration "-1d" is negative`},
		{in: "30", wantErr: `bad duration "30": "30" has no unit (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "2w", wantErr: `bad duration "2w": unknown unit "w" (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "20 minutes", wantErr: `bad duration "20 minutes": unknown unit "minutes" (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "d", wantErr: `bad duration "d": "d" is not a number (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "1..5h", wantErr: `bad duration "1..5h": too large or malformed (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "200000d", wantErr: `bad duration "200000d": too large or malformed (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
		{in: "106751d106751d", wantErr: `bad duration "106751d106751d": too large (want a number and a unit: 30m, 24h, 7d, 1d12h)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("parseDuration(%q) = %v, %v, want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseDuration(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{7 * day, "7d"},
		{36 * time.Hour, "1d12h"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{30 * time.Minute, "30m"},
		{10 * time.Second, "10s"},
		{day + 10*time.Second, "1d10s"},
		{0, "0s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.in); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if back, err := parseDuration(tt.want); err != nil || back != tt.in {
			t.Errorf("parseDuration(formatDuration(%v)) = %v, %v, want it back", tt.in, back, err)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"localhost.", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"[::1]", true},
		{"::ffff:127.0.0.1", true},
		{"128.0.0.1", false},
		{"10.0.0.1", false},
		{"::2", false},
		{"0.0.0.0", false},
		{"smtp.example.com", false},
		{"localhost.example.com", false},
		{"mylocalhost", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isLoopback(tt.host); got != tt.want {
			t.Errorf("isLoopback(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestCheckCron(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr string
	}{
		{spec: "0 3 * * *"},
		{spec: "*/15 9-17 * * MON-FRI"},
		{spec: "0 9 * * MON"},
		{spec: "", wantErr: `required: five fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * *"`},
		{spec: "TZ=UTC", wantErr: `"TZ=UTC" names a time zone inside the spec; remove it and set the timezone: field instead`},
		{spec: "CRON_TZ=Asia/Tokyo 0 3 * * *", wantErr: `"CRON_TZ=Asia/Tokyo 0 3 * * *" names a time zone inside the spec; remove it and set the timezone: field instead`},
		{spec: "@daily", wantErr: `"@daily" has 1 fields; want 5 (minute hour day-of-month month day-of-week, e.g. "0 3 * * *")`},
		{spec: "0 0 3 * * *", wantErr: `"0 0 3 * * *" has 6 fields; want 5 (minute hour day-of-month month day-of-week, e.g. "0 3 * * *")`},
		{spec: "60 3 * * *", wantErr: `bad spec "60 3 * * *": minute field "60": end of range (60) above maximum (59)`},
		{spec: "0 3 * * FUNDAY", wantErr: `bad spec "0 3 * * FUNDAY": day-of-week field "FUNDAY": failed to parse int from FUNDAY: strconv.Atoi: parsing "FUNDAY": invalid syntax`},
		{spec: "*/0 3 * * *", wantErr: `bad spec "*/0 3 * * *": minute field "*/0": step of range should be a positive number`},
		{spec: "0 3 31 4 *", wantErr: `"0 3 31 4 *" never fires (no such date)`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			err := checkCron(tt.spec, time.UTC)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("checkCron(%q) = %q, want %q", tt.spec, got, tt.wantErr)
			}
		})
	}
}

func TestSecretValue(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lf := write("lf", "s3cret\n")
	crlf := write("crlf", "s3cret\r\n")
	spaces := write("spaces", " s3cret \n")
	empty := write("empty", "\n")
	missing := filepath.Join(dir, "missing")
	t.Setenv("CONFIGS_TEST_SET", "from-env")
	t.Setenv("CONFIGS_TEST_EMPTY", "")
	t.Setenv("CONFIGS_TEST_UNSET", "")
	os.Unsetenv("CONFIGS_TEST_UNSET")

	tests := []struct {
		name    string
		secret  Secret
		want    string
		wantErr string
	}{
		{name: "file drops the trailing newline", secret: Secret{File: lf}, want: "s3cret"},
		{name: "file drops a trailing CRLF", secret: Secret{File: crlf}, want: "s3cret"},
		{name: "file keeps spaces", secret: Secret{File: spaces}, want: " s3cret "},
		{name: "env", secret: Secret{Env: "CONFIGS_TEST_SET"}, want: "from-env"},
		{name: "missing file", secret: Secret{File: missing},
			wantErr: "password file " + missing + ": no such file or directory (create it holding only the password, mode 0600, owned by the user supportprobe runs as)"},
		{name: "empty file", secret: Secret{File: empty},
			wantErr: "password file " + empty + " is empty (write the password into it, on one line)"},
		{name: "directory", secret: Secret{File: dir},
			wantErr: "password file " + dir + ": is a directory (password_file must name a readable file holding only the password)"},
		{name: "unset env", secret: Secret{Env: "CONFIGS_TEST_UNSET"},
			wantErr: "environment variable CONFIGS_TEST_UNSET is not set (set it in supportprobe's environment, for example with EnvironmentFile= in the systemd unit, or use password_file)"},
		{name: "empty env", secret: Secret{Env: "CONFIGS_TEST_EMPTY"},
			wantErr: "environment variable CONFIGS_TEST_EMPTY is set but empty (give it the password)"},
		{name: "zero", secret: Secret{}, wantErr: "no password configured (set password_file or password_env)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.secret.Value()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("Value() = %q, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Value() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	if _, err := (Secret{File: missing}).Value(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Value() of a missing file = %v, want it to wrap os.ErrNotExist", err)
	}
}

func TestSecretNeverPrintsThePassword(t *testing.T) {
	t.Setenv("CONFIGS_TEST_PASSWORD", "hunter2")
	s := Secret{Env: "CONFIGS_TEST_PASSWORD"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		got := fmt.Sprintf(verb, s)
		if strings.Contains(got, "hunter2") || !strings.Contains(got, "password_env CONFIGS_TEST_PASSWORD") {
			t.Errorf("Sprintf(%q, secret) = %q, want the reference and not the password", verb, got)
		}
	}
	if got := fmt.Sprintf("%+v", Server{Password: s}); strings.Contains(got, "hunter2") {
		t.Errorf("Sprintf(%%+v, server) = %q, shows the password", got)
	}
	if got := (Secret{}).String(); got != "no password" {
		t.Errorf("Secret{}.String() = %q, want %q", got, "no password")
	}
}

// TestExampleShowsEveryKey keeps the example complete: every key the file accepts
// appears in it, except the literal password it exists to forbid.
func TestExampleShowsEveryKey(t *testing.T) {
	example := string(Example)
	for typ, keys := range knownKeys {
		for _, k := range keys {
			if k == "password" {
				continue
			}
			if !strings.Contains(example, k+":") {
				t.Errorf("the example never uses key %q (of %s)", k, typ)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	server, hours, schedule := typeName[rawServer](), typeName[rawHours](), typeName[rawSchedule]()
	tests := []struct {
		key, typ, want string
	}{
		{"pasword_file", server, ` (did you mean "password_file"?)`},
		{"hots", server, ` (did you mean "host"?)`},
		{"Host", server, ` (did you mean "host"?)`},
		{"user", server, ` (did you mean "username"?)`},
		{"passwrd", server, " (known keys: host, port, security, auth, username, password_file, password_env, timeout, ca_file, server_name)"},
		{"zone", hours, " (business hours are kept in the vendor's timezone; set timezone: on the vendor)"},
		{"timezone", hours, " (business hours are kept in the vendor's timezone; set timezone: on the vendor)"},
		{"tz", schedule, ` (did you mean "timezone"?)`},
		{"script", schedule, ` (did you mean "scripts"?)`},
	}
	for _, tt := range tests {
		if got := suggest(tt.key, tt.typ); got != tt.want {
			t.Errorf("suggest(%q, %s) = %q, want %q", tt.key, tt.typ, got, tt.want)
		}
	}
}

// TestAnchorsAndMerges checks that YAML anchors, aliases and merge keys work, and that
// problems inside merged content are still placed.
func TestAnchorsAndMerges(t *testing.T) {
	const base = `mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: &server
    host: mail.example.com
    security: tls
    username: lin.wei@example.com
    password_env: MAIL_PASSWORD
  imap:
    <<: *server
    port: 993
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    schedules:
      - &nightly {cron: "0 3 * * *", scripts: [outage-en]}
  - name: lotus-ops
    to: [support@lotus.example]
    timezone: Asia/Shanghai
    schedules: [*nightly]
`
	c, err := Parse([]byte(base), "supportprobe.yaml")
	if err != nil {
		t.Fatalf("Parse() error: %v", err)
	}
	if got := c.Mail.IMAP.Host; got != "mail.example.com" {
		t.Errorf("IMAP.Host = %q, want the merged mail.example.com", got)
	}
	if got := c.Vendors[1].Schedules[0].Location.String(); got != "Asia/Shanghai" {
		t.Errorf("aliased schedule Location = %s, want its own vendor's zone", got)
	}

	_, err = Parse([]byte(strings.Replace(base, "security: tls", "security: none", 1)), "supportprobe.yaml")
	want := "supportprobe.yaml: line 5: mail.smtp.security: none sends the password in the clear and is allowed only for a loopback host (localhost, 127.0.0.1, ::1), not \"mail.example.com\"; use tls or starttls\n" +
		"supportprobe.yaml: line 5: mail.imap.security: none sends the password in the clear and is allowed only for a loopback host (localhost, 127.0.0.1, ::1), not \"mail.example.com\"; use tls or starttls"
	if err == nil || err.Error() != want {
		t.Errorf("Parse() error:\n got: %v\nwant: %s", err, want)
	}
}

// FuzzParse checks that no input makes Parse panic, and that every error it returns is
// made of *Error values that name the source.
func FuzzParse(f *testing.F) {
	f.Add(Example)
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid-*.yaml"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("vendors: [{schedules: [{cron: \"TZ=UTC\"}]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(data, "fuzz.yaml")
		if err == nil {
			return
		}
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		for _, e := range errs {
			var ce *Error
			if !errors.As(e, &ce) || ce.Source != "fuzz.yaml" {
				t.Fatalf("Parse() error %q (%T) is not a *Error from fuzz.yaml", e, e)
			}
		}
		if slices.ContainsFunc(errs, func(e error) bool { return strings.TrimSpace(e.Error()) == "fuzz.yaml" }) {
			t.Fatalf("Parse() returned an error with no message: %q", err)
		}
	})
}
