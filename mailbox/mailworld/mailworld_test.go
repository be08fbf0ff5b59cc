package mailworld_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/textproto"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/mail"
	gomail "github.com/wneessen/go-mail"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

var (
	lin   = mailworld.User{Address: "lin.wei@example.com", Password: "lin-secret"}
	agent = mailworld.User{Address: "agent.li@vendor.test", Password: "agent-secret"}
)

const (
	customer = "zhang.san@customer.test" // a sender outside the world
	// A subject a Chinese-speaking customer would write; it must arrive intact.
	chineseSubject = "紧急：生产环境数据库无法连接（P1）"
	chineseBody    = "您好，\r\n\r\n我们的生产数据库从凌晨三点起无法连接，请尽快回复。\r\n\r\n张三\r\n"
)

func TestDeliverToPlusAddress(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{lin}, func(t *testing.T, w mailworld.World) {
		before := time.Now()
		if err := send(w, nil, customer, "lin.wei+tok123@example.com", chineseSubject, chineseBody); err != nil {
			t.Fatalf("send: %v", err)
		}
		msgs := waitMessages(t, login(t, w, lin), "INBOX", 1)
		if len(msgs) != 1 {
			t.Fatalf("INBOX holds %d messages, want 1", len(msgs))
		}
		m := msgs[0]
		if got := m.Envelope.Subject; got != chineseSubject {
			t.Errorf("envelope subject = %q, want %q", got, chineseSubject)
		}
		if len(m.Envelope.From) != 1 || m.Envelope.From[0].Addr() != customer {
			t.Errorf("envelope from = %v, want %s", m.Envelope.From, customer)
		}
		checkInternalDate(t, m.InternalDate, before)

		h, body := parse(t, m)
		if got := h.Get("Delivered-To"); !strings.Contains(got, "+tok123") {
			t.Errorf("Delivered-To = %q, want it to keep +tok123", got)
		}
		if h.Get("Received") == "" {
			t.Errorf("no Received header in\n%s", raw(m))
		}
		if subject, err := h.Subject(); err != nil || subject != chineseSubject {
			t.Errorf("Subject header = %q, %v; want %q", subject, err, chineseSubject)
		}
		if body != chineseBody {
			t.Errorf("body = %q, want %q", body, chineseBody)
		}
	})
}

func TestSMTPAuth(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{lin, agent}, func(t *testing.T, w mailworld.World) {
		if err := send(w, &agent, agent.Address, lin.Address, "Re: ticket 4711", "Hello\r\n"); err != nil {
			t.Fatalf("send with AUTH PLAIN: %v", err)
		}
		wrong := mailworld.User{Address: agent.Address, Password: "wrong"}
		err := send(w, &wrong, agent.Address, lin.Address, "Re: ticket 4711", "Hello\r\n")
		if code := smtpCode(err); code != 535 {
			t.Errorf("send with a wrong password: error %v (code %d), want code 535", err, code)
		}
		waitMessages(t, login(t, w, lin), "INBOX", 1)
	})
}

func TestRefuseUnknownRecipient(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{lin}, func(t *testing.T, w mailworld.World) {
		tests := []struct {
			name, rcpt string
			codes      []int // Memory answers 550 to both; Postfix refuses relaying with 554
		}{
			{"unknown user in a world domain", "nobody+tok@example.com", []int{550}},
			{"domain outside the world", "someone@elsewhere.test", []int{550, 554}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := send(w, nil, customer, tt.rcpt, "hello", "hello\r\n")
				if code := smtpCode(err); !slices.Contains(tt.codes, code) {
					t.Errorf("send to %s: error %v (code %d), want code in %v", tt.rcpt, err, code, tt.codes)
				}
			})
		}
	})
}

func TestAppendSent(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{lin}, func(t *testing.T, w mailworld.World) {
		c := login(t, w, lin)
		list, err := c.List("", "*", nil).Collect()
		if err != nil {
			t.Fatalf("LIST: %v", err)
		}
		var names []string
		for _, l := range list {
			names = append(names, l.Mailbox)
		}
		for _, want := range []string{"INBOX", "Sent", "Junk"} {
			if !slices.Contains(names, want) {
				t.Errorf("LIST = %v, want %s in it", names, want)
			}
		}

		msg := []byte("From: lin.wei@example.com\r\nTo: support@vendor.test\r\nSubject: " +
			"=?UTF-8?B?5pWw5o2u5bqT5peg5rOV6L+e5o6l?=\r\n\r\nHello\r\n")
		before := time.Now()
		now := appendMsg(t, c, "Sent", msg, time.Time{})
		// APPEND with a date keeps the instant (not the zone), at one-second resolution.
		dated := time.Date(2026, 3, 1, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))
		old := appendMsg(t, c, "Sent", msg, dated)

		if _, err := c.Select("Sent", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatalf("SELECT Sent: %v", err)
		}
		got := fetch(t, c, imap.UIDSetNum(now, old))
		if len(got) != 2 {
			t.Fatalf("UID FETCH %d,%d returned %d messages, want 2", now, old, len(got))
		}
		for _, m := range got {
			switch m.UID {
			case now:
				checkInternalDate(t, m.InternalDate, before)
			case old:
				if !m.InternalDate.Equal(dated) {
					t.Errorf("INTERNALDATE of dated APPEND = %v, want %v", m.InternalDate, dated)
				}
			}
		}
	})
}

func TestAddUser(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{lin}, func(t *testing.T, w mailworld.World) {
		// A new domain too: Postfix must learn both maps.
		if err := w.AddUser(agent); err != nil {
			t.Fatalf("AddUser(%s) = %v", agent.Address, err)
		}
		if got, want := w.Users(), []mailworld.User{lin, agent}; !slices.Equal(got, want) {
			t.Errorf("Users() = %v, want %v", got, want)
		}
		if err := send(w, nil, lin.Address, "agent.li+p1@vendor.test", chineseSubject, chineseBody); err != nil {
			t.Fatalf("send to the new user: %v", err)
		}
		msgs := waitMessages(t, login(t, w, agent), "INBOX", 1)
		if got := msgs[0].Envelope.Subject; got != chineseSubject {
			t.Errorf("subject = %q, want %q", got, chineseSubject)
		}

		tests := []struct {
			name string
			user mailworld.User
			want error
		}{
			{"existing address", agent, mailworld.ErrUserExists},
			{"upper case", mailworld.User{Address: "Wang.Fang@example.com", Password: "pw"}, mailworld.ErrInvalidUser},
			{"plus in local part", mailworld.User{Address: "a+b@example.com", Password: "pw"}, mailworld.ErrInvalidUser},
			{"no domain", mailworld.User{Address: "wang.fang", Password: "pw"}, mailworld.ErrInvalidUser},
			{"colon in password", mailworld.User{Address: "wang.fang@example.com", Password: "a:b"}, mailworld.ErrInvalidUser},
			{"empty password", mailworld.User{Address: "wang.fang@example.com"}, mailworld.ErrInvalidUser},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := w.AddUser(tt.user); !errors.Is(err, tt.want) {
					t.Errorf("AddUser(%+v) = %v, want %v", tt.user, err, tt.want)
				}
			})
		}
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	mailworldtest.Each(t, []mailworld.User{lin}, func(t *testing.T, w mailworld.World) {
		if err := w.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close() = %v, want nil", err)
		}
		if err := w.AddUser(agent); !errors.Is(err, mailworld.ErrClosed) {
			t.Errorf("AddUser after Close = %v, want %v", err, mailworld.ErrClosed)
		}
		for _, addr := range []string{w.SMTPAddr(), w.IMAPAddr()} {
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after Close", addr)
			}
		}
	})
}

func TestMemoryStoresBeforeReplying(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, lin)
	c := login(t, w, lin)
	for i := 1; i <= 3; i++ {
		if err := send(w, nil, customer, lin.Address, "hello", "hello\r\n"); err != nil {
			t.Fatalf("send: %v", err)
		}
		// No polling: the 250 after DATA means the message is in the INBOX.
		st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatalf("STATUS INBOX: %v", err)
		}
		if *st.NumMessages != uint32(i) {
			t.Fatalf("after %d sends, STATUS INBOX MESSAGES = %d", i, *st.NumMessages)
		}
	}
}

func TestMemoryRcptFault(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, lin)
	const rcpt = "lin.wei+flaky@example.com"
	for _, tt := range []struct {
		name string
		code int // injected; 0 clears the fault
		want int // SMTP code of the send error; 0 means accepted
	}{
		{"temporary", 451, 451},
		{"permanent", 550, 550},
		{"cleared", 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.SetRcptFault(rcpt, tt.code); err != nil {
				t.Fatalf("SetRcptFault(%s, %d) = %v", rcpt, tt.code, err)
			}
			err := send(w, nil, customer, rcpt, "hello", "hello\r\n")
			if got := smtpCode(err); got != tt.want || (tt.want == 0 && err != nil) {
				t.Errorf("send: error %v (code %d), want code %d", err, got, tt.want)
			}
		})
	}
	if err := w.SetRcptFault(rcpt, 250); err == nil {
		t.Errorf("SetRcptFault(%s, 250) = nil, want an error", rcpt)
	}
}

func TestStartRealDirectory(t *testing.T) {
	t.Parallel()
	if err := mailworld.RealAvailable(); err != nil {
		if os.Getenv(mailworldtest.EnvRequireReal) == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}

	t.Run("too long", func(t *testing.T) {
		dir := filepath.Join(os.TempDir(), strings.Repeat("d", 100))
		if _, err := mailworld.StartReal(dir, lin); err == nil || !strings.Contains(err.Error(), "unix sockets") {
			t.Errorf("StartReal(%d-byte path) = %v, want an error about unix sockets", len(dir), err)
		}
	})
	t.Run("unsearchable ancestor", func(t *testing.T) {
		parent, err := os.MkdirTemp(os.TempDir(), "mw")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(parent)
		// MkdirTemp makes parent 0700, like t.TempDir's parent.
		if _, err := mailworld.StartReal(filepath.Join(parent, "w"), lin); err == nil || !strings.Contains(err.Error(), "not searchable") {
			t.Errorf("StartReal under a 0700 directory = %v, want a \"not searchable\" error", err)
		}
	})
	t.Run("reuse", func(t *testing.T) {
		t.Parallel()
		dir, err := os.MkdirTemp(os.TempDir(), "mw")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		first, err := mailworld.StartReal(dir, lin, agent)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		if err := send(first, nil, customer, lin.Address, "kept", "kept\r\n"); err != nil {
			t.Fatalf("send: %v", err)
		}
		waitMessages(t, login(t, first, lin), "INBOX", 1)
		if second, err := mailworld.StartReal(dir, lin); err == nil {
			second.Close()
			t.Fatalf("StartReal in the directory of a running world = nil error, want one")
		}
		if err := first.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}

		again, err := mailworld.StartReal(dir, lin)
		if err != nil {
			t.Fatalf("StartReal in a used directory: %v", err)
		}
		defer again.Close()
		if msgs := waitMessages(t, login(t, again, lin), "INBOX", 1); msgs[0].Envelope.Subject != "kept" {
			t.Errorf("after restart, INBOX holds %q, want the mail sent before", msgs[0].Envelope.Subject)
		}
		// agent was a user of the first run only.
		c, err := imapclient.DialInsecure(again.IMAPAddr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(agent.Address, agent.Password).Wait(); err == nil {
			t.Errorf("after restart without %s, LOGIN succeeded, want it refused", agent.Address)
		}
	})
	t.Run("own directory", func(t *testing.T) {
		t.Parallel()
		w, err := mailworld.StartReal("", lin)
		if err != nil {
			t.Fatal(err)
		}
		dir := w.Dir()
		if err := w.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after Close, stat %s: %v, want it removed", dir, err)
		}
	})
}

// TestRealMailFormats runs a Real world in each of Dovecot's mail formats and checks
// what the rest of the project relies on: LMTP delivery to a plus address, APPEND keeping
// an old INTERNALDATE, DeliverLocal during an IMAP outage, and ImportMaildir keeping each
// file's modification time as the INTERNALDATE.
func TestRealMailFormats(t *testing.T) {
	t.Parallel()
	if _, err := mailworld.StartRealWithOptions("", mailworld.RealOptions{MailFormat: "mbox"}, lin); err == nil || !strings.Contains(err.Error(), `unknown mail format "mbox"`) {
		t.Errorf(`StartRealWithOptions(MailFormat "mbox") = %v, want an error naming the format`, err)
	}
	for _, tc := range []struct{ format, store string }{
		{"maildir", "Maildir"},
		{"sdbox", "sdbox"},
		{"mdbox", "mdbox"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			t.Parallel()
			w := mailworldtest.RealWith(t, mailworld.RealOptions{MailFormat: tc.format}, lin)
			if got := w.MailFormat(); got != tc.format {
				t.Errorf("MailFormat() = %q, want %q", got, tc.format)
			}
			old := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Second)
			src := scratchMaildir(t, w, map[string]time.Time{
				"From: " + customer + "\r\nSubject: imported\r\n\r\nold mail\r\n": old,
			})
			if err := w.ImportMaildir(lin.Address, src); err != nil {
				t.Fatalf("ImportMaildir() = %v", err)
			}
			if err := send(w, nil, customer, "lin.wei+tok1@example.com", "by smtp", "hello\r\n"); err != nil {
				t.Fatalf("send: %v", err)
			}
			c := login(t, w, lin)
			dated := time.Date(2026, 3, 1, 3, 4, 5, 0, time.UTC)
			appendMsg(t, c, "INBOX", []byte("From: "+customer+"\r\nSubject: appended\r\n\r\nhi\r\n"), dated)
			waitMessages(t, c, "INBOX", 3)
			c.Close()

			if err := w.StopIMAP(); err != nil {
				t.Fatalf("StopIMAP() = %v", err)
			}
			before := time.Now()
			if err := w.DeliverLocal(lin.Address, []byte("From: "+customer+"\r\nSubject: local\r\n\r\nduring the outage\r\n")); err != nil {
				t.Fatalf("DeliverLocal() during the outage = %v", err)
			}
			if err := w.StartIMAP(); err != nil {
				t.Fatalf("StartIMAP() = %v", err)
			}
			got := map[string]*imapclient.FetchMessageBuffer{}
			for _, m := range waitMessages(t, login(t, w, lin), "INBOX", 4) {
				got[m.Envelope.Subject] = m
			}
			if len(got) != 4 {
				t.Fatalf("INBOX holds %v, want the 4 subjects imported, by smtp, appended, local", slices.Collect(maps.Keys(got)))
			}
			for subject, want := range map[string]time.Time{"imported": old, "appended": dated} {
				if m := got[subject]; m == nil || !m.InternalDate.Equal(want) {
					t.Errorf("INTERNALDATE of %q = %v, want %v", subject, m, want)
				}
			}
			if m := got["local"]; m != nil {
				checkInternalDate(t, m.InternalDate, before)
			}
			if m := got["by smtp"]; m == nil || !bytes.Contains(raw(m), []byte("Delivered-To: lin.wei+tok1@example.com")) {
				t.Errorf("mail sent to lin.wei+tok1@example.com has no Delivered-To keeping the +tok1")
			}
			if _, err := os.Stat(filepath.Join(w.Dir(), "mail", lin.Address, tc.store)); err != nil {
				t.Errorf("mail not stored in the %s layout: %v", tc.format, err)
			}
		})
	}
}

// scratchMaildir writes a maildir under w's directory, owned by the "mail" user as
// ImportMaildir needs, with one message per entry of msgs, each file modified at its time.
func scratchMaildir(t *testing.T, w *mailworld.Real, msgs map[string]time.Time) string {
	t.Helper()
	mu, err := user.Lookup("mail")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(mu.Uid)
	gid, _ := strconv.Atoi(mu.Gid)
	root := filepath.Join(w.Dir(), "scratch")
	var paths []string
	for _, d := range []string{"", "cur", "new", "tmp"} {
		paths = append(paths, filepath.Join(root, d))
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	for msg, at := range msgs {
		i++
		name := filepath.Join(root, "cur", fmt.Sprintf("%d.scratch%d.mailworld:2,S", at.Unix(), i))
		if err := os.WriteFile(name, []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(name, at, at); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, name)
	}
	for _, p := range paths {
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// send sends one plain-text message with go-mail, as a person's mail client would: no
// User-Agent, no TLS (the worlds have none), AUTH PLAIN only if auth is non-nil.
func send(w mailworld.World, auth *mailworld.User, from, to, subject, body string) error {
	host, portStr, err := net.SplitHostPort(w.SMTPAddr())
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithHELO("client.customer.test"),
		gomail.WithTimeout(10 * time.Second),
	}
	if auth != nil {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthPlainNoEnc),
			gomail.WithUsername(auth.Address),
			gomail.WithPassword(auth.Password))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(from); err != nil {
		return err
	}
	if err := m.To(to); err != nil {
		return err
	}
	m.Subject(subject)
	m.SetDate()
	m.SetMessageID()
	m.SetBodyString(gomail.TypeTextPlain, body)
	return client.DialAndSend(m)
}

// smtpCode returns the SMTP reply code carried by a go-mail error, or 0. go-mail reports a
// refused command of a transaction as a SendError, and a refused AUTH (which happens while
// dialling) as the textproto.Error it wraps.
func smtpCode(err error) int {
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) {
		return sendErr.ErrorCode()
	}
	var protoErr *textproto.Error
	if errors.As(err, &protoErr) {
		return protoErr.Code
	}
	return 0
}

// login logs u in over IMAP and logs out when the test ends.
func login(t *testing.T, w mailworld.World, u mailworld.User) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(w.IMAPAddr(), &imapclient.Options{Dialer: &net.Dialer{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatalf("dial IMAP %s: %v", w.IMAPAddr(), err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(u.Address, u.Password).Wait(); err != nil {
		t.Fatalf("IMAP LOGIN %s: %v", u.Address, err)
	}
	return c
}

// waitMessages waits until mailbox holds at least n messages (Real delivers a few
// milliseconds after the 250 reply), then selects it and fetches every message.
func waitMessages(t *testing.T, c *imapclient.Client, mailbox string, n uint32) []*imapclient.FetchMessageBuffer {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
		if err != nil {
			t.Fatalf("STATUS %s: %v", mailbox, err)
		}
		if *st.NumMessages >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d messages after 5 s, want %d", mailbox, *st.NumMessages, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatalf("SELECT %s: %v", mailbox, err)
	}
	return fetch(t, c, imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}) // 1:*
}

// fetch runs UID FETCH for the UIDs with INTERNALDATE, ENVELOPE and the whole message.
func fetch(t *testing.T, c *imapclient.Client, uids imap.UIDSet) []*imapclient.FetchMessageBuffer {
	t.Helper()
	msgs, err := c.Fetch(uids, &imap.FetchOptions{
		UID:          true,
		InternalDate: true,
		Envelope:     true,
		BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	if err != nil {
		t.Fatalf("UID FETCH %v: %v", uids, err)
	}
	return msgs
}

// appendMsg APPENDs msg to mailbox, with INTERNALDATE date unless it is zero, and returns
// the new message's UID (both worlds have UIDPLUS).
func appendMsg(t *testing.T, c *imapclient.Client, mailbox string, msg []byte, date time.Time) imap.UID {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Time: date})
	if _, err := cmd.Write(msg); err != nil {
		t.Fatalf("APPEND %s: write: %v", mailbox, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("APPEND %s: %v", mailbox, err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("APPEND %s: %v", mailbox, err)
	}
	if data.UID == 0 {
		t.Fatalf("APPEND %s returned no UID", mailbox)
	}
	return data.UID
}

// checkInternalDate checks that got is the arrival time of something that happened after
// before and by now, allowing for the one-second resolution of Dovecot's INTERNALDATE.
func checkInternalDate(t *testing.T, got, before time.Time) {
	t.Helper()
	if got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Errorf("INTERNALDATE = %v, want between %v and now (%v)", got, before, time.Now())
	}
}

func raw(m *imapclient.FetchMessageBuffer) []byte {
	return m.FindBodySection(&imap.FetchItemBodySection{})
}

// parse returns the message's header and its decoded text body.
func parse(t *testing.T, m *imapclient.FetchMessageBuffer) (mail.Header, string) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw(m)))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw(m))
	}
	part, err := r.NextPart()
	if err != nil {
		t.Fatalf("parse message body: %v\n%s", err, raw(m))
	}
	body, err := io.ReadAll(part.Body)
	if err != nil {
		t.Fatalf("read message body: %v", err)
	}
	return r.Header, string(body)
}
