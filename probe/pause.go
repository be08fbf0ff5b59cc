package probe

import (
	"fmt"
	"slices"
	"time"
)

// PauseSource says where a pause comes from.
type PauseSource string

// The sources of a pause.
const (
	// PauseManual is a pause set with `supportprobe pause` and ended with `resume` or
	// its until time; it is stored in the database.
	PauseManual PauseSource = "manual"
	// PauseConfig is a maintenance window from vendors[].pause in the configuration.
	PauseConfig PauseSource = "config"
)

// Pause is a span in which no scheduled inquiry goes to Vendor: fires that fall in it
// are recorded as skipped, with the pause as the reason, and a send by hand is refused
// unless forced. Until zero means until resumed. The pause covers [From, Until).
type Pause struct {
	Vendor string      `json:"vendor"`
	From   time.Time   `json:"from"`
	Until  time.Time   `json:"until,omitzero"`
	Note   string      `json:"note,omitempty"`
	Source PauseSource `json:"source"`
	// By is who set the pause and SetAt when (manual pauses); ResumedBy is who ended it
	// early with resume.
	By        string    `json:"by,omitempty"`
	SetAt     time.Time `json:"set_at,omitzero"`
	ResumedBy string    `json:"resumed_by,omitempty"`
}

// Covers reports whether t lies in the pause.
func (p Pause) Covers(t time.Time) bool {
	return !t.Before(p.From) && (p.Until.IsZero() || t.Before(p.Until))
}

// Overlaps reports whether the pause shares any instant with [since, until); zero
// bounds are open.
func (p Pause) Overlaps(since, until time.Time) bool {
	return (until.IsZero() || p.From.Before(until)) && (p.Until.IsZero() || since.IsZero() || p.Until.After(since))
}

// Reason is the pause in one line, as a skipped fire's reason and a refused send's
// message: "paused by hand until 2026-12-27T00:00:00Z (holiday freeze)" or
// "in the configured pause window 2026-12-24T00:00:00+01:00 – 2026-12-27T00:00:00+01:00".
func (p Pause) Reason() string {
	var s string
	switch p.Source {
	case PauseConfig:
		s = fmt.Sprintf("in the configured pause window %s – %s", p.From.Format(time.RFC3339), p.Until.Format(time.RFC3339))
	default:
		s = "paused by hand since " + p.From.UTC().Format(time.RFC3339)
		if p.By != "" {
			s += " by " + p.By
		}
		if p.Until.IsZero() {
			s += ", until resumed"
		} else {
			s += ", until " + p.Until.UTC().Format(time.RFC3339)
		}
	}
	if p.Note != "" {
		s += " (" + p.Note + ")"
	}
	return s
}

// PauseAt returns the pause among ps that covers t, preferring one without an end, then
// the one that ends last, so a message names when sending resumes; ok is false when
// none covers t.
func PauseAt(ps []Pause, t time.Time) (Pause, bool) {
	var best Pause
	ok := false
	for _, p := range ps {
		if !p.Covers(t) {
			continue
		}
		switch {
		case !ok, best.Until.IsZero():
			if !ok {
				best, ok = p, true
			}
		case p.Until.IsZero(), p.Until.After(best.Until):
			best = p
		}
	}
	return best, ok
}

// PausedTime returns how long [since, until) was covered by the pauses ps, counting an
// instant covered by several pauses once. A pause without an end runs to until.
func PausedTime(ps []Pause, since, until time.Time) time.Duration {
	type span struct{ from, to time.Time }
	var spans []span
	for _, p := range ps {
		from, to := p.From, p.Until
		if from.Before(since) {
			from = since
		}
		if to.IsZero() || to.After(until) {
			to = until
		}
		if to.After(from) {
			spans = append(spans, span{from, to})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var total time.Duration
	var cur span
	for i, s := range spans {
		switch {
		case i == 0:
			cur = s
		case !s.from.After(cur.to):
			if s.to.After(cur.to) {
				cur.to = s.to
			}
		default:
			total += cur.to.Sub(cur.from)
			cur = s
		}
	}
	if len(spans) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}
