package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/daemon"
)

// badInputBound is how long the daemon may take to record the whole bad-input batch. It
// is a correctness guard against a stall (a message the watcher retries forever, a
// parser loop), not a speed target: delivering and recording the batch takes about 2 s
// in the memory world and 14 s in the real one (3 s of it waiting for the message
// Postfix bounces), 30 s and 18 s under -race on a loaded machine; the test logs it.
const badInputBound = 2 * time.Minute

// TestBadInputEndToEnd delivers each hostile message of hostileMails, plus a 20 MB one
// that cites nothing, between two ordinary replies, through each mail world to the
// running daemon: its watcher, Parse, the matcher, Classify and the store. The daemon
// must keep running and record every message (as a reply or as unmatched mail, with a
// reason), both neighbours of each must be recorded as the human replies they are, and
// what the daemon could not read must be said where the user looks: the message over
// the watcher's 1 MiB fetch limit shows "too large: cut at 1 MiB of …" in
// `inbox --unmatched`.
//
// A message the world's SMTP server refuses (the 20 MB ones: both worlds cap a message
// near 10 MB) is APPENDed to the INBOX over IMAP instead, and the test logs which.
func TestBadInputEndToEnd(t *testing.T) {
	mailworldtest.Each(t, []mailworld.User{linUser, supportUser}, func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")
		var probes []historyProbe
		for range 2 {
			code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
			if code != exitOK {
				t.Fatalf("send: exit %d, %s", code, stderr)
			}
			id := strings.TrimSpace(stdout)
			probes = append(probes, waitHistory(t, cfgPath, id, "sent", func(p historyProbe) bool { return p.Status == "sent" }))
		}
		neighbourProbe, hostileProbe := probes[0], probes[1]

		corpus := hostileMails(hostileProbe.MessageID)
		big := corpus[0]
		if big.name != "attachment-20MB" {
			t.Fatalf("corpus[0] = %s, want attachment-20MB", big.name)
		}
		orphan := hostileMail{name: "attachment-20MB-citing-nothing", messageID: "hostile-20mb-orphan@acme.example"}
		orphan.raw = []byte(strings.Replace(strings.Replace(string(big.raw), big.messageID, orphan.messageID, 1),
			"In-Reply-To: <"+hostileProbe.MessageID+">\r\n", "", 1))
		corpus = append(corpus, orphan)

		type sent struct {
			name, messageID string
			neighbour       bool
		}
		var all []sent
		start := time.Now()
		for i, h := range corpus {
			before := fmt.Sprintf("neighbour-%d-before@acme.example", i)
			after := fmt.Sprintf("neighbour-%d-after@acme.example", i)
			deliver(t, w, before, before, []byte(neighbourReply(neighbourProbe.MessageID, before, "Re: Streams failing")))
			deliver(t, w, h.name, h.messageID, h.raw)
			deliver(t, w, after, after, []byte(neighbourReply(neighbourProbe.MessageID, after, "Re: Streams failing")))
			all = append(all, sent{before, before, true}, sent{h.name, h.messageID, false}, sent{after, after, true})
		}
		delivered := time.Since(start)

		// Wait for every message to be recorded, by Message-ID.
		var got map[string]inboxItem
		for deadline := time.Now().Add(badInputBound); ; time.Sleep(200 * time.Millisecond) {
			got = readInbox(t, cfgPath)
			missing := 0
			for _, s := range all {
				if _, ok := got[s.messageID]; !ok {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %v, %d of %d messages are not recorded (a stall?); recorded: %+v", badInputBound, missing, len(all), got)
			}
		}
		t.Logf("delivered %d messages in %v; all recorded %v after the first delivery", len(all), delivered.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

		// The daemon still runs and answers.
		c, err := daemon.Dial(context.Background(), stateDir)
		if err != nil {
			t.Fatalf("daemon no longer answers on its socket: %v", err)
		}
		c.Close()

		for _, s := range all {
			it := got[s.messageID]
			if s.neighbour {
				if it.Probe != neighbourProbe.ID || it.Kind != "human" || it.MatchedBy != "message_id" {
					t.Errorf("neighbour %s = probe %q, kind %s, matched by %s (%s); want %s, human, message_id",
						s.name, it.Probe, it.Kind, it.MatchedBy, it.Reason, neighbourProbe.ID)
				}
				continue
			}
			t.Logf("%s: probe %q, kind %s, matched by %q, reason %q, unmatched because %q", s.name, it.Probe, it.Kind, it.MatchedBy, it.Reason, it.Why)
			if it.Kind == "" || it.Reason == "" {
				t.Errorf("%s recorded without a kind or reason: %+v", s.name, it)
			}
			if it.Probe == "" && it.Why == "" {
				t.Errorf("%s kept as unmatched without saying why: %+v", s.name, it)
			}
			if it.Probe != "" && it.Probe != hostileProbe.ID {
				t.Errorf("%s matched %s, want %s (the probe it cites) or unmatched", s.name, it.Probe, hostileProbe.ID)
			}
		}
		if it := got[big.messageID]; it.Probe != hostileProbe.ID || !strings.Contains(it.Reason, "too large: cut at 1 MiB of 20.") {
			t.Errorf("%s = probe %q, reason %q; want matched to %s by its header with the cut in the reason", big.name, it.Probe, it.Reason, hostileProbe.ID)
		}
		if it := got["hostile-deep@acme.example"]; !strings.Contains(it.Reason, "nested deeper than 30 levels") {
			t.Errorf("multipart-100-deep reason %q, want it to say the deep parts were not read", it.Reason)
		}

		// What the user sees: the unmatched 20 MB message, with the cut.
		code, stdout, stderr := invoke(t, time.Now(), "inbox", "--config", cfgPath, "--unmatched")
		if code != exitOK {
			t.Fatalf("inbox --unmatched: exit %d, %s", code, stderr)
		}
		// Why it is unmatched is on the lines under its row, wrapped to the table's width.
		block, rowSeen := "", false
		for l := range strings.Lines(stdout) {
			switch {
			case strings.Contains(l, "  "+got[orphan.messageID].ID+"  "):
				rowSeen = true
			case rowSeen && strings.HasPrefix(l, "    "):
				block += " " + strings.TrimSpace(l)
			default:
				rowSeen = false
			}
		}
		if !strings.Contains(block, "too large: cut at 1 MiB of 20.") {
			t.Errorf("inbox --unmatched does not show the 20 MB message with the cut:\n%s", stdout)
		}
	})
}

// deliver sends raw (whose Message-ID is messageID) from the vendor to
// lin.wei@example.com through w's SMTP server and waits until it is in the INBOX. When
// the server refuses it, or accepts it but never delivers it (Postfix bounces 8-bit
// headers, as Dovecot's LMTP does not offer SMTPUTF8), it APPENDs the message to the
// INBOX over IMAP instead, and logs that.
func deliver(t *testing.T, w mailworld.World, name, messageID string, raw []byte) {
	t.Helper()
	c := linIMAP(t, w)
	defer c.Close()
	err := smtp.SendMail(w.SMTPAddr(), nil, "support@acme.example", []string{linUser.Address}, raw)
	if err != nil {
		t.Logf("%s: SMTP refused it (%v); APPENDing it over IMAP instead", name, err)
	} else {
		for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			found, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-Id", Value: messageID}}}, nil).Wait()
			if err != nil {
				t.Fatalf("%s: search the INBOX for it: %v", name, err)
			}
			if len(found.AllUIDs()) > 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Logf("%s: SMTP accepted it but it did not reach the INBOX within 3 s (see the server's log); APPENDing it over IMAP instead", name)
				break
			}
		}
	}
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatalf("%s: APPEND: %v", name, err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatalf("%s: APPEND: %v", name, err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("%s: APPEND: %v", name, err)
	}
}

// linIMAP logs in to lin.wei's INBOX in w; the connection closes when the test ends.
func linIMAP(t *testing.T, w mailworld.World) *imapclient.Client {
	t.Helper()
	host, port, _ := net.SplitHostPort(w.IMAPAddr())
	var p int
	fmt.Sscan(port, &p)
	c, err := mailbox.DialIMAP(context.Background(), mailbox.Server{Host: host, Port: p, Security: mailbox.SecurityNone,
		Username: linUser.Address, Password: linUser.Password, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("IMAP login as %s: %v", linUser.Address, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		c.Close()
		t.Fatalf("SELECT INBOX: %v", err)
	}
	return c
}

// readInbox returns `inbox --format json`, every item by its Message-ID.
func readInbox(t *testing.T, cfgPath string) map[string]inboxItem {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "inbox", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("inbox: exit %d, %s", code, stderr)
	}
	var items []inboxItem
	if err := json.Unmarshal([]byte(stdout), &items); err != nil {
		t.Fatalf("inbox --format json: %v\n%s", err, stdout)
	}
	out := make(map[string]inboxItem, len(items))
	for _, it := range items {
		out[it.MessageID] = it
	}
	return out
}
