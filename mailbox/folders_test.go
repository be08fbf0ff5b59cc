package mailbox

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

func TestSpecialUseEntry(t *testing.T) {
	tests := []struct {
		entry   string
		attr    imap.MailboxAttr
		special bool
		err     string
	}{
		{"INBOX", "", false, ""},
		{"Junk", "", false, ""},
		{"Junk Email", "", false, ""},
		{`\Junk`, imap.MailboxAttrJunk, true, ""},
		{`\junk`, imap.MailboxAttrJunk, true, ""},
		{`\Archive`, imap.MailboxAttrArchive, true, ""},
		{`\Trash`, imap.MailboxAttrTrash, true, ""},
		{`\Sent`, "", false, "our own or duplicated mail"},
		{`\All`, "", false, "our own or duplicated mail"},
		{`\Jnuk`, "", false, "not a special-use attribute"},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			attr, special, err := SpecialUseEntry(tt.entry)
			if attr != tt.attr || special != tt.special || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("SpecialUseEntry(%q) = %q, %v, %v; want %q, %v, error containing %q", tt.entry, attr, special, err, tt.attr, tt.special, tt.err)
			}
		})
	}
}

func TestPickFolder(t *testing.T) {
	box := func(name string, attrs ...imap.MailboxAttr) *imap.ListData {
		return &imap.ListData{Mailbox: name, Delim: '.', Attrs: attrs}
	}
	tests := []struct {
		name  string
		boxes []*imap.ListData
		want  WatchedFolder
	}{
		{"marked wins over the usual name", []*imap.ListData{box("INBOX"), box("Junk"), box("[Gmail]/Spam", imap.MailboxAttrJunk)},
			WatchedFolder{`\Junk`, "[Gmail]/Spam", ChosenBySpecialUse}},
		{"no mark: Junk", []*imap.ListData{box("INBOX"), box("Spam"), box("Junk")}, WatchedFolder{`\Junk`, "Junk", ChosenByFallback}},
		{"no mark: Spam under INBOX", []*imap.ListData{box("INBOX"), box("INBOX.spam")}, WatchedFolder{`\Junk`, "INBOX.spam", ChosenByFallback}},
		{"no mark, no usual name", []*imap.ListData{box("INBOX"), box("Unerwünscht")}, WatchedFolder{Entry: `\Junk`, Chosen: ChosenNone}},
		{"a marked folder that cannot be selected is no folder", []*imap.ListData{box("Junk Email", imap.MailboxAttrJunk, imap.MailboxAttrNoSelect)},
			WatchedFolder{Entry: `\Junk`, Chosen: ChosenNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickFolder(`\Junk`, imap.MailboxAttrJunk, tt.boxes); got != tt.want {
				t.Errorf("pickFolder = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// lineLog collects a Watcher's log lines.
type lineLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lineLog) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

var junkEmail = []mailworld.Folder{{Name: "Sent", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrSent}},
	{Name: "Junk Email", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}, {Name: "Junk"}}

// TestWatcherFindsJunkBySpecialUse: with the default folders the Watcher reads the folder
// the server marks \Junk ("Junk Email", as Microsoft 365 calls it), not the plain "Junk"
// beside it; when that folder is renamed while the Watcher runs, it finds it under its
// new name at the next sync.
func TestWatcherFindsJunkBySpecialUse(t *testing.T) {
	t.Parallel()
	u := mailworld.User{Address: "junk.email@example.com", Password: "pw-junk-email"}
	w := mailworldtest.Memory(t)
	if err := w.AddUserWithFolders(u, junkEmail...); err != nil {
		t.Fatal(err)
	}
	srv := imapServer(t, w, u)
	rec := newRecorder()
	pos := newMemPositions()
	watcher, _ := runWatcher(t, srv, pos, rec.handle, WatchOptions{SweepInterval: time.Minute})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	want := []WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {`\Junk`, "Junk Email", ChosenBySpecialUse}}
	if got := watcher.State().Folders; !equalFolders(got, want) {
		t.Fatalf("State().Folders = %v, want %v", got, want)
	}
	if s := want[1].String(); s != `Junk Email (\Junk, SPECIAL-USE)` {
		t.Errorf("String() = %q", s)
	}

	appendMsg(t, srv, "Junk", testMessage("in the plain Junk folder", "plain@vendor.example", 0), time.Time{})
	uid := appendMsg(t, srv, "Junk Email", testMessage("filed as junk", "junk@vendor.example", 0), time.Time{})
	watcher.SyncNow()
	got := rec.wait(t, 1, 5*time.Second)
	if got[0].Folder != "Junk Email" || got[0].UID != uint32(uid) {
		t.Errorf("handler got %s, want Junk Email UID %d", describe(got[0]), uid)
	}
	syncAndSettle(t, watcher)
	if all := rec.all(); len(all) != 1 {
		t.Errorf("handler got %v, want only the message in Junk Email: plain Junk is not the junk folder", describeAll(all))
	}
	if _, ok := pos.get("Junk"); ok {
		t.Error("a position was stored for the plain Junk folder, which is not watched")
	}

	// The account's language changes: Exchange renames the folder, which keeps its
	// attribute and its messages.
	c := mustDialIMAP(t, srv)
	if err := c.Rename("Junk Email", "Junk-E-Mail", nil).Wait(); err != nil {
		t.Fatalf("RENAME: %v", err)
	}
	c.Close()
	watcher.SyncNow()
	waitUntil(t, "the renamed folder found", 5*time.Second, func() bool {
		fs := watcher.State().Folders
		return len(fs) == 2 && fs[1].Name == "Junk-E-Mail"
	})
	syncAndSettle(t, watcher)
	uid = appendMsg(t, srv, "Junk-E-Mail", testMessage("filed as junk after the rename", "junk2@vendor.example", 0), time.Time{})
	watcher.SyncNow()
	got = rec.wait(t, 2, 5*time.Second)
	if got[1].Folder != "Junk-E-Mail" || got[1].UID != uint32(uid) {
		t.Errorf("handler got %s, want Junk-E-Mail UID %d", describe(got[1]), uid)
	}
	if st := watcher.State(); st.LastError != nil {
		t.Errorf("State().LastError = %v; a renamed folder is no failure", st.LastError)
	}
}

// TestWatcherJunkFallbackByName: a server that marks no folder \Junk (the in-process
// world's default accounts, like a server without SPECIAL-USE) gets its "Junk" folder
// watched by name, said once in the log however often the Watcher reconnects.
func TestWatcherJunkFallbackByName(t *testing.T) {
	t.Parallel()
	u := mailworld.User{Address: "no.special@example.com", Password: "pw-no-special"}
	w := mailworldtest.Memory(t, u)
	proxy := startProxy(t, w.IMAPAddr(), false)
	srv := serverAt(t, proxy.addr(), SecurityNone, u)
	logs := &lineLog{}
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{SweepInterval: time.Minute,
		Backoff: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	want := []WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {`\Junk`, "Junk", ChosenByFallback}}
	if got := watcher.State().Folders; !equalFolders(got, want) {
		t.Fatalf("State().Folders = %v, want %v", got, want)
	}
	appendMsg(t, srv, "Junk", testMessage("spam-filtered reply", "fallback@vendor.example", 0), time.Time{})
	watcher.SyncNow()
	if got := rec.wait(t, 1, 5*time.Second); got[0].Folder != "Junk" {
		t.Errorf("handler got %s, want the message in Junk", describe(got[0]))
	}

	before := proxy.accepted()
	proxy.cut()
	waitUntil(t, "a new connection", 5*time.Second, func() bool { return proxy.accepted() > before && watcher.State().Connected })
	syncAndSettle(t, watcher)
	if n := logs.count("no SPECIAL-USE"); n != 1 {
		t.Errorf("the fallback was logged %d times over two connections, want once:\n%s", n, logs.buf.String())
	}
}

// TestWatcherExplicitFoldersWin: folders named in the options are read as written, even
// when the server marks another folder \Junk.
func TestWatcherExplicitFoldersWin(t *testing.T) {
	t.Parallel()
	u := mailworld.User{Address: "explicit@example.com", Password: "pw-explicit"}
	w := mailworldtest.Memory(t)
	if err := w.AddUserWithFolders(u, junkEmail...); err != nil {
		t.Fatal(err)
	}
	srv := imapServer(t, w, u)
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{Folders: []string{"INBOX", "Junk"}, SweepInterval: time.Minute})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	want := []WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {"Junk", "Junk", ChosenByName}}
	if got := watcher.State().Folders; !equalFolders(got, want) {
		t.Fatalf("State().Folders = %v, want %v", got, want)
	}
	appendMsg(t, srv, "Junk Email", testMessage("in the marked folder", "marked@vendor.example", 0), time.Time{})
	appendMsg(t, srv, "Junk", testMessage("in the named folder", "named@vendor.example", 0), time.Time{})
	watcher.SyncNow()
	got := rec.wait(t, 1, 5*time.Second)
	syncAndSettle(t, watcher)
	if all := rec.all(); len(all) != 1 || got[0].Folder != "Junk" {
		t.Errorf("handler got %v, want only the message in Junk", describeAll(all))
	}
}

// TestWatcherJunkAppearsLater: an account with no junk folder at all gets one later
// (created by a filter rule); the Watcher finds it at the next sync, without reconnecting.
func TestWatcherJunkAppearsLater(t *testing.T) {
	t.Parallel()
	u := mailworld.User{Address: "no.junk@example.com", Password: "pw-no-junk"}
	w := mailworldtest.Memory(t)
	if err := w.AddUserWithFolders(u, mailworld.Folder{Name: "Sent", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrSent}}); err != nil {
		t.Fatal(err)
	}
	srv := imapServer(t, w, u)
	rec := newRecorder()
	watcher, _ := runWatcher(t, srv, newMemPositions(), rec.handle, WatchOptions{SweepInterval: time.Minute})
	waitUntil(t, "first sync", 5*time.Second, func() bool { return !watcher.State().LastSync.IsZero() })
	if fs := watcher.State().Folders; len(fs) != 2 || fs[1].Chosen != ChosenNone || fs[1].Name != "" {
		t.Fatalf("State().Folders = %v, want INBOX and a \\Junk that names no folder", fs)
	}
	if s := watcher.State().Folders[1].String(); s != `\Junk: no folder marked, none of the usual names (Junk, Spam)` {
		t.Errorf("String() = %q", s)
	}
	c := mustDialIMAP(t, srv)
	if err := c.Create("Spam", nil).Wait(); err != nil {
		t.Fatalf("CREATE Spam: %v", err)
	}
	c.Close()
	watcher.SyncNow()
	waitUntil(t, "Spam found", 5*time.Second, func() bool {
		fs := watcher.State().Folders
		return len(fs) == 2 && fs[1].Name == "Spam"
	})
	syncAndSettle(t, watcher)
	appendMsg(t, srv, "Spam", testMessage("in Spam", "spam@vendor.example", 0), time.Time{})
	watcher.SyncNow()
	if got := rec.wait(t, 1, 5*time.Second); got[0].Folder != "Spam" {
		t.Errorf("handler got %s, want the message in Spam", describe(got[0]))
	}
}

// TestMarkFoldersResolvesEntries: MarkFolders marks the folder \Junk names, under its name.
func TestMarkFoldersResolvesEntries(t *testing.T) {
	t.Parallel()
	u := mailworld.User{Address: "mark.junk@example.com", Password: "pw-mark-junk"}
	w := mailworldtest.Memory(t)
	if err := w.AddUserWithFolders(u, junkEmail...); err != nil {
		t.Fatal(err)
	}
	srv := imapServer(t, w, u)
	marks, err := MarkFolders(context.Background(), srv, DefaultWatchFolders, nil)
	if err != nil || len(marks) != 2 || marks[0].Folder != "INBOX" || marks[1].Folder != "Junk Email" {
		t.Fatalf("MarkFolders(INBOX, \\Junk) = %+v, %v; want marks of INBOX and Junk Email", marks, err)
	}
	if v := uidValidity(t, srv, "Junk Email"); marks[1].UIDValidity != v {
		t.Errorf("Junk Email mark UIDVALIDITY %d, want %d", marks[1].UIDValidity, v)
	}
}

func equalFolders(a, b []WatchedFolder) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWatcherRunRejectsBadFolderEntry: an entry that looks like an attribute but is not
// one a Watcher takes stops Run at once, before any connection.
func TestWatcherRunRejectsBadFolderEntry(t *testing.T) {
	srv := Server{Host: "127.0.0.1", Port: 143, Security: SecurityNone, Username: "u", Password: "p"}
	noop := func(context.Context, Fetched) error { return nil }
	for _, e := range []string{`\Sent`, `\Spam`} {
		err := NewWatcher(srv, newMemPositions(), noop, WatchOptions{Folders: []string{"INBOX", e}}).Run(context.Background())
		if err == nil || !strings.Contains(err.Error(), "folder "+e) {
			t.Errorf("Run with folders INBOX, %s = %v; want an error naming the entry", e, err)
		}
	}
}

// TestResolveFolders: names need no LIST; an attribute whose folder is also named adds
// nothing; RETURN (SPECIAL-USE) is asked for only from a server that announces it.
func TestResolveFolders(t *testing.T) {
	boxes := []*imap.ListData{{Mailbox: "INBOX"}, {Mailbox: "Junk Email", Attrs: []imap.MailboxAttr{imap.MailboxAttrJunk}}}
	tests := []struct {
		name    string
		caps    imap.CapSet
		entries []string
		want    []WatchedFolder
		lists   int
		special bool
	}{
		{"names only", imap.CapSet{imap.CapSpecialUse: {}}, []string{"INBOX", "Junk"},
			[]WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {"Junk", "Junk", ChosenByName}}, 0, false},
		{"attribute", imap.CapSet{imap.CapSpecialUse: {}}, []string{"INBOX", `\Junk`},
			[]WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {`\Junk`, "Junk Email", ChosenBySpecialUse}}, 1, true},
		{"attribute also named", imap.CapSet{imap.CapSpecialUse: {}}, []string{"INBOX", "Junk Email", `\Junk`},
			[]WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {"Junk Email", "Junk Email", ChosenByName}}, 1, true},
		{"no SPECIAL-USE announced", imap.CapSet{}, []string{"INBOX", `\Junk`},
			[]WatchedFolder{{"INBOX", "INBOX", ChosenByName}, {`\Junk`, "Junk Email", ChosenBySpecialUse}}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lists, special := 0, false
			got, err := resolveFolders(tt.caps, func(opts *imap.ListOptions) ([]*imap.ListData, error) {
				lists++
				special = opts != nil && opts.ReturnSpecialUse
				return boxes, nil
			}, tt.entries)
			if err != nil || !equalFolders(got, tt.want) || lists != tt.lists || special != tt.special {
				t.Errorf("resolveFolders(%q) = %v, %v with %d LIST (SPECIAL-USE %v); want %v with %d (%v)",
					tt.entries, got, err, lists, special, tt.want, tt.lists, tt.special)
			}
		})
	}
}
