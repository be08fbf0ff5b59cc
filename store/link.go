package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// LinkOptions say who links a message by hand, and why.
type LinkOptions struct {
	// By is the local user name of whoever links; it goes into the audit trail.
	By string
	// Note says why, for the reply's reason and the audit trail.
	Note string
	// Force links a message that arrived before the probe's inquiry was sent (beyond
	// probe.ArrivalTolerance), which Link otherwise refuses with ErrArrivedBefore. The
	// override is recorded; the reply still counts for nothing in the figures (it is
	// listed as early), since it cannot answer the inquiry.
	Force bool
}

// Link ties the inbound message ref names to probe probeID by hand; ref is the id that
// `supportprobe inbox` shows (an unmatched mail's "U1" or a reply's "R7", either case)
// or the message's Message-ID (brackets optional): unmatched mail
// becomes a reply of that probe, and a reply matched to another probe moves to this one.
// The reply's rung becomes manual and its reason records when and why (o.Note).
//
// What the message taught the matching indexes moves with it, so later mail in its
// thread matches the new probe: its own Message-ID, the cited message IDs and the
// ticket keys first learned from it (probe.Reply.Learned; for unmatched mail, what the
// matcher found in it). An entry another probe's thread holds is left alone and named in
// the audit record, as is what a reply recorded before Learned was kept taught.
//
// A message that arrived before the probe's inquiry was sent, beyond
// probe.ArrivalTolerance, is refused with an error wrapping ErrArrivedBefore unless
// o.Force. Every link appends a probe.Correction to the audit trail (Corrections).
// It returns the reply as stored, or an error wrapping ErrNotFound when the message or
// the probe is unknown.
func (db *DB) Link(ref, probeID string, o LinkOptions) (probe.Reply, error) {
	messageID := ref
	at := db.now().UTC()
	var out probe.Reply
	err := db.updateRecords(func(tx *bbolt.Tx) error {
		id, midStr, err := inboundRecord(tx, messageID)
		if err != nil {
			return err
		}
		mid, seenID := []byte(midStr), []byte(id)
		pkey := probeIDs(tx).Get(probeID)
		if pkey == nil {
			return fmt.Errorf("probe %s: %w", probeID, ErrNotFound)
		}
		pkey = bytes.Clone(pkey)
		var target probe.Probe
		if err := unmarshalProbe(tx, tx.Bucket(bProbes).Get(pkey), &target); err != nil {
			return fmt.Errorf("probe %s: decode: %w", probeID, err)
		}
		var r probe.Reply
		var raw []byte
		var taught probe.Learned // what the message's thread brought: to move or add
		legacy := false          // a matched reply recorded before Learned was kept
		switch id := string(seenID); {
		case strings.HasPrefix(id, "U"):
			key := unmatchedIDs(tx).Get(id)
			if key == nil {
				return fmt.Errorf("unmatched %s: %w", id, ErrNotFound)
			}
			key = bytes.Clone(key)
			var u Unmatched
			if err := json.Unmarshal(tx.Bucket(bUnmatched).Get(key), &u); err != nil {
				return err
			}
			r = probe.Reply{MessageID: u.MessageID, Folder: u.Folder, UID: u.UID, ReceivedAt: u.ReceivedAt,
				HeaderDate: u.HeaderDate, DetectedAt: u.DetectedAt, From: u.From, Subject: u.Subject, Kind: u.Kind, Reason: u.Reason}
			if err := checkEarly(target, r, messageID, o.Force); err != nil {
				return err
			}
			taught = probe.Learned{ThreadIDs: u.ThreadIDs, Vendor: u.Vendor}
			for _, k := range u.TicketKeys {
				// A key-shaped string from the probe's own subject quoted back is not
				// the vendor's ticket (the watcher skips those too).
				if !strings.Contains(target.Subject, k) {
					taught.TicketKeys = append(taught.TicketKeys, k)
				}
			}
			raw = getRaw(tx, "unmatched/"+id)
			if err := tx.Bucket(bUnmatched).Delete(key); err != nil {
				return err
			}
			if err := unmatchedIDs(tx).Delete(id); err != nil {
				return err
			}
			if err := deleteRaw(tx, "unmatched/"+id); err != nil {
				return err
			}
		case strings.HasPrefix(id, "R"):
			key := replyIDs(tx).Get(id)
			if key == nil {
				return fmt.Errorf("reply %s: %w", id, ErrNotFound)
			}
			key = bytes.Clone(key)
			if err := unmarshalReply(tx, key, tx.Bucket(bReplies).Get(key), &r); err != nil {
				return err
			}
			if r.ProbeID == probeID {
				return fmt.Errorf("message %s is already reply %s of probe %s", messageID, r.ID, probeID)
			}
			if err := checkEarly(target, r, messageID, o.Force); err != nil {
				return err
			}
			if r.Learned != nil {
				taught = *r.Learned
			} else {
				legacy = true
			}
			raw = getRaw(tx, "reply/"+id)
			if err := tx.Bucket(bReplies).Delete(key); err != nil {
				return err
			}
			if err := replyIDs(tx).Delete(id); err != nil {
				return err
			}
			if err := deleteRaw(tx, "reply/"+id); err != nil {
				return err
			}
			r.Reason = fmt.Sprintf("%s (was matched to %s by %s)", r.Reason, r.ProbeID, r.MatchedBy)
		default:
			return fmt.Errorf("message %s: unknown record %q", messageID, id)
		}
		c := probe.Correction{Action: probe.CorrectionLink, At: at, By: o.By, Note: o.Note, MessageID: r.MessageID,
			WasID: string(seenID), FromProbe: r.ProbeID, ToProbe: probeID}
		if target.IsEarly(r) {
			c.Forced = fmt.Sprintf("arrived %s before probe %s was sent (%s): linked with --force; it counts for nothing in the figures",
				target.SentAt.Sub(r.ReceivedAt.Add(-target.ClockSkew)).Round(time.Second), probeID, target.SentAt.UTC().Format(time.RFC3339))
		}
		learned, err := moveTaught(tx, &c, string(mid), taught, probeID)
		if err != nil {
			return fmt.Errorf("move its thread to probe %s: %w", probeID, err)
		}
		if legacy {
			c.Kept = append(c.Kept, fmt.Sprintf("the message IDs it cited and ticket keys learned from it stay with probe %s: reply %s was recorded before supportprobe kept what each reply taught (link later mail of that thread by hand)", r.ProbeID, r.ID))
		}

		replies := tx.Bucket(bReplies)
		rid, _, err := newID("R", replies)
		if err != nil {
			return err
		}
		r.ID, r.ProbeID, r.MatchedBy, r.Learned = rid, probeID, probe.RungManual, learned
		r.Reason = fmt.Sprintf("%s; linked by hand at %s", r.Reason, at.Format(time.RFC3339))
		if o.Note != "" {
			r.Reason += ": " + o.Note
		}
		if c.Forced != "" {
			r.Reason += " (forced: it arrived before the inquiry was sent)"
		}
		c.Reply = rid
		key := join(pkey, u64(replies.Sequence()))
		rec, err := encodeReplyAt(tx, key, r)
		if err != nil {
			return err
		}
		if err := replies.Put(key, rec); err != nil {
			return err
		}
		if err := replyIDs(tx).Put(rid, key); err != nil {
			return err
		}
		if len(mid) > 0 { // mail without a Message-ID is known only by its id
			if err := messageIndex(tx, bSeen).Put(mid, []byte(rid)); err != nil {
				return err
			}
		}
		if raw != nil {
			if err := db.putRaw(tx, "reply/"+rid, raw); err != nil {
				return err
			}
		}
		if _, err := addCorrection(tx, c); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return probe.Reply{}, fmt.Errorf("link %s to %s: %w", messageID, probeID, err)
	}
	return out, nil
}

// inboundRecord finds the inbound message ref names inside tx: an unmatched mail's id
// ("U1"), a reply's id ("R7"), either case, or a Message-ID. It returns the record's id
// and the message's normalised Message-ID ("" for mail that carried none), or an error
// wrapping ErrNotFound that says where to look.
func inboundRecord(tx *bbolt.Tx, ref string) (id, messageID string, err error) {
	if inboundID(ref) {
		id = strings.ToUpper(ref)
		var idx idIndex
		var recs *bbolt.Bucket
		var what, hint string
		if id[0] == 'U' {
			idx, recs, what, hint = unmatchedIDs(tx), tx.Bucket(bUnmatched), "unmatched mail", "supportprobe inbox --unmatched"
		} else {
			idx, recs, what, hint = replyIDs(tx), tx.Bucket(bReplies), "reply", "supportprobe inbox"
		}
		key := idx.Get(id)
		if key == nil {
			return "", "", fmt.Errorf("%s %s: %w (see `%s`)", what, id, ErrNotFound, hint)
		}
		var m struct {
			MessageID string `json:"message_id"`
		}
		var err error
		if id[0] == 'U' {
			err = json.Unmarshal(recs.Get(key), &m)
		} else {
			var r probe.Reply // replies are in the record encoding (codec.go)
			err = unmarshalReply(tx, key, recs.Get(key), &r)
			m.MessageID = r.MessageID
		}
		if err != nil {
			return "", "", fmt.Errorf("%s %s: decode: %w", what, id, err)
		}
		return id, NormalizeMessageID(m.MessageID), nil
	}
	messageID = NormalizeMessageID(ref)
	v := messageIndex(tx, bSeen).Get([]byte(messageID))
	if messageID == "" || v == nil {
		return "", "", fmt.Errorf("message %s: %w (see `supportprobe inbox`; link also takes the U or R id it shows)", ref, ErrNotFound)
	}
	return string(v), messageID, nil
}

// inboundID says whether ref is an unmatched mail's or a reply's id: U or R, either
// case, and a decimal number.
func inboundID(ref string) bool {
	if len(ref) < 2 || !strings.ContainsRune("URur", rune(ref[0])) {
		return false
	}
	for _, c := range ref[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// checkEarly refuses, unless force, to link r to p when r arrived before p's inquiry was
// sent (probe.Probe.IsEarly).
func checkEarly(p probe.Probe, r probe.Reply, messageID string, force bool) error {
	if force || !p.IsEarly(r) {
		return nil
	}
	arrived := r.ReceivedAt.Add(-p.ClockSkew)
	return fmt.Errorf("message %s arrived at %s, %s before probe %s was sent at %s: %w, so it cannot answer it and would never count as a latency; check the probe id, or if it belongs there all the same (say, the inquiry went out twice), run the link again with --force, which is recorded in the audit trail",
		messageID, arrived.UTC().Format(time.RFC3339), p.SentAt.Sub(arrived).Round(time.Second), p.ID,
		p.SentAt.UTC().Format(time.RFC3339), ErrArrivedBefore)
}

// moveTaught points the linked message's own Message-ID (ownID, normalised) and what it
// taught (ts) at probe to inside tx: entries held by c.FromProbe move, unindexed ones are
// added, and those another probe holds stay, each recorded in c. It returns what now
// belongs to probe to because of this message: the new reply's Learned, never nil.
func moveTaught(tx *bbolt.Tx, c *probe.Correction, ownID string, ts probe.Learned, to string) (*probe.Learned, error) {
	var learned probe.Learned
	idx := messageIndex(tx, bMessageID)
	point := func(b interface {
		Get([]byte) []byte
		Put(k, v []byte) error
	}, key []byte, what string, moved, added *[]string, label string) (bool, error) {
		switch have := string(b.Get(key)); {
		case have == to:
			return false, nil
		case have == "" || have == c.FromProbe:
			if err := b.Put(key, []byte(to)); err != nil {
				return false, err
			}
			if have == "" {
				*added = append(*added, label)
			} else {
				*moved = append(*moved, label)
			}
			return true, nil
		default:
			c.Kept = append(c.Kept, fmt.Sprintf("%s %s: in the thread of probe %s, which this link does not change", what, label, have))
			return false, nil
		}
	}
	var errs []error
	ids := append([]string{ownID}, ts.ThreadIDs...)
	seen := map[string]bool{}
	for _, id := range ids {
		k := NormalizeMessageID(id)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		ok, err := point(idx, []byte(k), "message ID", &c.MovedThreadIDs, &c.AddedThreadIDs, "<"+k+">")
		errs = append(errs, err)
		if ok {
			learned.ThreadIDs = append(learned.ThreadIDs, k)
		}
	}
	if ts.Vendor != "" && len(ts.TicketKeys) > 0 {
		c.TicketVendor, learned.Vendor = ts.Vendor, ts.Vendor
		tb := tx.Bucket(bTicket)
		for _, key := range ts.TicketKeys {
			ok, err := point(tb, join(vendorPrefix(ts.Vendor), []byte(key)), "ticket key of vendor "+ts.Vendor, &c.MovedTicketKeys, &c.AddedTicketKeys, key)
			errs = append(errs, err)
			if ok {
				learned.TicketKeys = append(learned.TicketKeys, key)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Even empty, it records that nothing else came with this message, so a later link
	// does not take it for a reply stored before Learned was kept.
	return &learned, nil
}

// OldestOpen returns the creation time of the oldest probe still waiting for an answer
// (sent, no human reply, deadline not passed) as of now, and false when none waits.
// The watcher reads no mail older than that on a first sync. It scans the probes
// created within maxDeadline before now, which bounds the cost by the deadline.
func (db *DB) OldestOpen(now time.Time, maxDeadline time.Duration) (time.Time, bool, error) {
	ps, err := db.Probes(Filter{Since: now.Add(-maxDeadline)})
	if err != nil {
		return time.Time{}, false, err
	}
	for _, p := range ps {
		m, err := probe.Measure(p, now)
		if err != nil {
			continue
		}
		switch m.Status {
		case probe.StatusSent, probe.StatusAcknowledged, probe.StatusSending:
			return p.CreatedAt, true, nil
		}
	}
	return time.Time{}, false, nil
}
