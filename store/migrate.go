package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// migrations bring a database from version i to i+1; the schema version of a fully
// migrated file is len(migrations). Append only: a released migration never changes.
var migrations = []func(*bbolt.Tx) error{
	// 1: the initial bucket tree.
	func(tx *bbolt.Tx) error {
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
	},
	// 2: scheduled fires and their watermarks, the index of probes caught mid-send, and
	// the Message-ID secret.
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bFires, bFireMarks, bPending} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// 3: folder marks, the UIDNEXT of each watched folder just before each send, which
	// let a first sync skip the mail that was there before.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bFolderMarks); err != nil {
			return fmt.Errorf("create bucket %s: %w", bFolderMarks, err)
		}
		return nil
	},
	// 4: the audit trail of corrections by hand (mark, link): who, when, why, and what
	// moved between probes.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bAudit); err != nil {
			return fmt.Errorf("create bucket %s: %w", bAudit, err)
		}
		return nil
	},
	// 5: the alert log (alerts by ID, their order, the ones still to deliver) and the
	// conditions that are active (a watcher down, a disk low).
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bAlerts, bAlertOrder, bAlertDue, bAlertConditions} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
	// 6: pauses set by hand (supportprobe pause/resume), kept after they end so that
	// reports can show the time a vendor was paused.
	func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bPauses); err != nil {
			return fmt.Errorf("create bucket %s: %w", bPauses, err)
		}
		return nil
	},
	// 7: the audit log becomes a hash chain: the entries written before are chained in
	// the order they were written (each gets seq, prev and hash).
	chainAudit,
	// 8: probes and replies move from JSON to the compact record encoding (codec.go).
	encodeRecords,
	// 9: new raw copies go to a bucket per kind keyed by the number of their id, so they
	// are appended in order (mail.go); the copies already in the raw bucket stay there,
	// byte for byte, and are read there.
	func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bRawInquiries, bRawFollowups, bRawReplies, bRawUnmatched} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	},
}

// encodeRecords rewrites every JSON probe and reply in the record encoding. Each record
// is decoded as JSON and re-encoded; a record already in the new encoding is left as it
// is, so the migration can meet a file that was partly rewritten. Keys do not change,
// so no index moves. It runs in the one migration transaction: a crash leaves the file
// at version 7, all JSON.
func encodeRecords(tx *bbolt.Tx) error {
	if err := reencode(tx, bProbes, func(v []byte) ([]byte, error) {
		var p probe.Probe
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, err
		}
		p.Replies = nil
		return encodeProbe(p), nil
	}); err != nil {
		return err
	}
	return reencode(tx, bReplies, func(v []byte) ([]byte, error) {
		var r probe.Reply
		if err := json.Unmarshal(v, &r); err != nil {
			return nil, err
		}
		return encodeReply(r), nil
	})
}

// reencode replaces every JSON value of bucket name by conv's result, 10,000 at a time:
// values are put after the cursor has read them and the walk resumes with a seek,
// because a cursor is not to be trusted across writes to the bucket it walks.
func reencode(tx *bbolt.Tx, name []byte, conv func([]byte) ([]byte, error)) error {
	b := tx.Bucket(name)
	b.FillPercent = appendFill
	type kv struct{ k, v []byte }
	var batch []kv
	flush := func() error {
		for _, x := range batch {
			if err := b.Put(x.k, x.v); err != nil {
				return fmt.Errorf("bucket %s: rewrite key %x: %w", name, x.k, err)
			}
		}
		batch = batch[:0]
		return nil
	}
	var from []byte
	for {
		c := b.Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for ; k != nil && len(batch) < 10_000; k, v = c.Next() {
			if len(v) == 0 || v[0] != '{' {
				continue
			}
			nv, err := conv(v)
			if err != nil {
				return fmt.Errorf("bucket %s: decode the JSON record at key %x: %w (restore a backup, or remove the damaged record with bbolt's tools)", name, k, err)
			}
			batch = append(batch, kv{bytes.Clone(k), nv})
		}
		if k != nil {
			from = bytes.Clone(k)
		}
		if err := flush(); err != nil {
			return err
		}
		if k == nil {
			return nil
		}
	}
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

// migrate refuses a newer file and, unless read-only, runs the pending migrations in one
// transaction, so a crash mid-way leaves the file at its old version.
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
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		for v := have; v < want; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("migrate to schema version %d: %w", v+1, err)
			}
		}
		meta, err := tx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return err
		}
		return meta.Put(keySchemaVersion, u64(want))
	})
	if err != nil {
		return fmt.Errorf("database %s: %w", db.path, err)
	}
	return nil
}
