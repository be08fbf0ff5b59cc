package store_test

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
	"supportprobe/probe/evidence"
	"supportprobe/probe/view"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// rot13 turns mail into mail that shares none of its words: a vendor whose help desk
// changed completely, as far as a dictionary can tell.
func rot13(b []byte) []byte {
	out := bytes.Clone(b)
	for i, c := range out {
		switch {
		case c >= 'a' && c <= 'z':
			out[i] = 'a' + (c-'a'+13)%26
		case c >= 'A' && c <= 'Z':
			out[i] = 'A' + (c-'A'+13)%26
		}
	}
	return out
}

// dictHistory writes records through the daemon's path and remembers every raw copy as
// it was handed to the store, by store key.
type dictHistory struct {
	t    *testing.T
	db   *store.DB
	gen  *storetest.Generator
	next int
	at   time.Time
	want map[string][]byte // "inquiry/P1", "reply/<message-id>"
}

func (h *dictHistory) write(n int, changed bool) {
	h.t.Helper()
	for range n {
		h.next++
		h.at = h.at.Add(17 * time.Minute)
		rec := h.gen.Record("P"+strconv.Itoa(h.next), h.at)
		if changed {
			if rec.Inquiry != nil {
				rec.Inquiry = rot13(rec.Inquiry)
			}
			for i := range rec.Replies {
				rec.Replies[i].Raw = rot13(rec.Replies[i].Raw)
			}
		}
		rec.Followups, rec.Probe.Followups = nil, nil
		if err := storetest.Write(h.db, rec); err != nil {
			h.t.Fatal(err)
		}
		if rec.Inquiry != nil {
			h.want["inquiry/"+rec.Probe.ID] = rec.Inquiry
		}
		for _, r := range rec.Replies {
			h.want["reply/"+r.Reply.MessageID] = r.Raw
		}
	}
}

// check reads every copy back through db and compares it with the bytes written, and
// counts the codecs (format/dictionary) the copies were stored with.
func (h *dictHistory) check(db *store.DB) map[string]int {
	h.t.Helper()
	codecs := map[string]int{}
	for i := 1; i <= h.next; i++ {
		p, err := db.Probe("P" + strconv.Itoa(i))
		if err != nil {
			h.t.Fatal(err)
		}
		keys := map[string]string{}
		if _, ok := h.want["inquiry/"+p.ID]; ok {
			keys["inquiry/"+p.ID] = "inquiry/" + p.ID
		}
		for _, r := range p.Replies {
			keys["reply/"+r.ID] = "reply/" + r.MessageID
		}
		for key, wantKey := range keys {
			var raw store.Raw
			if strings.HasPrefix(key, "inquiry/") {
				raw, err = db.InquiryRaw(p.ID)
			} else {
				raw, err = db.ReplyRaw(strings.TrimPrefix(key, "reply/"))
			}
			if err != nil {
				h.t.Fatalf("read %s: %v", key, err)
			}
			if !bytes.Equal(raw.Data, h.want[wantKey]) || raw.Truncated || raw.Size != len(h.want[wantKey]) {
				h.t.Fatalf("%s read back as %d bytes (size %d, truncated %v), not the %d bytes written", key, len(raw.Data), raw.Size, raw.Truncated, len(h.want[wantKey]))
			}
			format, id, err := store.RawDictID(db.RawValue(key))
			if err != nil {
				h.t.Fatal(err)
			}
			codecs[strconv.Itoa(int(format))+"/"+strconv.Itoa(int(id))]++
		}
	}
	return codecs
}

// TestRawCopiesByteExactAcrossDictionaries writes mail as the daemon does through every
// stage of a store's life: gzip'd copies of an older version, zstd before the first
// dictionary, the first dictionary trained automatically at 200 copies, then mail that
// changed completely, which makes the store train a second dictionary by itself. Every
// copy reads back byte for byte, before and after reopening the file, and the evidence
// archive holds the exact bytes with their SHA-256.
func TestRawCopiesByteExactAcrossDictionaries(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two dictionaries (seconds each)")
	}
	path := filepath.Join(t.TempDir(), "supportprobe.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &dictHistory{t: t, db: db, gen: storetest.NewGenerator(3, 5), at: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), want: map[string][]byte{}}

	db.UseGzipRaw(true) // a file written by a version before dictionaries
	h.write(20, false)
	db.UseGzipRaw(false)
	h.write(90, false) // crosses 200 copies: the first training starts
	db.WaitRawTraining()
	dicts, err := db.RawDicts()
	lastErr := db.RawTrainingErr()
	if err != nil || lastErr != nil || len(dicts) != 1 {
		t.Fatalf("after 200 copies: RawDicts = %+v, last training error %v, %v; want one dictionary", dicts, lastErr, err)
	}
	h.write(60, false)
	h.write(260, true) // the mail changes: drift over a 500-copy window retrains
	db.WaitRawTraining()
	h.write(20, true)
	dicts, err = db.RawDicts()
	lastErr = db.RawTrainingErr()
	if err != nil || lastErr != nil || len(dicts) < 2 {
		t.Fatalf("after the mail changed: RawDicts = %+v, last training error %v, %v; want a second dictionary", dicts, lastErr, err)
	}
	d1, d2 := dicts[0], dicts[len(dicts)-1]
	if d2.Previous <= d2.HeldOut*1.2 {
		t.Errorf("dictionary %d compresses the changed mail to %.3f of its size, dictionary %d to %.3f: the new one should be far better", d2.ID, d2.HeldOut, d1.ID, d2.Previous)
	}
	t.Logf("dictionaries: %+v", dicts)

	codecs := h.check(db)
	t.Logf("copies by format/dictionary: %v", codecs)
	// Format 3 (a reply compressed against its inquiry) with each dictionary too.
	for _, c := range []string{"1/0", "2/0", "2/" + strconv.Itoa(int(d1.ID)), "2/" + strconv.Itoa(int(d2.ID)),
		"3/" + strconv.Itoa(int(d1.ID)), "3/" + strconv.Itoa(int(d2.ID))} {
		if codecs[c] == 0 {
			t.Errorf("no copy stored as %s (format/dictionary): the test did not cover it; have %v", c, codecs)
		}
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process: the dictionaries come from the file.
	db, err = store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if again := h.check(db); len(again) != len(codecs) {
		t.Errorf("after reopening: %v, before %v", again, codecs)
	}

	// The evidence archive, built as `supportprobe export` builds it.
	_, priv, _ := ed25519.GenerateKey(nil)
	now := h.at.Add(100 * time.Hour).Truncate(time.Second)
	var items []evidence.Item
	wantFiles := map[string][]byte{}
	for i := 1; i <= h.next; i++ {
		p, err := db.Probe("P" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := view.NewRecord(p, now)
		if err != nil {
			t.Fatal(err)
		}
		it := evidence.Item{Record: rec, Replies: map[string]*store.Raw{}}
		if raw, err := db.InquiryRaw(p.ID); err == nil {
			it.Inquiry = &raw
			wantFiles[p.ID+"/inquiry.eml"] = h.want["inquiry/"+p.ID]
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		for _, r := range p.Replies {
			raw, err := db.ReplyRaw(r.ID)
			if err != nil {
				t.Fatal(err)
			}
			it.Replies[r.ID] = &raw
			wantFiles[p.ID+"/"+r.ID+".eml"] = h.want["reply/"+r.MessageID]
		}
		items = append(items, it)
	}
	var zbuf bytes.Buffer
	if _, err := evidence.Write(&zbuf, items, evidence.Meta{GeneratedAt: now, Generator: "dict test", Selection: "all", Key: evidence.NewKey(priv, "test")}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var manifest evidence.Manifest
	got := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "manifest.json" {
			if err := json.Unmarshal(data, &manifest); err != nil {
				t.Fatal(err)
			}
		}
		got[f.Name] = data
	}
	hashes := map[string]string{}
	for _, f := range manifest.Files {
		hashes[f.Path] = f.SHA256
	}
	for name, want := range wantFiles {
		sum := sha256.Sum256(want)
		if !bytes.Equal(got[name], want) {
			t.Errorf("archive %s: %d bytes, not the %d bytes written", name, len(got[name]), len(want))
		}
		if hashes[name] != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest SHA-256 of %s = %s, want that of the bytes written, %x", name, hashes[name], sum)
		}
	}
	if len(wantFiles) < 900 {
		t.Errorf("only %d messages compared; the history should hold about 1,100", len(wantFiles))
	}
}

// TestRawCutCopyZstd: a message cut at the fetch limit keeps its cut and full size under
// the zstd layout too.
func TestRawCutCopyZstd(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "supportprobe.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.CreateProbe(probe.Probe{Vendor: "acme", Subject: "s", State: probe.StateSent})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("Received: from a\r\n"), 100)
	r, err := db.AddReplyRaw(probe.Reply{ProbeID: p.ID, MessageID: "<m@x>"}, store.Raw{Data: data, Size: 5000, Truncated: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.ReplyRaw(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Truncated || got.Size != 5000 || !bytes.Equal(got.Data, data) {
		t.Errorf("ReplyRaw = {%d bytes, size %d, truncated %v}, want {%d, 5000, true}", len(got.Data), got.Size, got.Truncated, len(data))
	}
	if format, id, err := store.RawDictID(db.RawValue("reply/" + r.ID)); err != nil || format != 2 || id != 0 {
		t.Errorf("stored as format %d dictionary %d (%v), want zstd without a dictionary before any training", format, id, err)
	}
}

// TestRawMissingDictionary: a copy whose dictionary is gone (a damaged or edited file)
// fails with an error naming the copy and the dictionary, not with garbage.
func TestRawMissingDictionary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supportprobe.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &dictHistory{t: t, db: db, gen: storetest.NewGenerator(9, 3), at: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), want: map[string][]byte{}}
	h.write(90, false)
	db.WaitRawTraining()
	d, err := db.TrainRawDict()
	if err != nil || d.ID == 0 {
		t.Fatalf("TrainRawDict = %+v, %v", d, err)
	}
	for h.write(1, false); h.want["inquiry/P"+strconv.Itoa(h.next)] == nil; {
		h.write(1, false) // a probe that failed at SMTP has no inquiry
	}
	db.Close()
	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Bolt().Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte("raw_dicts")) }); err != nil {
		t.Fatal(err)
	}
	_, err = db.InquiryRaw("P" + strconv.Itoa(h.next))
	if err == nil || !strings.Contains(err.Error(), "dictionary "+strconv.Itoa(int(d.ID))) || !strings.Contains(err.Error(), "inquiry/P") {
		t.Errorf("reading a copy whose dictionary is gone: %v; want an error naming the copy and dictionary %d", err, d.ID)
	}
}
