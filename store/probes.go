package store

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// CreateProbe writes a new probe, assigns its ID ("P" and a sequence number) and
// CreatedAt (when zero), indexes its token and Message-ID, and returns the stored probe.
// p.Replies is ignored: replies are added with AddReply.
func (db *DB) CreateProbe(p probe.Probe) (probe.Probe, error) {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = db.now()
	}
	p.CreatedAt = p.CreatedAt.UTC()
	p.Replies = nil
	err := db.updateRecords(func(tx *bbolt.Tx) error {
		var err error
		p, err = createProbe(tx, p)
		return err
	})
	if err != nil {
		return probe.Probe{}, fmt.Errorf("create probe for vendor %s: %w", p.Vendor, err)
	}
	return p, nil
}

// createProbe is CreateProbe inside tx: it assigns p's ID, writes it and its indexes,
// and returns it. Bulk writers (tests filling a large file) call it many times in one
// transaction.
func createProbe(tx *bbolt.Tx, p probe.Probe) (probe.Probe, error) {
	probes := appending(tx, bProbes)
	id, seq, err := newID("P", probes)
	if err != nil {
		return p, err
	}
	p.ID = id
	key := join(timeKey(p.CreatedAt), u64(seq))
	rec, err := encodeProbeAs(tx, p)
	if err != nil {
		return p, err
	}
	if err := probes.Put(key, rec); err != nil {
		return p, err
	}
	if err := probeIDs(tx).Put(id, key); err != nil {
		return p, err
	}
	if err := appending(tx, bVendorTime).Put(join(vendorPrefix(p.Vendor), key), nil); err != nil {
		return p, err
	}
	if p.Token != "" {
		if err := tx.Bucket(bToken).Put([]byte(p.Token), []byte(id)); err != nil {
			return p, err
		}
	}
	if err := setPending(tx, id, p.State); err != nil {
		return p, err
	}
	if p.MessageID != "" {
		return p, messageIndex(tx, bMessageID).Put([]byte(NormalizeMessageID(p.MessageID)), []byte(id))
	}
	return p, nil
}

// encodeProbeAs returns p's record as this version writes it (encodeProbeShared), or
// as schema 9 did (schema9Records).
func encodeProbeAs(tx *bbolt.Tx, p probe.Probe) ([]byte, error) {
	if schema9Records {
		return encodeProbe(p), nil
	}
	return encodeProbeShared(tx, p)
}

// UpdateProbe loads probe id, applies fn to it and writes it back, in one transaction.
// fn sees the probe with every reply recorded so far: no reply can be recorded between
// what fn sees and what it writes, so a decision fn takes on the replies (a reminder is
// still due) holds when the write commits. fn's changes to Replies are not stored
// (replies are written by AddReply and link). fn must not change the ID, vendor or
// CreatedAt; a changed MessageID or Token is indexed. An error from fn aborts the
// update and is returned wrapped. It returns the stored probe, or ErrNotFound.
func (db *DB) UpdateProbe(id string, fn func(*probe.Probe) error) (probe.Probe, error) {
	err := db.updateRecords(func(tx *bbolt.Tx) error {
		key := probeIDs(tx).Get(id)
		if key == nil {
			return ErrNotFound
		}
		key = bytes.Clone(key)
		p, err := loadProbe(tx, key)
		if err != nil {
			return err
		}
		before := p
		if err := fn(&p); err != nil {
			return err
		}
		if p.ID != before.ID || p.Vendor != before.Vendor || !p.CreatedAt.Equal(before.CreatedAt) {
			return fmt.Errorf("id, vendor and created_at cannot change")
		}
		p.Replies = nil
		if err := setPending(tx, id, p.State); err != nil {
			return err
		}
		if p.Token != before.Token && p.Token != "" {
			if err := tx.Bucket(bToken).Put([]byte(p.Token), []byte(id)); err != nil {
				return err
			}
		}
		if p.MessageID != before.MessageID && p.MessageID != "" {
			if err := messageIndex(tx, bMessageID).Put([]byte(NormalizeMessageID(p.MessageID)), []byte(id)); err != nil {
				return err
			}
		}
		rec, err := encodeProbeAs(tx, p)
		if err != nil {
			return err
		}
		if err := appending(tx, bProbes).Put(key, rec); err != nil {
			return err
		}
		if p.Subject != before.Subject || p.MessageID != before.MessageID {
			return rewriteReplies(tx, key, replyCtx{subject: before.Subject, messageID: before.MessageID})
		}
		return nil
	})
	if err != nil {
		return probe.Probe{}, fmt.Errorf("update probe %s: %w", id, err)
	}
	return db.Probe(id)
}

// rewriteReplies writes the replies of the probe under pkey again against the probe
// record now there (encodeReplyAt), after its subject or Message-ID changed from old's,
// against which replies of format version 2 were written.
func rewriteReplies(tx *bbolt.Tx, pkey []byte, old replyCtx) error {
	type kv struct{ k, v []byte }
	var recs []kv
	c := tx.Bucket(bReplies).Cursor()
	for k, v := c.Seek(pkey); k != nil && bytes.HasPrefix(k, pkey) && len(k) == len(pkey)+8; k, v = c.Next() {
		var r probe.Reply
		if err := unmarshalReplyIn(v, &r, &old); err != nil {
			return fmt.Errorf("reply at key %x: %w", k, err)
		}
		k = bytes.Clone(k)
		rec, err := encodeReplyAt(tx, k, r)
		if err != nil {
			return err
		}
		recs = append(recs, kv{k, rec})
	}
	b := tx.Bucket(bReplies)
	for _, x := range recs {
		if err := b.Put(x.k, x.v); err != nil {
			return fmt.Errorf("rewrite reply at key %x: %w", x.k, err)
		}
	}
	return nil
}

// Probe returns probe id with its replies, or an error wrapping ErrNotFound.
func (db *DB) Probe(id string) (probe.Probe, error) {
	var p probe.Probe
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		key := probeIDs(tx).Get(id)
		if key == nil {
			return ErrNotFound
		}
		var err error
		p, err = loadProbe(tx, key)
		return err
	})
	if err != nil {
		return probe.Probe{}, fmt.Errorf("probe %s: %w", id, err)
	}
	return p, nil
}

// loadProbe decodes the probe under key and its replies; decoding copies, so the result
// outlives the transaction.
func loadProbe(tx *bbolt.Tx, key []byte) (probe.Probe, error) {
	var p probe.Probe
	err := decodeProbe(tx.Bucket(bProbes), &replyCursor{c: tx.Bucket(bReplies).Cursor()}, key, &p)
	return p, err
}

// replyCursor walks the replies bucket for probes visited in ascending key order. It
// seeks only when the replies it stands on belong to a probe before the one asked for:
// over a run of consecutive probes (a time range) their replies are consecutive too,
// and a B-tree search per probe was a fifth of reading a week.
type replyCursor struct {
	c       *bbolt.Cursor
	k, v    []byte
	started bool
	// terms is the terms bucket, opened once for the probes read (bbolt opens a
	// bucket anew, with allocations, at every Tx.Bucket).
	terms       *bbolt.Bucket
	termsOpened bool
}

// termsBucket returns the terms bucket of rc's transaction (nil when there is none).
func (rc *replyCursor) termsBucket() *bbolt.Bucket {
	if !rc.termsOpened {
		rc.terms, rc.termsOpened = rc.c.Bucket().Tx().Bucket(bTerms), true
	}
	return rc.terms
}

// at positions rc at the first reply whose key is not before key.
func (rc *replyCursor) at(key []byte) {
	if !rc.started || (rc.k != nil && bytes.Compare(rc.k, key) < 0) {
		rc.k, rc.v = rc.c.Seek(key)
		rc.started = true
	}
}

// decodeProbe decodes the probe under key into p, with its replies, read through
// replies, which must not have been used for a key after this one.
func decodeProbe(probes *bbolt.Bucket, replies *replyCursor, key []byte, p *probe.Probe) error {
	return decodeProbeValue(probes.Get(key), replies, key, p)
}

// decodeProbeValue is decodeProbe for the probe record v already read under key.
func decodeProbeValue(v []byte, replies *replyCursor, key []byte, p *probe.Probe) error {
	if v == nil {
		return ErrNotFound
	}
	if err := unmarshalProbeIn(replies.termsBucket(), v, p); err != nil {
		return fmt.Errorf("decode probe at key %x: %w", key, err)
	}
	replies.at(key)
	ctx := replyCtx{subject: p.Subject, messageID: p.MessageID}
	for ; replies.k != nil && bytes.HasPrefix(replies.k, key); replies.k, replies.v = replies.c.Next() {
		k, v := replies.k, replies.v
		if p.Replies == nil {
			p.Replies = make([]probe.Reply, 0, 2) // most probes get an ack and an answer
		}
		p.Replies = append(p.Replies, probe.Reply{})
		if err := unmarshalReplyIn(v, &p.Replies[len(p.Replies)-1], &ctx); err != nil {
			return fmt.Errorf("probe %s: decode reply at key %x: %w", p.ID, k, err)
		}
	}
	return nil
}

// Filter selects probes by vendor and creation time. Zero fields select everything.
type Filter struct {
	Vendor string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	// FiguresOnly decodes only what figures and reports read (probe.Measure,
	// probe.Compute, probe.MeasureFollowups, report.Build), several times faster over
	// a large answer (figures.go). Left zero: a probe's Token, From, To, Subject,
	// MessageID, DataEndAt, FailReason and Terms.Script; its follow-ups' MessageID,
	// InReplyTo, Subject and Reason; a reply's MessageID, Folder, UID, HeaderDate,
	// DetectedAt, Reason, Confidence, MatchedBy, MatchDetail, Learned and
	// Auth.AuthenticationResults, and of an Override all but its Kind. Probes decoded
	// so share their Terms' Days, Holidays and SLA target with each other: read them,
	// never change them in place.
	FiguresOnly bool
}

// Probes returns the probes that match f, oldest first, each with its replies. A vendor
// filter scans only that vendor's index range, and a time filter starts with a seek, so
// the cost follows the size of the answer, not of the file. Decoding, which is most of
// the cost, runs on up to GOMAXPROCS goroutines for a large answer.
func (db *DB) Probes(f Filter) ([]probe.Probe, error) {
	var out []probe.Probe
	start := timeKey(f.Since)
	inRange := func(key []byte) bool {
		return f.Until.IsZero() || bytes.Compare(key[:8], timeKey(f.Until)) < 0
	}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		var keys, vals [][]byte // vals: the records, when the scan read them anyway
		if f.Vendor != "" {
			prefix := vendorPrefix(f.Vendor)
			c := tx.Bucket(bVendorTime).Cursor()
			for k, _ := c.Seek(join(prefix, start)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				key := k[len(prefix):]
				if !inRange(key) {
					break
				}
				keys = append(keys, key)
			}
		} else {
			c := tx.Bucket(bProbes).Cursor()
			for k, v := c.Seek(start); k != nil; k, v = c.Next() {
				if !inRange(k) {
					break
				}
				keys, vals = append(keys, k), append(vals, v)
			}
		}
		var err error
		out, err = loadProbes(tx, keys, vals, f.FiguresOnly)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list probes: %w", err)
	}
	return out, nil
}

// parallelDecodeMin is the smallest answer worth decoding on several goroutines.
const parallelDecodeMin = 256

// loadProbes loads the probes under keys (which, like the values, need only live as
// long as tx), in order; vals, when not nil, holds their records already read. Each
// goroutine decodes a contiguous share with its own cursor over the replies, which
// moves forward only, as the keys do. figuresOnly decodes as Filter.FiguresOnly says.
func loadProbes(tx *bbolt.Tx, keys, vals [][]byte, figuresOnly bool) ([]probe.Probe, error) {
	out := make([]probe.Probe, len(keys))
	workers := min(runtime.GOMAXPROCS(0), len(keys)/parallelDecodeMin)
	if vals == nil {
		vals = make([][]byte, len(keys))
	}
	if workers <= 1 {
		return out, loadRange(tx, keys, vals, out, figuresOnly)
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(keys)/workers, (w+1)*len(keys)/workers
		wg.Go(func() { errs[w] = loadRange(tx, keys[lo:hi], vals[lo:hi], out[lo:hi], figuresOnly) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// loadRange decodes the probes under keys into out, with their replies; vals[i], when
// not nil, is the record under keys[i]. figuresOnly decodes as Filter.FiguresOnly says.
func loadRange(tx *bbolt.Tx, keys, vals [][]byte, out []probe.Probe, figuresOnly bool) error {
	probes := tx.Bucket(bProbes)
	replies := &replyCursor{c: tx.Bucket(bReplies).Cursor()}
	var fd *figuresDecoder
	if figuresOnly {
		fd = newFiguresDecoder(len(keys))
	}
	for i, key := range keys {
		v := vals[i]
		if v == nil {
			v = probes.Get(key)
		}
		var err error
		if fd != nil {
			err = fd.decodeProbeValue(v, replies, key, &out[i])
		} else {
			err = decodeProbeValue(v, replies, key, &out[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// AddThreadIDs records message IDs as belonging to probe id's thread (the matching
// ladder's third rung). An ID already indexed to another probe is left alone and
// reported in the returned conflicts, so a mail citing two probes is never silently
// re-pointed.
func (db *DB) AddThreadIDs(id string, messageIDs ...string) (conflicts []string, err error) {
	err = db.update(func(tx *bbolt.Tx) error {
		if probeIDs(tx).Get(id) == nil {
			return ErrNotFound
		}
		idx := messageIndex(tx, bMessageID)
		for _, m := range messageIDs {
			k := []byte(NormalizeMessageID(m))
			if len(k) == 0 {
				continue
			}
			switch have := idx.Get(k); {
			case have == nil:
				if err := idx.Put(k, []byte(id)); err != nil {
					return err
				}
			case string(have) != id:
				conflicts = append(conflicts, string(k))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("probe %s: add thread IDs: %w", id, err)
	}
	return conflicts, nil
}

// ProbeByMessageID returns the id of the probe whose thread holds messageID, or "".
func (db *DB) ProbeByMessageID(messageID string) (string, error) {
	return db.msgIndexGet(bMessageID, messageID)
}

// ProbeByToken returns the id of the probe with the given token, or "".
func (db *DB) ProbeByToken(token string) (string, error) {
	return db.indexGet(bToken, []byte(token))
}

// AddTicketKey records that vendor's ticket key belongs to probe id. A key already held
// by another probe is left alone and false is returned.
func (db *DB) AddTicketKey(vendor, ticket, id string) (bool, error) {
	added := false
	err := db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bTicket)
		k := join(vendorPrefix(vendor), []byte(ticket))
		if have := b.Get(k); have != nil {
			added = string(have) == id
			return nil
		}
		added = true
		return b.Put(k, []byte(id))
	})
	if err != nil {
		return false, fmt.Errorf("vendor %s: record ticket key %q for probe %s: %w", vendor, ticket, id, err)
	}
	return added, nil
}

// ProbeByTicketKey returns the id of the probe that vendor's ticket key belongs to, or "".
func (db *DB) ProbeByTicketKey(vendor, ticket string) (string, error) {
	return db.indexGet(bTicket, join(vendorPrefix(vendor), []byte(ticket)))
}

func (db *DB) indexGet(bucket, key []byte) (string, error) {
	var id string
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		id = string(tx.Bucket(bucket).Get(key))
		return nil
	})
	return id, err
}

// msgIndexGet returns the id Message-ID index bucket holds for messageID, or "".
func (db *DB) msgIndexGet(bucket []byte, messageID string) (string, error) {
	var id string
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		id = string(messageIndex(tx, bucket).Get([]byte(NormalizeMessageID(messageID))))
		return nil
	})
	return id, err
}

// setPending keeps the pending index in step with a probe's state.
func setPending(tx *bbolt.Tx, id string, st probe.State) error {
	if st == probe.StateSending {
		return tx.Bucket(bPending).Put([]byte(id), nil)
	}
	return tx.Bucket(bPending).Delete([]byte(id))
}

// PendingProbes returns the probes left in state sending, which only a crash between
// the two writes around SMTP leaves behind once the daemon is not running.
func (db *DB) PendingProbes() ([]probe.Probe, error) {
	var ids []string
	db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bPending).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	out := make([]probe.Probe, 0, len(ids))
	for _, id := range ids {
		p, err := db.Probe(id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// LearnFromReply records, in one transaction, what reply replyID teaches its probe's
// matching indexes: messageIDs join the probe's thread (rung 3) and vendor's
// ticketKeys are recorded for it (rung 4), except a key that appears in the probe's own
// subject, which is ours quoted back. What was newly indexed is kept on the reply
// (probe.Reply.Learned), so a manual link to another probe can move exactly that. An
// ID or key already held by another probe is left alone and named in conflicts
// ("<id>", `ticket key "4711"`); one already held by the same probe is not the reply's
// to move. It returns an error wrapping ErrNotFound for an unknown reply.
func (db *DB) LearnFromReply(replyID, vendor string, messageIDs, ticketKeys []string) (conflicts []string, err error) {
	err = db.updateRecords(func(tx *bbolt.Tx) error {
		key := replyIDs(tx).Get(replyID)
		if key == nil {
			return ErrNotFound
		}
		key = bytes.Clone(key)
		replies := tx.Bucket(bReplies)
		var r probe.Reply
		if err := unmarshalReply(tx, key, replies.Get(key), &r); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		var subject string
		if pkey := probeIDs(tx).Get(r.ProbeID); pkey != nil {
			var p probe.Probe
			if err := unmarshalProbe(tx, tx.Bucket(bProbes).Get(pkey), &p); err != nil {
				return fmt.Errorf("probe %s: decode: %w", r.ProbeID, err)
			}
			subject = p.Subject
		}
		var learned probe.Learned
		if r.Learned != nil {
			learned = *r.Learned
		}
		n := len(learned.ThreadIDs) + len(learned.TicketKeys)
		idx := messageIndex(tx, bMessageID)
		for _, m := range messageIDs {
			k := NormalizeMessageID(m)
			if k == "" {
				continue
			}
			switch have := idx.Get([]byte(k)); {
			case have == nil:
				if err := idx.Put([]byte(k), []byte(r.ProbeID)); err != nil {
					return err
				}
				learned.ThreadIDs = append(learned.ThreadIDs, k)
			case string(have) != r.ProbeID:
				conflicts = append(conflicts, "<"+k+">")
			}
		}
		if vendor != "" {
			tb := tx.Bucket(bTicket)
			for _, t := range ticketKeys {
				// A key-shaped string from our own subject ("ERP-2") quoted back is not
				// the vendor's ticket: learning it would tie later, unrelated mail to
				// this probe.
				if strings.Contains(subject, t) {
					continue
				}
				k := join(vendorPrefix(vendor), []byte(t))
				switch have := tb.Get(k); {
				case have == nil:
					if err := tb.Put(k, []byte(r.ProbeID)); err != nil {
						return err
					}
					learned.Vendor = vendor
					learned.TicketKeys = append(learned.TicketKeys, t)
				case string(have) != r.ProbeID:
					conflicts = append(conflicts, fmt.Sprintf("ticket key %q", t))
				}
			}
		}
		if r.Learned != nil && len(learned.ThreadIDs)+len(learned.TicketKeys) == n {
			return nil
		}
		// Even empty, Learned says what the reply taught was recorded: nothing.
		r.Learned = &learned
		rec, err := encodeReplyAt(tx, key, r)
		if err != nil {
			return err
		}
		return replies.Put(key, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("reply %s: record what it teaches its probe's thread: %w", replyID, err)
	}
	return conflicts, nil
}

// ProbeSent returns when probe id's inquiry was sent (zero when it is not known to have
// been) and the probe's clock skew, without reading its replies: what the matcher needs
// to keep out mail that arrived before the inquiry was sent. An unknown probe is an
// error wrapping ErrNotFound.
func (db *DB) ProbeSent(id string) (sentAt time.Time, clockSkew time.Duration, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		key := probeIDs(tx).Get(id)
		if key == nil {
			return ErrNotFound
		}
		var p probe.Probe
		if err := unmarshalProbe(tx, tx.Bucket(bProbes).Get(key), &p); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		sentAt, clockSkew = p.SentAt, p.ClockSkew
		return nil
	})
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("probe %s: read sent time: %w", id, err)
	}
	return sentAt, clockSkew, nil
}
