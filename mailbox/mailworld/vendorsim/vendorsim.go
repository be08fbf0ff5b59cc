// Package vendorsim simulates vendors' help desks inside a mail world, for the demo and
// for tests: each Vendor watches its support mailbox over IMAP and answers the inquiries
// it finds over SMTP, the way a real help desk would: an automatic acknowledgement
// (Auto-Submitted: auto-replied, citing the inquiry's Message-ID) and, later, a person's
// answer citing the acknowledgement, in UTF-8 or in GBK.
//
// A Vendor speaks plain text to loopback servers only and never authenticates to SMTP;
// it is meant for mailworld.Memory and mailworld.Real, not for real mail servers.
package vendorsim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"golang.org/x/text/encoding/simplifiedchinese"

	"supportprobe/mailbox"
)

// Message is one mail a Vendor sends in answer to an inquiry.
//
// Subject and Body may use the placeholders {subject} (the inquiry's decoded subject),
// {ticket} (the vendor's ticket number for the inquiry) and {name} (the display name of
// the inquiry's sender, or its address).
type Message struct {
	// After is how long after the inquiry was seen the message goes out; Jitter adds a
	// random delay in [0, Jitter).
	After, Jitter time.Duration
	// From is the sender, e.g. "Nimbus Support <support@nimbus.test>"; default the
	// vendor's Address.
	From    string
	Subject string
	Body    string
	// Auto marks the message as sent by a machine: Auto-Submitted: auto-replied.
	Auto bool
}

// Vendor is a simulated help desk. Fill in the fields and call Run.
type Vendor struct {
	// Name names the vendor in errors and in the Message-IDs it writes.
	Name string
	// Address and Password log in to the support mailbox over IMAP; Address is also the
	// default sender.
	Address, Password string
	// IMAPAddr and SMTPAddr are the world's servers, "127.0.0.1:PORT".
	IMAPAddr, SMTPAddr string
	// Ack, when set, is the automatic acknowledgement; Answer, when set, is the person's
	// reply. A Vendor with neither reads its mail and never answers.
	Ack, Answer *Message
	// Charset is the charset messages are written in: "utf-8" (the default) or "gbk".
	Charset string
	// Open says whether the help desk works at t; nil means always. Inquiries found
	// while it is closed wait until it opens (they may wait past the end of Run).
	Open func(t time.Time) bool
	// FirstTicket numbers the first inquiry; later ones count up. Default 1000.
	FirstTicket int
	// Poll is how often the mailbox is read; default 500 ms.
	Poll time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Sent, when set, is called after each message the vendor sends.
	Sent func(Sent)
}

// Sent describes one message a Vendor sent.
type Sent struct {
	Vendor    string
	To        string
	MessageID string // without angle brackets
	InReplyTo string // the inquiry's Message-ID
	Auto      bool
	At        time.Time
}

// inquiry is a message found in the support mailbox.
type inquiry struct {
	messageID string
	subject   string
	replyTo   string
	name      string
	ticket    int
}

// Run reads the support mailbox every Poll and schedules the answers to each new
// inquiry, until ctx ends; then it waits for the sends in progress and returns nil. A
// broken connection is re-established at the next poll. It returns an error only for a
// Vendor that cannot work (no address, an unknown charset). Run does not modify v; v
// must not be changed while it runs.
func (v *Vendor) Run(ctx context.Context) error {
	cp := *v // defaults are filled in on a copy
	v = &cp
	if v.Address == "" || v.IMAPAddr == "" || v.SMTPAddr == "" {
		return fmt.Errorf("vendorsim %s: Address, IMAPAddr and SMTPAddr are required", v.Name)
	}
	switch strings.ToLower(v.Charset) {
	case "", "utf-8", "gbk":
	default:
		return fmt.Errorf("vendorsim %s: charset %q: want utf-8 or gbk", v.Name, v.Charset)
	}
	if v.Poll <= 0 {
		v.Poll = 500 * time.Millisecond
	}
	if v.Now == nil {
		v.Now = time.Now
	}
	if v.FirstTicket == 0 {
		v.FirstTicket = 1000
	}
	host, port, err := net.SplitHostPort(v.IMAPAddr)
	if err != nil {
		return fmt.Errorf("vendorsim %s: IMAPAddr: %w", v.Name, err)
	}
	portN, _ := strconv.Atoi(port)
	srv := mailbox.Server{Host: host, Port: portN, Security: mailbox.SecurityNone, Username: v.Address, Password: v.Password, Timeout: 5 * time.Second}

	var wg sync.WaitGroup
	defer wg.Wait()
	var c *imapclient.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	var last imap.UID
	var waiting []inquiry
	next := v.FirstTicket
	t := time.NewTicker(v.Poll)
	defer t.Stop()
	for {
		if c == nil {
			if c, err = mailbox.DialIMAP(ctx, srv); err == nil {
				if _, err = c.Select("INBOX", nil).Wait(); err != nil {
					c.Close()
					c = nil
				}
			} else {
				c = nil
			}
		}
		if c != nil {
			found, top, err := fetchNew(c, last)
			if err != nil {
				c.Close()
				c = nil
			} else {
				last = top
				for _, in := range found {
					in.ticket = next
					next++
					waiting = append(waiting, in)
				}
			}
		}
		if v.Open == nil || v.Open(v.Now()) {
			for _, in := range waiting {
				v.answer(ctx, &wg, in)
			}
			waiting = nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// fetchNew returns the inquiries with a UID above last and the highest UID seen.
func fetchNew(c *imapclient.Client, last imap.UID) ([]inquiry, imap.UID, error) {
	if err := c.Noop().Wait(); err != nil { // reports mail delivered since the last poll
		return nil, last, err
	}
	var set imap.UIDSet
	set.AddRange(last+1, 0) // last+1:*
	bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		return nil, last, err
	}
	top := last
	var out []inquiry
	for _, b := range bufs {
		if b.UID <= last || b.Envelope == nil {
			continue // "N:*" also returns the newest message when it is older than N
		}
		top = max(top, b.UID)
		e := b.Envelope
		in := inquiry{messageID: e.MessageID, subject: e.Subject}
		addrs := e.ReplyTo
		if len(addrs) == 0 {
			addrs = e.From
		}
		if len(addrs) == 0 || addrs[0].Addr() == "" {
			continue
		}
		in.replyTo = addrs[0].Addr()
		in.name = in.replyTo
		if len(e.From) > 0 && e.From[0].Name != "" {
			in.name = e.From[0].Name
		}
		out = append(out, in)
	}
	return out, top, nil
}

// answer sends the acknowledgement and the answer to in at their times, in a goroutine
// counted by wg.
func (v *Vendor) answer(ctx context.Context, wg *sync.WaitGroup, in inquiry) {
	if v.Ack == nil && v.Answer == nil {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := v.Now()
		refs := []string{}
		if in.messageID != "" {
			refs = append(refs, in.messageID)
		}
		for _, m := range []*Message{v.Ack, v.Answer} {
			if m == nil {
				continue
			}
			if !sleepUntil(ctx, start.Add(m.After+jitter(m.Jitter)), v.Now) {
				return
			}
			id, err := v.send(ctx, m, in, refs)
			if err != nil {
				continue // the world is going away, or refused: nothing more to do
			}
			refs = append(refs, id)
		}
	}()
}

// send writes m in answer to in, citing refs (the last one in In-Reply-To), and returns
// its Message-ID.
func (v *Vendor) send(ctx context.Context, m *Message, in inquiry, refs []string) (string, error) {
	r := strings.NewReplacer("{subject}", in.subject, "{ticket}", strconv.Itoa(in.ticket), "{name}", in.name)
	subject, body := r.Replace(m.Subject), r.Replace(m.Body)
	from := m.From
	if from == "" {
		from = v.Address
	}
	_, domain, _ := strings.Cut(v.Address, "@")
	id := fmt.Sprintf("%s.%d.%s@helpdesk.%s", v.Name, in.ticket, randHex(), domain)
	now := v.Now()

	charset := "UTF-8"
	if strings.EqualFold(v.Charset, "gbk") {
		charset = "GBK"
		var err error
		if subject, err = simplifiedchinese.GBK.NewEncoder().String(subject); err != nil {
			return "", fmt.Errorf("vendorsim %s: subject in GBK: %w", v.Name, err)
		}
		if body, err = simplifiedchinese.GBK.NewEncoder().String(body); err != nil {
			return "", fmt.Errorf("vendorsim %s: body in GBK: %w", v.Name, err)
		}
	}
	var b strings.Builder
	h := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	h("From", from)
	h("To", in.replyTo)
	h("Subject", mime.BEncoding.Encode(charset, subject))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", "<"+id+">")
	if len(refs) > 0 {
		h("In-Reply-To", "<"+refs[len(refs)-1]+">")
		h("References", "<"+strings.Join(refs, "> <")+">")
	}
	if m.Auto {
		h("Auto-Submitted", "auto-replied")
	}
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset="+strings.ToLower(charset))
	h("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	body = strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")

	if err := sendMail(ctx, v.SMTPAddr, v.Address, in.replyTo, []byte(b.String())); err != nil {
		return "", fmt.Errorf("vendorsim %s: send to %s: %w", v.Name, in.replyTo, err)
	}
	if v.Sent != nil {
		v.Sent(Sent{Vendor: v.Name, To: in.replyTo, MessageID: id, InReplyTo: in.messageID, Auto: m.Auto, At: now})
	}
	return id, nil
}

// sendMail delivers msg over plain SMTP, bounded by ctx and 10 s.
func sendMail(ctx context.Context, addr, from, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if err := c.Quit(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// sleepUntil waits until t on clock now, and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time, now func() time.Time) bool {
	d := t.Sub(now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d)))
	if err != nil {
		return 0
	}
	return time.Duration(n.Int64())
}

func randHex() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
