package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// migration brings a database from one schema version to the next, in one of two ways.
type migration struct {
	// apply runs in one transaction together with the migrations around it.
	apply func(*bbolt.Tx) error
	// step is for a migration too large for one transaction: each call does a bounded
	// part of it from pos (nil at the start) in a transaction of its own, and returns
	// where the next part starts, nil when the migration is done. The position is kept
	// in meta (keyMigrationPos) with each part, so a crash between parts goes on from
	// there at the next start; readers must accept a file partly migrated.
	step func(tx *bbolt.Tx, pos []byte) ([]byte, error)
}

// keyMigrationPos holds, while a stepped migration is under way, the schema version it
// migrates to (8 bytes big-endian) and the position its next part starts at.
var keyMigrationPos = []byte("migration_position")

// migrateBatch is how many records one part of a stepped migration rewrites: about
// 10 MB of pages to hold and write at once, not a transaction the size of the file.
var migrateBatch = 10_000

// migrationStepHook, when set (tests), runs after each part of a stepped migration is
// committed; an error stops the migration there, as a crash would.
var migrationStepHook func(version uint64, part int) error

// migrations bring a database from version i to i+1; the schema version of a fully
// migrated file is len(migrations). Append only: a released migration never changes
// what it does.
var migrations = []migration{
	// 1: the initial bucket tree.
	{apply: func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{
			bProbes, bProbeIDs, bVendorTime, bMessageID, bToken, bTicket,
			bReplies, bReplyIDs, bSeen, bUnmatched, bUnmatchedIDs, bRaw,
			bMailboxes, bSummaries,
		} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	// 2: scheduled fires and their watermarks, the index of probes caught mid-send, and
	// the Message-ID secret.
	{apply: func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bFires, bFireMarks, bPending} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	// 3: folder marks, the UIDNEXT of each watched folder just before each send, which
	// let a first sync skip the mail that was there before.
	{apply: func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bFolderMarks); err != nil {
			return fmt.Errorf("create bucket %s: %w", bFolderMarks, err)
		}
		return nil
	}},
	// 4: the audit trail of corrections by hand (mark, link): who, when, why, and what
	// moved between probes.
	{apply: func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bAudit); err != nil {
			return fmt.Errorf("create bucket %s: %w", bAudit, err)
		}
		return nil
	}},
	// 5: the alert log (alerts by ID, their order, the ones still to deliver) and the
	// conditions that are active (a watcher down, a disk low).
	{apply: func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bAlerts, bAlertOrder, bAlertDue, bAlertConditions} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	// 6: pauses set by hand (supportprobe pause/resume), kept after they end so that
	// reports can show the time a vendor was paused.
	{apply: func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bPauses); err != nil {
			return fmt.Errorf("create bucket %s: %w", bPauses, err)
		}
		return nil
	}},
	// 7: the audit log becomes a hash chain: the entries written before are chained in
	// the order they were written (each gets seq, prev and hash).
	{apply: chainAudit},
	// 8: probes and replies move from JSON to the compact record encoding (codec.go).
	{step: encodeRecordsStep},
	// 9: new raw copies go to a bucket per kind keyed by the number of their id, so they
	// are appended in order (mail.go); the copies already in the raw bucket stay there,
	// byte for byte, and are read there.
	{apply: func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bRawInquiries, bRawFollowups, bRawReplies, bRawUnmatched} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	}},
	// 10: the Message-ID indexes are keyed by a hash of the Message-ID and the id indexes
	// by the id's number (keys.go), probes share their terms and replies are written
	// against their probe (format version 2 of each, codec.go); readers take either
	// form, so the older keys move, and the records are rewritten, in parts.
	{step: rekeyIndexesStep},
}

// rekeyBuckets are the buckets migration 10 moves to the keys of keys.go, in the order
// it walks them: two Message-ID indexes (letter 0), then the id indexes.
var rekeyBuckets = []struct {
	name   []byte
	letter byte
}{{bMessageID, 0}, {bSeen, 0}, {bProbeIDs, 'P'}, {bReplyIDs, 'R'}, {bUnmatchedIDs, 'U'}}

// rekeyIndexesStep moves up to migrateBatch older keys of the index buckets to their
// version 10 form: a Message-ID key to msgKey of it, an id key to its number. pos is
// the bucket (its place in rekeyBuckets) and the key the part starts at. Each entry is
// put under its new key and its older key deleted in the same part, so a part done
// again after a crash finds only the keys still to move; a new key already present (a
// write since the upgrade) is kept.
func rekeyIndexesStep(tx *bbolt.Tx, pos []byte) ([]byte, error) {
	which, from := 0, []byte(nil)
	if len(pos) > 0 {
		which, from = int(pos[0]), pos[1:]
	}
	switch {
	case which == len(rekeyBuckets):
		return shareTermsStep(tx, from)
	case which == len(rekeyBuckets)+1:
		return repliesInContextStep(tx, from)
	case which > len(rekeyBuckets)+1:
		return nil, fmt.Errorf("bad position %x in meta %s (restore a backup)", pos, keyMigrationPos)
	}
	rb := rekeyBuckets[which]
	b := tx.Bucket(rb.name)
	newKey := func(k []byte) []byte {
		if rb.letter == 0 {
			if isMsgKey(k) {
				return nil
			}
			return msgKey(k)
		}
		if n, ok := idNumber(string(k), rb.letter); ok {
			return u64(n)
		}
		return nil // already a number, or an id that keeps its text key
	}
	type move struct{ old, new, v []byte }
	var batch []move
	c := b.Cursor()
	k, v := c.First()
	if len(from) > 0 {
		k, v = c.Seek(from)
	}
	for ; k != nil && len(batch) < migrateBatch; k, v = c.Next() {
		if nk := newKey(k); nk != nil {
			batch = append(batch, move{bytes.Clone(k), nk, bytes.Clone(v)})
		}
	}
	var next []byte
	if k != nil {
		next = bytes.Clone(k)
	}
	for _, m := range batch {
		if b.Get(m.new) == nil {
			if err := b.Put(m.new, m.v); err != nil {
				return nil, fmt.Errorf("bucket %s: move key %q: %w", rb.name, m.old, err)
			}
		}
		if err := b.Delete(m.old); err != nil {
			return nil, fmt.Errorf("bucket %s: remove older key %q: %w", rb.name, m.old, err)
		}
	}
	switch {
	case next != nil:
		return append([]byte{byte(which)}, next...), nil
	}
	return []byte{byte(which + 1)}, nil // the next bucket, or the probes after the last
}

// shareTermsStep rewrites up to migrateBatch probe records of format version 1 from key
// from on in version 2, their terms shared (encodeProbeShared), and returns the
// position of the next part (after rekeyBuckets), nil at the end. Keys do not change,
// so no index moves.
func shareTermsStep(tx *bbolt.Tx, from []byte) ([]byte, error) {
	if _, err := tx.CreateBucketIfNotExists(bTerms); err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", bTerms, err)
	}
	rest, err := rewriteVersion1(tx, bProbes, from, func(k, v []byte) ([]byte, error) {
		var p probe.Probe
		if err := decodeProbeBinary(v, &p, nil); err != nil {
			return nil, err
		}
		return encodeProbeShared(tx, p)
	})
	if err != nil {
		return nil, err
	}
	if rest == nil {
		return []byte{byte(len(rekeyBuckets) + 1)}, nil // the replies
	}
	return append([]byte{byte(len(rekeyBuckets))}, rest...), nil
}

// repliesInContextStep rewrites up to migrateBatch reply records of format version 1
// from key from on in version 2, against their probe (encodeReplyAt), and returns the
// position of the next part, nil at the end. It runs after the probes are rewritten.
func repliesInContextStep(tx *bbolt.Tx, from []byte) ([]byte, error) {
	rest, err := rewriteVersion1(tx, bReplies, from, func(k, v []byte) ([]byte, error) {
		var r probe.Reply
		if err := decodeReplyBinary(v, &r, nil); err != nil {
			return nil, err
		}
		return encodeReplyAt(tx, k, r)
	})
	if rest == nil || err != nil {
		return nil, err
	}
	return append([]byte{byte(len(rekeyBuckets) + 1)}, rest...), nil
}

// rewriteVersion1 rewrites up to migrateBatch records of format version 1 in bucket
// name, from key from on, as rewrite encodes them, and returns the key the next part
// starts at, nil when the bucket is done. A record already of version 2 is left as it
// is, so a part done again after a crash changes nothing.
func rewriteVersion1(tx *bbolt.Tx, name, from []byte, rewrite func(k, v []byte) ([]byte, error)) ([]byte, error) {
	version1 := func(v []byte) bool { return len(v) >= 2 && v[0] == codecMagic && v[1] == codecVersion }
	return rewriteRecords(tx, name, from, version1, "rewrite", rewrite)
}

// encodeRecordsStep rewrites the JSON probes, then the JSON replies, in the record
// encoding, migrateBatch records per part. Each record is decoded as JSON and
// re-encoded; a record already in the new encoding is left as it is, so a part done
// again after a crash changes nothing. Keys do not change, so no index moves. pos is the
// bucket (0 probes, 1 replies) and the key the part starts at.
func encodeRecordsStep(tx *bbolt.Tx, pos []byte) ([]byte, error) {
	which, from := byte(0), []byte(nil)
	if len(pos) > 0 {
		which, from = pos[0], pos[1:]
	}
	var next []byte
	var err error
	switch which {
	case 0:
		next, err = reencode(tx, bProbes, from, func(v []byte) ([]byte, error) {
			var p probe.Probe
			if err := json.Unmarshal(v, &p); err != nil {
				return nil, err
			}
			p.Replies = nil
			return encodeProbe(p), nil
		})
	case 1:
		next, err = reencode(tx, bReplies, from, func(v []byte) ([]byte, error) {
			var r probe.Reply
			if err := json.Unmarshal(v, &r); err != nil {
				return nil, err
			}
			return encodeReply(r), nil
		})
	default:
		return nil, fmt.Errorf("bad position %x in meta %s (restore a backup)", pos, keyMigrationPos)
	}
	switch {
	case err != nil:
		return nil, err
	case next != nil:
		return append([]byte{which}, next...), nil
	case which == 0:
		return []byte{1}, nil // the replies next
	}
	return nil, nil
}

// reencode replaces the JSON values of bucket name by conv's result, from key from (the
// first key when empty) on, up to migrateBatch of them, and returns the key to go on
// from, nil at the end of the bucket.
func reencode(tx *bbolt.Tx, name, from []byte, conv func([]byte) ([]byte, error)) ([]byte, error) {
	isJSON := func(v []byte) bool { return len(v) > 0 && v[0] == '{' }
	return rewriteRecords(tx, name, from, isJSON, "decode the JSON", func(_, v []byte) ([]byte, error) { return conv(v) })
}

// rewriteRecords replaces, from key from (the first key when empty) on, up to
// migrateBatch values of bucket name that need says need it by conv's result, and
// returns the key the next part starts at, nil at the end of the bucket. Values are put
// after the cursor has read them, because a cursor is not to be trusted across writes
// to the bucket it walks; a value that needs nothing is left as it is, so a part done
// again after a crash changes nothing. what names the step in errors.
func rewriteRecords(tx *bbolt.Tx, name, from []byte, need func(v []byte) bool, what string, conv func(k, v []byte) ([]byte, error)) ([]byte, error) {
	b := tx.Bucket(name)
	b.FillPercent = appendFill
	type kv struct{ k, v []byte }
	var batch []kv
	c := b.Cursor()
	k, v := c.First()
	if len(from) > 0 {
		k, v = c.Seek(from)
	}
	for ; k != nil && len(batch) < migrateBatch; k, v = c.Next() {
		if !need(v) {
			continue
		}
		nv, err := conv(k, v)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %s record at key %x: %w (restore a backup, or remove the damaged record with bbolt's tools)", name, what, k, err)
		}
		batch = append(batch, kv{bytes.Clone(k), nv})
	}
	next := bytes.Clone(k) // nil at the end of the bucket
	for _, x := range batch {
		if err := b.Put(x.k, x.v); err != nil {
			return nil, fmt.Errorf("bucket %s: rewrite key %x: %w", name, x.k, err)
		}
	}
	return next, nil
}

// SchemaVersion is the schema version this binary writes and understands.
func SchemaVersion() uint64 { return uint64(len(migrations)) }

// readVersion returns the stored schema version, 0 for a new file.
func readVersion(tx *bbolt.Tx) uint64 {
	meta := tx.Bucket(bMeta)
	if meta == nil {
		return 0
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// migrate refuses a newer file and, unless read-only, runs the pending migrations:
// consecutive ones that fit in one transaction together, so a crash mid-way leaves the
// file at its old version, and a stepped one in parts (see migration.step).
func (db *DB) migrate() error {
	var have uint64
	if err := db.bolt.View(func(tx *bbolt.Tx) error { have = readVersion(tx); return nil }); err != nil {
		return fmt.Errorf("database %s: read schema version: %w", db.path, err)
	}
	want := SchemaVersion()
	switch {
	case have > want:
		return fmt.Errorf("database %s has schema version %d but this supportprobe understands up to %d: %w; upgrade supportprobe, or restore a backup made by this version", db.path, have, want, ErrTooNew)
	case have == want:
		return nil
	case db.readOnly:
		if have == 0 {
			return fmt.Errorf("database %s is empty: %w", db.path, ErrNoDatabase)
		}
		return fmt.Errorf("database %s has schema version %d, older than this supportprobe's %d: run `supportprobe run` once to migrate it", db.path, have, want)
	}
	for v := have; v < want; {
		if migrations[v].step != nil {
			if err := db.migrateSteps(v); err != nil {
				return fmt.Errorf("database %s: %w", db.path, err)
			}
			v++
			continue
		}
		to := v
		for to < want && migrations[to].step == nil {
			to++
		}
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			for m := v; m < to; m++ {
				if err := migrations[m].apply(tx); err != nil {
					return fmt.Errorf("migrate to schema version %d: %w", m+1, err)
				}
			}
			meta, err := tx.CreateBucketIfNotExists(bMeta)
			if err != nil {
				return err
			}
			return meta.Put(keySchemaVersion, u64(to))
		})
		if err != nil {
			return fmt.Errorf("database %s: %w", db.path, err)
		}
		v = to
	}
	return nil
}

// migrateSteps runs stepped migration v (to version v+1) part by part, from the
// position a previous start left in meta.
func (db *DB) migrateSteps(v uint64) error {
	for part := 1; ; part++ {
		done := false
		err := db.bolt.Update(func(tx *bbolt.Tx) error {
			meta, err := tx.CreateBucketIfNotExists(bMeta)
			if err != nil {
				return err
			}
			var pos []byte
			if m := meta.Get(keyMigrationPos); len(m) >= 8 && binary.BigEndian.Uint64(m) == v+1 {
				pos = bytes.Clone(m[8:])
			}
			next, err := migrations[v].step(tx, pos)
			if err != nil {
				return err
			}
			if next == nil {
				done = true
				if err := meta.Delete(keyMigrationPos); err != nil {
					return err
				}
				return meta.Put(keySchemaVersion, u64(v+1))
			}
			return meta.Put(keyMigrationPos, append(u64(v+1), next...))
		})
		if err != nil {
			return fmt.Errorf("migrate to schema version %d, part %d (the parts before are kept; the next start goes on from there): %w", v+1, part, err)
		}
		if done {
			return nil
		}
		if migrationStepHook != nil {
			if err := migrationStepHook(v+1, part); err != nil {
				return fmt.Errorf("migrate to schema version %d, after part %d: %w", v+1, part, err)
			}
		}
	}
}
