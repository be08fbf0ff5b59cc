package daemon

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/store"
)

// ISOWeek names the ISO week holding t ("2026-W48").
func ISOWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// WeekStart returns Monday 00:00 in loc of the ISO week holding t.
func WeekStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	offset := (int(l.Weekday()) + 6) % 7 // days since Monday
	return time.Date(l.Year(), l.Month(), l.Day()-offset, 0, 0, 0, 0, loc)
}

// ParseWeek parses "2026-W48" and returns that week's Monday 00:00 and the next
// Monday 00:00 in loc.
func ParseWeek(s string, loc *time.Location) (since, until time.Time, err error) {
	ys, ws, ok := strings.Cut(strings.ToUpper(strings.TrimSpace(s)), "-W")
	y, yerr := strconv.Atoi(ys)
	w, werr := strconv.Atoi(ws)
	if !ok || yerr != nil || werr != nil || w < 1 || w > 53 {
		return time.Time{}, time.Time{}, fmt.Errorf("week %q: want an ISO week such as 2026-W48", s)
	}
	// 4 January is always in week 1.
	monday := WeekStart(time.Date(y, 1, 4, 12, 0, 0, 0, loc), loc)
	since = time.Date(monday.Year(), monday.Month(), monday.Day()+7*(w-1), 0, 0, 0, 0, loc)
	if ISOWeek(since) != fmt.Sprintf("%d-W%02d", y, w) {
		return time.Time{}, time.Time{}, fmt.Errorf("week %q: %d has no week %d", s, y, w)
	}
	return since, time.Date(since.Year(), since.Month(), since.Day()+7, 0, 0, 0, 0, loc), nil
}

// PreviousWeek returns the last full week (Monday to Sunday in loc) before t.
func PreviousWeek(t time.Time, loc *time.Location) (since, until time.Time, week string) {
	until = WeekStart(t, loc)
	since = time.Date(until.Year(), until.Month(), until.Day()-7, 0, 0, 0, 0, loc)
	return since, until, ISOWeek(since)
}

// Prober is where reports read probes from: the store, or the CLI's Source.
type Prober interface {
	Probes(ctx context.Context, f store.Filter) ([]probe.Probe, error)
}

// PauseLister is a Prober that also lists the pauses set by hand (the CLI's Source
// does).
type PauseLister interface {
	Pauses(ctx context.Context, vendor string, since, until time.Time) ([]probe.Pause, error)
}

// BuildReport reads the probes of [since, until) and of the period of equal length
// before it, and builds the report as of now. The vendors' paused time in the period
// comes from windows (the configured ones, ConfigPauses) and, when src is a
// PauseLister, the pauses set by hand.
func BuildReport(ctx context.Context, src Prober, vendor string, since, until, now time.Time, title string, windows []probe.Pause) (report.Report, error) {
	// The report reads only what figures read: the store decodes that alone
	// (store.Filter.FiguresOnly); a source that cannot gives whole probes, which build
	// the same report.
	cur, err := src.Probes(ctx, store.Filter{Vendor: vendor, Since: since, Until: until, FiguresOnly: true})
	if err != nil {
		return report.Report{}, err
	}
	prevSince := since.Add(-until.Sub(since))
	prev, err := src.Probes(ctx, store.Filter{Vendor: vendor, Since: prevSince, Until: since, FiguresOnly: true})
	if err != nil {
		return report.Report{}, err
	}
	pauses := slices.Clone(windows)
	if pl, ok := src.(PauseLister); ok {
		stored, err := pl.Pauses(ctx, vendor, since, until)
		if err != nil {
			return report.Report{}, err
		}
		pauses = append(pauses, stored...)
	}
	return report.Build(cur, prev, report.Options{Since: since, Until: until, PrevSince: prevSince, Now: now, Title: title, Pauses: pauses})
}

// Size budget of the summary mail's attachments, before base64 (which adds a third):
// the breach CSV goes as it is up to plainCSVLimit, zipped above, and the zip is cut to
// zipLimit; the per-probe CSV goes along while it is small. With the text and HTML
// parts, which grow with the vendors and not the probes, the whole mail stays under
// 2 MB at any number of probes.
const (
	plainCSVLimit = 512 << 10
	zipLimit      = 1 << 20
	probeCSVLimit = 256 << 10
)

// SummaryMail renders a report as the summary mail a buyer reads in one minute: text
// and HTML alternatives of the summary (report.WriteSummaryText, WriteSummaryHTML:
// headlines, a compact table per vendor, the first report.DefaultMaxBreaches breaches),
// the whole breach list attached as CSV (zipped when large, and only then possibly cut
// to keep the mail small, which the mail says), and the per-probe CSV while it is
// small. The full report is one command away, which the mail names.
func SummaryMail(cfg *configs.Config, r report.Report, week string, now time.Time) (mailbox.Summary, error) {
	breaches, rows, err := breachAttachment(r, week)
	if err != nil {
		return mailbox.Summary{}, fmt.Errorf("summary %s: breach list: %w", week, err)
	}
	atts := []mailbox.Attachment{breaches}
	// The per-probe CSV is written only up to its limit: at 100,000 probes the whole
	// would be megabytes made to be thrown away.
	probes := &cappedBuffer{limit: probeCSVLimit}
	small := true
	if err := r.WriteCSV(probes); errors.Is(err, errOverCap) {
		small = false
	} else if err != nil {
		return mailbox.Summary{}, fmt.Errorf("summary %s: probe list: %w", week, err)
	}
	span := fmt.Sprintf("--since %s --until %s", r.Since.UTC().Format(time.RFC3339), r.Until.UTC().Format(time.RFC3339))
	more := fmt.Sprintf("The full report, every breakdown and chart: supportprobe report %s --format html --out report.html.", span)
	if small {
		atts = append(atts, mailbox.Attachment{Name: "supportprobe-" + week + ".csv", ContentType: "text/csv; charset=utf-8", Data: probes.Bytes()})
	} else {
		more += fmt.Sprintf(" The %d probes, one row each, are not attached at this size: supportprobe report %s --format csv.", len(r.Probes), span)
	}
	opts := report.SummaryOptions{Attachment: breaches.Name, AttachedBreaches: rows, More: more,
		AllBreaches: "supportprobe report " + span + " --format breaches"}
	var text, html bytes.Buffer
	if err := r.WriteSummaryText(&text, opts); err != nil {
		return mailbox.Summary{}, fmt.Errorf("summary %s: text: %w", week, err)
	}
	if err := r.WriteSummaryHTML(&html, opts); err != nil {
		return mailbox.Summary{}, fmt.Errorf("summary %s: HTML: %w", week, err)
	}
	return mailbox.Summary{
		From:        cfg.Mail.From.String(),
		To:          cfg.Summary.To,
		Subject:     "supportprobe weekly summary " + week,
		Text:        text.String(),
		HTML:        html.String(),
		Attachments: atts,
		Date:        now,
	}, nil
}

// breachAttachment returns the breach list as the mail attaches it, and how many
// breaches it holds: the CSV itself while it is at most plainCSVLimit, else the CSV in
// a zip, cut to the first rows whose zip fits zipLimit if the whole does not. The CSV
// is written once; a cut zips the first rows of the same bytes.
func breachAttachment(r report.Report, week string) (mailbox.Attachment, int, error) {
	name := "supportprobe-" + week + "-breaches"
	var plain bytes.Buffer
	if err := r.WriteBreachCSV(&plain, 0); err != nil {
		return mailbox.Attachment{}, 0, err
	}
	if plain.Len() <= plainCSVLimit {
		return mailbox.Attachment{Name: name + ".csv", ContentType: "text/csv; charset=utf-8", Data: plain.Bytes()}, len(r.Breaches), nil
	}
	ends := csvRowEnds(plain.Bytes())
	if len(ends) != len(r.Breaches)+1 {
		return mailbox.Attachment{}, 0, fmt.Errorf("the breach CSV has %d rows for %d breaches and a header", len(ends), len(r.Breaches))
	}
	// Deflating megabytes of CSV twice (the whole, then the rows that fit) was most of
	// the mail's cost: the first guess comes from deflating a sample of the rows
	// instead, and only a guess that does not fit is made again.
	n := len(r.Breaches)
	if est := zipEstimate(plain.Bytes(), ends); est > zipLimit {
		n = max(1, int(float64(n)*float64(zipLimit)/float64(est)*0.95))
	}
	for {
		z, err := zipCSV(plain.Bytes()[:ends[n]], name+".csv", r.GeneratedAt)
		if err != nil {
			return mailbox.Attachment{}, 0, err
		}
		if len(z) <= zipLimit || n <= 1 {
			return mailbox.Attachment{Name: name + ".zip", ContentType: "application/zip", Data: z}, n, nil
		}
		// Rows compress alike: scale down by the overshoot, with a margin.
		n = max(1, int(float64(n)*float64(zipLimit)/float64(len(z))*0.95))
	}
}

// csvRowEnds returns the offset just after each record of the CSV in b (header
// included), as encoding/csv writes it with UseCRLF: a record ends at a CRLF outside
// quotes; a doubled quote inside a quoted field toggles twice and changes nothing.
func csvRowEnds(b []byte) []int {
	var ends []int
	quoted := false
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '"':
			quoted = !quoted
		case !quoted && b[i] == '\n' && i > 0 && b[i-1] == '\r':
			ends = append(ends, i+1)
		}
	}
	return ends
}

// zipSample is how many bytes of CSV zipEstimate deflates.
const zipSample = 256 << 10

// zipEstimate returns the size the whole CSV in b (records ending at ends) would take
// zipped, from zipping its first zipSample bytes or so; 0 when the sample cannot be
// zipped, which makes no guess.
func zipEstimate(b []byte, ends []int) int {
	i, _ := slices.BinarySearch(ends, zipSample)
	if i >= len(ends)-1 {
		return 0 // the sample would be (nearly) the whole
	}
	z, err := zipCSV(b[:ends[i]], "sample.csv", time.Time{})
	if err != nil {
		return 0
	}
	return int(float64(len(z)) * float64(len(b)) / float64(ends[i]))
}

// zipCSV returns a zip archive holding csv as the file name, modified at modified.
func zipCSV(csv []byte, name string, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(csv); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// errOverCap is returned by a cappedBuffer written past its limit.
var errOverCap = errors.New("past the size limit")

// cappedBuffer is a buffer that refuses, with errOverCap, a write that would take it
// past limit bytes.
type cappedBuffer struct {
	bytes.Buffer
	limit int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.Len()+len(p) > c.limit {
		return 0, errOverCap
	}
	return c.Buffer.Write(p)
}

// sendSummary sends the summary of the last full week before scheduledAt, once per ISO
// week: a week already recorded is skipped, so a restart or a catch-up never sends it
// twice.
func (d *Daemon) sendSummary(ctx context.Context, scheduledAt time.Time) error {
	s := d.config().Summary
	since, until, week := PreviousWeek(scheduledAt, s.Location)
	if _, sent, err := d.db.SummaryFor(week); err != nil {
		return err
	} else if sent {
		d.log.Info("summary already sent", "week", week)
		return nil
	}
	title := fmt.Sprintf("Week %s (%s – %s, %s)", week, since.Format("Mon 2 Jan"), until.AddDate(0, 0, -1).Format("Mon 2 Jan 2006"), s.Location)
	r, err := BuildReport(ctx, local{d.db}, "", since.UTC(), until.UTC(), d.opts.Now(), title, ConfigPauses(d.config(), "", since, until))
	if err != nil {
		return fmt.Errorf("summary %s: %w", week, err)
	}
	m, err := SummaryMail(d.config(), r, week, d.opts.Now())
	if err != nil {
		return fmt.Errorf("summary %s: %w", week, err)
	}
	ms, ok := d.sender.(*mailbox.Sender)
	if !ok {
		return fmt.Errorf("summary %s: the configured sender cannot send summaries", week)
	}
	res, err := ms.SendSummary(ctx, m)
	if err != nil {
		return fmt.Errorf("summary %s to %s: %w", week, strings.Join(m.To, ", "), err)
	}
	err = d.db.RecordSummary(store.Summary{Week: week, SentAt: res.AcceptedAt.UTC(), MessageID: m.MessageID, To: m.To})
	if errors.Is(err, store.ErrSummarySent) {
		return nil
	}
	d.log.Info("summary sent", "week", week, "to", strings.Join(m.To, ", "))
	return err
}

// EmailRequest asks the daemon to mail the summary of a period now (POST /v1/summary),
// as `report --email` does: through the daemon, the CLI needs none of its secrets.
type EmailRequest struct {
	Vendor string    `json:"vendor,omitempty"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	Title  string    `json:"title"`
	Week   string    `json:"week"`
}

// EmailResult says whom the summary went to.
type EmailResult struct {
	To []string `json:"to"`
}

// EmailSummary builds the report of req's period as of now and mails it to summary.to
// through the daemon's SMTP sender. Unlike the scheduled summary it is not recorded, so
// it may be sent again.
func (d *Daemon) EmailSummary(ctx context.Context, req EmailRequest) (EmailResult, error) {
	cfg := d.config()
	if cfg.Summary == nil {
		return EmailResult{}, fmt.Errorf("the daemon's configuration has no summary: section (its to: addresses); add one and run `supportprobe reload`")
	}
	now := d.opts.Now()
	r, err := BuildReport(ctx, local{d.db}, req.Vendor, req.Since.UTC(), req.Until.UTC(), now, req.Title, ConfigPauses(cfg, req.Vendor, req.Since, req.Until))
	if err != nil {
		return EmailResult{}, err
	}
	m, err := SummaryMail(cfg, r, req.Week, now)
	if err != nil {
		return EmailResult{}, err
	}
	ms, ok := d.sender.(*mailbox.Sender)
	if !ok {
		return EmailResult{}, fmt.Errorf("summary %s: the daemon's sender cannot send summaries", req.Week)
	}
	if _, err := ms.SendSummary(ctx, m); err != nil {
		return EmailResult{}, fmt.Errorf("summary %s to %s: %w", req.Week, strings.Join(m.To, ", "), err)
	}
	d.log.Info("summary sent on request", "week", req.Week, "title", req.Title, "to", strings.Join(m.To, ", "))
	return EmailResult{To: m.To}, nil
}
