package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// Link ties the inbound message messageID to probe probeID by hand: unmatched mail
// becomes a reply of that probe, and a reply matched to another probe moves to this one.
// The reply's rung becomes manual and its reason records when and why (note). Its
// Message-ID joins the probe's thread, so later mail citing it matches by itself. It
// returns the reply as stored, or an error wrapping ErrNotFound when the message or the
// probe is unknown.
func (db *DB) Link(messageID, probeID, note string) (probe.Reply, error) {
	at := db.now().UTC()
	var out probe.Reply
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		mid := []byte(NormalizeMessageID(messageID))
		seenID := tx.Bucket(bSeen).Get(mid)
		if seenID == nil {
			return fmt.Errorf("message %s: %w (see `supportprobe inbox --unmatched`)", messageID, ErrNotFound)
		}
		pkey := tx.Bucket(bProbeIDs).Get([]byte(probeID))
		if pkey == nil {
			return fmt.Errorf("probe %s: %w", probeID, ErrNotFound)
		}
		pkey = bytes.Clone(pkey)
		var r probe.Reply
		var raw []byte
		switch id := string(seenID); {
		case strings.HasPrefix(id, "U"):
			key := tx.Bucket(bUnmatchedIDs).Get([]byte(id))
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
			raw = lookup(tx.Bucket(bRaw), []byte("unmatched/"+id))
			if err := tx.Bucket(bUnmatched).Delete(key); err != nil {
				return err
			}
			if err := tx.Bucket(bUnmatchedIDs).Delete([]byte(id)); err != nil {
				return err
			}
			if err := tx.Bucket(bRaw).Delete([]byte("unmatched/" + id)); err != nil {
				return err
			}
		case strings.HasPrefix(id, "R"):
			key := tx.Bucket(bReplyIDs).Get([]byte(id))
			if key == nil {
				return fmt.Errorf("reply %s: %w", id, ErrNotFound)
			}
			key = bytes.Clone(key)
			if err := json.Unmarshal(tx.Bucket(bReplies).Get(key), &r); err != nil {
				return err
			}
			if r.ProbeID == probeID {
				return fmt.Errorf("message %s is already reply %s of probe %s", messageID, r.ID, probeID)
			}
			raw = lookup(tx.Bucket(bRaw), []byte("reply/"+id))
			if err := tx.Bucket(bReplies).Delete(key); err != nil {
				return err
			}
			if err := tx.Bucket(bReplyIDs).Delete([]byte(id)); err != nil {
				return err
			}
			if err := tx.Bucket(bRaw).Delete([]byte("reply/" + id)); err != nil {
				return err
			}
			r.Reason = fmt.Sprintf("%s (was matched to %s by %s)", r.Reason, r.ProbeID, r.MatchedBy)
		default:
			return fmt.Errorf("message %s: unknown record %q", messageID, id)
		}
		replies := tx.Bucket(bReplies)
		rid, _, err := newID("R", replies)
		if err != nil {
			return err
		}
		r.ID, r.ProbeID, r.MatchedBy = rid, probeID, probe.RungManual
		r.Reason = fmt.Sprintf("%s; linked by hand at %s", r.Reason, at.Format(time.RFC3339))
		if note != "" {
			r.Reason += ": " + note
		}
		key := join(pkey, u64(replies.Sequence()))
		if err := putJSON(replies, key, r); err != nil {
			return err
		}
		if err := tx.Bucket(bReplyIDs).Put([]byte(rid), key); err != nil {
			return err
		}
		if err := tx.Bucket(bSeen).Put(mid, []byte(rid)); err != nil {
			return err
		}
		if raw != nil {
			if err := tx.Bucket(bRaw).Put([]byte("reply/"+rid), raw); err != nil {
				return err
			}
		}
		if idx := tx.Bucket(bMessageID); idx.Get(mid) == nil {
			if err := idx.Put(mid, []byte(probeID)); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	if err != nil {
		return probe.Reply{}, fmt.Errorf("link %s to %s: %w", messageID, probeID, err)
	}
	return out, nil
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
