package dashboard

import (
	"fmt"
	"net/url"
	"time"
)

// Period is the span of probes a page shows, selected by ?period=: probes are taken
// by the time they were created in [Since, Until), as history and report take them.
type Period struct {
	// Name is 7d (the default), week, lastweek, all or custom.
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Text says the period in words, with its zone.
	Text string `json:"text"`
}

// Periods are the values ?period= accepts, in the order the page offers them.
var Periods = []string{"7d", "week", "lastweek", "all", "custom"}

// weekStart returns Monday 00:00 in loc of the week holding t (as daemon.WeekStart).
func weekStart(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	offset := (int(l.Weekday()) + 6) % 7
	return time.Date(l.Year(), l.Month(), l.Day()-offset, 0, 0, 0, 0, loc)
}

// parseTime reads a custom bound: a date (midnight in loc) or an RFC 3339 time.
func parseTime(name, s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %s %q: want a date such as 2026-11-23 or an RFC 3339 time such as 2026-11-23T08:00:00Z", errBadRequest, name, s)
}

// parsePeriod reads ?period= (and since, until for custom) as of now. first is the
// creation time of the oldest probe, for "all"; zero when there is none.
func parsePeriod(q url.Values, now time.Time, loc *time.Location, first func() (time.Time, error)) (Period, error) {
	p := Period{Name: q.Get("period")}
	if p.Name == "" {
		p.Name = "7d"
	}
	layout := "Mon 2 Jan 2006 15:04"
	switch p.Name {
	case "7d":
		p.Since, p.Until = now.Add(-7*24*time.Hour), now
		p.Text = "the last 7 days"
	case "week":
		p.Since = weekStart(now, loc)
		p.Until = p.Since.AddDate(0, 0, 7)
		p.Text = "this week (from " + p.Since.Format("Mon 2 Jan 2006") + ", " + loc.String() + ")"
	case "lastweek":
		p.Until = weekStart(now, loc)
		p.Since = p.Until.AddDate(0, 0, -7)
		p.Text = "last week (" + p.Since.Format("Mon 2 Jan") + " – " + p.Until.AddDate(0, 0, -1).Format("Mon 2 Jan 2006") + ", " + loc.String() + ")"
	case "all":
		f, err := first()
		if err != nil {
			return Period{}, err
		}
		if f.IsZero() || !f.Before(now) {
			f = now.Add(-time.Second)
		}
		p.Since, p.Until = f, now.Add(time.Second)
		p.Text = "the whole trial (since " + f.In(loc).Format(layout) + ", " + loc.String() + ")"
	case "custom":
		s, u := q.Get("since"), q.Get("until")
		if s == "" || u == "" {
			return Period{}, fmt.Errorf("%w: period=custom needs since and until: want both, e.g. ?period=custom&since=2026-11-23&until=2026-11-30", errBadRequest)
		}
		var err error
		if p.Since, err = parseTime("since", s, loc); err != nil {
			return Period{}, err
		}
		if p.Until, err = parseTime("until", u, loc); err != nil {
			return Period{}, err
		}
		if !p.Until.After(p.Since) {
			return Period{}, fmt.Errorf("%w: until %s is not after since %s", errBadRequest, u, s)
		}
		p.Text = p.Since.In(loc).Format(layout) + " – " + p.Until.In(loc).Format(layout) + " (" + loc.String() + ")"
	default:
		return Period{}, fmt.Errorf("%w: period %q: want one of 7d, week, lastweek, all, custom", errBadRequest, p.Name)
	}
	p.Since, p.Until = p.Since.UTC(), p.Until.UTC()
	return p, nil
}

// query returns the period's query parameters, for links that keep it.
func (p Period) query() []string {
	if p.Name == "custom" {
		return []string{"period", p.Name, "since", p.Since.Format(time.RFC3339), "until", p.Until.Format(time.RFC3339)}
	}
	if p.Name == "7d" {
		return nil
	}
	return []string{"period", p.Name}
}
