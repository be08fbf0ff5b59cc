package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"supportprobe/probe/view"
	"supportprobe/store"
)

const showSynopsis = `show [--config FILE] [--format text|json] PROBE-ID

Prints one probe and its whole thread in time order: every reply with its kind, the rung
of the matching ladder that tied it to the probe, and the reason for its kind; then the
corrections by hand (mark, link) that concern it: who, when, why, and what moved.`

const showExample = `  supportprobe show P17
  supportprobe show --format json P17`

func showCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "show", showSynopsis, showExample)
	load := configFlag(fs, e)
	format := fs.String("format", "text", "output `format`: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want exactly one probe id, e.g. `supportprobe show P17` (list them with `supportprobe history`)")
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: want text or json", *format)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	src, err := openSource(ctx, e, cfg, false)
	if err != nil {
		return err
	}
	defer src.Close()
	p, err := src.Probe(ctx, canonicalID(fs.Arg(0)))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w (list the probes with `supportprobe history`)", err)
	}
	if err != nil {
		return err
	}
	rec, err := view.NewRecord(p, e.now())
	if err != nil {
		return err
	}
	if rec.Corrections, err = src.Corrections(ctx, p.ID); err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rec)
	}
	return view.WriteThread(e.stdout, rec)
}
