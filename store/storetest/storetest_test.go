package storetest

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
)

// TestWriteReadsBack writes records through the public API and reads them back: every
// probe with its replies, its Message-ID indexed, its raw copies byte for byte.
func TestWriteReadsBack(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := NewGenerator(1, 3)
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var recs []Record
	for i := range 60 {
		rec := g.Record("P"+strconv.Itoa(i+1), start.Add(time.Duration(i)*time.Hour))
		if err := Write(db, rec); err != nil {
			t.Fatalf("Write(%s) = %v", rec.Probe.ID, err)
		}
		recs = append(recs, rec)
	}
	ps, err := db.Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(recs) {
		t.Fatalf("Probes() = %d probes, want %d", len(ps), len(recs))
	}
	kinds := map[probe.Kind]int{}
	for i, p := range ps {
		rec := recs[i]
		if p.ID != rec.Probe.ID || p.MessageID != rec.Probe.MessageID || len(p.Replies) != len(rec.Replies) {
			t.Fatalf("probe %d = %s %s with %d replies, want %s %s with %d", i, p.ID, p.MessageID, len(p.Replies), rec.Probe.ID, rec.Probe.MessageID, len(rec.Replies))
		}
		if id, _ := db.ProbeByMessageID(p.MessageID); p.MessageID != "" && id != p.ID {
			t.Errorf("ProbeByMessageID(%s) = %q, want %s", p.MessageID, id, p.ID)
		}
		if rec.Inquiry != nil {
			raw, err := db.InquiryRaw(p.ID)
			if err != nil || !bytes.Equal(raw.Data, rec.Inquiry) {
				t.Errorf("InquiryRaw(%s) = %d bytes, %v; want the %d bytes written", p.ID, len(raw.Data), err, len(rec.Inquiry))
			}
		}
		for j, r := range p.Replies {
			kinds[r.Kind]++
			raw, err := db.ReplyRaw(r.ID)
			if err != nil || !bytes.Equal(raw.Data, rec.Replies[j].Raw) {
				t.Errorf("ReplyRaw(%s) = %d bytes, %v; want the %d bytes written", r.ID, len(raw.Data), err, len(rec.Replies[j].Raw))
			}
		}
	}
	if kinds[probe.KindHuman] == 0 || kinds[probe.KindAutoAck] == 0 {
		t.Errorf("replies by kind = %v, want both human replies and acknowledgements", kinds)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
}

// TestGeneratorDeterministic: the same seed makes the same records, so a cached
// benchmark file can be rebuilt identically.
func TestGeneratorDeterministic(t *testing.T) {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	a, b := NewGenerator(7, 5), NewGenerator(7, 5)
	for i := range 20 {
		id := "P" + strconv.Itoa(i+1)
		if ra, rb := a.Record(id, at), b.Record(id, at); !reflect.DeepEqual(ra, rb) {
			t.Fatalf("record %s differs between two generators seeded alike", id)
		}
	}
}
