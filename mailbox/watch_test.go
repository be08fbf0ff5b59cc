package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// One user per case, so that the cases share a world and run in parallel.
var (
	wDeliver   = mailworld.User{Address: "w.deliver@example.com", Password: "pw-deliver"}
	wIdle      = mailworld.User{Address: "w.idle@example.com", Password: "pw-idle"}
	wOld       = mailworld.User{Address: "w.old@example.com", Password: "pw-old"}
	wValidity  = mailworld.User{Address: "w.validity@example.com", Password: "pw-validity"}
	wJunk      = mailworld.User{Address: "w.junk@example.com", Password: "pw-junk"}
	wFail      = mailworld.User{Address: "w.fail@example.com", Password: "pw-fail"}
	wLarge     = mailworld.User{Address: "w.large@example.com", Password: "pw-large"}
	wReconnect = mailworld.User{Address: "w.reconnect@example.com", Password: "pw-reconnect"}
	wPoll      = mailworld.User{Address: "w.poll@example.com", Password: "pw-poll"}
	wMark      = mailworld.User{Address: "w.mark@example.com", Password: "pw-mark"}
	wNoMark    = mailworld.User{Address: "w.nomark@example.com", Password: "pw-nomark"}
	watchUsers = []mailworld.User{wDeliver, wIdle, wOld, wValidity, wJunk, wFail, wLarge, wReconnect, wPoll, wMark, wNoMark}
)

func TestWatcher(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, watchUsers, func(t *testing.T, w mailworld.World) {
		t.Parallel()
		tests := []struct {
			name string
			user mailworld.User
			run  func(t *testing.T, w mailworld.World, u mailworld.User)
		}{
			{"delivers new mail once in UID order unread, resumes after restart", wDeliver, testWatchDeliverAndRestart},
			{"IDLE reports new mail promptly", wIdle, testWatchIdleDelay},
			{"first start hands over only mail since Since", wOld, testWatchFirstStartOldMail},
			{"UIDVALIDITY change reads the folder afresh", wValidity, testWatchUIDValidityChange},
			{"sweep finds mail in Junk, missing folder skipped", wJunk, testWatchJunkSweep},
			{"handler error stops the batch and is retried", wFail, testWatchHandlerError},
			{"large message is truncated at MaxSize", wLarge, testWatchLargeMessage},
			{"reconnects after the connection is cut", wReconnect, testWatchReconnect},
			{"polls a server without IDLE", wPoll, testWatchPoll},
			{"first sync starts at the folder's mark", wMark, testWatchFirstSyncFromMark},
			{"first sync without a usable mark searches", wNoMark, testWatchFirstSyncUnusableMark},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.run(t, w, tt.user)
			})
		}
	})
}

func testWatchDeliverAndRestart(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	// Mail from before the first start, with no Since: not ours to report.
	appendMsg(t, srv, "INBOX", testMessage("before the watcher", "before@vendor.example", 0), time.Time{})

	pos := newMemPositions()
	rec := newRecorder()
	watcher, stop := runWatcher(t, srv, pos, rec.handle, WatchOptions{SweepInterval: time.Minute})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	p, ok := pos.get("INBOX")
	if !ok || p.LastUID != 1 {
		t.Errorf("INBOX position after a first sync of an inbox with one message = %+v, %v; want LastUID 1", p, ok)
	}

	sent := map[string][]byte{} // by subject
	before := time.Now()
	for i := range 3 {
		s := fmt.Sprintf("reply %d", i)
		sent[s] = sendMail(t, w, u, s, fmt.Sprintf("reply%d@vendor.example", i))
	}
	after := time.Now()
	got := rec.wait(t, 3, 5*time.Second)
	// In UID order, which need not be the order of sending: Dovecot's maildir numbers
	// the mail that arrived between two scans in directory order.
	checkUIDOrder(t, got)
	for i, m := range got {
		if m.Folder != "INBOX" || m.UIDValidity == 0 || m.Truncated || m.Size != int64(len(m.Raw)) {
			t.Errorf("message %d = %s; want INBOX, a UIDVALIDITY, whole", i, describe(m))
		}
		want, ok := sent[subject(m)]
		delete(sent, subject(m))
		if !ok || !bytes.HasSuffix(m.Raw, want) {
			t.Errorf("message %d Raw = %q, want it to end with what was sent, once", i, m.Raw)
		}
		if m.InternalDate.Before(before.Add(-time.Second)) || m.InternalDate.After(after.Add(time.Second)) {
			t.Errorf("message %d InternalDate = %v, want within the sending [%v, %v]", i, m.InternalDate, before, after)
		}
		if m.DetectedAt.Before(m.InternalDate) {
			t.Errorf("message %d DetectedAt %v is before its InternalDate %v", i, m.DetectedAt, m.InternalDate)
		}
	}
	syncAndSettle(t, watcher)
	if n := len(rec.all()); n != 3 {
		t.Errorf("after another sync the handler got %d messages, want still 3", n)
	}
	stop()

	// Nothing the watcher did may mark mail read or remove it.
	flags := folderFlags(t, srv, "INBOX")
	if len(flags) != 4 {
		t.Errorf("INBOX holds %d messages, want 4", len(flags))
	}
	for uid, f := range flags {
		if slices.Contains(f, imap.FlagSeen) {
			t.Errorf("UID %d has flags %v: the watcher set \\Seen", uid, f)
		}
	}

	// Restart with the same positions: only what arrived meanwhile.
	sendMail(t, w, u, "while down 1", "down1@vendor.example")
	sendMail(t, w, u, "while down 2", "down2@vendor.example")
	rec2 := newRecorder()
	watcher2, _ := runWatcher(t, srv, pos, rec2.handle, WatchOptions{SweepInterval: time.Minute})
	got2 := rec2.wait(t, 2, 5*time.Second)
	syncAndSettle(t, watcher2)
	got2 = rec2.all()
	if len(got2) != 2 || !strings.Contains(string(got2[0].Raw), "while down") || !strings.Contains(string(got2[1].Raw), "while down") {
		t.Errorf("after restart the handler got %v, want the 2 messages sent while down", describeAll(got2))
	}
	checkUIDOrder(t, got2)
	if len(got2) > 0 && got2[0].UID <= got[2].UID {
		t.Errorf("after restart first UID = %d, want above %d", got2[0].UID, got[2].UID)
	}
}

func testWatchIdleDelay(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	rec := newRecorder()
	// Sweeps and polls far away, and the recheck that follows each sync over before
	// sending: only the server's push can report the message in time.
	watcher, _ := runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{SweepInterval: time.Minute, PollInterval: time.Minute})
	for i := range 2 {
		waitUntil(t, "IDLE", 5*time.Second, func() bool { return watcher.State().Idling })
		time.Sleep(recheckDelay + 200*time.Millisecond)
		waitUntil(t, "IDLE after the recheck", 5*time.Second, func() bool { return watcher.State().Idling })
		sendMail(t, w, u, fmt.Sprintf("idle %d", i), fmt.Sprintf("idle%d@vendor.example", i))
		accepted := time.Now()
		rec.wait(t, i+1, 3*time.Second)
		delay := rec.calledAt(i).Sub(accepted)
		t.Logf("IDLE detection delay (SMTP 250 to handler call), message %d: %v", i, delay.Round(time.Millisecond))
		if delay > recheckDelay {
			t.Errorf("IDLE detection delay %v, want well under the 1 min sweep: a push", delay)
		}
	}
}

func testWatchFirstStartOldMail(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	now := time.Now()
	// Old mail between the new in UID order: the date decides, not the UID.
	appendMsg(t, srv, "INBOX", testMessage("old 1", "old1@vendor.example", 0), now.Add(-10*24*time.Hour))
	appendMsg(t, srv, "INBOX", testMessage("new 1", "new1@vendor.example", 0), time.Time{})
	appendMsg(t, srv, "INBOX", testMessage("old 2", "old2@vendor.example", 0), now.Add(-10*24*time.Hour))
	// Within SEARCH SINCE's extra day, but older than Since.
	appendMsg(t, srv, "INBOX", testMessage("old 3", "old3@vendor.example", 0), now.Add(-30*time.Hour))
	last := appendMsg(t, srv, "INBOX", testMessage("new 2", "new2@vendor.example", 0), time.Time{})

	pos := newMemPositions()
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, pos, rec.handle, WatchOptions{
		SweepInterval: time.Minute,
		Since:         func() time.Time { return now.Add(-24 * time.Hour) },
	})
	rec.wait(t, 2, 5*time.Second)
	syncAndSettle(t, watcher)
	if got := subjects(rec.all()); !slices.Equal(got, []string{"new 1", "new 2"}) {
		t.Errorf("first start handed over %q, want [new 1, new 2]", got)
	}
	if p, _ := pos.get("INBOX"); p.LastUID != uint32(last) {
		t.Errorf("INBOX position = %+v, want LastUID %d", p, last)
	}
}

func testWatchUIDValidityChange(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	appendMsg(t, srv, "INBOX", testMessage("old", "old@vendor.example", 0), time.Now().Add(-10*24*time.Hour))
	last := appendMsg(t, srv, "INBOX", testMessage("new", "new@vendor.example", 0), time.Time{})
	validity := uidValidity(t, srv, "INBOX")

	// A position from another incarnation of the folder: its UIDs mean nothing now.
	pos := newMemPositions()
	pos.SetPosition("INBOX", Position{UIDValidity: validity + 1, LastUID: 999})
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, pos, rec.handle, WatchOptions{
		SweepInterval: time.Minute,
		Since:         func() time.Time { return time.Now().Add(-time.Hour) },
	})
	rec.wait(t, 1, 5*time.Second)
	syncAndSettle(t, watcher)
	if got := subjects(rec.all()); !slices.Equal(got, []string{"new"}) {
		t.Errorf("after the UIDVALIDITY change the handler got %q, want [new]", got)
	}
	if p, _ := pos.get("INBOX"); p != (Position{UIDValidity: validity, LastUID: uint32(last)}) {
		t.Errorf("INBOX position = %+v, want {%d %d}", p, validity, last)
	}
}

func testWatchJunkSweep(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	rec := newRecorder()
	pos := newMemPositions()
	watcher, _ := runWatcher(t, srv, pos, rec.handle, WatchOptions{
		Folders:       []string{"INBOX", "Junk", "No Such Folder"},
		SweepInterval: 300 * time.Millisecond,
	})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	if _, ok := pos.get("No Such Folder"); ok {
		t.Error("a position was stored for a folder that does not exist")
	}

	uid := appendMsg(t, srv, "Junk", testMessage("looks like spam", "spam@vendor.example", 0), time.Time{})
	got := rec.wait(t, 1, 3*time.Second)
	if got[0].Folder != "Junk" || got[0].UID != uint32(uid) {
		t.Errorf("handler got %s, want Junk UID %d", describe(got[0]), uid)
	}
	sendMail(t, w, u, "in the inbox", "inbox@vendor.example")
	got = rec.wait(t, 2, 3*time.Second)
	if got[1].Folder != "INBOX" {
		t.Errorf("handler got %s, want the INBOX message", describe(got[1]))
	}
	if st := watcher.State(); !st.Connected || st.LastError != nil {
		t.Errorf("State() = %+v, want connected and no error: a missing folder is no failure", st)
	}

	// A complete sync that began after a message was in a folder has handed it over,
	// also in a folder the server does not push (the follow-ups rely on this before a
	// reminder).
	appendMsg(t, srv, "Junk", testMessage("more spam", "spam2@vendor.example", 0), time.Time{})
	inFolder := time.Now()
	watcher.SyncNow()
	waitUntil(t, "a sync begun after the append", 5*time.Second, func() bool {
		return !watcher.State().LastSyncStarted.Before(inFolder)
	})
	t.Logf("a sync covering the append completed %s after it was asked for", time.Since(inFolder))
	if got := rec.all(); len(got) != 3 || subject(got[2]) != "more spam" {
		t.Errorf("once LastSyncStarted passed the append the handler had %v, want the new Junk message too", describeAll(got))
	}
	if st := watcher.State(); st.LastSyncStarted.After(st.LastSync) {
		t.Errorf("LastSyncStarted %v is after LastSync %v", st.LastSyncStarted, st.LastSync)
	}
}

func testWatchHandlerError(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	a := appendMsg(t, srv, "INBOX", testMessage("A", "a@vendor.example", 0), time.Time{})
	appendMsg(t, srv, "INBOX", testMessage("X, old", "x@vendor.example", 0), time.Now().Add(-10*24*time.Hour))
	appendMsg(t, srv, "INBOX", testMessage("B", "b@vendor.example", 0), time.Time{})
	appendMsg(t, srv, "INBOX", testMessage("C", "c@vendor.example", 0), time.Time{})

	pos := newMemPositions()
	rec := newRecorder()
	failed := map[string]bool{}
	rec.fail = func(m Fetched) error {
		s := subject(m)
		if (s == "B" || s == "D") && !failed[s] {
			failed[s] = true
			return errors.New("store is down")
		}
		return nil
	}
	watcher, _ := runWatcher(t, srv, pos, rec.handle, WatchOptions{
		SweepInterval: time.Minute,
		Since:         func() time.Time { return time.Now().Add(-time.Hour) },
	})
	// A first sync: A handled, B fails, C waits.
	waitUntil(t, "B's failure", 5*time.Second, func() bool { return len(rec.attempts()) >= 2 })
	waitUntil(t, "IDLE after the failure", 5*time.Second, func() bool { return watcher.State().Idling })
	if got := rec.attempts(); !slices.Equal(got, []string{"A", "B"}) {
		t.Errorf("attempts = %q, want [A B]: the batch stops at the failure", got)
	}
	if p, _ := pos.get("INBOX"); p.LastUID < uint32(a) || p.LastUID >= uint32(a)+2 {
		t.Errorf("INBOX position after B failed = %+v, want past A (%d) and the old X, before B", p, a)
	}
	if err := watcher.State().LastError; err == nil || !strings.Contains(err.Error(), "store is down") {
		t.Errorf("State().LastError = %v, want the handler's error", err)
	}
	watcher.SyncNow()
	rec.wait(t, 3, 5*time.Second)
	if got := subjects(rec.all()); !slices.Equal(got, []string{"A", "B", "C"}) {
		t.Errorf("handled = %q, want [A B C] (X is older than Since)", got)
	}

	// The same in a steady-state sync. (E is sent after D's failure: mail that lands
	// together gets its UIDs in maildir's directory order, not in the order sent.)
	sendMail(t, w, u, "D", "d@vendor.example")
	waitUntil(t, "D's failure", 5*time.Second, func() bool { return slices.Contains(rec.attempts(), "D") })
	waitUntil(t, "IDLE after the failure", 5*time.Second, func() bool { return watcher.State().Idling })
	sendMail(t, w, u, "E", "e@vendor.example")
	rec.wait(t, 5, 5*time.Second)
	syncAndSettle(t, watcher)
	if got := subjects(rec.all()); !slices.Equal(got, []string{"A", "B", "C", "D", "E"}) {
		t.Errorf("handled = %q, want [A B C D E]", got)
	}
	if got := rec.attempts(); !slices.Equal(got, []string{"A", "B", "B", "C", "D", "D", "E"}) {
		t.Errorf("attempts = %q, want [A B B C D D E]", got)
	}
}

func testWatchLargeMessage(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	big := testMessage("big", "big@vendor.example", 20000)
	small := testMessage("small", "small@vendor.example", 0)
	appendMsg(t, srv, "INBOX", big, time.Time{})
	appendMsg(t, srv, "INBOX", small, time.Time{})
	rec := newRecorder()
	runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{
		SweepInterval: time.Minute,
		MaxSize:       1024,
		Since:         func() time.Time { return time.Now().Add(-time.Hour) },
	})
	got := rec.wait(t, 2, 5*time.Second)
	if m := got[0]; !m.Truncated || len(m.Raw) != 1024 || m.Size != int64(len(big)) || !bytes.Equal(m.Raw, big[:1024]) {
		t.Errorf("big message = %s, want the first 1024 of %d bytes, truncated", describe(m), len(big))
	}
	if m := got[1]; m.Truncated || !bytes.Equal(m.Raw, small) || m.Size != int64(len(small)) {
		t.Errorf("small message = %s, want all %d bytes", describe(m), len(small))
	}
}

func testWatchReconnect(t *testing.T, w mailworld.World, u mailworld.User) {
	proxy := startProxy(t, w.IMAPAddr(), false)
	srv := serverAt(t, proxy.addr(), SecurityNone, u)
	rec := newRecorder()
	logs := newLogCapture(t)
	// OnDisconnect reports each lost connection once, after State shows it.
	var self atomic.Pointer[Watcher]
	var disconnects, stillConnected atomic.Int32
	// OnConnectSynced reports each connection's first complete sync once, after State
	// shows it.
	var syncs, notSynced atomic.Int32
	watcher, _ := runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{
		SweepInterval: time.Minute,
		Backoff:       20 * time.Millisecond,
		MaxBackoff:    100 * time.Millisecond,
		Logger:        logs.logger(),
		OnDisconnect: func() {
			if w := self.Load(); w != nil && w.State().Connected {
				stillConnected.Add(1)
			}
			disconnects.Add(1)
		},
		OnConnectSynced: func() {
			if w := self.Load(); w != nil && (!w.State().Connected || w.State().LastSync.IsZero()) {
				notSynced.Add(1)
			}
			syncs.Add(1)
		},
	})
	self.Store(watcher)
	waitUntil(t, "IDLE", 5*time.Second, func() bool { return watcher.State().Idling })
	if n := disconnects.Load(); n != 0 {
		t.Errorf("OnDisconnect called %d times before any connection ended", n)
	}
	if n := syncs.Load(); n != 1 {
		t.Errorf("OnConnectSynced called %d times on the first connection, want once", n)
	}

	// The server goes away for a while: the connection drops, reconnections are refused.
	dials := proxy.accepted()
	proxy.setDown(true)
	proxy.cut()
	waitUntil(t, "the watcher to notice", 5*time.Second, func() bool { return !watcher.State().Connected })
	waitUntil(t, "OnDisconnect", 5*time.Second, func() bool { return disconnects.Load() == 1 })
	if n := stillConnected.Load(); n != 0 {
		t.Errorf("OnDisconnect saw State().Connected true %d times, want it called after the state changed", n)
	}
	waitUntil(t, "two failed reconnections", 5*time.Second, func() bool { return proxy.accepted() >= dials+2 })
	if err := watcher.State().LastError; err == nil {
		t.Error("State().LastError = nil after the connection was cut")
	}
	sendMail(t, w, u, "sent while cut off", "cut@vendor.example")
	proxy.setDown(false)
	got := rec.wait(t, 1, 5*time.Second)
	if subject(got[0]) != "sent while cut off" {
		t.Errorf("handler got %s", describe(got[0]))
	}
	waitUntil(t, "IDLE again", 5*time.Second, func() bool { return watcher.State().Idling })
	if n := syncs.Load(); n != 2 {
		t.Errorf("OnConnectSynced called %d times after a reconnection, want twice (once per connection)", n)
	}
	if n := notSynced.Load(); n != 0 {
		t.Errorf("OnConnectSynced saw no sync in State %d times, want it called after the sync was recorded", n)
	}

	// And the new connection watches as the old one did.
	sendMail(t, w, u, "after reconnect", "after@vendor.example")
	got = rec.wait(t, 2, 5*time.Second)
	if subject(got[1]) != "after reconnect" {
		t.Errorf("handler got %s", describe(got[1]))
	}
	// A dead connection that had synced retries after Backoff; refusals double it.
	if r := logs.retries(); len(r) < 3 || !slices.Equal(r[:3], []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond}) {
		t.Errorf("logged retry_in = %v, want it to start [20ms 40ms 80ms]", r)
	}

	// A second cut after a successful sync starts over from Backoff.
	n := len(logs.retries())
	proxy.cut()
	waitUntil(t, "a reconnection", 5*time.Second, func() bool { return len(logs.retries()) > n })
	if r := logs.retries()[n]; r != 20*time.Millisecond {
		t.Errorf("retry_in after a cut that followed a successful sync = %v, want 20ms", r)
	}
}

func testWatchPoll(t *testing.T, w mailworld.World, u mailworld.User) {
	// The proxy hides IDLE from the capabilities, as some servers lack it.
	proxy := startProxy(t, w.IMAPAddr(), true)
	srv := serverAt(t, proxy.addr(), SecurityNone, u)
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{
		SweepInterval: time.Minute,
		PollInterval:  200 * time.Millisecond,
	})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	sendMail(t, w, u, "polled", "polled@vendor.example")
	accepted := time.Now()
	rec.wait(t, 1, 3*time.Second)
	t.Logf("poll detection delay: %v", rec.calledAt(0).Sub(accepted).Round(time.Millisecond))
	if st := watcher.State(); st.Idling || !st.Connected {
		t.Errorf("State() = %+v, want connected and not idling", st)
	}
}

// appendAroundMark fills u's INBOX with mail before and after a mark taken by
// MarkFolders: before it, "early" dated a minute before and "dated later" with an
// INTERNALDATE an hour ahead (a date search since the mark finds it); after it, "after
// 1", "after, dated long ago" and "after 2". It returns the mark and the last UID.
func appendAroundMark(t *testing.T, srv Server) (Mark, imap.UID) {
	t.Helper()
	now := time.Now()
	appendMsg(t, srv, "INBOX", testMessage("early", "early@vendor.example", 0), now.Add(-time.Minute))
	dated := appendMsg(t, srv, "INBOX", testMessage("dated later", "dated@vendor.example", 0), now.Add(time.Hour))
	marks, err := MarkFolders(context.Background(), srv, []string{"INBOX", "No Such Folder"}, nil)
	if len(marks) != 1 || err == nil || !strings.Contains(err.Error(), "STATUS No Such Folder") {
		t.Fatalf("MarkFolders(INBOX, No Such Folder) = %+v, %v; want INBOX's mark and an error naming the missing folder", marks, err)
	}
	m := marks[0]
	if want := (Mark{Folder: "INBOX", UIDValidity: uidValidity(t, srv, "INBOX"), UIDNext: uint32(dated) + 1, At: m.At}); m != want {
		t.Fatalf("MarkFolders(INBOX) = %+v, want %+v", m, want)
	}
	if m.At.Before(now) || m.At.After(time.Now()) {
		t.Errorf("mark At = %v, want between the call's start %v and its end", m.At, now)
	}
	appendMsg(t, srv, "INBOX", testMessage("after 1", "after1@vendor.example", 0), time.Time{})
	appendMsg(t, srv, "INBOX", testMessage("after, dated long ago", "afterold@vendor.example", 0), now.Add(-10*24*time.Hour))
	last := appendMsg(t, srv, "INBOX", testMessage("after 2", "after2@vendor.example", 0), time.Time{})
	return m, last
}

func testWatchFirstSyncFromMark(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	mark, last := appendAroundMark(t, srv)
	since := mark.At // the oldest open probe was created just after the mark
	var mu sync.Mutex
	var asked []string
	pos := newMemPositions()
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, pos, rec.handle, WatchOptions{
		Folders:       []string{"INBOX"},
		SweepInterval: time.Minute,
		Since:         func() time.Time { return since },
		Mark: func(folder string, at time.Time) (Mark, bool, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, fmt.Sprintf("%s at %v", folder, at.Equal(since)))
			return mark, folder == "INBOX", nil
		},
	})
	rec.wait(t, 2, 5*time.Second)
	syncAndSettle(t, watcher)
	// "dated later" would match a search by date: only the mark keeps it out.
	if got := subjects(rec.all()); !slices.Equal(got, []string{"after 1", "after 2"}) {
		t.Errorf("first sync from the mark handed over %q, want [after 1, after 2]", got)
	}
	if p, _ := pos.get("INBOX"); p.LastUID != uint32(last) {
		t.Errorf("INBOX position = %+v, want LastUID %d", p, last)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(asked, []string{"INBOX at true"}) {
		t.Errorf("Mark was asked %q, want once, for INBOX at Since", asked)
	}
}

func testWatchFirstSyncUnusableMark(t *testing.T, w mailworld.World, u mailworld.User) {
	srv := imapServer(t, w, u)
	mark, last := appendAroundMark(t, srv)
	since := mark.At
	stale, later, beyond := mark, mark, mark
	stale.UIDValidity++
	later.At = since.Add(time.Second)
	beyond.UIDNext = uint32(last) + 2
	tests := []struct {
		name string
		mark func(string, time.Time) (Mark, bool, error)
	}{
		{"none", func(string, time.Time) (Mark, bool, error) { return Mark{}, false, nil }},
		{"stale UIDVALIDITY", func(string, time.Time) (Mark, bool, error) { return stale, true, nil }},
		{"taken after Since", func(string, time.Time) (Mark, bool, error) { return later, true, nil }},
		{"beyond UIDNEXT", func(string, time.Time) (Mark, bool, error) { return beyond, true, nil }},
		{"unreadable", func(string, time.Time) (Mark, bool, error) { return Mark{}, false, errors.New("store is down") }},
	}
	// One after another on the same inbox, each a first sync (fresh positions).
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos := newMemPositions()
			rec := newRecorder()
			watcher, stop := runWatcher(t, srv, pos, rec.handle, WatchOptions{
				Folders:       []string{"INBOX"},
				SweepInterval: time.Minute,
				Since:         func() time.Time { return since },
				Mark:          tt.mark,
			})
			defer stop()
			rec.wait(t, 3, 5*time.Second)
			syncAndSettle(t, watcher)
			if got := subjects(rec.all()); !slices.Equal(got, []string{"dated later", "after 1", "after 2"}) {
				t.Errorf("first sync handed over %q, want what a search by date finds: [dated later, after 1, after 2]", got)
			}
			if p, _ := pos.get("INBOX"); p.LastUID != uint32(last) {
				t.Errorf("INBOX position = %+v, want LastUID %d", p, last)
			}
			if st := watcher.State(); st.LastError != nil {
				t.Errorf("State().LastError = %v, want none: an unusable mark is no failure", st.LastError)
			}
		})
	}
}

func TestWatcherRunRejectsBadSetup(t *testing.T) {
	t.Parallel()
	good := Server{Host: "127.0.0.1", Port: 143, Security: SecurityNone, Username: "u", Password: "p"}
	noop := func(context.Context, Fetched) error { return nil }
	tests := []struct {
		name string
		srv  Server
		pos  Positions
		h    Handler
		want string
	}{
		{"no positions", good, nil, noop, "no Positions"},
		{"no handler", good, newMemPositions(), nil, "no Handler"},
		{"no host", Server{Port: 143, Username: "u"}, newMemPositions(), noop, "imap: no host"},
		{"no username", Server{Host: "127.0.0.1", Port: 143, Security: SecurityNone}, newMemPositions(), noop, "no username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewWatcher(tt.srv, tt.pos, tt.h, WatchOptions{}).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestWatcherBacksOffWhileTheServerIsDown(t *testing.T) {
	t.Parallel()
	ln := listen(t)
	var mu sync.Mutex
	var dials []time.Time
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			dials = append(dials, time.Now())
			mu.Unlock()
			c.Close() // no greeting
		}
	}()
	srv := serverAt(t, ln.Addr().String(), SecurityNone, lin)
	logs := newLogCapture(t)
	watcher, stop := runWatcher(t, srv, newMemPositions(), func(context.Context, Fetched) error { return nil },
		WatchOptions{Backoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond, Logger: logs.logger()})
	waitUntil(t, "6 dials", 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(dials) >= 6 })
	stop()
	if st := watcher.State(); st.Connected || st.LastError == nil || !st.LastSync.IsZero() {
		t.Errorf("State() = %+v, want disconnected, with an error, never synced", st)
	}
	mu.Lock()
	defer mu.Unlock()
	// Waits of 20, 40, 80, 80, 80 ms: doubling, capped at MaxBackoff, never reset
	// (no sync got through).
	want := []time.Duration{20, 40, 80, 80, 80}
	for i, d := range want {
		d *= time.Millisecond
		if gap := dials[i+1].Sub(dials[i]); gap < d {
			t.Errorf("gap before dial %d = %v, want at least %v", i+2, gap, d)
		}
	}
	if got := logs.retries(); len(got) < len(want) || !slices.Equal(got[:len(want)], scaled(want, time.Millisecond)) {
		t.Errorf("logged retry_in = %v, want it to start %v ms", got, want)
	}
}

// memPositions is Positions in memory.
type memPositions struct {
	mu sync.Mutex
	m  map[string]Position
}

func newMemPositions() *memPositions { return &memPositions{m: make(map[string]Position)} }

func (p *memPositions) Position(folder string) (Position, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pos, ok := p.m[folder]
	return pos, ok, nil
}

func (p *memPositions) SetPosition(folder string, pos Position) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m[folder] = pos
	return nil
}

func (p *memPositions) get(folder string) (Position, bool) {
	pos, ok, _ := p.Position(folder)
	return pos, ok
}

// recorder is a Handler that keeps what it was given. fail, if set, decides (on Run's
// goroutine) whether a message fails.
type recorder struct {
	fail func(m Fetched) error

	mu     sync.Mutex
	got    []Fetched
	at     []time.Time
	tried  []string
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) handle(_ context.Context, m Fetched) error {
	now := time.Now()
	var err error
	if r.fail != nil {
		err = r.fail(m)
	}
	r.mu.Lock()
	r.tried = append(r.tried, subject(m))
	if err == nil {
		r.got = append(r.got, m)
		r.at = append(r.at, now)
	}
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
	return err
}

func (r *recorder) all() []Fetched {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func (r *recorder) attempts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tried)
}

func (r *recorder) calledAt(i int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[i]
}

// wait returns the handled messages once there are at least n, failing the test after
// within.
func (r *recorder) wait(t *testing.T, n int, within time.Duration) []Fetched {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		if got := r.all(); len(got) >= n {
			return got
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			t.Fatalf("handler got %d messages within %v, want %d: %v", len(r.all()), within, n, describeAll(r.all()))
		}
	}
}

// runWatcher runs a Watcher until the returned stop is called or the test ends, and
// checks that Run returns nil promptly.
func runWatcher(t *testing.T, s Server, pos Positions, h Handler, opts WatchOptions) (*Watcher, func()) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	w := NewWatcher(s, pos, h, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run = %v, want nil after the context ends", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return within 5 s of the context ending")
			}
		})
	}
	t.Cleanup(stop)
	return w, stop
}

type testWriter struct{ t *testing.T }

// logCapture is a logger for a Watcher that logs to the test and keeps every retry_in.
type logCapture struct {
	slog.Handler
	mu    *sync.Mutex
	waits *[]time.Duration
}

func newLogCapture(t *testing.T) *logCapture {
	return &logCapture{
		Handler: slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}),
		mu:      new(sync.Mutex),
		waits:   new([]time.Duration),
	}
}

func (l *logCapture) logger() *slog.Logger { return slog.New(l) }

func (l *logCapture) Handle(ctx context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "retry_in" {
			l.mu.Lock()
			*l.waits = append(*l.waits, a.Value.Duration())
			l.mu.Unlock()
		}
		return true
	})
	return l.Handler.Handle(ctx, r)
}

func (l *logCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logCapture{Handler: l.Handler.WithAttrs(attrs), mu: l.mu, waits: l.waits}
}

func (l *logCapture) WithGroup(name string) slog.Handler {
	return &logCapture{Handler: l.Handler.WithGroup(name), mu: l.mu, waits: l.waits}
}

func (l *logCapture) retries() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(*l.waits)
}

func scaled(ds []time.Duration, unit time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d * unit
	}
	return out
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// syncAndSettle asks for a sync and waits until one has completed after the request.
func syncAndSettle(t *testing.T, w *Watcher) {
	t.Helper()
	asked := time.Now()
	w.SyncNow()
	waitUntil(t, "a sync after SyncNow", 5*time.Second, func() bool {
		st := w.State()
		return st.LastSync.After(asked) && st.Idling
	})
}

func waitUntil(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testMessage is a vendor's reply with subject and Message-ID, padded to about pad bytes.
func testMessage(subject, id string, pad int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Help Desk <help@vendor.example>\r\nTo: someone@example.com\r\nSubject: %s\r\n", subject)
	fmt.Fprintf(&b, "Message-ID: <%s>\r\nDate: %s\r\nMIME-Version: 1.0\r\n", id, time.Now().Format(time.RFC1123Z))
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\nThanks for your message.\r\n")
	for b.Len() < pad {
		b.WriteString("0123456789 abcdefghijklmnopqrstuvwxyz 0123456789 abcdefghijklmnopqrstuvwxyz.\r\n")
	}
	return b.Bytes()
}

// sendMail sends a vendor's reply to u over SMTP and returns the bytes sent.
func sendMail(t *testing.T, w mailworld.World, u mailworld.User, subject, id string) []byte {
	t.Helper()
	raw := testMessage(subject, id, 0)
	// Not smtp.SendMail: it insists on STARTTLS, which the worlds do not offer.
	c, err := smtp.Dial(w.SMTPAddr())
	if err != nil {
		t.Fatalf("send %q to %s: %v", subject, u.Address, err)
	}
	defer c.Close()
	if err := c.SendMail("help@vendor.example", []string{u.Address}, bytes.NewReader(raw)); err != nil {
		t.Fatalf("send %q to %s: %v", subject, u.Address, err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("send %q to %s: QUIT: %v", subject, u.Address, err)
	}
	return raw
}

// appendMsg appends raw to folder with date as its INTERNALDATE (zero: the server's now)
// and returns its UID.
func appendMsg(t *testing.T, s Server, folder string, raw []byte, date time.Time) imap.UID {
	t.Helper()
	c := mustDialIMAP(t, s)
	cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Time: date})
	cmd.Write(raw)
	cmd.Close()
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("APPEND to %s: %v", folder, err)
	}
	if data.UID == 0 {
		t.Fatalf("APPEND to %s: no APPENDUID", folder)
	}
	return data.UID
}

func uidValidity(t *testing.T, s Server, folder string) uint32 {
	t.Helper()
	data, err := mustDialIMAP(t, s).Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("EXAMINE %s: %v", folder, err)
	}
	return data.UIDValidity
}

// folderFlags returns the flags of every message in folder, by UID.
func folderFlags(t *testing.T, s Server, folder string) map[imap.UID][]imap.Flag {
	t.Helper()
	c := mustDialIMAP(t, s)
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("EXAMINE %s: %v", folder, err)
	}
	msgs, err := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil {
		t.Fatalf("UID FETCH 1:* FLAGS: %v", err)
	}
	flags := make(map[imap.UID][]imap.Flag)
	for _, m := range msgs {
		flags[m.UID] = m.Flags
	}
	return flags
}

func checkUIDOrder(t *testing.T, got []Fetched) {
	t.Helper()
	for i := 1; i < len(got); i++ {
		if got[i].Folder == got[i-1].Folder && got[i].UID <= got[i-1].UID {
			t.Errorf("handler got UID %d after %d in %s: want ascending UIDs, each once", got[i].UID, got[i-1].UID, got[i].Folder)
		}
	}
}

func subject(m Fetched) string {
	for line := range strings.SplitSeq(string(m.Raw), "\r\n") {
		if s, ok := strings.CutPrefix(line, "Subject: "); ok {
			return s
		}
		if line == "" {
			break
		}
	}
	return ""
}

func subjects(ms []Fetched) []string {
	var s []string
	for _, m := range ms {
		s = append(s, subject(m))
	}
	return s
}

func describe(m Fetched) string {
	return fmt.Sprintf("{%s %d/%d %q size %d raw %d truncated %v at %v}",
		m.Folder, m.UIDValidity, m.UID, subject(m), m.Size, len(m.Raw), m.Truncated, m.InternalDate)
}

func describeAll(ms []Fetched) []string {
	var s []string
	for _, m := range ms {
		s = append(s, describe(m))
	}
	return s
}

// tcpProxy forwards connections to an IMAP server; the test can cut them, refuse new
// ones, or hide IDLE from the capabilities the server announces.
type tcpProxy struct {
	ln     net.Listener
	target string
	noIdle bool

	mu    sync.Mutex
	conns []net.Conn
	n     int
	down  bool
}

func startProxy(t *testing.T, target string, noIdle bool) *tcpProxy {
	t.Helper()
	p := &tcpProxy{ln: listen(t), target: target, noIdle: noIdle}
	go p.serve()
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// setDown makes the proxy close new connections at once (true) or forward them (false).
func (p *tcpProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

// cut closes every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.n++
		down := p.down
		p.mu.Unlock()
		if down {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go func() {
			io.Copy(server, client)
			server.Close()
			client.Close()
		}()
		go func() {
			if p.noIdle {
				hideIdle(client, server)
			} else {
				io.Copy(client, server)
			}
			server.Close()
			client.Close()
		}()
	}
}

// hideIdle copies the server's lines to the client, taking IDLE out of capability lists.
func hideIdle(client io.Writer, server io.Reader) {
	r := bufio.NewReader(server)
	for {
		line, err := r.ReadString('\n')
		if strings.Contains(line, "CAPABILITY") {
			line = strings.ReplaceAll(line, " IDLE", "")
		}
		if _, werr := io.WriteString(client, line); werr != nil || err != nil {
			return
		}
	}
}
