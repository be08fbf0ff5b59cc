package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"supportprobe/configs"

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
  supportprobe reload --config /etc/supportprobe/supportprobe.yaml`

func reloadCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "reload", reloadSynopsis, reloadExample)
	load := configFlag(fs, e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; reload takes only flags", fs.Arg(0))
	}
	path, stateDir := "", ""
	cfg, loadErr := load()
	if loadErr == nil {
		path, stateDir = cfg.Path, cfg.StateDir
	} else {
		// Still ask the daemon, found by the file's state_dir alone: it refuses the file
		// for the same reason, and status shows that until a reload succeeds.
		var ok bool
		if path, stateDir, ok = stateDirOf(loadErr); !ok {
			return loadErr
		}
	}
	c, err := daemon.Dial(ctx, stateDir)
	if err != nil {
		if loadErr != nil {
			return loadErr
		}
		if errors.Is(err, daemon.ErrNotRunning) {
			return fmt.Errorf("%w: nothing to reload; `supportprobe run` reads the configuration when it starts", err)
		}
		return err
	}
	defer c.Close()
	res, err := c.Reload(ctx)
	if err != nil {
		return err // a refused file (daemon.ErrReloadRefused) exits 3
	}
	if res.File != path {
		fmt.Fprintf(e.stderr, "supportprobe reload: note: the daemon reads %s, not %s\n", res.File, path)
	}
	fmt.Fprintf(e.stdout, "daemon pid %d reloaded %s: %s\n", c.PID(), res.File, reloadOutcome(res))
	return nil
}

// stateDirOf reads only state_dir, leniently, from the file a configuration error is
// about, so that a command can still find the daemon of a file that fails validation.
// It returns the file, its state directory (made absolute as configs.Load does) and
// whether both could be read.
func stateDirOf(loadErr error) (path, stateDir string, ok bool) {
	var ce *configs.Error
	if !errors.As(loadErr, &ce) || ce.Source == "" {
		return "", "", false
	}
	data, err := os.ReadFile(ce.Source)
	if err != nil {
		return "", "", false
	}
	var raw struct {
		StateDir string `yaml:"state_dir"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return "", "", false
	}
	stateDir = cmp.Or(raw.StateDir, configs.DefaultStateDir)
	if !filepath.IsAbs(stateDir) {
		stateDir = filepath.Join(filepath.Dir(ce.Source), stateDir)
	}
	return ce.Source, stateDir, true
}
