package mailbox

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestSendBeforeSend: the rendered message reaches BeforeSend before any connection is
// made (its error stops the send, so nothing goes out unrecorded), and the bytes it was
// given are exactly the ones sent.
func TestSendBeforeSend(t *testing.T) {
	t.Parallel()
	t.Run("error stops the send before connecting", func(t *testing.T) {
		t.Parallel()
		// Nothing listens at the server's address: had Send connected first, it would
		// report the refused connection (after retries), not BeforeSend's error.
		ln := listen(t)
		srv := serverAt(t, ln.Addr().String(), SecurityNone, mailworld.User{})
		ln.Close()
		full := errors.New("write supportprobe.db: no space left on device")
		in := chineseInquiry()
		in.BeforeSend = func([]byte) error { return full }
		clock := newFakeClock()
		_, err := NewSender(srv, SenderOptions{Now: clock.Now, Sleep: clock.Sleep}).Send(context.Background(), in)
		var se *SendError
		if !errors.Is(err, full) || errors.As(err, &se) {
			t.Fatalf("Send = %v, want BeforeSend's error and no SMTP attempt", err)
		}
	})
	t.Run("gets the bytes sent", func(t *testing.T) {
		t.Parallel()
		w := mailworldtest.Memory(t, users...)
		var kept []byte
		in := chineseInquiry()
		in.BeforeSend = func(raw []byte) error { kept = bytes.Clone(raw); return nil }
		res, err := NewSender(smtpServer(t, w, lin), SenderOptions{}).Send(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(kept) == 0 || !bytes.Equal(kept, res.Raw) {
			t.Errorf("BeforeSend got %d bytes, Send sent %d; want the same bytes", len(kept), len(res.Raw))
		}
	})
}
