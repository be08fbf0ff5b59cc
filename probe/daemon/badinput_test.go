package daemon

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox"
	"supportprobe/store"
)

// TestHandleMailRecordsWhatWasNotRead: when a decision rests on part of a message (the
// watcher fetched only the first MaxSize bytes, the server sent less than it said, or
// Parse left MIME parts unread), the reason stored beside the decision says so, for a
// reply and for unmatched mail alike, with the sizes.
func TestHandleMailRecordsWhatWasNotRead(t *testing.T) {
	d := mustPipelineDaemon(t)
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	mail := func(id, inReplyTo, body string) []byte {
		h := "From: Dana <dana@acme.example>\r\nTo: lin.wei@example.com\r\nSubject: Re: Streams failing\r\nMessage-ID: <" + id + ">\r\n"
		if inReplyTo != "" {
			h += "In-Reply-To: <" + inReplyTo + ">\r\n"
		}
		return []byte(h + "Content-Type: text/plain\r\n\r\n" + body)
	}
	deep := func(id string) []byte {
		var b bytes.Buffer
		b.Write(mail(id, p.MessageID, "")[:bytes.Index(mail(id, p.MessageID, ""), []byte("Content-Type"))])
		for i := range 40 {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\r\n\r\nI restarted the node; please try again.\r\n")
		return b.Bytes()
	}
	// big is the first MaxSize bytes of a message with a large attachment, as the
	// watcher fetches it.
	big := func(id, inReplyTo string) []byte {
		raw := mail(id, inReplyTo, "")
		raw = raw[:bytes.Index(raw, []byte("Content-Type"))]
		raw = append(raw, "Content-Type: multipart/mixed; boundary=big\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\n"+
			"I restarted the node; please try again.\r\n--big\r\nContent-Type: application/octet-stream\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n"...)
		for len(raw) < mailbox.DefaultWatchMaxSize {
			raw = append(raw, strings.Repeat("QUJD", 19)+"\r\n"...)
		}
		return raw[:mailbox.DefaultWatchMaxSize]
	}
	tests := []struct {
		name      string
		raw       []byte
		size      int64
		matched   bool
		wantInWhy string
	}{
		{"reply over the fetch limit", big("big@acme.example", p.MessageID), 20 << 20, true, "too large: cut at 1 MiB of 20 MiB"},
		{"unmatched over the fetch limit", big("big2@acme.example", ""), 3<<20 + 512<<10, false, "too large: cut at 1 MiB of 3.5 MiB"},
		{"server sent nothing", []byte{}, 765, false, "incomplete: the server returned 0 B of 765 B"},
		{"MIME too deep", deep("deep@acme.example"), 0, true, "MIME parts nested deeper than 30 levels not read"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.size
			if size == 0 {
				size = int64(len(tt.raw))
			}
			f := mailbox.Fetched{Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1), InternalDate: clock.Add(time.Minute), Raw: tt.raw,
				Size: size, Truncated: size > int64(len(tt.raw)), DetectedAt: clock.Add(time.Minute)}
			if err := d.handleMail(context.Background(), f); err != nil {
				t.Fatalf("handleMail = %v", err)
			}
			if tt.matched {
				m, _ := mailbox.Parse(tt.raw, mailbox.ParseOptions{})
				id, _, _ := d.DB().Seen(m.MessageID)
				r, err := d.DB().Reply(id)
				if err != nil || r.ProbeID != p.ID || !strings.Contains(r.Reason, tt.wantInWhy) {
					t.Errorf("reply = %+v, %v; want it matched to %s with %q in its reason", r, err, p.ID, tt.wantInWhy)
				}
				raw, err := d.DB().ReplyRaw(id)
				checkRawRecord(t, raw, err, f)
				return
			}
			um, _ := d.DB().UnmatchedMail(time.Time{}, time.Time{})
			if len(um) == 0 {
				t.Fatal("nothing kept as unmatched")
			}
			u := um[len(um)-1]
			if !strings.Contains(u.Reason, tt.wantInWhy) || !strings.Contains(u.Why, tt.wantInWhy) {
				t.Errorf("unmatched reason %q, why %q; want both to say %q", u.Reason, u.Why, tt.wantInWhy)
			}
			raw, err := d.DB().UnmatchedRaw(u.ID)
			checkRawRecord(t, raw, err, f)
		})
	}
}

// checkRawRecord checks that the stored raw copy of f says what the evidence export will
// say of it: the bytes fetched, the whole message's size, and whether it was cut.
func checkRawRecord(t *testing.T, raw store.Raw, err error, f mailbox.Fetched) {
	t.Helper()
	if err != nil || !bytes.Equal(raw.Data, f.Raw) || raw.Size != max(int(f.Size), len(f.Raw)) || raw.Truncated != f.Truncated {
		t.Errorf("raw copy = %d bytes, size %d, truncated %v, err %v; want %d bytes, size %d, truncated %v",
			len(raw.Data), raw.Size, raw.Truncated, err, len(f.Raw), f.Size, f.Truncated)
	}
}
