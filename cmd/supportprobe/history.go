package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

const historySynopsis = `history [--config FILE] [--vendor V] [--since T] [--until T] [--status S,...] [--format table|json|csv]

Lists probes, oldest first, with their status and latencies measured now. Works whether
or not the daemon runs: through its control socket when it does, from the database file
when it does not. --since and --until take a date (UTC midnight) or an RFC 3339 time and
select by the time the probe was created; --status takes a comma-separated list of
` + "sending, sent, acknowledged, answered, unanswered, bounced, failed, unknown." + `

JSON output is one array; its fields are a stable contract (times RFC 3339 UTC, absent
values null, latencies in seconds).`

const historyExample = `  supportprobe history --vendor acme-cloud --since 2026-11-01 --status unanswered,answered
  supportprobe history --format json | jq '.[] | {id, response_latency_seconds}'`

type historyOpts struct {
	filter   store.Filter
	statuses []probe.Status
	format   string
}

func historyCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "history", historySynopsis, historyExample)
	load := configFlag(fs, e)
	var o historyOpts
	var since, until, status string
	fs.StringVar(&o.filter.Vendor, "vendor", "", "only this `vendor`")
	fs.StringVar(&since, "since", "", "only probes created at or after `time`")
	fs.StringVar(&until, "until", "", "only probes created before `time`")
	fs.StringVar(&status, "status", "", "only these `statuses`, comma-separated")
	fs.StringVar(&o.format, "format", "table", "output `format`: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; history takes only flags (to see one probe: supportprobe show %s)", fs.Arg(0), fs.Arg(0))
	}
	var err error
	if o.filter.Since, err = parseTimeFlag("since", since); err != nil {
		return err
	}
	if o.filter.Until, err = parseTimeFlag("until", until); err != nil {
		return err
	}
	if o.statuses, err = parseStatuses(status); err != nil {
		return err
	}
	if !slices.Contains([]string{"table", "json", "csv"}, o.format) {
		return usagef("--format %q: want table, json or csv", o.format)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if o.filter.Vendor != "" {
		if _, ok := cfg.Vendor(o.filter.Vendor); !ok {
			// Not an error: a vendor removed from the configuration keeps its history.
			fmt.Fprintf(e.stderr, "supportprobe: note: vendor %q is not in %s\n", o.filter.Vendor, cfg.Path)
		}
	}
	src, err := openSource(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer src.Close()
	return runHistory(ctx, src, o, e)
}

func parseStatuses(s string) ([]probe.Status, error) {
	if s == "" {
		return nil, nil
	}
	var out []probe.Status
	for _, part := range strings.Split(s, ",") {
		st := probe.Status(strings.TrimSpace(part))
		if !slices.Contains(probe.Statuses, st) {
			var names []string
			for _, x := range probe.Statuses {
				names = append(names, string(x))
			}
			return nil, usagef("--status %q: unknown status; want one or more of %s", part, strings.Join(names, ", "))
		}
		out = append(out, st)
	}
	return out, nil
}

// historySource is the part of daemon.Source that history needs.
type historySource interface {
	Probes(ctx context.Context, f store.Filter) ([]probe.Probe, error)
}

func runHistory(ctx context.Context, src historySource, o historyOpts, e *env) error {
	ps, err := src.Probes(ctx, o.filter)
	if err != nil {
		return err
	}
	recs, err := view.Records(ps, e.now())
	if err != nil {
		return err
	}
	if len(o.statuses) > 0 {
		recs = slices.DeleteFunc(recs, func(r view.Record) bool { return !slices.Contains(o.statuses, r.Status) })
	}
	switch o.format {
	case "json":
		return view.WriteJSON(e.stdout, recs)
	case "csv":
		return view.WriteCSV(e.stdout, recs)
	default:
		return view.WriteTable(e.stdout, recs)
	}
}
