package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/probe/review"
	"supportprobe/store"
)

// seedReview adds to the seeded trial a reply the classifier could not decide, on the
// unanswered probe P2: a one-line answer after a courtesy opener.
func seedReview(t *testing.T, stateDir string) {
	t.Helper()
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := "From: Dana <dana@acme.example>\r\nTo: lin.wei@example.com\r\nSubject: Re: Streams failing\r\n" +
		"Message-ID: <rev-1@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Thanks for reaching out! Restart the ingest node, that clears it.\r\n"
	if _, err := db.AddReply(probe.Reply{ProbeID: "P2", MessageID: "rev-1@acme.example", ReceivedAt: sentAt.Add(90 * time.Minute),
		From: "Dana <dana@acme.example>", Subject: "Re: Streams failing", Kind: probe.KindNeedsReview, MatchedBy: probe.RungToken,
		Reason:     "needs_review: courtesy opener (auto_ack evidence) and an instruction (person evidence), confidence 0.55",
		Confidence: 0.55}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

func invokeWithInput(t *testing.T, input string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader(input), terminal: func(io.Reader) bool { return true },
		now: func() time.Time { return now }, getenv: os.Getenv}
	code = e.run(context.Background(), args)
	return code, out.String(), errb.String()
}

// TestReview lists a reply waiting for review with its new text and what deciding it
// would change, decides it interactively and by arguments, on a stopped state directory
// and through the daemon, and checks that the figures follow at once.
func TestReview(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	seedReview(t, stateDir)

	code, stdout, stderr := invoke(t, now, "review", "--config", cfg, "--since", "2026-11-01")
	if code != exitOK {
		t.Fatalf("review: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"1 reply awaits review", "R3  probe P2", "Restart the ingest node", "courtesy opener",
		"as a person's answer: unanswered → answered in 30m00s, sla breached → met", "supportprobe review REPLY-ID KIND"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("review output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = invoke(t, now, "review", "--config", cfg, "--since", "2026-11-01", "--format", "json")
	var items []review.Item
	if err := json.Unmarshal([]byte(stdout), &items); code != exitOK || err != nil || len(items) != 1 || items[0].ReplyID != "R3" || items[0].NewText == nil {
		t.Fatalf("review --format json: exit %d, %v, %+v", code, err, items)
	}
	if c := items[0].Confidence; c == nil || *c != 0.55 {
		t.Errorf("review --format json: confidence %v, want the stored 0.55", c)
	}

	// Until decided, it is no response: P2 is unanswered.
	if st := historyStatus(t, cfg, "P2"); st != "unanswered" {
		t.Errorf("P2 before the decision = %s, want unanswered", st)
	}
	code, _, stderr = invoke(t, now, "review", "--config", cfg, "R3", "needs_review")
	if code != exitUsage || !strings.Contains(stderr, "unknown kind") {
		t.Errorf("review R3 needs_review: exit %d, %s", code, stderr)
	}

	// Interactively: a bad key is asked again, then "s" skips.
	code, stdout, _ = invokeWithInput(t, "q\ns\n", "review", "--config", cfg, "--since", "2026-11-01")
	if code != exitOK || !strings.Contains(stdout, `"q" is not one of`) || !strings.Contains(stdout, "skipped") {
		t.Errorf("interactive skip: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = invokeWithInput(t, "h\none-line answer after a courtesy opener\n", "review", "--config", cfg, "--since", "2026-11-01")
	if code != exitOK || !strings.Contains(stdout, "R3 of probe P2 is now human") {
		t.Fatalf("interactive decision: exit %d\n%s", code, stdout)
	}
	if st := historyStatus(t, cfg, "P2"); st != "answered" {
		t.Errorf("P2 after the decision = %s, want answered", st)
	}
	if _, stdout, _ = invoke(t, now, "review", "--config", cfg, "--since", "2026-11-01"); !strings.Contains(stdout, "No reply awaits review") {
		t.Errorf("review after the decision:\n%s", stdout)
	}

	// Through the daemon, by arguments.
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	startDaemon(t, cfg, stateDir, "--no-schedules")
	code, stdout, stderr = invoke(t, now, "review", "--config", cfg, "--note", "back to the classifier's doubt", "R3", "other")
	if code != exitOK || !strings.Contains(stdout, "R3 of probe P2 is now other") {
		t.Fatalf("review through the daemon: exit %d\n%s%s", code, stdout, stderr)
	}
	if st := historyStatus(t, cfg, "P2"); st != "unanswered" {
		t.Errorf("P2 after deciding other = %s, want unanswered", st)
	}
}

// historyStatus returns one probe's status from history --format json.
func historyStatus(t *testing.T, cfg, id string) string {
	t.Helper()
	_, stdout, stderr := invoke(t, now, "history", "--config", cfg, "--format", "json")
	var hist []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &hist); err != nil {
		t.Fatalf("history: %v\n%s%s", err, stdout, stderr)
	}
	for _, h := range hist {
		if h.ID == id {
			return h.Status
		}
	}
	t.Fatalf("history has no %s", id)
	return ""
}
