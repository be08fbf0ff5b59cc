package mailbox

import (
	"bytes"
	"context"
	"io"
	"log"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

func mustRender(t testing.TB, in probe.Inquiry) []byte {
	t.Helper()
	raw, err := Render(in)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return raw
}

func TestAppendSent(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		ctx := context.Background()
		srv := imapServer(t, w, lin)

		// Someone else's unread message in Sent: nothing we do may mark it \Seen.
		other := []byte("From: lin.wei@example.com\r\nTo: x@example.org\r\nSubject: draft\r\nMessage-ID: <other@example.com>\r\n\r\nhi\r\n")
		c := mustDialIMAP(t, srv)
		cmd := c.Append("Sent", int64(len(other)), nil)
		cmd.Write(other)
		cmd.Close()
		otherData, err := cmd.Wait()
		if err != nil {
			t.Fatalf("APPEND other: %v", err)
		}

		in := chineseInquiry()
		raw := mustRender(t, in)
		f := NewSentFolder(srv, "Sent", SentFolderOptions{})
		a, err := f.Append(ctx, raw)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		t.Logf("skew %v ± %v (APPEND took %v)", a.Skew, a.Uncertainty, a.After.Sub(a.Before))
		if a.Skew < -time.Second || a.Skew > time.Second {
			t.Errorf("Skew = %v, want within ±1 s (same clock)", a.Skew)
		}
		if a.Uncertainty < 500*time.Millisecond || a.Uncertainty > time.Second {
			t.Errorf("Uncertainty = %v, want 0.5 s plus half the APPEND's round trip", a.Uncertainty)
		}
		if a.UID == 0 || a.InternalDate.Before(a.Before.Add(-time.Second)) || a.InternalDate.After(a.After) {
			t.Errorf("Appended = %+v, want a UID and an INTERNALDATE within the APPEND, truncated", a)
		}

		skew, err := f.AppendSent(ctx, mustRender(t, probe.Inquiry{From: in.From, To: in.To, Subject: "second",
			Body: "second\n", MessageID: "second@example.com", Date: in.Date}))
		if err != nil || skew < -time.Second || skew > time.Second {
			t.Errorf("AppendSent = %v, %v; want a skew within ±1 s", skew, err)
		}

		tests := []struct {
			name      string
			id        string
			wantFound bool
		}{
			{"our copy", in.MessageID, true},
			{"our copy, in brackets", "<" + in.MessageID + ">", true},
			{"a message-id that is not there", "20260301T030405.nope.k7q2.0123456789abcdef@example.com", false},
			{"a prefix of ours", in.MessageID[:20], false},
		}
		for _, tt := range tests {
			t.Run("FindSent "+tt.name, func(t *testing.T) {
				got, found, err := f.FindSent(ctx, tt.id)
				if err != nil {
					t.Fatalf("FindSent: %v", err)
				}
				if found != tt.wantFound || (found && !got.Equal(a.InternalDate)) {
					t.Errorf("FindSent(%q) = %v, %v; want %v, %v", tt.id, got, found, a.InternalDate, tt.wantFound)
				}
			})
		}

		if _, err := c.Select("Sent", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatalf("EXAMINE Sent: %v", err)
		}
		msgs, err := c.Fetch(imap.UIDSetNum(otherData.UID, a.UID), &imap.FetchOptions{
			UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		}).Collect()
		if err != nil || len(msgs) != 2 {
			t.Fatalf("UID FETCH = %d messages, %v; want 2", len(msgs), err)
		}
		for _, m := range msgs {
			seen := slices.Contains(m.Flags, imap.FlagSeen)
			switch m.UID {
			case otherData.UID:
				if seen {
					t.Errorf("the other message in Sent is now \\Seen")
				}
			case a.UID:
				if !seen {
					t.Errorf("our copy is not \\Seen: flags %v", m.Flags)
				}
				if !bytes.Equal(m.BodySection[0].Bytes, raw) {
					t.Errorf("our copy differs from what was appended:\n%s", m.BodySection[0].Bytes)
				}
			}
		}
	})
}

func TestAppendSentMeasuresSkew(t *testing.T) {
	t.Parallel()
	for _, offset := range []time.Duration{time.Hour, -90 * time.Second, 2500 * time.Millisecond} {
		t.Run(offset.String(), func(t *testing.T) {
			t.Parallel()
			w := mailworldtest.Memory(t, users...)
			// Our clock runs offset ahead of the server's, so the skew is -offset.
			now := func() time.Time { return time.Now().Add(offset) }
			skew, err := NewSentFolder(imapServer(t, w, lin), "Sent", SentFolderOptions{Now: now}).
				AppendSent(context.Background(), mustRender(t, chineseInquiry()))
			if err != nil {
				t.Fatalf("AppendSent: %v", err)
			}
			if d := skew + offset; d < -time.Second || d > time.Second {
				t.Errorf("AppendSent = %v, want %v ± 1 s", skew, -offset)
			}
		})
	}
}

func TestAppendSentCreatesFolder(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		ctx := context.Background()
		f := NewSentFolder(imapServer(t, w, lin), "Probes", SentFolderOptions{})
		in := chineseInquiry()
		if _, found, err := f.FindSent(ctx, in.MessageID); err != nil || found {
			t.Fatalf("FindSent in a missing folder = %v, %v; want not found, no error", found, err)
		}
		a, err := f.Append(ctx, mustRender(t, in))
		if err != nil {
			t.Fatalf("Append to a missing folder: %v", err)
		}
		got, found, err := f.FindSent(ctx, in.MessageID)
		if err != nil || !found || !got.Equal(a.InternalDate) {
			t.Errorf("FindSent = %v, %v, %v; want %v", got, found, err, a.InternalDate)
		}
	})
}

// withoutAppendUID hides APPENDUID, as a server without UIDPLUS would.
type withoutAppendUID struct{ imapserver.Session }

func (s withoutAppendUID) Append(mailbox string, r imap.LiteralReader, opts *imap.AppendOptions) (*imap.AppendData, error) {
	_, err := s.Session.Append(mailbox, r, opts)
	return nil, err
}

func TestAppendSentWithoutUIDPLUS(t *testing.T) {
	t.Parallel()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(lin.Address, lin.Password)
	if err := u.Create("Sent", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	s := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return withoutAppendUID{mem.NewSession()}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln := listen(t)
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })

	f := NewSentFolder(serverAt(t, ln.Addr().String(), SecurityNone, lin), "Sent", SentFolderOptions{})
	in := chineseInquiry()
	for i := range 2 { // twice: the newest copy is the one measured
		a, err := f.Append(context.Background(), mustRender(t, in))
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if a.UID != imap.UID(i+1) || a.Skew < -time.Second || a.Skew > time.Second {
			t.Errorf("Append %d = %+v, want UID %d found by Message-ID and a skew within ±1 s", i+1, a, i+1)
		}
	}
}

func TestEstimateSkew(t *testing.T) {
	base := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	tests := []struct {
		name            string
		internal        time.Time
		before, after   time.Time
		skew, uncertain time.Duration
	}{
		{"same clock, append mid-second", base, base.Add(200 * ms), base.Add(400 * ms), 200 * ms, 600 * ms},
		{"same clock, append just after the second", base, base.Add(1 * ms), base.Add(3 * ms), 498 * ms, 501 * ms},
		{"same clock, append just before the next second", base, base.Add(997 * ms), base.Add(999 * ms), -498 * ms, 501 * ms},
		{"server an hour ahead", base.Add(time.Hour), base.Add(500 * ms), base.Add(500 * ms), time.Hour, 500 * ms},
		{"server 90 s behind, slow append", base.Add(-90 * time.Second), base.Add(100 * ms), base.Add(900 * ms), -90 * time.Second, 900 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skew, u := estimateSkew(tt.internal, tt.before, tt.after)
			if skew != tt.skew || u != tt.uncertain {
				t.Errorf("estimateSkew = %v ± %v, want %v ± %v", skew, u, tt.skew, tt.uncertain)
			}
		})
	}
}
