package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/probe/review"
	"supportprobe/store"
)

const reviewSynopsis = `review [--config FILE] [--since T] [--vendor V] [--format table|json]
       review [--config FILE] [--note TEXT] REPLY-ID KIND

Replies whose kind the classifier could not decide with confidence are needs_review:
they count as no response (no acknowledgement, no answer, no bounce) until a person
decides. Without arguments, review lists each one waiting (sender, subject, the new
text, and the classifier's evidence both ways); on a terminal it then asks for each a
kind and a note. With a reply id and a kind it records that decision, as mark does: it
wins over the classifier from then on and every figure is recomputed. KIND is one of
human, auto_ack, out_of_office, bounce, other. Works through the running daemon, or
on the state directory when none runs. --since takes a date or an RFC 3339 time
(default: 90 days ago); --interactive=false only lists.`

const reviewExample = `  supportprobe review
  supportprobe review --format json | jq '.[].reply_id'
  supportprobe review R42 human --note "agent's one-line answer after a courtesy opener"`

func reviewCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "review", reviewSynopsis, reviewExample)
	load := configFlag(fs, e)
	since := fs.String("since", "", "list replies to probes created at or after `time`")
	vendor := fs.String("vendor", "", "only this `vendor`")
	format := fs.String("format", "table", "output `format`: table or json")
	note := fs.String("note", "", "why, for the record (with REPLY-ID KIND)")
	interactive := fs.Bool("interactive", true, "on a terminal, ask for a decision on each reply listed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q: want table or json", *format)
	}
	switch fs.NArg() {
	case 0:
	case 2:
		kind, err := reviewKind(fs.Arg(1))
		if err != nil {
			return err
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
		return decide(ctx, e, src, canonicalID(fs.Arg(0)), kind, *note)
	default:
		return usagef("want no argument (list what waits) or a reply id and a kind, e.g. `supportprobe review R42 human --note \"...\"`")
	}
	from, err := parseTimeFlag("since", *since)
	if err != nil {
		return err
	}
	if from.IsZero() {
		from = e.now().AddDate(0, 0, -90)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	ask := *interactive && *format == "table" && e.stdin != nil && e.terminal(e.stdin)
	src, err := openSource(ctx, e, cfg, ask)
	if err != nil {
		return err
	}
	defer src.Close()
	items, err := reviewItems(ctx, src, store.Filter{Vendor: *vendor, Since: from}, e.now())
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	if len(items) == 0 {
		fmt.Fprintln(e.stdout, "No reply awaits review.")
		return nil
	}
	verb := "await"
	if len(items) == 1 {
		verb = "awaits"
	}
	fmt.Fprintf(e.stdout, "%s %s review; each counts as no response until decided.\n", plural(len(items), "reply", "replies"), verb)
	in := bufio.NewReader(e.stdin)
	for i, it := range items {
		writeReviewItem(e.stdout, i+1, len(items), it)
		if !ask {
			continue
		}
		kind, n, ok, err := prompt(e.stdout, in)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(e.stdout, "  skipped")
			continue
		}
		if err := decide(ctx, e, src, it.ReplyID, kind, n); err != nil {
			return err
		}
	}
	if !ask {
		fmt.Fprintln(e.stdout, "\nDecide one with: supportprobe review REPLY-ID KIND --note \"why\"")
	}
	return nil
}

// reviewKind parses a decision's kind; needs_review itself is no decision.
func reviewKind(s string) (probe.Kind, error) {
	k, err := review.ParseKind(s)
	if err != nil {
		return "", usagef("%v", err)
	}
	return k, nil
}

// decide records a person's decision about a reply through Mark and says what it was.
func decide(ctx context.Context, e *env, src daemon.Source, replyID string, kind probe.Kind, note string) error {
	r, err := src.Mark(ctx, replyID, probe.Override{Kind: kind, Note: note, At: e.now().UTC(), By: e.who()})
	if err != nil {
		return err
	}
	was := "it was not waiting for review"
	if r.Kind == probe.KindNeedsReview {
		was = "the classifier could not decide: " + r.Reason
	}
	fmt.Fprintf(e.stdout, "%s of probe %s is now %s (%s)\n", r.ID, r.ProbeID, kind, was)
	return nil
}

// reviewItems lists the replies of the probes matching f whose kind still is
// needs_review, oldest first, with their new text and what deciding them would change
// (review.Items, as the dashboard's /review lists them).
func reviewItems(ctx context.Context, src daemon.Source, f store.Filter, now time.Time) ([]review.Item, error) {
	ps, err := src.Probes(ctx, f)
	if err != nil {
		return nil, err
	}
	return review.Items(ps, review.StoredRaw(func(id string) (store.Raw, error) { return src.Raw(ctx, "reply", id) }), now)
}

func writeReviewItem(w io.Writer, i, n int, it review.Item) {
	fmt.Fprintf(w, "\n[%d/%d] %s  probe %s (%s)  received %s\n", i, n, it.ReplyID, it.ProbeID, it.Vendor, it.ReceivedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "  From:    %s\n  Subject: %s\n", it.From, it.Subject)
	if it.Confidence != nil {
		fmt.Fprintf(w, "  Confidence: %.2f (below %.2f)\n", *it.Confidence, probe.ReviewThreshold)
	}
	fmt.Fprintf(w, "  Why:     %s\n  Effect:  %s\n", it.Reason, it.Effect)
	if it.NewText == nil {
		fmt.Fprintln(w, "  (the message itself is not stored)")
		return
	}
	fmt.Fprintln(w, "  New text:")
	for _, l := range strings.Split(*it.NewText, "\n") {
		fmt.Fprintf(w, "  | %s\n", l)
	}
}

// prompt asks for one decision; ok is false when the person skips.
func prompt(w io.Writer, in *bufio.Reader) (kind probe.Kind, note string, ok bool, err error) {
	keys := map[string]probe.Kind{"h": probe.KindHuman, "a": probe.KindAutoAck, "o": probe.KindOutOfOffice, "b": probe.KindBounce, "x": probe.KindOther}
	for {
		fmt.Fprint(w, "  Kind? [h]uman [a]uto_ack [o]ut_of_office [b]ounce other [x] [s]kip: ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			if errors.Is(err, io.EOF) {
				return "", "", false, nil
			}
			return "", "", false, fmt.Errorf("read answer: %w", err)
		}
		a := strings.ToLower(strings.TrimSpace(line))
		if a == "s" || a == "" {
			return "", "", false, nil
		}
		k, found := keys[a]
		if !found {
			if kk, err := reviewKind(a); err == nil {
				k, found = kk, true
			}
		}
		if !found {
			fmt.Fprintf(w, "  %q is not one of h, a, o, b, x, s\n", a)
			continue
		}
		fmt.Fprint(w, "  Note (why, for the record): ")
		n, _ := in.ReadString('\n')
		return k, strings.TrimSpace(n), true, nil
	}
}

// isTerminal reports whether r is a character device (an interactive terminal).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// plural formats a count and a noun with its plural form: "1 reply", "3 replies".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
