// Package report renders one period of probing for people and for scripts: the text
// that `supportprobe report` prints, a self-contained HTML page, the same figures as
// JSON and CSV, and the weekly summary mail's shorter text and HTML (summary.go:
// headlines, a table per vendor, the first breaches) with the breach list as CSV.
//
// Build measures the probes once and returns a Report, a plain model with JSON tags;
// the writers only format it, so every number in every format comes from the same
// place, and a script reading the JSON sees exactly what the text says. Every figure is
// a pure function of the probes and Options.Now, so a report can be rebuilt from what
// is stored.
//
// What a reader should see first are the broken promises: the SLA breaches and the
// open probes already past their target, each with the first human reply (if any).
// Then, per vendor: counts, latency estimates that honour censoring (Kaplan–Meier, see
// probe.Compute), SLA attainment with a 95% Wilson interval, the change against the
// previous period, whether people answered in the language asked (listing the replies
// in another), and breakdowns by priority, business hours, language and script.
//
// Strings in a report are partly vendor-controlled (reply From and Subject, and by way
// of the configuration vendor names and script IDs). The text writer replaces control
// characters and truncates to the width it has; the HTML writer uses html/template, so
// they are always escaped.
package report

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"supportprobe/probe"
)

// Options selects the period of a report and the instant it is computed at.
type Options struct {
	// Since and Until bound the period [Since, Until); they are printed, and the caller
	// selects the probes of the period (by CreatedAt, as history does).
	Since, Until time.Time
	// PrevSince starts the previous period of equal length, [PrevSince, Since), whose
	// probes are compared with the current ones. Zero means no comparison.
	PrevSince time.Time
	// Now is the instant the figures are computed at: probes still open are censored
	// here. It must be set; the report never reads the clock.
	Now time.Time
	// Pauses are the vendors' pauses (set by hand and configured) that overlap the
	// period; each vendor's paused time is counted from them (Vendor.Paused), and a
	// vendor paused in the period is listed even with no probes.
	Pauses []probe.Pause
	// Title heads the report, e.g. "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov,
	// Asia/Shanghai)". Empty gives a title made of the period's dates in UTC.
	Title string
	// Brief builds only what an overview shows: the totals, how many replies wait for
	// review (Review.AnsweredIfPerson stays nil), the breach list and, per vendor, its
	// counts, distributions, SLA attainments, change, hours, pauses and the breakdown
	// by business hours. Probes, each vendor's other breakdowns, latencies, heatmap,
	// reply languages and follow-up figures are left empty. Every figure it builds is
	// the one the full report gives.
	Brief bool
}

// ErrOptions is returned, wrapped, by Build for options it cannot use.
var ErrOptions = errors.New("report: bad options")

// Report is the model of one period's report. Its JSON form (WriteJSON) is a contract
// with scripts: times are RFC 3339 in UTC, durations are seconds (to the millisecond),
// shares are fractions in [0, 1], and a figure that does not exist is null, never NaN.
type Report struct {
	Title string    `json:"title"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// PrevSince starts the previous period, which ends at Since; null: no comparison.
	PrevSince   *time.Time `json:"prev_since"`
	GeneratedAt time.Time  `json:"generated_at"`
	// Totals counts the probes of the period over all vendors.
	Totals Counts `json:"totals"`
	// Review counts the replies of the period that wait for a person's decision
	// (needs_review): they count as no response until decided.
	Review Review `json:"review"`
	// Breaches is the one list of breaches: the probes that breached their SLA target
	// (SLA "breached"), then those with no answer yet that are already past it
	// ("open_breached"); each group by SentAt, then probe ID. Its length is the breach
	// count everywhere (the vendor table, Vendor.BreachCount, the summary mail).
	Breaches []Breach `json:"breaches"`
	// Vendors are ordered by name; a vendor probed only in the previous period is listed
	// with no probes, because a schedule that stopped firing is news.
	Vendors []Vendor `json:"vendors"`
	// Probes has one row per probe of the period, by the time it was sent (or
	// attempted), then ID.
	Probes []Row `json:"probes"`
}

// Counts partitions probes by status, as probe.Figures does: Total = Sent + Failed +
// Unknown, and Sent = Answered + Unanswered + Open + Bounced. AckOnly counts the open
// and unanswered probes that a system acknowledged in time but no person answered;
// AutoAcked every probe that got an automatic acknowledgement by its deadline.
type Counts struct {
	Total      int `json:"total"`
	Sent       int `json:"sent"`
	Answered   int `json:"answered"`
	Unanswered int `json:"unanswered"`
	Open       int `json:"open"`
	Bounced    int `json:"bounced"`
	Failed     int `json:"failed"`
	Unknown    int `json:"unknown"`
	AckOnly    int `json:"ack_only"`
	AutoAcked  int `json:"auto_acked"`
}

// Review is what waits for a person's decision: Replies of kind needs_review (no
// override yet), on the probes listed in Probes. AnsweredIfPerson is how many probes of
// the period would count as answered if every one of them were a person's answer (the
// most deciding them could change the headline), against Totals.Answered now; null when
// nothing waits.
type Review struct {
	Replies          int      `json:"replies"`
	Probes           []string `json:"probes"`
	AnsweredIfPerson *int     `json:"answered_if_person"`
}

// Estimate is a duration read off a Kaplan–Meier curve. Reached false means the curve
// never got there (too many probes without an answer) and the value only exceeds
// Seconds: it prints as "> X".
type Estimate struct {
	Seconds float64 `json:"seconds"`
	Reached bool    `json:"reached"`
}

// Distribution summarises one latency over the probes that reached the vendor (for
// Vendor.Ack, the time to first sign of life: the first automatic acknowledgement or
// person's reply, whichever came first): N
// observations, Events of them observed and the rest censored (no answer by the
// deadline, or still open at GeneratedAt). Median, P90 and Max are null when N is 0.
// Curve is the Kaplan–Meier estimate, one point per distinct observed time.
type Distribution struct {
	N      int          `json:"n"`
	Events int          `json:"events"`
	Median *Estimate    `json:"median"`
	P90    *Estimate    `json:"p90"`
	Max    *Estimate    `json:"max"`
	Curve  []CurvePoint `json:"curve"`
}

// CurvePoint is one step of a Kaplan–Meier estimate (see probe.Step): Survival is the
// share of probes still without the event from Seconds on.
type CurvePoint struct {
	Seconds  float64 `json:"seconds"`
	Survival float64 `json:"survival"`
	AtRisk   int     `json:"at_risk"`
	Events   int     `json:"events"`
	Censored int     `json:"censored"`
}

// Target is an SLA target: a first human response within Seconds on Clock.
type Target struct {
	Seconds float64     `json:"seconds"`
	Clock   probe.Clock `json:"clock"`
}

// Attainment is how far a vendor kept its SLA for one priority (see probe.Attainment).
// Targets lists the distinct targets of the probes counted, usually one; more means the
// configuration changed during the period. Undecided counts probes whose deadline came
// before their target could pass with no answer: neither met nor breached, left out of
// the rate. Rate, Lo and Hi (the 95% Wilson interval) are null when no probe is
// decided.
type Attainment struct {
	Priority  probe.Priority `json:"priority"`
	Targets   []Target       `json:"targets"`
	Met       int            `json:"met"`
	Decided   int            `json:"decided"`
	Open      int            `json:"open"`
	Undecided int            `json:"undecided"`
	Rate      *float64       `json:"rate"`
	Lo        *float64       `json:"lo"`
	Hi        *float64       `json:"hi"`
}

// Shift is a share in the previous and the current period and the change, current
// minus previous; each is null where its period lacks the figure.
type Shift struct {
	Prev  *float64 `json:"prev"`
	Cur   *float64 `json:"cur"`
	Delta *float64 `json:"delta"`
}

// DurationShift is a median in the previous and current period and the change in
// seconds; the change is null unless both medians were reached.
type DurationShift struct {
	Prev         *Estimate `json:"prev"`
	Cur          *Estimate `json:"cur"`
	DeltaSeconds *float64  `json:"delta_seconds"`
}

// SLAShift is the change of one priority's SLA attainment rate, with the counts the
// rates come from (met of decided, in each period), so a change of 100 points made by
// one probe reads as what it is.
type SLAShift struct {
	Priority probe.Priority `json:"priority"`
	Shift
	PrevMet     int `json:"prev_met"`
	PrevDecided int `json:"prev_decided"`
	Met         int `json:"met"`
	Decided     int `json:"decided"`
}

// Change compares a vendor's period with the previous one (probe.Change).
type Change struct {
	Previous Counts `json:"previous"`
	// AnsweredRate is Answered / (Answered + Unanswered).
	AnsweredRate   Shift         `json:"answered_rate"`
	MedianResponse DurationShift `json:"median_response"`
	// SLA has an entry per priority with an SLA target in either period.
	SLA []SLAShift `json:"sla"`
}

// Group is one group of a Breakdown: its counts, the share answered, the median and p90
// time to first response (calendar), and the SLA attainment summed over priorities.
type Group struct {
	Key            string    `json:"key"`
	Counts         Counts    `json:"counts"`
	AnsweredRate   *float64  `json:"answered_rate"`
	MedianResponse *Estimate `json:"median_response"`
	P90Response    *Estimate `json:"p90_response"`
	SLAMet         int       `json:"sla_met"`
	SLADecided     int       `json:"sla_decided"`
	// ReplyLanguage is whether the group's first human replies came in the language
	// asked.
	ReplyLanguage LanguageFit `json:"reply_language"`
}

// LanguageFit counts probes a person answered by the language of the first human reply
// (probe.DetectLanguage of its new text): Known have a reply language that could be
// detected and an inquiry language, Matched of them were answered in the language asked
// (probe.LanguageMatches), and Unknown are the rest, counted in neither.
type LanguageFit struct {
	Matched int `json:"matched"`
	Known   int `json:"known"`
	Unknown int `json:"unknown"`
}

// LanguageMismatch is a probe whose first human reply came in another language than
// the one asked.
type LanguageMismatch struct {
	ProbeID string `json:"probe_id"`
	Script  string `json:"script"`
	ReplyID string `json:"reply_id"`
	Asked   string `json:"asked"` // the script's language tag
	Got     string `json:"got"`   // the reply's detected language
}

// The dimensions of a vendor's Breakdowns, in the order they are listed.
const (
	ByPriority = "priority"
	ByHours    = "hours" // probe.KeyBusinessHours or probe.KeyAfterHours
	ByLanguage = "language"
	ByScript   = "script"
	ByHour     = "hour" // hour of day the probe was sent, on the vendor's clock ("03")
)

// Breakdown is a vendor's probes grouped by one dimension (ByPriority, ByHours, ...).
// Groups are in a fixed order: priorities P1 to P4, business hours before after hours,
// otherwise by key; a probe without a key is in the group with the empty key, last.
type Breakdown struct {
	By     string  `json:"by"`
	Groups []Group `json:"groups"`
}

// Bar is one probe in a vendor's latency chart: its time to first response (calendar),
// or when Censored, the time it is known to exceed (no answer by the deadline, or still
// open at GeneratedAt), exactly as it enters the Kaplan–Meier estimate. State is what
// the chart shows for it (StateOf; never bounced, as bounced probes have no bar).
type Bar struct {
	ProbeID    string         `json:"probe_id"`
	Priority   probe.Priority `json:"priority"`
	Status     probe.Status   `json:"status"`
	SLA        probe.SLAState `json:"sla"`
	State      ChartState     `json:"state"`
	AfterHours bool           `json:"after_hours"`
	Seconds    float64        `json:"seconds"`
	Censored   bool           `json:"censored"`
}

// Cell is one hour of the week in a vendor's Heatmap: the probes sent in that hour, on
// the wall clock of each probe's own zone (Terms.Hours.Zone), by status (Answered to
// Bounced partition Sent) and by chart state (States, which also partition Sent). Worst
// is the worst state the cell holds, the one a chart shows: a cell with two answered
// probes and one past its target is open_breached, never "answered".
type Cell struct {
	Day        string      `json:"day"` // "Mon" to "Sun"
	Hour       int         `json:"hour"`
	Sent       int         `json:"sent"`
	Answered   int         `json:"answered"`
	Unanswered int         `json:"unanswered"`
	Open       int         `json:"open"`
	Bounced    int         `json:"bounced"`
	Worst      ChartState  `json:"worst"`
	States     StateCounts `json:"states"`
}

// Days are the heatmap's rows, Monday first, as Cell.Day names them.
var Days = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// Vendor is one vendor's part of a report.
type Vendor struct {
	Name string `json:"name"`
	// Hours are the business hours in force for the vendor's latest probe (terms are
	// stored per probe); Zones lists every zone its probes were measured in.
	Hours probe.HoursSpec `json:"hours"`
	Zones []string        `json:"zones"`

	Counts       Counts   `json:"counts"`
	AnsweredRate *float64 `json:"answered_rate"`
	// BreachCount is the number of the vendor's entries in Report.Breaches.
	BreachCount int `json:"breach_count"`

	Ack              Distribution `json:"ack"`
	Response         Distribution `json:"response"`
	BusinessResponse Distribution `json:"business_response"`

	// SLA has an entry per priority with an SLA target, P1 first.
	SLA []Attainment `json:"sla"`
	// Change is null when the report has no previous period.
	Change     *Change     `json:"change"`
	Breakdowns []Breakdown `json:"breakdowns"`
	// Latencies has one bar per probe that reached the vendor and was not bounced, by
	// Seconds (observed before censored at equal times), then probe ID.
	Latencies []Bar `json:"latencies"`
	// Heatmap lists the hours of the week in which probes were sent, Monday 00h first.
	Heatmap []Cell `json:"heatmap"`
	// ReplyLanguage is whether the first human replies came in the language asked; the
	// ByLanguage breakdown has the same per language asked.
	ReplyLanguage LanguageFit `json:"reply_language"`
	// LanguageMismatches lists the probes answered in another language, by the time
	// sent, then probe ID.
	LanguageMismatches []LanguageMismatch `json:"language_mismatches"`
	// Followups summarises the scripts' follow-ups sent to the vendor.
	Followups FollowupFigures `json:"followups"`
	// Paused is how long the vendor was paused in the period.
	Paused Paused `json:"paused"`
}

// Paused is the time a vendor was paused (no scheduled inquiry went out) within the
// period up to GeneratedAt, an instant covered by two pauses counted once
// (probe.PausedTime), and the pauses that overlap it, by start.
type Paused struct {
	Seconds float64       `json:"seconds"`
	Windows []PauseWindow `json:"windows"`
}

// PauseWindow is one pause: set by hand ("manual") or a maintenance window of the
// configuration ("config"). Until is null for a pause that runs until resumed.
type PauseWindow struct {
	From   time.Time         `json:"from"`
	Until  *time.Time        `json:"until"`
	Source probe.PauseSource `json:"source"`
	Note   string            `json:"note"`
}

// paused computes a vendor's Paused over [since, min(until, now)).
func paused(vendor string, ps []probe.Pause, since, until, now time.Time) Paused {
	end := until
	if now.Before(end) {
		end = now
	}
	out := Paused{Windows: []PauseWindow{}}
	var mine []probe.Pause
	for _, p := range ps {
		if p.Vendor != vendor || !p.Overlaps(since, until) {
			continue
		}
		mine = append(mine, p)
	}
	slices.SortStableFunc(mine, func(a, b probe.Pause) int { return a.From.Compare(b.From) })
	for _, p := range mine {
		out.Windows = append(out.Windows, PauseWindow{From: p.From.UTC(), Until: utcPtr(p.Until), Source: p.Source, Note: p.Note})
	}
	if end.After(since) {
		out.Seconds = secs(probe.PausedTime(mine, since, end))
	}
	return out
}

// FollowupFigures counts a vendor's follow-ups: of the Probes that reached the vendor,
// NeededReminder got a reminder; Sent follow-ups went out in all, and NextResponses of
// them have had a human reply since. MedianNextResponseSeconds is the plain median of
// those observed next-response times (no censoring: follow-ups are few, and a
// follow-up still waiting is simply left out); null when none is observed.
type FollowupFigures struct {
	Probes                    int      `json:"probes"`
	NeededReminder            int      `json:"needed_reminder"`
	Sent                      int      `json:"sent"`
	NextResponses             int      `json:"next_responses"`
	MedianNextResponseSeconds *float64 `json:"median_next_response_seconds"`
}

// followupFigures computes FollowupFigures over the measured probes.
func followupFigures(ms []measured) FollowupFigures {
	var f FollowupFigures
	var next []float64
	for _, x := range ms {
		if !reachedVendor(x.M.Status) {
			continue
		}
		f.Probes++
		if x.Probe.NeededReminder() {
			f.NeededReminder++
		}
		for _, fm := range probe.MeasureFollowups(*x.Probe) {
			if fm.Followup.State != probe.StateSent {
				continue
			}
			f.Sent++
			if fm.NextLatency != nil {
				next = append(next, secs(*fm.NextLatency))
			}
		}
	}
	f.NextResponses = len(next)
	if len(next) > 0 {
		slices.Sort(next)
		m := next[len(next)/2]
		if len(next)%2 == 0 {
			m = (next[len(next)/2-1] + next[len(next)/2]) / 2
		}
		f.MedianNextResponseSeconds = &m
	}
	return f
}

// Reply identifies a reply in a report: the vendor-controlled From and Subject, and
// whether it came after the probe's deadline.
type Reply struct {
	ID         string    `json:"id"`
	From       string    `json:"from"`
	Subject    string    `json:"subject"`
	ReceivedAt time.Time `json:"received_at"`
	Late       bool      `json:"late"`
	// DKIM is the reply's authenticity in one line, as recorded at receipt
	// (probe.Auth.Summary): "DKIM pass, d=acme.example", "DKIM none (unsigned)", "DKIM
	// fail, d=acme.example: body hash did not verify", or "DKIM not checked" for a reply
	// recorded before checks were made.
	DKIM string `json:"dkim"`
}

// Breach is a probe that breached its SLA target (SLA "breached") or has no answer yet
// and is already past it ("open_breached").
type Breach struct {
	ProbeID    string         `json:"probe_id"`
	Vendor     string         `json:"vendor"`
	Script     string         `json:"script"`
	Priority   probe.Priority `json:"priority"`
	SentAt     time.Time      `json:"sent_at"`
	Zone       string         `json:"zone"` // the vendor's zone, for showing SentAt
	AfterHours bool           `json:"after_hours"`
	Status     probe.Status   `json:"status"`
	SLA        probe.SLAState `json:"sla"`
	Target     Target         `json:"target"`
	// ActualSeconds is the time to the first human reply on the target's clock; null
	// when no person answered.
	ActualSeconds *float64 `json:"actual_seconds"`
	// WaitingSeconds is, for an open probe past its target, the time waited so far on
	// the target's clock, as of GeneratedAt; otherwise null.
	WaitingSeconds *float64 `json:"waiting_seconds"`
	// FirstResponse is the first human reply by the deadline, null when there is none.
	FirstResponse *Reply `json:"first_response"`
	// LateResponse is the first human reply after the deadline when no person answered
	// by it: shown, never counted as an answer. Null otherwise.
	LateResponse *Reply `json:"late_response"`
}

// Row is one probe of the period, as WriteCSV writes it. Absent values are null.
type Row struct {
	ID                     string         `json:"id"`
	Vendor                 string         `json:"vendor"`
	Script                 string         `json:"script"`
	Priority               probe.Priority `json:"priority"`
	Language               string         `json:"language"`
	SentAt                 *time.Time     `json:"sent_at"`
	Status                 probe.Status   `json:"status"`
	AfterHours             *bool          `json:"after_hours"`
	AckLatencySeconds      *float64       `json:"ack_latency_seconds"`
	ResponseLatencySeconds *float64       `json:"response_latency_seconds"`
	BusinessLatencySeconds *float64       `json:"business_latency_seconds"`
	SLA                    probe.SLAState `json:"sla"`
	// SignOfLifeLatencySeconds is the time to the first automatic acknowledgement or
	// person's reply, whichever came first.
	SignOfLifeLatencySeconds *float64 `json:"sign_of_life_latency_seconds"`
}

// measured is a probe with its measurement and business hours, taken once
// (probe.Measured). It points at them rather than copying: a report sorts and regroups
// the same measured probes per vendor and per breakdown, and copying whole probes was
// much of its cost.
type measured = probe.Measured

// measureEach measures ps as of now, in the order given, each once, for probe's
// figures over measured probes (probe.ComputeFrom, probe.ComputeHeadlines, probe.BreakdownHeadlines).
func measureEach(ps []probe.Probe, now time.Time) ([]measured, error) {
	out := make([]measured, len(ps))
	ms := make([]probe.Measurement, len(ps))
	// Each share stops at its first error; the earliest share's is the error a
	// sequential pass would have met first.
	errs := make([]error, len(ps)/parallelMin+1)
	parallel(len(ps), parallelMin, func(lo, hi int) {
		var last *probe.BusinessHours
		for i := lo; i < hi; i++ {
			p := &ps[i]
			m, err := probe.Measure(*p, now)
			if err != nil {
				errs[lo/parallelMin] = err
				return
			}
			ms[i] = m
			// Consecutive probes of a vendor nearly always carry the same hours.
			if last == nil || !sameHours(last.Spec(), p.Terms.Hours) {
				h, err := probe.NewBusinessHours(p.Terms.Hours)
				if err != nil {
					errs[lo/parallelMin] = fmt.Errorf("probe %s: business hours: %w", p.ID, err)
					return
				}
				last = &h
			}
			out[i] = measured{Probe: p, M: &ms[i], Hours: last}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parallelMin is the smallest share of probes worth measuring on a goroutine of its own.
const parallelMin = 512

// parallel calls fn on contiguous shares [lo, hi) of [0, n), at least size long (but
// for the last), on up to GOMAXPROCS goroutines, and returns when all have returned.
// Every share starts at a multiple of size.
func parallel(n, size int, fn func(lo, hi int)) {
	workers := max(1, min(runtime.GOMAXPROCS(0), n/size))
	if workers == 1 {
		fn(0, n)
		return
	}
	per := (n/workers + size - 1) / size * size
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += per {
		hi := lo + per
		if hi > n {
			hi = n
		}
		wg.Go(func() { fn(lo, hi) })
	}
	wg.Wait()
}

// sameHours reports whether two specs are the same schedule, field by field.
func sameHours(a, b probe.HoursSpec) bool {
	return a.Zone == b.Zone && a.Open == b.Open && a.Close == b.Close &&
		slices.Equal(a.Days, b.Days) && slices.Equal(a.Holidays, b.Holidays)
}

// sortMeasured returns a copy of ms by the time sent or attempted, then ID: the order of
// rows, breaches and bars.
func sortMeasured(ms []measured) []measured {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b measured) int {
		return cmp.Or(attemptedAt(a.Probe).Compare(attemptedAt(b.Probe)), cmp.Compare(a.Probe.ID, b.Probe.ID))
	})
	return out
}

// attemptedAt is when p was sent or, if never confirmed sent, attempted (as
// probe.ByHourOfDay keys it).
func attemptedAt(p *probe.Probe) time.Time {
	for _, t := range []time.Time{p.SentAt, p.ScheduledAt, p.CreatedAt} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// Build measures cur (the probes of the period, of one vendor or of all) and prev (the
// previous period's, used only when opts.PrevSince is set) as of opts.Now and returns
// the report. It does not select probes by time: the caller passes those of each
// period. The error wraps ErrOptions for unusable options, or is probe.Measure's for
// terms that cannot be interpreted (naming the probe).
func Build(cur, prev []probe.Probe, opts Options) (Report, error) {
	switch {
	case opts.Now.IsZero():
		return Report{}, fmt.Errorf("%w: Now is not set", ErrOptions)
	case opts.Since.IsZero() || opts.Until.IsZero():
		return Report{}, fmt.Errorf("%w: Since and Until must both be set", ErrOptions)
	case !opts.Until.After(opts.Since):
		return Report{}, fmt.Errorf("%w: Until %s is not after Since %s", ErrOptions,
			opts.Until.UTC().Format(time.RFC3339), opts.Since.UTC().Format(time.RFC3339))
	case !opts.PrevSince.IsZero() && !opts.PrevSince.Before(opts.Since):
		return Report{}, fmt.Errorf("%w: PrevSince %s is not before Since %s", ErrOptions,
			opts.PrevSince.UTC().Format(time.RFC3339), opts.Since.UTC().Format(time.RFC3339))
	}
	compare := !opts.PrevSince.IsZero()
	if !compare {
		prev = nil
	}
	now := opts.Now
	r := Report{
		Title: opts.Title, Since: opts.Since.UTC(), Until: opts.Until.UTC(), GeneratedAt: now.UTC(),
		Breaches: []Breach{}, Vendors: []Vendor{}, Probes: make([]Row, 0, len(cur)),
	}
	if r.Title == "" {
		r.Title = fmt.Sprintf("Report %s to %s UTC", r.Since.Format("2006-01-02 15:04"), r.Until.Format("2006-01-02 15:04"))
	}
	if compare {
		ps := opts.PrevSince.UTC()
		r.PrevSince = &ps
	}

	each, err := measureEach(cur, now)
	if err != nil {
		return Report{}, err
	}
	ms := sortMeasured(each)
	// The previous period's probes are measured once, here, for each vendor's change.
	prevEach, err := measureEach(prev, now)
	if err != nil {
		return Report{}, fmt.Errorf("previous period: %w", err)
	}
	r.Totals = counts(probe.ComputeHeadlines(each, now))
	if r.Review, err = review(ms, now, opts.Brief); err != nil {
		return Report{}, err
	}

	curBy, prevBy := byVendor(each), byVendor(prevEach)
	names := slices.Sorted(maps.Keys(curBy))
	for name := range prevBy {
		if _, ok := curBy[name]; !ok {
			names = append(names, name)
		}
	}
	for _, p := range opts.Pauses {
		if p.Overlaps(opts.Since, opts.Until) && !slices.Contains(names, p.Vendor) {
			names = append(names, p.Vendor)
		}
	}
	slices.Sort(names)
	// Vendors' sections are independent: build them side by side, keep them in order,
	// and report the first vendor's error as a sequential loop would.
	vendors, errs := make([]Vendor, len(names)), make([]error, len(names))
	parallel(len(names), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			vendors[i], errs[i] = buildVendor(names[i], curBy[names[i]], prevBy[names[i]], compare, now, opts.Brief)
		}
	})
	for i, name := range names {
		if errs[i] != nil {
			return Report{}, fmt.Errorf("vendor %s: %w", name, errs[i])
		}
		vendors[i].Paused = paused(name, opts.Pauses, opts.Since, opts.Until, now)
		r.Vendors = append(r.Vendors, vendors[i])
	}

	var open []Breach
	var values []rowValues
	if !opts.Brief {
		values = make([]rowValues, len(ms))
	}
	nb := 0
	for _, x := range ms {
		if x.M.SLA == probe.SLABreached || x.M.SLA == probe.SLAOpenBreached {
			nb++
		}
	}
	r.Breaches = make([]Breach, 0, nb)
	for i, x := range ms {
		if !opts.Brief {
			r.Probes = append(r.Probes, row(x, &values[i]))
		}
		switch x.M.SLA {
		case probe.SLABreached:
			r.Breaches = append(r.Breaches, breach(x, now))
		case probe.SLAOpenBreached:
			open = append(open, breach(x, now))
		}
	}
	r.Breaches = append(r.Breaches, open...)
	for i := range r.Vendors {
		for _, b := range r.Breaches {
			if b.Vendor == r.Vendors[i].Name {
				r.Vendors[i].BreachCount++
			}
		}
	}
	return r, nil
}

// review counts the replies of ms waiting for a decision and, unless brief, how many
// probes would be answered if each were a person's answer.
//
// AnsweredIfPerson is the Answered count probe.Compute gives for the probes with every
// waiting reply taken as a person's: Answered counts probes one by one, so only the
// probes with a waiting reply are measured again; the others keep their status.
func review(ms []measured, now time.Time, brief bool) (Review, error) {
	rv := Review{Probes: []string{}}
	answered := 0
	for _, x := range ms {
		status, waits := x.M.Status, false
		var p probe.Probe
		for i, rp := range x.Probe.Replies {
			if rp.EffectiveKind() != probe.KindNeedsReview {
				continue
			}
			if !waits {
				p = *x.Probe
				p.Replies = slices.Clone(p.Replies)
				waits = true
				rv.Probes = append(rv.Probes, p.ID)
			}
			rv.Replies++
			p.Replies[i].Override = &probe.Override{Kind: probe.KindHuman}
		}
		if waits && !brief {
			m, err := probe.Measure(p, now)
			if err != nil {
				return Review{}, err
			}
			status = m.Status
		}
		if status == probe.StatusAnswered {
			answered++
		}
	}
	if rv.Replies == 0 || brief {
		return rv, nil
	}
	rv.AnsweredIfPerson = &answered
	return rv, nil
}

// buildVendor builds one vendor's section from its probes of the period, already
// measured (each, in the order the caller read them), and those of the previous period;
// brief leaves out what Options.Brief says.
func buildVendor(name string, each, prev []measured, compare bool, now time.Time, brief bool) (Vendor, error) {
	v := Vendor{Name: name, Zones: []string{}, SLA: []Attainment{}, Breakdowns: []Breakdown{}, Latencies: []Bar{}, Heatmap: []Cell{},
		LanguageMismatches: []LanguageMismatch{}}
	ms := sortMeasured(each)
	f := probe.ComputeFrom(each, now)
	v.Counts = counts(f)
	v.AnsweredRate = answeredRate(f)
	v.Ack, v.Response, v.BusinessResponse = distribution(f.Ack), distribution(f.Response), distribution(f.BusinessResponse)
	v.SLA = attainments(f, ms)
	for _, x := range ms {
		if brief {
			break
		}
		if mm := v.ReplyLanguage.add(x); mm != nil {
			v.LanguageMismatches = append(v.LanguageMismatches, *mm)
		}
	}

	// The hours shown are those of the latest probe, of this period or else the last.
	latest := ms
	if len(latest) == 0 {
		latest = sortMeasured(prev)
	}
	if len(latest) > 0 {
		v.Hours = latest[len(latest)-1].Probe.Terms.Hours
	}
	for _, x := range ms {
		if z := x.Probe.Terms.Hours.Zone; !slices.Contains(v.Zones, z) {
			v.Zones = append(v.Zones, z)
		}
	}
	slices.Sort(v.Zones)

	if compare {
		v.Change = change(probe.ComputeHeadlines(prev, now), f)
	}
	dims := []struct {
		name string
		by   func(probe.Probe, probe.Measurement) string
	}{
		{ByPriority, probe.ByPriority}, {ByHours, probe.ByAfterHours},
		{ByLanguage, probe.ByLanguage}, {ByScript, probe.ByScript},
		{ByHour, probe.ByHourOfDay},
	}
	if brief {
		dims = dims[1:2] // ByHours alone
	}
	// Each probe is read once for every breakdown: its headline part, how its reply's
	// language fits, and its key in each dimension. The breakdowns then regroup these
	// few bytes a probe rather than the probes, which lie hundreds of bytes apart.
	hs := make([]probe.Headline, len(ms))
	fit := make([]LanguageFit, len(ms))
	keys := make([][]string, len(dims))
	for d := range dims {
		keys[d] = make([]string, len(ms))
	}
	for i, x := range ms {
		hs[i] = probe.HeadlineOf(x, now)
		fit[i].add(x)
		p, m := *x.Probe, *x.M
		for d, dim := range dims {
			keys[d][i] = dim.by(p, m)
		}
	}
	for d, dim := range dims {
		v.Breakdowns = append(v.Breakdowns, breakdown(dim.name, hs, fit, keys[d]))
	}
	if brief {
		return v, nil
	}
	v.Latencies = bars(ms, now)
	v.Heatmap = heatmap(ms)
	v.Followups = followupFigures(ms)
	return v, nil
}

// byVendor groups ms by vendor, keeping their order.
func byVendor(ms []measured) map[string][]measured {
	sizes := map[string]int{}
	for _, x := range ms {
		sizes[x.Probe.Vendor]++
	}
	out := make(map[string][]measured, len(sizes))
	for _, x := range ms {
		g := out[x.Probe.Vendor]
		if g == nil {
			g = make([]measured, 0, sizes[x.Probe.Vendor])
		}
		out[x.Probe.Vendor] = append(g, x)
	}
	return out
}

func counts(f probe.Figures) Counts {
	return Counts{
		Total: f.Total, Sent: f.Sent, Answered: f.Answered, Unanswered: f.Unanswered,
		Open: f.Open, Bounced: f.Bounced, Failed: f.Failed, Unknown: f.Unknown, AckOnly: f.AckOnly,
		AutoAcked: f.AutoAcked,
	}
}

func answeredRate(f probe.Figures) *float64 {
	if v, ok := f.AnsweredRate(); ok {
		return &v
	}
	return nil
}

// secs converts d to seconds rounded to the millisecond, as view.Record does.
func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

func secsPtr(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := secs(*d)
	return &s
}

func estimate(e probe.Estimate) *Estimate { return &Estimate{Seconds: secs(e.D), Reached: e.Reached} }

func distribution(s probe.Summary) Distribution {
	d := Distribution{N: s.N, Events: s.Events, Curve: make([]CurvePoint, 0, len(s.Curve))}
	if s.N > 0 {
		d.Median, d.P90, d.Max = estimate(s.Median), estimate(s.P90), estimate(s.Max)
	}
	for _, st := range s.Curve {
		d.Curve = append(d.Curve, CurvePoint{Seconds: secs(st.At), Survival: st.S, AtRisk: st.AtRisk, Events: st.Events, Censored: st.Censored})
	}
	return d
}

// finite returns &v, or nil for NaN and infinities, which JSON cannot carry.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// priorityOrder sorts P1 to P4 first, in that order, then anything else by name.
func priorityOrder(a, b string) int {
	ia, ib := slices.Index(probe.Priorities, probe.Priority(a)), slices.Index(probe.Priorities, probe.Priority(b))
	if ia < 0 {
		ia = len(probe.Priorities)
	}
	if ib < 0 {
		ib = len(probe.Priorities)
	}
	return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a, b))
}

func attainments(f probe.Figures, ms []measured) []Attainment {
	targets := map[probe.Priority][]Target{}
	for _, x := range ms {
		t := x.Probe.Terms.SLA
		if t == nil || x.M.SLA == probe.SLANone {
			continue
		}
		tg := Target{Seconds: secs(t.FirstResponse), Clock: t.Clock}
		if !slices.Contains(targets[x.Probe.Priority], tg) {
			targets[x.Probe.Priority] = append(targets[x.Probe.Priority], tg)
		}
	}
	out := []Attainment{}
	for _, pr := range slices.SortedFunc(maps.Keys(f.SLA), func(a, b probe.Priority) int { return priorityOrder(string(a), string(b)) }) {
		a := f.SLA[pr]
		tg := targets[pr]
		slices.SortFunc(tg, func(a, b Target) int { return cmp.Or(cmp.Compare(a.Seconds, b.Seconds), cmp.Compare(a.Clock, b.Clock)) })
		at := Attainment{Priority: pr, Targets: tg, Met: a.Met, Decided: a.Decided, Open: a.Open, Undecided: a.Undecided}
		if at.Targets == nil {
			at.Targets = []Target{}
		}
		if a.Decided > 0 {
			at.Rate, at.Lo, at.Hi = finite(a.Rate), finite(a.Lo), finite(a.Hi)
		}
		out = append(out, at)
	}
	return out
}

func change(prev, cur probe.Figures) *Change {
	d := probe.Change(prev, cur)
	c := &Change{Previous: counts(prev), SLA: []SLAShift{}}
	c.AnsweredRate = Shift{Prev: answeredRate(prev), Cur: answeredRate(cur), Delta: d.AnsweredRate}
	if prev.Response.N > 0 {
		c.MedianResponse.Prev = estimate(prev.Response.Median)
	}
	if cur.Response.N > 0 {
		c.MedianResponse.Cur = estimate(cur.Response.Median)
	}
	if d.MedianResponse != nil {
		c.MedianResponse.DeltaSeconds = secsPtr(d.MedianResponse)
	}
	rate := func(f probe.Figures, pr probe.Priority) *float64 {
		if a, ok := f.SLA[pr]; ok && a.Decided > 0 {
			return finite(a.Rate)
		}
		return nil
	}
	prs := slices.Collect(maps.Keys(cur.SLA))
	for pr := range prev.SLA {
		if !slices.Contains(prs, pr) {
			prs = append(prs, pr)
		}
	}
	slices.SortFunc(prs, func(a, b probe.Priority) int { return priorityOrder(string(a), string(b)) })
	for _, pr := range prs {
		s := SLAShift{Priority: pr, Shift: Shift{Prev: rate(prev, pr), Cur: rate(cur, pr)},
			PrevMet: prev.SLA[pr].Met, PrevDecided: prev.SLA[pr].Decided, Met: cur.SLA[pr].Met, Decided: cur.SLA[pr].Decided}
		if v, ok := d.SLARate[pr]; ok {
			s.Delta = finite(v)
		}
		c.SLA = append(c.SLA, s)
	}
	return c
}

// breakdown groups a vendor's probes by keys[i], from each probe's headline part hs[i]
// and language fit fit[i].
func breakdown(name string, hs []probe.Headline, fit []LanguageFit, keys []string) Breakdown {
	sizes := map[string]int{}
	for _, k := range keys {
		sizes[k]++
	}
	parts := make(map[string][]probe.Headline, len(sizes))
	fits := make(map[string]*LanguageFit, len(sizes))
	for i, k := range keys {
		if parts[k] == nil {
			parts[k] = make([]probe.Headline, 0, sizes[k])
			fits[k] = &LanguageFit{}
		}
		parts[k] = append(parts[k], hs[i])
		fl := fits[k]
		fl.Matched, fl.Known, fl.Unknown = fl.Matched+fit[i].Matched, fl.Known+fit[i].Known, fl.Unknown+fit[i].Unknown
	}
	groups := make(map[string]probe.Figures, len(parts))
	for k, g := range parts {
		groups[k] = probe.SumHeadlines(g)
	}
	order := func(a, b string) int {
		// The empty key (a probe the dimension cannot place) goes last.
		if (a == "") != (b == "") {
			if a == "" {
				return 1
			}
			return -1
		}
		switch name {
		case ByPriority:
			return priorityOrder(a, b)
		case ByHours:
			rank := func(k string) int { return map[string]int{probe.KeyBusinessHours: 0, probe.KeyAfterHours: 1}[k] }
			return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
		}
		return cmp.Compare(a, b)
	}
	b := Breakdown{By: name, Groups: []Group{}}
	for _, k := range slices.SortedFunc(maps.Keys(groups), order) {
		f := groups[k]
		g := Group{Key: k, Counts: counts(f), AnsweredRate: answeredRate(f)}
		if fit := fits[k]; fit != nil {
			g.ReplyLanguage = *fit
		}
		if f.Response.N > 0 {
			g.MedianResponse, g.P90Response = estimate(f.Response.Median), estimate(f.Response.P90)
		}
		for _, a := range f.SLA {
			g.SLAMet += a.Met
			g.SLADecided += a.Decided
		}
		b.Groups = append(b.Groups, g)
	}
	return b
}

// add counts x's first human reply, if any, and returns the mismatch when it came in
// another language than the one asked.
func (l *LanguageFit) add(x measured) *LanguageMismatch {
	rp := x.M.FirstResponse
	switch {
	case rp == nil:
		return nil
	case rp.Language == "" || x.Probe.Language == "":
		l.Unknown++
		return nil
	}
	l.Known++
	if probe.LanguageMatches(x.Probe.Language, rp.Language) {
		l.Matched++
		return nil
	}
	return &LanguageMismatch{ProbeID: x.Probe.ID, Script: x.Probe.Script, ReplyID: rp.ID, Asked: x.Probe.Language, Got: rp.Language}
}

// window returns the end of x's observation window as probe.Compute takes it: the
// deadline, or now if that comes first and the probe is not already unanswered, and
// never before SentAt.
func window(x measured, now time.Time) time.Time {
	end := x.M.Deadline
	if x.M.Status != probe.StatusUnanswered && now.Before(end) {
		end = now
	}
	if end.Before(x.Probe.SentAt) {
		end = x.Probe.SentAt
	}
	return end
}

// reachedVendor reports whether x enters the latency distributions (probe.Compute).
func reachedVendor(s probe.Status) bool {
	switch s {
	case probe.StatusAnswered, probe.StatusUnanswered, probe.StatusSent, probe.StatusAcknowledged:
		return true
	}
	return false
}

func bars(ms []measured, now time.Time) []Bar {
	out := []Bar{}
	for _, x := range ms {
		if !reachedVendor(x.M.Status) {
			continue
		}
		st, _ := StateOf(x.M.Status, x.M.SLA) // ok: the probe reached the vendor
		b := Bar{ProbeID: x.Probe.ID, Priority: x.Probe.Priority, Status: x.M.Status, SLA: x.M.SLA, State: st, AfterHours: x.M.AfterHours}
		if x.M.Status == probe.StatusAnswered {
			b.Seconds = secs(*x.M.ResponseLatency)
		} else {
			b.Seconds, b.Censored = secs(window(x, now).Sub(x.Probe.SentAt)), true
		}
		out = append(out, b)
	}
	// A stable sort of the bars themselves moved 100-byte structs around most of the
	// time; sorting their positions, with the position as the last key, gives the same
	// order.
	idx := make([]int32, len(out))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(i, j int32) int {
		a, b := &out[i], &out[j]
		ca, cb := 0, 0
		if a.Censored {
			ca = 1
		}
		if b.Censored {
			cb = 1
		}
		return cmp.Or(cmp.Compare(a.Seconds, b.Seconds), cmp.Compare(ca, cb), cmp.Compare(a.ProbeID, b.ProbeID), cmp.Compare(i, j))
	})
	sorted := make([]Bar, len(out))
	for k, i := range idx {
		sorted[k] = out[i]
	}
	return sorted
}

// dayIndex maps a weekday to its heatmap row, Monday first.
func dayIndex(wd time.Weekday) int { return (int(wd) + 6) % 7 }

func heatmap(ms []measured) []Cell {
	var grid [7][24]Cell
	for _, x := range ms {
		st, ok := StateOf(x.M.Status, x.M.SLA)
		if !ok {
			continue
		}
		lt := x.Probe.SentAt.In(x.Hours.Location())
		c := &grid[dayIndex(lt.Weekday())][lt.Hour()]
		c.Sent++
		c.States.add(st)
		switch x.M.Status {
		case probe.StatusAnswered:
			c.Answered++
		case probe.StatusUnanswered:
			c.Unanswered++
		case probe.StatusBounced:
			c.Bounced++
		default:
			c.Open++
		}
	}
	out := []Cell{}
	for d := range grid {
		for h := range grid[d] {
			if c := grid[d][h]; c.Sent > 0 {
				c.Day, c.Hour, c.Worst = Days[d], h, c.States.Worst()
				out = append(out, c)
			}
		}
	}
	return out
}

func replyOf(x measured, r *probe.Reply) *Reply {
	if r == nil {
		return nil
	}
	return &Reply{ID: r.ID, From: r.From, Subject: r.Subject, ReceivedAt: r.ReceivedAt.UTC(), Late: x.Probe.IsLate(*r), DKIM: r.Auth.Summary()}
}

func breach(x measured, now time.Time) Breach {
	t := x.Probe.Terms.SLA // not nil: the probe has an SLA state other than none
	b := Breach{
		ProbeID: x.Probe.ID, Vendor: x.Probe.Vendor, Script: x.Probe.Script, Priority: x.Probe.Priority,
		SentAt: x.Probe.SentAt.UTC(), Zone: x.Probe.Terms.Hours.Zone, AfterHours: x.M.AfterHours,
		Status: x.M.Status, SLA: x.M.SLA, Target: Target{Seconds: secs(t.FirstResponse), Clock: t.Clock},
		FirstResponse: replyOf(x, x.M.FirstResponse), LateResponse: replyOf(x, x.M.LateResponse),
	}
	if x.M.FirstResponse != nil {
		b.ActualSeconds = secsPtr(x.M.ResponseLatency)
		if t.Clock == probe.Business {
			b.ActualSeconds = secsPtr(x.M.BusinessLatency)
		}
	}
	if x.M.SLA == probe.SLAOpenBreached {
		w := now.Sub(x.Probe.SentAt)
		if t.Clock == probe.Business {
			w = x.Hours.Between(x.Probe.SentAt, now)
		}
		b.WaitingSeconds = secsPtr(&w)
	}
	return b
}

func utcPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// rowValues holds what a Row's pointers point to, so that a row costs no allocation of
// its own: a report's rows take theirs from one slice.
type rowValues struct {
	sentAt     time.Time
	afterHours bool
	secs       [4]float64 // ack, sign of life, response, business
}

// row returns x's row; its pointers point into v.
func row(x measured, v *rowValues) Row {
	r := Row{
		ID: x.Probe.ID, Vendor: x.Probe.Vendor, Script: x.Probe.Script, Priority: x.Probe.Priority, Language: x.Probe.Language,
		Status: x.M.Status, SLA: x.M.SLA,
	}
	put := func(i int, d *time.Duration) *float64 {
		if d == nil {
			return nil
		}
		v.secs[i] = secs(*d)
		return &v.secs[i]
	}
	if !x.Probe.SentAt.IsZero() {
		v.sentAt = x.Probe.SentAt.UTC()
		r.SentAt = &v.sentAt
		v.afterHours = x.M.AfterHours
		r.AfterHours = &v.afterHours
	}
	r.AckLatencySeconds, r.SignOfLifeLatencySeconds = put(0, x.M.AckLatency), put(1, x.M.SignOfLifeLatency)
	if x.M.FirstResponse != nil {
		r.ResponseLatencySeconds = put(2, x.M.ResponseLatency)
		r.BusinessLatencySeconds = put(3, x.M.BusinessLatency)
	}
	return r
}

// hoursText describes business hours: "Mon–Fri 09:00–18:00", "24x7", with the number
// of holidays.
func hoursText(h probe.HoursSpec) string {
	if len(h.Days) == 0 && h.Open == "" && h.Close == "" {
		return "24x7"
	}
	var open [7]bool
	for _, d := range h.Days {
		for i, name := range Days {
			if strings.EqualFold(strings.TrimSpace(d), name) {
				open[i] = true
			}
		}
	}
	var runs []string
	for i := 0; i < 7; {
		if !open[i] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && open[j+1] {
			j++
		}
		switch {
		case j == i:
			runs = append(runs, Days[i])
		case j == i+1:
			runs = append(runs, Days[i], Days[j])
		default:
			runs = append(runs, Days[i]+"–"+Days[j])
		}
		i = j + 1
	}
	s := strings.Join(runs, ", ") + " " + h.Open + "–" + h.Close
	switch n := len(h.Holidays); n {
	case 0:
	case 1:
		s += ", 1 holiday"
	default:
		s += ", " + plural(n, "holiday")
	}
	return s
}

// businessGrid returns which hours of the week fall in h's business hours, ignoring
// holidays, for shading the heatmap: an hour counts if any of it is open.
func businessGrid(h probe.HoursSpec) [7][24]bool {
	var g [7][24]bool
	if len(h.Days) == 0 && h.Open == "" && h.Close == "" {
		for d := range g {
			for hr := range g[d] {
				g[d][hr] = true
			}
		}
		return g
	}
	open, okO := minutes(h.Open)
	closing, okC := minutes(h.Close)
	if !okO || !okC {
		return g
	}
	for _, d := range h.Days {
		i := slices.IndexFunc(Days, func(n string) bool { return strings.EqualFold(strings.TrimSpace(d), n) })
		if i < 0 {
			continue
		}
		for hr := range 24 {
			g[i][hr] = hr*60 < closing && (hr+1)*60 > open
		}
	}
	return g
}

func minutes(hhmm string) (int, bool) {
	var h, m int
	if _, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); err != nil {
		return 0, false
	}
	return h*60 + m, true
}
