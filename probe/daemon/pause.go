package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/schedule"
	"supportprobe/store"
)

// ErrPaused means a send by hand was refused because the vendor is paused; the send
// goes ahead with SendRequest.Force (`supportprobe send --force`).
var ErrPaused = errors.New("vendor is paused")

// PauseRequest is the body of POST /v1/pause and /v1/resume: the vendor, and for a
// pause its end (zero: until resumed) and note. At is when the pause starts or the
// resume takes effect; zero means the daemon's now. By is who asked.
type PauseRequest struct {
	Vendor string    `json:"vendor"`
	Until  time.Time `json:"until,omitzero"`
	Note   string    `json:"note,omitempty"`
	By     string    `json:"by,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// ConfigPauses returns the maintenance windows of cfg's vendor ("" for every vendor)
// that overlap [since, until); zero bounds are open.
func ConfigPauses(cfg *configs.Config, vendor string, since, until time.Time) []probe.Pause {
	var out []probe.Pause
	for _, v := range cfg.Vendors {
		if vendor != "" && v.Name != vendor {
			continue
		}
		for _, p := range v.Pauses {
			if p.Overlaps(since, until) {
				out = append(out, p)
			}
		}
	}
	return out
}

// pauseAt returns the pause, set by hand or configured, that keeps vendor from being
// probed at t.
func (d *Daemon) pauseAt(vendor string, t time.Time) (probe.Pause, bool, error) {
	stored, err := d.db.Pauses(vendor, t, t.Add(time.Nanosecond))
	if err != nil {
		return probe.Pause{}, false, err
	}
	p, ok := probe.PauseAt(append(stored, ConfigPauses(d.config(), vendor, t, t.Add(time.Nanosecond))...), t)
	return p, ok, nil
}

// SetPause pauses a vendor of the configuration by hand (see setPause); a vendor not in
// the configuration is an error wrapping ErrUnknownVendor.
func (d *Daemon) SetPause(req PauseRequest) (probe.Pause, error) {
	if _, ok := d.config().Vendor(req.Vendor); !ok {
		return probe.Pause{}, fmt.Errorf("vendor %q %w (see `supportprobe check`)", req.Vendor, ErrUnknownVendor)
	}
	if req.At.IsZero() {
		req.At = d.opts.Now()
	}
	p, err := setPause(d.db, req)
	if err == nil {
		d.pageGen.Add(1)
		d.log.Info("vendor paused", "vendor", p.Vendor, "reason", p.Reason())
	}
	return p, err
}

// Resume ends the pause set by hand on a vendor (see resume); a vendor not in the
// configuration is an error wrapping ErrUnknownVendor.
func (d *Daemon) Resume(req PauseRequest) (probe.Pause, error) {
	if _, ok := d.config().Vendor(req.Vendor); !ok {
		return probe.Pause{}, fmt.Errorf("vendor %q %w (see `supportprobe check`)", req.Vendor, ErrUnknownVendor)
	}
	if req.At.IsZero() {
		req.At = d.opts.Now()
	}
	p, err := resume(d.db, req)
	if err == nil {
		d.pageGen.Add(1)
		d.log.Info("vendor resumed", "vendor", p.Vendor, "paused_since", p.From)
	}
	return p, err
}

// setPause stores req as a pause by hand from req.At (store.DB.SetPause: a pause already
// in force is changed rather than doubled); an end not after req.At is refused.
func setPause(db *store.DB, req PauseRequest) (probe.Pause, error) {
	if !req.Until.IsZero() && !req.Until.After(req.At) {
		return probe.Pause{}, fmt.Errorf("pause vendor %s: until %s is not after now (%s); give a later --until, or none to pause until `supportprobe resume`",
			req.Vendor, req.Until.UTC().Format(time.RFC3339), req.At.UTC().Format(time.RFC3339))
	}
	return db.SetPause(probe.Pause{Vendor: req.Vendor, From: req.At, Until: req.Until, Note: req.Note, By: req.By, SetAt: req.At})
}

// resume ends at req.At the pause by hand in force on req.Vendor; with none the error
// wraps store.ErrNotPaused. A configured window is not ended this way: it belongs to
// the configuration.
func resume(db *store.DB, req PauseRequest) (probe.Pause, error) {
	return db.Resume(req.Vendor, req.At, req.By)
}

// pauseLimiter holds back the fires of a paused vendor, which the schedule runner then
// records as skipped with the pause as the reason, before asking the vendor's limits.
type pauseLimiter struct {
	d     *Daemon
	inner schedule.Limiter
}

// Allow implements schedule.Limiter.
func (l pauseLimiter) Allow(ctx context.Context, vendor string, now time.Time) (bool, string, error) {
	p, ok, err := l.d.pauseAt(vendor, now)
	if err != nil {
		return false, "", fmt.Errorf("vendor %s: look up pauses: %w", vendor, err)
	}
	if ok {
		return false, p.Reason(), nil
	}
	return l.inner.Allow(ctx, vendor, now)
}

// refusePaused returns an error wrapping ErrPaused when vendor is paused at now, saying
// how to end the pause or to send anyway.
func (d *Daemon) refusePaused(vendor string, now time.Time) error {
	p, ok, err := d.pauseAt(vendor, now)
	if err != nil {
		return fmt.Errorf("vendor %s: look up pauses: %w", vendor, err)
	}
	if !ok {
		return nil
	}
	how := fmt.Sprintf("`supportprobe resume %s` ends it", vendor)
	if p.Source == probe.PauseConfig {
		how = fmt.Sprintf("remove or change the window in vendors[].pause of %s to end it", d.config().Path)
	}
	return wrapped{msg: fmt.Sprintf("vendor %s: not sent: %s; %s, or send anyway with --force", vendor, p.Reason(), how), err: ErrPaused}
}

// AllPauses joins the pauses stored (set by hand) with those of cfg for vendor ("" for
// all) that overlap [since, until), ordered by vendor, then start.
func AllPauses(stored []probe.Pause, cfg *configs.Config, vendor string, since, until time.Time) []probe.Pause {
	all := append(slices.Clip(stored), ConfigPauses(cfg, vendor, since, until)...)
	slices.SortStableFunc(all, func(a, b probe.Pause) int {
		if a.Vendor != b.Vendor {
			if a.Vendor < b.Vendor {
				return -1
			}
			return 1
		}
		return a.From.Compare(b.From)
	})
	return all
}
