package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"supportprobe/probe"
)

// fireLog is a fake FireLog with the store's semantics: a record replaces an earlier
// one for the same job and time, and LastHandled is the later of the latest record and
// the watermark.
type fireLog struct {
	mu    sync.Mutex
	fires []probe.Fire
	marks map[string]time.Time
}

func newFireLog() *fireLog { return &fireLog{marks: map[string]time.Time{}} }

func (l *fireLog) RecordFire(f probe.Fire) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, g := range l.fires {
		if g.Job == f.Job && g.ScheduledAt.Equal(f.ScheduledAt) {
			l.fires[i] = f
			return nil
		}
	}
	l.fires = append(l.fires, f)
	return nil
}

func (l *fireLog) LastHandled(job string) (time.Time, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.marks[job]
	for _, f := range l.fires {
		if f.Job == job && (!ok || f.ScheduledAt.After(t)) {
			t, ok = f.ScheduledAt, true
		}
	}
	return t, ok, nil
}

func (l *fireLog) MarkHandled(job string, t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.marks[job] = t
	return nil
}

func (l *fireLog) all() []probe.Fire {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]probe.Fire(nil), l.fires...)
}

func (l *fireLog) mark(job string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.marks[job]
}

// call is one call of the fake Firer.
type call struct {
	job, vendor string
	scheduledAt time.Time
	lateBy      time.Duration
	at          time.Time
}

// firer is a fake Firer: it records calls and runs do, if set, for the nth call
// (counted from 1); otherwise it returns the probe ID "p<n>".
type firer struct {
	mu         sync.Mutex
	calls      []call
	running    int
	maxRunning int
	do         func(ctx context.Context, n int) (string, error)
	// delay is how long composing takes before the probe exists (and is counted by
	// ProbeTimes).
	delay time.Duration
}

func (f *firer) Fire(ctx context.Context, job Job, scheduledAt time.Time, lateBy time.Duration) (string, error) {
	time.Sleep(f.delay)
	f.mu.Lock()
	f.calls = append(f.calls, call{job.ID, job.Vendor, scheduledAt, lateBy, time.Now()})
	n := len(f.calls)
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()
	if f.do != nil {
		return f.do(ctx, n)
	}
	return fmt.Sprintf("p%d", n), nil
}

func (f *firer) all() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// ProbeTimes makes the firer the source of a limiter: every call created a probe.
func (f *firer) ProbeTimes(_ context.Context, vendor string, since time.Time) ([]time.Time, error) {
	var out []time.Time
	for _, c := range f.all() {
		if c.vendor == vendor && !c.at.Before(since) {
			out = append(out, c.at)
		}
	}
	return out, nil
}

func mustSpec(t *testing.T, spec string, loc *time.Location) Spec {
	t.Helper()
	s, err := Parse(spec, loc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startRunner runs a Runner in the background and returns the function that stops it
// and returns Run's error. opts.Logger defaults to the test log.
func startRunner(t *testing.T, jobs []Job, opts Options) (stop func() error) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	r, err := NewRunner(jobs, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	synctest.Wait()
	return func() error {
		cancel()
		return <-errc
	}
}

// sleepUntil advances the bubble's clock to t and lets every goroutine settle.
func sleepUntil(t time.Time) {
	time.Sleep(time.Until(t))
	synctest.Wait()
}

// outcomes renders fires as "15:04 outcome[ reason]" lines, in record order.
func outcomes(fires []probe.Fire) []string {
	var out []string
	for _, f := range fires {
		s := f.ScheduledAt.UTC().Format("Jan 2 15:04") + " " + string(f.Outcome)
		if f.Reason != "" {
			s += " " + f.Reason
		}
		out = append(out, s)
	}
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s =\n\t%s\nwant\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestRunnerFiresAtCronTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now() // 2000-01-01 00:00 UTC
		log, f := newFireLog(), &firer{}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 */6 * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		if got := log.mark("acme/0"); !got.Equal(t0) {
			t.Errorf("watermark at start = %v, want %v", got, t0)
		}
		sleepUntil(t0.Add(24*time.Hour + 30*time.Minute))
		if err := stop(); err != nil {
			t.Fatalf("Run() = %v", err)
		}

		calls := f.all()
		if len(calls) != 4 {
			t.Fatalf("Fire called %d times, want 4: %v", len(calls), calls)
		}
		for i, c := range calls {
			want := t0.Add(time.Duration(i+1) * 6 * time.Hour)
			if !c.scheduledAt.Equal(want) || !c.at.Equal(want) || c.lateBy != 0 || c.job != "acme/0" {
				t.Errorf("call %d = %+v, want scheduled and called at %v, not late", i, c, want)
			}
		}
		fires := log.all()
		equalLines(t, "fires", outcomes(fires), []string{
			"Jan 1 06:00 sent", "Jan 1 12:00 sent", "Jan 1 18:00 sent", "Jan 2 00:00 sent",
		})
		for i, fr := range fires {
			if fr.ProbeID != fmt.Sprintf("p%d", i+1) || fr.Vendor != "acme" || !fr.HandledAt.Equal(fr.ScheduledAt) {
				t.Errorf("fire %d = %+v, want probe p%d, vendor acme, handled at its time", i, fr, i+1)
			}
		}
		if got, want := log.mark("acme/0"), t0.Add(24*time.Hour+30*time.Minute); !got.Equal(want) {
			t.Errorf("watermark after stop = %v, want the stop time %v", got, want)
		}
	})
}

// TestRunnerDST runs a job in a zone across a spring-forward night: cron wakes at the
// instants Spec gives, and scheduledAt agrees with them.
func TestRunnerDST(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		la := mustLoc(t, "America/Los_Angeles")
		sleepUntil(time.Date(2000, 4, 1, 12, 0, 0, 0, la))
		log, f := newFireLog(), &firer{}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "30 2 * * *", la)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(time.Date(2000, 4, 3, 12, 0, 0, 0, la))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range f.all() {
			got = append(got, c.scheduledAt.In(la).Format(time.RFC3339)+" called "+c.at.In(la).Format(time.RFC3339))
		}
		equalLines(t, "calls", got, []string{
			"2000-04-02T03:00:00-07:00 called 2000-04-02T03:00:00-07:00",
			"2000-04-03T02:30:00-07:00 called 2000-04-03T02:30:00-07:00",
		})
	})
}

func TestRunnerJitter(t *testing.T) {
	tests := []struct {
		name  string
		rand  float64
		delay time.Duration
	}{
		{"none", 0, 0},
		{"half", 0.5, 5 * time.Minute},
		{"just under one stays under the jitter", 0.9999999999999999, 10*time.Minute - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				log, f := newFireLog(), &firer{}
				job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC), Jitter: 10 * time.Minute}
				var rands int
				stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, Rand: func() float64 { rands++; return tt.rand }})
				sleepUntil(t0.Add(time.Hour + tt.delay - 1))
				if n := len(f.all()); tt.delay > 0 && n != 0 {
					t.Errorf("Fire called %d times before the jitter passed", n)
				}
				sleepUntil(t0.Add(90 * time.Minute))
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				calls := f.all()
				if len(calls) != 1 {
					t.Fatalf("Fire called %d times, want 1", len(calls))
				}
				if want := t0.Add(time.Hour); !calls[0].scheduledAt.Equal(want) || calls[0].at.Sub(want) != tt.delay {
					t.Errorf("Fire(scheduledAt %v) at %v, want scheduledAt %v and called %v later", calls[0].scheduledAt, calls[0].at, want, tt.delay)
				}
				if rands != 1 {
					t.Errorf("Rand called %d times, want 1", rands)
				}
				fires := log.all()
				if len(fires) != 1 || !fires[0].ScheduledAt.Equal(t0.Add(time.Hour)) || fires[0].HandledAt.Sub(fires[0].ScheduledAt) != tt.delay {
					t.Errorf("fires = %+v, want one scheduled at the cron time and handled after the jitter", fires)
				}
			})
		})
	}
}

func TestRunnerLimits(t *testing.T) {
	tests := []struct {
		name   string
		limits probe.Limits
		spec   string
		runFor time.Duration
		want   []string
	}{
		{"max_per_day", probe.Limits{MaxPerDay: 2}, "0 * * * *", 3*time.Hour + 30*time.Minute, []string{
			"Jan 1 01:00 sent",
			"Jan 1 02:00 sent",
			"Jan 1 03:00 skipped max_per_day 2 reached: 2 probes on 2000-01-01 (UTC)",
		}},
		{"min_spacing", probe.Limits{MinSpacing: 90 * time.Minute}, "0 * * * *", 3*time.Hour + 30*time.Minute, []string{
			"Jan 1 01:00 sent",
			"Jan 1 02:00 skipped min_spacing 1h30m: last probe 1h ago",
			"Jan 1 03:00 sent",
		}},
		// 2000-01-01 is a Saturday: Monday Jan 3 starts ISO week 2000-W01.
		{"max_per_week", probe.Limits{MaxPerWeek: 2}, "0 3 * * *", 5*24*time.Hour + time.Hour, []string{
			"Jan 1 03:00 sent",
			"Jan 2 03:00 sent",
			"Jan 3 03:00 sent",
			"Jan 4 03:00 sent",
			"Jan 5 03:00 skipped max_per_week 2 reached: 2 probes in week 2000-W01 (UTC)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				t0 := time.Now()
				log, f := newFireLog(), &firer{}
				// Two jobs of one vendor at the same times: the limit holds across jobs
				// of a vendor, and only one of them passes where one probe fits.
				jobs := []Job{
					{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, tt.spec, time.UTC)},
					{ID: "other/0", Vendor: "other", Spec: mustSpec(t, tt.spec, time.UTC)},
				}
				lim := NewLimiter(map[string]VendorLimits{"acme": {Limits: tt.limits}}, f)
				stop := startRunner(t, jobs, Options{Log: log, Fire: f.Fire, Limiter: lim})
				sleepUntil(t0.Add(tt.runFor))
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				var acme []probe.Fire
				others := 0
				for _, fr := range log.all() {
					switch fr.Job {
					case "acme/0":
						acme = append(acme, fr)
					case "other/0":
						if fr.Outcome != probe.FireSent {
							t.Errorf("unlimited vendor's fire = %+v, want sent", fr)
						}
						others++
					}
				}
				equalLines(t, "acme fires", outcomes(acme), tt.want)
				if others != len(tt.want) {
					t.Errorf("unlimited vendor fired %d times, want %d", others, len(tt.want))
				}
			})
		})
	}
}

// TestRunnerLimitsSameVendor has two jobs of one vendor fire at the same instant under
// max_per_day 1: the check and the send are serialised per vendor, so exactly one goes
// even though a probe only exists a second into the send.
func TestRunnerLimitsSameVendor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log, f := newFireLog(), &firer{delay: time.Second}
		spec := mustSpec(t, "0 1 * * *", time.UTC)
		jobs := []Job{{ID: "acme/0", Vendor: "acme", Spec: spec}, {ID: "acme/1", Vendor: "acme", Spec: spec}}
		lim := NewLimiter(map[string]VendorLimits{"acme": {Limits: probe.Limits{MaxPerDay: 1}}}, f)
		stop := startRunner(t, jobs, Options{Log: log, Fire: f.Fire, Limiter: lim})
		sleepUntil(t0.Add(2 * time.Hour))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		sent, skipped := 0, 0
		for _, fr := range log.all() {
			switch fr.Outcome {
			case probe.FireSent:
				sent++
			case probe.FireSkipped:
				skipped++
			}
		}
		if sent != 1 || skipped != 1 || len(f.all()) != 1 {
			t.Errorf("sent %d, skipped %d, Fire calls %d; want 1, 1, 1: %v", sent, skipped, len(f.all()), outcomes(log.all()))
		}
	})
}

// TestRunnerLimitsJitteredDaily runs a daily schedule with jitter under max_per_day 1:
// each fire comes earlier in the day than the one before, less than 24 hours after it,
// and every one is sent, as the limit counts calendar days in the vendor's zone.
func TestRunnerLimitsJitteredDaily(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		log, f := newFireLog(), &firer{}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 3 * * *", la), Jitter: 40 * time.Minute}
		rands := []float64{0.9, 0.6, 0.3, 0}
		var mu sync.Mutex
		rand := func() float64 {
			mu.Lock()
			defer mu.Unlock()
			r := rands[0]
			rands = rands[1:]
			return r
		}
		lim := NewLimiter(map[string]VendorLimits{"acme": {Limits: probe.Limits{MaxPerDay: 1}, Location: la}}, f)
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, Limiter: lim, Rand: rand})
		sleepUntil(time.Date(2000, 1, 4, 12, 0, 0, 0, la))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 11:00 sent",
			"Jan 2 11:00 sent",
			"Jan 3 11:00 sent",
			"Jan 4 11:00 sent",
		})
		var got []string
		for _, c := range f.all() {
			got = append(got, c.at.In(la).Format("Jan 2 15:04:05"))
		}
		equalLines(t, "calls", got, []string{"Jan 1 03:36:00", "Jan 2 03:24:00", "Jan 3 03:12:00", "Jan 4 03:00:00"})
	})
}

func TestRunnerLimiterError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log, f := newFireLog(), &firer{}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		lim := NewLimiter(map[string]VendorLimits{"acme": {Limits: probe.Limits{MaxPerDay: 1}}}, &probeTimes{err: errors.New("database closed")})
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, Limiter: lim})
		sleepUntil(t0.Add(90 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 failed check limits: vendor acme: probe times since 2000-01-01T00:00:00Z: database closed",
		})
		if n := len(f.all()); n != 0 {
			t.Errorf("Fire called %d times, want none when limits cannot be checked", n)
		}
	})
}

func TestRunnerDowntime(t *testing.T) {
	tests := []struct {
		name      string
		spec      string
		startAt   time.Duration // after the bubble's epoch, before Run
		lastMark  time.Duration // watermark relative to the start; 0: first start
		wantCalls []string      // "scheduledAt lateBy"
		want      []string
	}{
		{"a fire 20 min ago is sent once, late", "40 23 * * *", 0, -30 * time.Minute,
			[]string{"Dec 31 23:40 20m0s"},
			[]string{"Dec 31 23:40 late sent 20m late"}},
		{"fires 5h, 3h and 2h ago are beyond grace: all missed", "0 19,21,22 * * *", 0, -6 * time.Hour,
			nil,
			[]string{
				"Dec 31 19:00 missed missed while down; only the latest missed fire is caught up",
				"Dec 31 21:00 missed missed while down; only the latest missed fire is caught up",
				"Dec 31 22:00 missed missed while down: 2h late, beyond the grace of 1h",
			}},
		{"two fires within grace: only the latest is sent", "10,40 23 * * *", 0, -time.Hour,
			[]string{"Dec 31 23:40 20m0s"},
			[]string{
				"Dec 31 23:10 missed missed while down; only the latest missed fire is caught up",
				"Dec 31 23:40 late sent 20m late",
			}},
		{"no fire during the downtime", "0 12 * * *", 0, -30 * time.Minute, nil, nil},
		{"first start catches nothing up", "40 23 * * *", 0, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sleepUntil(time.Now().Add(tt.startAt))
				start := time.Now()
				log, f := newFireLog(), &firer{}
				if tt.lastMark != 0 {
					log.MarkHandled("acme/0", start.Add(tt.lastMark))
				}
				// Jitter does not apply to catch-up fires: they are late already.
				job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, tt.spec, time.UTC), Jitter: time.Hour}
				stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, Rand: func() float64 { return 0.5 }})
				var calls []string
				for _, c := range f.all() {
					if !c.at.Equal(start) {
						t.Errorf("catch-up fire called at %v, want at the start %v", c.at, start)
					}
					calls = append(calls, fmt.Sprintf("%s %s", c.scheduledAt.Format("Jan 2 15:04"), c.lateBy))
				}
				equalLines(t, "Fire calls", calls, tt.wantCalls)
				equalLines(t, "fires", outcomes(log.all()), tt.want)
				if got := log.mark("acme/0"); !got.Equal(start) {
					t.Errorf("watermark after catch-up = %v, want the start %v", got, start)
				}
				if err := stop(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestRunnerDowntimeCap: two days down with a fire every minute records the first
// MaxListedMissed fires, one summary for the rest, and sends only the latest.
func TestRunnerDowntimeCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sleepUntil(time.Now().Add(30 * time.Second))
		start := time.Now()
		epoch := start.Add(-30 * time.Second)
		log, f := newFireLog(), &firer{}
		log.MarkHandled("acme/0", epoch.Add(-48*time.Hour))
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "* * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		fires := log.all()
		if len(fires) != MaxListedMissed+2 {
			t.Fatalf("%d fires recorded, want %d", len(fires), MaxListedMissed+2)
		}
		for i, fr := range fires[:MaxListedMissed] {
			if want := epoch.Add(-48*time.Hour + time.Duration(i+1)*time.Minute); fr.Outcome != probe.FireMissed || !fr.ScheduledAt.Equal(want) {
				t.Fatalf("fire %d = %s %s, want missed at %v", i, fr.ScheduledAt, fr.Outcome, want)
			}
		}
		summary := fires[MaxListedMissed]
		if want := epoch.Add(-48*time.Hour + (MaxListedMissed+1)*time.Minute); summary.Outcome != probe.FireMissed || !summary.ScheduledAt.Equal(want) ||
			!strings.Contains(summary.Reason, "every fire after it until 2000-01-01T00:00:00Z") {
			t.Errorf("summary = %+v, want missed at %v covering the rest", summary, want)
		}
		if last := fires[len(fires)-1]; last.Outcome != probe.FireLate || !last.ScheduledAt.Equal(epoch) {
			t.Errorf("last fire = %+v, want the latest fire sent late", last)
		}
		if calls := f.all(); len(calls) != 1 || calls[0].lateBy != 30*time.Second {
			t.Errorf("Fire calls = %+v, want one, 30s late", calls)
		}
	})
}

func TestRunnerPanickingFire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log := newFireLog()
		f := &firer{do: func(_ context.Context, n int) (string, error) {
			if n == 1 {
				panic("template exploded")
			}
			return fmt.Sprintf("p%d", n), nil
		}}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(t0.Add(150 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 failed panic: template exploded",
			"Jan 1 02:00 sent",
		})
	})
}

// panicLimiter panics on its first call.
type panicLimiter struct {
	mu    sync.Mutex
	calls int
}

func (p *panicLimiter) Allow(context.Context, string, time.Time) (bool, string, error) {
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.mu.Unlock()
	if n == 1 {
		panic("limiter bug")
	}
	return true, "", nil
}

// TestRunnerPanicReachesCronRecover: a panic outside Fire unwinds to cron.Recover. With
// the chain in the wrong order, SkipIfStillRunning would keep its token and skip every
// later fire of the job.
func TestRunnerPanicReachesCronRecover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log, f := newFireLog(), &firer{}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, Limiter: &panicLimiter{}})
		sleepUntil(t0.Add(210 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 failed panic: limiter bug",
			"Jan 1 02:00 sent",
			"Jan 1 03:00 sent",
		})
	})
}

func TestRunnerSkipsWhileStillRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log := newFireLog()
		release := make(chan struct{})
		f := &firer{do: func(_ context.Context, n int) (string, error) {
			if n == 1 {
				<-release
			}
			return fmt.Sprintf("p%d", n), nil
		}}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(t0.Add(150 * time.Minute))
		if n := len(f.all()); n != 1 {
			t.Errorf("at 02:30 Fire called %d times, want 1 (02:00 skipped)", n)
		}
		close(release)
		sleepUntil(t0.Add(210 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		maxRunning := f.maxRunning
		f.mu.Unlock()
		if maxRunning != 1 {
			t.Errorf("%d Fire calls ran at once, want 1", maxRunning)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 sent",
			"Jan 1 02:00 skipped previous fire still running",
			"Jan 1 03:00 sent",
		})
	})
}

// TestRunnerStopRecordsSkipped: fires skipped by a fire still running at the stop are
// recorded before the watermark moves past them.
func TestRunnerStopRecordsSkipped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log := newFireLog()
		f := &firer{do: func(ctx context.Context, n int) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(t0.Add(150 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 failed context canceled",
			"Jan 1 02:00 skipped previous fire still running",
		})
		if got, want := log.mark("acme/0"), t0.Add(150*time.Minute); !got.Equal(want) {
			t.Errorf("watermark = %v, want %v", got, want)
		}
	})
}

func TestRunnerStop(t *testing.T) {
	t.Run("a Fire waiting on ctx returns at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			t0 := time.Now()
			log := newFireLog()
			f := &firer{do: func(ctx context.Context, n int) (string, error) {
				<-ctx.Done()
				return "p1", fmt.Errorf("send: %w", ctx.Err())
			}}
			job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
			stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
			sleepUntil(t0.Add(70 * time.Minute))
			stopAt := time.Now()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(stopAt); d != 0 {
				t.Errorf("Run returned %v after the cancel, want at once", d)
			}
			fires := log.all()
			equalLines(t, "fires", outcomes(fires), []string{"Jan 1 01:00 failed send: context canceled"})
			if fires[0].ProbeID != "p1" {
				t.Errorf("ProbeID = %q, want the failed probe p1", fires[0].ProbeID)
			}
			if got := log.mark("acme/0"); !got.Equal(stopAt) {
				t.Errorf("watermark = %v, want the stop %v", got, stopAt)
			}
		})
	})
	t.Run("a Fire ignoring ctx is left after StopTimeout", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			t0 := time.Now()
			log := newFireLog()
			release := make(chan struct{})
			f := &firer{do: func(context.Context, int) (string, error) {
				<-release
				return "p1", nil
			}}
			job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
			stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, StopTimeout: 5 * time.Second})
			sleepUntil(t0.Add(70 * time.Minute))
			stopAt := time.Now()
			err := stop()
			if d := time.Since(stopAt); d != 5*time.Second {
				t.Errorf("Run returned %v after the cancel, want the StopTimeout 5s", d)
			}
			if !errors.Is(err, ErrStopTimeout) || !strings.Contains(err.Error(), "acme/0") {
				t.Errorf("Run() = %v, want ErrStopTimeout naming acme/0", err)
			}
			if got := log.mark("acme/0"); !got.Equal(stopAt) {
				t.Errorf("watermark = %v, want the stop %v", got, stopAt)
			}
			close(release)
			synctest.Wait()
			equalLines(t, "fires", outcomes(log.all()), []string{"Jan 1 01:00 sent"})
		})
	})
	t.Run("a jitter wait ends at the cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			t0 := time.Now()
			log, f := newFireLog(), &firer{}
			job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC), Jitter: time.Hour}
			stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire, Rand: func() float64 { return 0.9 }})
			sleepUntil(t0.Add(70 * time.Minute))
			stopAt := time.Now()
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(stopAt); d != 0 {
				t.Errorf("Run returned %v after the cancel, want at once", d)
			}
			if n := len(f.all()); n != 0 {
				t.Errorf("Fire called %d times, want none", n)
			}
			equalLines(t, "fires", outcomes(log.all()), []string{"Jan 1 01:00 missed daemon stopped before the jittered send time"})
		})
	})
}

// TestRunnerRestart stops a runner and starts another on the same log: the fires due
// while it was down are caught up from the stop's watermark.
func TestRunnerRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log, f := newFireLog(), &firer{}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(t0.Add(90 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		sleepUntil(t0.Add(210 * time.Minute)) // down over 02:00 and 03:00
		stop = startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(t0.Add(270 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 sent",
			"Jan 1 02:00 missed missed while down; only the latest missed fire is caught up",
			"Jan 1 03:00 late sent 30m late",
			"Jan 1 04:00 sent",
		})
	})
}

func TestNewRunnerRejects(t *testing.T) {
	spec := mustSpec(t, "0 * * * *", time.UTC)
	fire := (&firer{}).Fire
	tests := []struct {
		name string
		jobs []Job
		opts Options
		want string
	}{
		{"no log", nil, Options{Fire: fire}, "no fire log"},
		{"no firer", nil, Options{Log: newFireLog()}, "no firer"},
		{"no ID", []Job{{Spec: spec}}, Options{Log: newFireLog(), Fire: fire}, "job 0: no ID"},
		{"duplicate ID", []Job{{ID: "a/0", Spec: spec}, {ID: "a/0", Spec: spec}}, Options{Log: newFireLog(), Fire: fire}, "job a/0: duplicate ID"},
		{"no spec", []Job{{ID: "a/0"}}, Options{Log: newFireLog(), Fire: fire}, "job a/0: no cron spec"},
		{"negative jitter", []Job{{ID: "a/0", Spec: spec, Jitter: -time.Second}}, Options{Log: newFireLog(), Fire: fire}, "negative jitter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewRunner(tt.jobs, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRunner() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPastFires(t *testing.T) {
	spec := mustSpec(t, "0 * * * *", time.UTC)
	at := func(h int) time.Time { return time.Date(2026, 11, 28, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name          string
		after, upTo   time.Time
		limit         int
		earlier       int
		leftOut, last time.Time
	}{
		{"none", at(3), at(3).Add(59 * time.Minute), 10, 0, time.Time{}, time.Time{}},
		{"upTo is included, after is not", at(3), at(4), 10, 0, time.Time{}, at(4)},
		{"several", at(3), at(7).Add(time.Minute), 10, 3, time.Time{}, at(7)},
		{"capped", at(3), at(20), 5, 5, at(9), at(20)},
		{"years down", at(3).AddDate(-300, 0, 0), at(3), 2, 2, at(3).AddDate(-300, 0, 0).Add(3 * time.Hour), at(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			earlier, leftOut, last := pastFires(spec, tt.after, tt.upTo, tt.limit)
			if len(earlier) != tt.earlier || !leftOut.Equal(tt.leftOut) || !last.Equal(tt.last) {
				t.Errorf("pastFires() = %d earlier, left out %v, latest %v; want %d, %v, %v", len(earlier), leftOut, last, tt.earlier, tt.leftOut, tt.last)
			}
		})
	}
}

// TestRunnerFirerSkips: a Firer's error wrapping ErrSkipped records the fire as skipped
// with the error's text, not as failed; other errors stay failures.
func TestRunnerFirerSkips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		log := newFireLog()
		f := &firer{do: func(_ context.Context, n int) (string, error) {
			if n == 1 {
				return "", fmt.Errorf("scheduled inside a pause: %w", ErrSkipped)
			}
			return "", errors.New("smtp down")
		}}
		job := Job{ID: "acme/0", Vendor: "acme", Spec: mustSpec(t, "0 * * * *", time.UTC)}
		stop := startRunner(t, []Job{job}, Options{Log: log, Fire: f.Fire})
		sleepUntil(t0.Add(150 * time.Minute))
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		equalLines(t, "fires", outcomes(log.all()), []string{
			"Jan 1 01:00 skipped scheduled inside a pause: fire skipped",
			"Jan 1 02:00 failed smtp down",
		})
	})
}
