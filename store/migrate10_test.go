package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/store"
	"supportprobe/store/storetest"
)

// migrate10ChildEnv names the file a child process of TestMigration10Batches migrates
// and is killed in.
const migrate10ChildEnv = "SUPPORTPROBE_TEST_MIGRATE10_CHILD"

// indexLookups answers, through db, every lookup the indexes of migration 10 serve for
// the history in ps and the unmatched mail in us: each probe by id and by Message-ID,
// each reply by id, by Message-ID in seen and in its probe's thread, each unmatched
// mail in seen. It fails the test on an error.
func indexLookups(t *testing.T, db *store.DB, records []storetest.Record, unmatched []string) string {
	t.Helper()
	var b strings.Builder
	for _, rec := range records {
		p, err := db.Probe(rec.Probe.ID)
		if err != nil {
			t.Fatalf("probe %s: %v", rec.Probe.ID, err)
		}
		byMID, err := db.ProbeByMessageID(rec.Probe.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s\n", p.ID, byMID, j)
		for _, r := range p.Replies {
			got, err := db.Reply(r.ID)
			if err != nil {
				t.Fatalf("reply %s: %v", r.ID, err)
			}
			seen, ok, err := db.Seen(r.MessageID)
			if err != nil {
				t.Fatal(err)
			}
			thread, err := db.ProbeByMessageID(r.MessageID)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  %s %s %s %v %s\n", got.ID, got.ProbeID, seen, ok, thread)
		}
	}
	for _, mid := range unmatched {
		seen, ok, err := db.Seen(mid)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "unmatched %s %v\n", seen, ok)
	}
	return b.String()
}

// TestMigration10Batches writes a realistic history with the index keys and records of
// schema 9 (Message-IDs and ids as text, terms inline, replies whole), makes it a
// schema 9 file, and checks that this version reads it unmigrated; then migrates a copy
// of it in parts of 40 keys or records in a child process killed (SIGKILL) right after
// its third part. The copy, left at version 9 with keys of both forms and the position
// of the next part in meta, answers every lookup and reads every probe as before; the
// next open goes on from there to version 10, with every key in the new form and every
// probe and reply record of format version 2, the same answers and probes, and new
// writes and duplicates detected as before.
func TestMigration10Batches(t *testing.T) {
	migrateAndDieInChild(t, migrate10ChildEnv)

	dir := t.TempDir()
	path := filepath.Join(dir, "supportprobe.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	restore := store.UseSchema9Format(true, true)
	g := storetest.NewGenerator(10, 5)
	at := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const n = 150
	var records []storetest.Record
	for k := range n {
		rec := g.Record("P"+strconv.Itoa(k+1), at.Add(time.Duration(k)*time.Hour))
		if err := storetest.Write(db, rec); err != nil {
			t.Fatal(err)
		}
		records = append(records, rec)
	}
	var unmatched []string
	for k := range 5 {
		mid := fmt.Sprintf("<newsletter-%d@lists.example>", k)
		if _, err := db.AddUnmatched(store.Unmatched{MessageID: mid, Folder: "INBOX", UID: uint32(900 + k)}, []byte("Subject: news\r\n\r\nhello\r\n")); err != nil {
			t.Fatal(err)
		}
		unmatched = append(unmatched, mid)
	}
	restore()
	if v10, older := db.IndexKeyForms(); v10 != 0 || older < 3*n {
		t.Fatalf("the schema 9 file has %d keys of version 10 and %d older, want 0 and many", v10, older)
	}
	if vs := db.RecordVersions("probes"); vs[1] != n || len(vs) != 1 {
		t.Fatalf("the schema 9 file's probe records by format version: %v, want all %d of version 1", vs, n)
	}
	replies := db.RecordVersions("replies")[1]
	if vs := db.RecordVersions("replies"); replies < n || len(vs) != 1 {
		t.Fatalf("the schema 9 file's reply records by format version: %v, want all of version 1", vs)
	}
	if err := db.SetSchemaVersion(9); err != nil {
		t.Fatal(err)
	}
	want := indexLookups(t, db, records, unmatched)
	if !strings.Contains(want, "unmatched U5 true") {
		t.Fatalf("lookups of the schema 9 file:\n%s", want)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// This version reads the schema 9 file as it is, without migrating it.
	db, err = store.OpenUnmigrated(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := indexLookups(t, db, records, unmatched); got != want {
		t.Errorf("the unmigrated schema 9 file reads differently:\n%s\nwant\n%s", got, want)
	}
	db.Close()

	// Migrate a copy, as an upgrade would the state directory, killed mid-way.
	migrated := filepath.Join(dir, "copy.db")
	copyFile(t, path, migrated)
	runMigrationChild(t, "TestMigration10Batches", migrate10ChildEnv, migrated)
	db, err = store.OpenUnmigrated(migrated)
	if err != nil {
		t.Fatal(err)
	}
	version, pos, ok := db.MigrationPosition()
	if !ok || version != 10 || len(pos) == 0 {
		t.Fatalf("after the crash: migration position %d %x %v, want one for version 10", version, pos, ok)
	}
	if v10, older := db.IndexKeyForms(); v10 != 3*40 || older == 0 {
		t.Errorf("after three parts of 40: %d keys of version 10 and %d older, want 120 and the rest", v10, older)
	}
	if got := indexLookups(t, db, records, unmatched); got != want {
		t.Errorf("the half-migrated file reads differently:\n%s\nwant\n%s", got, want)
	}
	db.Close()

	store.SetMigrationBatch(40)
	t.Cleanup(func() { store.SetMigrationBatch(10_000) })
	db, err = store.Open(migrated, store.Options{})
	if err != nil {
		t.Fatalf("open after the crash: %v", err)
	}
	defer db.Close()
	if _, _, ok := db.MigrationPosition(); ok {
		t.Error("the migration position is still in meta after the migration finished")
	}
	if v10, older := db.IndexKeyForms(); older != 0 || v10 < 3*n {
		t.Errorf("after migration 10: %d keys of version 10 and %d older, want none older", v10, older)
	}
	if vs := db.RecordVersions("probes"); vs[2] != n || len(vs) != 1 {
		t.Errorf("after migration 10, probe records by format version: %v, want all %d of version 2", vs, n)
	}
	if vs := db.RecordVersions("replies"); vs[2] != replies || len(vs) != 1 {
		t.Errorf("after migration 10, reply records by format version: %v, want all %d of version 2", vs, replies)
	}
	if got := indexLookups(t, db, records, unmatched); got != want {
		t.Errorf("the migrated file reads differently:\n%s\nwant\n%s", got, want)
	}
	// Writes after the migration: a new probe is indexed, mail already seen is refused.
	rec := g.Record("P"+strconv.Itoa(n+1), at.Add(n*time.Hour))
	if err := storetest.Write(db, rec); err != nil {
		t.Fatal(err)
	}
	if id, err := db.ProbeByMessageID(rec.Probe.MessageID); err != nil || id != rec.Probe.ID {
		t.Errorf("ProbeByMessageID(new probe) = %q, %v, want %s", id, err, rec.Probe.ID)
	}
	r := records[0]
	for _, rep := range records {
		if len(rep.Replies) > 0 {
			r = rep
			break
		}
	}
	if _, err := db.AddReply(r.Replies[0].Reply, r.Replies[0].Raw); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("AddReply of a reply recorded before the migration = %v, want ErrDuplicate", err)
	}
	if _, err := db.AddUnmatched(store.Unmatched{MessageID: unmatched[0]}, []byte("x")); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("AddUnmatched of mail recorded before the migration = %v, want ErrDuplicate", err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}
