package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

const sendSynopsis = `send [--config FILE] --vendor V [--script S] [--dry-run] [--force]

Sends one inquiry to a vendor now and prints the probe id. Through the daemon when it
runs; otherwise this command takes the state directory for the moment it sends. Without
--script it takes the next script in the rotation of the vendor's first schedule.
--dry-run prints the message that would be sent (with a placeholder probe id and token)
and sends nothing. A paused vendor (` + "`supportprobe pause`" + `, or a window in
vendors[].pause) is refused, naming the pause; --force sends anyway, because a person
who sends by hand has decided (the daemon logs that the pause was overridden).`

const sendExample = `  supportprobe send --vendor acme-cloud --script outage-en
  supportprobe send --vendor lotus-ops --dry-run`

type sendOpts struct {
	req    daemon.SendRequest
	dryRun bool
}

func sendCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "send", sendSynopsis, sendExample)
	load := configFlag(fs, e)
	var o sendOpts
	fs.StringVar(&o.req.Vendor, "vendor", "", "the `vendor` to probe (required)")
	fs.StringVar(&o.req.Script, "script", "", "the `script` to send (default: next in rotation)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the message instead of sending it")
	fs.BoolVar(&o.req.Force, "force", false, "send even though the vendor is paused")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; name the vendor with --vendor", fs.Arg(0))
	}
	if o.req.Vendor == "" {
		return usagef("--vendor is required, e.g. `supportprobe send --vendor acme-cloud`")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if _, ok := cfg.Vendor(o.req.Vendor); !ok {
		return usagef("vendor %q is not in %s (see `supportprobe check`)", o.req.Vendor, cfg.Path)
	}
	if o.req.Script != "" {
		if _, ok := cfg.Script(o.req.Script); !ok {
			return usagef("script %q is not in %s (see `supportprobe check`)", o.req.Script, cfg.Path)
		}
	}
	if o.dryRun {
		return runDryRun(cfg, o, e)
	}
	return runSend(ctx, cfg, o, e)
}

func runDryRun(cfg *configs.Config, o sendOpts, e *env) error {
	v, _ := cfg.Vendor(o.req.Vendor)
	scriptID := o.req.Script
	if scriptID == "" {
		scriptID = cfg.Scripts[0].ID
		if len(v.Schedules) > 0 {
			scriptID = v.Schedules[0].Scripts[0]
		}
	}
	s, _ := cfg.Script(scriptID)
	in, err := probe.Compose(probe.Probe{ID: "P0", Token: "DRYRUN"}, s, v, probe.Composition{
		From: cfg.Mail.From, PlusAddressing: cfg.Mail.PlusAddressing, Key: []byte("dry-run"), Now: e.now(),
	})
	if err != nil {
		return err
	}
	raw, err := mailbox.Render(in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "dry run: script %s to vendor %s; nothing is sent or recorded\n", s.ID, v.Name)
	_, err = e.stdout.Write(raw)
	return err
}

func runSend(ctx context.Context, cfg *configs.Config, o sendOpts, e *env) error {
	var p probe.Probe
	c, err := daemon.Dial(ctx, cfg.StateDir)
	switch {
	case err == nil:
		defer c.Close()
		p, err = c.Send(ctx, o.req)
		if p.ID == "" && (errors.Is(err, store.ErrNotFound) || errors.Is(err, daemon.ErrUnknownVendor)) {
			// The vendor and script are in the CLI's file (sendCmd checked): the daemon
			// runs on another version of the configuration.
			return configDiffers(ctx, c, cfg, o.req)
		}
	case errors.Is(err, daemon.ErrNotRunning):
		if problems := cfg.SecretProblems(); len(problems) > 0 {
			return fmt.Errorf("%w: passwords not set up: %w", errConfig, errors.Join(problems...))
		}
		var d *daemon.Daemon
		d, err = daemon.New(cfg, daemon.Options{Logger: warnLogger(e), Now: e.now})
		if err != nil {
			return err
		}
		defer d.Close()
		p, err = d.Send(ctx, o.req)
	default:
		return err
	}
	if p.ID != "" {
		fmt.Fprintln(e.stdout, p.ID)
	}
	return err
}

// configDiffers explains a send the daemon refused for a vendor or script that the
// CLI's configuration has: the daemon has not loaded the file as it is now. The error
// wraps daemon.ErrUnknownVendor.
func configDiffers(ctx context.Context, c *daemon.Client, cfg *configs.Config, req daemon.SendRequest) error {
	what := fmt.Sprintf("vendor %q", req.Vendor)
	if req.Script != "" {
		what = fmt.Sprintf("vendor %q or script %q", req.Vendor, req.Script)
	}
	st, err := c.Status(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("%s is in %s but %w of the running daemon (pid %d): its configuration differs from the file; run `supportprobe reload`, then send again",
			what, cfg.Path, daemon.ErrUnknownVendor, c.PID())
	case st.Config.File != "" && st.Config.File != cfg.Path:
		return fmt.Errorf("%s is in %s but %w of the running daemon (pid %d), which reads %s: send with --config %s, or add it there and run `supportprobe reload`",
			what, cfg.Path, daemon.ErrUnknownVendor, st.PID, st.Config.File, st.Config.File)
	case st.Config.LastReload != nil && !st.Config.LastReload.OK:
		return fmt.Errorf("%s is in %s but %w of the running daemon (pid %d): its last reload refused the file (%s), so it keeps the configuration loaded at %s; fix the file and run `supportprobe reload`",
			what, cfg.Path, daemon.ErrUnknownVendor, st.PID, st.Config.LastReload.Error, st.Config.LoadedAt.Format(time.RFC3339))
	}
	return fmt.Errorf("%s is in %s but %w of the running daemon (pid %d), loaded at %s before the file changed; run `supportprobe reload`, then send again",
		what, cfg.Path, daemon.ErrUnknownVendor, st.PID, st.Config.LoadedAt.Format(time.RFC3339))
}

// warnLogger reports the daemon's warnings (a sent copy not filed, say) on stderr when
// the CLI does the daemon's work itself.
func warnLogger(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
