package vendorsim_test

import (
	"context"
	"mime"
	"net/smtp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/vendorsim"
	"supportprobe/probe"
)

var (
	lin   = mailworld.User{Address: "lin.wei@example.com", Password: "lin-pw"}
	lotus = mailworld.User{Address: "support@lotus.test", Password: "lotus-pw"}
)

// TestAckThenAnswerInGBK: an inquiry with a plus-addressed Reply-To gets an
// acknowledgement citing it, marked Auto-Submitted, and then an answer citing both, each
// in GBK with an RFC 2047 subject, delivered to the Reply-To address.
func TestAckThenAnswerInGBK(t *testing.T) {
	w, err := mailworld.StartMemory(lin, lotus)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	var mu sync.Mutex
	var sent []vendorsim.Sent
	v := &vendorsim.Vendor{
		Name: "lotus", Address: lotus.Address, Password: lotus.Password,
		IMAPAddr: w.IMAPAddr(), SMTPAddr: w.SMTPAddr(), Charset: "gbk", FirstTicket: 1234,
		Ack:    &vendorsim.Message{Subject: "[#{ticket}] 已收到您的工单：{subject}", Body: "您好，我们已收到您的工单 #{ticket}。\n", Auto: true},
		Answer: &vendorsim.Message{After: time.Second, From: "王芳 <wang.fang@lotus.test>", Subject: "Re: [#{ticket}] {subject}", Body: "您好，\n\n我查了一下，您的发票多算了一项存储费用，我们会在下个月退还。\n\n王芳\n"},
		Sent: func(s vendorsim.Sent) {
			mu.Lock()
			sent = append(sent, s)
			mu.Unlock()
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()

	subject := "关于三月发票的问题"
	msg := "From: Lin Wei <lin.wei@example.com>\r\nTo: support@lotus.test\r\nReply-To: lin.wei+tok42@example.com\r\n" +
		"Subject: " + mime.BEncoding.Encode("UTF-8", subject) + "\r\nMessage-ID: <inq-1@example.com>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
	if err := smtp.SendMail(w.SMTPAddr(), nil, lin.Address, []string{lotus.Address}, []byte(msg)); err != nil {
		t.Fatal(err)
	}

	var mails []probe.Mail
	deadline := time.Now().Add(15 * time.Second)
	for len(mails) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("got %d replies within 15 s, want 2", len(mails))
		}
		time.Sleep(200 * time.Millisecond)
		mails = inbox(t, w)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	ack, answer := mails[0], mails[1]
	if ack.Subject != "[#1234] 已收到您的工单："+subject || !strings.Contains(ack.NewText, "已收到您的工单") {
		t.Errorf("ack subject %q, text %q", ack.Subject, ack.NewText)
	}
	if got := ack.Header["Auto-Submitted"]; !slices.Equal(got, []string{"auto-replied"}) {
		t.Errorf("ack Auto-Submitted = %q", got)
	}
	if !slices.Equal(ack.InReplyTo, []string{"inq-1@example.com"}) || !slices.Contains(ack.DeliveredTo, "lin.wei+tok42@example.com") {
		t.Errorf("ack In-Reply-To %q, Delivered-To %q", ack.InReplyTo, ack.DeliveredTo)
	}
	if !slices.Equal(answer.InReplyTo, []string{ack.MessageID}) || !slices.Equal(answer.References, []string{"inq-1@example.com", ack.MessageID}) {
		t.Errorf("answer In-Reply-To %q, References %q; ack is %s", answer.InReplyTo, answer.References, ack.MessageID)
	}
	if answer.Subject != "Re: [#1234] "+subject || !strings.Contains(answer.NewText, "存储费用") || answer.Header["Auto-Submitted"] != nil {
		t.Errorf("answer subject %q, text %q, header %v", answer.Subject, answer.NewText, answer.Header)
	}
	if c := probe.Classify(ack, nil); c.Kind != probe.KindAutoAck {
		t.Errorf("ack classified %s: %s", c.Kind, c.Reason)
	}
	if c := probe.Classify(answer, nil); c.Kind != probe.KindHuman {
		t.Errorf("answer classified %s: %s", c.Kind, c.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != 2 || !sent[0].Auto || sent[1].Auto || sent[0].InReplyTo != "inq-1@example.com" {
		t.Errorf("Sent callbacks = %+v", sent)
	}
}

// TestClosedNeverAnswers: a help desk that is closed reads the inquiry but sends nothing.
func TestClosedNeverAnswers(t *testing.T) {
	w, err := mailworld.StartMemory(lin, lotus)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	v := &vendorsim.Vendor{
		Name: "lotus", Address: lotus.Address, Password: lotus.Password, IMAPAddr: w.IMAPAddr(), SMTPAddr: w.SMTPAddr(),
		Ack:  &vendorsim.Message{Subject: "received", Body: "We have received your request.", Auto: true},
		Open: func(time.Time) bool { return false },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	msg := "From: lin.wei@example.com\r\nTo: support@lotus.test\r\nSubject: hi\r\nMessage-ID: <inq-2@example.com>\r\n\r\nhello\r\n"
	if err := smtp.SendMail(w.SMTPAddr(), nil, lin.Address, []string{lotus.Address}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := v.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := inbox(t, w); len(got) != 0 {
		t.Errorf("a closed help desk sent %d messages", len(got))
	}
}

// inbox returns lin's INBOX, parsed, in UID order.
func inbox(t *testing.T, w mailworld.World) []probe.Mail {
	t.Helper()
	c, err := imapclient.DialInsecure(w.IMAPAddr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(lin.Address, lin.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		if strings.Contains(err.Error(), "No matching messages") || strings.Contains(err.Error(), "Invalid") {
			return nil
		}
		t.Fatal(err)
	}
	var out []probe.Mail
	for _, b := range bufs {
		if len(b.BodySection) == 0 {
			continue
		}
		m, err := mailbox.Parse(b.BodySection[0].Bytes, mailbox.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}
