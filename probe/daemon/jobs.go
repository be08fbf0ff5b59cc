package daemon

import (
	"context"
	"fmt"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/schedule"
	"supportprobe/store"
)

// jobID names vendor's i-th schedule in the fire log; it stays stable while the
// configuration keeps the schedule's position.
func jobID(vendor string, i int) string { return fmt.Sprintf("%s/%d", vendor, i) }

// summaryJob is the fire-log name of the weekly summary.
const summaryJob = "summary"

// newRunner builds the scheduler over every vendor schedule in cfg. Its fires send
// within sendCtx, the daemon's lifetime, rather than the runner's own context: a reload
// stops the runner it replaces, and a send under way then finishes and is recorded.
func (d *Daemon) newRunner(cfg *configs.Config, sendCtx context.Context) (*schedule.Runner, error) {
	var jobs []schedule.Job
	scripts := map[string][]string{}
	limits := map[string]schedule.VendorLimits{}
	for _, v := range cfg.Vendors {
		if d.opts.NoSchedules {
			break
		}
		limits[v.Name] = schedule.VendorLimits{Limits: v.Limits, Location: v.Hours.Location()}
		for i, s := range v.Schedules {
			spec, err := schedule.Parse(s.Spec, s.Location)
			if err != nil {
				return nil, fmt.Errorf("vendor %s: schedules[%d]: %w", v.Name, i, err)
			}
			id := jobID(v.Name, i)
			jobs = append(jobs, schedule.Job{ID: id, Vendor: v.Name, Spec: spec, Jitter: s.Jitter})
			scripts[id] = s.Scripts
		}
	}
	if sm := cfg.Summary; sm != nil && !d.opts.NoSchedules {
		spec, err := schedule.Parse(sm.Spec, sm.Location)
		if err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		jobs = append(jobs, schedule.Job{ID: summaryJob, Spec: spec})
	}
	fire := func(_ context.Context, job schedule.Job, scheduledAt time.Time, lateBy time.Duration) (string, error) {
		ctx := sendCtx
		if job.ID == summaryJob {
			return "", d.sendSummary(ctx, scheduledAt)
		}
		// A fire scheduled inside a pause stays unsent even when it runs after the pause
		// ended (jitter, or the catch-up after a restart); one that runs inside a pause
		// was held back before this, by pauseLimiter.
		if p, ok, err := d.pauseAt(job.Vendor, scheduledAt); err != nil {
			return "", fmt.Errorf("vendor %s: look up pauses: %w", job.Vendor, err)
		} else if ok {
			return "", wrapped{msg: "scheduled inside a pause: " + p.Reason(), err: schedule.ErrSkipped}
		}
		if p, ok, err := d.attemptedBefore(job.Vendor, scheduledAt); err != nil {
			return "", err
		} else if ok {
			return p.ID, fmt.Errorf("vendor %s: the fire of %s was already attempted as probe %s (now %s) before the daemon restarted; not sent again",
				job.Vendor, scheduledAt.UTC().Format(time.RFC3339), p.ID, p.State)
		}
		p, err := d.Send(ctx, SendRequest{Vendor: job.Vendor, Scripts: scripts[job.ID], ScheduledAt: scheduledAt, LateBy: lateBy})
		return p.ID, err
	}
	return schedule.NewRunner(jobs, schedule.Options{
		Log:     d.db,
		Fire:    fire,
		Limiter: pauseLimiter{d: d, inner: schedule.NewLimiter(limits, d.db)},
		Logger:  d.log,
		Now:     d.opts.Now,
	})
}

// attemptedBefore returns the probe that an earlier run of the daemon created for
// vendor's fire at scheduledAt, if there is one. A crash after a fire's inquiry was
// handed to SMTP but before the fire's outcome was recorded leaves the fire looking
// missed, and the catch-up at the next start would send it a second time; the probe,
// written before SMTP, says it was attempted. Fires of this run are never looked up, so
// two schedules of one vendor that fire at the same time still send one probe each.
func (d *Daemon) attemptedBefore(vendor string, scheduledAt time.Time) (probe.Probe, bool, error) {
	if !scheduledAt.Before(d.started) {
		return probe.Probe{}, false, nil
	}
	// Options.Now may run a little behind cron's clock: look from a minute earlier.
	ps, err := d.db.Probes(store.Filter{Vendor: vendor, Since: scheduledAt.Add(-time.Minute), Until: d.started})
	if err != nil {
		return probe.Probe{}, false, fmt.Errorf("vendor %s: look for an earlier attempt of the fire of %s: %w",
			vendor, scheduledAt.UTC().Format(time.RFC3339), err)
	}
	for _, p := range ps {
		if p.ScheduledAt.Equal(scheduledAt) {
			return p, true, nil
		}
	}
	return probe.Probe{}, false, nil
}
