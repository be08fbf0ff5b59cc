package store

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// The audit log (bucket audit) holds probe.Correction entries keyed by the bucket's
// sequence, so it reads in the order they were written. Since schema version 7 each
// entry is hash-chained to the one before it (probe.Correction.Chain): its Seq is its
// position, its Prev the previous entry's Hash. Entries written before the chain were
// chained by migration 7, in key order.

// addCorrection appends c to the audit log inside tx, assigning its ID ("A" and a
// sequence number) and chaining it to the last entry, and returns it.
func addCorrection(tx *bbolt.Tx, c probe.Correction) (probe.Correction, error) {
	b := appending(tx, bAudit)
	var seq uint64
	prev := ""
	if k, v := b.Cursor().Last(); k != nil {
		var last probe.Correction
		if err := json.Unmarshal(v, &last); err != nil {
			return c, fmt.Errorf("decode the last audit entry (key %x) to chain the next one: %w", k, err)
		}
		seq, prev = last.Seq, last.Hash
	}
	id, key, err := newID("A", b)
	if err != nil {
		return c, err
	}
	c.ID = id
	c.At = c.At.UTC()
	if err := c.Chain(seq+1, prev); err != nil {
		return c, err
	}
	if err := putJSON(b, u64(key), c); err != nil {
		return c, fmt.Errorf("write audit record %s: %w", id, err)
	}
	return c, nil
}

// chainAudit chains the entries of the audit log in key order (migration 7): entries
// written before the chain get Seq, Prev and Hash; it rewrites every entry.
func chainAudit(tx *bbolt.Tx) error {
	b := tx.Bucket(bAudit)
	type kv struct {
		k []byte
		c probe.Correction
	}
	var all []kv
	err := b.ForEach(func(k, v []byte) error {
		var c probe.Correction
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("decode audit record at key %x: %w", k, err)
		}
		all = append(all, kv{append([]byte(nil), k...), c})
		return nil
	})
	if err != nil {
		return err
	}
	prev := ""
	for i := range all {
		c := &all[i].c
		if err := c.Chain(uint64(i)+1, prev); err != nil {
			return err
		}
		prev = c.Hash
		if err := putJSON(b, all[i].k, *c); err != nil {
			return fmt.Errorf("rewrite audit record %s: %w", c.ID, err)
		}
	}
	return nil
}

// AddAudit appends c (a reload, say) to the audit log and returns it as stored.
func (db *DB) AddAudit(c probe.Correction) (probe.Correction, error) {
	err := db.update(func(tx *bbolt.Tx) error {
		var err error
		c, err = addCorrection(tx, c)
		return err
	})
	if err != nil {
		return c, fmt.Errorf("append %s entry to the audit log: %w", c.Action, err)
	}
	return c, nil
}

// AuditLog returns the whole audit log, oldest first. It does not verify it (see
// probe.VerifyEntries).
func (db *DB) AuditLog() ([]probe.Correction, error) {
	return db.auditEntries(func(probe.Correction) bool { return true })
}

// Corrections returns the corrections by hand (mark, link) of the audit log, oldest
// first: those that concern probe probeID (it lost or gained a reply, or one of its
// replies was marked), or all of them when probeID is "". People make few corrections,
// so the whole log is read.
func (db *DB) Corrections(probeID string) ([]probe.Correction, error) {
	return db.auditEntries(func(c probe.Correction) bool {
		if c.Action != probe.CorrectionMark && c.Action != probe.CorrectionLink {
			return false
		}
		return probeID == "" || c.Concerns(probeID)
	})
}

func (db *DB) auditEntries(keep func(probe.Correction) bool) ([]probe.Correction, error) {
	out := []probe.Correction{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bAudit).ForEach(func(k, v []byte) error {
			var c probe.Correction
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode audit record at key %x: %w", k, err)
			}
			if keep(c) {
				out = append(out, c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	return out, nil
}

// pauseEntry is the audit entry of pause p being set (action probe.CorrectionPause, with
// the pause's note) or ended (probe.CorrectionResume, which takes no note) at at by by.
func pauseEntry(action string, p probe.Pause, at time.Time, by string) probe.Correction {
	c := probe.Correction{Action: action, At: at, By: by, Vendor: p.Vendor, Until: p.Until}
	if action == probe.CorrectionPause {
		c.Note = p.Note
	}
	return c
}
