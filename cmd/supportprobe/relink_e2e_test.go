package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestRelinkThreadEndToEnd is issue 12, defect 4, through real mail: the vendor's answer
// cites probe P1's inquiry and ticket #5150 and is matched to P1; a person re-links it
// to P2 through the daemon. The vendor's next mail cites only that answer's Message-ID
// (rung 3), and a later notification only the ticket key (rung 4): both must match P2,
// not P1. Before the fix both went to P1, which kept the thread.
func TestRelinkThreadEndToEnd(t *testing.T) {
	run := func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		startDaemon(t, cfgPath, stateDir, "--no-schedules")
		var ids []string
		for range 2 {
			code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
			if code != exitOK {
				t.Fatalf("send: exit %d, %s", code, stderr)
			}
			ids = append(ids, strings.TrimSpace(stdout))
		}
		p1 := waitHistory(t, cfgPath, ids[0], "sent", func(p historyProbe) bool { return p.Status == "sent" })
		p2 := waitHistory(t, cfgPath, ids[1], "sent", func(p historyProbe) bool { return p.Status == "sent" })
		time.Sleep(1100 * time.Millisecond) // INTERNALDATE has whole seconds

		domain := "helpdesk.acme.example"
		answer := fmt.Sprintf("answer-%d@%s", time.Now().UnixNano(), domain)
		root := "case-root-" + answer
		vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: [#5150] streams
Message-ID: <%[1]s>
In-Reply-To: <%[2]s>
References: <%[3]s> <%[2]s>
Date: %[4]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

We moved your streams to a healthy ingest node in the East China region; new
streams should start normally now. Please tell us if you still see failures.

Dana
`, answer, p1.MessageID, root, time.Now().Format(time.RFC1123Z)))
		waitHistory(t, cfgPath, p1.ID, "answer matched to P1", func(p historyProbe) bool { return len(p.Replies) == 1 })

		code, stdout, stderr := invoke(t, time.Now(), "link", "--config", cfgPath, "--note", "the vendor answered P2's question in P1's thread", "<"+answer+">", p2.ID)
		if code != exitOK || !strings.Contains(stdout, "probe "+p2.ID) || !strings.Contains(stdout, "its thread now matches "+p2.ID) {
			t.Fatalf("link through the daemon: exit %d, %s%s", code, stdout, stderr)
		}

		// Later mail of that thread: no token, no plus-address, no citation of our IDs.
		vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: streams
Message-ID: <second-%[1]s>
In-Reply-To: <%[1]s>
References: <%[2]s> <%[1]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin, one more thing: the old ingest node stays in maintenance until Monday,
so please keep the new endpoint in your configuration.

Dana
`, answer, root, time.Now().Format(time.RFC1123Z)))
		vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf(`From: Acme Support <support@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: [#5150] Your case was updated
Message-ID: <notify-%[1]s>
Auto-Submitted: auto-generated
Date: %[2]s
Content-Type: text/plain; charset=utf-8

Your case has been updated. Reply to this email to add a comment.
`, answer, time.Now().Format(time.RFC1123Z)))

		got := waitHistory(t, cfgPath, p2.ID, "the thread's later mail", func(p historyProbe) bool { return len(p.Replies) == 3 })
		rungs := map[string]string{}
		for _, r := range got.Replies {
			rungs[r.MessageID] = r.MatchedBy
		}
		if rungs["second-"+answer] != "thread" || rungs["notify-"+answer] != "ticket_key" || rungs[answer] != "manual" {
			t.Errorf("P2's replies matched by %v; want the answer manual, the next mail by thread, the notification by ticket key", rungs)
		}
		for _, p := range readHistory(t, cfgPath) {
			if p.ID == p1.ID && len(p.Replies) != 0 {
				t.Errorf("P1 still gets mail of the re-linked thread: %+v", p.Replies)
			}
		}
		code, stdout, _ = invoke(t, time.Now(), "show", "--config", cfgPath, p1.ID)
		for _, want := range []string{"Corrections by hand (1)", "moved away to probe " + p2.ID, "Thread IDs moved from " + p1.ID + ": <" + answer + ">, <" + root + ">",
			"Ticket keys of acme-cloud moved from " + p1.ID + ": 5150"} {
			if code != exitOK || !strings.Contains(stdout, want) {
				t.Errorf("show %s lacks %q:\n%s", p1.ID, want, stdout)
			}
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
