package store

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

func TestFolderMarks(t *testing.T) {
	db := mustOpen(t)
	add := func(folder string, at time.Time, validity, next uint32) {
		t.Helper()
		if err := db.AddFolderMark(folder, FolderMark{At: at, UIDValidity: validity, UIDNext: next}); err != nil {
			t.Fatalf("AddFolderMark(%s, %v) = %v", folder, at, err)
		}
	}
	add("INBOX", t0, 7, 100)
	add("INBOX", t0.Add(time.Hour), 7, 120)
	add("INBOX", t0.Add(2*time.Hour), 8, 5)
	// Folders whose names extend another's must not leak into it.
	add("INBOX2", t0.Add(90*time.Minute), 1, 999)
	add("INBO", t0.Add(90*time.Minute), 1, 998)
	add("Junk", t0.Add(30*time.Minute), 3, 40)

	tests := []struct {
		name   string
		folder string
		at     time.Time
		want   FolderMark
		ok     bool
	}{
		{"before every mark", "INBOX", t0.Add(-time.Nanosecond), FolderMark{}, false},
		{"exactly at a mark", "INBOX", t0, FolderMark{At: t0, UIDValidity: 7, UIDNext: 100}, true},
		{"between two marks", "INBOX", t0.Add(time.Hour + 30*time.Minute), FolderMark{At: t0.Add(time.Hour), UIDValidity: 7, UIDNext: 120}, true},
		{"after the last mark", "INBOX", t0.Add(48 * time.Hour), FolderMark{At: t0.Add(2 * time.Hour), UIDValidity: 8, UIDNext: 5}, true},
		{"the last folder in the bucket", "Junk", t0.Add(time.Hour), FolderMark{At: t0.Add(30 * time.Minute), UIDValidity: 3, UIDNext: 40}, true},
		{"a folder whose name a marked one extends", "INB", t0.Add(48 * time.Hour), FolderMark{}, false},
		{"a folder without marks", "Archive", t0.Add(48 * time.Hour), FolderMark{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := db.FolderMark(tt.folder, tt.at)
			if err != nil || ok != tt.ok || !got.At.Equal(tt.want.At) || got.UIDValidity != tt.want.UIDValidity || got.UIDNext != tt.want.UIDNext {
				t.Errorf("FolderMark(%s, %v) = %+v, %v, %v; want %+v, %v", tt.folder, tt.at, got, ok, err, tt.want, tt.ok)
			}
		})
	}

	for _, bad := range []string{"", "IN\x00BOX"} {
		if err := db.AddFolderMark(bad, FolderMark{At: t0}); err == nil || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("AddFolderMark(%q) = %v, want an error about the folder name", bad, err)
		}
		if _, _, err := db.FolderMark(bad, t0); err == nil {
			t.Errorf("FolderMark(%q) = nil error, want one", bad)
		}
	}
}

func TestPruneFolderMarks(t *testing.T) {
	db := mustOpen(t)
	for i := range 5 {
		db.AddFolderMark("INBOX", FolderMark{At: t0.Add(time.Duration(i) * time.Hour), UIDValidity: 7, UIDNext: uint32(100 + i)})
	}
	db.AddFolderMark("Junk", FolderMark{At: t0, UIDValidity: 3, UIDNext: 1})
	db.AddFolderMark("Junk", FolderMark{At: t0.Add(10 * time.Hour), UIDValidity: 3, UIDNext: 2})

	// Cut off at +2h30m: INBOX's marks at 0 and +1h go, +2h stays (the latest before the
	// cut); Junk's mark at 0 is its latest before the cut and stays.
	n, err := db.PruneFolderMarks(t0.Add(150 * time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PruneFolderMarks = %d, %v; want 2 deleted", n, err)
	}
	for _, tt := range []struct {
		folder string
		at     time.Time
		next   uint32
		ok     bool
	}{
		{"INBOX", t0.Add(90 * time.Minute), 0, false},
		{"INBOX", t0.Add(150 * time.Minute), 102, true},
		{"INBOX", t0.Add(5 * time.Hour), 104, true},
		{"Junk", t0.Add(5 * time.Hour), 1, true},
		{"Junk", t0.Add(11 * time.Hour), 2, true},
	} {
		m, ok, err := db.FolderMark(tt.folder, tt.at)
		if err != nil || ok != tt.ok || m.UIDNext != tt.next {
			t.Errorf("after pruning, FolderMark(%s, %v) = %+v, %v, %v; want UIDNEXT %d, %v", tt.folder, tt.at, m, ok, err, tt.next, tt.ok)
		}
	}
	if n, err := db.PruneFolderMarks(t0.Add(150 * time.Minute)); err != nil || n != 0 {
		t.Errorf("PruneFolderMarks again = %d, %v; want 0", n, err)
	}
}

// TestMigration3FolderMarks opens a file at schema version 2 holding a probe: migration 3
// adds the folder_marks bucket and keeps the data.
func TestMigration3FolderMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSent})
	db.Close()

	// Back to version 2, without the bucket, as the previous release wrote it.
	b, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bFolderMarks); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64(2))
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()

	db, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(version 2) = %v", err)
	}
	defer db.Close()
	db.Bolt().View(func(tx *bbolt.Tx) error {
		if v := readVersion(tx); v != SchemaVersion() {
			t.Errorf("schema version after migrating = %d, want %d (every migration from 3 on applied)", v, SchemaVersion())
		}
		if tx.Bucket(bFolderMarks) == nil {
			t.Error("no folder_marks bucket after migration 3")
		}
		return nil
	})
	if got, err := db.Probe(p.ID); err != nil || got.Vendor != "acme" {
		t.Errorf("Probe(%s) after migration 3 = %+v, %v; want the probe kept", p.ID, got, err)
	}
	if err := db.AddFolderMark("INBOX", FolderMark{At: t0, UIDValidity: 1, UIDNext: 2}); err != nil {
		t.Errorf("AddFolderMark after migration 3 = %v", err)
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

// TestFolderRole: the folder a special-use entry named is kept beside the positions,
// under a key no folder name can take, and replaced when the entry names another.
func TestFolderRole(t *testing.T) {
	db := mustOpen(t)
	if f, ok, err := db.FolderRole(`\Junk`); ok || err != nil {
		t.Fatalf("FolderRole(new) = %q, %v, %v; want none", f, ok, err)
	}
	for _, folder := range []string{"Junk Email", "Junk-E-Mail"} {
		if err := db.SetFolderRole(`\Junk`, folder); err != nil {
			t.Fatal(err)
		}
		if f, ok, err := db.FolderRole(`\Junk`); !ok || err != nil || f != folder {
			t.Errorf("FolderRole = %q, %v, %v; want %q", f, ok, err, folder)
		}
	}
	// A folder literally named like the entry keeps its own position.
	db.SetMailbox(`\Junk`, MailboxState{UIDValidity: 3, LastUID: 9})
	if f, _, _ := db.FolderRole(`\Junk`); f != "Junk-E-Mail" {
		t.Errorf("FolderRole after SetMailbox(\\Junk) = %q, want Junk-E-Mail", f)
	}
	if err := db.SetFolderRole(`\Junk`, "bad\x00name"); err == nil {
		t.Error("SetFolderRole(a name with NUL) = nil, want an error")
	}
}
