package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

const statusSynopsis = `status [--config FILE] [--format text|json]

Shows whether the daemon runs (pid, version, since when) and how it is doing: each
watched IMAP folder (idle or polled, last sync, last UID read, last error), the SMTP
server's last answer, each vendor's next scheduled fire in UTC and in the schedule's
zone, open probes and those past their SLA target, unmatched mail and replies waiting
for review, alert channels failing and alerts not yet delivered, the configuration in
force and the outcome of the latest reload.

It exits 0 when the daemon runs and is healthy, and 1 when it is unhealthy (the reason
is printed; /healthz answers 503 then) or when no daemon runs, in which case it shows
what the state directory holds. --format json prints what /healthz serves.`

const statusExample = `  supportprobe status
  supportprobe status --format json | jq .past_target`

func statusCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", statusSynopsis, statusExample)
	load := configFlag(fs, e)
	format := fs.String("format", "text", "output `format`: text or json")
	err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; status takes only flags", fs.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: want text or json", *format)
	}
	var st daemon.Status
	path := ""
	cfg, loadErr := load()
	if loadErr == nil {
		path = cfg.Path
		if st, err = readStatus(ctx, cfg, e.now()); err != nil {
			return err
		}
	} else {
		// An invalid file (an edit the daemon refused, say) still names the state
		// directory: show the running daemon, then the file's problem.
		p, stateDir, ok := stateDirOf(loadErr)
		if !ok {
			return loadErr
		}
		c, err := daemon.Dial(ctx, stateDir)
		if err != nil {
			return loadErr
		}
		defer c.Close()
		if st, err = c.Status(ctx); err != nil {
			return err
		}
		path = p
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return err
		}
	} else {
		writeStatus(e.stdout, st, path)
	}
	switch {
	case loadErr != nil:
		return fmt.Errorf("%w: %s is invalid, and the running daemon keeps the configuration loaded at %s: %w",
			errConfig, path, st.Config.LoadedAt.Format(time.RFC3339), loadErr)
	case !st.Running:
		return fmt.Errorf("state directory %s: %w (start it with `supportprobe run`); the figures above are read from %s", cfg.StateDir, daemon.ErrNotRunning, st.Database)
	case !st.Healthy:
		return fmt.Errorf("daemon pid %d is unhealthy: %s", st.PID, st.Unhealthy)
	case st.Error != "":
		return fmt.Errorf("daemon pid %d could not read everything: %s", st.PID, st.Error)
	}
	return nil
}

// readStatus asks the daemon of cfg's state directory for its status or, when none
// runs, reads what it can from the state directory.
func readStatus(ctx context.Context, cfg *configs.Config, now time.Time) (daemon.Status, error) {
	c, err := daemon.Dial(ctx, cfg.StateDir)
	if err == nil {
		defer c.Close()
		return c.Status(ctx)
	}
	if !errors.Is(err, daemon.ErrNotRunning) {
		return daemon.Status{}, err
	}
	path := daemon.DatabasePath(cfg.StateDir)
	db, err := store.Open(path, store.Options{ReadOnly: true, LockTimeout: 2 * time.Second})
	if errors.Is(err, store.ErrNoDatabase) {
		st := daemon.Status{StateDir: cfg.StateDir, Database: path + " (not created yet)", Now: now.UTC(), Unhealthy: "daemon is not running"}
		st.Config.File = cfg.Path
		return st, nil
	}
	if err != nil {
		return daemon.Status{}, err
	}
	defer db.Close()
	st, err := daemon.Snapshot(db, cfg, now, false)
	st.Unhealthy = "daemon is not running"
	st.Config.File = cfg.Path
	if err != nil {
		st.Error = err.Error()
	}
	return st, nil
}

// fileDigest is the hex SHA-256 of the file at path, "" when it cannot be read.
func fileDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// writeStatus prints st for a person; cliConfig is the CLI's configuration file,
// compared with the daemon's to point out an edit not yet reloaded.
func writeStatus(out io.Writer, st daemon.Status, cliConfig string) {
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return fmt.Sprintf("%s (%s ago)", t.UTC().Format("2006-01-02 15:04:05 UTC"), st.Now.Sub(t).Round(time.Second))
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	if st.Running {
		fmt.Fprintf(w, "daemon\trunning, pid %d, version %s, since %s\n", st.PID, st.Version, when(st.StartedAt))
		if st.Healthy {
			fmt.Fprintf(w, "health\tok\n")
		} else {
			fmt.Fprintf(w, "health\tUNHEALTHY: %s\n", st.Unhealthy)
		}
	} else {
		fmt.Fprintf(w, "daemon\tNOT RUNNING on %s; the figures below are read from the state directory\n", st.StateDir)
	}
	fmt.Fprintf(w, "state\t%s\n", st.Database)
	cf := st.Config
	if st.Running {
		line := fmt.Sprintf("%s, loaded %s", cf.File, when(cf.LoadedAt))
		if cf.File == cliConfig && cf.SHA256 != "" && fileDigest(cliConfig) != cf.SHA256 {
			line += "; the file has changed since: run `supportprobe reload` to put it in force"
		}
		fmt.Fprintf(w, "config\t%s\n", line)
		if r := cf.LastReload; r != nil {
			fmt.Fprintf(w, "last reload\t%s %s\n", when(r.At), reloadOutcome(*r))
		}
	} else {
		fmt.Fprintf(w, "config\t%s\n", cf.File)
	}
	if len(st.Folders) > 0 {
		fmt.Fprintf(w, "folders\t\n")
		for _, f := range st.Folders {
			line := fmt.Sprintf("  %s\t%s, last UID %d", folderText(f), strings.ReplaceAll(f.Mode, "_", " "), f.LastUID)
			if st.Running {
				line += ", last sync " + when(f.LastSync)
			}
			if f.LastError != "" {
				line += fmt.Sprintf(", last error %s: %s", when(f.LastErrorAt), f.LastError)
			}
			fmt.Fprintln(w, line)
		}
	}
	if st.Running {
		switch s := st.SMTP; {
		case s == nil:
			fmt.Fprintf(w, "smtp\tnothing sent since the daemon started\n")
		case s.OK:
			fmt.Fprintf(w, "smtp\tlast inquiry %s accepted %s\n", s.Probe, when(s.At))
		default:
			fmt.Fprintf(w, "smtp\tlast inquiry %s FAILED %s: %s\n", s.Probe, when(s.At), s.Error)
		}
	}
	fmt.Fprintf(w, "next fires\t\n")
	if st.SchedulesOff {
		fmt.Fprintf(w, "  (schedules are off: the daemon runs with --no-schedules)\t\n")
	}
	for _, v := range st.Vendors {
		if v.NextFire.IsZero() {
			fmt.Fprintf(w, "  %s\tno schedule\n", v.Name)
			continue
		}
		fmt.Fprintf(w, "  %s\t%s  (%s %s)\n", v.Name, v.NextFire.Format("2006-01-02 15:04 UTC"), v.NextFireLocal, v.Zone)
	}
	probes := fmt.Sprintf("%s open", plural(st.OpenProbes, "probe", "probes"))
	if n := len(st.PastTarget); n > 0 {
		probes += fmt.Sprintf(", %d past target: %s", n, strings.Join(st.PastTarget, " "))
	} else {
		probes += ", none past target"
	}
	fmt.Fprintf(w, "probes\t%s\n", probes)
	fmt.Fprintf(w, "waiting\t%d unmatched (supportprobe inbox --unmatched), %d to review (supportprobe review)\n", st.Unmatched, st.NeedsReview)
	if st.Running {
		if len(st.Alerts) == 0 {
			fmt.Fprintf(w, "alerts\tno channel configured\n")
		}
		for i, a := range st.Alerts {
			label := ""
			if i == 0 {
				label = "alerts"
			}
			state := "ok"
			if a.Failing {
				state = fmt.Sprintf("FAILING since %s: %s", when(a.LastErrorAt), a.LastError)
			}
			fmt.Fprintf(w, "%s\t%s: %s (%d delivered, %d failed attempts since start)\n", label, a.Name, state, a.Delivered, a.Failed)
		}
	}
	for _, p := range st.AlertsPending {
		line := fmt.Sprintf("%s on %s, raised %s, %d attempts", p.ID, p.Channel, when(p.RaisedAt), p.Attempts)
		if p.LastError != "" {
			line += ": " + p.LastError
		}
		fmt.Fprintf(w, "alert pending\t%s\n", line)
	}
	if st.Error != "" {
		fmt.Fprintf(w, "error\t%s\n", st.Error)
	}
	w.Flush()
}

// reloadOutcome describes a reload's outcome in one line.
func reloadOutcome(r daemon.ReloadResult) string {
	if !r.OK {
		return "REFUSED, the previous configuration stays in force: " + r.Error
	}
	var parts []string
	for _, c := range []struct {
		what  string
		names []string
	}{{"added", r.VendorsAdded}, {"changed", r.VendorsChanged}, {"removed", r.VendorsRemoved}} {
		if len(c.names) > 0 {
			parts = append(parts, c.what+" "+strings.Join(c.names, ", "))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no vendor changed")
	}
	line := "ok: " + strings.Join(parts, "; ")
	if len(r.NeedsRestart) > 0 {
		line += fmt.Sprintf("; %s changed too, in force only after a restart", strings.Join(r.NeedsRestart, ", "))
	}
	return line
}

// folderText names a watched folder and, for one found by its special-use attribute, how:
// `Junk Email (\Junk, SPECIAL-USE)`, or `\Junk (found when the daemon connects)`.
func folderText(f daemon.FolderStatus) string {
	switch {
	case f.Entry == "":
		return f.Name
	case f.Chosen == "":
		return f.Entry + " (found when the daemon connects)"
	case f.Chosen == mailbox.ChosenNone:
		return mailbox.WatchedFolder{Entry: f.Entry, Chosen: f.Chosen}.String()
	}
	return mailbox.WatchedFolder{Entry: f.Entry, Name: f.Name, Chosen: f.Chosen}.String()
}
