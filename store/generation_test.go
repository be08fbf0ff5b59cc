package store

import (
	"testing"
	"time"

	"supportprobe/probe"
)

// TestRecordsGeneration checks that every write of a probe or reply record moves
// RecordsGeneration, and that writes which change no record (indexes, mailboxes,
// summaries, a failed update) leave it alone, so a reader that keeps decoded probes
// while it stands still never serves a stale one.
func TestRecordsGeneration(t *testing.T) {
	db := mustOpen(t)
	p := mustCreate(t, db, probe.Probe{Vendor: "acme", Token: "tok1", CreatedAt: t0, State: probe.StateSent, SentAt: t0})
	u, err := db.AddUnmatched(Unmatched{MessageID: "<u1@acme.example>", ReceivedAt: t0.Add(time.Hour), DetectedAt: t0.Add(time.Hour)}, []byte("Subject: x\r\n\r\nx"))
	if err != nil {
		t.Fatal(err)
	}
	var reply probe.Reply
	steps := []struct {
		name   string
		write  func() error
		record bool
	}{
		{"create probe", func() error {
			_, err := db.CreateProbe(probe.Probe{Vendor: "acme", CreatedAt: t0.Add(time.Minute)})
			return err
		}, true},
		{"update probe", func() error {
			_, err := db.UpdateProbe(p.ID, func(q *probe.Probe) error { q.FailReason = "x"; return nil })
			return err
		}, true},
		{"add reply", func() error {
			var err error
			reply, err = db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "<r1@acme.example>", ReceivedAt: t0.Add(time.Hour), Kind: probe.KindHuman}, []byte("Subject: r\r\n\r\nr"))
			return err
		}, true},
		{"learn from reply", func() error {
			_, err := db.LearnFromReply(reply.ID, "acme", []string{"<r1@acme.example>"}, []string{"T-1"})
			return err
		}, true},
		{"set override", func() error {
			_, err := db.SetOverride(reply.ID, probe.Override{Kind: probe.KindAutoAck})
			return err
		}, true},
		{"set reply auth", func() error { _, err := db.SetReplyAuth(reply.ID, probe.Auth{CheckedAt: t0}); return err }, true},
		{"link", func() error { _, err := db.Link(u.ID, p.ID, LinkOptions{}); return err }, true},
		{"failed update", func() error {
			db.UpdateProbe("P999", func(*probe.Probe) error { return nil })
			return nil
		}, false},
		{"thread IDs", func() error { _, err := db.AddThreadIDs(p.ID, "<x@acme.example>"); return err }, false},
		{"ticket key", func() error { _, err := db.AddTicketKey("acme", "T-2", p.ID); return err }, false},
		{"mailbox", func() error { return db.SetMailbox("INBOX", MailboxState{UIDValidity: 1, LastUID: 9}) }, false},
	}
	for _, s := range steps {
		before := db.RecordsGeneration()
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		moved := db.RecordsGeneration() != before
		if moved != s.record {
			t.Errorf("%s: RecordsGeneration moved = %v, want %v", s.name, moved, s.record)
		}
	}
}
