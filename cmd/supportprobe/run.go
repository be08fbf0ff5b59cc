package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"supportprobe/probe/daemon"
	"supportprobe/probe/evidence"
)

const runSynopsis = `run [--config FILE] [--log-format text|json] [--log-level debug|info|warn|error]

Starts the daemon in the foreground. It owns the state directory: it locks it, keeps the
database open, and answers the other subcommands over a control socket there. A second
run on the same state directory fails at once, naming the pid that holds it. SIGINT or
SIGTERM stops it within a bounded time. SIGHUP (or ` + "`supportprobe reload`" + `) makes it
read the configuration file again: vendors and schedules added, changed or removed take
effect, and an invalid file is refused, logged, and the running configuration kept.
Unlike check, run refuses to start while a password file or variable is missing.`

const runExample = `  SUPPORTPROBE_IMAP_PASSWORD=… supportprobe run --config /etc/supportprobe/supportprobe.yaml`

func runCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", runSynopsis, runExample)
	load := configFlag(fs, e)
	logFormat := fs.String("log-format", "text", "log `format`: text or json")
	logLevel := fs.String("log-level", "info", "least `level` logged: debug, info, warn or error")
	noSchedules := fs.Bool("no-schedules", false, "send nothing on schedule; only watch for replies and serve the CLI (after a trial, to collect late replies)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; run takes only flags", fs.Arg(0))
	}
	logger, err := newLogger(e, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if problems := cfg.SecretProblems(); len(problems) > 0 {
		return fmt.Errorf("%w: passwords not set up: %w", errConfig, errors.Join(problems...))
	}
	// Before New: from the moment the daemon answers, SIGHUP must reload, not kill.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	d, err := daemon.New(cfg, daemon.Options{Logger: logger, Now: e.now, NoSchedules: *noSchedules, Version: version,
		FollowupInterval: e.followupInterval, AlertInterval: e.alertInterval, SMTPBackoff: e.smtpBackoff, SMTPRetryWindow: e.smtpRetryWindow,
		DNSResolver: e.dnsResolver})
	if err != nil {
		return err
	}
	defer d.Close()
	// The key that signs evidence archives is made at the first run, so that its public
	// half can be handed over (`supportprobe key`) before any archive is needed.
	if k, created, err := evidence.LoadOrCreateKey(cfg.StateDir); err != nil {
		return err
	} else if created {
		logger.Info("evidence signing key created; back it up with the database", "fingerprint", evidence.Fingerprint(k.Public()), "state_dir", cfg.StateDir)
	}
	reloads := reloadOnHangup(ctx, d, hup)
	err = d.Run(ctx)
	reloads()
	if err != nil {
		return err
	}
	return d.Close()
}

// reloadOnHangup reloads d's configuration on each signal from hup until the returned
// stop is called; stop waits for a reload under way. The daemon logs each outcome.
func reloadOnHangup(ctx context.Context, d *daemon.Daemon, hup <-chan os.Signal) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-hup:
				d.Reload(daemon.WithRequester(ctx, "SIGHUP (sender not known)")) // refused or not, Reload logs why
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func newLogger(e *env, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}
