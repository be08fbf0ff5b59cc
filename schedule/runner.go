package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"supportprobe/probe"
)

// Spec decides fire times for robfig/cron directly.
var _ cron.Schedule = Spec{}

// Defaults for the Options a caller leaves zero.
const (
	DefaultGrace       = time.Hour
	DefaultStopTimeout = 30 * time.Second
)

// MaxListedMissed caps how many missed fires of one job are recorded one by one after a
// downtime; fires beyond it are covered by a single summary record.
const MaxListedMissed = 1000

// onTime is how late cron may start a job and still count as on time. A start later
// than this (the machine was suspended, the clock stepped) is handled like a catch-up.
const onTime = time.Minute

// ErrStopTimeout means Run gave up waiting for running fires at shutdown: they go on in
// the background and record their outcome when they end.
var ErrStopTimeout = errors.New("fires still running at the stop timeout")

// ErrSkipped, wrapped by a Firer's error, records the fire as skipped rather than
// failed, with the error's text as the reason: the Firer decided not to send (its
// vendor is paused at the fire's scheduled time, say).
var ErrSkipped = errors.New("fire skipped")

// Job is one schedule the Runner fires.
type Job struct {
	// ID is stable across restarts: "<vendor>/<schedule index>", or "summary". Fire
	// records and the downtime watermark are kept under it.
	ID string
	// Vendor is whose limits apply; "" for a job without vendor limits (the weekly
	// summary).
	Vendor string
	Spec   Spec
	// Jitter delays each on-time fire by a uniform random amount in [0, Jitter),
	// decided at fire time. Catch-up fires are not jittered: they are late already.
	Jitter time.Duration
}

// Firer does the work of one fire (compose and send a probe) and returns the probe's
// ID. scheduledAt is the cron time, before jitter; lateBy is positive for a catch-up
// fire. ctx is cancelled when the Runner stops, and Firer should return soon after.
// An error may come back with a probe ID (a probe stored as failed). A panic is
// recovered and recorded as a failed fire.
type Firer func(ctx context.Context, job Job, scheduledAt time.Time, lateBy time.Duration) (probeID string, err error)

// FireLog persists fires; the store implements it. Calls come from several goroutines.
type FireLog interface {
	// RecordFire stores one fire; a second record for the same job and ScheduledAt
	// replaces the first.
	RecordFire(f probe.Fire) error
	// LastHandled returns the latest ScheduledAt recorded for job or the latest
	// watermark set by MarkHandled, whichever is later; ok is false if neither exists.
	LastHandled(job string) (t time.Time, ok bool, err error)
	// MarkHandled records that every fire of job up to t has been dealt with.
	MarkHandled(job string, t time.Time) error
}

// Limiter decides whether vendor may get another probe now; when it may not, reason
// says why, for the fire record. An error means the limits could not be checked, and
// the fire is recorded as failed rather than risk a burst.
type Limiter interface {
	Allow(ctx context.Context, vendor string, now time.Time) (ok bool, reason string, err error)
}

// Options configure a Runner. Log and Fire are required.
type Options struct {
	Log  FireLog
	Fire Firer
	// Limiter vets each fire of a job with a vendor; nil means no limits.
	Limiter Limiter
	// Grace is how late a fire missed while the daemon was down may still be sent;
	// older ones are recorded as missed. Zero means DefaultGrace.
	Grace time.Duration
	// Rand returns a uniform number in [0, 1) for jitter; nil means math/rand/v2.
	// The Runner serialises its calls.
	Rand func() float64
	// Logger receives the Runner's and cron's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. cron itself always uses time.Now.
	Now func() time.Time
	// StopTimeout bounds how long Run waits for running fires once ctx ends. Zero
	// means DefaultStopTimeout.
	StopTimeout time.Duration
}

// Runner fires jobs on their cron schedules with one robfig/cron instance, applies
// jitter and vendor limits, catches up after a downtime, and records every fire's
// outcome in the FireLog.
//
// # When a fire happened (scheduledAt)
//
// robfig/cron calls a job with no argument, and the entry's Prev is only updated after
// the job has been started, so the job cannot ask cron which time it is running for.
// The Runner keeps, per job, the time up to which fires are accounted for (at first the
// start time, then the latest fire handled). When cron starts the job, the fire times
// in (that mark, now] are enumerated with Spec.Next: the latest is this fire's
// scheduledAt, and any earlier ones were not run. Those were skipped because the
// previous fire was still running (cron.SkipIfStillRunning drops them silently), and
// are recorded as skipped, or, when the job was idle at their time, cron never woke for
// them (a suspended machine, a stepped clock) and they are recorded as missed. A fire
// that cron starts more than a minute late is sent as late (beyond Grace: missed).
//
// # Downtime
//
// When Run starts, each job's missed fires since its FireLog.LastHandled are recorded
// as missed, except the latest, which is sent once if it is no older than Grace. Never
// a burst of mail: at most one catch-up fire per job, and at most MaxListedMissed
// records plus one summary. A job with no history (first start) catches nothing up.
type Runner struct {
	jobs        []*jobState
	log         FireLog
	fire        Firer
	limiter     Limiter
	grace       time.Duration
	stopTimeout time.Duration
	logger      *slog.Logger
	now         func() time.Time

	randMu sync.Mutex
	rand   func() float64

	// vendors serialises the limit check and the send per vendor, so two jobs of one
	// vendor firing together cannot both pass a limit that only one of them fits.
	vendors map[string]chan struct{}
	ran     atomic.Bool
}

// jobState is what the Runner tracks for one job.
type jobState struct {
	job     Job
	wrapped cron.Job // the job as cron runs it, inside the chain

	mu sync.Mutex
	// upTo: every fire of the job at or before it has been started or recorded.
	upTo time.Time
	// running and lastEnd tell a fire skipped because the previous one was still
	// running from one cron never woke for.
	running bool
	lastEnd time.Time
	// late is a catch-up fire waiting to be run.
	late *lateFire
}

type lateFire struct {
	scheduledAt time.Time
	lateBy      time.Duration
	started     chan struct{}
}

// NewRunner checks jobs and opts and returns a Runner for them. Job IDs must be unique
// and each job must have a parsed Spec.
func NewRunner(jobs []Job, opts Options) (*Runner, error) {
	if opts.Log == nil {
		return nil, errors.New("schedule runner: no fire log")
	}
	if opts.Fire == nil {
		return nil, errors.New("schedule runner: no firer")
	}
	if opts.Grace < 0 || opts.StopTimeout < 0 {
		return nil, fmt.Errorf("schedule runner: negative grace %s or stop timeout %s", opts.Grace, opts.StopTimeout)
	}
	r := &Runner{
		log:         opts.Log,
		fire:        opts.Fire,
		limiter:     opts.Limiter,
		grace:       cmpOr(opts.Grace, DefaultGrace),
		stopTimeout: cmpOr(opts.StopTimeout, DefaultStopTimeout),
		logger:      opts.Logger,
		now:         opts.Now,
		rand:        opts.Rand,
		vendors:     map[string]chan struct{}{},
	}
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.rand == nil {
		r.rand = rand.Float64
	}
	seen := map[string]bool{}
	for i, j := range jobs {
		switch {
		case j.ID == "":
			return nil, fmt.Errorf("schedule runner: job %d: no ID", i)
		case seen[j.ID]:
			return nil, fmt.Errorf("schedule runner: job %s: duplicate ID", j.ID)
		case j.Spec.Location() == nil:
			return nil, fmt.Errorf("schedule runner: job %s: no cron spec (use Parse)", j.ID)
		case j.Jitter < 0:
			return nil, fmt.Errorf("schedule runner: job %s: negative jitter %s", j.ID, j.Jitter)
		}
		seen[j.ID] = true
		r.jobs = append(r.jobs, &jobState{job: j})
		if j.Vendor != "" && r.vendors[j.Vendor] == nil {
			r.vendors[j.Vendor] = make(chan struct{}, 1)
		}
	}
	return r, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Run catches up on fires missed while the daemon was down, then fires the jobs on
// their schedules until ctx ends. It then stops the cron, cancels running fires (they
// see ctx) and waits for them at most StopTimeout, records fires that were skipped, and
// marks every job handled up to the stop. Run may be called once.
//
// Run returns nil after a clean stop; an error from the FireLog while catching up
// (nothing is scheduled then); or an error wrapping ErrStopTimeout when fires were
// still running at the timeout. Errors recording individual fires are logged, not
// returned.
func (r *Runner) Run(ctx context.Context) error {
	if !r.ran.CompareAndSwap(false, true) {
		return errors.New("schedule runner: Run called twice")
	}
	cl := cronLogger{r.logger}
	// SkipIfStillRunning must wrap Recover: in v3.0.1 a panic unwinding through
	// SkipIfStillRunning would never give back its token, and the job would be skipped
	// forever after.
	c := cron.New(cron.WithLogger(cl), cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)))
	for _, st := range r.jobs {
		id := c.Schedule(st.job.Spec, cron.FuncJob(func() { r.runJob(ctx, st) }))
		// Catch-up fires run through the same wrapped job, so they share the
		// SkipIfStillRunning token with the cron fires of their job.
		st.wrapped = c.Entry(id).WrappedJob
	}

	start := r.now()
	lates := make([]*lateFire, len(r.jobs))
	for i, st := range r.jobs {
		lf, err := r.catchUp(st, start)
		if err != nil {
			return err
		}
		lates[i] = lf
	}

	// Catch-up fires start before cron, so each holds its job's token before cron can
	// start the job again; Run waits for that, then starts cron.
	var catchUps sync.WaitGroup
	for i, st := range r.jobs {
		lf := lates[i]
		if lf == nil {
			continue
		}
		st.mu.Lock()
		st.late = lf
		st.mu.Unlock()
		done := make(chan struct{})
		catchUps.Go(func() {
			defer close(done)
			st.wrapped.Run()
		})
		select {
		case <-lf.started:
		case <-done:
		}
	}
	c.Start()
	r.logger.Info("scheduler started", "jobs", len(r.jobs))

	<-ctx.Done()
	cronDone := c.Stop()
	stopAt := r.now()
	allDone := make(chan struct{})
	go func() {
		<-cronDone.Done()
		catchUps.Wait()
		close(allDone)
	}()
	timer := time.NewTimer(r.stopTimeout)
	defer timer.Stop()
	var errs []error
	select {
	case <-allDone:
	case <-timer.C:
		var busy []string
		for _, st := range r.jobs {
			st.mu.Lock()
			if st.running {
				busy = append(busy, st.job.ID)
			}
			st.mu.Unlock()
		}
		errs = append(errs, fmt.Errorf("schedule runner: stop after %s: jobs %s: %w", r.stopTimeout, strings.Join(busy, ", "), ErrStopTimeout))
	}

	for _, st := range r.jobs {
		r.accountUpTo(st, stopAt)
		if err := r.log.MarkHandled(st.job.ID, stopAt); err != nil {
			errs = append(errs, err)
		}
	}
	r.logger.Info("scheduler stopped", "at", stopAt)
	return errors.Join(errs...)
}

// catchUp records the fires of st missed between its last handled time and now, marks
// the job handled up to now, and returns the catch-up fire to send, if any.
func (r *Runner) catchUp(st *jobState, now time.Time) (*lateFire, error) {
	job := st.job
	last, ok, err := r.log.LastHandled(job.ID)
	if err != nil {
		return nil, fmt.Errorf("catch up job %s: %w", job.ID, err)
	}
	var lf *lateFire
	if ok {
		earlier, leftOut, latest := pastFires(job.Spec, last, now, MaxListedMissed)
		var missed []probe.Fire
		for _, t := range earlier {
			missed = append(missed, r.fireRecord(job, t, now, probe.FireMissed, "missed while down; only the latest missed fire is caught up", ""))
		}
		if !leftOut.IsZero() {
			missed = append(missed, r.fireRecord(job, leftOut, now, probe.FireMissed,
				fmt.Sprintf("missed while down, as was every fire after it until %s (more than %d missed fires are not listed one by one)",
					latest.UTC().Format(time.RFC3339), MaxListedMissed), ""))
		}
		if !latest.IsZero() {
			if lateBy := now.Sub(latest); lateBy > r.grace {
				missed = append(missed, r.fireRecord(job, latest, now, probe.FireMissed,
					fmt.Sprintf("missed while down: %s late, beyond the grace of %s", fmtDuration(lateBy), fmtDuration(r.grace)), ""))
			} else {
				lf = &lateFire{scheduledAt: latest, lateBy: lateBy, started: make(chan struct{})}
			}
		}
		for _, f := range missed {
			if err := r.record(f); err != nil {
				return nil, fmt.Errorf("catch up job %s: %w", job.ID, err)
			}
		}
	}
	if err := r.log.MarkHandled(job.ID, now); err != nil {
		return nil, fmt.Errorf("catch up job %s: %w", job.ID, err)
	}
	st.mu.Lock()
	st.upTo = now
	st.mu.Unlock()
	return lf, nil
}

// runJob is what cron runs for st (inside SkipIfStillRunning and Recover), and what a
// catch-up fire runs once.
func (r *Runner) runJob(ctx context.Context, st *jobState) {
	job := st.job
	now := r.now()
	var (
		pending     []probe.Fire
		scheduledAt time.Time
		lateBy      time.Duration
	)
	st.mu.Lock()
	lf := st.late
	st.late = nil
	if lf != nil {
		scheduledAt, lateBy = lf.scheduledAt, lf.lateBy
	} else {
		earlier, leftOut, latest := pastFires(job.Spec, st.upTo, now, MaxListedMissed)
		for _, t := range earlier {
			pending = append(pending, r.notRun(st, t, now))
		}
		if !leftOut.IsZero() {
			pending = append(pending, r.fireRecord(job, leftOut, now, probe.FireMissed,
				fmt.Sprintf("not started at its time, nor was any fire after it until %s (more than %d are not listed one by one)",
					latest.UTC().Format(time.RFC3339), MaxListedMissed), ""))
		}
		if latest.IsZero() {
			// Options.Now runs behind cron's clock: take the fire cron woke for.
			latest = job.Spec.Next(st.upTo)
		}
		scheduledAt = latest
		if d := now.Sub(latest); d > onTime {
			lateBy = d
		}
		st.upTo = latest
	}
	st.running = true
	st.mu.Unlock()
	if lf != nil {
		close(lf.started)
	}

	defer func() {
		st.mu.Lock()
		st.running = false
		st.lastEnd = r.now()
		st.mu.Unlock()
	}()
	defer func() {
		// A panic outside Fire (in the limiter or the fire log) goes on to cron.Recover,
		// which logs the stack but not the job; the fire record names it.
		if p := recover(); p != nil {
			r.record(r.fireRecord(job, scheduledAt, r.now(), probe.FireFailed, fmt.Sprintf("panic: %v", p), ""))
			panic(p)
		}
	}()

	for _, f := range pending {
		r.record(f)
	}
	if lateBy > r.grace {
		r.record(r.fireRecord(job, scheduledAt, now, probe.FireMissed,
			fmt.Sprintf("started %s late, beyond the grace of %s", fmtDuration(lateBy), fmtDuration(r.grace)), ""))
		return
	}
	r.fireOnce(ctx, job, scheduledAt, lateBy, lf == nil && lateBy == 0)
}

// notRun returns the record of a fire of st at t that cron did not run. st.mu is held.
func (r *Runner) notRun(st *jobState, t, now time.Time) probe.Fire {
	if st.running || t.Before(st.lastEnd) {
		return r.fireRecord(st.job, t, now, probe.FireSkipped, "previous fire still running", "")
	}
	return r.fireRecord(st.job, t, now, probe.FireMissed, "not started at its time (machine suspended, clock stepped, or daemon stopping)", "")
}

// accountUpTo records the fires of st up to t that were never started (skipped while
// the previous fire ran), so a watermark at t does not hide them.
func (r *Runner) accountUpTo(st *jobState, t time.Time) {
	st.mu.Lock()
	var pending []probe.Fire
	earlier, leftOut, latest := pastFires(st.job.Spec, st.upTo, t, MaxListedMissed)
	for _, f := range earlier {
		pending = append(pending, r.notRun(st, f, t))
	}
	if !leftOut.IsZero() {
		pending = append(pending, r.fireRecord(st.job, leftOut, t, probe.FireMissed,
			fmt.Sprintf("not started at its time, nor was any fire after it until %s", latest.UTC().Format(time.RFC3339)), ""))
	}
	if !latest.IsZero() {
		pending = append(pending, r.notRun(st, latest, t))
		st.upTo = latest
	}
	st.mu.Unlock()
	for _, f := range pending {
		r.record(f)
	}
}

// fireOnce waits the jitter, checks the vendor's limits and calls Fire, recording the
// outcome.
func (r *Runner) fireOnce(ctx context.Context, job Job, scheduledAt time.Time, lateBy time.Duration, jitter bool) {
	done := func(o probe.FireOutcome, reason, probeID string) {
		r.record(r.fireRecord(job, scheduledAt, r.now(), o, reason, probeID))
	}
	if jitter && job.Jitter > 0 {
		if !sleep(ctx, r.jitter(job.Jitter)) {
			done(probe.FireMissed, "daemon stopped before the jittered send time", "")
			return
		}
	}
	if ctx.Err() != nil {
		done(probe.FireMissed, "daemon stopped before the send", "")
		return
	}
	if job.Vendor != "" {
		lock := r.vendors[job.Vendor]
		select {
		case lock <- struct{}{}:
			defer func() { <-lock }()
		case <-ctx.Done():
			done(probe.FireMissed, "daemon stopped while another fire to the vendor was running", "")
			return
		}
		if r.limiter != nil {
			ok, reason, err := r.limiter.Allow(ctx, job.Vendor, r.now())
			if err != nil {
				done(probe.FireFailed, "check limits: "+err.Error(), "")
				return
			}
			if !ok {
				done(probe.FireSkipped, reason, "")
				return
			}
		}
	}
	probeID, err := r.callFire(ctx, job, scheduledAt, lateBy)
	switch {
	case errors.Is(err, ErrSkipped):
		done(probe.FireSkipped, err.Error(), probeID)
	case err != nil:
		done(probe.FireFailed, err.Error(), probeID)
	case lateBy > 0:
		done(probe.FireLate, fmt.Sprintf("sent %s late", fmtDuration(lateBy)), probeID)
	default:
		done(probe.FireSent, "", probeID)
	}
}

// callFire calls Fire and turns a panic into an error.
func (r *Runner) callFire(ctx context.Context, job Job, scheduledAt time.Time, lateBy time.Duration) (probeID string, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.logger.Error("fire panicked", "job", job.ID, "vendor", job.Vendor, "scheduled_at", scheduledAt, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return r.fire(ctx, job, scheduledAt, lateBy)
}

func (r *Runner) fireRecord(job Job, scheduledAt, handledAt time.Time, o probe.FireOutcome, reason, probeID string) probe.Fire {
	return probe.Fire{
		Job:         job.ID,
		Vendor:      job.Vendor,
		ScheduledAt: scheduledAt,
		HandledAt:   handledAt,
		Outcome:     o,
		Reason:      reason,
		ProbeID:     probeID,
	}
}

// record stores f and logs it; an error is logged and returned.
func (r *Runner) record(f probe.Fire) error {
	level := slog.LevelInfo
	switch f.Outcome {
	case probe.FireSkipped, probe.FireMissed:
		level = slog.LevelWarn
	case probe.FireFailed:
		level = slog.LevelError
	}
	attrs := []any{"job", f.Job, "vendor", f.Vendor, "scheduled_at", f.ScheduledAt, "outcome", f.Outcome}
	if f.ProbeID != "" {
		attrs = append(attrs, "probe", f.ProbeID)
	}
	if f.Reason != "" {
		attrs = append(attrs, "reason", f.Reason)
	}
	r.logger.Log(context.Background(), level, "fire", attrs...)
	if err := r.log.RecordFire(f); err != nil {
		r.logger.Error("record fire", append(attrs, "err", err)...)
		return err
	}
	return nil
}

// jitter returns a uniform delay in [0, limit).
func (r *Runner) jitter(limit time.Duration) time.Duration {
	r.randMu.Lock()
	x := r.rand()
	r.randMu.Unlock()
	d := time.Duration(x * float64(limit))
	// Float rounding can reach limit itself for x just below 1.
	return min(max(d, 0), limit-1)
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pastFires returns the fire times of s in (after, upTo]: latest is the last of them
// (zero if none); earlier are the ones before it, at most limit; leftOut is the first
// fire not listed in earlier for the limit (zero if none).
func pastFires(s Spec, after, upTo time.Time, limit int) (earlier []time.Time, leftOut, latest time.Time) {
	latest = latestFire(s, after, upTo)
	if latest.IsZero() {
		return nil, time.Time{}, time.Time{}
	}
	for t := s.Next(after); t.Before(latest); t = s.Next(t) {
		if len(earlier) == limit {
			return earlier, t, latest
		}
		earlier = append(earlier, t)
	}
	return earlier, time.Time{}, latest
}

// latestFire returns the last fire time of s in (after, upTo], or zero if there is none.
// It searches back from upTo in doubling steps, so a long downtime of a frequent
// schedule costs a few dozen Next calls, not one per missed fire.
func latestFire(s Spec, after, upTo time.Time) time.Time {
	if first := s.Next(after); first.IsZero() || first.After(upTo) {
		return time.Time{}
	}
	span := upTo.Sub(after) // saturates for huge spans
	for back := time.Minute; ; {
		from := after
		if back < span {
			from = upTo.Add(-back)
		}
		if t := s.Next(from); !t.IsZero() && !t.After(upTo) {
			for {
				n := s.Next(t)
				if n.IsZero() || n.After(upTo) {
					return t
				}
				t = n
			}
		}
		// from == after cannot get here: its Next is the first fire, within upTo.
		if back > span/2 {
			back = span
		} else {
			back *= 2
		}
	}
}

// cronLogger hands robfig/cron's logs to slog. cron logs every wake-up at Info, which
// is Debug here; a fire dropped by SkipIfStillRunning is logged at Info (cron does not
// say which job: the fire record made at the job's next run does).
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, keysAndValues ...any) {
	level := slog.LevelDebug
	if msg == "skip" {
		level, msg = slog.LevelInfo, "skip: previous fire of the job still running"
	}
	c.l.Log(context.Background(), level, "cron: "+msg, keysAndValues...)
}

func (c cronLogger) Error(err error, msg string, keysAndValues ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err}, keysAndValues...)...)
}

// fmtDuration formats d rounded to the second without zero units: "2h", "35m",
// "1h30m", "45s".
func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s := d % time.Minute / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}
