package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/schedule"
)

// Reloading the configuration (SIGHUP, `supportprobe reload`, POST /v1/reload).
//
// Reload reads the file the daemon was started with again and validates it as strictly
// as at start (configs.Load), then builds the schedules it describes. Only when all of
// that succeeds does the new configuration take the place of the old one: vendors,
// scripts, schedules and the weekly summary are replaced at once, the scheduler of the
// old configuration is stopped (a send under way finishes and is recorded) and one over
// the new schedules starts. Sections the daemon built its connections and listeners
// from (state_dir, mail, http, alerts) keep their values until a restart; a reload that
// finds them changed says so. dashboard.read_only applies at once. Probes already stored keep the terms they were created
// with (probe.Terms): a reload changes the figures of no probe sent before it.
//
// A file that fails to load or validate changes nothing: the daemon keeps the
// configuration in force, logs why, answers the reload with the reason, and `status`
// shows it until a later reload succeeds.

// ErrReloadRefused means a reload found the configuration file invalid and kept the
// configuration in force.
var ErrReloadRefused = errors.New("configuration not reloaded")

// errReloaded is the cause given to the context of a scheduler a reload replaces.
var errReloaded = errors.New("configuration reloaded")

// ReloadResult is the outcome of one reload.
type ReloadResult struct {
	// At is when the reload was asked for; File is the file read.
	At   time.Time `json:"at"`
	File string    `json:"file"`
	// OK is false when the file was refused; Error then says why.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// VendorsAdded, VendorsRemoved and VendorsChanged name the vendors whose schedules or
	// terms changed; probes already stored keep their own terms.
	VendorsAdded   []string `json:"vendors_added,omitempty"`
	VendorsRemoved []string `json:"vendors_removed,omitempty"`
	VendorsChanged []string `json:"vendors_changed,omitempty"`
	// Unchanged is true when the file describes the configuration in force.
	Unchanged bool `json:"unchanged,omitempty"`
	// NeedsRestart names the changed sections that take effect only at a restart.
	NeedsRestart []string `json:"needs_restart,omitempty"`
	// By names who asked: the account on the control socket, or the signal.
	By string `json:"by,omitempty"`
	// InForceSince is when the configuration in force after this reload was read: At
	// for a reload that succeeded, earlier for one refused.
	InForceSince time.Time `json:"in_force_since"`
}

// loadedConfig is when the configuration in force was read, and the SHA-256 of the file
// as it was then ("" when it could not be read again).
type loadedConfig struct {
	at     time.Time
	digest string
}

// configDigest returns the hex SHA-256 of the file at path, or "" when it cannot be read
// (a configuration parsed from memory in tests).
func configDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// config returns the configuration in force. Callers take it once per operation.
func (d *Daemon) config() *configs.Config { return d.conf.Load() }

// Reload reads and validates the configuration file again and, when it is valid, puts
// its vendors, scripts, schedules and summary in force (see the comment at the top of
// reload.go). A refused file changes nothing and comes back as an error wrapping
// ErrReloadRefused, beside a result that says why. Reloads are serialised; one can wait
// for the scheduler it replaces to stop, within ctx. The audit entry names who asked:
// the control socket's account, or what WithRequester put in ctx (the signal).
func (d *Daemon) Reload(ctx context.Context) (ReloadResult, error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	old := d.config()
	res := ReloadResult{At: d.opts.Now().UTC(), File: old.Path, By: askedBy(ctx, "")}
	refuse := func(err error) (ReloadResult, error) {
		res.Error = err.Error()
		res.InForceSince = d.loaded.Load().at.UTC()
		d.auditReload(res, configDigest(old.Path))
		d.lastReload.Store(&res)
		since := res.InForceSince.Format(time.RFC3339)
		d.log.Error("configuration not reloaded; the daemon keeps the one loaded at "+since, "file", old.Path, "err", err)
		return res, fmt.Errorf("%w: %w; the daemon keeps the configuration loaded at %s", ErrReloadRefused, err, since)
	}
	nc, err := configs.Load(old.Path)
	if err != nil {
		return refuse(err)
	}
	merged := *old
	// The dashboard asks for dashboard.read_only at each request: it applies at once.
	merged.Scripts, merged.Vendors, merged.Summary, merged.Dashboard = nc.Scripts, nc.Vendors, nc.Summary, nc.Dashboard
	res.NeedsRestart = restartSections(old, nc)
	res.VendorsAdded, res.VendorsRemoved, res.VendorsChanged = vendorChanges(old.Vendors, nc.Vendors)
	summaryChanged := !sameSummary(old.Summary, nc.Summary)
	res.Unchanged = len(res.VendorsAdded)+len(res.VendorsRemoved)+len(res.VendorsChanged) == 0 &&
		!summaryChanged && !scriptsChanged(old.Scripts, nc.Scripts) && len(res.NeedsRestart) == 0 && old.Dashboard == nc.Dashboard

	// Build the new scheduler before anything changes: a schedule that does not parse
	// refuses the file like any other error.
	var runner *schedule.Runner
	if d.swap != nil {
		if runner, err = d.newRunner(&merged, d.runCtx); err != nil {
			return refuse(err)
		}
	}
	d.conf.Store(&merged)
	d.loaded.Store(&loadedConfig{at: res.At, digest: configDigest(old.Path)})
	for _, name := range res.VendorsAdded {
		d.metrics.addVendor(name)
	}
	res.OK, res.InForceSince = true, res.At
	d.pageGen.Add(1)
	d.auditReload(res, d.loaded.Load().digest)
	d.lastReload.Store(&res)
	if runner != nil && (len(res.VendorsAdded)+len(res.VendorsRemoved)+len(res.VendorsChanged) > 0 || summaryChanged) {
		select {
		case d.swap <- runner:
		case <-d.schedDone:
		case <-ctx.Done():
			d.log.Warn("configuration reloaded, but the scheduler was not replaced before the request ended; it is replaced when the previous one stops", "err", ctx.Err())
		}
	}
	d.log.Info("configuration reloaded", "file", old.Path, "vendors", len(merged.Vendors),
		"added", res.VendorsAdded, "removed", res.VendorsRemoved, "changed", res.VendorsChanged, "needs_restart", res.NeedsRestart)
	d.wakeFollowups()
	return res, nil
}

// auditReload appends reload res to the audit log, with the SHA-256 of the file it read
// (digest). A failure to append is logged: the reload itself stands.
func (d *Daemon) auditReload(res ReloadResult, digest string) {
	_, err := d.db.AddAudit(probe.Correction{Action: probe.CorrectionReload, At: res.At, By: res.By, File: res.File, ConfigSHA256: digest, Refused: res.Error})
	if err != nil {
		d.log.Error("reload not recorded in the audit log", "file", res.File, "err", err)
	}
}

// runSchedules runs r until ctx ends, replacing it with each scheduler a reload sends.
// A replaced scheduler is stopped first (it marks its jobs handled up to its stop, so
// the next one neither repeats nor loses a fire); its sends run in the daemon's context
// and are recorded.
func (d *Daemon) runSchedules(ctx context.Context, r *schedule.Runner) error {
	defer close(d.schedDone)
	for {
		rctx, cancel := context.WithCancelCause(ctx)
		done := make(chan error, 1)
		go func() { done <- r.Run(rctx) }()
		select {
		case err := <-done:
			cancel(nil)
			return err
		case next := <-d.swap:
			cancel(errReloaded)
			if err := <-done; err != nil {
				d.log.Warn("scheduler of the previous configuration stopped with an error", "err", err)
			}
			r = next
		}
	}
}

// restartSections names the sections of nc that differ from old and apply only at a
// restart.
func restartSections(old, nc *configs.Config) []string {
	var out []string
	if old.StateDir != nc.StateDir {
		out = append(out, "state_dir")
	}
	if !reflect.DeepEqual(old.Mail, nc.Mail) {
		out = append(out, "mail")
	}
	if !reflect.DeepEqual(old.HTTP, nc.HTTP) {
		out = append(out, "http")
	}
	if !reflect.DeepEqual(old.Alerts, nc.Alerts) {
		out = append(out, "alerts")
	}
	return out
}

// vendorChanges compares two vendor lists by name and by what a vendor's probes and
// schedules depend on.
func vendorChanges(old, nc []probe.Vendor) (added, removed, changed []string) {
	before := map[string]string{}
	for _, v := range old {
		before[v.Name] = vendorFingerprint(v)
	}
	seen := map[string]bool{}
	for _, v := range nc {
		seen[v.Name] = true
		fp, ok := before[v.Name]
		switch {
		case !ok:
			added = append(added, v.Name)
		case fp != vendorFingerprint(v):
			changed = append(changed, v.Name)
		}
	}
	for _, v := range old {
		if !seen[v.Name] {
			removed = append(removed, v.Name)
		}
	}
	return added, removed, changed
}

// vendorFingerprint renders everything of v that a reload can change, comparably:
// time zones by name, patterns by their text.
func vendorFingerprint(v probe.Vendor) string {
	type sched struct {
		Spec, Zone string
		Scripts    []string
		Jitter     time.Duration
	}
	var ss []sched
	for _, s := range v.Schedules {
		ss = append(ss, sched{s.Spec, s.Location.String(), s.Scripts, s.Jitter})
	}
	key := ""
	if v.TicketKey != nil {
		key = v.TicketKey.String()
	}
	data, err := json.Marshal(struct {
		To, Domains []string
		Hours       probe.HoursSpec
		SLA         map[probe.Priority]probe.SLATarget
		Deadline    time.Duration
		TicketKey   string
		Schedules   []sched
		Limits      probe.Limits
		Rules       []probe.Rule
	}{v.To, v.Domains, v.Hours.Spec(), v.SLA, v.Deadline, key, ss, v.Limits, v.Rules})
	if err != nil {
		// Cannot happen with these types; count it as a change rather than hide one.
		return fmt.Sprintf("unrenderable: %v", err)
	}
	return string(data)
}

func sameSummary(a, b *configs.Summary) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Spec == b.Spec && a.Location.String() == b.Location.String() && slices.Equal(a.To, b.To)
}

func scriptsChanged(a, b []probe.Script) bool {
	da, _ := json.Marshal(a)
	db, _ := json.Marshal(b)
	return string(da) != string(db)
}
