package mailworld_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestRealStopStartIMAP: StopIMAP drops IMAP connections and refuses new ones while
// Postfix keeps accepting mail; StartIMAP brings Dovecot back on the same port with the
// mail kept; the mail Postfix deferred meanwhile reaches the INBOX, and mail DeliverLocal
// filed meanwhile keeps the time it was filed as its INTERNALDATE.
func TestRealStopStartIMAP(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Real(t, lin)
	if err := send(w, nil, customer, lin.Address, "before", "before\r\n"); err != nil {
		t.Fatalf("send before the outage: %v", err)
	}
	c := login(t, w, lin)
	waitMessages(t, c, "INBOX", 1)

	start := time.Now()
	if err := w.StopIMAP(); err != nil {
		t.Fatalf("StopIMAP() = %v", err)
	}
	t.Logf("StopIMAP took %v", time.Since(start).Round(time.Millisecond))
	if w.IMAPRunning() {
		t.Error("IMAPRunning() = true after StopIMAP")
	}
	if err := w.StopIMAP(); err != nil {
		t.Errorf("second StopIMAP() = %v, want nil", err)
	}
	select {
	case <-c.Closed():
	case <-time.After(5 * time.Second):
		t.Error("an IMAP connection open before StopIMAP was still open 5 s after it")
	}
	if conn, err := net.DialTimeout("tcp", w.IMAPAddr(), time.Second); err == nil {
		conn.Close()
		t.Errorf("%s accepts connections after StopIMAP", w.IMAPAddr())
	}
	// Postfix is up: it accepts the mail and defers it, as LMTP is down.
	if err := send(w, nil, customer, lin.Address, "during", "during\r\n"); err != nil {
		t.Fatalf("send during the outage: %v", err)
	}
	// A local delivery agent files mail in the maildir without Dovecot.
	local := []byte("From: " + customer + "\r\nTo: " + lin.Address + "\r\nSubject: local\r\nMessage-ID: <local@customer.test>\r\n\r\nfiled during the outage\r\n")
	if err := w.DeliverLocal(lin.Address, local); err != nil {
		t.Fatalf("DeliverLocal() = %v", err)
	}
	filed := time.Now()
	time.Sleep(1100 * time.Millisecond) // INTERNALDATE has whole seconds: make the return a later second

	start = time.Now()
	if err := w.StartIMAP(); err != nil {
		t.Fatalf("StartIMAP() = %v", err)
	}
	back := time.Now()
	t.Logf("StartIMAP took %v", back.Sub(start).Round(time.Millisecond))
	if !w.IMAPRunning() {
		t.Error("IMAPRunning() = false after StartIMAP")
	}
	msgs := waitMessages(t, login(t, w, lin), "INBOX", 3)
	bySubject := map[string]time.Time{}
	for _, m := range msgs {
		bySubject[m.Envelope.Subject] = m.InternalDate
	}
	if len(msgs) != 3 || len(bySubject) != 3 {
		t.Fatalf("INBOX after the outage holds %v, want before, during and local once each", bySubject)
	}
	// Deferred mail is delivered after the return: INTERNALDATE says so (whole seconds).
	if d := bySubject["during"]; d.Before(back.Truncate(time.Second)) {
		t.Errorf("mail deferred during the outage has INTERNALDATE %v, before Dovecot's return at %v", d, back)
	}
	// Mail filed in the maildir during the outage keeps the time it was filed.
	if d := bySubject["local"]; d.After(filed) || filed.Sub(d) > 2*time.Second {
		t.Errorf("mail filed locally at %v has INTERNALDATE %v, want that second", filed, d)
	}

	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	deliver := func() error { return w.DeliverLocal(lin.Address, local) }
	for _, f := range []func() error{w.StopIMAP, w.StartIMAP, w.FlushQueue, deliver} {
		if err := f(); !errors.Is(err, mailworld.ErrClosed) {
			t.Errorf("after Close: %v, want %v", err, mailworld.ErrClosed)
		}
	}
}
