package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	"supportprobe/probe/daemon"
	"supportprobe/store"
)

const inboxSynopsis = `inbox [--config FILE] [--unmatched] [--since T] [--format table|json]

Lists inbound mail in the order it arrived: each reply with its probe, kind, matching
rung and the reason for its kind, and each message no probe matched with why. With
--unmatched only the latter: tie one to its probe with ` + "`supportprobe link`" + `.
--since takes a date or an RFC 3339 time (default: 30 days ago).`

const inboxExample = `  supportprobe inbox --unmatched
  supportprobe link '<CAF8x2@mail.acme.example>' P17 --note "answered from a personal address"`

// inboxItem is one inbound message as inbox prints it.
type inboxItem struct {
	ReceivedAt time.Time `json:"received_at"`
	ID         string    `json:"id"`
	Probe      string    `json:"probe"` // "" when unmatched
	MessageID  string    `json:"message_id"`
	From       string    `json:"from"`
	Subject    string    `json:"subject"`
	Kind       string    `json:"kind"`
	MatchedBy  string    `json:"matched_by"`
	Reason     string    `json:"reason"`
	Why        string    `json:"unmatched_because,omitempty"`
}

func inboxCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "inbox", inboxSynopsis, inboxExample)
	load := configFlag(fs, e)
	unmatched := fs.Bool("unmatched", false, "only mail that matched no probe")
	since := fs.String("since", "", "only mail detected at or after `time`")
	format := fs.String("format", "table", "output `format`: table or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; inbox takes only flags", fs.Arg(0))
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q: want table or json", *format)
	}
	from, err := parseTimeFlag("since", *since)
	if err != nil {
		return err
	}
	if from.IsZero() {
		from = e.now().AddDate(0, 0, -30)
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
	items, err := inboxItems(ctx, src, from, *unmatched)
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if items == nil {
			items = []inboxItem{}
		}
		return enc.Encode(items)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED (UTC)\tID\tPROBE\tKIND\tMATCHED BY\tFROM\tSUBJECT")
	for _, it := range items {
		p, rung := it.Probe, it.MatchedBy
		if p == "" {
			p, rung = "-", "unmatched: "+it.Why
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ReceivedAt.UTC().Format("2006-01-02 15:04:05"), it.ID, p, it.Kind, rung, it.From, clip(it.Subject, 50))
	}
	if len(items) == 0 {
		fmt.Fprintln(tw, "(no mail)")
	}
	return tw.Flush()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func inboxItems(ctx context.Context, src daemon.Source, since time.Time, onlyUnmatched bool) ([]inboxItem, error) {
	var items []inboxItem
	um, err := src.Unmatched(ctx, since)
	if err != nil {
		return nil, err
	}
	for _, u := range um {
		items = append(items, inboxItem{ReceivedAt: u.ReceivedAt, ID: u.ID, MessageID: u.MessageID, From: u.From,
			Subject: u.Subject, Kind: string(u.Kind), Reason: u.Reason, Why: u.Why})
	}
	if !onlyUnmatched {
		// Replies to probes created up to a deadline before since can arrive after it.
		ps, err := src.Probes(ctx, store.Filter{Since: since.AddDate(0, 0, -30)})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			for _, r := range p.Replies {
				if r.DetectedAt.Before(since) && r.ReceivedAt.Before(since) {
					continue
				}
				items = append(items, inboxItem{ReceivedAt: r.ReceivedAt, ID: r.ID, Probe: p.ID, MessageID: r.MessageID,
					From: r.From, Subject: r.Subject, Kind: string(r.EffectiveKind()), MatchedBy: string(r.MatchedBy), Reason: r.Reason})
			}
		}
	}
	slices.SortStableFunc(items, func(a, b inboxItem) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	return items, nil
}
