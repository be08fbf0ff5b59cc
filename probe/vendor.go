package probe

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Priority is a support priority, P1 (most urgent) to P4.
type Priority string

// The priorities a script or SLA target may name.
const (
	P1 Priority = "P1"
	P2 Priority = "P2"
	P3 Priority = "P3"
	P4 Priority = "P4"
)

// Priorities lists every valid priority, most urgent first.
var Priorities = []Priority{P1, P2, P3, P4}

// ParsePriority returns the priority named by s ("P1" to "P4", case-insensitive) or an
// error that lists the valid names.
func ParsePriority(s string) (Priority, error) {
	p := Priority(strings.ToUpper(strings.TrimSpace(s)))
	if slices.Contains(Priorities, p) {
		return p, nil
	}
	return "", fmt.Errorf("unknown priority %q (want P1, P2, P3 or P4)", s)
}

// Clock says how an SLA target is counted: in calendar time or only during the vendor's
// business hours.
type Clock string

// The two clocks an SLA target may use.
const (
	Calendar Clock = "calendar"
	Business Clock = "business"
)

// SLATarget is what a vendor promises for one priority: a first human response within
// FirstResponse, counted on Clock.
type SLATarget struct {
	FirstResponse time.Duration `json:"first_response"`
	Clock         Clock         `json:"clock"`
}

// Limits caps how often a vendor is probed, so it never sees a burst of inquiries.
// Zero values mean no limit.
type Limits struct {
	MaxPerDay  int           `json:"max_per_day,omitempty"`
	MaxPerWeek int           `json:"max_per_week,omitempty"`
	MinSpacing time.Duration `json:"min_spacing,omitempty"`
}

// Schedule fires inquiries to one vendor: a five-field cron spec evaluated in Location,
// rotating through Scripts, each fire delayed by a uniform random jitter in [0, Jitter).
type Schedule struct {
	// Spec is the cron spec as written by the user, without any CRON_TZ= prefix.
	Spec     string
	Location *time.Location
	Scripts  []string
	Jitter   time.Duration
}

// Vendor is one support organisation under evaluation and the terms it promised.
type Vendor struct {
	Name string
	// To are the support addresses inquiries are sent to: RFC 5322 addresses as written
	// in the configuration, possibly with display names ("Lotus Support <support@…>").
	To []string
	// Domains are the mail domains the vendor answers from (its own and its help desk's).
	Domains   []string
	Hours     BusinessHours
	SLA       map[Priority]SLATarget
	Deadline  time.Duration
	TicketKey *regexp.Regexp // nil: only the default ticket-key patterns
	Schedules []Schedule
	Limits    Limits
	// Rules override the classifier for this vendor's mail, first match wins.
	Rules []Rule
	// Pauses are the maintenance windows of the configuration (Source PauseConfig),
	// in which no scheduled inquiry goes out.
	Pauses []Pause
}

// Terms returns the part of v that figures are computed from, for priority p, to be
// stored with a probe when it is created: a later change of the configuration must not
// rewrite the figures of probes already sent.
func (v Vendor) Terms(p Priority) Terms {
	t := Terms{Hours: v.Hours.Spec(), Deadline: v.Deadline}
	if target, ok := v.SLA[p]; ok {
		t.SLA = &target
	}
	return t
}

// Terms are the vendor's promises in force for one probe, and its script's follow-ups,
// captured when it was created.
type Terms struct {
	Hours    HoursSpec     `json:"hours"`
	SLA      *SLATarget    `json:"sla,omitempty"` // nil: no target for this priority
	Deadline time.Duration `json:"deadline"`
	// Script holds the script's follow-ups (Script.Terms). Nil on probes created before
	// follow-up terms were stored: their follow-ups still come from the current
	// configuration's script, as they always did.
	Script *ScriptTerms `json:"script,omitempty"`
}
