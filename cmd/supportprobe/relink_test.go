package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
)

// TestLinkEarlyAndAudit: link refuses a reply that arrived before the probe's inquiry
// was sent, on a stopped state directory and through the daemon (HTTP 409) alike,
// saying to use --force; --force links it and records the override; show prints every
// correction by hand with who, the note and what moved, and GET /v1/audit returns them.
func TestLinkEarlyAndAudit(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	t.Setenv("USER", "tester")

	// R2 (hum-1) came 6 s after P1 went out, an hour before P2 did.
	code, stdout, stderr := invoke(t, now, "link", "--config", cfg, "hum-1@acme.example", "P2")
	if code != exitFailure || !strings.Contains(stderr, "before probe P2 was sent") || !strings.Contains(stderr, "supportprobe link --force 'hum-1@acme.example' P2") {
		t.Fatalf("link of an early reply (no daemon): exit %d, %s%s; want it refused, pointing to --force", code, stdout, stderr)
	}
	code, stdout, stderr = invoke(t, now, "link", "--config", cfg, "--force", "--note", "the vendor answered the wrong ticket", "hum-1@acme.example", "P2")
	if code != exitOK || !strings.Contains(stdout, "probe P2") {
		t.Fatalf("link --force (no daemon): exit %d, %s%s", code, stdout, stderr)
	}
	code, stdout, stderr = invoke(t, now, "show", "--config", cfg, "P2")
	for _, want := range []string{"Corrections by hand (1)", "by tester", "linked here: reply R2 of probe P1, now reply R3 of probe P2",
		"Note: the vendor answered the wrong ticket", "FORCED: arrived 59m54s before probe P2",
		// The seeded reply was stored without a record of what it taught (as before
		// schema 4): its own Message-ID joins P2's thread, and show says what stayed.
		"Thread IDs added: <hum-1@acme.example>", "Left in place: the message IDs it cited and ticket keys learned from it stay with probe P1",
		"EARLY (arrived before the inquiry was sent: not an answer)"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("show P2 lacks %q: exit %d\n%s%s", want, code, stdout, stderr)
		}
	}
	code, stdout, _ = invoke(t, now, "history", "--config", cfg, "--format", "json")
	var hist []struct {
		ID                     string   `json:"id"`
		Status                 string   `json:"status"`
		ResponseLatencySeconds *float64 `json:"response_latency_seconds"`
	}
	if err := json.Unmarshal([]byte(stdout), &hist); err != nil || code != exitOK {
		t.Fatalf("history: exit %d, %v", code, err)
	}
	if p2 := hist[1]; p2.ID != "P2" || p2.Status != "unanswered" || p2.ResponseLatencySeconds != nil {
		t.Errorf("P2 after a forced link of an early reply = %+v; want unanswered, no latency (never 0 s)", p2)
	}

	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	startDaemon(t, cfg, stateDir, "--no-schedules")
	// R1 (ack-1, 3 s after P1) through the daemon: refused with the same advice.
	code, stdout, stderr = invoke(t, now, "link", "--config", cfg, "ack-1@acme.example", "P2")
	if code != exitFailure || !strings.Contains(stderr, "daemon pid") || !strings.Contains(stderr, "before probe P2 was sent") || !strings.Contains(stderr, "--force") {
		t.Fatalf("link of an early reply through the daemon: exit %d, %s%s; want 409 turned into the same refusal", code, stdout, stderr)
	}
	code, stdout, stderr = invoke(t, now, "mark", "--config", cfg, "--note", "a person wrote it", "R1", "human")
	if code != exitOK {
		t.Fatalf("mark through the daemon: exit %d, %s%s", code, stdout, stderr)
	}
	code, stdout, _ = invoke(t, now, "show", "--config", cfg, "P1")
	for _, want := range []string{"Corrections by hand (2)", "moved away to probe P2: reply R2 of probe P1", "marked R1 human (was auto_ack)", "Note: a person wrote it"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("show P1 through the daemon lacks %q:\n%s", want, stdout)
		}
	}
	c, err := daemon.Dial(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	all, err := c.Corrections(context.Background(), "")
	if err != nil || len(all) != 2 || all[0].Action != probe.CorrectionLink || all[0].Forced == "" || all[1].Action != probe.CorrectionMark || !strings.HasSuffix(all[1].By, `, as "tester"`) {
		t.Errorf("GET /v1/audit = %+v, %v; want the forced link, then the mark by this account, as \"tester\"", all, err)
	}
	if p3, err := c.Corrections(context.Background(), "P3"); err != nil || len(p3) != 0 {
		t.Errorf("GET /v1/audit?probe=P3 = %+v, %v; want none", p3, err)
	}
}
