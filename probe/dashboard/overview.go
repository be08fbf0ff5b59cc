package dashboard

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/store"
)

// build reads the probes of the period (of one vendor when vendor is set) and builds
// their report as of now; brief builds only what the overview shows (report.Options
// Brief).
func (h *Handler) build(r *http.Request, vendor string, brief bool) (Period, []probe.Probe, report.Report, error) {
	return h.buildAt(r.URL.Query(), vendor, brief, h.opts.Now())
}

// buildAt is build for the query q as of now.
func (h *Handler) buildAt(q url.Values, vendor string, brief bool, now time.Time) (Period, []probe.Probe, report.Report, error) {
	per, ps, err := h.periodProbes(q, vendor, now)
	if err != nil {
		return Period{}, nil, report.Report{}, err
	}
	rep, err := report.Build(ps, nil, report.Options{Since: per.Since, Until: per.Until, Now: now, Title: per.Text, Brief: brief})
	if err != nil {
		return Period{}, nil, report.Report{}, fmt.Errorf("build the figures of %s: %w", per.Text, err)
	}
	return per, ps, rep, nil
}

// periodProbes resolves the period of q as of now and reads its probes (of vendor when
// set), once: for ?period=all, which starts at the oldest probe, the probes read to find
// it are the period's, so the store is not read twice.
func (h *Handler) periodProbes(q url.Values, vendor string, now time.Time) (Period, []probe.Probe, error) {
	var every []probe.Probe
	read := false
	first := func() (time.Time, error) {
		ps, err := h.db.Probes(store.Filter{Vendor: vendor})
		if err != nil {
			return time.Time{}, err
		}
		every, read = ps, true
		if len(ps) == 0 {
			return time.Time{}, nil
		}
		return ps[0].CreatedAt, nil
	}
	per, err := parsePeriod(q, now, h.opts.Location, first)
	if err != nil {
		return Period{}, nil, err
	}
	if read {
		// As store.Filter selects: created in [Since, Until).
		ps := make([]probe.Probe, 0, len(every))
		for _, p := range every {
			if !p.CreatedAt.Before(per.Since) && p.CreatedAt.Before(per.Until) {
				ps = append(ps, p)
			}
		}
		return per, ps, nil
	}
	ps, err := h.db.Probes(store.Filter{Vendor: vendor, Since: per.Since, Until: per.Until})
	if err != nil {
		return Period{}, nil, err
	}
	return per, ps, nil
}

// The overview's figures are the costly part of the dashboard: the report of every
// probe of the period (about 2 s of CPU for 100,000 probes). They change only when the
// store does or by time alone, so the handler keeps the last ones built for each period
// and serves them again while all of these hold:
//
//   - the store's version (Handler.version: in the daemon, the records generation and
//     the page generation) is the one they were built at, read before the build;
//   - no instant at which they change by time alone has passed: an SLA target or a
//     deadline (nextChange, which the page also announces), a probe leaving or entering
//     a moving period (the last 7 days, the whole trial), the week turning (this week,
//     last week);
//   - they are younger than overviewMaxAge, since the estimates censor open probes at
//     the instant they are computed: a page never shows figures computed more than that
//     long ago, and says when they were (generated_at, the footer).
//
// The pauses and the unmatched mail are read at each request (they are cheap, and a
// configured pause window starts by time alone), and the page is rendered at each
// request (its session's token, its time display), so ?tz= needs no entry of its own.
// Without a version (a Store that is not a *store.DB and no Options.Version) nothing is
// kept. Requests that arrive while the same figures are being built wait for them
// rather than building them again.
const overviewMaxAge = time.Minute

// overviewKeep bounds the periods kept (each custom period is one).
const overviewKeep = 8

// overviewFigures is what an overview keeps: everything but the unmatched mail and the
// pauses.
type overviewFigures struct {
	ov         Overview
	next       time.Time // nextChange of the period's probes
	expires    time.Time // first instant the period's probes differ by time alone; zero: never
	version    string    // the store's version, read before the build
	computedAt time.Time // the clock when they were built
}

// overviewBuild is one build of an overview, finished when done is closed.
type overviewBuild struct {
	done    chan struct{}
	figures *overviewFigures
	err     error
}

// overviewCache holds the last overview built per period, and the builds in flight.
type overviewCache struct {
	mu       sync.Mutex
	kept     map[string]*overviewFigures
	building map[string]*overviewBuild // by period key and version
	builds   int                       // builds started, for tests
	waits    int                       // requests that waited for a build in flight, for tests
}

// overviewKey names the period that q selects, whatever the clock.
func overviewKey(q url.Values) string {
	name := q.Get("period")
	if name == "" {
		name = "7d"
	}
	if name == "custom" {
		return name + "\x00" + q.Get("since") + "\x00" + q.Get("until")
	}
	return name
}

// fresh reports whether f may be served for a request at now with the store at
// version.
func (f *overviewFigures) fresh(version string, now time.Time) bool {
	return version != "" && version == f.version && !now.Before(f.computedAt) &&
		now.Sub(f.computedAt) < overviewMaxAge &&
		(f.next.IsZero() || now.Before(f.next)) && (f.expires.IsZero() || now.Before(f.expires))
}

// overviewFigures returns the overview's figures for q as of now, kept or built.
func (h *Handler) overviewFigures(q url.Values, now time.Time) (*overviewFigures, error) {
	version := h.version()
	key := overviewKey(q)
	c := &h.overviews
	c.mu.Lock()
	if f := c.kept[key]; f != nil && f.fresh(version, now) {
		c.mu.Unlock()
		return f, nil
	}
	inflight := key + "\x00" + version
	b := c.building[inflight]
	if b == nil || version == "" {
		b = &overviewBuild{done: make(chan struct{})}
		c.builds++
		if version != "" {
			c.building[inflight] = b
		}
		c.mu.Unlock()
		b.figures, b.err = h.buildOverview(q, now, version)
		c.mu.Lock()
		if version != "" {
			delete(c.building, inflight)
		}
		if b.err == nil && version != "" {
			c.keep(key, b.figures)
		}
		c.mu.Unlock()
		close(b.done)
		return b.figures, b.err
	}
	c.waits++
	c.mu.Unlock()
	<-b.done
	return b.figures, b.err
}

// keep stores f as the figures of key, forgetting the oldest period beyond
// overviewKeep. c.mu is held.
func (c *overviewCache) keep(key string, f *overviewFigures) {
	c.kept[key] = f
	for len(c.kept) > overviewKeep {
		oldest := ""
		for k, g := range c.kept {
			if oldest == "" || g.computedAt.Before(c.kept[oldest].computedAt) {
				oldest = k
			}
		}
		delete(c.kept, oldest)
	}
}

// buildOverview builds the overview's figures for q as of now, the store being at
// version: one read of the period's probes and one brief report.
func (h *Handler) buildOverview(q url.Values, now time.Time, version string) (*overviewFigures, error) {
	per, ps, rep, err := h.buildAt(q, "", true, now)
	if err != nil {
		return nil, err
	}
	ov := Overview{Period: per, GeneratedAt: rep.GeneratedAt, Totals: rep.Totals, Vendors: make([]VendorRow, 0, len(rep.Vendors)),
		PendingReview: rep.Review.Replies}
	pending := pendingByVendor(ps)
	openPast := map[string]int{}
	for _, b := range rep.Breaches {
		if b.SLA == probe.SLAOpenBreached {
			openPast[b.Vendor]++
		}
	}
	for _, v := range rep.Vendors {
		ov.Vendors = append(ov.Vendors, VendorRow{Name: v.Name, Counts: v.Counts, AnsweredRate: v.AnsweredRate,
			MedianResponse: v.Response.Median, P90Response: v.Response.P90, SLA: v.SLA,
			Breaches: v.BreachCount, OpenPastTarget: openPast[v.Name],
			BusinessHours: hoursRate(v, probe.KeyBusinessHours), AfterHours: hoursRate(v, probe.KeyAfterHours),
			PendingReview: pending[v.Name]})
	}
	f := &overviewFigures{ov: ov, next: nextChange(ps, rep.GeneratedAt), version: version, computedAt: now}
	if f.expires, err = h.periodExpires(per, ps, now); err != nil {
		return nil, err
	}
	return f, nil
}

// periodExpires returns the first instant after now at which the probes of per,
// resolved at now, are no longer those of the same period resolved then (ps, oldest
// first); zero when that never happens by time alone (a custom period).
func (h *Handler) periodExpires(per Period, ps []probe.Probe, now time.Time) (time.Time, error) {
	var expires time.Time
	earliest := func(t time.Time) {
		if expires.IsZero() || t.Before(expires) {
			expires = t
		}
	}
	switch per.Name {
	case "week":
		return per.Until, nil // the next week starts
	case "lastweek":
		return per.Until.In(h.opts.Location).AddDate(0, 0, 7), nil
	case "custom":
		return time.Time{}, nil
	}
	// 7d and all: Until moves with the clock, and so does Since for 7d. A probe created
	// at c is in the period from the instant Until passes c; for 7d, it leaves once
	// Since passes it.
	if per.Name == "7d" && len(ps) > 0 {
		earliest(now.Add(ps[0].CreatedAt.Sub(per.Since)).Add(time.Nanosecond))
	}
	later, err := h.db.Probes(store.Filter{Since: per.Until})
	if err != nil {
		return time.Time{}, fmt.Errorf("read the probes created after %s: %w", per.Until.Format(time.RFC3339), err)
	}
	if len(later) > 0 {
		earliest(now.Add(later[0].CreatedAt.Sub(per.Until)).Add(time.Nanosecond))
	}
	return expires, nil
}

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	now := h.opts.Now()
	f, err := h.overviewFigures(r.URL.Query(), now)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ov := f.ov
	ov.Vendors = append([]VendorRow(nil), f.ov.Vendors...)
	um, err := h.db.UnmatchedMail(ov.Period.Since, ov.Period.Until)
	if err != nil {
		h.fail(w, r, fmt.Errorf("read unmatched mail: %w", err))
		return
	}
	unmatched := map[string]int{}
	for _, u := range um {
		unmatched[u.Vendor]++
	}
	ov.Unmatched, ov.UnmatchedNoVendor = len(um), unmatched[""]
	pauses, err := h.pausesNow()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for i := range ov.Vendors {
		row := &ov.Vendors[i]
		row.Unmatched = unmatched[row.Name]
		if p, ok := probe.PauseAt(pauses[row.Name], now); ok {
			row.Paused = &p
		}
	}
	h.respondAt(w, r, "overview", "supportprobe: overview", ov, f.next, f.version, f.computedAt)
}

// pendingByVendor counts, per vendor, the replies of ps waiting for a person's decision.
func pendingByVendor(ps []probe.Probe) map[string]int {
	out := map[string]int{}
	for _, p := range ps {
		for _, rp := range p.Replies {
			if rp.EffectiveKind() == probe.KindNeedsReview {
				out[p.Vendor]++
			}
		}
	}
	return out
}

// hoursRate is the answer rate of v's probes sent inside (key probe.KeyBusinessHours)
// or outside (probe.KeyAfterHours) its business hours, from the report's breakdown.
func hoursRate(v report.Vendor, key string) HoursRate {
	var hr HoursRate
	for _, b := range v.Breakdowns {
		if b.By != report.ByHours {
			continue
		}
		for _, g := range b.Groups {
			if g.Key == key {
				hr = HoursRate{Answered: g.Counts.Answered, Decided: g.Counts.Answered + g.Counts.Unanswered, Rate: g.AnsweredRate}
			}
		}
	}
	return hr
}
