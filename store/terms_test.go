package store

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
)

// TestCodecSharedTerms checks probe format version 2: a probe with every field set
// decodes to what JSON would give; probes with the same terms share one entry of the
// terms bucket and their records are smaller by about the terms; a record whose terms
// are missing, or cut short, is an error wrapping errCodec; and terms whose reference
// another encoding already holds are kept inline, still decoding the same.
func TestCodecSharedTerms(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "terms.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var p probe.Probe
	n := 0
	fillEveryField(t, reflect.ValueOf(&p).Elem(), &n)
	p.Replies = nil
	q := p
	q.ID, q.Subject = "P2", "another subject"

	err = db.Update(func(tx *bbolt.Tx) error {
		v1 := encodeProbe(p)
		v2, err := encodeProbeShared(tx, p)
		if err != nil {
			return err
		}
		vq, err := encodeProbeShared(tx, q)
		if err != nil {
			return err
		}
		if v2[1] != codecProbeVersion || v2 == nil {
			t.Fatalf("record version %d, want %d", v2[1], codecProbeVersion)
		}
		e := encoder{}
		e.terms(p.Terms)
		if saved := len(v1) - len(v2); saved != len(e.buf)-1-termsRefLen {
			t.Errorf("the shared record is %d B smaller than version 1, want the terms' %d B less the reference", saved, len(e.buf))
		}
		k := 0
		tx.Bucket(bTerms).ForEach(func(_, _ []byte) error { k++; return nil })
		if k != 1 {
			t.Errorf("terms bucket holds %d entries for two probes with the same terms, want 1", k)
		}
		for _, c := range []struct {
			v    []byte
			want probe.Probe
		}{{v2, p}, {vq, q}} {
			var got probe.Probe
			if err := unmarshalProbe(tx, c.v, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, c.want); g != w {
				t.Errorf("probe after the shared codec:\n%s\nwant\n%s", g, w)
			}
		}
		for i := 1; i < len(v2); i++ {
			var got probe.Probe
			if err := unmarshalProbe(tx, v2[:i], &got); !errors.Is(err, errCodec) {
				t.Fatalf("record cut to %d of %d bytes: error %v, want one wrapping errCodec", i, len(v2), err)
			}
		}
		var got probe.Probe
		if err := unmarshalProbe(nil, v2, &got); !errors.Is(err, errCodec) {
			t.Errorf("record decoded without its terms bucket: error %v, want one wrapping errCodec", err)
		}

		// Another encoding under the reference the next terms would take.
		r := p
		r.Terms.Deadline = 5 * time.Hour
		e = encoder{}
		e.terms(r.Terms)
		ref := sha256Prefix(e.buf)
		if err := tx.Bucket(bTerms).Put(ref, []byte("something else")); err != nil {
			return err
		}
		vr, err := encodeProbeShared(tx, r)
		if err != nil {
			return err
		}
		if len(vr) < len(v1)-1 {
			t.Errorf("a record whose terms' reference is taken is %d B, want its terms inline (%d B)", len(vr), len(v1))
		}
		got = probe.Probe{}
		if err := unmarshalProbe(tx, vr, &got); err != nil {
			t.Fatal(err)
		}
		if g, w := mustJSON(t, got), mustJSON(t, r); g != w {
			t.Errorf("probe with inline terms:\n%s\nwant\n%s", g, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCodecRepliesInContext checks reply format version 2: a reply with every field
// set, whose subject and matching detail hold its probe's subject and Message-ID and
// whose times lie near its arrival, decodes to what JSON would give and takes fewer
// bytes than version 1; so does one whose strings and times share nothing; without its
// probe, or cut short, a record that needs the probe is an error wrapping errCodec.
func TestCodecRepliesInContext(t *testing.T) {
	var r probe.Reply
	n := 0
	fillEveryField(t, reflect.ValueOf(&r).Elem(), &n)
	ctx := replyCtx{subject: "Invoice 15:25: duplicate line item?", messageID: "81166e1d-8cfa-46ab-8855-ea0239d20b64@example.com"}
	near := r
	near.Subject = "Re: [#425676] " + ctx.subject
	near.MatchDetail = "In-Reply-To <" + ctx.messageID + ">"
	near.ReceivedAt = time.Date(2026, 9, 7, 6, 26, 3, 0, time.UTC)
	near.HeaderDate = near.ReceivedAt
	near.DetectedAt = near.ReceivedAt.Add(641 * time.Millisecond)
	offset := near
	offset.HeaderDate = near.ReceivedAt.In(time.FixedZone("", 8*3600)) // another zone: written whole
	offset.DetectedAt = time.Time{}
	subjectOnly := near
	subjectOnly.Subject = ctx.subject
	for name, c := range map[string]probe.Reply{"every field": r, "near its probe": near, "other offset": offset, "the probe's subject": subjectOnly} {
		t.Run(name, func(t *testing.T) {
			v1, v2 := encodeReply(c), encodeReplyIn(c, ctx)
			var got probe.Reply
			if err := unmarshalReplyIn(v2, &got, &ctx); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, c); g != w {
				t.Errorf("reply after the codec:\n%s\nwant\n%s", g, w)
			}
			if got.HeaderDate.Location().String() != c.HeaderDate.Location().String() {
				t.Errorf("HeaderDate in %v, want %v", got.HeaderDate.Location(), c.HeaderDate.Location())
			}
			if len(v2) > len(v1)+2 {
				t.Errorf("version 2 takes %d B, version 1 %d B", len(v2), len(v1))
			}
			for i := 1; i < len(v2); i++ {
				if err := unmarshalReplyIn(v2[:i], &got, &ctx); !errors.Is(err, errCodec) {
					t.Fatalf("record cut to %d of %d bytes: error %v, want one wrapping errCodec", i, len(v2), err)
				}
			}
		})
	}
	v1, v2 := encodeReply(near), encodeReplyIn(near, ctx)
	if saved := len(v1) - len(v2); saved < len(ctx.subject)+len(ctx.messageID) {
		t.Errorf("a reply near its probe takes %d B less in version 2, want at least the subject and Message-ID (%d B)", saved, len(ctx.subject)+len(ctx.messageID))
	}
	var got probe.Reply
	if err := unmarshalReplyIn(v2, &got, nil); !errors.Is(err, errCodec) {
		t.Errorf("decoded without its probe: error %v, want one wrapping errCodec", err)
	}
}

// TestReplyFollowsProbeChange checks that a reply written against its probe reads the
// same after the probe's subject and Message-ID change (UpdateProbe writes it again)
// and after it is linked to another probe.
func TestReplyFollowsProbeChange(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "supportprobe.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	mk := func(subject, mid string) probe.Probe {
		p, err := db.CreateProbe(probe.Probe{Vendor: "acme", Subject: subject, MessageID: mid, State: probe.StateSent, CreatedAt: at, SentAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := mk("Production ingest down since 03:12", "p1-inquiry@example.com")
	p2 := mk("Question about last month's invoice", "p2-inquiry@example.com")
	want, err := db.AddReply(probe.Reply{ProbeID: p1.ID, MessageID: "reply-1@acme.example", From: "dana@acme.example",
		Subject: "Re: [#4711] " + p1.Subject, MatchDetail: "In-Reply-To <" + p1.MessageID + ">", Kind: probe.KindHuman,
		ReceivedAt: at.Add(time.Hour), HeaderDate: at.Add(time.Hour), DetectedAt: at.Add(time.Hour + 700*time.Millisecond)}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		got, err := db.Reply(want.ID)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if got.Subject != want.Subject || got.MatchDetail != want.MatchDetail || !got.DetectedAt.Equal(want.DetectedAt) {
			t.Errorf("%s: reply reads subject %q, detail %q, detected %v; want %q, %q, %v", when, got.Subject, got.MatchDetail, got.DetectedAt, want.Subject, want.MatchDetail, want.DetectedAt)
		}
	}
	db.bolt.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bReplies).Get(replyIDs(tx).Get(want.ID))
		if v[1] != codecReplyVersion {
			t.Errorf("reply stored in format version %d, want %d", v[1], codecReplyVersion)
		}
		return nil
	})
	check("as added")
	if _, err := db.UpdateProbe(p1.ID, func(p *probe.Probe) error {
		p.Subject, p.MessageID = "Outage: cannot publish since 03:12", "p1-resent@example.com"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("after the probe's subject and Message-ID changed")
	got, err := db.Probe(p1.ID)
	if err != nil || len(got.Replies) != 1 || got.Replies[0].Subject != want.Subject {
		t.Errorf("Probe(%s) = %+v, %v; want its reply with subject %q", p1.ID, got.Replies, err, want.Subject)
	}
	linked, err := db.Link(want.MessageID, p2.ID, LinkOptions{By: "lin"})
	if err != nil {
		t.Fatal(err)
	}
	want.ID = linked.ID
	check("after a link to another probe")
	figs, err := db.Probes(Filter{FiguresOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range figs {
		if p.ID == p2.ID && (len(p.Replies) != 1 || p.Replies[0].Subject != want.Subject) {
			t.Errorf("figures-only read of %s: replies %+v, want one with subject %q", p.ID, p.Replies, want.Subject)
		}
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}
