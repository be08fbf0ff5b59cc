package daemon

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// lockedBuffer collects log lines from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSendMarksWatchedFolders sends a probe through a daemon watching a mail world: the
// send records where INBOX and Junk stood, and the daemon's first sync of the inbox then
// starts from that mark and records the vendor's reply.
func TestSendMarksWatchedFolders(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{linUser, supportUser}, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		dir := t.TempDir()
		pw := writePassword(t, dir, "lin.pass", linUser.Password)
		cfg, err := configs.Parse(worldConfigText(w, filepath.Join(dir, "state"),
			"username: lin.wei@example.com, password_file: "+pw,
			"username: lin.wei@example.com, password_file: "+pw+", append_sent: false"), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		imapSrv, err := MailServer("imap", cfg.Mail.IMAP.Server)
		if err != nil {
			t.Fatal(err)
		}
		// Mail from before the probe, so that the mark is not at UID 1.
		for i := range 3 {
			appendMail(t, imapSrv, fmt.Sprintf("Subject: older %d\r\nMessage-ID: <older-%d@elsewhere.example>\r\n\r\nunrelated\r\n", i, i))
		}
		want := status(t, imapSrv, "INBOX")

		logs := &lockedBuffer{}
		s := &fakeSender{at: time.Now()}
		d, err := New(cfg, Options{Sender: s, NoSchedules: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
		if err != nil {
			t.Fatal(err)
		}
		for _, folder := range []string{"INBOX", "Junk"} {
			m, ok, err := d.DB().FolderMark(folder, p.CreatedAt)
			if err != nil || !ok {
				t.Fatalf("FolderMark(%s, the probe's CreatedAt) = %+v, %v, %v; want the mark taken before the send\nlogs:\n%s", folder, m, ok, err, logs)
			}
			if m.At.After(p.CreatedAt) || m.UIDValidity == 0 || m.UIDNext == 0 {
				t.Errorf("FolderMark(%s) = %+v; want a UIDVALIDITY, a UIDNEXT and At at or before %v", folder, m, p.CreatedAt)
			}
			if folder == "INBOX" && (m.UIDValidity != want.UIDValidity || m.UIDNext != uint32(want.UIDNext)) {
				t.Errorf("INBOX mark = %+v, want UIDVALIDITY %d UIDNEXT %d as STATUS says", m, want.UIDValidity, want.UIDNext)
			}
		}

		// The reply arrives before the daemon ever watched: its first sync starts at the mark.
		vendorReply(t, w, p.MessageID)
		mustRunDaemon(t, d)
		got := waitReplies(t, d, p.ID, 1)
		if r := got.Replies[0]; !strings.Contains(r.Subject, "Streams failing") {
			t.Errorf("reply recorded = %+v, want the vendor's answer", r)
		}
		if !strings.Contains(logs.String(), "first sync from the folder's mark") {
			t.Errorf("the daemon's first sync of INBOX did not start from its mark; logs:\n%s", logs)
		}
	})
}

// TestSendWithoutFolderMarks sends with an IMAP server that hangs up at once: the probe
// still goes out, and no mark is stored.
func TestSendWithoutFolderMarks(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	dir := t.TempDir()
	pw := writePassword(t, dir, "lin.pass", linUser.Password)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cfg, err := configs.Parse(fmt.Appendf(nil, worldConfig, filepath.Join(dir, "state"), "2525", port,
		"username: lin.wei@example.com, password_file: "+pw,
		"username: lin.wei@example.com, password_file: "+pw+", append_sent: false"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	s := &fakeSender{at: time.Now()}
	d, err := New(cfg, Options{Sender: s, NoSchedules: true, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil || len(s.sent) != 1 {
		t.Fatalf("Send() = %+v, %v with %d inquiries sent; want the probe sent although no mark could be taken", p, err, len(s.sent))
	}
	if m, ok, err := d.DB().FolderMark("INBOX", time.Now()); ok || err != nil {
		t.Errorf("FolderMark(INBOX) = %+v, %v, %v; want none", m, ok, err)
	}
	if !strings.Contains(logs.String(), "cannot mark the watched folders before sending") {
		t.Errorf("no warning about the missing marks; logs:\n%s", logs)
	}
}

// appendMail appends raw to INBOX on s.
func appendMail(t *testing.T, s mailbox.Server, raw string) {
	t.Helper()
	c, err := mailbox.DialIMAP(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND to INBOX: %v", err)
	}
}

// status returns STATUS (UIDVALIDITY UIDNEXT) of folder on s.
func status(t *testing.T, s mailbox.Server, folder string) *imap.StatusData {
	t.Helper()
	c, err := mailbox.DialIMAP(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data, err := c.Status(folder, &imap.StatusOptions{UIDValidity: true, UIDNext: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS %s: %v", folder, err)
	}
	return data
}
