// Package review lists the replies that wait for a person's decision (kind
// needs_review), with what each would change if decided. `supportprobe review` and the
// dashboard's /review page both build their list here, so the two never disagree.
package review

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// Item is one reply waiting for a decision, as `review --format json` and the
// dashboard's /review?format=json print it.
type Item struct {
	ReplyID    string    `json:"reply_id"`
	ProbeID    string    `json:"probe_id"`
	Vendor     string    `json:"vendor"`
	ReceivedAt time.Time `json:"received_at"`
	From       string    `json:"from"`
	Subject    string    `json:"subject"`
	// NewText is what the sender wrote in this message (quotes and signature left out,
	// at most TextLimit bytes); null when the message is not stored.
	NewText *string `json:"new_text"`
	// Reason is the classifier's evidence, both ways.
	Reason string `json:"reason"`
	// Confidence is the classifier's confidence in the kind it leaned to, below
	// probe.ReviewThreshold; null for a reply recorded before confidence was kept.
	Confidence *float64 `json:"confidence"`
	// Effect says what deciding it would change for its probe.
	Effect string `json:"effect"`
}

// TextLimit bounds the new text of an item.
const TextLimit = 2000

// Days is the default window of the list: replies of probes created in the last 90
// days (`review` without --since, the dashboard, the daemon's gauges).
const Days = 90

// Kinds are the kinds a person may give a reply under review, in the order offered.
var Kinds = []probe.Kind{probe.KindHuman, probe.KindAutoAck, probe.KindOutOfOffice, probe.KindBounce, probe.KindOther}

// ParseKind parses a decision's kind; needs_review itself is no decision. The error
// lists the kinds accepted.
func ParseKind(s string) (probe.Kind, error) {
	k := probe.Kind(s)
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown kind %q; want one of %s", s, strings.Join(names, ", "))
}

// RawFunc returns the stored message of reply id, with ok false when the store does
// not hold it.
type RawFunc func(replyID string) (data []byte, ok bool, err error)

// StoredRaw adapts a reader of stored raw copies (store.DB.ReplyRaw, or the control
// socket's raw endpoint) to a RawFunc: a copy the store does not hold (store.ErrNotFound)
// is "not held", not an error.
func StoredRaw(get func(replyID string) (store.Raw, error)) RawFunc {
	return func(id string) ([]byte, bool, error) {
		raw, err := get(id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, false, nil
		case err != nil:
			return nil, false, err
		}
		return raw.Data, true, nil
	}
}

// Items lists the replies of ps whose kind still is needs_review, oldest first, with
// their new text (read through raw) and what deciding them would change as of now. An
// error of raw stops the list and comes back wrapped with the reply's ID.
func Items(ps []probe.Probe, raw RawFunc, now time.Time) ([]Item, error) {
	out := []Item{}
	for _, p := range ps {
		for _, r := range p.Replies {
			if r.EffectiveKind() != probe.KindNeedsReview {
				continue
			}
			it := Item{ReplyID: r.ID, ProbeID: p.ID, Vendor: p.Vendor, ReceivedAt: r.ReceivedAt.UTC(),
				From: r.From, Subject: r.Subject, Reason: r.Reason}
			if r.Confidence > 0 {
				c := r.Confidence
				it.Confidence = &c
			}
			data, ok, err := raw(r.ID)
			if err != nil {
				return nil, fmt.Errorf("reply %s: read the stored message: %w", r.ID, err)
			}
			if ok {
				it.NewText = NewText(data, TextLimit)
			}
			if it.Effect, err = Effect(p, r.ID, now); err != nil {
				return nil, err
			}
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b Item) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	return out, nil
}

// NewText returns what the sender wrote in the message data (quotes and signature
// left out), cut at limit bytes with " …"; nil when the message does not parse (the
// stored bytes stay the evidence; a page shows what parses).
func NewText(data []byte, limit int) *string {
	m, err := mailbox.Parse(data, mailbox.ParseOptions{})
	if err != nil {
		return nil
	}
	t := strings.TrimSpace(m.NewText)
	if len(t) > limit {
		t = strings.ToValidUTF8(t[:limit], "") + " …"
	}
	return &t
}

// Effect says how p's figures would change if reply replyID were a person's answer:
// the status and SLA state now, and what they would become.
func Effect(p probe.Probe, replyID string, now time.Time) (string, error) {
	before, err := probe.Measure(p, now)
	if err != nil {
		return "", fmt.Errorf("probe %s: measure: %w", p.ID, err)
	}
	alt := p
	alt.Replies = slices.Clone(p.Replies)
	for i := range alt.Replies {
		if alt.Replies[i].ID == replyID {
			alt.Replies[i].Override = &probe.Override{Kind: probe.KindHuman}
		}
	}
	after, err := probe.Measure(alt, now)
	if err != nil {
		return "", fmt.Errorf("probe %s: measure with reply %s a person's answer: %w", p.ID, replyID, err)
	}
	if after.Status == before.Status && after.SLA == before.SLA {
		return fmt.Sprintf("as a person's answer: no change (%s, sla %s)", before.Status, before.SLA), nil
	}
	s := fmt.Sprintf("as a person's answer: %s → %s", before.Status, after.Status)
	if after.ResponseLatency != nil {
		sec := after.ResponseLatency.Seconds()
		s += " in " + view.Duration(&sec)
	}
	if after.SLA != before.SLA {
		s += fmt.Sprintf(", sla %s → %s", before.SLA, after.SLA)
	}
	return s, nil
}
