package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"supportprobe/probe"
)

const auditSynopsis = `audit [--config FILE] [--since T] [--format text|json]

Lists the audit log, oldest first: every correction by hand (mark, link, review
decisions), reload of the configuration and pause or resume of a vendor, with who, when
and what changed. Each entry carries its position (seq) and the SHA-256 of the entry
before it, so the whole log is verified every time: a changed, removed, inserted or
reordered entry makes the command exit 1 naming the first entry that fails. --since
lists only entries made at or after T; the whole log is still verified. Through the
daemon when it runs, else on the database itself.`

const auditExample = `  supportprobe audit
  supportprobe audit --since 2026-12-01 --format json | jq '.entries[] | select(.action == "mark")'`

func auditCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit", auditSynopsis, auditExample)
	load := configFlag(fs, e)
	sinceFlag := fs.String("since", "", "list entries made at or after this RFC 3339 `time` or date")
	format := fs.String("format", "text", "output `format`: text or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("audit takes no arguments; got %s", strings.Join(fs.Args(), " "))
	}
	if *format != "text" && *format != "json" {
		return usagef("--format %q: want text or json", *format)
	}
	since, err := parseTimeFlag("since", *sinceFlag)
	if err != nil {
		return usagef("--since %q: want an RFC 3339 time (2026-12-01T00:00:00Z) or a date (2026-12-01)", *sinceFlag)
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
	all, err := src.AuditLog(ctx)
	if err != nil {
		return err
	}
	verr := probe.VerifyEntries(all)
	shown := []probe.Correction{}
	for _, c := range all {
		if since.IsZero() || !c.At.Before(since) {
			shown = append(shown, c)
		}
	}
	if *format == "json" {
		out := struct {
			Verified bool               `json:"verified"`
			Problem  string             `json:"problem,omitempty"`
			Total    int                `json:"total"`
			Head     string             `json:"head,omitempty"`
			Entries  []probe.Correction `json:"entries"`
		}{Verified: verr == nil, Total: len(all), Entries: shown}
		if verr != nil {
			out.Problem = verr.Error()
		}
		if len(all) > 0 {
			out.Head = all[len(all)-1].Hash
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("audit: write JSON: %w", err)
		}
	} else {
		for _, c := range shown {
			writeAuditEntry(e.stdout, c)
		}
		switch {
		case len(all) == 0:
			fmt.Fprintf(e.stdout, "The audit log of %s is empty.\n", src.Via())
		case verr == nil:
			fmt.Fprintf(e.stdout, "%d of %d entries shown; chain verified from seq 1 to %d, head %s\n",
				len(shown), len(all), all[len(all)-1].Seq, all[len(all)-1].Hash)
		}
	}
	if verr != nil {
		return fmt.Errorf("audit log of %s: %w; the entry was changed outside supportprobe (or one before it was removed): restore the database from a backup, or keep this output as the record of the damage", src.Via(), verr)
	}
	return nil
}

// writeAuditEntry writes one entry of the log as one or two lines.
func writeAuditEntry(w io.Writer, c probe.Correction) {
	by := c.By
	if by == "" {
		by = "(unknown)"
	}
	head := fmt.Sprintf("%4d %-4s %s %-6s by %s", c.Seq, c.ID, c.At.UTC().Format(time.RFC3339), c.Action, by)
	var what string
	switch c.Action {
	case probe.CorrectionMark:
		what = fmt.Sprintf("reply %s of %s: %s -> %s", c.Reply, c.ToProbe, orNone(string(c.KindBefore)), c.KindAfter)
	case probe.CorrectionLink:
		from := c.FromProbe
		if from == "" {
			from = "unmatched " + c.WasID
		}
		what = fmt.Sprintf("message %s (%s) linked to %s as %s", c.MessageID, from, c.ToProbe, c.Reply)
		if c.Forced != "" {
			what += "; forced: " + c.Forced
		}
	case probe.CorrectionPause:
		until := "until resumed"
		if !c.Until.IsZero() {
			until = "until " + c.Until.UTC().Format(time.RFC3339)
		}
		what = fmt.Sprintf("vendor %s paused %s", c.Vendor, until)
	case probe.CorrectionResume:
		what = fmt.Sprintf("vendor %s resumed", c.Vendor)
	case probe.CorrectionReload:
		what = fmt.Sprintf("configuration %s (sha256 %s) put in force", c.File, orNone(c.ConfigSHA256))
		if c.Refused != "" {
			what = fmt.Sprintf("configuration %s refused: %s", c.File, c.Refused)
		}
	}
	fmt.Fprintf(w, "%s  %s\n", head, what)
	if c.Note != "" {
		fmt.Fprintf(w, "     note: %s\n", c.Note)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
