package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"supportprobe/probe/alert"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

const alertsSynopsis = `alerts list [--config FILE] [--since TIME] [--format text|json]
       alerts test [--config FILE] [--channel NAME]

Alerts tell someone at once when something needs a person: a probe open past its SLA
target (open_past_target), a breach (sla_breached), a send that failed (send_failed) or
bounced (bounced), the inbox watcher down for longer than alerts.watcher_down_after
(watcher_down, then watcher_up), replies awaiting review or unmatched mail waiting longer
than alerts.waiting_after (review_waiting), the state directory's file system short of
space (disk_low), and a restart after a crash (crash_restart). Each goes out once, on
every channel of the configuration's alerts section (webhooks, email, command), and is
retried with backoff until the channel accepts it.

"alerts list" prints the alert log, newest first, with each channel's delivery.
"alerts test" sends a test alert now and says what each channel answered; it goes
through the running daemon, or, when none runs, through the channels of the
configuration directly.`

const alertsExample = `  supportprobe alerts list --since 2026-12-01
  supportprobe alerts list --format json
  supportprobe alerts test
  supportprobe alerts test --channel ops`

func alertsCmd(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "--help" && args[0] != "-h" {
		return usagef("want a subcommand: `supportprobe alerts list` or `supportprobe alerts test`")
	}
	if args[0] == "--help" || args[0] == "-h" {
		fs := newFlags(e, "alerts", alertsSynopsis, alertsExample)
		return parseFlags(fs, args)
	}
	switch args[0] {
	case "list":
		return alertsList(ctx, e, args[1:])
	case "test":
		return alertsTest(ctx, e, args[1:])
	}
	return usagef("unknown subcommand %q: want list or test", args[0])
}

func alertsList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "alerts list", alertsSynopsis, alertsExample)
	load := configFlag(fs, e)
	since := fs.String("since", "", "only alerts raised at or after this date or RFC 3339 time")
	format := fs.String("format", "text", "text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: want text or json", *format)
	}
	var from time.Time
	if *since != "" {
		t, err := parseTimeFlag("since", *since)
		if err != nil {
			return err
		}
		from = t
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	var recs []alert.Record
	if c, err := daemon.Dial(ctx, cfg.StateDir); err == nil {
		defer c.Close()
		if recs, err = c.AlertLog(ctx, from); err != nil {
			return err
		}
	} else if errors.Is(err, daemon.ErrNotRunning) {
		db, err := store.Open(daemon.DatabasePath(cfg.StateDir), store.Options{ReadOnly: true})
		if errors.Is(err, store.ErrNoDatabase) {
			fmt.Fprintf(e.stderr, "supportprobe: no database in %s yet; nothing has been recorded\n", cfg.StateDir)
		} else if err != nil {
			return err
		} else {
			defer db.Close()
			if recs, err = db.Alerts().List(from, 0); err != nil {
				return err
			}
		}
	} else {
		return err
	}
	if recs == nil {
		recs = []alert.Record{}
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	writeAlerts(e.stdout, recs)
	return nil
}

// writeAlerts prints the alert log, newest first: a line per alert (when raised, the
// event, vendor and probe), its sentence, and each channel's delivery.
func writeAlerts(w io.Writer, recs []alert.Record) {
	if len(recs) == 0 {
		fmt.Fprintln(w, "No alerts.")
		return
	}
	for i, r := range recs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s  %-16s  %-14s  %s\n", r.RaisedAt.UTC().Format(time.RFC3339), r.Event.Event, dash(r.Event.Vendor), dash(r.Event.Probe))
		fmt.Fprintf(w, "  %s\n", r.Event.Message)
		fmt.Fprintf(w, "  %s\n", deliveriesText(r.Deliveries))
	}
}

func deliveriesText(ds []alert.Delivery) string {
	if len(ds) == 0 {
		return "(no channel configured)"
	}
	var parts []string
	for _, d := range ds {
		switch {
		case !d.DeliveredAt.IsZero():
			parts = append(parts, d.Channel+" delivered "+d.DeliveredAt.UTC().Format("15:04:05"))
		case !d.GaveUpAt.IsZero():
			parts = append(parts, fmt.Sprintf("%s gave up after %s (%s)", d.Channel, plural(d.Attempts, "attempt", "attempts"), d.LastError))
		case d.Attempts > 0:
			parts = append(parts, fmt.Sprintf("%s failing, %s, next %s (%s)", d.Channel, plural(d.Attempts, "attempt", "attempts"), d.NextTry.UTC().Format("15:04:05"), d.LastError))
		default:
			parts = append(parts, d.Channel+" pending")
		}
	}
	return strings.Join(parts, "; ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func alertsTest(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "alerts test", alertsSynopsis, alertsExample)
	load := configFlag(fs, e)
	channel := fs.String("channel", "", "send only on this channel (a webhook's name, email or command)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	var dls []alert.Delivery
	via := ""
	if c, err := daemon.Dial(ctx, cfg.StateDir); err == nil {
		defer c.Close()
		via = c.Via()
		dls, err = c.TestAlert(ctx, *channel)
		if err != nil {
			return err
		}
	} else if errors.Is(err, daemon.ErrNotRunning) {
		if problems := cfg.SecretProblems(); len(problems) > 0 {
			return fmt.Errorf("%w: passwords or secrets not set up: %w", errConfig, errors.Join(problems...))
		}
		d, err := daemon.New(cfg, daemon.Options{Logger: slog.New(slog.DiscardHandler), Now: e.now})
		if err != nil {
			return err
		}
		defer d.Close()
		via = "the configuration (no daemon running)"
		if dls, err = d.TestAlert(ctx, *channel); err != nil {
			return err
		}
	} else {
		return err
	}
	failed := 0
	for _, d := range dls {
		if d.DeliveredAt.IsZero() {
			failed++
			fmt.Fprintf(e.stdout, "%-10s FAILED: %s\n", d.Channel, d.LastError)
		} else {
			fmt.Fprintf(e.stdout, "%-10s delivered\n", d.Channel)
		}
	}
	fmt.Fprintf(e.stdout, "(a test alert through %s; `supportprobe alerts list` shows it)\n", via)
	if failed > 0 {
		return fmt.Errorf("%d of %d alert channels failed; the daemon retries them with backoff", failed, len(dls))
	}
	return nil
}
