package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// RecordFire stores one scheduled fire and its outcome. A second record for the same
// job and scheduled time replaces the first (a fire is recorded as failed, say, after
// it was recorded as sent only if the caller says so).
func (db *DB) RecordFire(f probe.Fire) error {
	err := db.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bFires), join(vendorPrefix(f.Job), timeKey(f.ScheduledAt)), f)
	})
	if err != nil {
		return fmt.Errorf("record fire of %s at %s: %w", f.Job, f.ScheduledAt.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// Fires returns job's fires scheduled in [since, until), oldest first; zero bounds are
// open.
func (db *DB) Fires(job string, since, until time.Time) ([]probe.Fire, error) {
	var out []probe.Fire
	prefix := vendorPrefix(job)
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bFires).Cursor()
		for k, v := c.Seek(join(prefix, timeKey(since))); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if !until.IsZero() && bytes.Compare(k[len(prefix):], timeKey(until)) >= 0 {
				break
			}
			var f probe.Fire
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list fires of %s: %w", job, err)
	}
	return out, nil
}

// LastHandled returns the later of job's latest recorded fire and its watermark; ok is
// false when neither exists (the job never ran).
func (db *DB) LastHandled(job string) (t time.Time, ok bool, err error) {
	prefix := vendorPrefix(job)
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bFires).Cursor()
		// The last key with this prefix: seek past it, then step back.
		k, _ := c.Seek(join(prefix, u64(^uint64(0))))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if k != nil && bytes.HasPrefix(k, prefix) {
			t, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefix):]))).UTC(), true
		}
		if v := tx.Bucket(bFireMarks).Get([]byte(job)); len(v) == 8 {
			m := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
			if !ok || m.After(t) {
				t, ok = m, true
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last handled fire of %s: %w", job, err)
	}
	return t, ok, nil
}

// MarkHandled records that every fire of job up to t has been dealt with.
func (db *DB) MarkHandled(job string, t time.Time) error {
	err := db.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bFireMarks).Put([]byte(job), timeKey(t))
	})
	if err != nil {
		return fmt.Errorf("mark fires of %s handled up to %s: %w", job, t.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// ProbeTimes returns the creation times of vendor's probes created at or after since,
// leaving out probes that failed (they never reached the vendor), for rate limits.
func (db *DB) ProbeTimes(_ context.Context, vendor string, since time.Time) ([]time.Time, error) {
	ps, err := db.Probes(Filter{Vendor: vendor, Since: since})
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for _, p := range ps {
		if p.State != probe.StateFailed {
			out = append(out, p.CreatedAt)
		}
	}
	return out, nil
}

// MessageIDKey returns the secret that signs our Message-IDs, creating it on first use.
// It never leaves the database.
func (db *DB) MessageIDKey() ([]byte, error) {
	var key []byte
	db.bolt.View(func(tx *bbolt.Tx) error {
		key = lookup(tx.Bucket(bMeta), keyMessageIDKey)
		return nil
	})
	if key != nil || db.readOnly {
		return key, nil
	}
	err := db.update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bMeta)
		if key = lookup(meta, keyMessageIDKey); key != nil {
			return nil
		}
		key = make([]byte, 32)
		rand.Read(key)
		return meta.Put(keyMessageIDKey, key)
	})
	if err != nil {
		return nil, fmt.Errorf("create Message-ID key: %w", err)
	}
	return key, nil
}
