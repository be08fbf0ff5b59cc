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
	"github.com/emersion/go-imap/v2/imapclient"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

func percentile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// ms is d in milliseconds, with the fraction: b.ReportMetric's unit for delays.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// minDeliveries is how many deliveries BenchmarkDetectionDelay makes at least, whatever
// b.N: enough for a p99 that is more than one sample's luck (it is the 50th of 50).
const minDeliveries = 50

// BenchmarkDetectionDelay measures, against a real Dovecot, the time from Postfix
// accepting a message (the 250 after DATA) to the Watcher handing it over under IDLE,
// and beside it, on the same deliveries, the time to the EXISTS that a minimal go-imap
// client idling on the same inbox receives: the server's own notification delay
// (Dovecot waits about 500 ms before it pushes EXISTS), which no client can beat. Both
// sessions idle at once.
//
// Each delivery waits until the Watcher idles again past its one-second recheck (see
// recheckDelay), so that every figure is a push, not a recheck that happened to be
// running. It makes max(b.N, 50) deliveries (about 1.8 s each) and reports p50-ms and
// p99-ms (the Watcher), raw-p50-ms and raw-p99-ms (the raw client), and gap-p50-ms and
// gap-p99-ms, the per-delivery difference between the two. Run it as
//
//	SUPPORTPROBE_REAL_MAIL=1 go test -run '^$' -bench DetectionDelay -benchtime 1x ./mailbox/
//
// (-benchtime 200x for a steadier p99).
func BenchmarkDetectionDelay(b *testing.B) {
	w := mailworldtest.Real(b, lin, support)
	srv := imapServer(b, w, lin)

	handled := make(chan time.Time, 16)
	h := func(context.Context, Fetched) error { handled <- time.Now(); return nil }
	watcher := NewWatcher(srv, newMemPositions(), h, WatchOptions{Folders: []string{"INBOX"}, SweepInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); watcher.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// The raw client: SELECT INBOX, IDLE, and note when EXISTS arrives.
	exists := make(chan time.Time, 16)
	raw, err := DialIMAPWithOptions(context.Background(), srv, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					exists <- time.Now()
				}
			},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatalf("raw client: EXAMINE INBOX: %v", err)
	}
	idle, err := raw.Idle()
	if err != nil {
		b.Fatalf("raw client: IDLE: %v", err)
	}
	defer func() { idle.Close(); idle.Wait() }()

	waitIdle := func() {
		b.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !watcher.State().Idling {
			if time.Now().After(deadline) {
				b.Fatalf("watcher not idling 10 s on: %+v", watcher.State())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitIdle()
	time.Sleep(recheckDelay + 300*time.Millisecond) // past the first sync's recheck
	waitIdle()

	n := max(b.N, minDeliveries)
	var delays, rawDelays, gaps []time.Duration
	b.ResetTimer()
	for i := range n {
		for _, ch := range []chan time.Time{handled, exists} {
			for len(ch) > 0 {
				<-ch
			}
		}
		msg := fmt.Sprintf("From: support@acme.example\r\nTo: lin.wei@example.com\r\nSubject: delay %d\r\nMessage-ID: <delay-%d@acme.example>\r\n\r\nhello\r\n", i, i)
		accepted := deliver(b, w, "support@acme.example", lin.Address, []byte(msg))
		var at, rawAt time.Time
		timeout := time.After(10 * time.Second)
		for at.IsZero() || rawAt.IsZero() {
			select {
			case at = <-handled:
			case rawAt = <-exists:
			case <-timeout:
				b.Fatalf("delivery %d: watcher at %v, raw EXISTS at %v; want both within 10 s", i, at, rawAt)
			}
		}
		delays = append(delays, at.Sub(accepted))
		rawDelays = append(rawDelays, rawAt.Sub(accepted))
		gaps = append(gaps, at.Sub(rawAt))
		// Let the recheck that follows the wake-up pass, so the next delivery meets IDLE.
		time.Sleep(recheckDelay + 300*time.Millisecond)
		waitIdle()
	}
	b.StopTimer()
	b.ReportMetric(ms(percentile(delays, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(delays, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(rawDelays, 0.5)), "raw-p50-ms")
	b.ReportMetric(ms(percentile(rawDelays, 0.99)), "raw-p99-ms")
	b.ReportMetric(ms(percentile(gaps, 0.5)), "gap-p50-ms")
	b.ReportMetric(ms(percentile(gaps, 0.99)), "gap-p99-ms")
}

// deliver sends msg over SMTP and returns when the server accepted it (the 250 after
// DATA).
func deliver(b *testing.B, w mailworld.World, from, to string, msg []byte) time.Time {
	b.Helper()
	c, err := smtp.Dial(w.SMTPAddr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		b.Fatal(err)
	}
	if err := c.Rcpt(to); err != nil {
		b.Fatal(err)
	}
	wc, err := c.Data()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := wc.Write(msg); err != nil {
		b.Fatal(err)
	}
	if err := wc.Close(); err != nil {
		b.Fatal(err)
	}
	accepted := time.Now()
	c.Quit()
	return accepted
}

// writeOldMail writes the unrelated messages numbered [from, to) into the maildir root
// (made if missing), each dated a month ago in its file's mtime, which Dovecot takes as
// its INTERNALDATE, and everything owned by the "mail" user.
func writeOldMail(b *testing.B, root, address string, from, to int) {
	b.Helper()
	mu, err := user.Lookup("mail")
	if err != nil {
		b.Fatal(err)
	}
	uid, _ := strconv.Atoi(mu.Uid)
	gid, _ := strconv.Atoi(mu.Gid)
	for _, d := range []string{filepath.Dir(root), root, filepath.Join(root, "new"), filepath.Join(root, "cur"), filepath.Join(root, "tmp")} {
		os.MkdirAll(d, 0o700)
		os.Chown(d, uid, gid)
	}
	oldDate := time.Now().AddDate(0, 0, -30)
	for i := from; i < to; i++ {
		date := oldDate.Add(time.Duration(i) * time.Second)
		name := filepath.Join(root, "cur", fmt.Sprintf("%d.old%d.bench:2,S", date.Unix(), i))
		body := fmt.Sprintf("From: news%d@elsewhere.example\r\nTo: %s\r\nSubject: old %d\r\nMessage-ID: <old-%d@elsewhere.example>\r\nDate: %s\r\n\r\nunrelated text\r\n",
			i, address, i, i, date.Format(time.RFC1123Z))
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		os.Chown(name, uid, gid)
		os.Chtimes(name, date, date)
	}
}

// fillOldMail adds the unrelated messages numbered [from, to) to u's INBOX in w. A
// maildir world gets them written straight into its maildir, much faster than
// delivering them; any other format gets them through a scratch maildir and
// Real.ImportMaildir (doveadm import, about 0.3 ms a message), which keeps the old mtime
// as INTERNALDATE.
func fillOldMail(b *testing.B, w *mailworld.Real, u mailworld.User, from, to int) {
	b.Helper()
	if w.MailFormat() == "maildir" {
		writeOldMail(b, filepath.Join(w.Dir(), "mail", u.Address, "Maildir"), u.Address, from, to)
		return
	}
	scratch := filepath.Join(w.Dir(), "scratch", strconv.Itoa(from))
	writeOldMail(b, scratch, u.Address, from, to)
	if err := w.ImportMaildir(u.Address, scratch); err != nil {
		b.Fatal(err)
	}
	os.RemoveAll(scratch)
}

// BenchmarkFirstSync compares, on a real Dovecot inbox of unrelated messages, the
// Watcher's first sync with a naive client that fetches every message's headers, at
// 10,000 and then 50,000 messages, in two Dovecot worlds side by side: one storing mail
// in maildir (the default, and the metrics without a prefix) and one in sdbox (metrics
// prefixed "sdbox-"). At each size, in each world, it records a Mark (STATUS UIDNEXT, as
// the daemon does just before a send), adds 20 replies by APPEND, and times, on a warm
// index (one untimed naive fetch first), the median of 5 runs of:
//
//   - sync-Nk-ms: the first sync from the mark, until its Handler has the 20 replies;
//   - naive-Nk-ms: log in, EXAMINE, UID FETCH 1:* of INTERNALDATE and five header fields;
//   - search-Nk-ms: the first sync without a mark, which searches by date instead;
//   - floor-Nk-ms: the least any client must do to read the replies: log in, EXAMINE,
//     UID FETCH of the 20 bodies by UID range from the mark.
//
// The runs of every kind in both worlds are taken in turn, so a burst of load elsewhere
// on the machine hits them all alike. Each run logs in afresh, as a starting daemon does.
// The target is sync-50k at least 20 times below naive-50k, and within about 1.5 times
// sync-10k (flat).
//
// On maildir the target cannot be met by any client, which floor-Nk-ms shows: the first
// message body a fresh session opens costs a rescan of the whole maildir when the message
// was delivered or appended since dovecot-uidlist was last rewritten. Dovecot reads the
// whole uidlist, looks in cur/ under the name it listed when saving (without the ":2,..."
// flags suffix the file gets in cur/, or while it still sits in new/), fails, and reads
// every directory entry (strace: ENOENT on cur/NAME, then getdents64 over all 50,000
// entries), in every new read-only session. That cost grows with the folder; sync-Nk-ms
// stays close to it (a few more round trips). The naive client never pays it, as it reads
// only headers, which the warm index has cached. sdbox finds a message's file from its
// index by UID, so the same sync shows what the client costs without that scan. Run it as
//
//	SUPPORTPROBE_REAL_MAIL=1 go test -run '^$' -bench FirstSync -benchtime 1x ./mailbox/
//
// Filling and indexing the inboxes take most of the run (about a minute); b.N only
// repeats the timed runs.
func BenchmarkFirstSync(b *testing.B) {
	const recent, runs = 20, 5
	b.StopTimer() // ns/op counts only the timed runs; read the metrics

	// inbox is one world under test: its metrics carry prefix.
	type inbox struct {
		prefix string
		w      *mailworld.Real
		srv    Server
		total  int // messages in its INBOX
		mark   Mark
	}
	var inboxes []*inbox
	for _, f := range []struct{ format, prefix string }{{"maildir", ""}, {"sdbox", "sdbox-"}} {
		w := mailworldtest.RealWith(b, mailworld.RealOptions{MailFormat: f.format}, lin)
		srv := imapServer(b, w, lin)
		srv.Timeout = 2 * time.Minute
		inboxes = append(inboxes, &inbox{prefix: f.prefix, w: w, srv: srv})
	}

	firstSync := func(b *testing.B, srv Server, since time.Time, mark *Mark) time.Duration {
		b.Helper()
		var n int
		doneAll := make(chan struct{})
		h := func(context.Context, Fetched) error {
			if n++; n == recent {
				close(doneAll)
			}
			return nil
		}
		opts := WatchOptions{Folders: []string{"INBOX"}, SweepInterval: time.Hour, Since: func() time.Time { return since }}
		if mark != nil {
			opts.Mark = func(string, time.Time) (Mark, bool, error) { return *mark, true, nil }
		}
		watcher := NewWatcher(srv, newMemPositions(), h, opts)
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		start := time.Now()
		go func() { defer close(stopped); watcher.Run(ctx) }()
		var took time.Duration
		select {
		case <-doneAll:
			took = time.Since(start)
		case <-time.After(2 * time.Minute):
			b.Fatalf("first sync handed over %d of %d recent messages", n, recent)
		}
		cancel()
		<-stopped
		if n != recent {
			b.Fatalf("first sync handed over %d messages, want the %d recent ones", n, recent)
		}
		return took
	}
	naive := func(b *testing.B, srv Server, want int) time.Duration {
		b.Helper()
		start := time.Now()
		c, err := DialIMAP(context.Background(), srv)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			b.Fatal(err)
		}
		msgs, err := c.Fetch(imap.UIDSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{
			Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Message-ID", "In-Reply-To", "References", "From", "Subject"}, Peek: true,
		}}}).Collect()
		took := time.Since(start)
		if err != nil || len(msgs) != want {
			b.Fatalf("fetch all = %d messages, %v; want %d", len(msgs), err, want)
		}
		return took
	}
	// floor is the least any client must do for the replies' bodies: log in, EXAMINE,
	// UID FETCH of the range from the mark. On a fresh Dovecot maildir session the first
	// body it opens costs a resync of the whole maildir (see the doc comment).
	floor := func(b *testing.B, srv Server, from uint32) time.Duration {
		b.Helper()
		start := time.Now()
		c, err := DialIMAP(context.Background(), srv)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			b.Fatal(err)
		}
		msgs, err := c.Fetch(imap.UIDSet{{Start: imap.UID(from), Stop: 0}}, &imap.FetchOptions{UID: true, InternalDate: true,
			RFC822Size: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		took := time.Since(start)
		if err != nil || len(msgs) != recent {
			b.Fatalf("UID FETCH %d:* = %d messages, %v; want %d", from, len(msgs), err, recent)
		}
		return took
	}

	filled := 0
	for _, size := range []int{10000, 50000} {
		type kind struct {
			metric string
			run    func() time.Duration
		}
		var kinds []kind
		for _, in := range inboxes {
			fillOldMail(b, in.w, lin, filled, size)
			in.total += size - filled
			naive(b, in.srv, in.total) // index the new mail, untimed
			checkOld(b, in.srv, in.w.MailFormat())

			marks, err := MarkFolders(context.Background(), in.srv, []string{"INBOX"}, nil)
			if err != nil || len(marks) != 1 {
				b.Fatalf("%s: MarkFolders(INBOX) = %+v, %v", in.w.MailFormat(), marks, err)
			}
			in.mark = marks[0]
			since := in.mark.At // the probe is created just after the mark
			c := mustDialIMAP(b, in.srv)
			for i := range recent {
				raw := fmt.Appendf(nil, "From: help@acme.example\r\nTo: %s\r\nSubject: Re: reply %d at %d\r\nMessage-ID: <reply-%d-%d@acme.example>\r\n\r\nanswer\r\n",
					lin.Address, i, size, size, i)
				cmd := c.Append("INBOX", int64(len(raw)), nil)
				cmd.Write(raw)
				cmd.Close()
				if _, err := cmd.Wait(); err != nil {
					b.Fatalf("%s: APPEND reply %d: %v", in.w.MailFormat(), i, err)
				}
			}
			c.Close()
			in.total += recent
			naive(b, in.srv, in.total) // warm

			k := strconv.Itoa(size/1000) + "k"
			kinds = append(kinds,
				kind{in.prefix + "sync-" + k + "-ms", func() time.Duration { return firstSync(b, in.srv, since, &in.mark) }},
				kind{in.prefix + "floor-" + k + "-ms", func() time.Duration { return floor(b, in.srv, in.mark.UIDNext) }},
				kind{in.prefix + "naive-" + k + "-ms", func() time.Duration { return naive(b, in.srv, in.total) }},
				kind{in.prefix + "search-" + k + "-ms", func() time.Duration { return firstSync(b, in.srv, since, nil) }},
			)
		}
		filled = size

		took := make([][]time.Duration, len(kinds))
		b.StartTimer()
		for range runs * b.N {
			for i, kind := range kinds {
				took[i] = append(took[i], kind.run())
			}
		}
		b.StopTimer()
		for i, kind := range kinds {
			b.ReportMetric(ms(percentile(took[i], 0.5)), kind.metric)
		}
	}
}

// checkOld fails b unless the first message of the INBOX has an INTERNALDATE at least a
// week old, as the filled mail must: the sync by date would hand it over otherwise.
func checkOld(b *testing.B, srv Server, format string) {
	b.Helper()
	c := mustDialIMAP(b, srv)
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatalf("%s: EXAMINE INBOX: %v", format, err)
	}
	msgs, err := c.Fetch(imap.UIDSet{{Start: 1, Stop: 1}}, &imap.FetchOptions{UID: true, InternalDate: true}).Collect()
	if err != nil || len(msgs) != 1 {
		b.Fatalf("%s: UID FETCH 1 INTERNALDATE = %d messages, %v; want 1", format, len(msgs), err)
	}
	if age := time.Since(msgs[0].InternalDate); age < 7*24*time.Hour {
		b.Fatalf("%s: filled message has INTERNALDATE %v, only %v old; want it a month old", format, msgs[0].InternalDate, age)
	}
}
