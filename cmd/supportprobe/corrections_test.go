package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// TestMarkAndLink corrects the record by hand, without a daemon and then through one:
// mark turns the acknowledgement into a person's answer (the response latency follows),
// and link ties an unmatched mail to its probe.
func TestMarkAndLink(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddUnmatched(store.Unmatched{MessageID: "<lost@acme.example>", From: "Dana <dana@acme.example>",
		Subject: "about your streams", ReceivedAt: sentAt.Add(time.Hour + 30*time.Minute), Kind: probe.KindHuman,
		Reason: "human: 120 chars of new text", Why: "no evidence"}, []byte("raw")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, stdout, stderr := invoke(t, now, "inbox", "--config", cfg, "--unmatched", "--since", "2026-11-01")
	if code != exitOK || !strings.Contains(stdout, "U1") || !strings.Contains(stdout, "no evidence") {
		t.Errorf("inbox --unmatched: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = invoke(t, now, "mark", "--config", cfg, "--note", "agent signed it", "R1", "human")
	if code != exitOK || !strings.Contains(stdout, "R1 of probe P1 is now human") {
		t.Fatalf("mark: exit %d, %s%s", code, stdout, stderr)
	}
	code, _, stderr = invoke(t, now, "mark", "--config", cfg, "R1", "person")
	if code != exitUsage || !strings.Contains(stderr, "unknown kind") {
		t.Errorf("mark with a bad kind: exit %d, %s", code, stderr)
	}
	code, _, _ = invoke(t, now, "mark", "--config", cfg, "R99", "human")
	if code != exitNotFound {
		t.Errorf("mark R99: exit %d, want %d", code, exitNotFound)
	}

	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	startDaemon(t, cfg, stateDir, "--no-schedules")
	code, stdout, stderr = invoke(t, now, "link", "--config", cfg, "--note", "from a personal address", "lost@acme.example", "P2")
	if code != exitOK || !strings.Contains(stdout, "probe P2") {
		t.Fatalf("link through the daemon: exit %d, %s%s", code, stdout, stderr)
	}

	_, stdout, _ = invoke(t, now, "history", "--config", cfg, "--format", "json")
	var hist []struct {
		ID                     string   `json:"id"`
		Status                 string   `json:"status"`
		ResponseLatencySeconds *float64 `json:"response_latency_seconds"`
		Replies                []struct {
			ID        string          `json:"id"`
			Kind      string          `json:"kind"`
			MatchedBy string          `json:"matched_by"`
			Reason    string          `json:"reason"`
			Override  *probe.Override `json:"override"`
		} `json:"replies"`
	}
	if err := json.Unmarshal([]byte(stdout), &hist); err != nil {
		t.Fatal(err)
	}
	if p := hist[0]; p.ResponseLatencySeconds == nil || *p.ResponseLatencySeconds != 2 || p.Replies[0].Override == nil || p.Replies[0].Override.Note != "agent signed it" {
		t.Errorf("P1 after mark: response %v, first reply %+v; want 2 s from the marked reply, with the note", p.ResponseLatencySeconds, p.Replies[0])
	}
	if p := hist[1]; len(p.Replies) != 1 || p.Replies[0].MatchedBy != "manual" || !strings.Contains(p.Replies[0].Reason, "from a personal address") {
		t.Errorf("P2 after link: %+v; want one manual reply with the note", p.Replies)
	}
	code, stdout, _ = invoke(t, now, "inbox", "--config", cfg, "--unmatched", "--since", "2026-11-01", "--format", "json")
	if code != exitOK || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("inbox --unmatched after link = %s, want []", stdout)
	}
}

// TestReportCommand runs report over the seeded store in each format.
func TestReportCommand(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	code, stdout, stderr := invoke(t, now, "report", "--config", cfg, "--week", "2026-W48")
	if code != exitOK {
		t.Fatalf("report: exit %d, %s", code, stderr)
	}
	for _, want := range []string{"Week 2026-W48", "SLA BREACHES", "P2", "acme-cloud"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("text report line of %d columns: %q", n, line)
		}
	}
	code, stdout, _ = invoke(t, now, "report", "--config", cfg, "--since", "2026-11-01", "--until", "2026-12-01", "--format", "json")
	var r struct {
		Totals   map[string]any `json:"totals"`
		Breaches []struct {
			ProbeID string `json:"probe_id"`
		} `json:"breaches"`
	}
	if code != exitOK || json.Unmarshal([]byte(stdout), &r) != nil || len(r.Breaches) != 1 || r.Breaches[0].ProbeID != "P2" {
		t.Errorf("report --format json: exit %d, breaches %+v\n%s", code, r.Breaches, stdout)
	}
	// The breach list as CSV: a header and the one breach, with CRLF line ends.
	code, stdout, _ = invoke(t, now, "report", "--config", cfg, "--since", "2026-11-01", "--until", "2026-12-01", "--format", "breaches")
	if rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll(); code != exitOK || err != nil || len(rows) != 2 || rows[0][0] != "id" || rows[1][0] != "P2" ||
		!strings.HasSuffix(stdout, "\r\n") {
		t.Errorf("report --format breaches: exit %d, %v, want a header and P2's row:\n%q", code, err, stdout)
	}
	out := t.TempDir() + "/r.html"
	code, _, stderr = invoke(t, now, "report", "--config", cfg, "--week", "2026-W48", "--format", "html", "--out", out)
	if code != exitOK || !strings.Contains(stderr, out) {
		t.Errorf("report --out: exit %d, %s", code, stderr)
	}
	for _, bad := range [][]string{
		{"--week", "2026-W48", "--since", "2026-11-01"},
		{"--week", "48"},
		{"--until", "2026-11-01"},
		{"--week", "this", "--since", "2026-11-01"},
		{"--format", "pdf"},
		{"--email"},
	} {
		if code, _, _ := invoke(t, now, append([]string{"report", "--config", cfg}, bad...)...); code != exitUsage {
			t.Errorf("report %v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	fs := newFlags(&env{stdout: &strings.Builder{}, stderr: &strings.Builder{}}, "mark", "", "")
	note := fs.String("note", "", "")
	dry := fs.Bool("dry-run", false, "")
	if err := parseFlags(fs, []string{"R42", "human", "--note", "agent's answer", "--dry-run", "--", "--literal"}); err != nil {
		t.Fatal(err)
	}
	if got := fs.Args(); len(got) != 3 || got[0] != "R42" || got[1] != "human" || got[2] != "--literal" || *note != "agent's answer" || !*dry {
		t.Errorf("args %q, note %q, dry %v", got, *note, *dry)
	}
}
