package dashboard

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
)

// clock is a settable clock for a Handler.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()).UTC() }

func (h *Handler) overviewBuilds() (builds, waits int) {
	h.overviews.mu.Lock()
	defer h.overviews.mu.Unlock()
	return h.overviews.builds, h.overviews.waits
}

// countsOf is what of an overview changes only through a write or at one of the
// instants the kept figures expire: which probes are in the period and their states.
// (The estimates also move as open probes age, which overviewMaxAge bounds, and the
// bounds of a moving period with the clock.)
func countsOf(t *testing.T, ov Overview) string {
	t.Helper()
	rows := []any{ov.Totals, ov.PendingReview, ov.Unmatched}
	for _, v := range ov.Vendors {
		rows = append(rows, []any{v.Name, v.Counts, v.SLA, v.Breaches, v.OpenPastTarget, v.BusinessHours, v.AfterHours, v.PendingReview, v.Unmatched})
	}
	b, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOverviewKept serves the overview from one handler over time and writes, and at
// each step compares it with a handler that has kept nothing, built at the same
// instant: the kept figures are served only while the probes of the period and their
// states are those a new build gives, and are built again on a write, when an SLA
// target passes, when a probe enters or leaves the last 7 days, when the week turns,
// and after overviewMaxAge.
func TestOverviewKept(t *testing.T) {
	f := mustFixture(t)
	clk := newClock(fixtureNow)
	h := New(f.db, Options{Now: clk.now})
	builds := 0
	step := func(what, query string, at time.Time, rebuilt bool) Overview {
		t.Helper()
		clk.set(at)
		got := mustJSON[Overview](t, h, "/?format=json&"+query)
		n, _ := h.overviewBuilds()
		if rebuilt && n != builds+1 {
			t.Errorf("%s (%s): builds = %d, want %d: the kept figures were served", what, at.Format(time.RFC3339Nano), n, builds+1)
		}
		if !rebuilt && n != builds {
			t.Errorf("%s (%s): builds = %d, want %d: the figures were built again", what, at.Format(time.RFC3339Nano), n, builds)
		}
		builds = n
		fresh := mustJSON[Overview](t, New(f.db, Options{Now: clk.now}), "/?format=json&"+query)
		if rebuilt && !reflect.DeepEqual(got, fresh) {
			t.Errorf("%s: built overview = %+v\nwant %+v", what, got, fresh)
		}
		if g, w := countsOf(t, got), countsOf(t, fresh); g != w {
			t.Errorf("%s (%s): overview counts = %s\nnew build gives %s", what, at.Format(time.RFC3339Nano), g, w)
		}
		return got
	}
	mk := func(p probe.Probe) {
		t.Helper()
		p.Vendor, p.Script, p.Priority, p.Language, p.State = "gamma", "login-en", probe.P1, "en", probe.StateSent
		p.Terms = probe.Terms{Hours: probe.HoursSpec{Zone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"},
			SLA: &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}, Deadline: 72 * time.Hour}
		p.From, p.To, p.Subject = "li.wei@buyer.example", []string{"support@gamma.example"}, "Question"
		p.MessageID, p.Token = p.CreatedAt.Format("20060102150405")+"@buyer.example", "tok"+p.CreatedAt.Format("150405")
		if _, err := f.db.CreateProbe(p); err != nil {
			t.Fatal(err)
		}
	}

	first := step("first request", "", fixtureNow, true)
	if first.Totals.Sent != 5 {
		t.Fatalf("first overview: %d sent, want the fixture's 5", first.Totals.Sent)
	}
	for _, q := range []string{"tz=utc", "tz=vendor"} {
		clk.set(fixtureNow.Add(10 * time.Second))
		if _, body := get(t, h, "/?"+q); body == "" {
			t.Fatalf("GET /?%s: empty page", q)
		}
	}
	if n, _ := h.overviewBuilds(); n != builds {
		t.Errorf("the HTML pages (tz=utc, tz=vendor) built the figures again: builds = %d, want %d", n, builds)
	}
	again := step("30 s later", "", fixtureNow.Add(30*time.Second), false)
	if !reflect.DeepEqual(again.Vendors, first.Vendors) || !again.GeneratedAt.Equal(fixtureNow) {
		t.Errorf("kept overview differs from the first: generated %s, %+v", again.GeneratedAt, again.Vendors)
	}

	// A write: the reply waiting for review is decided a person's answer.
	if _, err := f.db.SetOverride(f.reviewReply, probe.Override{Kind: probe.KindHuman, By: "test"}); err != nil {
		t.Fatal(err)
	}
	decided := step("after a decision", "", fixtureNow.Add(40*time.Second), true)
	if decided.PendingReview != 0 || decided.Vendors[0].Counts.Answered != first.Vendors[0].Counts.Answered+1 {
		t.Errorf("after the decision: pending %d, acme answered %d; want 0, %d", decided.PendingReview, decided.Vendors[0].Counts.Answered, first.Vendors[0].Counts.Answered+1)
	}
	step("just before the kept figures are a minute old", "", fixtureNow.Add(40*time.Second+overviewMaxAge-time.Nanosecond), false)
	base := fixtureNow.Add(40*time.Second + overviewMaxAge)
	step("a minute old", "", base, true)

	// An SLA target passing by time alone: a probe sent 59 min 50 s before base, 1 h target.
	target := base.Add(10 * time.Second)
	mk(probe.Probe{CreatedAt: target.Add(-time.Hour - time.Minute), ScheduledAt: target.Add(-time.Hour - time.Minute), SentAt: target.Add(-time.Hour)})
	step("after a new probe", "", base, true)
	step("at its SLA target (past it is more than the hour)", "", target, false)
	past := step("just after its SLA target", "", target.Add(time.Nanosecond), true)
	if g := past.Vendors[len(past.Vendors)-1]; g.Name != "gamma" || g.OpenPastTarget != 1 {
		t.Errorf("past the SLA target: last row %s, %d open past target; want gamma, 1", g.Name, g.OpenPastTarget)
	}

	// A probe created ahead of the clock enters the last 7 days when the clock passes it.
	ahead := target.Add(20 * time.Second)
	mk(probe.Probe{CreatedAt: ahead, ScheduledAt: ahead})
	step("after a probe created ahead of the clock", "", target.Add(time.Second), true)
	step("at its creation", "", ahead, false)
	entered := step("just after its creation", "", ahead.Add(time.Nanosecond), true)
	if entered.Totals.Total != past.Totals.Total+1 {
		t.Errorf("after the probe ahead of the clock: %d probes, want %d", entered.Totals.Total, past.Totals.Total+1)
	}

	// The oldest probe (the fixture's, created Tuesday 01:59) leaves the last 7 days.
	oldest, err := f.db.Probe(f.met)
	if err != nil {
		t.Fatal(err)
	}
	leave := oldest.CreatedAt.Add(7 * 24 * time.Hour)
	step("10 s before the oldest probe leaves", "", leave.Add(-10*time.Second), true)
	step("as it leaves (Since is inclusive)", "", leave, false)
	left := step("once it left", "", leave.Add(time.Nanosecond), true)
	if left.Totals.Total != entered.Totals.Total-1 {
		t.Errorf("once the oldest left: %d probes, want %d", left.Totals.Total, entered.Totals.Total-1)
	}

	// This week turns on Monday 00:00 UTC.
	monday := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	step("this week, Sunday evening", "period=week", monday.Add(-10*time.Second), true)
	step("this week, Sunday's last instant", "period=week", monday.Add(-time.Nanosecond), false)
	next := step("this week, Monday", "period=week", monday, true)
	if !next.Period.Since.Equal(monday) {
		t.Errorf("this week on Monday starts %s, want %s", next.Period.Since, monday)
	}
	step("last week, Monday", "period=lastweek", monday.Add(time.Second), true)
	step("last week, Monday a second later", "period=lastweek", monday.Add(2*time.Second), false)
	step("a custom period", "period=custom&since=2026-12-01&until=2026-12-02", monday.Add(3*time.Second), true)
	step("the custom period again", "period=custom&since=2026-12-01&until=2026-12-02", monday.Add(4*time.Second), false)
	step("the whole trial", "period=all", monday.Add(5*time.Second), true)
	step("the whole trial again", "period=all", monday.Add(6*time.Second), false)
	step("the last 7 days, kept beside the others", "", leave.Add(time.Nanosecond), false)

	// The clock going back never serves figures computed later.
	step("the clock set back", "", leave, true)
}

// TestOverviewBuildsOnce sends requests while the figures are being built: they wait
// for that build rather than each reading and measuring every probe again. The store's
// reads are held until every request has arrived (synctest.Wait: all are blocked).
func TestOverviewBuildsOnce(t *testing.T) {
	f := mustFixture(t)
	synctest.Test(t, func(t *testing.T) {
		g := &gatedStore{DB: f.db, gate: make(chan struct{})}
		h := New(g, Options{Now: func() time.Time { return fixtureNow }, Version: func() (string, error) { return "v1", nil }})
		const n = 4
		recs := make([]*httptest.ResponseRecorder, n)
		var wg sync.WaitGroup
		for i := range n {
			recs[i] = httptest.NewRecorder()
			wg.Go(func() { h.ServeHTTP(recs[i], httptest.NewRequest("GET", "/?format=json", nil)) })
		}
		synctest.Wait()
		if b, w := h.overviewBuilds(); b != 1 || w != n-1 {
			t.Errorf("with the store's reads held: %d builds, %d requests waiting; want 1, %d", b, w, n-1)
		}
		close(g.gate)
		wg.Wait()
		if b, _ := h.overviewBuilds(); b != 1 {
			t.Errorf("%d concurrent requests built the figures %d times, want once", n, b)
		}
		var first Overview
		for i, rec := range recs {
			var ov Overview
			if err := json.Unmarshal(rec.Body.Bytes(), &ov); rec.Code != 200 || err != nil {
				t.Fatalf("request %d = %d: %v\n%s", i, rec.Code, err, rec.Body)
			}
			if i == 0 {
				first = ov
			} else if !reflect.DeepEqual(ov, first) {
				t.Errorf("request %d got %+v\nwant %+v", i, ov, first)
			}
		}
		if first.Totals.Sent != 5 {
			t.Errorf("overview: %d sent, want the fixture's 5", first.Totals.Sent)
		}
	})
}

// TestOverviewNoVersion: without a version, nothing says the store did not change, so
// every request builds the figures.
func TestOverviewNoVersion(t *testing.T) {
	f := mustFixture(t)
	h := New(f.db, Options{Now: func() time.Time { return fixtureNow }, Version: func() (string, error) { return "", nil }})
	for range 3 {
		mustJSON[Overview](t, h, "/?format=json")
	}
	if b, _ := h.overviewBuilds(); b != 3 {
		t.Errorf("3 requests without a store version: %d builds, want 3", b)
	}
}

// gatedStore holds every read of probes until gate is closed.
type gatedStore struct {
	*store.DB
	gate chan struct{}
}

func (g *gatedStore) Probes(f store.Filter) ([]probe.Probe, error) {
	<-g.gate
	return g.DB.Probes(f)
}

// TestOverviewKeptPauses: a configured pause window that opens by time alone shows on
// the overview at once, though the figures are kept: pauses are read at each request.
func TestOverviewKeptPauses(t *testing.T) {
	f := mustFixture(t)
	clk := newClock(fixtureNow)
	opens := fixtureNow.Add(5 * time.Second)
	h := New(f.db, Options{Now: clk.now, Pauses: func(vendor string, since, until time.Time) ([]probe.Pause, error) {
		p := probe.Pause{Vendor: "acme", From: opens, Until: opens.Add(time.Hour), Source: probe.PauseConfig}
		if !p.Overlaps(since, until) {
			return nil, nil
		}
		return []probe.Pause{p}, nil
	}})
	if ov := mustJSON[Overview](t, h, "/?format=json"); ov.Vendors[0].Paused != nil {
		t.Fatalf("before the window: acme paused = %+v, want active", ov.Vendors[0].Paused)
	}
	clk.set(opens.Add(time.Second))
	ov := mustJSON[Overview](t, h, "/?format=json")
	if ov.Vendors[0].Paused == nil || !ov.Vendors[0].Paused.From.Equal(opens) {
		t.Errorf("in the window: acme paused = %+v, want the configured window", ov.Vendors[0].Paused)
	}
	if b, _ := h.overviewBuilds(); b != 1 {
		t.Errorf("builds = %d, want 1: the pause is not a reason to build the figures again", b)
	}
}

// countingStore counts the probes its reads return.
type countingStore struct {
	*store.DB
	read atomic.Int64
}

func (c *countingStore) Probes(f store.Filter) ([]probe.Probe, error) {
	ps, err := c.DB.Probes(f)
	c.read.Add(int64(len(ps)))
	return ps, err
}

// TestPeriodAllReadsOnce: ?period=all starts at the oldest probe, and the probes read
// to find it are the period's: each is read once, on the overview and on a vendor page.
func TestPeriodAllReadsOnce(t *testing.T) {
	f := mustFixture(t)
	c := &countingStore{DB: f.db}
	h := New(c, Options{Now: func() time.Time { return fixtureNow }})
	if ov := mustJSON[Overview](t, h, "/?format=json&period=all"); ov.Totals.Total != 5 {
		t.Fatalf("overview of the whole trial: %d probes, want the fixture's 5", ov.Totals.Total)
	}
	if n := c.read.Load(); n != 5 {
		t.Errorf("the overview of the whole trial read %d probes, want each of the 5 once", n)
	}
	c.read.Store(0)
	if vp := mustJSON[VendorPage](t, h, "/vendors/acme?format=json&period=all"); vp.Total != 4 {
		t.Fatalf("acme over the whole trial: %d probes, want 4", vp.Total)
	}
	if n := c.read.Load(); n != 4 {
		t.Errorf("acme's page over the whole trial read %d probes, want each of its 4 once", n)
	}
}
