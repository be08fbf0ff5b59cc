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
)

const reportSynopsis = `report [--config FILE] [--since T --until T | --week 2026-W48] [--vendor V]
       [--format text|html|json|csv] [--out FILE] [--email]

Prints the figures of a period: counts, time to first sign of life (acknowledgement or
answer) and to first response (median, p90 and max from the Kaplan–Meier estimate, so unanswered and open
probes count; "> X" when the estimate is not reached), SLA attainment with 95% Wilson
intervals, breaches first, and the change against the period before. The default period
is the last full week (Monday to Sunday in summary.timezone, else UTC). --email sends the
weekly summary mail (text and HTML, CSV attached) to summary.to now; the week is not
marked as sent, so the scheduled summary still goes out.`

const reportExample = `  supportprobe report --week 2026-W48
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
	fs.StringVar(&o.week, "week", "", "an ISO `week` such as 2026-W48, in summary.timezone")
	fs.StringVar(&o.vendor, "vendor", "", "only this `vendor`")
	fs.StringVar(&o.format, "format", "text", "output `format`: text, html, json or csv")
	fs.StringVar(&o.out, "out", "", "write to `file` instead of standard output")
	fs.BoolVar(&o.email, "email", false, "send the summary mail to summary.to now")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; report takes only flags", fs.Arg(0))
	}
	if !slices.Contains([]string{"text", "html", "json", "csv"}, o.format) {
		return usagef("--format %q: want text, html, json or csv", o.format)
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
	since, until, week := o.since, o.until, ""
	switch {
	case o.week != "":
		var err error
		if since, until, err = daemon.ParseWeek(o.week, loc); err != nil {
			return usagef("--week: %v", err)
		}
		week = daemon.ISOWeek(since)
	case since.IsZero() && until.IsZero():
		since, until, week = daemon.PreviousWeek(now, loc)
	case since.IsZero() || until.IsZero():
		return usagef("give both --since and --until, e.g. --since 2026-11-01 --until 2026-12-01")
	}
	if !until.After(since) {
		return usagef("--until %s is not after --since %s", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	title := fmt.Sprintf("%s to %s", since.Format("Mon 2 Jan 2006 15:04 MST"), until.Format("Mon 2 Jan 2006 15:04 MST"))
	if week != "" {
		title = fmt.Sprintf("Week %s (%s – %s, %s)", week, since.Format("Mon 2 Jan"), until.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), loc)
	} else {
		week = daemon.ISOWeek(since)
	}
	if o.vendor != "" {
		title += ", vendor " + o.vendor
	}
	src, err := openSource(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer src.Close()
	r, err := daemon.BuildReport(ctx, src, o.vendor, since.UTC(), until.UTC(), now, title, daemon.ConfigPauses(cfg, o.vendor, since, until))
	if err != nil {
		return err
	}
	if o.email {
		return emailReport(ctx, cfg, r, week, e)
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

func writeReport(w io.Writer, r report.Report, format string) error {
	switch format {
	case "html":
		return r.WriteHTML(w)
	case "json":
		return r.WriteJSON(w)
	case "csv":
		return r.WriteCSV(w)
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
	if _, err := mailbox.NewSender(srv, mailbox.SenderOptions{Now: e.now}).SendSummary(ctx, m); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "summary %s sent to %s\n", week, strings.Join(m.To, ", "))
	return nil
}
