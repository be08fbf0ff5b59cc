package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"strings"

	"supportprobe/store"
)

const linkSynopsis = `link [--config FILE] [--note TEXT] [--force] MESSAGE PROBE-ID

Ties an inbound message to a probe by hand. MESSAGE is the id ` + "`supportprobe inbox`" + ` shows
(U1 for mail no probe matched, R7 for a reply) or the message's Message-ID; ids may be
typed in either case. Mail that matched nothing (see
` + "`supportprobe inbox --unmatched`" + `) becomes a reply of the probe, and a reply matched to
the wrong probe moves. The reply's rung becomes manual, with the time and note. What the
message brought to its old probe's thread moves with it: its Message-ID, the message IDs
it cited and the ticket keys learned from it, so later mail in that thread matches the new
probe. A message that arrived before the probe's inquiry was sent cannot answer it and is
refused; --force links it all the same (it still counts for nothing in the figures).
Every link is recorded, with who, when, the note and what moved: see "Corrections by
hand" in ` + "`supportprobe show PROBE-ID`" + `.`

const linkExample = `  supportprobe link U3 P17 --note "answered from a personal address"
  supportprobe link '<CAF8x2@mail.acme.example>' P17`

func linkCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "link", linkSynopsis, linkExample)
	load := configFlag(fs, e)
	note := fs.String("note", "", "why, for the record")
	force := fs.Bool("force", false, "link a message that arrived before the probe's inquiry was sent; recorded in the audit trail")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want a message (its id from `supportprobe inbox`, or its Message-ID) and a probe id, e.g. `supportprobe link U3 P17`")
	}
	msg, probeID := canonicalID(fs.Arg(0)), canonicalID(fs.Arg(1))
	cfg, err := load()
	if err != nil {
		return err
	}
	src, err := openSource(ctx, e, cfg, true)
	if err != nil {
		return err
	}
	defer src.Close()
	r, err := src.Link(ctx, msg, probeID, store.LinkOptions{By: e.who(), Note: *note, Force: *force})
	if errors.Is(err, store.ErrArrivedBefore) {
		return fmt.Errorf("%w\n(to link it anyway: supportprobe link --force %s %s)", err, shellQuote(msg), probeID)
	}
	if err != nil {
		return err
	}
	what := msg
	if isRecordID(msg) && r.MessageID != "" {
		what = fmt.Sprintf("%s <%s>", msg, strings.Trim(r.MessageID, "<>"))
	}
	fmt.Fprintf(e.stdout, "%s is now reply %s of probe %s (%s)\n", what, r.ID, r.ProbeID, r.Kind)
	if r.Learned != nil && (len(r.Learned.ThreadIDs) > 0 || len(r.Learned.TicketKeys) > 0) {
		fmt.Fprintf(e.stdout, "its thread now matches %s: %s, %s (see `supportprobe show %s`)\n",
			r.ProbeID, plural(len(r.Learned.ThreadIDs), "message ID", "message IDs"), plural(len(r.Learned.TicketKeys), "ticket key", "ticket keys"), r.ProbeID)
	}
	return nil
}

// who names the person running a correction, for the audit trail: the login name from
// the environment, else the account's name, else "".
func (e *env) who() string {
	if e.getenv != nil {
		for _, k := range []string{"USER", "LOGNAME"} {
			if v := e.getenv(k); v != "" {
				return v
			}
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// shellQuote quotes s for a POSIX shell command line, for commands we suggest.
func shellQuote(s string) string {
	out := "'"
	for _, c := range s {
		if c == '\'' {
			out += `'\''`
		} else {
			out += string(c)
		}
	}
	return out + "'"
}
