package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

const pauseSynopsis = `pause [--config FILE] [--until T] [--note TEXT] VENDOR
       pause [--config FILE]                 (lists the pauses in force and to come)

Stops the vendor's scheduled probes from now until T (an RFC 3339 time, a date meaning
midnight UTC, or a duration from now such as 90m or 48h), or until ` + "`supportprobe resume`" + `
when --until is left out. Fires that fall in a pause are recorded as skipped with the
pause as the reason; ` + "`send`" + ` to a paused vendor is refused unless given --force.
Pausing a vendor already paused by hand changes that pause's end (and note, if given).
Through the daemon when it runs, else on the database itself. Maintenance windows that
are known in advance belong in the configuration: vendors[].pause.`

const pauseExample = `  supportprobe pause acme-cloud --until 2026-12-27T00:00:00+01:00 --note "holiday freeze"
  supportprobe pause lotus-ops --until 48h --note "portal migration"
  supportprobe pause`

const resumeSynopsis = `resume [--config FILE] VENDOR

Ends the pause set by hand on VENDOR now: its scheduled probes fire again from the next
fire on. A maintenance window of the configuration (vendors[].pause) is not ended this
way; change the configuration instead.`

const resumeExample = `  supportprobe resume acme-cloud`

func pauseCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "pause", pauseSynopsis, pauseExample)
	load := configFlag(fs, e)
	until := fs.String("until", "", "end of the pause: RFC 3339 `time`, date, or duration from now (default: until resumed)")
	note := fs.String("note", "", "why, for the fire log and the report")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("want one vendor, e.g. `supportprobe pause acme-cloud --until 48h`; got %s", strings.Join(fs.Args(), " "))
	}
	now := e.now()
	var end time.Time
	if *until != "" {
		d, err := time.ParseDuration(*until)
		switch {
		case err == nil && d > 0:
			end = now.Add(d)
		case err == nil:
			return usagef("--until %s: want a duration after now, e.g. 48h", *until)
		default:
			if end, err = parseTimeFlag("until", *until); err != nil {
				return usagef("--until %q: want an RFC 3339 time (2026-12-27T00:00:00+01:00), a date (2026-12-27, midnight UTC) or a duration from now (48h)", *until)
			}
		}
		if !end.After(now) {
			return usagef("--until %s is not after now (%s); give a later time, or leave --until out to pause until `supportprobe resume`",
				end.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		if *until != "" || *note != "" {
			return usagef("--until and --note need a vendor, e.g. `supportprobe pause acme-cloud --until 48h`")
		}
		return listPauses(ctx, e, cfg, now)
	}
	vendor, err := knownVendor(cfg, fs.Arg(0))
	if err != nil {
		return err
	}
	src, err := openSource(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	defer src.Close()
	p, err := src.SetPause(ctx, daemon.PauseRequest{Vendor: vendor, Until: end, Note: *note, By: e.who(), At: now.UTC()})
	if err != nil {
		return err
	}
	how := "until `supportprobe resume " + vendor + "`"
	if !p.Until.IsZero() {
		how = "until " + p.Until.UTC().Format(time.RFC3339) + " (or `supportprobe resume " + vendor + "`)"
	}
	fmt.Fprintf(e.stdout, "%s paused since %s, %s; its scheduled fires are recorded as skipped\n",
		vendor, p.From.UTC().Format(time.RFC3339), how)
	return nil
}

func resumeCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "resume", resumeSynopsis, resumeExample)
	load := configFlag(fs, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one vendor, e.g. `supportprobe resume acme-cloud` (`supportprobe pause` lists the pauses)")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	vendor, err := knownVendor(cfg, fs.Arg(0))
	if err != nil {
		return err
	}
	src, err := openSource(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	defer src.Close()
	now := e.now()
	p, err := src.Resume(ctx, daemon.PauseRequest{Vendor: vendor, By: e.who(), At: now.UTC()})
	if errors.Is(err, store.ErrNotPaused) {
		msg := fmt.Sprintf("vendor %s is not paused by hand, nothing to resume", vendor)
		if w, ok := probe.PauseAt(daemon.ConfigPauses(cfg, vendor, now, now.Add(time.Nanosecond)), now); ok {
			msg += fmt.Sprintf("; it is %s: change vendors[].pause in %s to end that", w.Reason(), cfg.Path)
		}
		return wrappedErr{msg: msg, err: err}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s resumed: paused from %s to %s\n", vendor, p.From.UTC().Format(time.RFC3339), p.Until.UTC().Format(time.RFC3339))
	if w, ok := probe.PauseAt(daemon.ConfigPauses(cfg, vendor, now, now.Add(time.Nanosecond)), now); ok {
		fmt.Fprintf(e.stdout, "note: %s is still %s\n", vendor, w.Reason())
	}
	return nil
}

// listPauses prints the pauses set by hand and the configured windows that are in force
// now or still to come.
func listPauses(ctx context.Context, e *env, cfg *configs.Config, now time.Time) error {
	src, err := openSource(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer src.Close()
	stored, err := src.Pauses(ctx, "", now, time.Time{})
	if err != nil {
		return err
	}
	all := daemon.AllPauses(stored, cfg, "", now, time.Time{})
	if len(all) == 0 {
		fmt.Fprintln(e.stdout, "no vendor is paused, and no pause is to come")
		return nil
	}
	for _, p := range all {
		state := "in force"
		if !p.Covers(now) {
			state = "to come"
		}
		fmt.Fprintf(e.stdout, "%s  %s: %s\n", p.Vendor, state, p.Reason())
	}
	return nil
}

// knownVendor returns name when cfg has such a vendor, else an error naming the ones it
// has.
func knownVendor(cfg *configs.Config, name string) (string, error) {
	if _, ok := cfg.Vendor(name); ok {
		return name, nil
	}
	var names []string
	for _, v := range cfg.Vendors {
		names = append(names, v.Name)
	}
	return "", fmt.Errorf("vendor %q %w %s; the vendors are: %s", name, daemon.ErrUnknownVendor, cfg.Path, strings.Join(names, ", "))
}

// wrappedErr is an error with its own text that still matches err with errors.Is.
type wrappedErr struct {
	msg string
	err error
}

func (w wrappedErr) Error() string { return w.msg }
func (w wrappedErr) Unwrap() error { return w.err }
