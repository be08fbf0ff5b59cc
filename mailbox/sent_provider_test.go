package mailbox

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

// countCopies returns how many messages in folder carry Message-ID <id>, exactly.
func countCopies(t *testing.T, srv Server, folder, id string) int {
	t.Helper()
	c := mustDialIMAP(t, srv)
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("EXAMINE %s: %v", folder, err)
	}
	var all imap.SeqSet
	all.AddRange(1, 0) // 1:*
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("FETCH 1:* ENVELOPE in %s: %v", folder, err)
	}
	n := 0
	for _, m := range msgs {
		if m.Envelope != nil && m.Envelope.MessageID == id {
			n++
		}
	}
	return n
}

// appendAsProvider files raw in folder the way a provider does with what it was given
// over SMTP: a plain APPEND from outside the SentFolder.
func appendAsProvider(t *testing.T, srv Server, folder string, raw []byte) {
	t.Helper()
	c := mustDialIMAP(t, srv)
	cmd := c.Append(folder, int64(len(raw)), nil)
	cmd.Write(raw)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Errorf("the provider's APPEND to %s: %v", folder, err)
	}
}

// TestAppendSentLeavesProviderCopyAlone: a provider that files submissions in Sent
// itself (simulated by the test appending the message, now or a moment after the send)
// gets no second copy from AppendSent, which says why with ErrProviderCopy; a server
// that files nothing gets exactly one copy, ours.
func TestAppendSentLeavesProviderCopyAlone(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, users, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		ctx := context.Background()
		srv := imapServer(t, w, lin)
		base := chineseInquiry()
		// The folder must exist before the provider files into it.
		appendAsProvider(t, srv, "Sent", mustRender(t, probe.Inquiry{From: base.From, To: base.To, Subject: "older",
			Body: "older\n", MessageID: "older@example.com", Date: base.Date}))
		tests := []struct {
			name          string
			providerFiles bool
			providerAfter time.Duration // -1: the provider files nothing
			wantProvider  bool
		}{
			{"provider filed before the look", true, 0, true},
			{"provider files while we wait", true, 700 * time.Millisecond, true},
			{"provider not known to file, but did", false, 0, true},
			{"server files nothing", false, -1, false},
		}
		for i, tt := range tests {
			in := base
			in.MessageID = "20260301T030405.k7q2." + string(rune('a'+i)) + "@example.com"
			raw := mustRender(t, in)
			done := make(chan struct{})
			switch {
			case tt.providerAfter == 0:
				appendAsProvider(t, srv, "Sent", raw)
				close(done)
			case tt.providerAfter > 0:
				go func() {
					defer close(done)
					time.Sleep(tt.providerAfter)
					appendAsProvider(t, srv, "Sent", raw)
				}()
			default:
				close(done)
			}
			f := NewSentFolder(srv, "Sent", SentFolderOptions{ProviderFiles: tt.providerFiles,
				ProviderWait: 5 * time.Second, PollEvery: 100 * time.Millisecond})
			start := time.Now()
			_, err := f.AppendSent(ctx, raw)
			took := time.Since(start)
			<-done
			if tt.wantProvider {
				if !errors.Is(err, ErrProviderCopy) {
					t.Errorf("%s: AppendSent error = %v, want ErrProviderCopy", tt.name, err)
				}
			} else if err != nil {
				t.Errorf("%s: AppendSent: %v", tt.name, err)
			}
			if n := countCopies(t, srv, "Sent", in.MessageID); n != 1 {
				t.Errorf("%s: %d copies of <%s> in Sent, want exactly 1", tt.name, n, in.MessageID)
			}
			t.Logf("%s: AppendSent took %v", tt.name, took.Round(time.Millisecond))
			if tt.providerAfter > 0 && took < tt.providerAfter {
				t.Errorf("%s: AppendSent returned after %v, before the provider filed its copy at %v", tt.name, took, tt.providerAfter)
			}
		}
	})
}

// TestSentFolderDiscoversSpecialUse: Dovecot marks "Gesendete Elemente" \Sent (as a
// German Microsoft 365 account names it); with Discover the SentFolder finds it by its
// attribute, files copies there, and FindSent looks there; "Sent" is never created.
func TestSentFolderDiscoversSpecialUse(t *testing.T) {
	t.Parallel()
	const sent = "Gesendete Elemente"
	w := mailworldtest.RealWith(t, mailworld.RealOptions{SentFolder: sent}, users...)
	ctx := context.Background()
	srv := imapServer(t, w, lin)

	if got, err := SpecialUseFolder(ctx, srv, imap.MailboxAttrSent); err != nil || got != sent {
		t.Fatalf("SpecialUseFolder(\\Sent) = %q, %v; want %q", got, err, sent)
	}
	if got, err := SpecialUseFolder(ctx, srv, imap.MailboxAttrJunk); err != nil || got != "Junk" {
		t.Errorf("SpecialUseFolder(\\Junk) = %q, %v; want Junk", got, err)
	}
	if got, err := SpecialUseFolder(ctx, srv, imap.MailboxAttrArchive); err != nil || got != "" {
		t.Errorf("SpecialUseFolder(\\Archive) = %q, %v; want none", got, err)
	}

	f := NewSentFolder(srv, "Sent", SentFolderOptions{Discover: true})
	if got, err := f.Folder(ctx); err != nil || got != sent {
		t.Fatalf("Folder() = %q, %v; want %q", got, err, sent)
	}
	in := chineseInquiry()
	raw := mustRender(t, in)
	if _, err := f.AppendSent(ctx, raw); err != nil {
		t.Fatalf("AppendSent: %v", err)
	}
	if n := countCopies(t, srv, sent, in.MessageID); n != 1 {
		t.Errorf("%d copies in %q, want 1", n, sent)
	}
	if _, found, err := f.FindSent(ctx, in.MessageID); err != nil || !found {
		t.Errorf("FindSent = found %v, %v; want found in %q", found, err, sent)
	}
	c := mustDialIMAP(t, srv)
	list, err := c.List("", "Sent", nil).Collect()
	if err != nil || len(list) != 0 {
		t.Errorf("LIST Sent = %v, %v; want no folder named Sent", list, err)
	}

	// A second send, provider-style: the copy already in the \Sent folder is found.
	if _, err := f.AppendSent(ctx, raw); !errors.Is(err, ErrProviderCopy) {
		t.Errorf("AppendSent of a message already in %q: %v, want ErrProviderCopy", sent, err)
	}
	if n := countCopies(t, srv, sent, in.MessageID); n != 1 {
		t.Errorf("after the second AppendSent: %d copies in %q, want 1", n, sent)
	}

	// Without Discover, or with a server that marks nothing, the given name is used.
	if got, err := NewSentFolder(srv, "Outbox copies", SentFolderOptions{}).Folder(ctx); err != nil || got != "Outbox copies" {
		t.Errorf("Folder() without Discover = %q, %v; want the name given", got, err)
	}
}
