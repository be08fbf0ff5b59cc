package probe

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// HoursSpec is a vendor's business week as written in the configuration and stored with
// each probe: the zone, the open days, the daily opening and closing times ("09:00",
// "18:00"; "24:00" closes at midnight), and holidays as dates ("2026-12-25") in that zone.
// Empty Days means the vendor is open around the clock, every day, holidays included.
type HoursSpec struct {
	Zone     string   `json:"zone"`
	Days     []string `json:"days,omitempty"`
	Open     string   `json:"open,omitempty"`
	Close    string   `json:"close,omitempty"`
	Holidays []string `json:"holidays,omitempty"`
}

// BusinessHours answers "is the vendor open" and "how much business time passed" in the
// vendor's zone. Build one with NewBusinessHours; the zero value is not usable.
type BusinessHours struct {
	spec     HoursSpec
	loc      *time.Location
	always   bool
	days     [7]bool
	open     time.Duration // since local midnight
	close    time.Duration
	holidays map[string]bool // "2006-01-02" in loc
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// NewBusinessHours validates spec and returns its compiled form. Errors name the field
// and the bad value.
func NewBusinessHours(spec HoursSpec) (BusinessHours, error) {
	// Every probe carries its terms, so reports compile the same few specs once per
	// probe, several times over; compiled forms are immutable and shared.
	key := hoursKey{spec.Zone, spec.Open, spec.Close, len(spec.Days), len(spec.Holidays)}
	compiledHours.RLock()
	h, ok := compiledHours.m[key]
	compiledHours.RUnlock()
	if ok && slices.Equal(h.spec.Days, spec.Days) && slices.Equal(h.spec.Holidays, spec.Holidays) {
		return h, nil
	}
	h, err := compileBusinessHours(spec)
	if err != nil {
		return h, err
	}
	// The compiled form keeps its own copies: a caller that later changes its slices
	// must not change a cached (shared) schedule.
	h.spec.Days, h.spec.Holidays = slices.Clone(spec.Days), slices.Clone(spec.Holidays)
	if !ok {
		compiledHours.Lock()
		if len(compiledHours.m) < maxCompiledHours {
			compiledHours.m[key] = h
		}
		compiledHours.Unlock()
	}
	return h, err
}

// hoursKey indexes compiledHours; a hit is checked against the spec's days and
// holidays, and a spec that differs from the cached one only there is compiled afresh.
type hoursKey struct {
	zone, open, close string
	ndays, nholidays  int
}

// compiledHours caches NewBusinessHours' results, up to maxCompiledHours specs (a
// configuration has a handful; a history a few more).
var compiledHours = struct {
	sync.RWMutex
	m map[hoursKey]BusinessHours
}{m: map[hoursKey]BusinessHours{}}

const maxCompiledHours = 1024

func compileBusinessHours(spec HoursSpec) (BusinessHours, error) {
	loc, err := LoadZone(spec.Zone)
	// "Local" means different things on different machines, so stored terms naming it
	// could not be reproduced; configuration refuses it too.
	if err != nil || spec.Zone == "" || spec.Zone == "Local" {
		return BusinessHours{}, fmt.Errorf("unknown time zone %q", spec.Zone)
	}
	h := BusinessHours{spec: spec, loc: loc, holidays: map[string]bool{}}
	// Holidays are checked before the 24x7 return, so a malformed date is reported even
	// for a vendor that ignores them.
	for _, d := range spec.Holidays {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return BusinessHours{}, fmt.Errorf("holidays: bad date %q (want YYYY-MM-DD)", d)
		}
		h.holidays[t.Format(time.DateOnly)] = true
	}
	if len(spec.Days) == 0 && spec.Open == "" && spec.Close == "" {
		h.always = true
		return h, nil
	}
	if len(spec.Days) == 0 {
		return BusinessHours{}, fmt.Errorf("days: none given (list them, e.g. [mon, tue, wed, thu, fri])")
	}
	for _, d := range spec.Days {
		wd, ok := weekdayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			return BusinessHours{}, fmt.Errorf("days: unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", d)
		}
		h.days[wd] = true
	}
	if h.open, err = parseClock(spec.Open); err != nil {
		return BusinessHours{}, fmt.Errorf("open: %w", err)
	}
	if h.close, err = parseClock(spec.Close); err != nil {
		return BusinessHours{}, fmt.Errorf("close: %w", err)
	}
	if h.close <= h.open {
		return BusinessHours{}, fmt.Errorf("close %q is not after open %q", spec.Close, spec.Open)
	}
	return h, nil
}

// zones caches LoadZone's answers: zone name → *time.Location or error.
var zones sync.Map

// LoadZone is time.LoadLocation with a cache. time.LoadLocation reads and parses the
// zone's file on every call, which costs more than the rest of measuring a probe, and
// every probe carries its vendor's zone.
func LoadZone(name string) (*time.Location, error) {
	if v, ok := zones.Load(name); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		zones.Store(name, err)
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// MustBusinessHours is NewBusinessHours for specs known to be valid, such as literals in
// tests; it panics on an invalid spec.
func MustBusinessHours(spec HoursSpec) BusinessHours {
	h, err := NewBusinessHours(spec)
	if err != nil {
		panic(err)
	}
	return h
}

func parseClock(s string) (time.Duration, error) {
	var hh, mm int
	// Sscanf alone accepted "09:3O" (as 09:03, ignoring the rest) and "+9:00", so the
	// shape is checked first: two digits, a colon, two digits.
	if len(s) != 5 || s[2] != ':' || !isDigits(s[:2]) || !isDigits(s[3:]) {
		return 0, fmt.Errorf("bad time of day %q (want HH:MM, 00:00 to 24:00)", s)
	}
	hh, mm = int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time of day %q (want HH:MM, 00:00 to 24:00)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Spec returns the specification h was built from.
// The slices are copies, so the caller may change them.
func (h BusinessHours) Spec() HoursSpec {
	s := h.spec
	s.Days, s.Holidays = slices.Clone(s.Days), slices.Clone(s.Holidays)
	return s
}

// Location returns the vendor's zone.
func (h BusinessHours) Location() *time.Location { return h.loc }

// AlwaysOpen reports whether the vendor keeps no business hours (24x7).
func (h BusinessHours) AlwaysOpen() bool { return h.always }

// window returns the business interval of the local calendar day y-m-d, and false if
// that day is closed.
func (h BusinessHours) window(y int, m time.Month, d int) (start, end time.Time, ok bool) {
	// The weekday and the holiday key come from the civil date, not from local midnight:
	// where a DST change happens at 00:00 (America/Santiago, America/Havana) that day has
	// no midnight and time.Date returns 23:00 of the day before.
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if !h.days[day.Weekday()] || len(h.holidays) > 0 && h.holidays[day.Format(time.DateOnly)] {
		return time.Time{}, time.Time{}, false
	}
	// Built from wall-clock fields so a DST change on that day moves the window's instants
	// with the local clock, as the vendor's staff would.
	start = wallTime(y, m, d, h.open, h.loc)
	end = wallTime(y, m, d, h.close, h.loc)
	return start, end, true
}

// wallTime returns the first instant at which loc's wall clock shows the civil date
// y-m-d at clock (since midnight; 24:00 is the next day's 00:00) or later. That is
// time.Date's answer except inside a gap that a DST change skips: for 00:00 on 6 Sep 2026
// in America/Santiago (clocks go from 00:00 to 01:00) time.Date returns 23:00 on 5 Sep,
// an hour that still belongs to Saturday, and for 02:15 on 4 Oct 2026 in
// Australia/Lord_Howe (02:00 to 02:30) it returns 02:45. The vendor's clock reaches
// such a time at the change itself, so a vendor open until midnight on that Saturday is
// open until the change, not an hour less. When the clocks go back and the time comes
// twice, it is the first.
func wallTime(y int, m time.Month, d int, clock time.Duration, loc *time.Location) time.Time {
	hh, mm := int(clock/time.Hour), int(clock%time.Hour/time.Minute)
	t := time.Date(y, m, d, hh, mm, 0, 0, loc)
	want := time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
	got := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
	switch {
	case got.Before(want): // before the change: the clock reaches want when it jumps
		if _, change := t.ZoneBounds(); !change.IsZero() {
			return change
		}
	case got.After(want): // after the change, which is when the clock jumped past want
		if change, _ := t.ZoneBounds(); !change.IsZero() {
			return change
		}
	default:
		// When the clocks go back the wall clock shows want twice, and time.Date may
		// return either: take the first, as the vendor's staff close (or open) the first
		// time their clock shows the hour.
		if change, _ := t.ZoneBounds(); !change.IsZero() {
			_, off := change.Add(-time.Nanosecond).Zone()
			if first := want.Add(-time.Duration(off) * time.Second); first.Before(change) && first.Before(t) {
				return first.In(loc)
			}
		}
	}
	return t
}

// IsOpen reports whether t falls inside the vendor's business hours.
func (h BusinessHours) IsOpen(t time.Time) bool {
	if h.always {
		return true
	}
	lt := t.In(h.loc)
	start, end, ok := h.window(lt.Date())
	return ok && !t.Before(start) && t.Before(end)
}

// Between returns the business time elapsed from a to b: the total length of the parts
// of [a, b) inside business hours. It is zero when b is not after a.
func (h BusinessHours) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if h.always {
		return b.Sub(a)
	}
	var total time.Duration
	y, m, d := a.In(h.loc).Date()
	// Step through civil dates (kept in UTC, where every day has a midnight) rather than
	// local midnights: on a day without a local midnight, time.Date normalises back to
	// the previous day and the loop never advanced.
	for day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); h.startOf(day).Before(b); day = day.AddDate(0, 0, 1) {
		start, end, ok := h.window(day.Date())
		if !ok {
			continue
		}
		if start.Before(a) {
			start = a
		}
		if end.After(b) {
			end = b
		}
		if end.After(start) {
			total += end.Sub(start)
		}
	}
	return total
}

// Add returns the instant at which d of business time has passed since a. For an
// always-open vendor that is a+d. It gives up and returns the zero time if no business
// hour exists within ten years (a week with no open day cannot be built, so this only
// guards against a calendar made of holidays).
func (h BusinessHours) Add(a time.Time, d time.Duration) time.Time {
	if h.always || d <= 0 {
		return a.Add(max(d, 0))
	}
	y, m, dd := a.In(h.loc).Date()
	limit := a.AddDate(10, 0, 0)
	// Civil dates, as in Between.
	for day := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC); h.startOf(day).Before(limit); day = day.AddDate(0, 0, 1) {
		start, end, ok := h.window(day.Date())
		if !ok || !end.After(a) {
			continue
		}
		if start.Before(a) {
			start = a
		}
		if avail := end.Sub(start); d <= avail {
			return start.Add(d)
		} else {
			d -= avail
		}
	}
	return time.Time{}
}

// startOf returns the first instant of the civil date day (a UTC midnight) in h's zone,
// or about then on a day without a local midnight.
func (h BusinessHours) startOf(day time.Time) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, h.loc)
}

// OpenDays returns the open weekdays in order from Sunday, for display.
func (h BusinessHours) OpenDays() []time.Weekday {
	var out []time.Weekday
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if h.always || h.days[wd] {
			out = append(out, wd)
		}
	}
	return slices.Clip(out)
}

// StartSpan is a span of start instants, From to To inclusive, found by ShortStarts;
// Least is the least business time that a window starting in it holds.
type StartSpan struct {
	From, To time.Time
	Least    time.Duration
}

// ShortStarts returns the spans of start instants t in [from, to] at which the window
// [t, t+window) holds at most limit of business time, in order. With a probe's deadline
// as window and its business-clock SLA target as limit, these are the send times whose
// target cannot pass before the deadline: unanswered, such a probe ends undecided,
// neither met nor breached. Holidays count as closed, as in Between.
//
// The spans are exact: the business time in [t, t+window) is piecewise linear in t and
// changes slope only where t or t+window crosses an opening or a closing, so it is
// evaluated at those instants and solved between them. It returns nil when window is
// not positive or to is before from.
func (h BusinessHours) ShortStarts(from, to time.Time, window, limit time.Duration) []StartSpan {
	if window <= 0 || to.Before(from) {
		return nil
	}
	if h.always {
		if window <= limit {
			return []StartSpan{{From: from, To: to, Least: window}}
		}
		return nil
	}
	// The instants where the slope may change, within [from, to].
	points := []time.Time{from, to}
	y, m, d := from.Add(-window).In(h.loc).Date()
	end := to.Add(window)
	for day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC); !h.startOf(day).After(end); day = day.AddDate(0, 0, 1) {
		start, stop, ok := h.window(day.Date())
		if !ok {
			continue
		}
		for _, p := range []time.Time{start, stop, start.Add(-window), stop.Add(-window)} {
			if !p.Before(from) && !p.After(to) {
				points = append(points, p)
			}
		}
	}
	slices.SortFunc(points, func(a, b time.Time) int { return a.Compare(b) })
	points = slices.CompactFunc(points, func(a, b time.Time) bool { return a.Equal(b) })

	var out []StartSpan
	add := func(a, b time.Time, least time.Duration) {
		if n := len(out); n > 0 && !a.After(out[n-1].To) {
			out[n-1].To = b
			out[n-1].Least = min(out[n-1].Least, least)
			return
		}
		out = append(out, StartSpan{From: a, To: b, Least: least})
	}
	f := func(t time.Time) time.Duration { return h.Between(t, t.Add(window)) }
	prev, fPrev := points[0], f(points[0])
	if len(points) == 1 && fPrev <= limit {
		add(prev, prev, fPrev)
	}
	for _, next := range points[1:] {
		fNext := f(next)
		// Linear from (prev, fPrev) to (next, fNext), with a slope of -1, 0 or 1.
		span := next.Sub(prev)
		switch {
		case fPrev <= limit && fNext <= limit:
			add(prev, next, min(fPrev, fNext))
		case fPrev <= limit:
			add(prev, prev.Add(cross(span, fPrev, fNext, limit)), fPrev)
		case fNext <= limit:
			add(prev.Add(cross(span, fPrev, fNext, limit)), next, fNext)
		}
		prev, fPrev = next, fNext
	}
	return out
}

// cross returns where, along a span on which a quantity goes linearly from a to b, it
// equals limit (which lies between a and b).
func cross(span, a, b, limit time.Duration) time.Duration {
	switch {
	case a == b:
		return 0
	case b-a == span: // slope 1: exact, with no rounding
		return limit - a
	case a-b == span: // slope -1
		return a - limit
	}
	return time.Duration(float64(span) * float64(limit-a) / float64(b-a))
}
