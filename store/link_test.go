package store

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// sentProbe creates a probe of vendor acme sent at sentAt with its own Message-ID.
func sentProbe(t *testing.T, db *DB, msgID string, sentAt time.Time) probe.Probe {
	t.Helper()
	return mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSent, SentAt: sentAt, CreatedAt: sentAt,
		MessageID: msgID, Subject: "Question about ERP-2 exports", Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 7 * 24 * time.Hour}})
}

// matchVia matches mail against the store the way the watcher does.
func matchVia(t *testing.T, db *DB, m probe.Mail) (probe.Match, bool) {
	t.Helper()
	vendors := []probe.Vendor{{Name: "acme", Domains: []string{"acme.example"}}}
	got, ok, err := probe.Matcher{Mailbox: "lin.wei@example.com", Vendors: vendors, Index: db, Sent: db.ProbeSent}.Match(m)
	if err != nil {
		t.Fatalf("Match() = %v", err)
	}
	return got, ok
}

// TestRelinkMovesThread is issue 12, defect 4: a reply matched to P1 is re-linked to P2,
// and later mail of its thread, citing only the vendor's message IDs or carrying the
// ticket key learned from it, matches P2. P1 keeps its own inquiry's Message-ID, and
// a further re-link P2 -> P3 moves the thread again. Every move is in the audit trail.
func TestRelinkMovesThread(t *testing.T) {
	db := mustOpen(t)
	p1 := sentProbe(t, db, "<p1-inquiry@example.com>", t0)
	p2 := sentProbe(t, db, "<p2-inquiry@example.com>", t0.Add(time.Minute))
	p3 := sentProbe(t, db, "<p3-inquiry@example.com>", t0.Add(2*time.Minute))

	// The watcher matched the vendor's reply to P1 (it cited P1's inquiry, say after a
	// vendor merged two tickets) and learned from it.
	first := probe.Mail{MessageID: "reply-1@acme.example", From: "dana@acme.example", ReceivedAt: t0.Add(time.Hour),
		InReplyTo: []string{"<p1-inquiry@example.com>"}, References: []string{"<case-root@acme.example> <p1-inquiry@example.com>"},
		Subject: "Re: [#4711] Question about ERP-2 exports"}
	m, ok := matchVia(t, db, first)
	if !ok || m.ProbeID != p1.ID {
		t.Fatalf("first reply matched %q (%v), want %s", m.ProbeID, ok, p1.ID)
	}
	r, err := db.AddReply(probe.Reply{ProbeID: p1.ID, MessageID: first.MessageID, ReceivedAt: first.ReceivedAt, Kind: probe.KindHuman}, []byte("raw"))
	if err != nil {
		t.Fatal(err)
	}
	if conflicts, err := db.LearnFromReply(r.ID, "acme", m.ThreadIDs, m.TicketKeys); err != nil || len(conflicts) != 0 {
		t.Fatalf("LearnFromReply = %v, %v", conflicts, err)
	}
	if got, _ := db.Reply(r.ID); got.Learned == nil || !slices.Equal(got.Learned.ThreadIDs, []string{"reply-1@acme.example", "case-root@acme.example"}) ||
		!slices.Equal(got.Learned.TicketKeys, []string{"4711"}) {
		t.Fatalf("reply %s learned %+v; want its own ID, the vendor's case root and ticket 4711, not P1's inquiry ID", r.ID, got.Learned)
	}

	linked, err := db.Link("<reply-1@acme.example>", p2.ID, LinkOptions{By: "lin", Note: "answers the P2 question"})
	if err != nil {
		t.Fatalf("Link(P1 -> P2) = %v", err)
	}
	for id, want := range map[string]string{"reply-1@acme.example": p2.ID, "case-root@acme.example": p2.ID, "p1-inquiry@example.com": p1.ID} {
		if got, _ := db.ProbeByMessageID(id); got != want {
			t.Errorf("after re-link, <%s> belongs to %q, want %s", id, got, want)
		}
	}
	if got, _ := db.ProbeByTicketKey("acme", "4711"); got != p2.ID {
		t.Errorf("after re-link, ticket 4711 belongs to %q, want %s", got, p2.ID)
	}

	// Later mail in that thread: one citing the vendor's IDs only, one with the ticket key.
	for _, later := range []probe.Mail{
		{MessageID: "reply-2@acme.example", From: "dana@acme.example", ReceivedAt: t0.Add(3 * time.Hour),
			InReplyTo: []string{"<reply-1@acme.example>"}, References: []string{"<case-root@acme.example> <reply-1@acme.example>"}},
		{MessageID: "reply-3@acme.example", From: "noreply@acme.example", ReceivedAt: t0.Add(4 * time.Hour),
			Subject: "[#4711] status changed to pending"},
	} {
		if m, ok := matchVia(t, db, later); !ok || m.ProbeID != p2.ID {
			t.Errorf("later mail %s matched %q (%v; %s), want %s", later.MessageID, m.ProbeID, ok, m.Detail, p2.ID)
		}
	}

	cs, err := db.Corrections(p1.ID)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Corrections(%s) = %+v, %v; want the link", p1.ID, cs, err)
	}
	c := cs[0]
	if c.Action != probe.CorrectionLink || c.By != "lin" || c.Note != "answers the P2 question" || c.FromProbe != p1.ID || c.ToProbe != p2.ID ||
		c.WasID != r.ID || c.Reply != linked.ID || c.At.IsZero() || c.Forced != "" {
		t.Errorf("audit record = %+v", c)
	}
	if !slices.Equal(c.MovedThreadIDs, []string{"<reply-1@acme.example>", "<case-root@acme.example>"}) || !slices.Equal(c.MovedTicketKeys, []string{"4711"}) || c.TicketVendor != "acme" {
		t.Errorf("audit record moved IDs %q, keys %q of %q; want the reply's ID, the case root and 4711", c.MovedThreadIDs, c.MovedTicketKeys, c.TicketVendor)
	}

	// Another probe now holds the case root; a re-link P2 -> P3 moves the rest, leaves
	// that one where it is and says so.
	if err := db.Bolt().Update(func(tx *bbolt.Tx) error {
		return messageIndex(tx, bMessageID).Put([]byte("case-root@acme.example"), []byte(p1.ID))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Link("reply-1@acme.example", p3.ID, LinkOptions{By: "kai"}); err != nil {
		t.Fatalf("Link(P2 -> P3) = %v", err)
	}
	if got, _ := db.ProbeByMessageID("reply-1@acme.example"); got != p3.ID {
		t.Errorf("after second re-link, <reply-1@acme.example> belongs to %q, want %s", got, p3.ID)
	}
	if got, _ := db.ProbeByTicketKey("acme", "4711"); got != p3.ID {
		t.Errorf("after second re-link, ticket 4711 belongs to %q, want %s", got, p3.ID)
	}
	if got, _ := db.ProbeByMessageID("case-root@acme.example"); got != p1.ID {
		t.Errorf("case root held by %s moved to %q", p1.ID, got)
	}
	cs, _ = db.Corrections(p3.ID)
	if len(cs) != 1 || len(cs[0].Kept) != 1 || !strings.Contains(cs[0].Kept[0], "case-root@acme.example") || !strings.Contains(cs[0].Kept[0], p1.ID) {
		t.Errorf("second link's audit record = %+v; want the case root kept, naming %s", cs, p1.ID)
	}
	if all, _ := db.Corrections(""); len(all) != 2 || all[0].ID != "A1" || all[1].ID != "A2" {
		t.Errorf("Corrections(\"\") = %+v, want A1 and A2 in order", all)
	}
}

// TestLinkUnmatchedLearnsItsThread: linking unmatched mail records what the matcher found
// in it (the IDs it cites, its ticket keys), so the rest of that thread matches too; a
// ticket key quoted from the probe's own subject is not learned.
func TestLinkUnmatchedLearnsItsThread(t *testing.T) {
	db := mustOpen(t)
	p := sentProbe(t, db, "<p-inquiry@example.com>", t0)
	if _, err := db.AddUnmatched(Unmatched{MessageID: "<lost@acme.example>", ReceivedAt: t0.Add(time.Hour), Kind: probe.KindHuman,
		Vendor: "acme", ThreadIDs: []string{"lost@acme.example", "thread-root@acme.example"}, TicketKeys: []string{"ERP-2", "88123"}}, []byte("raw")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Link("lost@acme.example", p.ID, LinkOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ProbeByMessageID("thread-root@acme.example"); got != p.ID {
		t.Errorf("cited ID belongs to %q, want %s", got, p.ID)
	}
	if got, _ := db.ProbeByTicketKey("acme", "88123"); got != p.ID {
		t.Errorf("ticket 88123 belongs to %q, want %s", got, p.ID)
	}
	if got, _ := db.ProbeByTicketKey("acme", "ERP-2"); got != "" {
		t.Errorf("ERP-2, from the probe's own subject, learned for %q", got)
	}
	cs, _ := db.Corrections(p.ID)
	if len(cs) != 1 || cs[0].FromProbe != "" || !strings.HasPrefix(cs[0].WasID, "U") || !slices.Equal(cs[0].AddedThreadIDs, []string{"<lost@acme.example>", "<thread-root@acme.example>"}) ||
		!slices.Equal(cs[0].AddedTicketKeys, []string{"88123"}) {
		t.Errorf("audit record = %+v", cs)
	}
}

// TestLinkRefusesEarlyReply is issue 12, defect 3 (link side): mail that arrived before
// the probe's inquiry was sent, beyond the tolerance and with the clock skew removed, is
// refused with ErrArrivedBefore and nothing changes; --force links it, records the
// override, and the reply still counts for nothing (it is early, not a 0 s answer).
func TestLinkRefusesEarlyReply(t *testing.T) {
	db := mustOpen(t)
	sent := t0.Add(5 * time.Hour)
	p := sentProbe(t, db, "<late-inquiry@example.com>", sent)
	skewed := mustCreate(t, db, probe.Probe{Vendor: "acme", State: probe.StateSent, SentAt: sent, CreatedAt: sent,
		ClockSkew: time.Hour, Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 7 * 24 * time.Hour}})
	for _, u := range []Unmatched{
		{MessageID: "<early@acme.example>", ReceivedAt: sent.Add(-3 * time.Hour), Kind: probe.KindHuman},
		{MessageID: "<tolerated@acme.example>", ReceivedAt: sent.Add(-time.Second), Kind: probe.KindHuman},
		// On the server's clock it came 30 min after sent_at; on ours, 30 min before.
		{MessageID: "<skewed@acme.example>", ReceivedAt: sent.Add(30 * time.Minute), Kind: probe.KindHuman},
	} {
		if _, err := db.AddUnmatched(u, []byte("raw")); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.Link("early@acme.example", p.ID, LinkOptions{})
	if !errors.Is(err, ErrArrivedBefore) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), "3h0m0s before probe "+p.ID) {
		t.Fatalf("Link(early) = %v; want ErrArrivedBefore saying how early and to use --force", err)
	}
	if _, err := db.Link("skewed@acme.example", skewed.ID, LinkOptions{}); !errors.Is(err, ErrArrivedBefore) {
		t.Errorf("Link(early once the skew is removed) = %v, want ErrArrivedBefore", err)
	}
	if um, _ := db.UnmatchedMail(time.Time{}, time.Time{}); len(um) != 3 {
		t.Errorf("a refused link changed the unmatched mail: %d left, want 3", len(um))
	}
	if cs, _ := db.Corrections(""); len(cs) != 0 {
		t.Errorf("a refused link left audit records %+v", cs)
	}
	if _, err := db.Link("tolerated@acme.example", p.ID, LinkOptions{}); err != nil {
		t.Errorf("Link(1 s early, within probe.ArrivalTolerance) = %v, want it linked", err)
	}
	r, err := db.Link("early@acme.example", p.ID, LinkOptions{By: "lin", Note: "sent twice", Force: true})
	if err != nil {
		t.Fatalf("Link(early, force) = %v", err)
	}
	cs, _ := db.Corrections(p.ID)
	if len(cs) != 2 || !strings.Contains(cs[1].Forced, "3h0m0s before probe "+p.ID) || cs[1].Reply != r.ID {
		t.Errorf("forced link's audit record = %+v; want the override recorded", cs)
	}
	got, _ := db.Probe(p.ID)
	m, err := probe.Measure(got, sent.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Early) != 1 || m.Early[0].ID != r.ID || m.FirstResponse == nil || m.FirstResponse.ID == r.ID {
		t.Errorf("after a forced link: early %d, first response %+v; want the forced reply early, the tolerated one the answer", len(m.Early), m.FirstResponse)
	}
}

// TestMarkLeavesAuditRecord: mark's decision goes into the audit trail with the kind it
// replaced, who, when and the note.
func TestMarkLeavesAuditRecord(t *testing.T) {
	db := mustOpen(t)
	p := sentProbe(t, db, "<m@example.com>", t0)
	r, err := db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "<ack@acme.example>", ReceivedAt: t0.Add(time.Minute), Kind: probe.KindAutoAck}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetOverride(r.ID, probe.Override{Kind: probe.KindHuman, Note: "agent signed it", By: "lin", At: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cs, err := db.Corrections(p.ID)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Corrections = %+v, %v", cs, err)
	}
	c := cs[0]
	if c.Action != probe.CorrectionMark || c.KindBefore != probe.KindAutoAck || c.KindAfter != probe.KindHuman || c.By != "lin" ||
		c.Note != "agent signed it" || !c.At.Equal(t0.Add(time.Hour)) || c.Reply != r.ID || c.ToProbe != p.ID {
		t.Errorf("mark's audit record = %+v", c)
	}
	if _, err := db.SetOverride("R99", probe.Override{Kind: probe.KindHuman}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetOverride(R99) = %v", err)
	}
	if cs, _ := db.Corrections(""); len(cs) != 1 {
		t.Errorf("a failed mark left an audit record: %+v", cs)
	}
}

// TestMigrationAddsAuditBucket opens a file at schema version 3 (before the audit trail)
// and finds it migrated: the bucket exists and corrections are recorded.
func TestMigrationAddsAuditBucket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := sentProbe(t, db, "<x@example.com>", t0)
	if err := db.Bolt().Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bAudit); err != nil {
			return err
		}
		return tx.Bucket(bMeta).Put(keySchemaVersion, u64(3))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open(schema 3) = %v", err)
	}
	defer db2.Close()
	if v := readVersionOf(t, db2); v != SchemaVersion() || v < 4 {
		t.Errorf("schema version after migration = %d, want %d", v, SchemaVersion())
	}
	if _, err := db2.AddUnmatched(Unmatched{MessageID: "<u@acme.example>", ReceivedAt: t0.Add(time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db2.Link("u@acme.example", p.ID, LinkOptions{}); err != nil {
		t.Fatal(err)
	}
	if cs, err := db2.Corrections(""); err != nil || len(cs) != 1 {
		t.Errorf("Corrections after migration = %+v, %v", cs, err)
	}
	if err := db2.Check(); err != nil {
		t.Error(err)
	}
}

func readVersionOf(t *testing.T, db *DB) uint64 {
	t.Helper()
	var v uint64
	db.Bolt().View(func(tx *bbolt.Tx) error { v = readVersion(tx); return nil })
	return v
}

// TestRelinkOfReplyThatTaughtNothing: a reply whose IDs were all in the thread already
// taught nothing; a link then moves only its own Message-ID and does not mistake it for
// a reply recorded before what replies teach was kept.
func TestRelinkOfReplyThatTaughtNothing(t *testing.T) {
	db := mustOpen(t)
	p1 := sentProbe(t, db, "<q1@example.com>", t0)
	p2 := sentProbe(t, db, "<q2@example.com>", t0)
	r, err := db.AddReply(probe.Reply{ProbeID: p1.ID, MessageID: "<plain@acme.example>", ReceivedAt: t0.Add(time.Hour), Kind: probe.KindHuman}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.LearnFromReply(r.ID, "acme", []string{"q1@example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Reply(r.ID); got.Learned == nil || len(got.Learned.ThreadIDs) != 0 {
		t.Fatalf("Learned = %+v, want recorded and empty", got.Learned)
	}
	if _, err := db.Link("plain@acme.example", p2.ID, LinkOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, _ := db.Corrections(p2.ID)
	if len(cs) != 1 || len(cs[0].Kept) != 0 || !slices.Equal(cs[0].AddedThreadIDs, []string{"<plain@acme.example>"}) {
		t.Errorf("audit record = %+v; want its own ID added, nothing kept", cs)
	}
	if got, _ := db.ProbeByMessageID("q1@example.com"); got != p1.ID {
		t.Errorf("P1's inquiry ID moved to %q", got)
	}
}
