package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotFound means no record has the given id.
	ErrNotFound = errors.New("not found")
	// ErrTooNew means the file was written by a newer supportprobe.
	ErrTooNew = errors.New("database written by a newer supportprobe")
	// ErrLocked means another process holds the database open for writing.
	ErrLocked = errors.New("database is locked by another process")
	// ErrNoDatabase means a read-only open found no file.
	ErrNoDatabase = errors.New("no database yet")
	// ErrDuplicate means an inbound message was already recorded.
	ErrDuplicate = errors.New("message already recorded")
	// ErrArrivedBefore means a link was refused because the mail arrived before the
	// probe's inquiry was sent (beyond probe.ArrivalTolerance): it cannot answer it.
	ErrArrivedBefore = errors.New("arrived before the inquiry was sent")
	// ErrNotPaused means a resume found no pause set by hand in force for the vendor.
	ErrNotPaused = errors.New("not paused")
)

var (
	bMeta         = []byte("meta")
	bProbes       = []byte("probes")
	bProbeIDs     = []byte("probe_ids")
	bVendorTime   = []byte("idx_vendor_time")
	bMessageID    = []byte("idx_message_id")
	bToken        = []byte("idx_token")
	bTicket       = []byte("idx_ticket")
	bReplies      = []byte("replies")
	bReplyIDs     = []byte("reply_ids")
	bSeen         = []byte("seen")
	bUnmatched    = []byte("unmatched")
	bUnmatchedIDs = []byte("unmatched_ids")
	bRaw          = []byte("raw")
	bMailboxes    = []byte("mailboxes")
	bSummaries    = []byte("summaries")

	bFires     = []byte("fires")
	bFireMarks = []byte("fire_marks")
	bPending   = []byte("pending")

	bFolderMarks = []byte("folder_marks")

	bAudit = []byte("audit")

	bAlerts          = []byte("alerts")
	bAlertOrder      = []byte("alert_order")
	bAlertDue        = []byte("alert_due")
	bAlertConditions = []byte("alert_conditions")

	bPauses = []byte("pauses")

	keySchemaVersion = []byte("schema_version")
	keyMessageIDKey  = []byte("message_id_key")
)

// DB is an open supportprobe database. It is safe for concurrent use. Callers must call
// Close.
type DB struct {
	bolt     *bbolt.DB
	path     string
	readOnly bool
	now      func() time.Time

	rawOnce sync.Once
	rawc    *rawCodec // compression of raw copies (dict.go); use codec()
	// gen counts the writes of probe and reply records (RecordsGeneration).
	gen atomic.Uint64
}

// Options tunes Open. The zero value is the production setting.
type Options struct {
	// ReadOnly opens with a shared lock, so several readers may share the file while no
	// daemon writes to it. A missing file is ErrNoDatabase.
	ReadOnly bool
	// LockTimeout bounds the wait for bbolt's file lock; default 1 s. Without a bound a
	// second opener would hang for as long as the first keeps the file.
	LockTimeout time.Duration
	// Now is the clock used for record times; default time.Now.
	Now func() time.Time
	// PageSize is bbolt's page size for a new file (an existing file keeps its own);
	// default DefaultPageSize.
	PageSize int
}

// DefaultPageSize is the page size of a new file. bbolt splits a page only when it
// overflows and keeps at least two keys on the right of every split, so pages of
// values near 1 KB (raw copies, records) stay 60–65% full in the operating system's
// 4 KB pages whatever their fill setting; in 16 KB pages they reach 80–95%. A commit
// then writes 16 KB per page it changes instead of 4 KB, which at the daemon's few
// writes a minute does not matter. Measured in BenchmarkStoreDaemonWrites.
const DefaultPageSize = 16 << 10

// Open opens the database at path, creating it (mode 0600, and its directory 0700) when
// it does not exist and opts.ReadOnly is false, and runs pending migrations. It returns
// ErrLocked when another process holds the file, ErrTooNew when a newer supportprobe
// wrote it, and ErrNoDatabase for a read-only open of a missing file.
func Open(path string, opts Options) (*DB, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("open database %s: %w", path, ErrNoDatabase)
		}
	} else if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open database %s: create its directory: %w", path, err)
	}
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly, PageSize: opts.PageSize})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open database %s: %w (is `supportprobe run` using it? stop it, or let the CLI reach it through its control socket)", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path, readOnly: opts.ReadOnly, now: opts.Now}
	if err := db.migrate(); err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

// update runs fn in a write transaction.
func (db *DB) update(fn func(*bbolt.Tx) error) error { return db.bolt.Update(fn) }

// updateRecords is update for the writes that change a probe or reply record
// (creating, updating, linking, deciding, checking); once fn's transaction committed it
// counts it in gen. Every write to the probes or replies buckets goes through it, so
// that RecordsGeneration misses none.
func (db *DB) updateRecords(fn func(*bbolt.Tx) error) error {
	err := db.bolt.Update(fn)
	if err == nil {
		db.gen.Add(1)
	}
	return err
}

// RecordsGeneration returns the number of writes to probe and reply records committed
// through db since it was opened (writes to indexes, raw copies, alerts and the like
// are not counted). While it has not changed, no probe or reply in the file has: a
// writer holds bbolt's exclusive lock, so no other process writes while db is open, and
// a read-only db shares its lock only with other readers. A caller may therefore keep
// probes it read and reuse them while RecordsGeneration returns the value it read at.
func (db *DB) RecordsGeneration() uint64 { return db.gen.Load() }

// Path returns the file the database lives in.
func (db *DB) Path() string { return db.path }

// Close releases the file. It is safe to call more than once.
func (db *DB) Close() error {
	if db == nil || db.bolt == nil {
		return nil
	}
	db.codec().close() // a dictionary training under way finishes first
	return db.bolt.Close()
}

// Check runs bbolt's consistency check over the whole file and returns every problem it
// finds, joined; nil means the file is sound.
func (db *DB) Check() error {
	var errs []error
	err := db.bolt.View(func(tx *bbolt.Tx) error {
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return nil
	})
	return errors.Join(append(errs, err)...)
}

// Bolt returns the underlying bbolt handle, for tests and migrations only.
func (db *DB) Bolt() *bbolt.DB { return db.bolt }

// u64 encodes v as 8 big-endian bytes, the key form that sorts numerically.
func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// timeKey encodes t as nanoseconds since the Unix epoch, clamped at zero.
func timeKey(t time.Time) []byte {
	n := t.UnixNano()
	if n < 0 || t.IsZero() {
		n = 0
	}
	return u64(uint64(n))
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// vendorPrefix is the index prefix of one vendor: its name and a 0x00 separator, which
// never occurs in a validated vendor name.
func vendorPrefix(vendor string) []byte { return append([]byte(vendor), 0) }

// NormalizeMessageID returns id without surrounding spaces and angle brackets, in lower
// case, the form message IDs are indexed under. The local part of a Message-ID is case
// sensitive in theory; in practice help desks change its case, and a collision between
// two IDs differing only in case is far less likely than that.
func NormalizeMessageID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	return strings.ToLower(strings.TrimSpace(id))
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// newID makes a short, typeable id ("P17") from a bucket's sequence.
func newID(prefix string, b *bbolt.Bucket) (string, uint64, error) {
	seq, err := b.NextSequence()
	if err != nil {
		return "", 0, err
	}
	return prefix + strconv.FormatUint(seq, 10), seq, nil
}

// appendFill is how full bbolt packs the pages it splits in a bucket whose keys arrive
// in ascending order (time-keyed: probes, idx_vendor_time per vendor, unmatched; and
// replies, keyed by their probe's key, nearly so).
// bbolt's default, 0.5, suits random inserts, which later fill the free half; appended
// keys never come back to it, so such a bucket stayed about 40% full. The rest of each
// page is room for an updated value to grow in place.
const appendFill = 0.9

// appending returns bucket name of tx set up for ascending inserts (appendFill).
func appending(tx *bbolt.Tx, name []byte) *bbolt.Bucket {
	b := tx.Bucket(name)
	b.FillPercent = appendFill
	return b
}

// lookup returns a copy of the value under key, or nil.
func lookup(b *bbolt.Bucket, key []byte) []byte {
	v := b.Get(key)
	if v == nil {
		return nil
	}
	return bytes.Clone(v)
}
