package daemon

import (
	"context"
	"fmt"
	"time"

	"supportprobe/schedule"
)

// jobID names vendor's i-th schedule in the fire log; it stays stable while the
// configuration keeps the schedule's position.
func jobID(vendor string, i int) string { return fmt.Sprintf("%s/%d", vendor, i) }

// summaryJob is the fire-log name of the weekly summary.
const summaryJob = "summary"

// newRunner builds the scheduler over every vendor schedule in the configuration.
func (d *Daemon) newRunner() (*schedule.Runner, error) {
	var jobs []schedule.Job
	scripts := map[string][]string{}
	limits := map[string]schedule.VendorLimits{}
	for _, v := range d.cfg.Vendors {
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
	if sm := d.cfg.Summary; sm != nil && !d.opts.NoSchedules {
		spec, err := schedule.Parse(sm.Spec, sm.Location)
		if err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		jobs = append(jobs, schedule.Job{ID: summaryJob, Spec: spec})
	}
	fire := func(ctx context.Context, job schedule.Job, scheduledAt time.Time, lateBy time.Duration) (string, error) {
		if job.ID == summaryJob {
			return "", d.sendSummary(ctx, scheduledAt)
		}
		p, err := d.Send(ctx, SendRequest{Vendor: job.Vendor, Scripts: scripts[job.ID], ScheduledAt: scheduledAt, LateBy: lateBy})
		return p.ID, err
	}
	return schedule.NewRunner(jobs, schedule.Options{
		Log:     d.db,
		Fire:    fire,
		Limiter: schedule.NewLimiter(limits, d.db),
		Logger:  d.log,
		Now:     d.opts.Now,
	})
}
