package mailbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"supportprobe/mailbox/mailworld"
	"supportprobe/probe"
)

var (
	lin     = mailworld.User{Address: "lin.wei@example.com", Password: "lin-secret"}
	support = mailworld.User{Address: "support@acme.example", Password: "support-secret"}
	helpdsk = mailworld.User{Address: "helpdesk@acme.example", Password: "helpdesk-secret"}
	users   = []mailworld.User{lin, support, helpdsk}
)

// chineseInquiry is what Compose makes for a Chinese script: non-ASCII subject and body,
// a plus-address Reply-To, and a Message-ID long enough for go-mail to fold.
func chineseInquiry() probe.Inquiry {
	return probe.Inquiry{
		From:      `"Lin Wei" <lin.wei@example.com>`,
		To:        []string{"support@acme.example"},
		ReplyTo:   `"Lin Wei" <lin.wei+K7Q2@example.com>`,
		Subject:   "紧急：生产环境数据库无法连接（P1）",
		Body:      "您好，\n\n我们的生产数据库从凌晨三点起无法连接，请尽快回复。\n\nThanks,\nLin Wei\n\nRef: K7Q2\n",
		MessageID: "20260301T030405.p20260301-0042.k7q2.0123456789abcdef@example.com",
		Date:      time.Date(2026, 3, 1, 11, 4, 5, 0, time.FixedZone("CST", 8*3600)),
	}
}

// serverAt returns a Server for addr ("127.0.0.1:PORT") logging in as u.
func serverAt(t testing.TB, addr, security string, u mailworld.User) Server {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return Server{Host: host, Port: p, Security: security, Username: u.Address, Password: u.Password, Timeout: 5 * time.Second}
}

func smtpServer(t testing.TB, w mailworld.World, u mailworld.User) Server {
	t.Helper()
	return serverAt(t, w.SMTPAddr(), SecurityNone, u)
}

func imapServer(t testing.TB, w mailworld.World, u mailworld.User) Server {
	t.Helper()
	return serverAt(t, w.IMAPAddr(), SecurityNone, u)
}

// mustDialIMAP logs in as u and logs out when the test ends.
func mustDialIMAP(t testing.TB, s Server) *imapclient.Client {
	t.Helper()
	c, err := DialIMAP(context.Background(), s)
	if err != nil {
		t.Fatalf("DialIMAP: %v", err)
	}
	t.Cleanup(func() {
		c.Logout().Wait()
		c.Close()
	})
	return c
}

// waitDelivered polls u's INBOX until the message with messageID arrives (Real delivers
// a few milliseconds after its 250) and returns it with its INTERNALDATE.
func waitDelivered(t testing.TB, w mailworld.World, u mailworld.User, messageID string) *imapclient.FetchMessageBuffer {
	t.Helper()
	c := mustDialIMAP(t, imapServer(t, w, u))
	section := &imap.FetchItemBodySection{Peek: true}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatalf("EXAMINE INBOX: %v", err)
		}
		data, err := c.UIDSearch(&imap.SearchCriteria{
			Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: messageID}},
		}, nil).Wait()
		if err != nil {
			t.Fatalf("UID SEARCH: %v", err)
		}
		if uids := data.AllUIDs(); len(uids) > 0 {
			msgs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
				UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{section},
			}).Collect()
			if err != nil || len(msgs) != 1 {
				t.Fatalf("UID FETCH %v = %d messages, %v; want 1", uids, len(msgs), err)
			}
			return msgs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("message <%s> not delivered to %s within 5 s", messageID, u.Address)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeClock is a Now that only Sleep moves. It records the waits, and runs onSleep (if
// set) before each returns, with the 1-based index of the wait.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	slept   []time.Duration
	onSleep func(i int)
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	i, hook := len(c.slept), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(i)
	}
	return ctx.Err()
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// selfSigned returns a certificate for 127.0.0.1 and localhost, made for this test, and a
// pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "supportprobe test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// listen returns a listener on 127.0.0.1 that is closed when the test ends.
func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
