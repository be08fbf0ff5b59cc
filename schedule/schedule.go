// Package schedule decides when inquiries go out: cron specs evaluated in each
// schedule's own time zone (robfig/cron v3), with the zone given as its own field and
// the CRON_TZ= prefix built here, never typed by the user.
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
	s, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + trimmed)
	if err != nil {
		return Spec{}, fmt.Errorf("cron %q: %w", spec, err)
	}
	return Spec{text: trimmed, loc: loc, sched: s}, nil
}

// String returns the spec as written.
func (s Spec) String() string { return s.text }

// Location returns the zone the spec is evaluated in.
func (s Spec) Location() *time.Location { return s.loc }

// Next returns the first fire time strictly after t, in the spec's zone.
func (s Spec) Next(t time.Time) time.Time { return s.sched.Next(t).In(s.loc) }

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
