package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// mustOpen opens a fresh database in a temp dir and checks its consistency at cleanup.
func mustOpen(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "state", "supportprobe.db"), Options{})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("Check() = %v", err)
		}
		db.Close()
	})
	return db
}

func mustCreate(t *testing.T, db *DB, p probe.Probe) probe.Probe {
	t.Helper()
	out, err := db.CreateProbe(p)
	if err != nil {
		t.Fatalf("CreateProbe() = %v", err)
	}
	return out
}

var t0 = time.Date(2026, 11, 2, 11, 0, 0, 0, time.UTC)

func TestOpenCreatesPrivateFile(t *testing.T) {
	db := mustOpen(t)
	st, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("database mode = %o, want 600", got)
	}
	dir, _ := os.Stat(filepath.Dir(db.Path()))
	if got := dir.Mode().Perm(); got != 0o700 {
		t.Errorf("state dir mode = %o, want 700", got)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	db.Bolt().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64(SchemaVersion()+1))
	})
	db.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("Open(newer) = %v, want ErrTooNew", err)
	}
	if want := "upgrade supportprobe"; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestMigrationsFromEmpty(t *testing.T) {
	// Each migration must apply on top of the ones before it, from an empty file.
	path := filepath.Join(t.TempDir(), "db")
	b, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations {
		var err error
		if m.step == nil {
			err = b.Update(m.apply)
		}
		for pos, parts := []byte(nil), 0; m.step != nil && err == nil; parts++ {
			err = b.Update(func(tx *bbolt.Tx) error {
				var err error
				pos, err = m.step(tx, pos)
				return err
			})
			if pos == nil {
				break
			}
			if parts > 10 {
				t.Fatalf("migration %d: still not done after %d parts of an empty file", i+1, parts)
			}
		}
		if err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	b.Close()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(after manual migrations) = %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestSecondWriterGetsErrLocked(t *testing.T) {
	db := mustOpen(t)
	start := time.Now()
	_, err := Open(db.Path(), Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open() = %v, want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("second Open() took %v; it must not hang", time.Since(start))
	}
}

func TestReadOnlyMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "none.db"), Options{ReadOnly: true})
	if !errors.Is(err, ErrNoDatabase) {
		t.Fatalf("Open(read-only, missing) = %v, want ErrNoDatabase", err)
	}
}

func TestProbesRangeAndVendor(t *testing.T) {
	db := mustOpen(t)
	for i, v := range []string{"acme", "zen", "acme", "acme-cloud", "zen", "acme"} {
		mustCreate(t, db, probe.Probe{Vendor: v, CreatedAt: t0.Add(time.Duration(i) * time.Hour), Token: "T" + string(rune('A'+i))})
	}
	ids := func(ps []probe.Probe) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"P1", "P2", "P3", "P4", "P5", "P6"}},
		{"vendor", Filter{Vendor: "acme"}, []string{"P1", "P3", "P6"}},
		{"vendor is not a prefix match", Filter{Vendor: "acme-cloud"}, []string{"P4"}},
		{"since inclusive", Filter{Since: t0.Add(2 * time.Hour)}, []string{"P3", "P4", "P5", "P6"}},
		{"until exclusive", Filter{Until: t0.Add(2 * time.Hour)}, []string{"P1", "P2"}},
		{"vendor and range", Filter{Vendor: "acme", Since: t0.Add(time.Hour), Until: t0.Add(5 * time.Hour)}, []string{"P3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Probes(tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Probes(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
		})
	}
}

func TestIndexesAndThread(t *testing.T) {
	db := mustOpen(t)
	p := mustCreate(t, db, probe.Probe{Vendor: "acme", Token: "K7Q2", MessageID: "<P1.ABC@example.com>"})
	other := mustCreate(t, db, probe.Probe{Vendor: "acme", Token: "Z9"})
	if id, _ := db.ProbeByToken("K7Q2"); id != p.ID {
		t.Errorf("ProbeByToken = %q, want %q", id, p.ID)
	}
	if id, _ := db.ProbeByMessageID("p1.abc@EXAMPLE.com"); id != p.ID {
		t.Errorf("ProbeByMessageID(other case, no brackets) = %q, want %q", id, p.ID)
	}
	conflicts, err := db.AddThreadIDs(p.ID, "<vendor-1@acme.example>", "", "<vendor-2@acme.example>")
	if err != nil || len(conflicts) != 0 {
		t.Fatalf("AddThreadIDs = %v, %v", conflicts, err)
	}
	conflicts, _ = db.AddThreadIDs(other.ID, "vendor-2@acme.example")
	if !slices.Equal(conflicts, []string{"vendor-2@acme.example"}) {
		t.Errorf("AddThreadIDs(taken ID) conflicts = %v", conflicts)
	}
	if id, _ := db.ProbeByMessageID("vendor-2@acme.example"); id != p.ID {
		t.Errorf("taken thread ID re-pointed to %q", id)
	}
	if ok, _ := db.AddTicketKey("acme", "4711", p.ID); !ok {
		t.Error("AddTicketKey(new) = false")
	}
	if ok, _ := db.AddTicketKey("acme", "4711", other.ID); ok {
		t.Error("AddTicketKey(taken) = true")
	}
	if id, _ := db.ProbeByTicketKey("acme", "4711"); id != p.ID {
		t.Errorf("ProbeByTicketKey = %q, want %q", id, p.ID)
	}
	if id, _ := db.ProbeByTicketKey("zen", "4711"); id != "" {
		t.Errorf("ticket keys leak across vendors: %q", id)
	}
}

func TestRepliesDedupAndOverride(t *testing.T) {
	db := mustOpen(t)
	p := mustCreate(t, db, probe.Probe{Vendor: "acme"})
	r, err := db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "<a@acme.example>", Kind: probe.KindAutoAck, MatchedBy: probe.RungMessageID}, []byte("raw a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "A@acme.example", Folder: "Junk"}, nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("AddReply(same Message-ID) = %v, want ErrDuplicate", err)
	}
	if _, err := db.AddUnmatched(Unmatched{MessageID: "<a@acme.example>"}, nil); !errors.Is(err, ErrDuplicate) {
		t.Errorf("AddUnmatched(recorded Message-ID) = %v, want ErrDuplicate", err)
	}
	if _, err := db.SetOverride(r.ID, probe.Override{Kind: probe.KindHuman, Note: "agent signed it"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Probe(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Replies) != 1 || got.Replies[0].EffectiveKind() != probe.KindHuman {
		t.Fatalf("Probe().Replies = %+v, want one reply overridden to human", got.Replies)
	}
	raw, err := db.ReplyRaw(r.ID)
	if err != nil || string(raw.Data) != "raw a" {
		t.Errorf("ReplyRaw = %q, %v", raw.Data, err)
	}
}

func TestRawTruncation(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	r, err := DecodeRaw(EncodeRaw(data, 64))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Truncated || r.Size != 1000 || !bytes.Equal(r.Data, data[:64]) {
		t.Errorf("DecodeRaw(cut) = {len %d, size %d, truncated %v}, want {64, 1000, true}", len(r.Data), r.Size, r.Truncated)
	}
	r, _ = DecodeRaw(EncodeRaw(data, 0))
	if r.Truncated || !bytes.Equal(r.Data, data) {
		t.Errorf("DecodeRaw(whole) changed the bytes")
	}
}

func TestUnmatchedMailboxesSummaries(t *testing.T) {
	db := mustOpen(t)
	for i := range 3 {
		if _, err := db.AddUnmatched(Unmatched{MessageID: string(rune('a'+i)) + "@x", DetectedAt: t0.Add(time.Duration(i) * time.Minute)}, []byte("m")); err != nil {
			t.Fatal(err)
		}
	}
	um, _ := db.UnmatchedMail(t0.Add(time.Minute), time.Time{})
	if len(um) != 2 || um[0].ID != "U2" {
		t.Errorf("UnmatchedMail(since +1m) = %+v, want U2, U3", um)
	}
	if _, ok, _ := db.Mailbox("INBOX"); ok {
		t.Error("Mailbox(new) ok = true")
	}
	db.SetMailbox("INBOX", MailboxState{UIDValidity: 7, LastUID: 42})
	if s, ok, _ := db.Mailbox("INBOX"); !ok || s != (MailboxState{7, 42}) {
		t.Errorf("Mailbox = %+v, %v", s, ok)
	}
	if err := db.RecordSummary(Summary{Week: "2026-W48"}); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordSummary(Summary{Week: "2026-W48"}); !errors.Is(err, ErrSummarySent) {
		t.Errorf("RecordSummary(twice) = %v, want ErrSummarySent", err)
	}
}

func TestUpdateProbe(t *testing.T) {
	db := mustOpen(t)
	p := mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSending})
	got, err := db.UpdateProbe(p.ID, func(p *probe.Probe) error {
		p.State, p.SentAt, p.MessageID = probe.StateSent, t0, "m1@example.com"
		return nil
	})
	if err != nil || got.State != probe.StateSent || !got.SentAt.Equal(t0) {
		t.Fatalf("UpdateProbe = %+v, %v", got, err)
	}
	if id, _ := db.ProbeByMessageID("m1@example.com"); id != p.ID {
		t.Errorf("new MessageID not indexed")
	}
	if _, err := db.UpdateProbe("P99", func(*probe.Probe) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateProbe(missing) = %v, want ErrNotFound", err)
	}
}

// TestUpdateProbeSeesReplies: fn sees every reply recorded so far (a follow-up is
// decided on them inside the transaction that records it), its changes to Replies are
// not stored, and its error aborts the update.
func TestUpdateProbeSeesReplies(t *testing.T) {
	db := mustOpen(t)
	p := mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSent})
	other := mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSent})
	for i, to := range []string{p.ID, p.ID, other.ID} {
		if _, err := db.AddReply(probe.Reply{ProbeID: to, MessageID: fmt.Sprintf("r%d@acme.example", i), Kind: probe.KindHuman}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	got, err := db.UpdateProbe(p.ID, func(p *probe.Probe) error {
		for _, r := range p.Replies {
			seen = append(seen, r.MessageID)
		}
		p.Replies = p.Replies[:1]
		p.FailReason = "touched"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"r0@acme.example", "r1@acme.example"}; !slices.Equal(seen, want) {
		t.Errorf("fn saw replies %q, want %q", seen, want)
	}
	if len(got.Replies) != 2 || got.FailReason != "touched" {
		t.Errorf("stored probe has %d replies and fail reason %q; want both replies kept and the change written", len(got.Replies), got.FailReason)
	}
	stop := errors.New("answered meanwhile")
	if _, err := db.UpdateProbe(p.ID, func(p *probe.Probe) error { p.FailReason = "aborted"; return stop }); !errors.Is(err, stop) {
		t.Errorf("UpdateProbe(fn fails) = %v, want fn's error", err)
	}
	if q, err := db.Probe(p.ID); err != nil || q.FailReason != "touched" {
		t.Errorf("after an aborted update: fail reason %q, %v; want it unchanged", q.FailReason, err)
	}
}

func TestFiresAndMarks(t *testing.T) {
	db := mustOpen(t)
	if _, ok, _ := db.LastHandled("acme/0"); ok {
		t.Error("LastHandled(new job) ok = true")
	}
	for i, job := range []string{"acme/0", "acme/0", "acme/01", "acme/0"} {
		f := probe.Fire{Job: job, Vendor: "acme", ScheduledAt: t0.Add(time.Duration(i) * time.Hour), Outcome: probe.FireSent}
		if err := db.RecordFire(f); err != nil {
			t.Fatal(err)
		}
	}
	if last, ok, _ := db.LastHandled("acme/0"); !ok || !last.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("LastHandled = %v, %v; want %v", last, ok, t0.Add(3*time.Hour))
	}
	if last, _, _ := db.LastHandled("acme/01"); !last.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("LastHandled(acme/01) = %v; job prefixes leak", last)
	}
	db.MarkHandled("acme/0", t0.Add(5*time.Hour))
	if last, _, _ := db.LastHandled("acme/0"); !last.Equal(t0.Add(5 * time.Hour)) {
		t.Errorf("LastHandled after mark = %v, want the mark", last)
	}
	fires, _ := db.Fires("acme/0", t0.Add(time.Hour), t0.Add(3*time.Hour))
	if len(fires) != 1 || !fires[0].ScheduledAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("Fires([+1h, +3h)) = %+v, want the fire at +1h", fires)
	}
}

func TestPendingAndKey(t *testing.T) {
	db := mustOpen(t)
	p := mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSending})
	mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSent})
	if ps, _ := db.PendingProbes(); len(ps) != 1 || ps[0].ID != p.ID {
		t.Errorf("PendingProbes = %+v, want %s", ps, p.ID)
	}
	db.UpdateProbe(p.ID, func(p *probe.Probe) error { p.State = probe.StateSent; return nil })
	if ps, _ := db.PendingProbes(); len(ps) != 0 {
		t.Errorf("PendingProbes after sent = %+v, want none", ps)
	}
	k1, err := db.MessageIDKey()
	if err != nil || len(k1) != 32 {
		t.Fatalf("MessageIDKey = %x, %v", k1, err)
	}
	if k2, _ := db.MessageIDKey(); !bytes.Equal(k1, k2) {
		t.Error("MessageIDKey changed between calls")
	}
}

func TestLink(t *testing.T) {
	db := mustOpen(t)
	p1 := mustCreate(t, db, probe.Probe{Vendor: "acme"})
	p2 := mustCreate(t, db, probe.Probe{Vendor: "acme"})
	u, err := db.AddUnmatched(Unmatched{MessageID: "<lost@acme.example>", Kind: probe.KindHuman, Reason: "new text", From: "dana@acme.example"}, []byte("raw lost"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := db.Link("lost@acme.example", p1.ID, LinkOptions{Note: "ticket number in the signature"})
	if err != nil {
		t.Fatal(err)
	}
	if r.MatchedBy != probe.RungManual || r.ProbeID != p1.ID || !strings.Contains(r.Reason, "ticket number in the signature") {
		t.Errorf("Link() = %+v, want a manual reply of %s with the note", r, p1.ID)
	}
	if um, _ := db.UnmatchedMail(time.Time{}, time.Time{}); len(um) != 0 {
		t.Errorf("unmatched after link = %+v, want none", um)
	}
	if _, err := db.UnmatchedRaw(u.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("unmatched raw still there: %v", err)
	}
	if raw, err := db.ReplyRaw(r.ID); err != nil || string(raw.Data) != "raw lost" {
		t.Errorf("ReplyRaw(linked) = %q, %v; want the raw bytes moved", raw.Data, err)
	}
	if id, _ := db.ProbeByMessageID("lost@acme.example"); id != p1.ID {
		t.Errorf("linked Message-ID not in the thread of %s: %q", p1.ID, id)
	}
	// Relink to the other probe: the reply moves.
	r2, err := db.Link("<lost@acme.example>", p2.ID, LinkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Probe(p1.ID); len(got.Replies) != 0 {
		t.Errorf("%s keeps %d replies after relink", p1.ID, len(got.Replies))
	}
	if got, _ := db.Probe(p2.ID); len(got.Replies) != 1 || got.Replies[0].ID != r2.ID {
		t.Errorf("%s replies = %+v, want the moved reply", p2.ID, got.Replies)
	}
	if _, err := db.Link("nobody@x", p1.ID, LinkOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Link(unknown message) = %v, want ErrNotFound", err)
	}
	if _, err := db.Link("lost@acme.example", "P99", LinkOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Link(unknown probe) = %v, want ErrNotFound", err)
	}
}

func TestOldestOpen(t *testing.T) {
	db := mustOpen(t)
	terms := probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 48 * time.Hour}
	mustCreate(t, db, probe.Probe{Vendor: "a", State: probe.StateSent, CreatedAt: t0, SentAt: t0, Terms: terms})                                                 // past deadline at now
	open := mustCreate(t, db, probe.Probe{Vendor: "a", State: probe.StateSent, CreatedAt: t0.Add(50 * time.Hour), SentAt: t0.Add(50 * time.Hour), Terms: terms}) // open
	now := t0.Add(60 * time.Hour)
	got, ok, err := db.OldestOpen(now, 7*24*time.Hour)
	if err != nil || !ok || !got.Equal(open.CreatedAt) {
		t.Errorf("OldestOpen = %v, %v, %v; want %v", got, ok, err, open.CreatedAt)
	}
}
