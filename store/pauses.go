package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// SetPause pauses p.Vendor from p.From (a pause set by hand; p.Source is set to
// probe.PauseManual). When a pause set by hand is already in force at p.From, that one
// is changed instead: its Until becomes p.Until (zero: until resumed) and its note p.Note
// when one is given; the pause in force afterwards is returned. Either way the pause is
// appended to the audit log, in the same transaction.
func (db *DB) SetPause(p probe.Pause) (probe.Pause, error) {
	p.Source = probe.PauseManual
	p.From = p.From.UTC()
	setAt, by := p.SetAt, p.By
	if setAt.IsZero() {
		setAt = p.From
	}
	if !p.Until.IsZero() {
		p.Until = p.Until.UTC()
	}
	err := db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bPauses)
		key, cur, ok, err := activePause(b, p.Vendor, p.From)
		if err != nil {
			return err
		}
		if ok {
			cur.Until = p.Until
			if p.Note != "" {
				cur.Note = p.Note
			}
			p = cur
			if err := putJSON(b, key, cur); err != nil {
				return err
			}
		} else if err := putJSON(b, join(vendorPrefix(p.Vendor), timeKey(p.From)), p); err != nil {
			return err
		}
		_, err = addCorrection(tx, pauseEntry(probe.CorrectionPause, p, setAt, by))
		return err
	})
	if err != nil {
		return probe.Pause{}, fmt.Errorf("pause vendor %s: %w", p.Vendor, err)
	}
	return p, nil
}

// Resume ends at at the pause set by hand that is in force for vendor then, noting by
// as who resumed, and returns it; the resume is appended to the audit log. With no such pause it returns an error wrapping
// ErrNotPaused.
func (db *DB) Resume(vendor string, at time.Time, by string) (probe.Pause, error) {
	var out probe.Pause
	err := db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bPauses)
		key, cur, ok, err := activePause(b, vendor, at)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotPaused
		}
		cur.Until, cur.ResumedBy = at.UTC(), by
		out = cur
		if err := putJSON(b, key, cur); err != nil {
			return err
		}
		_, err = addCorrection(tx, pauseEntry(probe.CorrectionResume, cur, at, by))
		return err
	})
	if err != nil {
		return probe.Pause{}, fmt.Errorf("resume vendor %s: %w", vendor, err)
	}
	return out, nil
}

// activePause finds vendor's pause set by hand that covers at, the latest started when
// several do.
func activePause(b *bbolt.Bucket, vendor string, at time.Time) (key []byte, p probe.Pause, ok bool, err error) {
	prefix := vendorPrefix(vendor)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var q probe.Pause
		if err := json.Unmarshal(v, &q); err != nil {
			return nil, probe.Pause{}, false, fmt.Errorf("decode pause %q: %w", k, err)
		}
		if q.Covers(at) {
			key, p, ok = bytes.Clone(k), q, true
		}
	}
	return key, p, ok, nil
}

// Pauses returns the pauses set by hand for vendor ("" for every vendor) that overlap
// [since, until), by vendor, then start; zero bounds are open.
func (db *DB) Pauses(vendor string, since, until time.Time) ([]probe.Pause, error) {
	var out []probe.Pause
	var prefix []byte
	if vendor != "" {
		prefix = vendorPrefix(vendor)
	}
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bPauses).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var p probe.Pause
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode pause %q: %w", k, err)
			}
			if p.Overlaps(since, until) {
				out = append(out, p)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list pauses of %q: %w", vendor, err)
	}
	return out, nil
}
