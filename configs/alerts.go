package configs

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Alerts is the alerts section: the channels that are told at once when something needs
// a person, and the thresholds of the conditions that are not events in themselves.
//
//	alerts:
//	  webhooks:
//	    - {name: ops, url: "http://127.0.0.1:9000/hook", secret_env: HOOK_SECRET, format: json}
//	  email: {to: ["ops@example.com"]}
//	  command: ["/usr/local/bin/page-me"]
//	  watcher_down_after: 10m
//	  waiting_after: 4h
//	  disk_free_below: 500MB
//	  max_per_hour: 30
type Alerts struct {
	// Webhooks receive each alert as a JSON POST (or a Slack-compatible message).
	Webhooks []Webhook
	// EmailTo receives each alert by mail, through mail.smtp; nil for no email.
	EmailTo []string
	// Command runs with each alert's JSON on its standard input; nil for none.
	Command []string
	// WatcherDownAfter is how long the inbox watcher may be disconnected or refused
	// before watcher_down fires; 10 minutes if omitted.
	WatcherDownAfter time.Duration
	// WaitingAfter is how long a reply may await review, or mail stay unmatched,
	// before review_waiting fires; 4 hours if omitted.
	WaitingAfter time.Duration
	// DiskFreeBelow is the free space, in bytes, under which disk_low fires for the
	// state directory's file system; 500 MB if omitted.
	DiskFreeBelow int64
	// MaxPerHour is each channel's rate limit; 30 if omitted. Alerts over it wait.
	MaxPerHour int
}

// Channels returns the names of the configured channels, in the order alerts go out:
// the webhooks by name, then "email" and "command".
func (a *Alerts) Channels() []string {
	var out []string
	for _, w := range a.Webhooks {
		out = append(out, w.Name)
	}
	if len(a.EmailTo) > 0 {
		out = append(out, "email")
	}
	if len(a.Command) > 0 {
		out = append(out, "command")
	}
	return out
}

// Webhook is one HTTP receiver of alerts.
type Webhook struct {
	// Name identifies the channel (unique; not "email" or "command").
	Name string
	// URL receives a POST per alert; http or https.
	URL string
	// Secret signs each body (X-Supportprobe-Signature); zero for no signature.
	Secret Secret
	// Slack is true for format: slack, a {"text": …} body that Slack and Mattermost
	// incoming webhooks accept.
	Slack bool
	// Timeout bounds one attempt; 10 s if omitted.
	Timeout time.Duration

	envKey, fileKey string // the secret keys' paths, for SecretProblems
}

// Defaults of the alerts section.
const (
	DefaultWatcherDownAfter = 10 * time.Minute
	DefaultWaitingAfter     = 4 * time.Hour
	DefaultDiskFreeBelow    = 500 << 20
	DefaultAlertsPerHour    = 30
)

func (v *validator) alerts(a at, r *rawAlerts, c *Config) *Alerts {
	out := &Alerts{WatcherDownAfter: DefaultWatcherDownAfter, WaitingAfter: DefaultWaitingAfter,
		DiskFreeBelow: DefaultDiskFreeBelow, MaxPerHour: DefaultAlertsPerHour}
	seen := map[string]bool{"email": true, "command": true}
	wa := a.key("webhooks")
	for i, rw := range r.Webhooks {
		ia := wa.item(i, rw.Name)
		w := Webhook{Name: strings.TrimSpace(rw.Name), envKey: ia.key("secret_env").path, fileKey: ia.key("secret_file").path}
		switch {
		case w.Name == "":
			v.p.addf(ia.key("name"), "required: a name for this webhook, used in logs and `alerts test --channel NAME`")
		case seen[w.Name]:
			v.p.addf(ia.key("name"), "%q is used twice, or is a reserved channel name (email, command); give each webhook its own name", w.Name)
		}
		seen[w.Name] = true
		u, err := url.Parse(strings.TrimSpace(rw.URL))
		switch {
		case rw.URL == "":
			v.p.addf(ia.key("url"), "required: where alerts are POSTed, e.g. https://hooks.example.com/supportprobe")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.p.addf(ia.key("url"), "%q is not an http:// or https:// URL", rw.URL)
		default:
			w.URL = u.String()
		}
		switch rw.Format {
		case "", "json":
		case "slack":
			w.Slack = true
		default:
			v.p.addf(ia.key("format"), "%q is not a format; use json (the default: the event as JSON) or slack (Slack and Mattermost incoming webhooks)", rw.Format)
		}
		w.Secret = v.secret(ia, "secret", rw.SecretFile, rw.SecretEnv)
		if rw.Timeout != "" {
			if d, err := parseDuration(rw.Timeout); err != nil {
				v.p.add(ia.key("timeout"), err)
			} else if d <= 0 || d > 5*time.Minute {
				v.p.addf(ia.key("timeout"), "%s is outside 1s to 5m", rw.Timeout)
			} else {
				w.Timeout = d
			}
		}
		out.Webhooks = append(out.Webhooks, w)
	}
	if r.Email != nil {
		ea := a.key("email").key("to")
		if len(r.Email.To) == 0 {
			v.p.addf(ea, "required: who receives alerts by mail, e.g. [ops@example.com]")
		}
		if c.Mail.SMTP.Host == "" {
			v.p.addf(a.key("email"), "alerts by email go out through mail.smtp, which is not configured")
		}
		for i, to := range r.Email.To {
			addr, err := parseAddress(to)
			if err != nil {
				v.p.add(ea.item(i, ""), err)
				continue
			}
			if vd, ok := vendorOf(c, addr.Address); ok {
				v.p.addf(ea.item(i, ""), "%s is at vendor %s's domain; alerts never go to a vendor", addr.Address, vd)
			}
			out.EmailTo = append(out.EmailTo, strings.TrimSpace(to))
		}
	}
	if len(r.Command) > 0 {
		if strings.TrimSpace(r.Command[0]) == "" {
			v.p.addf(a.key("command"), "the first item must be the program to run, e.g. [/usr/local/bin/page-me]")
		} else if !strings.Contains(r.Command[0], "/") {
			// A bare name is looked up in PATH when the alert runs, as a shell would.
			out.Command = slices.Clone(r.Command)
		} else if p, ok := v.filePath(a.key("command"), r.Command[0]); ok {
			out.Command = append([]string{p}, r.Command[1:]...)
		}
	}
	for _, d := range []struct {
		key  string
		raw  string
		into *time.Duration
	}{{"watcher_down_after", r.WatcherDownAfter, &out.WatcherDownAfter}, {"waiting_after", r.WaitingAfter, &out.WaitingAfter}} {
		if d.raw == "" {
			continue
		}
		if x, err := parseDuration(d.raw); err != nil {
			v.p.add(a.key(d.key), err)
		} else if x < time.Minute {
			v.p.addf(a.key(d.key), "%s is under a minute; a watcher reconnects and a reply waits that long in normal running", d.raw)
		} else {
			*d.into = x
		}
	}
	if r.DiskFreeBelow != "" {
		if n, err := parseSize(r.DiskFreeBelow); err != nil {
			v.p.add(a.key("disk_free_below"), err)
		} else {
			out.DiskFreeBelow = n
		}
	}
	if r.MaxPerHour != nil {
		if *r.MaxPerHour < 1 {
			v.p.addf(a.key("max_per_hour"), "%d: at least 1 (alerts over the limit wait; they are not dropped)", *r.MaxPerHour)
		} else {
			out.MaxPerHour = *r.MaxPerHour
		}
	}
	return out
}

// parseSize reads "500MB", "2GB", "1048576" (bytes); units are powers of 1024.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size; write e.g. 500MB or 2GB", s)
	}
	return n * mult, nil
}

// vendorOf returns the vendor whose support address or answering domain addr is at.
func vendorOf(c *Config, addr string) (string, bool) {
	_, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	for _, vd := range c.Vendors {
		for _, to := range vd.To {
			if a, err := parseAddress(to); err == nil {
				if _, d, _ := strings.Cut(strings.ToLower(a.Address), "@"); d == domain {
					return vd.Name, true
				}
			}
		}
		for _, d := range vd.Domains {
			if strings.EqualFold(d, domain) {
				return vd.Name, true
			}
		}
	}
	return "", false
}
