package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe/daemon"
	"supportprobe/probe/report"
	"supportprobe/store"
)

const reportSynopsis = `report [--config FILE] [--since T [--until T] | --week 2026-W48|this] [--vendor V]
       [--format text|html|json|csv|breaches] [--out FILE] [--email]

Prints the figures of a period: counts, time to first sign of life (acknowledgement or
answer) and to first response (median, p90 and max from the Kaplan–Meier estimate, so unanswered and open
probes count; "> X" when the estimate is not reached), SLA attainment with 95% Wilson
intervals, breaches first, and the change against the period before. Without a period
it covers the last 7 days up to now; --since alone runs to now; --week takes an ISO week
(Monday to Sunday in summary.timezone, else UTC) or "this" for the week so far.

--format csv writes one row per probe; --format breaches one row per SLA breach (RFC 4180,
the columns of history --format json, plus each reply's DKIM result).

--email sends the weekly summary mail (headlines, a table per vendor, the first 50
breaches; the breach list attached as CSV) to summary.to now;
without a period it mails the last full week, as the scheduled summary does, and refuses
when that week had no probes (name the week to mail it anyway, or --week this). The week
is not marked as sent, so the scheduled summary still goes out.`

const reportExample = `  supportprobe report
  supportprobe report --week 2026-W48
  supportprobe report --vendor acme-cloud --since 2026-11-01 --until 2026-12-01 --format html --out acme.html`

type reportOpts struct {
	since, until time.Time
	week         string
	vendor       string
	format       string
	out          string
	email        bool
}

func reportCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", reportSynopsis, reportExample)
	load := configFlag(fs, e)
	var o reportOpts
	var since, until string
	fs.StringVar(&since, "since", "", "period start, a date or an RFC 3339 `time`")
	fs.StringVar(&until, "until", "", "period end (exclusive), a date or an RFC 3339 `time`")
	fs.StringVar(&o.week, "week", "", "an ISO `week` such as 2026-W48, in summary.timezone, or \"this\" for the week so far")
	fs.StringVar(&o.vendor, "vendor", "", "only this `vendor`")
	fs.StringVar(&o.format, "format", "text", "output `format`: text, html, json, csv (a row per probe) or breaches (a row per breach, CSV)")
	fs.StringVar(&o.out, "out", "", "write to `file` instead of standard output")
	fs.BoolVar(&o.email, "email", false, "send the summary mail to summary.to now")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; report takes only flags", fs.Arg(0))
	}
	if !slices.Contains([]string{"text", "html", "json", "csv", "breaches"}, o.format) {
		return usagef("--format %q: want text, html, json, csv or breaches", o.format)
	}
	if o.week != "" && (since != "" || until != "") {
		return usagef("give either --week or --since/--until, not both")
	}
	var err error
	if o.since, err = parseTimeFlag("since", since); err != nil {
		return err
	}
	if o.until, err = parseTimeFlag("until", until); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if o.email && cfg.Summary == nil {
		return usagef("--email needs a summary: section (its to: addresses) in %s", cfg.Path)
	}
	return runReport(ctx, cfg, o, e)
}

func runReport(ctx context.Context, cfg *configs.Config, o reportOpts, e *env) error {
	loc := time.UTC
	if cfg.Summary != nil {
		loc = cfg.Summary.Location
	}
	now := e.now()
	p, err := reportPeriod(o, now, loc)
	if err != nil {
		return err
	}
	title := p.title
	if o.vendor != "" {
		title += ", vendor " + o.vendor
	}
	src, err := openSource(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer src.Close()
	if o.vendor != "" {
		if err := checkVendor(ctx, cfg, src, o.vendor); err != nil {
			return err
		}
	}
	r, err := daemon.BuildReport(ctx, src, o.vendor, p.since.UTC(), p.until.UTC(), now, title, daemon.ConfigPauses(cfg, o.vendor, p.since, p.until))
	if err != nil {
		return err
	}
	if o.email && r.Totals.Total == 0 {
		if p.defaulted {
			return fmt.Errorf("week %s had no probes, so no summary was mailed; to mail it all the same: --week %s; to mail the week so far: --week this", p.week, p.week)
		}
		fmt.Fprintf(e.stderr, "supportprobe: note: %s has no probes; the summary mailed says so\n", p.title)
	}
	if o.email {
		if c, ok := src.(*daemon.Client); ok {
			// The daemon mails it with its own SMTP credentials: the CLI needs none.
			res, err := c.EmailSummary(ctx, daemon.EmailRequest{Vendor: o.vendor, Since: p.since, Until: p.until, Title: title, Week: p.week})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "summary %s sent to %s by %s\n", p.week, strings.Join(res.To, ", "), c.Via())
			return nil
		}
		return emailReport(ctx, cfg, r, p.week, e)
	}
	w := e.stdout
	if o.out != "" {
		f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		defer f.Close()
		w = f
	}
	if err := writeReport(w, r, o.format); err != nil {
		return err
	}
	if o.out != "" {
		fmt.Fprintf(e.stderr, "report written to %s\n", o.out)
	}
	return nil
}

// period is the span a report covers and how to name it.
type period struct {
	since, until time.Time
	// week is the ISO week the summary mail is filed under: the week named, else the
	// week holding since.
	week  string
	title string
	// defaulted is true when --email chose the week itself (the last full week).
	defaulted bool
}

// reportPeriod works out the period from the flags: --week (an ISO week, or "this" for
// the week so far), --since and --until (--since alone runs to now), else the last 7
// days up to now; --email without a period takes the last full week, as the scheduled
// summary does. Weeks are in loc.
func reportPeriod(o reportOpts, now time.Time, loc *time.Location) (period, error) {
	const day, stamp = "Mon 2 Jan", "Mon 2 Jan 2006 15:04 MST"
	nowText := now.In(loc).Format(stamp)
	var p period
	switch {
	case strings.EqualFold(o.week, "this"):
		p.since, p.until = daemon.WeekStart(now, loc), now
		p.week = daemon.ISOWeek(p.since)
		p.title = fmt.Sprintf("Week %s so far (%s – now, %s)", p.week, p.since.Format(day), nowText)
	case o.week != "":
		var err error
		if p.since, p.until, err = daemon.ParseWeek(o.week, loc); err != nil {
			return p, usagef("--week: %v (or --week this for the week so far)", err)
		}
		p.week = daemon.ISOWeek(p.since)
		p.title = fmt.Sprintf("Week %s (%s – %s, %s)", p.week, p.since.Format(day), p.until.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), loc)
		if p.until.After(now) {
			p.title = fmt.Sprintf("Week %s so far (%s – now, %s)", p.week, p.since.Format(day), nowText)
		}
	case o.since.IsZero() && o.until.IsZero() && o.email:
		p.since, p.until, p.week = daemon.PreviousWeek(now, loc)
		p.defaulted = true
		p.title = fmt.Sprintf("Week %s (%s – %s, %s)", p.week, p.since.Format(day), p.until.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), loc)
	case o.since.IsZero() && o.until.IsZero():
		p.since, p.until = now.AddDate(0, 0, -7), now
		p.title = fmt.Sprintf("Last 7 days (%s to now, %s)", p.since.In(loc).Format("Mon 2 Jan 15:04"), nowText)
	case o.until.IsZero():
		p.since, p.until = o.since, now
		p.title = fmt.Sprintf("%s to now (%s)", o.since.In(loc).Format(stamp), nowText)
	case o.since.IsZero():
		return p, usagef("--until needs --since, e.g. --since 2026-11-01 --until 2026-12-01")
	default:
		p.since, p.until = o.since, o.until
		p.title = fmt.Sprintf("%s to %s", o.since.In(loc).Format(stamp), o.until.In(loc).Format(stamp))
	}
	if !p.until.After(p.since) {
		return p, usagef("the period ends (%s) before it starts (%s)", p.until.Format(time.RFC3339), p.since.Format(time.RFC3339))
	}
	if p.week == "" {
		p.week = daemon.ISOWeek(p.since)
	}
	return p, nil
}

// checkVendor refuses a vendor that is neither in the configuration nor on record
// (a vendor removed from the file keeps its history), naming those that are.
func checkVendor(ctx context.Context, cfg *configs.Config, src daemon.Source, name string) error {
	if _, ok := cfg.Vendor(name); ok {
		return nil
	}
	if ps, err := src.Probes(ctx, store.Filter{Vendor: name}); err != nil || len(ps) > 0 {
		return err
	}
	var known []string
	for _, v := range cfg.Vendors {
		known = append(known, v.Name)
	}
	all, err := src.Probes(ctx, store.Filter{})
	if err != nil {
		return err
	}
	for _, p := range all {
		if !slices.Contains(known, p.Vendor) {
			known = append(known, p.Vendor)
		}
	}
	return fmt.Errorf("vendor %q: %w (%s) and has no probes on record; known vendors: %s",
		name, daemon.ErrUnknownVendor, cfg.Path, strings.Join(known, ", "))
}

func writeReport(w io.Writer, r report.Report, format string) error {
	switch format {
	case "html":
		return r.WriteHTML(w)
	case "json":
		return r.WriteJSON(w)
	case "csv":
		return r.WriteCSV(w)
	case "breaches":
		return r.WriteBreachCSV(w, 0)
	default:
		return r.WriteText(w)
	}
}

func emailReport(ctx context.Context, cfg *configs.Config, r report.Report, week string, e *env) error {
	if problems := cfg.SecretProblems(); len(problems) > 0 {
		return fmt.Errorf("%w: passwords not set up: %v", errConfig, problems)
	}
	m, err := daemon.SummaryMail(cfg, r, week, e.now())
	if err != nil {
		return err
	}
	srv, err := daemon.MailServer("smtp", cfg.Mail.SMTP)
	if err != nil {
		return err
	}
	if _, err := mailbox.NewSender(srv, mailbox.SenderOptions{Now: e.now, Backoff: e.smtpBackoff, RetryWindow: e.smtpRetryWindow}).SendSummary(ctx, m); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "summary %s sent to %s\n", week, strings.Join(m.To, ", "))
	return nil
}
