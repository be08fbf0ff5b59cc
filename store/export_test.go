package store

import (
	"bytes"
	"encoding/binary"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// Bulk writes many probes in one transaction for the benchmarks in package store_test,
// through the same functions CreateProbe and AddReply run inside their transactions,
// so records and indexes come out as the daemon writes them.
type Bulk struct{ tx *bbolt.Tx }

// Bulk runs fn in one write transaction.
func (db *DB) Bulk(fn func(*Bulk) error) error {
	return db.updateRecords(func(tx *bbolt.Tx) error { return fn(&Bulk{tx}) })
}

// CreateProbe is DB.CreateProbe inside the bulk transaction; p.CreatedAt must be set,
// in UTC.
func (b *Bulk) CreateProbe(p probe.Probe) (probe.Probe, error) {
	p.Replies = nil
	return createProbe(b.tx, p)
}

// AddReply is DB.AddReply inside the bulk transaction, with raw already EncodeRaw'd.
func (b *Bulk) AddReply(r probe.Reply, encodedRaw []byte) (probe.Reply, error) {
	return addReply(b.tx, r, encodedRaw, false, false)
}

// PutInquiryRaw is DB.PutInquiryRaw inside the bulk transaction, with data already
// EncodeRaw'd.
func (b *Bulk) PutInquiryRaw(id string, encoded []byte) error {
	return putRaw(b.tx, "inquiry/"+id, encoded, false, false)
}

// AddThreadID and AddTicketKey write the index entries DB.AddThreadIDs and
// DB.AddTicketKey add for a key no other probe holds.
func (b *Bulk) AddThreadID(id, messageID string) error {
	return messageIndex(b.tx, bMessageID).Put([]byte(NormalizeMessageID(messageID)), []byte(id))
}

// AddTicketKey: see AddThreadID.
func (b *Bulk) AddTicketKey(vendor, ticket, id string) error {
	return b.tx.Bucket(bTicket).Put(join(vendorPrefix(vendor), []byte(ticket)), []byte(id))
}

// BucketStats returns bbolt's statistics of every top-level bucket, by name.
func (db *DB) BucketStats() (map[string]bbolt.BucketStats, error) {
	out := map[string]bbolt.BucketStats{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			out[string(name)] = b.Stats()
			return nil
		})
	})
	return out, err
}

// UseGzipRaw makes db write new raw copies as before dictionaries: each gzip'd alone
// (format 1), and never train. The benchmark's "before" and the tests of files written
// by older versions use it.
func (db *DB) UseGzipRaw(on bool) { db.codec().legacy.Store(on) }

// UseDefaultRawFill makes db leave the raw bucket at bbolt's default fill (0.5), as
// before appendFill was set on it.
func (db *DB) UseDefaultRawFill(on bool) { db.codec().defaultFill.Store(on) }

// WaitRawTraining waits for an automatic dictionary training under way.
func (db *DB) WaitRawTraining() { db.codec().wg.Wait() }

// RawValue returns the stored value of a raw copy (key "inquiry/P1", "reply/R2").
func (db *DB) RawValue(key string) []byte {
	var v []byte
	db.bolt.View(func(tx *bbolt.Tx) error { v = getRaw(tx, key); return nil })
	return v
}

// RawInOldBucket reports whether copy key is in the raw bucket of versions before
// schema 9 (keyed by its name) rather than in its kind's bucket.
func (db *DB) RawInOldBucket(key string) bool {
	var in bool
	db.bolt.View(func(tx *bbolt.Tx) error { in = tx.Bucket(bRaw).Get([]byte(key)) != nil; return nil })
	return in
}

// RawDictID returns the codec and dictionary id recorded in a raw value.
func RawDictID(v []byte) (format byte, id uint32, err error) {
	p, err := parseRaw(v)
	return p.format, p.dictID, err
}

// RawRef returns the copy a raw value of format 3 was compressed against ("" for
// others).
func RawRef(v []byte) string {
	p, _ := parseRaw(v)
	return p.ref
}

// UseLegacyRawKeys makes db put new raw copies in the raw bucket under their names, as
// versions before schema 9 did.
func (db *DB) UseLegacyRawKeys(on bool) { db.codec().legacyKeys.Store(on) }

// UseRawRefs(false) makes db store every copy on its own (format 2), never against the
// inquiry it answers, as before format 3.
func (db *DB) UseRawRefs(on bool) { db.codec().noRef.Store(!on) }

// RewriteAsJSON puts the file back as schema version 7 wrote it: every probe and reply
// record as JSON, and the schema version 7, so a test can run migration 8 on it.
func (db *DB) RewriteAsJSON() error {
	return db.update(func(tx *bbolt.Tx) error {
		for _, c := range []struct {
			name   []byte
			decode func(k, v []byte) (any, error)
		}{
			// Replies first: those written against their probe need it as it is.
			{bReplies, func(k, v []byte) (any, error) { var r probe.Reply; err := unmarshalReply(tx, k, v, &r); return r, err }},
			{bProbes, func(_, v []byte) (any, error) { var p probe.Probe; err := unmarshalProbe(tx, v, &p); return p, err }},
		} {
			b := tx.Bucket(c.name)
			var keys [][]byte
			var vals []any
			if err := b.ForEach(func(k, v []byte) error {
				x, err := c.decode(k, v)
				keys, vals = append(keys, bytes.Clone(k)), append(vals, x)
				return err
			}); err != nil {
				return err
			}
			for i, k := range keys {
				if err := putJSON(b, k, vals[i]); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64(7))
	})
}

// SetSchemaVersion stores v as the file's schema version, so that a test can make a
// file an older version wrote and run the later migrations on it.
func (db *DB) SetSchemaVersion(v uint64) error {
	return db.update(func(tx *bbolt.Tx) error {
		if v < 9 {
			for _, name := range [][]byte{bRawInquiries, bRawFollowups, bRawReplies, bRawUnmatched} {
				if tx.Bucket(name) == nil {
					continue
				}
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64(v))
	})
}

// UseSchema9Format makes every store write its index keys (keys) and probe records
// (records) as schema version 9 did (Message-IDs and ids as text; terms inline) while
// on, and returns a function that turns both off. Not for use with stores written
// concurrently by other tests.
func UseSchema9Format(keys, records bool) (restore func()) {
	schema9Keys, schema9Records = keys, records
	return func() { schema9Keys, schema9Records = false, false }
}

// RecordVersions counts the binary records of bucket "probes" or "replies" by format
// version.
func (db *DB) RecordVersions(bucket string) map[byte]int {
	out := map[byte]int{}
	db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucket)).ForEach(func(_, v []byte) error {
			if len(v) > 1 && v[0] == codecMagic {
				out[v[1]]++
			}
			return nil
		})
	})
	return out
}

// IndexKeyForms counts the keys of the Message-ID and id index buckets by form:
// version 10 (hashed or numeric) and older (text).
func (db *DB) IndexKeyForms() (v10, older int) {
	db.bolt.View(func(tx *bbolt.Tx) error {
		for _, rb := range rekeyBuckets {
			tx.Bucket(rb.name).ForEach(func(k, _ []byte) error {
				if rb.letter == 0 && isMsgKey(k) || rb.letter != 0 && len(k) == 8 && k[0] == 0 {
					v10++
				} else {
					older++
				}
				return nil
			})
		}
		return nil
	})
	return v10, older
}

// SetMigrationBatch makes the parts of stepped migrations n records long, and returns
// a function that restores the setting.
func SetMigrationBatch(n int) (restore func()) {
	old := migrateBatch
	migrateBatch = n
	return func() { migrateBatch = old }
}

// SetMigrationStepHook sets the function run after each committed part of a stepped
// migration (nil: none).
func SetMigrationStepHook(f func(version uint64, part int) error) { migrationStepHook = f }

// MigrationPosition returns the position a stepped migration under way left in meta:
// the version it migrates to and where its next part starts; ok is false when none is
// under way.
func (db *DB) MigrationPosition() (version uint64, pos []byte, ok bool) {
	db.bolt.View(func(tx *bbolt.Tx) error {
		m := tx.Bucket(bMeta).Get(keyMigrationPos)
		if len(m) >= 8 {
			version, pos, ok = binary.BigEndian.Uint64(m), bytes.Clone(m[8:]), true
		}
		return nil
	})
	return version, pos, ok
}

// OpenUnmigrated opens the file at path as it is, without running migrations, for the
// tests that look at a file a crash left mid-migration.
func OpenUnmigrated(path string) (*DB, error) {
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	return &DB{bolt: b, path: path, now: time.Now}, nil
}

// RawCopyStats returns, over every bucket of raw copies, the number of copies by value
// format (1 gzip, 2 zstd, 3 zstd against another copy) and the bytes of the values
// bbolt stores (chunks whole, with their few bytes of framing).
func (db *DB) RawCopyStats() (formats map[byte]int, stored int64, err error) {
	formats = map[byte]int{}
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bRaw, bRawInquiries, bRawFollowups, bRawReplies, bRawUnmatched} {
			b := tx.Bucket(name)
			if b == nil {
				continue
			}
			if err := b.ForEach(func(k, v []byte) error {
				stored += int64(len(v))
				if !chunkedBucket(name) {
					formats[v[0]]++
					return nil
				}
				es, err := parseChunk(k, v)
				for _, e := range es {
					formats[e.v[0]]++
				}
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return formats, stored, err
}
