// Package schedule decides when inquiries go out: cron specs evaluated in each
// schedule's own time zone (robfig/cron v3), with the zone given as its own field and
// the CRON_TZ= prefix built here, never typed by the user.
//
// # Daylight saving
//
// robfig/cron evaluates a spec on real instants, so a wall time inside a spring-forward
// gap (02:30 on the night clocks jump from 02:00 to 03:00) never matches and the fire is
// skipped, and a wall time inside a repeated fall-back hour matches twice. A probe that
// silently skips the one night it was meant for, or goes out twice, is wrong evidence.
// Spec therefore evaluates the cron fields on the wall clock of its zone and maps each
// wall time back to an instant: a wall time that does not exist fires once at the first
// instant after the gap (03:00), and a repeated wall time fires once, at its first
// occurrence.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Spec is a parsed five-field cron spec pinned to a time zone.
type Spec struct {
	text  string
	loc   *time.Location
	sched cron.Schedule
}

// Parse parses a standard five-field cron spec (or a descriptor such as @daily) to be
// evaluated in loc. A TZ= or CRON_TZ= prefix inside spec is refused: the zone is its
// own configuration field, and robfig/cron panics on some malformed prefixes.
func Parse(spec string, loc *time.Location) (Spec, error) {
	if loc == nil {
		return Spec{}, fmt.Errorf("cron %q: no time zone given", spec)
	}
	trimmed := strings.TrimSpace(spec)
	if up := strings.ToUpper(trimmed); strings.HasPrefix(up, "TZ=") || strings.HasPrefix(up, "CRON_TZ=") {
		return Spec{}, fmt.Errorf("cron %q: remove the TZ= prefix and set the schedule's timezone field instead", spec)
	}
	// Validate in the real zone, as the user wrote it, then evaluate on the wall clock:
	// the fields parsed in UTC, where no day has a gap or a repeated hour.
	if _, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + trimmed); err != nil {
		return Spec{}, fmt.Errorf("cron %q: %w", spec, err)
	}
	wall, err := cron.ParseStandard("CRON_TZ=UTC " + trimmed)
	if err != nil {
		return Spec{}, fmt.Errorf("cron %q: %w", spec, err)
	}
	return Spec{text: trimmed, loc: loc, sched: wall}, nil
}

// toWall returns t's wall-clock reading in loc as a UTC time.
func toWall(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
}

// fromWall returns the instant at which loc's clock first reads w, or, when w falls in a
// gap, the first instant after the gap.
func fromWall(w time.Time, loc *time.Location) time.Time {
	t := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), loc)
	switch got := toWall(t, loc); {
	case got.Equal(w):
		// time.Date picks one of two instants for a repeated wall time; take the earlier.
		// Shifts are 30 minutes (Lord Howe), an hour, or two (historic double summer time).
		for _, d := range []time.Duration{2 * time.Hour, time.Hour, 30 * time.Minute} {
			if earlier := t.Add(-d); toWall(earlier, loc).Equal(w) {
				return earlier
			}
		}
		return t
	case got.Before(w):
		// Normalised to before the gap: the gap ends where the zone in force at t ends.
		_, end := t.ZoneBounds()
		return end
	default:
		start, _ := t.ZoneBounds()
		return start
	}
}

// String returns the spec as written.
func (s Spec) String() string { return s.text }

// Location returns the zone the spec is evaluated in.
func (s Spec) Location() *time.Location { return s.loc }

// Next returns the first fire time strictly after t, in the spec's zone, or the zero
// time if the spec never fires again (cron gives up after five years). It implements
// cron.Schedule.
func (s Spec) Next(t time.Time) time.Time {
	w := toWall(t, s.loc)
	for range 1000 {
		w = s.sched.Next(w)
		if w.IsZero() {
			return time.Time{}
		}
		// Several wall times in a gap map to the same instant, and wall times in a
		// repeated hour map to instants already passed: skip those, so each fires once.
		if at := fromWall(w, s.loc); at.After(t) {
			return at.In(s.loc)
		}
	}
	return time.Time{}
}

// Upcoming returns the next n fire times after t.
func (s Spec) Upcoming(t time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for range n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}
