package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// imapLogin logs u in to w's IMAP server and logs out when the test ends.
func imapLogin(t *testing.T, w mailworld.World, u mailworld.User) *imapclient.Client {
	t.Helper()
	host, port, _ := net.SplitHostPort(w.IMAPAddr())
	p, _ := strconv.Atoi(port)
	c, err := mailbox.DialIMAP(context.Background(), mailbox.Server{Host: host, Port: p, Security: mailbox.SecurityNone,
		Username: u.Address, Password: u.Password, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Logout().Wait(); c.Close() })
	return c
}

// uidValidity returns folder's UIDVALIDITY.
func uidValidity(t *testing.T, c *imapclient.Client, folder string) uint32 {
	t.Helper()
	st, err := c.Status(folder, &imap.StatusOptions{UIDValidity: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS %s: %v", folder, err)
	}
	return st.UIDValidity
}

// vendorReply is a reply to the inquiry with Message-ID inquiry, from the help desk's
// agent, with its own Message-ID id; lines end in LF.
func vendorReply(id, inquiry, text string) string {
	return fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: %[4]s
Message-ID: <%[1]s>
In-Reply-To: <%[2]s>
References: <%[2]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

%[5]s

Dana
`, id, inquiry, time.Now().Format(time.RFC1123Z), subjectZh, text)
}

// TestUIDValidityChangeEndToEnd: replies that a filter put in Junk are recorded; then Junk
// is deleted and created again (a new UIDVALIDITY, as when a user or a server migration
// recreates a folder), the same replies are put back with new UIDs, and a new one
// arrives. The daemon records the new reply, records none of the old ones again (the
// store deduplicates by Message-ID), misses nothing, and keeps the new UIDVALIDITY as
// the folder's position.
//
// Both worlds: imapmemserver gives a created mailbox the next UIDVALIDITY; Dovecot
// (maildir) derives it from the clock at creation, so the test waits a second between
// DELETE and CREATE (in the same second Dovecot reuses the old value).
func TestUIDValidityChangeEndToEnd(t *testing.T) {
	run := func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		stop := startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("send: exit %d, %s", code, stderr)
		}
		id := strings.TrimSpace(stdout)
		p := waitOutageProbe(t, cfgPath, id, "sent", 20*time.Second, func(p outageProbe) bool { return p.Status == "sent" })
		c := imapLogin(t, w, linUser)

		msgID := func(n string) string { return n + "-" + p.Token + "@helpdesk.acme.example" }
		old := map[string]string{
			msgID("junk1"): vendorReply(msgID("junk1"), p.MessageID, "First answer, filed as spam."),
			msgID("junk2"): vendorReply(msgID("junk2"), p.MessageID, "Second answer, filed as spam too."),
		}
		for _, n := range []string{"junk1", "junk2"} {
			appendTo(t, c, "Junk", old[msgID(n)])
		}
		// Junk is read at the next sweep or wake-up: mail in the INBOX wakes the watcher.
		vendorSend(t, w, "lin.wei@example.com", vendorReply(msgID("inbox1"), p.MessageID, "A third mail, in the inbox."))
		waitOutageProbe(t, cfgPath, id, "3 replies", 20*time.Second, func(p outageProbe) bool { return len(p.Replies) >= 3 })

		before := uidValidity(t, c, "Junk")
		if err := c.Delete("Junk").Wait(); err != nil {
			t.Fatalf("DELETE Junk: %v", err)
		}
		time.Sleep(1100 * time.Millisecond)
		// Dovecot creates Junk again by itself (auto = subscribe) once a client looks.
		var ie *imap.Error
		if err := c.Create("Junk", nil).Wait(); err != nil && !(errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists) {
			t.Fatalf("CREATE Junk: %v", err)
		}
		after := uidValidity(t, c, "Junk")
		t.Logf("Junk UIDVALIDITY %d before DELETE, %d after CREATE", before, after)
		if after == before {
			t.Fatalf("recreated Junk kept UIDVALIDITY %d; the test needs a change", after)
		}
		for _, n := range []string{"junk1", "junk2"} {
			appendTo(t, c, "Junk", old[msgID(n)])
		}
		appendTo(t, c, "Junk", vendorReply(msgID("junk3"), p.MessageID, "A new answer, in the recreated folder."))
		vendorSend(t, w, "lin.wei@example.com", vendorReply(msgID("inbox2"), p.MessageID, "A fourth mail, in the inbox."))

		p = waitOutageProbe(t, cfgPath, id, "5 replies", 20*time.Second, func(p outageProbe) bool { return len(p.Replies) >= 5 })
		// Anything recorded twice would show up within a sync or two.
		time.Sleep(2 * time.Second)
		p = waitOutageProbe(t, cfgPath, id, "history", time.Second, func(outageProbe) bool { return true })
		seen := map[string]int{}
		for _, r := range p.Replies {
			seen[r.MessageID]++
		}
		for _, n := range []string{"junk1", "junk2", "inbox1", "junk3", "inbox2"} {
			if seen[msgID(n)] != 1 {
				t.Errorf("reply %s recorded %d times, want once", msgID(n), seen[msgID(n)])
			}
		}
		if len(p.Replies) != 5 {
			t.Errorf("probe %s has %d replies, want 5: %v", id, len(p.Replies), seen)
		}
		code, stdout, _ = invoke(t, time.Now(), "inbox", "--config", cfgPath, "--unmatched", "--format", "json")
		if code != exitOK || strings.TrimSpace(stdout) != "[]" {
			t.Errorf("inbox --unmatched: exit %d, %s; want no unmatched mail", code, stdout)
		}

		stop()
		db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Check(); err != nil {
			t.Errorf("store Check() = %v", err)
		}
		if st, ok, err := db.Mailbox("Junk"); err != nil || !ok || st.UIDValidity != after || st.LastUID < 3 {
			t.Errorf("stored position of Junk = %+v, %v, %v; want UIDVALIDITY %d and the 3 new UIDs read", st, ok, err, after)
		}
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Memory(t, linUser, supportUser))
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Real(t, linUser, supportUser))
	})
}

// appendTo APPENDs text (lines ending in LF) to folder, dated now.
func appendTo(t *testing.T, c *imapclient.Client, folder string, text string) {
	t.Helper()
	msg := []byte(strings.ReplaceAll(text, "\n", "\r\n"))
	cmd := c.Append(folder, int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		t.Fatalf("APPEND to %s: %v", folder, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("APPEND to %s: %v", folder, err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND to %s: %v", folder, err)
	}
}
