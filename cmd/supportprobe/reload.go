package main

import (
	"context"
	"errors"
	"fmt"

	"supportprobe/probe/daemon"
)

const reloadSynopsis = `reload [--config FILE]

Makes the running daemon read its configuration file again, as SIGHUP does. The file is
validated as strictly as at start; when it is valid, vendors and schedules added,
changed and removed take effect at once (probes already sent keep the terms they were
created with). When it is not, the daemon keeps the configuration in force, and reload
prints why and exits 3. Changes to state_dir, mail, http and alerts are reported and take
effect at the next restart.`

const reloadExample = `  supportprobe reload
  sudo systemctl reload supportprobe     # the unit's ExecReload sends SIGHUP`

func reloadCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reload", reloadSynopsis, reloadExample)
	load := configFlag(fs, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; reload takes only flags", fs.Arg(0))
	}
	cfg, err := load()
	if err != nil {
		// The daemon reads its own file, but the CLI needs this one for the state
		// directory; the same mistake would make the daemon refuse it.
		return err
	}
	c, err := daemon.Dial(ctx, cfg.StateDir)
	if err != nil {
		if errors.Is(err, daemon.ErrNotRunning) {
			return fmt.Errorf("%w: nothing to reload; `supportprobe run` reads the configuration when it starts", err)
		}
		return err
	}
	defer c.Close()
	res, err := c.Reload(ctx)
	if err != nil {
		if errors.Is(err, daemon.ErrReloadRefused) {
			return fmt.Errorf("%w: %w", errConfig, err)
		}
		return err
	}
	if res.File != cfg.Path {
		fmt.Fprintf(e.stderr, "supportprobe reload: note: the daemon reads %s, not %s\n", res.File, cfg.Path)
	}
	fmt.Fprintf(e.stdout, "daemon pid %d reloaded %s: %s\n", c.PID(), res.File, reloadOutcome(res))
	return nil
}
