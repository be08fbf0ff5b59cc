package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// The raw copies' value layouts. Each starts with its format byte, the message's full
// size (uvarint) and the truncated flag byte:
//   - rawFormat (1), written before dictionaries: then the gzip of the kept bytes.
//   - rawFormatZstd (2): then the id of the compression dictionary (uvarint, 0 for none;
//     see dict.go) and the zstd frame of the kept bytes made with it.
//   - rawFormatRef (3): then the dictionary id (uvarint, never 0), the key of another
//     copy (uvarint length, then the key, "inquiry/P17"), how many of that copy's kept
//     bytes were used (uvarint), and the zstd frame made with the dictionary whose
//     content those bytes extend (appended after the trained content, so they are the
//     nearest). A reply nearly always quotes the inquiry it answers and repeats its
//     Message-ID and subject; a follow-up quotes its probe's inquiry. The copy referred
//     to is always a format 1 or 2 copy (an inquiry), never one of format 3, so reading
//     needs one copy more, never a chain. Inquiries are never deleted or moved. A reply
//     to a probe still sending (which may write its inquiry again on a retry) is stored
//     as format 2; an inquiry written again anyway while copies refer to it has those
//     copies rewritten as format 2 first (PutInquiryRaw), each checked byte for byte.
//
// All stay readable forever; a copy is never recompressed otherwise, so what was stored
// is what is read back.
const (
	rawFormat     = 1
	rawFormatZstd = 2
	rawFormatRef  = 3
	// rawRefMax is the most bytes of the copy referred to that extend the dictionary:
	// the start of an inquiry is what replies quote, and a longer dictionary costs
	// time at every read.
	rawRefMax = 128 << 10
)

// The raw copies' buckets since schema version 9, one per kind, keyed by the number in
// the id (8 bytes big-endian; a follow-up adds its index, 4 bytes big-endian), so every
// new copy is appended at the end of its bucket and pages are left full (rawFill);
// inquiries, replies and unmatched mail in chunks of consecutive copies (rawchunk.go),
// follow-ups (a few in a hundred probes) one per key. The
// raw bucket, keyed "inquiry/P17", "reply/R40", keeps the copies older versions wrote,
// where they stay; reads look in the new bucket first, then there.
var (
	bRawInquiries = []byte("raw_inquiries")
	bRawFollowups = []byte("raw_followups")
	bRawReplies   = []byte("raw_replies")
	bRawUnmatched = []byte("raw_unmatched")
)

// rawFill is the fill of the raw copies' buckets: a copy is written once, at the end of
// its bucket, and never grows, so a page left behind is never written again.
const rawFill = 1.0

// canonicalUint parses s as a decimal number written without leading zeros, so that
// the number gives back exactly s.
func canonicalUint(s string) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && strconv.FormatUint(n, 10) == s
}

// idNumber returns the number of an id such as "P17" with its letter.
func idNumber(id string, letter byte) (uint64, bool) {
	if len(id) < 2 || id[0] != letter {
		return 0, false
	}
	return canonicalUint(id[1:])
}

// rawLoc returns the bucket and key a copy named key ("inquiry/P17",
// "inquiry/P17/followup/0", "reply/R40", "unmatched/U3") has since schema version 9;
// ok is false for a name that has none (only the raw bucket can hold it).
func rawLoc(key string) (bucket, k []byte, ok bool) {
	kind, rest, _ := strings.Cut(key, "/")
	switch kind {
	case "inquiry":
		id, f, isFollowup := strings.Cut(rest, "/followup/")
		n, ok := idNumber(id, 'P')
		if !ok {
			return nil, nil, false
		}
		if !isFollowup {
			return bRawInquiries, u64(n), true
		}
		i, ok := canonicalUint(f)
		if !ok || i > 1<<32-1 {
			return nil, nil, false
		}
		return bRawFollowups, binary.BigEndian.AppendUint32(u64(n), uint32(i)), true
	case "reply":
		n, ok := idNumber(rest, 'R')
		return bRawReplies, u64(n), ok
	case "unmatched":
		n, ok := idNumber(rest, 'U')
		return bRawUnmatched, u64(n), ok
	}
	return nil, nil, false
}

// getRaw returns a copy of the stored value of copy key, from its bucket or else from
// the raw bucket of older versions; nil when there is none. A damaged chunk reads as no
// copy here; getRawErr says why.
func getRaw(tx *bbolt.Tx, key string) []byte {
	v, _ := getRawErr(tx, key)
	return v
}

// getRawErr is getRaw with the error of a damaged chunk.
func getRawErr(tx *bbolt.Tx, key string) ([]byte, error) {
	if name, k, ok := rawLoc(key); ok {
		if b := tx.Bucket(name); b != nil {
			var v []byte
			if chunkedBucket(name) {
				var err error
				if v, err = chunkGet(b, binary.BigEndian.Uint64(k)); err != nil {
					return nil, fmt.Errorf("raw message %s: %w", key, err)
				}
			} else {
				v = lookup(b, k)
			}
			if v != nil {
				return v, nil
			}
		}
	}
	return lookup(tx.Bucket(bRaw), []byte(key)), nil
}

// deleteRaw removes copy key wherever it is.
func deleteRaw(tx *bbolt.Tx, key string) error {
	if name, k, ok := rawLoc(key); ok {
		if b := tx.Bucket(name); b != nil {
			del := b.Delete
			if chunkedBucket(name) {
				del = func(k []byte) error { return chunkDelete(b, binary.BigEndian.Uint64(k)) }
			}
			if err := del(k); err != nil {
				return err
			}
		}
	}
	return tx.Bucket(bRaw).Delete([]byte(key))
}

// putRaw stores the encoded copy key in its bucket (in the raw bucket, keyed by name,
// with legacyKeys, as versions before schema 9 did, or for a name rawLoc does not map),
// and removes an older value of the same name from the raw bucket.
func putRaw(tx *bbolt.Tx, key string, v []byte, legacyKeys, defaultFill bool) error {
	old := tx.Bucket(bRaw)
	if name, k, ok := rawLoc(key); ok && !legacyKeys {
		if b := tx.Bucket(name); b != nil {
			if !defaultFill {
				b.FillPercent = rawFill
			}
			var err error
			if chunkedBucket(name) {
				err = chunkPut(b, binary.BigEndian.Uint64(k), v, tx.DB().Info().PageSize)
			} else {
				err = b.Put(k, v)
			}
			if err != nil {
				return err
			}
			return old.Delete([]byte(key))
		}
	}
	if !defaultFill {
		old.FillPercent = appendFill
	}
	return old.Put([]byte(key), v)
}

// putRaw is putRaw with db's settings.
func (db *DB) putRaw(tx *bbolt.Tx, key string, v []byte) error {
	c := db.codec()
	return putRaw(tx, key, v, c.legacyKeys.Load(), c.defaultFill.Load())
}

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
// dictionary (format 2), or, when ref (the key of the copy it answers or follows, "" for
// none) is given and a dictionary exists, with the dictionary extended by that copy's
// bytes (format 3) when that is smaller; gzip in the legacy mode of the benchmarks. It
// returns the value and the number of bytes kept.
func (db *DB) encodeRawCopy(raw Raw, limit int, ref string) ([]byte, int, error) {
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
	v = append(v, frame...)
	if ref == "" || id == 0 || c.noRef.Load() {
		return v, len(kept), nil
	}
	refData, err := db.refContent(ref)
	if err != nil || refData == nil {
		// No such copy (a reply linked to a probe that failed before SMTP), or one
		// that cannot be read: the copy is stored on its own, as format 2.
		return v, len(kept), nil
	}
	rid, rframe, err := c.compressRef(kept, refData)
	if err != nil {
		return nil, 0, err
	}
	r := binary.AppendUvarint(rawHeader(rawFormatRef, raw, truncated), uint64(rid))
	r = binary.AppendUvarint(r, uint64(len(ref)))
	r = append(r, ref...)
	r = binary.AppendUvarint(r, uint64(len(refData)))
	r = append(r, rframe...)
	if len(r) >= len(v) {
		return v, len(kept), nil
	}
	return r, len(kept), nil
}

// refContent returns the bytes of copy ref that extend a dictionary: its first
// rawRefMax kept bytes; nil when there is no such copy or it is itself of format 3.
func (db *DB) refContent(ref string) ([]byte, error) {
	var v []byte
	db.bolt.View(func(tx *bbolt.Tx) error {
		// A probe still sending may write its inquiry again (a retry): not yet.
		if id, ok := strings.CutPrefix(ref, "inquiry/"); ok && tx.Bucket(bPending).Get([]byte(id)) == nil {
			v = getRaw(tx, ref)
		}
		return nil
	})
	if v == nil || v[0] == rawFormatRef {
		return nil, nil
	}
	r, err := db.decodeRaw(v)
	if err != nil {
		return nil, err
	}
	return r.Data[:min(len(r.Data), rawRefMax)], nil
}

// gzipWriters reuses compressors: a new gzip.Writer allocates about 800 KB of state,
// far more than the message it compresses.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// rawValue is a raw value's header fields, parsed.
type rawValue struct {
	format byte
	raw    Raw    // Size and Truncated; Data is not decoded yet
	dictID uint32 // formats 2 and 3
	ref    string // format 3: the copy whose bytes extend the dictionary
	refLen int    // format 3: how many of its bytes
	body   []byte // the gzip stream (format 1) or the zstd frame
}

// parseRaw splits a raw value into its header fields and the compressed bytes.
func parseRaw(v []byte) (rawValue, error) {
	if len(v) < 3 || (v[0] != rawFormat && v[0] != rawFormatZstd && v[0] != rawFormatRef) {
		return rawValue{}, fmt.Errorf("raw message: unknown format")
	}
	size, n := binary.Uvarint(v[1:])
	if n <= 0 || len(v) < 2+n {
		return rawValue{}, fmt.Errorf("raw message: bad size field")
	}
	p := rawValue{format: v[0], raw: Raw{Size: int(size), Truncated: v[1+n] == 1}, body: v[2+n:]}
	if p.format == rawFormat {
		return p, nil
	}
	id, m := binary.Uvarint(p.body)
	if m <= 0 || id > 1<<32-1 {
		return rawValue{}, fmt.Errorf("raw message: bad dictionary field")
	}
	p.dictID, p.body = uint32(id), p.body[m:]
	if p.format == rawFormatZstd {
		return p, nil
	}
	kl, m := binary.Uvarint(p.body)
	if m <= 0 || kl > uint64(len(p.body)-m) || id == 0 {
		return rawValue{}, fmt.Errorf("raw message: bad reference field")
	}
	p.ref, p.body = string(p.body[m:m+int(kl)]), p.body[m+int(kl):]
	rl, m := binary.Uvarint(p.body)
	if m <= 0 || rl > rawRefMax {
		return rawValue{}, fmt.Errorf("raw message: bad reference length field")
	}
	p.refLen, p.body = int(rl), p.body[m:]
	return p, nil
}

// DecodeRaw reverses EncodeRaw, and reads zstd copies made without a dictionary; a copy
// made with one needs its database (InquiryRaw, ReplyRaw, UnmatchedRaw).
func DecodeRaw(v []byte) (Raw, error) {
	p, err := parseRaw(v)
	if err != nil {
		return Raw{}, err
	}
	r := p.raw
	if p.format != rawFormat {
		if p.dictID != 0 {
			return Raw{}, fmt.Errorf("raw message: compressed with dictionary %d; read it through its database", p.dictID)
		}
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return Raw{}, fmt.Errorf("raw message: %w", err)
		}
		defer d.Close()
		if r.Data, err = d.DecodeAll(p.body, nil); err != nil {
			return Raw{}, fmt.Errorf("raw message: %w", err)
		}
		return r, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(p.body))
	if err != nil {
		return Raw{}, fmt.Errorf("raw message: %w", err)
	}
	if r.Data, err = io.ReadAll(zr); err != nil {
		return Raw{}, fmt.Errorf("raw message: %w", err)
	}
	return r, nil
}

// decodeRaw reads a raw value of any format, with the database's dictionaries and, for
// format 3, the copy it refers to.
func (db *DB) decodeRaw(v []byte) (Raw, error) {
	return db.decodeRawIn(v, func(ref string) []byte {
		var rv []byte
		db.bolt.View(func(tx *bbolt.Tx) error { rv = getRaw(tx, ref); return nil })
		return rv
	})
}

// decodeRawIn is decodeRaw with the copies referred to read through get.
func (db *DB) decodeRawIn(v []byte, get func(ref string) []byte) (Raw, error) {
	p, err := parseRaw(v)
	if err != nil {
		return Raw{}, err
	}
	r := p.raw
	switch p.format {
	case rawFormat:
		return DecodeRaw(v)
	case rawFormatZstd:
		if r.Data, err = db.codec().decompress(p.dictID, p.body, r.Size, nil); err != nil {
			return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d): %w", p.dictID, err)
		}
		return r, nil
	}
	rv := get(p.ref)
	if rv == nil {
		return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d and copy %s): copy %s is not in the database (the file is damaged or was edited; restore it from a backup)", p.dictID, p.ref, p.ref)
	}
	if rv[0] == rawFormatRef {
		return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d and copy %s): copy %s refers to another copy itself (the file is damaged; restore it from a backup)", p.dictID, p.ref, p.ref)
	}
	ref, err := db.decodeRawIn(rv, get)
	if err != nil {
		return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d and copy %s): read copy %s: %w", p.dictID, p.ref, p.ref, err)
	}
	if len(ref.Data) < p.refLen {
		return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d and copy %s): copy %s holds %d bytes, %d were used (the file is damaged; restore it from a backup)", p.dictID, p.ref, p.ref, len(ref.Data), p.refLen)
	}
	if r.Data, err = db.codec().decompress(p.dictID, p.body, r.Size, ref.Data[:p.refLen]); err != nil {
		return Raw{}, fmt.Errorf("raw message (zstd, dictionary %d and copy %s): %w", p.dictID, p.ref, err)
	}
	return r, nil
}

// inquiryRef returns the copy a copy named key refers to: a follow-up its probe's
// inquiry; "" for others.
func inquiryRef(key string) string {
	if i := strings.Index(key, "/followup/"); i > 0 && strings.HasPrefix(key, "inquiry/") {
		return key[:i]
	}
	return ""
}

// PutInquiryRaw stores the inquiry of probe id exactly as it was handed to SMTP (id
// "P17/followup/0" for a follow-up, which is compressed against its probe's inquiry).
// Writing an inquiry again with other bytes (a retried send) first rewrites the copies
// compressed against the old bytes on their own (format 2), so they stay readable.
func (db *DB) PutInquiryRaw(id string, data []byte) error {
	key := "inquiry/" + id
	enc, kept, err := db.encodeRawCopy(Raw{Data: data, Size: len(data)}, DefaultRawCap, inquiryRef(key))
	if err != nil {
		return fmt.Errorf("store the inquiry of probe %s as sent: %w", id, err)
	}
	err = db.update(func(tx *bbolt.Tx) error {
		if old := getRaw(tx, key); old != nil && !bytes.Equal(old, enc) {
			if err := db.detachRefs(tx, id, key); err != nil {
				return err
			}
		}
		return db.putRaw(tx, key, enc)
	})
	if err != nil {
		return fmt.Errorf("store the inquiry of probe %s as sent: %w", id, err)
	}
	db.codec().wrote(kept, len(enc))
	return nil
}

// detachRefs rewrites as format 2 every copy compressed against copy key, the inquiry
// of probe id: the copies of its replies and of its follow-ups. (A reply is compressed
// against its probe's inquiry only once the probe has left state sending, after which
// the daemon never writes the inquiry again, so this is a safeguard.) Each rewritten
// copy is decoded again and compared byte for byte before it replaces the old one.
func (db *DB) detachRefs(tx *bbolt.Tx, id, key string) error {
	var names []string
	if pkey := probeIDs(tx).Get(id); pkey != nil {
		c := tx.Bucket(bReplies).Cursor()
		for k, v := c.Seek(pkey); k != nil && bytes.HasPrefix(k, pkey); k, v = c.Next() {
			var r probe.Reply
			if err := unmarshalReply(tx, k, v, &r); err != nil {
				return fmt.Errorf("reply at key %x of probe %s: %w", k, id, err)
			}
			names = append(names, "reply/"+r.ID)
		}
	}
	if _, k, ok := rawLoc(key); ok {
		if b := tx.Bucket(bRawFollowups); b != nil {
			c := b.Cursor()
			for fk, _ := c.Seek(k); fk != nil && bytes.HasPrefix(fk, k); fk, _ = c.Next() {
				names = append(names, rawName(bRawFollowups, fk))
			}
		}
	}
	get := func(ref string) []byte { return getRaw(tx, ref) }
	for _, name := range names {
		v := getRaw(tx, name)
		p, err := parseRaw(v)
		if v == nil || err != nil || p.format != rawFormatRef || p.ref != key {
			continue
		}
		r, err := db.decodeRawIn(v, get)
		if err != nil {
			return fmt.Errorf("copy %s, compressed against the inquiry of probe %s, before that inquiry is replaced: %w", name, id, err)
		}
		enc, _, err := db.encodeRawCopy(r, 0, "")
		if err != nil {
			return err
		}
		again, err := db.decodeRawIn(enc, get)
		if err != nil || !bytes.Equal(again.Data, r.Data) || again.Size != r.Size || again.Truncated != r.Truncated {
			return fmt.Errorf("copy %s, compressed against the inquiry of probe %s: rewritten on its own, it does not read back the same (%v); the inquiry is not replaced", name, id, err)
		}
		if err := db.putRaw(tx, name, enc); err != nil {
			return err
		}
	}
	return nil
}

// rawName is the name ("reply/R40") of the copy under key k of bucket name.
func rawName(bucket, k []byte) string {
	switch string(bucket) {
	case string(bRawReplies):
		return "reply/R" + strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
	case string(bRawUnmatched):
		return "unmatched/U" + strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
	case string(bRawInquiries):
		return "inquiry/P" + strconv.FormatUint(binary.BigEndian.Uint64(k), 10)
	case string(bRawFollowups):
		return "inquiry/P" + strconv.FormatUint(binary.BigEndian.Uint64(k[:8]), 10) + "/followup/" + strconv.FormatUint(uint64(binary.BigEndian.Uint32(k[8:])), 10)
	}
	return string(k)
}

// InquiryRaw returns the inquiry of probe id as sent, or an error wrapping ErrNotFound.
func (db *DB) InquiryRaw(id string) (Raw, error) { return db.raw("inquiry/" + id) }

// ReplyRaw returns reply id as fetched, or an error wrapping ErrNotFound.
func (db *DB) ReplyRaw(id string) (Raw, error) { return db.raw("reply/" + id) }

// UnmatchedRaw returns unmatched mail id as fetched, or an error wrapping ErrNotFound.
func (db *DB) UnmatchedRaw(id string) (Raw, error) { return db.raw("unmatched/" + id) }

func (db *DB) raw(key string) (Raw, error) {
	var v []byte
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		var err error
		v, err = getRawErr(tx, key)
		return err
	}); err != nil {
		return Raw{}, fmt.Errorf("in %s: %w", db.path, err)
	}
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
	enc, kept, err := db.encodeRawCopy(raw, DefaultRawCap, "inquiry/"+r.ProbeID)
	if err == nil {
		err = db.updateRecords(func(tx *bbolt.Tx) error {
			var err error
			c := db.codec()
			r, err = addReply(tx, r, enc, c.legacyKeys.Load(), c.defaultFill.Load())
			return err
		})
	}
	if err != nil {
		return probe.Reply{}, fmt.Errorf("record reply %s to probe %s: %w", r.MessageID, r.ProbeID, err)
	}
	db.codec().wrote(kept, len(enc))
	return r, nil
}

// addReply is AddReply inside tx, with the raw bytes already encoded (EncodeRaw);
// legacyKeys and defaultFill are putRaw's.
func addReply(tx *bbolt.Tx, r probe.Reply, encodedRaw []byte, legacyKeys, defaultFill bool) (probe.Reply, error) {
	pkey := probeIDs(tx).Get(r.ProbeID)
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
	rec, err := encodeReplyAt(tx, key, r)
	if err != nil {
		return r, err
	}
	if err := appending(tx, bReplies).Put(key, rec); err != nil {
		return r, err
	}
	// Reply ids ("R17") grow at the end of their digit count's range and sweep
	// forward through the older ones (as the raw bucket's names did), so pages behind
	// the insert are rarely written again: packed at appendFill rather than bbolt's
	// half (measured: 52% → 58% in use in 4 KB pages; the splits' two keys on the
	// right keep it from more).
	if err := replyIDs(tx).Put(r.ID, key); err != nil {
		return r, err
	}
	return r, putRaw(tx, "reply/"+r.ID, encodedRaw, legacyKeys, defaultFill)
}

// markSeen claims messageID in the seen bucket for the id that newID produces from
// seqBucket, or fails with ErrDuplicate. Mail without a Message-ID cannot be recognised
// again and is always accepted.
func markSeen(tx *bbolt.Tx, messageID string, newID func(*bbolt.Bucket) (string, error), seqBucket *bbolt.Bucket) error {
	k := []byte(NormalizeMessageID(messageID))
	seen := messageIndex(tx, bSeen)
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
	id, err := db.msgIndexGet(bSeen, messageID)
	return id, id != "", err
}

// Reply returns reply id, or an error wrapping ErrNotFound.
func (db *DB) Reply(id string) (probe.Reply, error) {
	var r probe.Reply
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		key := replyIDs(tx).Get(id)
		if key == nil {
			return ErrNotFound
		}
		return unmarshalReply(tx, key, tx.Bucket(bReplies).Get(key), &r)
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
		key := replyIDs(tx).Get(id)
		if key == nil {
			return ErrNotFound
		}
		b := tx.Bucket(bReplies)
		if err := unmarshalReply(tx, key, b.Get(key), &r); err != nil {
			return err
		}
		before := r.EffectiveKind()
		r.Override = &o
		key = bytes.Clone(key)
		rec, err := encodeReplyAt(tx, key, r)
		if err != nil {
			return err
		}
		if err := b.Put(key, rec); err != nil {
			return err
		}
		_, err = addCorrection(tx, probe.Correction{Action: probe.CorrectionMark, At: o.At, By: o.By, Note: o.Note,
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
		key := replyIDs(tx).Get(id)
		if key == nil {
			return ErrNotFound
		}
		b := tx.Bucket(bReplies)
		if err := unmarshalReply(tx, key, b.Get(key), &r); err != nil {
			return err
		}
		r.Auth = &a
		key = bytes.Clone(key)
		rec, err := encodeReplyAt(tx, key, r)
		if err != nil {
			return err
		}
		return b.Put(key, rec)
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
	enc, kept, err := db.encodeRawCopy(raw, DefaultRawCap, "")
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
		if err := unmatchedIDs(tx).Put(u.ID, key); err != nil {
			return err
		}
		return db.putRaw(tx, "unmatched/"+u.ID, enc)
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
