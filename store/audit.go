package store

import (
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// addCorrection appends c to the audit trail inside tx, assigning its ID ("A" and a
// sequence number), and returns it. Corrections are keyed by that sequence, so the trail
// reads in the order they were made.
func addCorrection(tx *bbolt.Tx, c probe.Correction) (probe.Correction, error) {
	b := appending(tx, bAudit)
	id, seq, err := newID("A", b)
	if err != nil {
		return c, err
	}
	c.ID = id
	c.At = c.At.UTC()
	if err := putJSON(b, u64(seq), c); err != nil {
		return c, fmt.Errorf("write audit record %s: %w", id, err)
	}
	return c, nil
}

// Corrections returns the audit trail of corrections by hand, oldest first: those that
// concern probe probeID (it lost or gained a reply, or one of its replies was marked),
// or all of them when probeID is "". People make few corrections, so the whole trail
// is read.
func (db *DB) Corrections(probeID string) ([]probe.Correction, error) {
	out := []probe.Correction{}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bAudit).ForEach(func(k, v []byte) error {
			var c probe.Correction
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("decode audit record at key %x: %w", k, err)
			}
			if probeID == "" || c.Concerns(probeID) {
				out = append(out, c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	return out, nil
}
