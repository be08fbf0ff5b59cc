package main

import (
	"context"
	"fmt"
)

const linkSynopsis = `link [--config FILE] [--note TEXT] MESSAGE-ID PROBE-ID

Ties an inbound message to a probe by hand: mail that matched nothing (see
` + "`supportprobe inbox --unmatched`" + `) becomes a reply of the probe, and a reply matched to
the wrong probe moves. The reply's rung becomes manual, with the time and note; its
Message-ID joins the probe's thread, so later mail in that thread matches by itself.`

const linkExample = `  supportprobe link '<CAF8x2@mail.acme.example>' P17 --note "answered from a personal address"`

func linkCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "link", linkSynopsis, linkExample)
	load := configFlag(fs, e)
	note := fs.String("note", "", "why, for the record")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want a Message-ID and a probe id, e.g. `supportprobe link '<abc@acme.example>' P17`")
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
	r, err := src.Link(ctx, fs.Arg(0), fs.Arg(1), *note)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s is now reply %s of probe %s (%s)\n", fs.Arg(0), r.ID, r.ProbeID, r.Kind)
	return nil
}
