package store

import (
	"crypto/sha256"

	"go.etcd.io/bbolt"
)

// The index keys of schema version 10.
//
// Message-ID indexes (idx_message_id, seen) were keyed by the normalised Message-ID
// itself, about 55 bytes of random-looking text per key, inserted at random places: at
// four to five keys a probe they held more bytes of keys than the probe record has of
// fields. Since version 10 a key is msgKeyPrefix and the first msgKeyHash bytes of the
// SHA-256 of the normalised Message-ID (13 bytes). Nothing lists these indexes: every
// use is a lookup by a Message-ID in hand, and the Message-IDs themselves stay in the
// records (the probe, the reply, Learned.ThreadIDs). Two Message-IDs that share 96 bits
// of hash would read as one; at ten million keys the chance is below 10^-15.
//
// Id indexes (probe_ids, reply_ids, unmatched_ids) were keyed by the id as text
// ("R1234"), which sorts R1000 between R100 and R101: each new id went into the middle
// of a full page and split it, leaving the bucket about half full. Since version 10 a
// key is the id's number, 8 bytes big-endian, so each new id is appended at the end and
// pages stay full (appendFill). An id that is not a letter and a canonical decimal
// number (none that the store makes) keeps its text key.
//
// Readers accept both forms: a lookup tries the version 10 key, then the older one, so
// a file part way through migration 10 (which moves every older key, in parts) reads
// the same. A write puts the version 10 key and removes an older key of the same entry.

// msgKeyPrefix starts every hashed Message-ID key. No Message-ID starts with a NUL
// byte (mail headers cannot carry one), so a hashed key never equals an older key.
const msgKeyPrefix = 0x00

// msgKeyHash is how many bytes of the SHA-256 a Message-ID key keeps.
const msgKeyHash = 12

// schema9Keys and schema9Records, set by tests and the benchmark only, make writes put
// index keys in their schema 9 form, and probe records in format version 1 (terms
// inline), to make a file as version 9 wrote it.
var schema9Keys, schema9Records bool

// msgKey returns the version 10 key of normalised Message-ID mid (NormalizeMessageID).
func msgKey(mid []byte) []byte {
	sum := sha256.Sum256(mid)
	return append([]byte{msgKeyPrefix}, sum[:msgKeyHash]...)
}

// isMsgKey says whether k is a version 10 Message-ID key.
func isMsgKey(k []byte) bool { return len(k) == 1+msgKeyHash && k[0] == msgKeyPrefix }

// msgIndex is a Message-ID index bucket (idx_message_id or seen) with keys of either
// form.
type msgIndex struct{ b *bbolt.Bucket }

// Get returns the value indexed under normalised Message-ID mid, or nil (also for an
// empty mid). The value is valid for the transaction's life only.
func (x msgIndex) Get(mid []byte) []byte {
	if len(mid) == 0 {
		return nil
	}
	if v := x.b.Get(msgKey(mid)); v != nil {
		return v
	}
	return x.b.Get(mid)
}

// Put indexes v under normalised Message-ID mid and removes an older key of it.
func (x msgIndex) Put(mid, v []byte) error {
	if schema9Keys {
		return x.b.Put(mid, v)
	}
	if err := x.b.Put(msgKey(mid), v); err != nil {
		return err
	}
	if x.b.Get(mid) != nil {
		return x.b.Delete(mid)
	}
	return nil
}

// idKey returns the version 10 key of id ("P17" → 17 as 8 bytes big-endian) when id is
// letter and a canonical decimal number, else id's text.
func idKey(id string, letter byte) []byte {
	if n, ok := idNumber(id, letter); ok {
		return u64(n)
	}
	return []byte(id)
}

// idIndex is an id index bucket (probe_ids, reply_ids, unmatched_ids) with keys of either
// form; letter is its ids' letter.
type idIndex struct {
	b      *bbolt.Bucket
	letter byte
}

// idIndexIn returns id index bucket name of tx, its ids' letter, set up for appending
// when tx is writable.
func idIndexIn(tx *bbolt.Tx, name []byte, letter byte) idIndex {
	b := tx.Bucket(name)
	if tx.Writable() {
		b.FillPercent = appendFill
	}
	return idIndex{b: b, letter: letter}
}

func probeIDs(tx *bbolt.Tx) idIndex     { return idIndexIn(tx, bProbeIDs, 'P') }
func replyIDs(tx *bbolt.Tx) idIndex     { return idIndexIn(tx, bReplyIDs, 'R') }
func unmatchedIDs(tx *bbolt.Tx) idIndex { return idIndexIn(tx, bUnmatchedIDs, 'U') }

// Get returns the key indexed under id, or nil; valid for the transaction's life only.
func (x idIndex) Get(id string) []byte {
	k := idKey(id, x.letter)
	if v := x.b.Get(k); v != nil || len(k) == len(id) && string(k) == id {
		return v
	}
	return x.b.Get([]byte(id))
}

// Put indexes v under id and removes an older key of it.
func (x idIndex) Put(id string, v []byte) error {
	k := idKey(id, x.letter)
	if schema9Keys {
		k = []byte(id)
	}
	if err := x.b.Put(k, v); err != nil {
		return err
	}
	if string(k) != id && x.b.Get([]byte(id)) != nil {
		return x.b.Delete([]byte(id))
	}
	return nil
}

// Delete removes id from the index, under either form of key.
func (x idIndex) Delete(id string) error {
	k := idKey(id, x.letter)
	if err := x.b.Delete(k); err != nil {
		return err
	}
	if string(k) != id {
		return x.b.Delete([]byte(id))
	}
	return nil
}

// messageIndex returns Message-ID index bucket name (bMessageID or bSeen) of tx.
func messageIndex(tx *bbolt.Tx, name []byte) msgIndex { return msgIndex{tx.Bucket(name)} }
