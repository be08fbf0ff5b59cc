package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe/alert"
)

// The alert log: alerts holds each raised event by its ID with its deliveries (an
// alert.Record as JSON); alert_order indexes them by raise time (8 B BE ns | ID);
// alert_due holds the IDs with a delivery still to make, so the dispatcher never scans
// the whole log; alert_conditions holds the situations that are active now ("watcher
// INBOX down since …"), so that a restart neither repeats their alert nor forgets to
// resolve it.

// AlertLog is the store's alert.Log.
type AlertLog struct{ db *DB }

// Alerts returns the database's alert log.
func (db *DB) Alerts() AlertLog { return AlertLog{db} }

// Raise implements alert.Log.
func (l AlertLog) Raise(ev alert.Event, channels []string, now time.Time) (bool, error) {
	if ev.ID == "" {
		return false, fmt.Errorf("raise %s alert: no ID", ev.Event)
	}
	// The alert checks raise every situation they see, already logged or not: most
	// raises find the event there. A read transaction tells that without the write
	// transaction's commit (a freelist and a meta page written, two fsyncs) per raise.
	var known bool
	if err := l.db.bolt.View(func(tx *bbolt.Tx) error {
		known = tx.Bucket(bAlerts).Get([]byte(ev.ID)) != nil
		return nil
	}); err != nil {
		return false, fmt.Errorf("look up alert %s: %w", ev.ID, err)
	}
	if known {
		return false, nil
	}
	isNew := false
	err := l.db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAlerts)
		if b.Get([]byte(ev.ID)) != nil {
			return nil
		}
		isNew = true
		r := alert.Record{Event: ev, RaisedAt: now.UTC(), Deliveries: []alert.Delivery{}}
		for _, c := range channels {
			r.Deliveries = append(r.Deliveries, alert.Delivery{Channel: c, NextTry: now.UTC()})
		}
		if err := putJSON(b, []byte(ev.ID), r); err != nil {
			return err
		}
		if err := tx.Bucket(bAlertOrder).Put(join(timeKey(now), []byte(ev.ID)), nil); err != nil {
			return err
		}
		if len(channels) > 0 {
			return tx.Bucket(bAlertDue).Put([]byte(ev.ID), nil)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store alert %s: %w", ev.ID, err)
	}
	return isNew, nil
}

// Due implements alert.Log.
func (l AlertLog) Due(now time.Time) ([]alert.Record, error) {
	var out []alert.Record
	err := l.db.bolt.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAlerts)
		return tx.Bucket(bAlertDue).ForEach(func(k, _ []byte) error {
			var r alert.Record
			if err := json.Unmarshal(b.Get(k), &r); err != nil {
				return fmt.Errorf("decode alert %s: %w", k, err)
			}
			for _, d := range r.Deliveries {
				if !d.Done() && !d.NextTry.After(now) {
					out = append(out, r)
					break
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read due alerts: %w", err)
	}
	slices.SortStableFunc(out, func(a, b alert.Record) int { return a.RaisedAt.Compare(b.RaisedAt) })
	return out, nil
}

// Update implements alert.Log.
func (l AlertLog) Update(id string, d alert.Delivery) error {
	err := l.db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAlerts)
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("no such alert")
		}
		var r alert.Record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		found, pending := false, false
		for i := range r.Deliveries {
			if r.Deliveries[i].Channel == d.Channel {
				r.Deliveries[i], found = d, true
			}
			if !r.Deliveries[i].Done() {
				pending = true
			}
		}
		if !found {
			return fmt.Errorf("no delivery on channel %s", d.Channel)
		}
		if err := putJSON(b, []byte(id), r); err != nil {
			return err
		}
		if pending {
			return tx.Bucket(bAlertDue).Put([]byte(id), nil)
		}
		return tx.Bucket(bAlertDue).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("alert %s: record delivery on %s: %w", id, d.Channel, err)
	}
	return nil
}

// List returns up to limit records raised at or after since, newest first; limit 0
// means all.
func (l AlertLog) List(since time.Time, limit int) ([]alert.Record, error) {
	var out []alert.Record
	err := l.db.bolt.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bAlerts)
		c := tx.Bucket(bAlertOrder).Cursor()
		floor := timeKey(since)
		for k, _ := c.Last(); k != nil && (limit == 0 || len(out) < limit); k, _ = c.Prev() {
			if string(k[:8]) < string(floor) {
				break
			}
			var r alert.Record
			if err := json.Unmarshal(b.Get(k[8:]), &r); err != nil {
				return fmt.Errorf("decode alert %s: %w", k[8:], err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// Condition is an active situation kept across restarts: since when, and the alert
// raised for it ("" until one is).
type Condition struct {
	Since time.Time `json:"since"`
	Alert string    `json:"alert,omitempty"`
}

// Condition returns the active condition named key (watcher_down/INBOX, disk_low).
func (l AlertLog) Condition(key string) (c Condition, ok bool, err error) {
	err = l.db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bAlertConditions).Get([]byte(key))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return Condition{}, false, fmt.Errorf("read alert condition %s: %w", key, err)
	}
	return c, ok, nil
}

// SetCondition records key as active with c.
func (l AlertLog) SetCondition(key string, c Condition) error {
	err := l.db.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bAlertConditions), []byte(key), c)
	})
	if err != nil {
		return fmt.Errorf("store alert condition %s: %w", key, err)
	}
	return nil
}

// ClearCondition records key as no longer active.
func (l AlertLog) ClearCondition(key string) error {
	err := l.db.update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bAlertConditions).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("clear alert condition %s: %w", key, err)
	}
	return nil
}
