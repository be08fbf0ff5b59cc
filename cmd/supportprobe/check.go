package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/schedule"
)

const checkSynopsis = `check [--config FILE] [--next N] [--connect]

Validates the configuration and prints each vendor, its schedules and their next fire
times in UTC and in the schedule's own zone, and, with a mail.provider preset, every key
the preset filled in and how sent copies are kept. Passwords that are not set up yet are
warnings here (and errors for run), and so is an SLA target that cannot pass before
the vendor's deadline for some send times in the next year or over the configured
holidays (a business-clock target across a long holiday, say), naming those times:
unanswered, such probes end undecided, neither met nor breached. Exits 3 when the file is invalid, naming every
problem with its line or path.

With --connect it then talks to both mail servers, one step at a time (DNS, TCP, TLS,
login; for IMAP the folders and IDLE; for SMTP EHLO, AUTH and NOOP), and prints each
step's verdict and timing. Nothing is sent or changed. A failed step is named with what
to try, and check exits 1.`

const checkExample = `  supportprobe check --config configs/supportprobe.example.yaml
  supportprobe check --config /etc/supportprobe/supportprobe.yaml --connect`

type checkOpts struct {
	next    int
	connect bool
}

func checkCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "check", checkSynopsis, checkExample)
	load := configFlag(fs, e)
	var o checkOpts
	fs.IntVar(&o.next, "next", 3, "how many upcoming fire times to list per schedule")
	fs.BoolVar(&o.connect, "connect", false, "also connect and log in to the IMAP and SMTP servers, step by step")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; check takes only flags", fs.Arg(0))
	}
	if o.next < 0 {
		return usagef("--next %d: want 0 or more", o.next)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if err := runCheck(cfg, o, e); err != nil || !o.connect {
		return err
	}
	return runConnect(ctx, cfg, e)
}

func runCheck(cfg *configs.Config, o checkOpts, e *env) error {
	out := e.stdout
	now := e.now()
	fmt.Fprintf(out, "Configuration %s is valid.\n", cfg.Path)
	fmt.Fprintf(out, "State directory: %s\n", cfg.StateDir)
	fmt.Fprintf(out, "From: %s  (SMTP %s, %s; IMAP %s, %s, folders %s)\n\n", cfg.Mail.From.String(),
		cfg.Mail.SMTP.Addr(), cfg.Mail.SMTP.Security, cfg.Mail.IMAP.Addr(), cfg.Mail.IMAP.Security,
		strings.Join(folderEntries(cfg.Mail.IMAP.Folders), ", "))
	writePreset(cfg, e)
	writeOAuth(cfg, e)
	for _, v := range cfg.Vendors {
		hours := "24x7"
		if !v.Hours.AlwaysOpen() {
			sp := v.Hours.Spec()
			hours = fmt.Sprintf("%s %s-%s", strings.Join(sp.Days, ","), sp.Open, sp.Close)
			if n := len(sp.Holidays); n > 0 {
				hours += ", " + plural(n, "holiday", "holidays")
			}
		}
		fmt.Fprintf(out, "Vendor %s  to %s  zone %s, hours %s, deadline %s\n", v.Name, strings.Join(v.To, ", "),
			v.Hours.Location(), hours, v.Deadline)
		for _, p := range probe.Priorities {
			if t, ok := v.SLA[p]; ok {
				fmt.Fprintf(out, "  SLA %s: first response within %s (%s time)\n", p, t.FirstResponse, t.Clock)
			}
		}
		for i, s := range v.Schedules {
			spec, err := schedule.Parse(s.Spec, s.Location)
			if err != nil {
				return fmt.Errorf("%w: vendor %s: schedules[%d]: %w", errConfig, v.Name, i, err)
			}
			fmt.Fprintf(out, "  Schedule %d: %q in %s, scripts %s, jitter up to %s\n", i, s.Spec, s.Location,
				strings.Join(s.Scripts, ", "), s.Jitter)
			writeUpcoming(e, spec, now, o.next, v.Pauses)
		}
		for _, p := range v.Pauses {
			if p.Until.After(now) {
				fmt.Fprintf(out, "  Pause: %s\n", p.Reason())
			}
		}
		fmt.Fprintln(out)
	}
	if s := cfg.Summary; s != nil {
		spec, err := schedule.Parse(s.Spec, s.Location)
		if err != nil {
			return fmt.Errorf("%w: summary: %w", errConfig, err)
		}
		fmt.Fprintf(out, "Summary %q in %s to %s\n", s.Spec, s.Location, strings.Join(s.To, ", "))
		writeUpcoming(e, spec, now, o.next, nil)
	}
	if h := cfg.HTTP; h != nil {
		scheme, auth := "http", "none"
		if h.TLS() {
			scheme = "https"
		}
		switch a := h.Auth; {
		case a.BearerTokensFile != "" && a.BasicFile != "":
			auth = "bearer tokens or basic"
		case a.BearerTokensFile != "":
			auth = "bearer tokens"
		case a.BasicFile != "":
			auth = "basic"
		}
		where := "loopback only"
		if h.AllowRemote {
			where = "remote allowed"
		}
		fmt.Fprintf(out, "HTTP %s://%s  (%s; auth %s on every path but /healthz)\n", scheme, h.Listen, where, auth)
		if cfg.Dashboard.ReadOnly {
			fmt.Fprintf(out, "Dashboard %s://%s/  read-only (decide with review, mark, link; dashboard.read_only: false allows it on the page)\n", scheme, h.Listen)
		} else {
			fmt.Fprintf(out, "Dashboard %s://%s/  decisions allowed (dashboard.read_only: false): review and link from the page, audited\n", scheme, h.Listen)
		}
		if h.InsecurePlaintext {
			fmt.Fprintf(e.stderr, "warning: http.insecure_plaintext: remote access to %s without TLS: tokens, passwords and metrics cross the network in the clear, readable by anyone on the path; keep it to a network you trust, or set http.cert_file and http.key_file\n", h.Listen)
		}
		for _, err := range daemon.CheckHTTP(h) {
			fmt.Fprintf(e.stderr, "warning: %v; `supportprobe run` will refuse to start until it is fixed\n", err)
		}
	}
	// Targets that cannot pass before the deadline: such probes would end undecided.
	for _, w := range cfg.DeadlineWarnings(now) {
		fmt.Fprintf(e.stderr, "warning: %v\n", w)
	}
	problems := cfg.SecretProblems()
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "warning: %v\n", p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(e.stderr, "warning: %s not set up; `supportprobe run` will refuse to start until they are\n", plural(len(problems), "secret", "secrets"))
	}
	return nil
}

// writePreset says what the mail.provider preset filled in, and how the sent folder is
// chosen and kept.
func writePreset(cfg *configs.Config, e *env) {
	m := cfg.Mail
	out := e.stdout
	if m.Provider != configs.PresetGeneric {
		fmt.Fprintf(out, "Provider preset %s", m.Provider)
		if len(m.Preset) == 0 {
			fmt.Fprintf(out, ": every key it sets is written in the file\n")
		} else {
			fmt.Fprintf(out, " chose (keys written in the file win):\n")
			for _, c := range m.Preset {
				fmt.Fprintf(out, "  %s\n", c)
			}
		}
	}
	sent := fmt.Sprintf("%q (sent_folder)", m.IMAP.SentFolder)
	if m.IMAP.DiscoverSent {
		sent = fmt.Sprintf("the folder the server marks \\Sent, else %q", m.IMAP.SentFolder)
	}
	switch {
	case !m.IMAP.AppendSent:
		fmt.Fprintf(out, "Sent copies: not filed (append_sent: false); latencies use our clock without a skew correction\n\n")
	case m.IMAP.ProviderFilesSent:
		fmt.Fprintf(out, "Sent copies: %s files one itself; after each send supportprobe waits for it in %s and appends its own only if none appears\n\n", m.Provider, sent)
	default:
		fmt.Fprintf(out, "Sent copies: appended to %s, unless the server already filed one with the same Message-ID\n\n", sent)
	}
}

// writeOAuth says how the servers with auth: oauth2 get their tokens, and warns, with
// the command to run, when no sign-in has been stored yet.
func writeOAuth(cfg *configs.Config, e *env) {
	o := cfg.Mail.OAuth2
	if o == nil {
		return
	}
	var servers []string
	if cfg.Mail.IMAP.Auth == configs.AuthOAuth2 {
		servers = append(servers, "IMAP")
	}
	if cfg.Mail.SMTP.Auth == configs.AuthOAuth2 {
		servers = append(servers, "SMTP")
	}
	fmt.Fprintf(e.stdout, "OAuth 2.0 for %s: provider %s, client %s", strings.Join(servers, " and "), o.Provider, o.ClientID)
	if o.Tenant != "" {
		fmt.Fprintf(e.stdout, ", tenant %s", o.Tenant)
	}
	fmt.Fprintf(e.stdout, "\n  scopes %s\n  token endpoint %s\n", strings.Join(o.Scopes, " "), o.TokenURL)
	if fi, err := os.Stat(o.TokenFile); err == nil {
		fmt.Fprintf(e.stdout, "  signed in: %s (saved %s)\n\n", o.TokenFile, fi.ModTime().UTC().Format("2006-01-02 15:04 UTC"))
		return
	}
	fmt.Fprintf(e.stdout, "  not signed in yet: no %s\n\n", o.TokenFile)
	verb := "logs"
	if len(servers) > 1 {
		verb = "log"
	}
	fmt.Fprintf(e.stderr, "warning: mail.%s %s in with OAuth 2.0 but no token is stored yet: run `supportprobe login --config %s`\n",
		strings.ToLower(strings.Join(servers, " and mail.")), verb, cfg.Path)
}

// writeUpcoming lists spec's next n fire times, marking those that fall in one of the
// configured pauses (they will be recorded as skipped).
func writeUpcoming(e *env, spec schedule.Spec, now time.Time, n int, pauses []probe.Pause) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, t := range spec.Upcoming(now, n) {
		mark := ""
		if _, ok := probe.PauseAt(pauses, t); ok {
			mark = "\tpaused: skipped"
		}
		fmt.Fprintf(tw, "    next\t%s UTC\t%s%s\n", t.UTC().Format("Mon 2006-01-02 15:04"), t.Format("Mon 2006-01-02 15:04 MST"), mark)
	}
	tw.Flush()
}

// folderEntries writes the mail.imap.folders entries for people: names as they are, an
// attribute as "the folder marked \Junk" (which one, `check --connect` says).
func folderEntries(entries []string) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e
		if strings.HasPrefix(e, `\`) {
			out[i] = "the folder marked " + e
		}
	}
	return out
}
