package schedule

import (
	"context"
	"fmt"
	"maps"
	"time"

	"supportprobe/probe"
)

// ProbeTimes lists when a vendor's probes were created; the store implements it.
type ProbeTimes interface {
	// ProbeTimes returns the creation times of vendor's probes created at or after
	// since, in any order. Whether failed probes (which never reached the vendor) are
	// left out is the implementer's business.
	ProbeTimes(ctx context.Context, vendor string, since time.Time) ([]time.Time, error)
}

// VendorLimits are a vendor's limits and the zone its calendar days and weeks are
// counted in; a nil Location means UTC.
type VendorLimits struct {
	probe.Limits
	Location *time.Location
}

// NewLimiter returns a Limiter that enforces limits per vendor name on the probe times
// src reports. MaxPerDay and MaxPerWeek count calendar windows in the vendor's zone:
// the probes created since local midnight of the current day, and since Monday 00:00
// local of the current ISO week. MinSpacing is rolling: the time since the latest
// probe. Probes created later than now count too (a clock step must not free a limit).
// Zero values, and vendors not in limits, mean no limit; such vendors cost no query.
// limits is copied. The Limiter is safe for concurrent use if src is.
//
// The windows are calendar ones because limits are checked when a fire is about to
// send, after its jitter: with a rolling 24 hours, max_per_day 1 and a daily jittered
// schedule would hold back every fire whose jitter is shorter than the previous day's.
// A calendar day also is what "max_per_day: 2" reads as: at most two probes on any
// day on the vendor's calendar.
func NewLimiter(limits map[string]VendorLimits, src ProbeTimes) Limiter {
	return &limiter{limits: maps.Clone(limits), src: src}
}

type limiter struct {
	limits map[string]VendorLimits
	src    ProbeTimes
}

// Allow reports whether vendor may get a probe at now; when not, reason names the limit,
// for example "max_per_day 2 reached: 2 probes on 2026-11-28 (America/Los_Angeles)",
// "max_per_week 3 reached: 3 probes in week 2026-W48 (America/Los_Angeles)" or
// "min_spacing 2h: last probe 35m ago".
func (l *limiter) Allow(ctx context.Context, vendor string, now time.Time) (bool, string, error) {
	lim, ok := l.limits[vendor]
	if !ok || lim.MaxPerDay <= 0 && lim.MaxPerWeek <= 0 && lim.MinSpacing <= 0 {
		return true, "", nil
	}
	loc := lim.Location
	if loc == nil {
		loc = time.UTC
	}
	local := now.In(loc)
	y, m, d := local.Date()
	dayStart := startOfDay(y, m, d, loc)
	// Monday of the ISO week holding now: Weekday counts from Sunday.
	weekStart := startOfDay(y, m, d-(int(local.Weekday())+6)%7, loc)

	var since time.Time
	earliest := func(t time.Time) {
		if since.IsZero() || t.Before(since) {
			since = t
		}
	}
	if lim.MaxPerDay > 0 {
		earliest(dayStart)
	}
	if lim.MaxPerWeek > 0 {
		earliest(weekStart)
	}
	if lim.MinSpacing > 0 {
		earliest(now.Add(-lim.MinSpacing))
	}
	times, err := l.src.ProbeTimes(ctx, vendor, since)
	if err != nil {
		return false, "", fmt.Errorf("vendor %s: probe times since %s: %w", vendor, since.UTC().Format(time.RFC3339), err)
	}
	isoYear, isoWeek := local.ISOWeek()
	for _, c := range []struct {
		name   string
		max    int
		start  time.Time
		period string
	}{
		{"max_per_day", lim.MaxPerDay, dayStart, "on " + local.Format(time.DateOnly)},
		{"max_per_week", lim.MaxPerWeek, weekStart, fmt.Sprintf("in week %d-W%02d", isoYear, isoWeek)},
	} {
		if c.max <= 0 {
			continue
		}
		if n := countSince(times, c.start); n >= c.max {
			noun := "probes"
			if n == 1 {
				noun = "probe"
			}
			return false, fmt.Sprintf("%s %d reached: %d %s %s (%s)", c.name, c.max, n, noun, c.period, loc), nil
		}
	}
	if lim.MinSpacing > 0 && len(times) > 0 {
		last := times[0]
		for _, t := range times[1:] {
			if t.After(last) {
				last = t
			}
		}
		if ago := now.Sub(last); ago < lim.MinSpacing {
			return false, fmt.Sprintf("min_spacing %s: last probe %s ago", fmtDuration(lim.MinSpacing), fmtDuration(ago)), nil
		}
	}
	return true, "", nil
}

// startOfDay returns the first instant of the date y-m-d (normalised, so d may be out
// of range) in loc: local midnight, or where a DST change skips midnight (as in
// America/Santiago) the instant the clocks jump, which time.Date may otherwise place
// on the previous day.
func startOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d {
		// Midnight fell in a gap and t landed before it, on the previous day: the day
		// starts where the zone in effect at t ends.
		if _, end := t.ZoneBounds(); end.After(t) {
			t = end
		}
	}
	return t
}

// countSince counts the times at or after since (later than now too: a clock step must
// not free a limit).
func countSince(times []time.Time, since time.Time) int {
	n := 0
	for _, t := range times {
		if !t.Before(since) {
			n++
		}
	}
	return n
}
