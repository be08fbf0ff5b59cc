package store_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// copyFile copies the database file src to dst, as a backup of a state directory would.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every copy h wrote back through db and fails on any byte that differs;
// it returns how many copies were read from the raw bucket of schema 8 and how many
// from the buckets of schema 9, and how many of format 3.
func readAll(t *testing.T, db *store.DB, want map[string][]byte) (old, perKind, ref int) {
	t.Helper()
	for key, data := range want {
		var raw store.Raw
		var err error
		switch kind, id, _ := strings.Cut(key, "/"); kind {
		case "inquiry":
			raw, err = db.InquiryRaw(id)
		case "reply":
			raw, err = db.ReplyRaw(id)
		case "unmatched":
			raw, err = db.UnmatchedRaw(id)
		}
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		if !bytes.Equal(raw.Data, data) || raw.Size != len(data) || raw.Truncated {
			t.Fatalf("%s read back as %d bytes (size %d, truncated %v), not the %d bytes written", key, len(raw.Data), raw.Size, raw.Truncated, len(data))
		}
		if db.RawInOldBucket(key) {
			old++
		} else {
			perKind++
		}
		if v := db.RawValue(key); store.RawRef(v) != "" {
			ref++
		}
	}
	return old, perKind, ref
}

// writeRecords writes n realistic records from P(first) on, as the daemon does, and
// records every copy's bytes in want by its store name ("reply/R7").
func writeRecords(t *testing.T, db *store.DB, g *storetest.Generator, first, n int, at time.Time, want map[string][]byte) time.Time {
	t.Helper()
	for i := first; i < first+n; i++ {
		at = at.Add(13 * time.Minute)
		rec := g.Record("P"+strconv.Itoa(i), at)
		if err := storetest.Write(db, rec); err != nil {
			t.Fatal(err)
		}
		db.WaitRawTraining()
		p, err := db.Probe(rec.Probe.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Inquiry != nil {
			want["inquiry/"+p.ID] = rec.Inquiry
		}
		for j, f := range rec.Followups {
			want["inquiry/"+p.ID+"/followup/"+strconv.Itoa(j)] = f
		}
		for _, r := range p.Replies {
			for _, rr := range rec.Replies {
				if rr.Reply.MessageID == r.MessageID {
					want["reply/"+r.ID] = rr.Raw
				}
			}
		}
	}
	return at
}

// TestMigration9RawLayout makes a state directory as schema 8 wrote it (every copy in
// the one raw bucket under its name, zstd with a trained dictionary and some gzip'd by
// older versions still), copies the database as a backup would, and opens the copy
// with this version: migration 9 leaves every old copy where it is, byte for byte, new
// copies go to the buckets per kind (replies compressed against their inquiry, also one
// still in the old bucket), a reply linked by hand moves from the old bucket to the new
// one, and all of it reads back exactly, before and after reopening; the original file
// is left as it was.
func TestMigration9RawLayout(t *testing.T) {
	dir := t.TempDir()
	orig := filepath.Join(dir, "state", "supportprobe.db")
	db, err := store.Open(orig, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	g := storetest.NewGenerator(9, 5)
	at := time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC)
	db.UseLegacyRawKeys(true) // as schema 8 wrote
	db.UseGzipRaw(true)       // the oldest copies: gzip'd alone
	at = writeRecords(t, db, g, 1, 20, at, want)
	db.UseGzipRaw(false)
	db.UseRawRefs(false)
	at = writeRecords(t, db, g, 21, 110, at, want) // past 200 copies: a dictionary
	lost, err := db.AddUnmatched(store.Unmatched{MessageID: "<lost.1@vendor01.example>", Kind: probe.KindHuman, Reason: "no evidence"}, []byte("Subject: lost\r\n\r\nwhere does this go?\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	want["unmatched/"+lost.ID] = []byte("Subject: lost\r\n\r\nwhere does this go?\r\n")
	if dicts, err := db.RawDicts(); err != nil || len(dicts) == 0 {
		t.Fatalf("schema 8 file: dictionaries %v, %v; want one trained", dicts, err)
	}
	if err := db.SetSchemaVersion(8); err != nil {
		t.Fatal(err)
	}
	if old, perKind, _ := readAll(t, db, want); perKind != 0 || old != len(want) {
		t.Fatalf("schema 8 file: %d copies in the raw bucket, %d elsewhere; want all %d in the raw bucket", old, perKind, len(want))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	origBytes, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}

	backup := filepath.Join(dir, "copy", "supportprobe.db")
	if err := os.MkdirAll(filepath.Dir(backup), 0o700); err != nil {
		t.Fatal(err)
	}
	copyFile(t, orig, backup)
	db, err = store.Open(backup, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if old, perKind, _ := readAll(t, db, want); old != len(want) || perKind != 0 {
		t.Fatalf("migrated: %d copies in the raw bucket, %d elsewhere; want all %d left where they were", old, perKind, len(want))
	}

	// A reply to an old probe, whose inquiry is in the old bucket, and new probes.
	p5, err := db.Probe("P25")
	if err != nil {
		t.Fatal(err)
	}
	late := []byte(strings.Replace(string(want["inquiry/P25"]), "Subject: ", "Subject: Re: ", 1) + "\r\n\r\nStill broken on our side?\r\n")
	r, err := db.AddReply(probe.Reply{ProbeID: p5.ID, MessageID: "<late.1@vendor.example>", Kind: probe.KindHuman, MatchedBy: probe.RungToken, ReceivedAt: at}, late)
	if err != nil {
		t.Fatal(err)
	}
	want["reply/"+r.ID] = late
	if got := store.RawRef(db.RawValue("reply/" + r.ID)); got != "inquiry/P25" {
		t.Errorf("late reply %s compressed against %q, want inquiry/P25 (in the old bucket)", r.ID, got)
	}
	at = writeRecords(t, db, g, 131, 40, at, want)
	// Link an old reply (in the old bucket) and the old unmatched mail to a new probe.
	var oldReply string
	for key := range want {
		if strings.HasPrefix(key, "reply/") && db.RawInOldBucket(key) {
			oldReply = strings.TrimPrefix(key, "reply/")
			break
		}
	}
	for _, id := range []string{oldReply, lost.ID} {
		kind := map[byte]string{'R': "reply/", 'U': "unmatched/"}[id[0]]
		data := want[kind+id]
		linked, err := db.Link(id, "P170", store.LinkOptions{By: "lin", Note: "test", Force: true})
		if err != nil {
			t.Fatal(err)
		}
		delete(want, kind+id)
		want["reply/"+linked.ID] = data
		if db.RawInOldBucket("reply/"+linked.ID) || db.RawValue(kind+id) != nil {
			t.Errorf("linked %s → %s: the copy stayed in the old bucket or under its old name", id, linked.ID)
		}
	}
	old, perKind, ref := readAll(t, db, want)
	t.Logf("after migration and new mail: %d copies in the raw bucket, %d in the buckets per kind, %d compressed against their inquiry", old, perKind, ref)
	if old == 0 || perKind == 0 || ref == 0 {
		t.Errorf("want copies in both layouts and some of format 3; have %d, %d, %d", old, perKind, ref)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(backup, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if o, p, r := readAll(t, db, want); o != old || p != perKind || r != ref {
		t.Errorf("after reopening: %d, %d, %d copies; before %d, %d, %d", o, p, r, old, perKind, ref)
	}
	db.Close()
	if now, err := os.ReadFile(orig); err != nil || !bytes.Equal(now, origBytes) {
		t.Errorf("the original file changed (%v)", err)
	}
}

// TestRawRefInquiryRewritten: a reply stored against its probe's inquiry stays
// readable byte for byte when the inquiry is written again with other bytes (the
// daemon does not, once the probe is sent; this is the safeguard), and a reply to a
// probe still sending is stored on its own. DecodeRaw, without the database, refuses a
// copy of format 3 with an error that says how to read it.
func TestRawRefInquiryRewritten(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "supportprobe.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := map[string][]byte{}
	g := storetest.NewGenerator(3, 4)
	at := writeRecords(t, db, g, 1, 90, time.Date(2026, 10, 5, 8, 0, 0, 0, time.UTC), want)
	var rid string
	for key := range want {
		if v := db.RawValue(key); strings.HasPrefix(key, "reply/") && store.RawRef(v) != "" {
			rid = strings.TrimPrefix(key, "reply/")
			break
		}
	}
	if rid == "" {
		t.Fatal("no reply stored against its inquiry")
	}
	r, err := db.Reply(rid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.DecodeRaw(db.RawValue("reply/" + rid)); err == nil || !strings.Contains(err.Error(), "through its database") {
		t.Errorf("DecodeRaw(format 3) = %v, want an error saying to read it through its database", err)
	}
	changed := append(bytes.Clone(want["inquiry/"+r.ProbeID]), "X-Retry: 2\r\n"...)
	if err := db.PutInquiryRaw(r.ProbeID, changed); err != nil {
		t.Fatal(err)
	}
	want["inquiry/"+r.ProbeID] = changed
	if ref := store.RawRef(db.RawValue("reply/" + rid)); ref != "" {
		t.Errorf("reply %s still refers to %s after the inquiry was replaced", rid, ref)
	}
	readAll(t, db, want)

	// A probe in state sending: a reply that arrives is stored on its own.
	p, err := db.CreateProbe(probe.Probe{Vendor: "vendor01", Script: "s", State: probe.StateSending, CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutInquiryRaw(p.ID, want["inquiry/P1"]); err != nil {
		t.Fatal(err)
	}
	early, err := db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "<early@vendor01.example>", Kind: probe.KindAutoAck, MatchedBy: probe.RungMessageID}, want["inquiry/P1"])
	if err != nil {
		t.Fatal(err)
	}
	if ref := store.RawRef(db.RawValue("reply/" + early.ID)); ref != "" {
		t.Errorf("reply %s to probe %s, still sending, was compressed against %s", early.ID, p.ID, ref)
	}
	if !errors.Is(func() error { _, err := db.ReplyRaw("R999999"); return err }(), store.ErrNotFound) {
		t.Error("ReplyRaw of an unknown reply is not ErrNotFound")
	}
}
