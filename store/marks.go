package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// FolderMark is where an IMAP folder stood at an instant: the folder's instance
// (UIDVALIDITY) and the UID its next message would get (UIDNEXT). Every message that
// lands in that folder instance after At has a UID of at least UIDNext, so a first sync
// that only wants mail since At can start at that UID instead of searching the folder.
type FolderMark struct {
	// At is our clock when the server's answer was in; it is the mark's key.
	At          time.Time `json:"-"`
	UIDValidity uint32    `json:"uidvalidity"`
	UIDNext     uint32    `json:"uidnext"`
}

// folderMarkKey is folder | 0x00 | at ns (8 B BE). An IMAP folder name never holds a NUL.
func folderMarkKey(folder string, at time.Time) []byte {
	return join(vendorPrefix(folder), timeKey(at))
}

func checkFolderName(folder string) error {
	if folder == "" || bytes.IndexByte([]byte(folder), 0) >= 0 {
		return fmt.Errorf("folder name %q: empty or holds a NUL byte, which no IMAP folder name does", folder)
	}
	return nil
}

// AddFolderMark stores m for folder. A mark of the same folder at the same instant, to
// the nanosecond, is replaced.
func (db *DB) AddFolderMark(folder string, m FolderMark) error {
	if err := checkFolderName(folder); err != nil {
		return fmt.Errorf("store folder mark: %w", err)
	}
	err := db.update(func(tx *bbolt.Tx) error {
		return putJSON(tx.Bucket(bFolderMarks), folderMarkKey(folder, m.At), m)
	})
	if err != nil {
		return fmt.Errorf("folder %s: store mark at %s: %w", folder, m.At.Format(time.RFC3339Nano), err)
	}
	return nil
}

// FolderMark returns the latest mark of folder taken at or before t (one cursor seek);
// ok is false when there is none.
func (db *DB) FolderMark(folder string, t time.Time) (m FolderMark, ok bool, err error) {
	if err := checkFolderName(folder); err != nil {
		return FolderMark{}, false, fmt.Errorf("read folder mark: %w", err)
	}
	prefix := vendorPrefix(folder)
	err = db.bolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bFolderMarks).Cursor()
		// The first key after t, then one back.
		k, v := c.Seek(join(prefix, u64(binary.BigEndian.Uint64(timeKey(t))+1)))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		if k == nil || len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("decode mark at key %x: %w", k, err)
		}
		m.At = time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefix):]))).UTC()
		ok = true
		return nil
	})
	if err != nil {
		return FolderMark{}, false, fmt.Errorf("folder %s: read mark at or before %s: %w", folder, t.Format(time.RFC3339Nano), err)
	}
	return m, ok, nil
}

// PruneFolderMarks deletes the marks that FolderMark can no longer return for any time at
// or after before: of each folder's marks taken at or before it, all but the latest. It
// returns how many it deleted.
func (db *DB) PruneFolderMarks(before time.Time) (int, error) {
	cutoff := binary.BigEndian.Uint64(timeKey(before))
	var n int
	err := db.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bFolderMarks)
		var doomed [][]byte
		var prev []byte // the previous key, if it is at or before the cutoff
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if len(k) < 9 {
				return fmt.Errorf("malformed folder mark key %x", k)
			}
			folder, at := k[:len(k)-9], binary.BigEndian.Uint64(k[len(k)-8:])
			if at > cutoff {
				prev = nil
				continue
			}
			if prev != nil && bytes.Equal(prev[:len(prev)-9], folder) {
				doomed = append(doomed, prev)
			}
			prev = bytes.Clone(k)
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune folder marks before %s: %w", before.Format(time.RFC3339Nano), err)
	}
	return n, nil
}
