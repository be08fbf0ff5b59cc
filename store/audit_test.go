package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// TestAuditChain: every append is chained to the entry before it (seq, prev = its hash),
// pauses and resumes are appended with the pause itself, and the log verifies.
func TestAuditChain(t *testing.T) {
	db := mustOpen(t)
	if _, err := db.AddAudit(probe.Correction{Action: probe.CorrectionReload, At: t0, File: "supportprobe.yaml", ConfigSHA256: strings.Repeat("ab", 32)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetPause(probe.Pause{Vendor: "acme", From: t0.Add(time.Hour), Note: "freeze", By: "ops"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Resume("acme", t0.Add(2*time.Hour), "ops2"); err != nil {
		t.Fatal(err)
	}
	log, err := db.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 {
		t.Fatalf("AuditLog() has %d entries, want 3: %+v", len(log), log)
	}
	wantActions := []string{probe.CorrectionReload, probe.CorrectionPause, probe.CorrectionResume}
	prev := ""
	for i, c := range log {
		if c.Action != wantActions[i] || c.Seq != uint64(i+1) || c.Prev != prev || len(c.Hash) != 64 {
			t.Errorf("entry %d = action %s seq %d prev %q hash %q; want action %s seq %d prev %q", i, c.Action, c.Seq, c.Prev, c.Hash, wantActions[i], i+1, prev)
		}
		prev = c.Hash
	}
	if log[1].Vendor != "acme" || log[1].By != "ops" || log[1].Note != "freeze" || !log[1].At.Equal(t0.Add(time.Hour)) {
		t.Errorf("pause entry = %+v", log[1])
	}
	if log[2].Vendor != "acme" || log[2].By != "ops2" || !log[2].At.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("resume entry = %+v", log[2])
	}
	if err := probe.VerifyEntries(log); err != nil {
		t.Errorf("VerifyEntries(fresh log) = %v", err)
	}
	// Corrections by hand stay what they were: reloads and pauses are not among them.
	if cs, err := db.Corrections(""); err != nil || len(cs) != 0 {
		t.Errorf("Corrections(\"\") = %v, %v; want none", cs, err)
	}
}

// TestAuditTamperDetected: an entry changed in the bbolt file, or removed, breaks the
// chain at that entry.
func TestAuditTamperDetected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(b *bbolt.Bucket) error
		want   string
	}{
		{"note changed", func(b *bbolt.Bucket) error {
			v := b.Get(u64(2))
			return b.Put(u64(2), bytes.Replace(v, []byte(`"note":"second"`), []byte(`"note":"forged"`), 1))
		}, "entry seq 2 (A2)"},
		{"entry removed", func(b *bbolt.Bucket) error { return b.Delete(u64(2)) }, "entry seq 3 (A3)"},
		{"hash rewritten too", func(b *bbolt.Bucket) error {
			var c probe.Correction
			if err := json.Unmarshal(b.Get(u64(2)), &c); err != nil {
				return err
			}
			c.Note = "forged"
			if err := c.Chain(c.Seq, c.Prev); err != nil {
				return err
			}
			return putJSON(b, u64(2), c)
		}, "entry seq 3 (A3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := mustOpen(t)
			for i, note := range []string{"first", "second", "third"} {
				if _, err := db.AddAudit(probe.Correction{Action: probe.CorrectionReload, At: t0.Add(time.Duration(i) * time.Minute), Note: note}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Bolt().Update(func(tx *bbolt.Tx) error { return tc.tamper(tx.Bucket(bAudit)) }); err != nil {
				t.Fatal(err)
			}
			log, err := db.AuditLog()
			if err != nil {
				t.Fatal(err)
			}
			err = probe.VerifyEntries(log)
			if !errors.Is(err, probe.ErrAuditBroken) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("VerifyEntries(tampered) = %v; want ErrAuditBroken at %s", err, tc.want)
			}
		})
	}
}

// TestMigration7ChainsOldAudit: a version-6 file whose audit bucket holds corrections
// written before the chain opens, its entries chained in the order written with their
// ids and content unchanged, and later entries chain onto them.
func TestMigration7ChainsOldAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	b, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What a version-6 binary wrote: migrations 1 to 6, then corrections as plain JSON
	// without seq, prev or hash, keyed by the bucket's sequence.
	old := []string{
		`{"id":"A1","action":"mark","at":"2026-11-02T11:00:00Z","by":"ann","note":"a person","reply":"R1","to_probe":"P1","kind_before":"auto_ack","kind_after":"human"}`,
		`{"id":"A2","action":"link","at":"2026-11-02T12:00:00Z","by":"bob","message_id":"<x@vendor.example>","reply":"R2","was_id":"U1","to_probe":"P1"}`,
	}
	if err := b.Update(func(tx *bbolt.Tx) error {
		for _, m := range migrations[:6] {
			if err := m.apply(tx); err != nil {
				return err
			}
		}
		a := tx.Bucket(bAudit)
		for _, v := range old {
			seq, err := a.NextSequence()
			if err != nil {
				return err
			}
			if err := a.Put(u64(seq), []byte(v)); err != nil {
				return err
			}
		}
		meta, err := tx.CreateBucketIfNotExists(bMeta)
		if err != nil {
			return err
		}
		return meta.Put(keySchemaVersion, u64(6))
	}); err != nil {
		t.Fatal(err)
	}
	b.Close()

	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(schema 6) = %v", err)
	}
	defer db.Close()
	if v := readVersionOf(t, db); v != SchemaVersion() || v < 7 {
		t.Errorf("schema version after migration = %d, want %d", v, SchemaVersion())
	}
	log, err := db.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].ID != "A1" || log[1].ID != "A2" || log[0].Note != "a person" || log[1].MessageID != "<x@vendor.example>" {
		t.Fatalf("migrated log = %+v", log)
	}
	if log[0].Seq != 1 || log[0].Prev != "" || log[1].Seq != 2 || log[1].Prev != log[0].Hash {
		t.Errorf("migrated chain fields: %d %q / %d %q", log[0].Seq, log[0].Prev, log[1].Seq, log[1].Prev)
	}
	if err := probe.VerifyEntries(log); err != nil {
		t.Errorf("VerifyEntries(migrated) = %v", err)
	}
	// The migration keeps the content: the body digest is that of the old record.
	var oldFirst probe.Correction
	if err := json.Unmarshal([]byte(old[0]), &oldFirst); err != nil {
		t.Fatal(err)
	}
	d0, _ := oldFirst.BodyDigest()
	d1, _ := log[0].BodyDigest()
	if d0 != d1 {
		t.Errorf("migrated A1's body digest %s, the old record's %s", d1, d0)
	}
	if cs, err := db.Corrections("P1"); err != nil || len(cs) != 2 {
		t.Errorf("Corrections(P1) after migration = %v, %v; want both", cs, err)
	}
	c, err := db.AddAudit(probe.Correction{Action: probe.CorrectionReload, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "A3" || c.Seq != 3 || c.Prev != log[1].Hash {
		t.Errorf("entry after migration = id %s seq %d prev %q; want A3, 3, %q", c.ID, c.Seq, c.Prev, log[1].Hash)
	}
	all, _ := db.AuditLog()
	if err := probe.VerifyEntries(all); err != nil {
		t.Errorf("VerifyEntries(after append) = %v", err)
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

// BenchmarkAuditVerify reads and verifies a log of 10,000 entries, what `audit` and
// every export do.
func BenchmarkAuditVerify(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	err = db.Bolt().Update(func(tx *bbolt.Tx) error {
		for i := range 10000 {
			if _, err := addCorrection(tx, probe.Correction{Action: probe.CorrectionMark, At: t0.Add(time.Duration(i) * time.Second),
				By: "ann", Note: "a person's answer", Reply: "R1", ToProbe: "P1", FromProbe: "P1", KindAfter: probe.KindHuman}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		log, err := db.AuditLog()
		if err != nil {
			b.Fatal(err)
		}
		if err := probe.VerifyEntries(log); err != nil {
			b.Fatal(err)
		}
	}
}
