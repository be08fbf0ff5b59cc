package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

// junkReply files a person's answer to inquiry messageID in folder, as a spam filter
// does, and returns its Message-ID.
func junkReply(t *testing.T, s mailbox.Server, folder, messageID, n string) string {
	t.Helper()
	id := fmt.Sprintf("agent-%s-%d@helpdesk.acme.example", n, time.Now().UnixNano())
	raw := strings.ReplaceAll(fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: Streams failing
Message-ID: <%[2]s>
In-Reply-To: <%[1]s>
References: <%[1]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

We moved your streams to a healthy ingest node (%[4]s); new streams start normally now.

Dana
`, messageID, id, time.Now().Format(time.RFC1123Z), n), "\n", "\r\n")
	appendTo(t, s, folder, raw)
	return id
}

// appendTo appends raw to folder on s.
func appendTo(t *testing.T, s mailbox.Server, folder, raw string) {
	t.Helper()
	c, err := mailbox.DialIMAP(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := c.Append(folder, int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND to %s: %v", folder, err)
	}
}

// waitUnmatched nudges the watcher until n mails are kept as unmatched, or fails after 10 s.
func waitUnmatched(t *testing.T, d *Daemon, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		um, err := d.DB().UnmatchedMail(time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if len(um) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d unmatched mails 10 s on, want %d", len(um), n)
		}
		if w := d.watcher.Load(); w != nil {
			w.SyncNow()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// junkDaemon is a daemon on w, with the default folders (INBOX and \Junk), in stateDir.
func junkDaemon(t *testing.T, w mailworld.World, dir string, logs *lockedBuffer) (*Daemon, mailbox.Server) {
	t.Helper()
	pw := writePassword(t, dir, "lin.pass", linUser.Password)
	cfg, err := configs.Parse(worldConfigText(w, filepath.Join(dir, "state"),
		"username: lin.wei@example.com, password_file: "+pw,
		"username: lin.wei@example.com, password_file: "+pw+", append_sent: false"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Mail.IMAP.Folders; len(got) != 2 || got[1] != `\Junk` {
		t.Fatalf("default folders = %q, want INBOX and \\Junk", got)
	}
	srv, err := MailServer("imap", cfg.Mail.IMAP.Server)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: &fakeSender{at: time.Now()}, NoSchedules: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return d, srv
}

// checkJunkReply runs a daemon with the default folders against w, where the folder the
// server marks \Junk is junk: a reply filed there is recorded, with that folder, and
// status names it and how it was found.
func checkJunkReply(t *testing.T, w mailworld.World, junk string) {
	logs := &lockedBuffer{}
	d, srv := junkDaemon(t, w, t.TempDir(), logs)
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.DB().FolderMark(junk, p.CreatedAt); !ok || err != nil {
		t.Errorf("FolderMark(%s) = %v, %v; want the mark taken before the send, under the discovered name\nlogs:\n%s", junk, ok, err, logs)
	}
	id := junkReply(t, srv, junk, p.MessageID, "1")
	mustRunDaemon(t, d)
	got := waitReplies(t, d, p.ID, 1)
	if r := got.Replies[0]; r.Folder != junk || r.MessageID != id || r.Kind != probe.KindHuman {
		t.Errorf("reply = folder %q, id %s, kind %s; want %q, %s, human", r.Folder, r.MessageID, r.Kind, junk, id)
	}
	// The position is saved just after the handler returns: wait for the sync to end.
	var st Status
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, err = d.status(); err != nil {
			t.Fatal(err)
		}
		if !st.Folders[0].LastSync.IsZero() && st.Folders[len(st.Folders)-1].LastUID > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(st.Folders) != 2 || st.Folders[1].Name != junk || st.Folders[1].Entry != `\Junk` || st.Folders[1].Chosen != mailbox.ChosenBySpecialUse || st.Folders[1].LastUID == 0 {
		t.Errorf("status folders = %+v, want INBOX and %s found by SPECIAL-USE, read", st.Folders, junk)
	}
	if !strings.Contains(logs.String(), `watching the folder the server marks \\Junk`) {
		t.Errorf("the log does not say which folder \\Junk names:\n%s", logs)
	}
}

// TestJunkFoundBySpecialUse: with the default folders, a reply that a filter put in the
// folder the server marks \Junk is recorded: "Junk Email" in the in-process world (as
// Microsoft 365 calls it, beside a plain "Junk" that is not the junk folder), and
// "Courrier indésirable" in Dovecot (SUPPORTPROBE_REAL_MAIL=1).
func TestJunkFoundBySpecialUse(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.Memory(t, supportUser)
		if err := w.AddUserWithFolders(linUser, mailworld.Folder{Name: "Sent"}, mailworld.Folder{Name: "Junk"},
			mailworld.Folder{Name: "Junk Email", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}); err != nil {
			t.Fatal(err)
		}
		checkJunkReply(t, w, "Junk Email")
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.RealWith(t, mailworld.RealOptions{JunkFolder: "Courrier indésirable"}, linUser, supportUser)
		checkJunkReply(t, w, "Courrier indésirable")
	})
}

// TestJunkRenamedBetweenRuns: the junk folder is renamed while no daemon runs (the
// account's language changed). The next daemon watches it under its new name, from
// where the old name's position stood: the reply filed there meanwhile is recorded, and
// neither the reply recorded before nor a mail without a Message-ID (which nothing else
// would recognise) is recorded again.
func TestJunkRenamedBetweenRuns(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, supportUser)
	if err := w.AddUserWithFolders(linUser, mailworld.Folder{Name: "Sent"},
		mailworld.Folder{Name: "Junk Email", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logs := &lockedBuffer{}
	d, srv := junkDaemon(t, w, dir, logs)
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	first := junkReply(t, srv, "Junk Email", p.MessageID, "1")
	noID := "From: promo@shop.example\r\nTo: lin.wei@example.com\r\nSubject: Big sale\r\n\r\nNo Message-ID here.\r\n"
	appendTo(t, srv, "Junk Email", noID)
	stop := mustRunDaemon(t, d)
	waitReplies(t, d, p.ID, 1)
	waitUnmatched(t, d, 1)
	stop()

	c, err := mailbox.DialIMAP(context.Background(), srv)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("Junk Email", "Junk-E-Mail", nil).Wait(); err != nil {
		t.Fatalf("RENAME: %v", err)
	}
	c.Close()
	second := junkReply(t, srv, "Junk-E-Mail", p.MessageID, "2")

	d, _ = junkDaemon(t, w, dir, logs)
	mustRunDaemon(t, d)
	got := waitReplies(t, d, p.ID, 2)
	// Give the watcher a sync more, in which a duplicate would show.
	time.Sleep(200 * time.Millisecond)
	d.watcher.Load().SyncNow()
	time.Sleep(200 * time.Millisecond)
	got, err = d.DB().Probe(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	folders := map[string]string{}
	for _, r := range got.Replies {
		folders[r.MessageID] = r.Folder
	}
	if len(got.Replies) != 2 || folders[first] != "Junk Email" || folders[second] != "Junk-E-Mail" {
		t.Errorf("replies %v, want %s from Junk Email and %s from Junk-E-Mail, once each", folders, first, second)
	}
	if um, _ := d.DB().UnmatchedMail(time.Time{}, time.Time{}); len(um) != 1 || um[0].Folder != "Junk Email" {
		t.Errorf("unmatched mail %+v, want the mail without a Message-ID once, from Junk Email", um)
	}
	if !strings.Contains(logs.String(), "folder renamed; continuing from its position") {
		t.Errorf("the log does not say the folder was renamed:\n%s", logs)
	}
	if pos, ok, _ := d.DB().Mailbox("Junk-E-Mail"); !ok || pos.LastUID < 2 {
		t.Errorf("position of Junk-E-Mail = %+v, %v; want it read past both replies", pos, ok)
	}
}
