package configs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"supportprobe/probe"
)

// DeadlineWarning is an SLA target of a vendor that cannot pass before the vendor's
// deadline for the probes sent in Spans: with no answer by the deadline, such a probe
// ends undecided ("deadline before target"), neither met nor breached, and drops out
// of the attainment rate. It happens with a business-clock target over a run of closed
// days (weekends, holidays) longer than the deadline leaves, or a calendar target
// equal to the deadline. The file is valid; `check` prints these as warnings.
type DeadlineWarning struct {
	Vendor   string
	Priority probe.Priority
	Target   probe.SLATarget
	Deadline time.Duration
	// Zone is the vendor's zone, in which Error names the dates.
	Zone *time.Location
	// Spans are the send times concerned, in order, within the period looked at
	// (DeadlineWarnings); Least is the least time that counts towards the target
	// before the deadline. Every is set instead when every send time is concerned.
	Spans []probe.StartSpan
	Every bool
}

// maxSpansNamed is how many spans of send times a warning names before it counts the
// rest.
const maxSpansNamed = 4

// Error describes the warning for a person: the vendor, the priority, the target, the
// deadline, the send times concerned on the vendor's wall clock, and what to change.
func (w DeadlineWarning) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vendor %q: sla.%s: the %s %s-time target cannot pass within the %s deadline ",
		w.Vendor, w.Priority, formatDuration(w.Target.FirstResponse), w.Target.Clock, formatDuration(w.Deadline))
	if w.Every {
		b.WriteString("for any probe")
	} else {
		b.WriteString("for probes sent ")
		const layout = "Mon 2006-01-02 15:04"
		least := w.Spans[0].Least
		for i, s := range w.Spans {
			least = min(least, s.Least)
			if i >= maxSpansNamed {
				continue
			}
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s to %s", s.From.In(w.Zone).Format(layout), s.To.In(w.Zone).Format(layout))
		}
		if n := len(w.Spans) - maxSpansNamed; n > 0 {
			fmt.Fprintf(&b, "; and %d more, the last ending %s", n, w.Spans[len(w.Spans)-1].To.In(w.Zone).Format(time.DateOnly))
			// The longest span is often a holiday the reader should see named.
			longest := slices.MaxFunc(w.Spans, func(a, b probe.StartSpan) int { return cmp.Compare(a.To.Sub(a.From), b.To.Sub(b.From)) })
			if i := slices.IndexFunc(w.Spans, func(s probe.StartSpan) bool { return s.From.Equal(longest.From) }); i >= maxSpansNamed {
				fmt.Fprintf(&b, ", the longest %s to %s", longest.From.In(w.Zone).Format(layout), longest.To.In(w.Zone).Format(layout))
			}
		}
		fmt.Fprintf(&b, " (%s; as little as %s of business time before the deadline)", w.Zone, formatLeast(least))
	}
	b.WriteString(": unanswered, such a probe ends undecided, neither met nor breached; raise the deadline or lower the target")
	return b.String()
}

// formatLeast is formatDuration with "0s" for nothing.
func formatLeast(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return formatDuration(d.Round(time.Minute))
}

// DeadlineWarnings looks at the probes the configuration could send from now on, for a
// year, or up to the day after the last holiday configured when that is later, and
// returns a warning for each vendor and priority whose SLA target cannot pass before
// the deadline for some of them, naming those send times (see DeadlineWarning). Vendors
// and priorities are in configuration order, P1 first. It returns nil when every target
// can pass.
func (c *Config) DeadlineWarnings(now time.Time) []DeadlineWarning {
	var out []DeadlineWarning
	for _, v := range c.Vendors {
		until := now.AddDate(1, 0, 0)
		if hs := v.Hours.Spec().Holidays; len(hs) > 0 {
			slices.Sort(hs)
			if last, err := time.ParseInLocation(time.DateOnly, hs[len(hs)-1], v.Hours.Location()); err == nil && last.AddDate(0, 0, 1).After(until) {
				until = last.AddDate(0, 0, 1)
			}
		}
		for _, p := range probe.Priorities {
			t, ok := v.SLA[p]
			if !ok {
				continue
			}
			w := DeadlineWarning{Vendor: v.Name, Priority: p, Target: t, Deadline: v.Deadline, Zone: v.Hours.Location()}
			if t.Clock == probe.Calendar || v.Hours.AlwaysOpen() {
				// The time that counts is the deadline itself, whenever the probe is sent.
				if v.Deadline <= t.FirstResponse {
					w.Every = true
					out = append(out, w)
				}
				continue
			}
			w.Spans = v.Hours.ShortStarts(now, until, v.Deadline, t.FirstResponse)
			if len(w.Spans) == 1 && w.Spans[0].From.Equal(now) && w.Spans[0].To.Equal(until) {
				w.Every = true
			}
			if len(w.Spans) > 0 {
				out = append(out, w)
			}
		}
	}
	return out
}
