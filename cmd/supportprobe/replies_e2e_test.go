package main

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// vendorSend delivers a raw message from the vendor's help desk through w's SMTP server.
func vendorSend(t *testing.T, w mailworld.World, to string, msg string) {
	t.Helper()
	msg = strings.ReplaceAll(msg, "\n", "\r\n")
	if err := smtp.SendMail(w.SMTPAddr(), nil, "support@acme.example", []string{to}, []byte(msg)); err != nil {
		t.Fatalf("vendor send to %s: %v", to, err)
	}
}

type historyProbe struct {
	ID                     string   `json:"id"`
	Status                 string   `json:"status"`
	Token                  string   `json:"token"`
	MessageID              string   `json:"message_id"`
	AckLatencySeconds      *float64 `json:"ack_latency_seconds"`
	ResponseLatencySeconds *float64 `json:"response_latency_seconds"`
	Replies                []struct {
		ID        string `json:"id"`
		MessageID string `json:"message_id"`
		Kind      string `json:"kind"`
		MatchedBy string `json:"matched_by"`
		Reason    string `json:"reason"`
	} `json:"replies"`
}

func readHistory(t *testing.T, cfgPath string) []historyProbe {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("history: exit %d, %s", code, stderr)
	}
	var h []historyProbe
	if err := json.Unmarshal([]byte(stdout), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// waitHistory polls history until cond holds for the probe with id, or fails.
func waitHistory(t *testing.T, cfgPath, id string, what string, cond func(historyProbe) bool) historyProbe {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, p := range readHistory(t, cfgPath) {
			if p.ID == id && cond(p) {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %s: %s did not happen within 20 s; history: %+v", id, what, readHistory(t, cfgPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// subjectZh is the inquiry's subject as a help desk would quote it: RFC 2047 encoded,
// since Postfix refuses 8-bit headers without SMTPUTF8.
var subjectZh = mime.BEncoding.Encode("UTF-8", "紧急：华东 推流失败")

// TestRepliesEndToEnd: a probe goes out; the vendor's help desk acknowledges after 2 s
// (marked Auto-Submitted, citing our Message-ID) and a person answers after 5 s citing
// only the help desk's own Message-ID; the daemon restarts in between. History shows the
// ack at about 2 s and the response at about 5 s, each matched by the right rung, and
// nothing recorded twice.
func TestRepliesEndToEnd(t *testing.T) {
	run := func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		// Probes only by hand here: the every-minute schedule would add probes.
		stop := startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")
		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("send: exit %d, %s", code, stderr)
		}
		id := strings.TrimSpace(stdout)
		p := waitHistory(t, cfgPath, id, "sent", func(p historyProbe) bool { return p.Status == "sent" })
		sentAt := time.Now()

		time.Sleep(time.Until(sentAt.Add(2 * time.Second)))
		ackID := "ack-" + p.Token + "@helpdesk.acme.example"
		sendAck(t, w, p.Token, ackID, p.MessageID)
		waitHistory(t, cfgPath, id, "ack recorded", func(p historyProbe) bool { return p.Status == "acknowledged" })

		// Restart: the new daemon resumes from the stored position.
		stop()
		startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")

		time.Sleep(time.Until(sentAt.Add(5 * time.Second)))
		vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: [#4711] %[4]s
Message-ID: <agent-%[1]s@helpdesk.acme.example>
In-Reply-To: <%[2]s>
References: <%[2]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

We found a misconfigured ingest node in the East China region and moved your
streams to a healthy one. New streams should start normally now; please let us
know if you still see failures.

Dana

On Sat, Nov 28, 2026 at 03:00, Acme Support wrote:
> We have received your request
`, p.Token, ackID, time.Now().Format(time.RFC1123Z), subjectZh))
		p = waitHistory(t, cfgPath, id, "answered", func(p historyProbe) bool { return p.Status == "answered" })

		near := func(got *float64, want float64) bool { return got != nil && math.Abs(*got-want) <= 1.0 }
		if !near(p.AckLatencySeconds, 2) || !near(p.ResponseLatencySeconds, 5) {
			t.Errorf("latencies: ack %v, response %v; want ≈2 and ≈5 (within 1 s)", deref(p.AckLatencySeconds), deref(p.ResponseLatencySeconds))
		}
		if len(p.Replies) != 2 {
			t.Fatalf("replies = %+v, want exactly 2 (nothing recorded twice)", p.Replies)
		}
		wantReplies := []struct{ kind, rung string }{{"auto_ack", "message_id"}, {"human", "thread"}}
		for i, want := range wantReplies {
			if r := p.Replies[i]; r.Kind != want.kind || r.MatchedBy != want.rung || r.Reason == "" {
				t.Errorf("reply %d = %s matched by %s (%q); want %s matched by %s with a reason", i, r.Kind, r.MatchedBy, r.Reason, want.kind, want.rung)
			}
		}
		code, stdout, _ = invoke(t, time.Now(), "inbox", "--config", cfgPath, "--unmatched", "--format", "json")
		if code != exitOK || strings.TrimSpace(stdout) != "[]" {
			t.Errorf("inbox --unmatched: exit %d, %s; want no unmatched mail", code, stdout)
		}
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Memory(t, linUser, supportUser))
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Real(t, linUser, supportUser))
	})
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// sendAck delivers, from the vendor to the plus-address of token, Acme's automatic
// "ticket #4711 created" with Message-ID ackID, in reply to our inquiry messageID.
func sendAck(t *testing.T, w mailworld.World, token, ackID, messageID string) {
	t.Helper()
	vendorSend(t, w, "lin.wei+"+token+"@example.com", fmt.Sprintf(`From: Acme Support <support@acme.example>
To: lin.wei+%[1]s@example.com
Subject: [#4711] %[5]s
Message-ID: <%[2]s>
In-Reply-To: <%[3]s>
References: <%[3]s>
Auto-Submitted: auto-replied
Date: %[4]s
Content-Type: text/plain; charset=utf-8

Thank you for contacting Acme Support. We have received your request and a ticket
(#4711) has been created. A member of our team will respond shortly.
`, token, ackID, messageID, time.Now().Format(time.RFC1123Z), subjectZh))
}
