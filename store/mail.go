package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// DefaultRawCap is the most raw bytes kept per message; a longer message is cut there
// and the cut recorded (Raw.Truncated, Raw.Size).
const DefaultRawCap = 4 << 20

// Raw is a stored message as it was sent or fetched, possibly cut at the cap.
type Raw struct {
	Data      []byte // the bytes kept
	Size      int    // the message's full size
	Truncated bool   // Data holds only the first part of the message
}

// The raw bucket's value layouts. Each starts with its format byte, the message's full
// size (uvarint) and the truncated flag byte:
//   - rawFormat (1), written before dictionaries: then the gzip of the kept bytes.
//   - rawFormatZstd (2): then the id of the compression dictionary (uvarint, 0 for none;
//     see dict.go) and the zstd frame of the kept bytes made with it.
//
// Both stay readable forever; a copy is never recompressed, so what was stored is what
// is read back.
const (
	rawFormat     = 1
	rawFormatZstd = 2
)

// EncodeRaw compresses the first limit bytes of data (all of it when limit ≤ 0) into the
// raw bucket's first value layout, gzip without a dictionary (the store itself writes
// zstd with its dictionary; this stays for tools and benchmarks that compress without
// a database).
func EncodeRaw(data []byte, limit int) []byte {
	return encodeRaw(Raw{Data: data, Size: len(data)}, limit)
}

// cut applies limit to raw: the bytes to keep and whether the message is cut.
func cut(raw Raw, limit int) ([]byte, bool) {
	if limit > 0 && len(raw.Data) > limit {
		return raw.Data[:limit], true
	}
	return raw.Data, raw.Truncated
}

// rawHeader starts a value of format with raw's size and truncated flag.
func rawHeader(format byte, raw Raw, truncated bool) []byte {
	h := []byte{format}
	h = binary.AppendUvarint(h, uint64(max(raw.Size, len(raw.Data))))
	if truncated {
		return append(h, 1)
	}
	return append(h, 0)
}

// encodeRaw is EncodeRaw for a message that may already have been cut before it reached
// us (raw.Truncated, raw.Size the whole message's size): the cut is kept on record.
func encodeRaw(raw Raw, limit int) []byte {
	kept, truncated := cut(raw, limit)
	buf := bytes.NewBuffer(rawHeader(rawFormat, raw, truncated))
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(buf)
	zw.Write(kept) // writes to a bytes.Buffer cannot fail
	zw.Close()
	zw.Reset(nil)
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// encodeRawCopy is how the store encodes a copy it keeps: zstd with the current
// dictionary (format 2), or gzip in the legacy mode of the benchmarks. It returns the
// value and the number of bytes kept.
func (db *DB) encodeRawCopy(raw Raw, limit int) ([]byte, int, error) {
	c := db.codec()
	kept, truncated := cut(raw, limit)
	if c.legacy.Load() {
		return encodeRaw(raw, limit), len(kept), nil
	}
	id, frame, err := c.compress(kept)
	if err != nil {
		return nil, 0, err
	}
	v := binary.AppendUvarint(rawHeader(rawFormatZstd, raw, truncated), uint64(id))
	return append(v, frame...), len(kept), nil
}

// gzipWriters reuses compressors: a new gzip.Writer allocates about 800 KB of state,
// far more than the message it compresses.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// parseRaw splits a raw value into its header fields and the rest: for format 1 the
// gzip stream, for format 2 the dictionary id and the zstd frame.
func parseRaw(v []byte) (format byte, r Raw, dictID uint32, body []byte, err error) {
	if len(v) < 3 || (v[0] != rawFormat && v[0] != rawFormatZstd) {
		return 0, Raw{}, 0, nil, fmt.Errorf("raw message: unknown format")
	}
	size, n := binary.Uvarint(v[1:])
	if n <= 0 || len(v) < 2+n {
		return 0, Raw{}, 0, nil, fmt.Errorf("raw message: bad size field")
	}
	r = Raw{Size: int(size), Truncated: v[1+n] == 1}
	body = v[2+n:]
	if v[0] == rawFormatZstd {
		id, m := binary.Uvarint(body)
		if m <= 0 || id > 1<<32-1 {
			return 0, Raw{}, 0, nil, fmt.Errorf("raw message: bad dictionary field")
		}
		dictID, body = uint32(id), body[m:]
	}
	return v[0], r, dictID, body, nil
}

// DecodeRaw reverses EncodeRaw, and reads zstd copies made without a dictionary; a copy
// made with one needs its database (InquiryRaw, ReplyRaw, UnmatchedRaw).
func DecodeRaw(v []byte) (Raw, error) {
	format, r, id, body, err := parseRaw(v)
	if err != nil {
		return Raw{}, err
	}
	if format == rawFormatZstd {
		if id != 0 {
			return Raw{}, fmt.Errorf("raw message: compressed with dictionary %d; read it through its database", id)
		}
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return Raw{}, fmt.Errorf("raw message: %w", err)
		}
		defer d.Close()
		if r.Data, err = d.DecodeAll(body, nil); err != nil {
			return Raw{}, fmt.Errorf("raw message: %w", err)
		}
		return r, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return Raw{}, fmt.Errorf("raw message: %w", err)
	}
	if r.Data, err = io.ReadAll(zr); err != nil {
		return Raw{}, fmt.Errorf("raw message: %w", err)
	}
	return r, nil
}

// decodeRaw reads a raw value of either format, with the database's dictionaries.
func (db *DB) decodeRaw(v []byte) (Raw, error) {
	format, r, id, body, err := parseRaw(v)
	if err != nil {
		return Raw{}, err
	}
	if format == rawFormat {
		return DecodeRaw(v)
	}
	if r.Data, err = db.codec().decompress(id, body, r.Size); err != nil {
		return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d): %w", id, err)
	}
	return r, nil
}

// rawBucket returns the raw bucket of tx for a new copy. Its keys ("inquiry/P17",
// "reply/R40") grow at the end of each kind's range, and where a new digit starts
// ("P1000" after "P100") they sweep forward through the older keys, never returning:
// pages left behind are never written again, so they are packed as full as appended
// keys (appendFill) instead of bbolt's half.
func (db *DB) rawBucket(tx *bbolt.Tx) *bbolt.Bucket {
	if db.codec().defaultFill.Load() {
		return tx.Bucket(bRaw)
	}
	return appending(tx, bRaw)
}

// PutInquiryRaw stores the inquiry of probe id exactly as it was handed to SMTP.
func (db *DB) PutInquiryRaw(id string, data []byte) error {
	enc, kept, err := db.encodeRawCopy(Raw{Data: data, Size: len(data)}, DefaultRawCap)
	if err != nil {
		return fmt.Errorf("store the inquiry of probe %s as sent: %w", id, err)
	}
	err = db.update(func(tx *bbolt.Tx) error {
		return db.rawBucket(tx).Put([]byte("inquiry/"+id), enc)
	})
	if err != nil {
		return fmt.Errorf("store the inquiry of probe %s as sent: %w", id, err)
	}
	db.codec().wrote(kept, len(enc))
	return nil
}

// InquiryRaw returns the inquiry of probe id as sent, or an error wrapping ErrNotFound.
func (db *DB) InquiryRaw(id string) (Raw, error) { return db.raw("inquiry/" + id) }

// ReplyRaw returns reply id as fetched, or an error wrapping ErrNotFound.
func (db *DB) ReplyRaw(id string) (Raw, error) { return db.raw("reply/" + id) }

// UnmatchedRaw returns unmatched mail id as fetched, or an error wrapping ErrNotFound.
func (db *DB) UnmatchedRaw(id string) (Raw, error) { return db.raw("unmatched/" + id) }

func (db *DB) raw(key string) (Raw, error) {
	var v []byte
	db.bolt.View(func(tx *bbolt.Tx) error { v = lookup(tx.Bucket(bRaw), []byte(key)); return nil })
	if v == nil {
		return Raw{}, fmt.Errorf("raw message %s: %w", key, ErrNotFound)
	}
	r, err := db.decodeRaw(v)
	if err != nil {
		return Raw{}, fmt.Errorf("raw message %s in %s: %w", key, db.path, err)
	}
	return r, nil
}

// AddReply records r (matched to r.ProbeID) with its raw bytes, assigns its ID ("R" and
// a sequence number) and returns it. A message whose Message-ID was already recorded,
// matched or not, is refused with ErrDuplicate, so the same mail in two folders or seen
// again after a restart counts once.
func (db *DB) AddReply(r probe.Reply, raw []byte) (probe.Reply, error) {
	return db.AddReplyRaw(r, Raw{Data: raw, Size: len(raw)})
}

// AddReplyRaw is AddReply for a message fetched only in part: raw.Truncated and
// raw.Size (the whole message's size) are stored with the bytes, so ReplyRaw and the
// evidence export say that the copy is incomplete.
func (db *DB) AddReplyRaw(r probe.Reply, raw Raw) (probe.Reply, error) {
	enc, kept, err := db.encodeRawCopy(raw, DefaultRawCap)
	if err == nil {
		err = db.updateRecords(func(tx *bbolt.Tx) error {
			var err error
			db.rawBucket(tx) // packs the raw bucket, where addReply puts the copy
			r, err = addReply(tx, r, enc)
			return err
		})
	}
	if err != nil {
		return probe.Reply{}, fmt.Errorf("record reply %s to probe %s: %w", r.MessageID, r.ProbeID, err)
	}
	db.codec().wrote(kept, len(enc))
	return r, nil
}

// addReply is AddReply inside tx, with the raw bytes already encoded (EncodeRaw).
func addReply(tx *bbolt.Tx, r probe.Reply, encodedRaw []byte) (probe.Reply, error) {
	pkey := tx.Bucket(bProbeIDs).Get([]byte(r.ProbeID))
	if pkey == nil {
		return r, fmt.Errorf("probe %s: %w", r.ProbeID, ErrNotFound)
	}
	pkey = bytes.Clone(pkey)
	if err := markSeen(tx, r.MessageID, func(b *bbolt.Bucket) (string, error) {
		id, _, err := newID("R", b)
		r.ID = id
		return id, err
	}, tx.Bucket(bReplies)); err != nil {
		return r, err
	}
	seq := tx.Bucket(bReplies).Sequence()
	key := join(pkey, u64(seq))
	// Replies are keyed by their probe's key, and arrive hours after it, so they too
	// land at the end of the bucket, nearly in order.
	if err := appending(tx, bReplies).Put(key, encodeReply(r)); err != nil {
		return r, err
	}
	if err := tx.Bucket(bReplyIDs).Put([]byte(r.ID), key); err != nil {
		return r, err
	}
	return r, tx.Bucket(bRaw).Put([]byte("reply/"+r.ID), encodedRaw)
}

// markSeen claims messageID in the seen bucket for the id that newID produces from
// seqBucket, or fails with ErrDuplicate. Mail without a Message-ID cannot be recognised
// again and is always accepted.
func markSeen(tx *bbolt.Tx, messageID string, newID func(*bbolt.Bucket) (string, error), seqBucket *bbolt.Bucket) error {
	k := []byte(NormalizeMessageID(messageID))
	seen := tx.Bucket(bSeen)
	if len(k) > 0 {
		if have := seen.Get(k); have != nil {
			return fmt.Errorf("already recorded as %s: %w", have, ErrDuplicate)
		}
	}
	id, err := newID(seqBucket)
	if err != nil {
		return err
	}
	if len(k) == 0 {
		return nil
	}
	return seen.Put(k, []byte(id))
}

// Seen reports whether an inbound message with messageID was already recorded, matched
// or unmatched, and under which id.
func (db *DB) Seen(messageID string) (string, bool, error) {
	id, err := db.indexGet(bSeen, []byte(NormalizeMessageID(messageID)))
	return id, id != "", err
}

// Reply returns reply id, or an error wrapping ErrNotFound.
func (db *DB) Reply(id string) (probe.Reply, error) {
	var r probe.Reply
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		key := tx.Bucket(bReplyIDs).Get([]byte(id))
		if key == nil {
			return ErrNotFound
		}
		return unmarshalReply(tx.Bucket(bReplies).Get(key), &r)
	})
	if err != nil {
		return probe.Reply{}, fmt.Errorf("reply %s: %w", id, err)
	}
	return r, nil
}

// SetOverride records a person's decision about reply id's kind; it wins over the
// classifier from then on. A zero o.At is set to now. The decision also goes into the
// audit trail (Corrections) with the kind it replaced, o.By and o.Note.
func (db *DB) SetOverride(id string, o probe.Override) (probe.Reply, error) {
	if o.At.IsZero() {
		o.At = db.now().UTC()
	}
	var r probe.Reply
	err := db.updateRecords(func(tx *bbolt.Tx) error {
		key := tx.Bucket(bReplyIDs).Get([]byte(id))
		if key == nil {
			return ErrNotFound
		}
		b := tx.Bucket(bReplies)
		if err := unmarshalReply(b.Get(key), &r); err != nil {
			return err
		}
		before := r.EffectiveKind()
		r.Override = &o
		if err := b.Put(bytes.Clone(key), encodeReply(r)); err != nil {
			return err
		}
		_, err := addCorrection(tx, probe.Correction{Action: probe.CorrectionMark, At: o.At, By: o.By, Note: o.Note,
			MessageID: r.MessageID, Reply: r.ID, FromProbe: r.ProbeID, ToProbe: r.ProbeID, KindBefore: before, KindAfter: o.Kind})
		return err
	})
	if err != nil {
		return probe.Reply{}, fmt.Errorf("reply %s: set kind %s: %w", id, o.Kind, err)
	}
	return r, nil
}

// SetReplyAuth records the DKIM check of reply id (made after the reply was recorded,
// or again by the retry pass). It returns an error wrapping ErrNotFound for an unknown
// reply.
func (db *DB) SetReplyAuth(id string, a probe.Auth) (probe.Reply, error) {
	var r probe.Reply
	err := db.updateRecords(func(tx *bbolt.Tx) error {
		key := tx.Bucket(bReplyIDs).Get([]byte(id))
		if key == nil {
			return ErrNotFound
		}
		b := tx.Bucket(bReplies)
		if err := unmarshalReply(b.Get(key), &r); err != nil {
			return err
		}
		r.Auth = &a
		return b.Put(bytes.Clone(key), encodeReply(r))
	})
	if err != nil {
		return probe.Reply{}, fmt.Errorf("reply %s: record DKIM check: %w", id, err)
	}
	return r, nil
}

// Unmatched is inbound mail that matched no probe, kept for review and manual linking.
type Unmatched struct {
	ID         string     `json:"id"`
	MessageID  string     `json:"message_id"`
	Folder     string     `json:"folder"`
	UID        uint32     `json:"uid"`
	ReceivedAt time.Time  `json:"received_at"`
	DetectedAt time.Time  `json:"detected_at"`
	From       string     `json:"from"`
	Subject    string     `json:"subject"`
	Kind       probe.Kind `json:"kind"`
	Reason     string     `json:"reason"`
	HeaderDate time.Time  `json:"header_date"`
	// Why says why no probe matched: no evidence, or the candidates of an ambiguity.
	Why string `json:"why"`
	// Vendor is the sender's vendor by its From domain; "" when none.
	Vendor string `json:"vendor,omitempty"`
	// ThreadIDs and TicketKeys are what the matcher would learn from this mail
	// (probe.Match): a manual link records them for the probe it is linked to.
	ThreadIDs  []string `json:"thread_ids,omitempty"`
	TicketKeys []string `json:"ticket_keys,omitempty"`
}

// AddUnmatched records mail that matched no probe, with its raw bytes, assigns its ID
// ("U" and a sequence number), and refuses a Message-ID already recorded with
// ErrDuplicate.
func (db *DB) AddUnmatched(u Unmatched, raw []byte) (Unmatched, error) {
	return db.AddUnmatchedRaw(u, Raw{Data: raw, Size: len(raw)})
}

// AddUnmatchedRaw is AddUnmatched for a message fetched only in part (see AddReplyRaw).
func (db *DB) AddUnmatchedRaw(u Unmatched, raw Raw) (Unmatched, error) {
	if u.DetectedAt.IsZero() {
		u.DetectedAt = db.now()
	}
	enc, kept, err := db.encodeRawCopy(raw, DefaultRawCap)
	if err != nil {
		return Unmatched{}, fmt.Errorf("record unmatched mail %s: %w", u.MessageID, err)
	}
	err = db.update(func(tx *bbolt.Tx) error {
		b := appending(tx, bUnmatched)
		if err := markSeen(tx, u.MessageID, func(b *bbolt.Bucket) (string, error) {
			id, _, err := newID("U", b)
			u.ID = id
			return id, err
		}, b); err != nil {
			return err
		}
		key := join(timeKey(u.DetectedAt), u64(b.Sequence()))
		if err := putJSON(b, key, u); err != nil {
			return err
		}
		if err := tx.Bucket(bUnmatchedIDs).Put([]byte(u.ID), key); err != nil {
			return err
		}
		return db.rawBucket(tx).Put([]byte("unmatched/"+u.ID), enc)
	})
	if err != nil {
		return Unmatched{}, fmt.Errorf("record unmatched mail %s: %w", u.MessageID, err)
	}
	db.codec().wrote(kept, len(enc))
	return u, nil
}

// UnmatchedMail returns the unmatched mail detected in [since, until), oldest first;
// zero bounds are open.
func (db *DB) UnmatchedMail(since, until time.Time) ([]Unmatched, error) {
	var out []Unmatched
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bUnmatched).Cursor()
		for k, v := c.Seek(timeKey(since)); k != nil; k, v = c.Next() {
			if !until.IsZero() && bytes.Compare(k[:8], timeKey(until)) >= 0 {
				break
			}
			var u Unmatched
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("decode unmatched at key %x: %w", k, err)
			}
			out = append(out, u)
		}
		return nil
	})
	return out, err
}

// MailboxState is how far one IMAP folder has been read.
type MailboxState struct {
	UIDValidity uint32 `json:"uidvalidity"`
	LastUID     uint32 `json:"last_uid"`
}

// Mailbox returns the stored position of folder; ok is false before the first sync.
func (db *DB) Mailbox(folder string) (s MailboxState, ok bool, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bMailboxes).Get([]byte(folder))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &s)
	})
	if err != nil {
		return MailboxState{}, false, fmt.Errorf("mailbox %s: read sync position: %w", folder, err)
	}
	return s, ok, nil
}

// SetMailbox stores the position of folder.
func (db *DB) SetMailbox(folder string, s MailboxState) error {
	err := db.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bMailboxes), []byte(folder), s)
	})
	if err != nil {
		return fmt.Errorf("mailbox %s: store sync position: %w", folder, err)
	}
	return nil
}

// folderRoleKey is the mailboxes key of a folder entry's discovered folder: a NUL, which
// no IMAP folder name holds, then "role", a NUL and the entry (`\Junk`).
func folderRoleKey(entry string) []byte { return []byte("\x00role\x00" + entry) }

// FolderRole returns the folder the watched entry (a special-use attribute such as
// `\Junk`) named when the watcher last looked; ok is false if it never found one.
func (db *DB) FolderRole(entry string) (folder string, ok bool, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bMailboxes).Get(folderRoleKey(entry))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &folder)
	})
	if err != nil {
		return "", false, fmt.Errorf("folder entry %s: read the folder it named: %w", entry, err)
	}
	return folder, ok, nil
}

// SetFolderRole stores the folder the watched entry names now.
func (db *DB) SetFolderRole(entry, folder string) error {
	if err := checkFolderName(folder); err != nil {
		return fmt.Errorf("folder entry %s: %w", entry, err)
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bMailboxes), folderRoleKey(entry), folder)
	})
	if err != nil {
		return fmt.Errorf("folder entry %s: store the folder it names (%s): %w", entry, folder, err)
	}
	return nil
}

// Summary records one weekly summary that went out.
type Summary struct {
	Week      string    `json:"week"` // ISO week, "2026-W48"
	SentAt    time.Time `json:"sent_at"`
	MessageID string    `json:"message_id"`
	To        []string  `json:"to"`
}

// ErrSummarySent means the summary for that week was already recorded as sent.
var ErrSummarySent = errors.New("summary already sent")

// RecordSummary records that the summary for s.Week went out; a week already recorded is
// refused with ErrSummarySent, so a restart never sends it twice.
func (db *DB) RecordSummary(s Summary) error {
	err := db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bSummaries)
		if b.Get([]byte(s.Week)) != nil {
			return ErrSummarySent
		}
		return putJSON(b, []byte(s.Week), s)
	})
	if err != nil {
		return fmt.Errorf("summary %s: %w", s.Week, err)
	}
	return nil
}

// SummaryFor returns the summary recorded for an ISO week; ok is false if none was sent.
func (db *DB) SummaryFor(week string) (s Summary, ok bool, err error) {
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bSummaries).Get([]byte(week))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &s)
	})
	return s, ok, err
}
