package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// TestPauseResume sets a pause by hand, extends it, resumes it, and lists the pauses
// of a period: the ended pause stays on record with its end and who resumed it.
func TestPauseResume(t *testing.T) {
	db := mustOpen(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	p, err := db.SetPause(probe.Pause{Vendor: "acme", From: t0, Until: t0.Add(2 * time.Hour), Note: "migration", By: "lin", SetAt: t0})
	if err != nil {
		t.Fatalf("SetPause() = %v", err)
	}
	if p.Source != probe.PauseManual || !p.Until.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("SetPause() = %+v, want a manual pause until 11:00", p)
	}
	// A second pause while one is in force changes that one: here, until resumed.
	p, err = db.SetPause(probe.Pause{Vendor: "acme", From: t0.Add(time.Hour), By: "lin"})
	if err != nil {
		t.Fatalf("SetPause(extend) = %v", err)
	}
	if !p.From.Equal(t0) || !p.Until.IsZero() || p.Note != "migration" {
		t.Errorf("SetPause(extend) = %+v, want from 09:00, no end, note kept", p)
	}
	if _, err := db.Resume("lotus", t0.Add(3*time.Hour), "lin"); !errors.Is(err, ErrNotPaused) {
		t.Errorf("Resume(lotus) = %v, want ErrNotPaused", err)
	}
	r, err := db.Resume("acme", t0.Add(3*time.Hour), "kim")
	if err != nil {
		t.Fatalf("Resume(acme) = %v", err)
	}
	if !r.Until.Equal(t0.Add(3*time.Hour)) || r.ResumedBy != "kim" {
		t.Errorf("Resume(acme) = %+v, want until 12:00 by kim", r)
	}
	if _, err := db.Resume("acme", t0.Add(4*time.Hour), "kim"); !errors.Is(err, ErrNotPaused) {
		t.Errorf("second Resume(acme) = %v, want ErrNotPaused", err)
	}
	if _, err := db.SetPause(probe.Pause{Vendor: "lotus", From: t0.Add(5 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		vendor       string
		since, until time.Time
		want         int
	}{
		{"all", "", time.Time{}, time.Time{}, 2},
		{"acme", "acme", time.Time{}, time.Time{}, 1},
		{"before acme's", "acme", time.Time{}, t0, 0},
		{"after acme's ended", "acme", t0.Add(3 * time.Hour), time.Time{}, 0},
		{"overlapping acme's end", "acme", t0.Add(3*time.Hour - time.Second), time.Time{}, 1},
		{"lotus open-ended", "lotus", t0.AddDate(0, 1, 0), time.Time{}, 1},
		{"prefix is not a vendor", "acm", time.Time{}, time.Time{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := db.Pauses(tc.vendor, tc.since, tc.until)
			if err != nil || len(ps) != tc.want {
				t.Errorf("Pauses(%q, %v, %v) = %+v, %v; want %d", tc.vendor, tc.since, tc.until, ps, err, tc.want)
			}
		})
	}
}

// TestMigration6Pauses opens a file at schema version 5 (before pauses) and finds the
// pauses bucket created and usable.
func TestMigration6Pauses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Bolt().Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bPauses); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64(5))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(schema 5) = %v", err)
	}
	defer db2.Close()
	if v := readVersionOf(t, db2); v != SchemaVersion() || v < 6 {
		t.Errorf("schema version after migration = %d, want %d", v, SchemaVersion())
	}
	if _, err := db2.SetPause(probe.Pause{Vendor: "acme", From: time.Now()}); err != nil {
		t.Errorf("SetPause after migration = %v", err)
	}
	if err := db2.Check(); err != nil {
		t.Error(err)
	}
}
