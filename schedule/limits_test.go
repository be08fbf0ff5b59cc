package schedule

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

// probeTimes is a fake ProbeTimes over fixed times; it remembers the since it was asked.
type probeTimes struct {
	times []time.Time
	err   error
	calls int
	since time.Time
}

func (p *probeTimes) ProbeTimes(_ context.Context, vendor string, since time.Time) ([]time.Time, error) {
	p.calls++
	p.since = since
	if p.err != nil {
		return nil, p.err
	}
	var out []time.Time
	for _, t := range p.times {
		if !t.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestLimiter(t *testing.T) {
	const (
		day  = 24 * time.Hour
		week = 7 * day
	)
	la := mustLoad(t, "America/Los_Angeles")
	shanghai := mustLoad(t, "Asia/Shanghai")
	santiago := mustLoad(t, "America/Santiago")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	// Saturday 2026-11-28 03:00 UTC, in ISO week 2026-W48 (from Monday 2026-11-23).
	now := at(time.UTC, 2026, 11, 28, 3, 0)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	midnight := at(time.UTC, 2026, 11, 28, 0, 0)
	monday := at(time.UTC, 2026, 11, 23, 0, 0)
	tests := []struct {
		name      string
		limits    VendorLimits
		now       time.Time // zero: now
		times     []time.Time
		wantOK    bool
		wantWhy   string
		wantSince time.Time // the since ProbeTimes is asked for; zero: not asked
	}{
		{"no limits: no query", VendorLimits{Location: la}, time.Time{}, []time.Time{ago(time.Minute)}, true, "", time.Time{}},

		// max_per_day: since local midnight; a nil Location is UTC.
		{"day: under the limit", VendorLimits{Limits: probe.Limits{MaxPerDay: 2}}, time.Time{},
			[]time.Time{ago(time.Hour)}, true, "", midnight},
		{"day: reached", VendorLimits{Limits: probe.Limits{MaxPerDay: 2}}, time.Time{},
			[]time.Time{ago(time.Hour), midnight}, false,
			"max_per_day 2 reached: 2 probes on 2026-11-28 (UTC)", midnight},
		{"day: a probe before midnight does not count, however recent", VendorLimits{Limits: probe.Limits{MaxPerDay: 2}}, time.Time{},
			[]time.Time{ago(time.Hour), midnight.Add(-time.Second)}, true, "", midnight},
		{"day: over the limit, unsorted", VendorLimits{Limits: probe.Limits{MaxPerDay: 2}, Location: time.UTC}, time.Time{},
			[]time.Time{ago(time.Hour), ago(2 * time.Hour), ago(3 * time.Hour)}, false,
			"max_per_day 2 reached: 3 probes on 2026-11-28 (UTC)", midnight},
		{"day: a probe in the future counts", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}}, time.Time{},
			[]time.Time{now.Add(time.Minute)}, false,
			"max_per_day 1 reached: 1 probe on 2026-11-28 (UTC)", midnight},
		{"day: 23:50 local yesterday does not count today", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: la},
			at(la, 2026, 11, 28, 0, 5), []time.Time{at(la, 2026, 11, 27, 23, 50)}, true, "", at(la, 2026, 11, 28, 0, 0)},
		{"day: jittered daily schedule, today's fire earlier than yesterday's", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: la},
			at(la, 2026, 11, 28, 3, 2), []time.Time{at(la, 2026, 11, 27, 3, 19)}, true, "", at(la, 2026, 11, 28, 0, 0)},
		{"day: a second fire on the same local day is held", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: la},
			at(la, 2026, 11, 28, 23, 59), []time.Time{at(la, 2026, 11, 28, 0, 0)}, false,
			"max_per_day 1 reached: 1 probe on 2026-11-28 (America/Los_Angeles)", at(la, 2026, 11, 28, 0, 0)},
		// 2026-03-08 in Los Angeles has 23 hours: midnight is PST, now is PDT. A rolling
		// 24 hours would reach back to 22:30 the day before.
		{"day: LA spring-forward day starts at midnight PST", VendorLimits{Limits: probe.Limits{MaxPerDay: 2}, Location: la},
			at(la, 2026, 3, 8, 23, 30), []time.Time{at(la, 2026, 3, 7, 23, 0), at(la, 2026, 3, 8, 0, 0)}, true, "",
			time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC)},
		// 2026-11-01 in Los Angeles has 25 hours: a probe 24h20m before now is the same day.
		{"day: LA fall-back day counts all 25 hours", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: la},
			at(la, 2026, 11, 1, 23, 30), []time.Time{at(la, 2026, 11, 1, 0, 10)}, false,
			"max_per_day 1 reached: 1 probe on 2026-11-01 (America/Los_Angeles)",
			time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)},
		// On 2026-09-06 Santiago's clocks jump from 00:00 -04 to 01:00 -03: midnight does
		// not exist and the day starts at 01:00 -03, not at 23:00 the day before.
		{"day: Santiago's day without a midnight", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: santiago},
			at(santiago, 2026, 9, 6, 12, 0), []time.Time{time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC)}, true, "",
			time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)},
		// The same instants in two zones: 2026-11-27 17:00 UTC is 2026-11-28 01:00 in
		// Shanghai, and 2026-11-27 10:00 UTC is 18:00 there.
		{"day: Shanghai's day began at 16:00 UTC", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: shanghai},
			time.Time{}, []time.Time{at(time.UTC, 2026, 11, 27, 17, 0)}, false,
			"max_per_day 1 reached: 1 probe on 2026-11-28 (Asia/Shanghai)", at(time.UTC, 2026, 11, 27, 16, 0)},
		{"day: the same probe is yesterday in UTC", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: time.UTC},
			time.Time{}, []time.Time{at(time.UTC, 2026, 11, 27, 17, 0)}, true, "", midnight},
		{"day: UTC's day began at 08:00 in Shanghai", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: time.UTC},
			at(time.UTC, 2026, 11, 27, 20, 0), []time.Time{at(time.UTC, 2026, 11, 27, 10, 0)}, false,
			"max_per_day 1 reached: 1 probe on 2026-11-27 (UTC)", at(time.UTC, 2026, 11, 27, 0, 0)},
		{"day: the same probe is yesterday in Shanghai", VendorLimits{Limits: probe.Limits{MaxPerDay: 1}, Location: shanghai},
			at(time.UTC, 2026, 11, 27, 20, 0), []time.Time{at(time.UTC, 2026, 11, 27, 10, 0)}, true, "",
			at(time.UTC, 2026, 11, 27, 16, 0)},

		// max_per_week: since Monday 00:00 local of the ISO week.
		{"week: reached", VendorLimits{Limits: probe.Limits{MaxPerDay: 5, MaxPerWeek: 3}}, time.Time{},
			[]time.Time{ago(1 * day), ago(3 * day), monday}, false,
			"max_per_week 3 reached: 3 probes in week 2026-W48 (UTC)", monday},
		{"week: before Monday does not count", VendorLimits{Limits: probe.Limits{MaxPerWeek: 3}}, time.Time{},
			[]time.Time{ago(1 * day), ago(3 * day), monday.Add(-time.Minute)}, true, "", monday},
		{"week: Sunday late is the old week", VendorLimits{Limits: probe.Limits{MaxPerWeek: 2}, Location: la},
			at(la, 2026, 11, 29, 23, 0), []time.Time{at(la, 2026, 11, 23, 0, 0), at(la, 2026, 11, 28, 9, 0), at(la, 2026, 11, 22, 23, 59)}, false,
			"max_per_week 2 reached: 2 probes in week 2026-W48 (America/Los_Angeles)", at(la, 2026, 11, 23, 0, 0)},
		{"week: Monday just after midnight is a new week", VendorLimits{Limits: probe.Limits{MaxPerWeek: 2}, Location: la},
			at(la, 2026, 11, 30, 0, 5), []time.Time{at(la, 2026, 11, 29, 23, 0), at(la, 2026, 11, 28, 9, 0)}, true, "",
			at(la, 2026, 11, 30, 0, 0)},
		{"week: Monday itself", VendorLimits{Limits: probe.Limits{MaxPerWeek: 1}, Location: la},
			at(la, 2026, 11, 30, 23, 0), []time.Time{at(la, 2026, 11, 30, 0, 0)}, false,
			"max_per_week 1 reached: 1 probe in week 2026-W49 (America/Los_Angeles)", at(la, 2026, 11, 30, 0, 0)},
		{"week: the ISO week spans the new year", VendorLimits{Limits: probe.Limits{MaxPerWeek: 2}},
			at(time.UTC, 2027, 1, 1, 12, 0), []time.Time{at(time.UTC, 2026, 12, 28, 0, 0), at(time.UTC, 2026, 12, 31, 9, 0)}, false,
			"max_per_week 2 reached: 2 probes in week 2026-W53 (UTC)", at(time.UTC, 2026, 12, 28, 0, 0)},
		{"day is reported before week", VendorLimits{Limits: probe.Limits{MaxPerDay: 1, MaxPerWeek: 1}}, time.Time{},
			[]time.Time{ago(time.Hour)}, false,
			"max_per_day 1 reached: 1 probe on 2026-11-28 (UTC)", monday},

		// min_spacing stays rolling.
		{"spacing: too soon", VendorLimits{Limits: probe.Limits{MinSpacing: 2 * time.Hour}, Location: la}, time.Time{},
			[]time.Time{ago(3 * time.Hour), ago(35 * time.Minute)}, false,
			"min_spacing 2h: last probe 35m ago", ago(2 * time.Hour)},
		{"spacing: reaches across midnight", VendorLimits{Limits: probe.Limits{MaxPerDay: 2, MinSpacing: 4 * time.Hour}}, time.Time{},
			[]time.Time{ago(3 * time.Hour)}, false,
			"min_spacing 4h: last probe 3h ago", ago(4 * time.Hour)},
		{"spacing: exactly the spacing is fine", VendorLimits{Limits: probe.Limits{MinSpacing: 2 * time.Hour}}, time.Time{},
			[]time.Time{ago(2 * time.Hour)}, true, "", ago(2 * time.Hour)},
		{"spacing: no probe yet", VendorLimits{Limits: probe.Limits{MinSpacing: 90 * time.Minute}}, time.Time{},
			nil, true, "", ago(90 * time.Minute)},
		{"spacing: longer than the week", VendorLimits{Limits: probe.Limits{MaxPerWeek: 9, MinSpacing: 10 * day}}, time.Time{},
			[]time.Time{ago(8 * day)}, false, "min_spacing 240h: last probe 192h ago", ago(10 * day)},
		{"spacing: a probe in the future", VendorLimits{Limits: probe.Limits{MinSpacing: time.Hour}}, time.Time{},
			[]time.Time{now.Add(time.Minute)}, false, "min_spacing 1h: last probe 0s ago", ago(time.Hour)},
		{"all limits, all met", VendorLimits{Limits: probe.Limits{MaxPerDay: 2, MaxPerWeek: 5, MinSpacing: 90 * time.Minute}}, time.Time{},
			[]time.Time{ago(2 * time.Hour), ago(30 * time.Hour), ago(6 * day)}, true, "", monday},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &probeTimes{times: tt.times}
			l := NewLimiter(map[string]VendorLimits{"acme": tt.limits}, src)
			at := tt.now
			if at.IsZero() {
				at = now
			}
			ok, why, err := l.Allow(context.Background(), "acme", at)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK || why != tt.wantWhy {
				t.Errorf("Allow() = %v, %q, want %v, %q", ok, why, tt.wantOK, tt.wantWhy)
			}
			switch {
			case tt.wantSince.IsZero() && src.calls != 0:
				t.Errorf("ProbeTimes called %d times, want none", src.calls)
			case !tt.wantSince.IsZero() && !src.since.Equal(tt.wantSince):
				t.Errorf("ProbeTimes since = %v, want %v", src.since, tt.wantSince)
			}
		})
	}
}

func TestStartOfDay(t *testing.T) {
	la := mustLoad(t, "America/Los_Angeles")
	santiago := mustLoad(t, "America/Santiago")
	for _, tt := range []struct {
		y    int
		m    time.Month
		d    int
		loc  *time.Location
		want string
	}{
		{2026, 11, 28, time.UTC, "2026-11-28T00:00:00Z"},
		{2026, 3, 8, la, "2026-03-08T00:00:00-08:00"},
		{2026, 3, 9, la, "2026-03-09T00:00:00-07:00"},
		{2026, 11, 1, la, "2026-11-01T00:00:00-07:00"},
		{2026, 12, 0, la, "2026-11-30T00:00:00-08:00"},      // out-of-range days are normalised
		{2027, 1, -3, la, "2026-12-28T00:00:00-08:00"},      // back across the year
		{2026, 9, 6, santiago, "2026-09-06T01:00:00-03:00"}, // no midnight: the first instant
		{2026, 9, 12, santiago, "2026-09-12T00:00:00-03:00"},
		{2026, 4, 5, santiago, "2026-04-05T00:00:00-04:00"}, // the day after clocks went back at 24:00
	} {
		if got := startOfDay(tt.y, tt.m, tt.d, tt.loc).Format(time.RFC3339); got != tt.want {
			t.Errorf("startOfDay(%d, %d, %d, %s) = %s, want %s", tt.y, tt.m, tt.d, tt.loc, got, tt.want)
		}
	}
}

func TestLimiterUnknownVendor(t *testing.T) {
	src := &probeTimes{err: errors.New("must not be asked")}
	l := NewLimiter(map[string]VendorLimits{"acme": {Limits: probe.Limits{MaxPerDay: 1}}}, src)
	if ok, why, err := l.Allow(context.Background(), "globex", time.Now()); !ok || why != "" || err != nil {
		t.Errorf("Allow(unknown vendor) = %v, %q, %v, want true, \"\", nil", ok, why, err)
	}
}

func TestLimiterError(t *testing.T) {
	boom := errors.New("database closed")
	la := mustLoad(t, "America/Los_Angeles")
	l := NewLimiter(map[string]VendorLimits{"acme": {Limits: probe.Limits{MaxPerDay: 1}, Location: la}}, &probeTimes{err: boom})
	ok, _, err := l.Allow(context.Background(), "acme", time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC))
	if ok || !errors.Is(err, boom) || !strings.Contains(err.Error(), "vendor acme: probe times since 2026-11-27T08:00:00Z") {
		t.Errorf("Allow() = %v, %v, want false and an error naming the vendor and wrapping %v", ok, err, boom)
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", -time.Minute: "0s", 2 * time.Hour: "2h", 35 * time.Minute: "35m",
		90 * time.Minute: "1h30m", 45*time.Second + 400*time.Millisecond: "45s",
		26*time.Hour + 5*time.Second: "26h5s",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
