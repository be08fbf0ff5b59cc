package mailbox

import (
	"context"
	"fmt"
	"net/smtp"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// BenchmarkDetectionDelay measures, against a real Dovecot, the time from Postfix
// accepting a message (the 250 after DATA) to the Watcher handing it over under IDLE.
// It reports p50 and p99 over b.N deliveries; Dovecot itself waits about 500 ms before
// pushing EXISTS. Run it as
//
//	SUPPORTPROBE_REAL_MAIL=1 go test -run '^$' -bench DetectionDelay -benchtime 40x ./mailbox/
func BenchmarkDetectionDelay(b *testing.B) {
	w := mailworldtest.Real(b, lin, support)
	got := make(chan time.Time, 1)
	h := func(_ context.Context, m Fetched) error { got <- time.Now(); return nil }
	watcher := NewWatcher(imapServer(b, w, lin), newMemPositions(), h, WatchOptions{Folders: []string{"INBOX"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); watcher.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for !watcher.State().Connected {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // let it settle into IDLE

	var delays []time.Duration
	b.ResetTimer()
	for i := range b.N {
		msg := fmt.Sprintf("From: support@acme.example\r\nTo: lin.wei@example.com\r\nSubject: delay %d\r\nMessage-ID: <delay-%d@acme.example>\r\n\r\nhello\r\n", i, i)
		if err := smtp.SendMail(w.SMTPAddr(), nil, "support@acme.example", []string{"lin.wei@example.com"}, []byte(msg)); err != nil {
			b.Fatal(err)
		}
		accepted := time.Now()
		select {
		case at := <-got:
			delays = append(delays, at.Sub(accepted))
		case <-time.After(10 * time.Second):
			b.Fatalf("delivery %d not detected within 10 s", i)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(delays, 0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(percentile(delays, 0.99).Milliseconds()), "p99-ms")
}

// fillMaildir writes n unrelated messages with an old INTERNALDATE (Dovecot takes a
// maildir file's mtime) and recent ones dated now straight into u's maildir, as the
// "mail" user, which is much faster than delivering them.
func fillMaildir(b *testing.B, w *mailworld.Real, u mailworld.User, old, recent int) {
	b.Helper()
	mu, err := user.Lookup("mail")
	if err != nil {
		b.Fatal(err)
	}
	uid, _ := strconv.Atoi(mu.Uid)
	gid, _ := strconv.Atoi(mu.Gid)
	home := filepath.Join(w.Dir(), "mail", u.Address)
	root := filepath.Join(home, "Maildir")
	for _, d := range []string{home, root, filepath.Join(root, "new"), filepath.Join(root, "cur"), filepath.Join(root, "tmp")} {
		os.MkdirAll(d, 0o700)
		os.Chown(d, uid, gid)
	}
	oldDate := time.Now().AddDate(0, 0, -30)
	write := func(i int, date time.Time, kind string) {
		name := filepath.Join(root, "cur", fmt.Sprintf("%d.%s%d.bench:2,S", date.Unix(), kind, i))
		body := fmt.Sprintf("From: news%d@elsewhere.example\r\nTo: %s\r\nSubject: %s %d\r\nMessage-ID: <%s-%d@elsewhere.example>\r\nDate: %s\r\n\r\nunrelated text\r\n",
			i, u.Address, kind, i, kind, i, date.Format(time.RFC1123Z))
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		os.Chown(name, uid, gid)
		os.Chtimes(name, date, date)
	}
	for i := range old {
		write(i, oldDate.Add(time.Duration(i)*time.Second), "old")
	}
	for i := range recent {
		write(i, time.Now(), "reply")
	}
}

// BenchmarkFirstSync compares, on a real Dovecot inbox of 50,000 unrelated messages and
// 20 recent ones, the Watcher's first sync (which looks only at mail since the oldest
// open probe) with a naive client that fetches every message's headers. Run it as
//
//	SUPPORTPROBE_REAL_MAIL=1 go test -run '^$' -bench FirstSync -benchtime 5x ./mailbox/
//
// and compare the two ns/op figures; both run on a warm index (one untimed sync first).
func BenchmarkFirstSync(b *testing.B) {
	const old, recent = 50000, 20
	w := mailworldtest.Real(b, lin)
	fillMaildir(b, w, lin, old, recent)
	srv := imapServer(b, w, lin)
	srv.Timeout = 2 * time.Minute

	firstSync := func(b *testing.B) {
		var n int
		doneAll := make(chan struct{})
		h := func(context.Context, Fetched) error {
			n++
			if n == recent {
				close(doneAll)
			}
			return nil
		}
		watcher := NewWatcher(srv, newMemPositions(), h, WatchOptions{
			Folders: []string{"INBOX"}, Since: func() time.Time { return time.Now().Add(-time.Hour) },
		})
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { defer close(stopped); watcher.Run(ctx) }()
		select {
		case <-doneAll:
		case <-time.After(2 * time.Minute):
			b.Fatalf("first sync handed over %d of %d recent messages", n, recent)
		}
		cancel()
		<-stopped
	}
	fetchAll := func(b *testing.B) {
		c, err := DialIMAP(context.Background(), srv)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			b.Fatal(err)
		}
		var all imap.UIDSet
		all.AddRange(1, 0)
		msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{
			Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID", "In-Reply-To", "References", "From", "Subject"}, Peek: true,
		}}}).Collect()
		if err != nil || len(msgs) != old+recent {
			b.Fatalf("fetch all = %d messages, %v; want %d", len(msgs), err, old+recent)
		}
	}
	fetchAll(b) // index the maildir once, untimed
	b.Run("watcher-first-sync", func(b *testing.B) {
		for range b.N {
			firstSync(b)
		}
	})
	b.Run("fetch-every-header", func(b *testing.B) {
		for range b.N {
			fetchAll(b)
		}
	})
}
