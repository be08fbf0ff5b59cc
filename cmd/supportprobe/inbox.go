package main

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"

	"supportprobe/probe/daemon"
	"supportprobe/probe/view"
	"supportprobe/store"
)

const inboxSynopsis = `inbox [--config FILE] [--unmatched] [--since T] [--wide] [--format table|json]

Lists inbound mail in the order it arrived: each reply (R7) with its probe, kind and
matching rung, and each message no probe matched (U1) with why, on the line under it.
With --unmatched only the latter: tie one to its probe with ` + "`supportprobe link U1 P17`" + `.
The table fits 100 columns: senders by name, subjects cut, reasons wrapped; --wide
prints them in full, with the reason for each message's kind. --since takes a date or
an RFC 3339 time (default: 30 days ago).`

const inboxExample = `  supportprobe inbox --unmatched
  supportprobe link U3 P17 --note "answered from a personal address"
  supportprobe inbox --wide --since 2026-11-01`

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
	wide := fs.Bool("wide", false, "print senders, subjects and reasons in full, however wide the table gets")
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
	return writeInboxTable(e.stdout, items, *wide)
}

// inboxWidth is the widest line of the inbox table without --wide, in terminal columns.
const inboxWidth = 100

// writeInboxTable writes items as a table that fits inboxWidth columns: the sender is
// shown by name and the subject cut to fit, and why a message matched no probe goes on
// the lines under it, wrapped. wide prints every sender and subject in full and, under
// each message, the reason for its kind too, each on one line however long.
func writeInboxTable(w io.Writer, items []inboxItem, wide bool) error {
	type row struct {
		cells []string // RECEIVED, ID, PROBE, KIND, MATCHED BY, FROM, SUBJECT
		notes []string
	}
	head := []string{"RECEIVED (UTC)", "ID", "PROBE", "KIND", "MATCHED BY", "FROM", "SUBJECT"}
	rows := []row{{cells: head}}
	for _, it := range items {
		p, rung := it.Probe, it.MatchedBy
		var notes []string
		if p == "" {
			p, rung = "-", "unmatched"
			notes = append(notes, "unmatched: "+it.Why)
		}
		if wide && it.Reason != "" {
			notes = append(notes, "kind: "+it.Reason)
		}
		rows = append(rows, row{cells: []string{it.ReceivedAt.UTC().Format("2006-01-02 15:04"), it.ID, p, it.Kind, rung,
			view.Clean(view.Sender(it.From, !wide)), view.Clean(it.Subject)}, notes: notes})
	}
	// Every column but the last two is as wide as its widest cell; FROM gets at most
	// fromMax columns and SUBJECT what is left of inboxWidth.
	const gap, fromMax, subjectMin = 2, 22, 20
	widths := make([]int, len(head))
	for _, r := range rows {
		for i, c := range r.cells {
			widths[i] = max(widths[i], view.TextWidth(c))
		}
	}
	if !wide {
		widths[5] = min(widths[5], fromMax)
		used := 0
		for _, n := range widths[:6] {
			used += n + gap
		}
		widths[6] = max(inboxWidth-used, subjectMin)
	}
	const indent = "    "
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r.cells {
			if !wide {
				c = view.Fit(c, widths[i])
			}
			line.WriteString(c)
			if i < len(r.cells)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-view.TextWidth(c)+gap))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
		for _, n := range r.notes {
			if wide {
				b.WriteString(indent + view.Clean(n) + "\n")
				continue
			}
			for _, l := range view.Wrap(n, inboxWidth-len(indent)) {
				b.WriteString(indent + l + "\n")
			}
		}
	}
	if len(items) == 0 {
		b.WriteString("(no mail)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
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
