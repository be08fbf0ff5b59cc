package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"supportprobe/probe"
	"supportprobe/store"
)

const markSynopsis = `mark [--config FILE] [--note TEXT] REPLY-ID KIND

Records a person's decision about what a reply is, which wins over the classifier from
then on; every figure is recomputed from it. KIND is one of human, auto_ack,
out_of_office, bounce, other. The classifier's own verdict and reason stay on record
beside the decision, with its time and note.`

const markExample = `  supportprobe mark R42 human --note "agent's answer, sent through the ticket system"`

func markCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "mark", markSynopsis, markExample)
	load := configFlag(fs, e)
	note := fs.String("note", "", "why, for the record")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want a reply id and a kind, e.g. `supportprobe mark R42 human` (reply ids: `supportprobe show PROBE-ID`)")
	}
	kind := probe.Kind(fs.Arg(1))
	if !slices.Contains(probe.Kinds, kind) {
		var names []string
		for _, k := range probe.Kinds {
			names = append(names, string(k))
		}
		return usagef("unknown kind %q; want one of %s", fs.Arg(1), strings.Join(names, ", "))
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	src, err := openSource(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	defer src.Close()
	r, err := src.Mark(ctx, canonicalID(fs.Arg(0)), probe.Override{Kind: kind, Note: *note, At: e.now().UTC(), By: e.who()})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w (reply ids: `supportprobe inbox` or `supportprobe show PROBE-ID`)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s of probe %s is now %s (the classifier said %s)\n", r.ID, r.ProbeID, kind, r.Reason)
	return nil
}
