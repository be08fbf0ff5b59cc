package configs_test

import (
	"supportprobe/configs"

	"strings"
	"testing"
	"time"
)

func TestAlertsSection(t *testing.T) {
	c := mustParse(t, []byte(minimal+`alerts:
  webhooks:
    - {name: ops, url: "http://127.0.0.1:9000/hook", secret_env: HOOK_SECRET, format: json}
    - {name: chat, url: "https://chat.example.com/hooks/x", format: slack, timeout: 3s}
  email: {to: ["ops@example.com"]}
  command: ["/usr/local/bin/page-me", "--urgent"]
  watcher_down_after: 5m
  disk_free_below: 2GB
`))
	a := c.Alerts
	if a == nil || len(a.Webhooks) != 2 {
		t.Fatalf("Alerts = %+v", a)
	}
	if w := a.Webhooks[0]; w.Name != "ops" || w.URL != "http://127.0.0.1:9000/hook" || w.Secret.Env != "HOOK_SECRET" || w.Slack {
		t.Errorf("webhook 0 = %+v", w)
	}
	if w := a.Webhooks[1]; !w.Slack || w.Timeout != 3*time.Second || !w.Secret.IsZero() {
		t.Errorf("webhook 1 = %+v", w)
	}
	if strings.Join(a.EmailTo, ",") != "ops@example.com" || strings.Join(a.Command, " ") != "/usr/local/bin/page-me --urgent" {
		t.Errorf("email %v command %v", a.EmailTo, a.Command)
	}
	if a.WatcherDownAfter != 5*time.Minute || a.WaitingAfter != 4*time.Hour || a.DiskFreeBelow != 2<<30 || a.MaxPerHour != 30 {
		t.Errorf("thresholds %+v", a)
	}
	if got := strings.Join(a.Channels(), ","); got != "ops,chat,email,command" {
		t.Errorf("Channels() = %s", got)
	}
	if mustParse(t, []byte(minimal)).Alerts != nil {
		t.Error("a file without alerts has an alerts section")
	}
}

func TestAlertsErrors(t *testing.T) {
	for _, tc := range []struct{ name, section, want string }{
		{"no url", `webhooks: [{name: ops}]`, `alerts.webhooks[0] "ops": url: required`},
		{"bad url", `webhooks: [{name: ops, url: "ftp://x"}]`, `"ftp://x" is not an http:// or https:// URL`},
		{"no name", `webhooks: [{url: "http://127.0.0.1:1/"}]`, `name: required`},
		{"same name", `webhooks: [{name: a, url: "http://127.0.0.1:1/"}, {name: a, url: "http://127.0.0.1:2/"}]`, `"a" is used twice`},
		{"reserved name", `webhooks: [{name: email, url: "http://127.0.0.1:1/"}]`, `reserved channel name`},
		{"format", `webhooks: [{name: a, url: "http://127.0.0.1:1/", format: teams}]`, `"teams" is not a format; use json`},
		{"two secrets", `webhooks: [{name: a, url: "http://127.0.0.1:1/", secret_env: A, secret_file: /x}]`, `secret_file and secret_env are both set`},
		{"email to vendor", `email: {to: ["help@acme.example"]}`, `help@acme.example is at vendor acme-cloud's domain; alerts never go to a vendor`},
		{"email none", `email: {to: []}`, `alerts.email.to: required`},
		{"short threshold", `watcher_down_after: 10s`, `10s is under a minute`},
		{"size", `disk_free_below: lots`, `"lots" is not a size`},
		{"rate", `max_per_hour: 0`, `0: at least 1`},
		{"typo", `webhook: []`, `webhook`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseString(minimal + "alerts:\n  " + tc.section + "\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestAlertsSecretProblems(t *testing.T) {
	t.Setenv("HOOK_SECRET_UNSET_FOR_TEST", "")
	c := mustParse(t, []byte(minimal+`alerts:
  webhooks: [{name: ops, url: "http://127.0.0.1:9000/hook", secret_env: HOOK_SECRET_UNSET_FOR_TEST}]
`))
	var found bool
	for _, err := range c.SecretProblems() {
		if strings.Contains(err.Error(), `alerts.webhooks[0] "ops": secret_env`) && strings.Contains(err.Error(), "HOOK_SECRET_UNSET_FOR_TEST") {
			found = true
		}
	}
	if !found {
		t.Errorf("SecretProblems() = %v, want the webhook's empty secret named", c.SecretProblems())
	}
}

func parseString(s string) (any, error) { return configs.Parse([]byte(s), "supportprobe.yaml") }
