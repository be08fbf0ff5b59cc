package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// testConfig is a small valid configuration; STATE is replaced by the state directory.
const testConfig = `state_dir: STATE
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none, username: lin.wei@example.com, password_env: SP_TEST_IMAP_PASSWORD}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    domains: [acme.example]
    timezone: America/Los_Angeles
    business_hours: {days: [mon, tue, wed, thu, fri], open: "09:00", close: "18:00"}
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`

// mustConfig writes testConfig with its own state directory and returns its path.
func mustConfig(t *testing.T) (path, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "state")
	path = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(testConfig, "STATE", stateDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, stateDir
}

// invoke runs the program in-process with a fixed clock and returns its exit code and
// output.
func invoke(t *testing.T, now time.Time, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, now: func() time.Time { return now }, getenv: os.Getenv}
	code = e.run(context.Background(), args)
	return code, out.String(), errb.String()
}

var (
	sentAt = time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC) // Tue 03:00 in Los Angeles
	now    = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
)

// seed writes the probes of a small trial into stateDir's database: one answered (ack
// after 2 s, a person after 5 s, server clock 1 s ahead), one unanswered past its
// deadline, one failed.
func seed(t *testing.T, stateDir string) {
	t.Helper()
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	terms := probe.Terms{
		Hours:    probe.HoursSpec{Zone: "America/Los_Angeles", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"},
		SLA:      &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar},
		Deadline: 72 * time.Hour,
	}
	base := probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: probe.P1, Language: "en",
		To: []string{"support@acme.example"}, Subject: "Streams failing", Terms: terms}

	answered := base
	answered.CreatedAt, answered.ScheduledAt, answered.SentAt = sentAt, sentAt, sentAt
	answered.State, answered.MessageID, answered.Token = probe.StateSent, "P1.x@example.com", "K7Q2"
	answered.ClockSkew, answered.SkewMeasured = time.Second, true
	p, err := db.CreateProbe(answered)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []probe.Reply{
		{MessageID: "ack-1@acme.example", ReceivedAt: sentAt.Add(3 * time.Second), From: "Acme Support <support@acme.example>",
			Subject: "[#4711] Streams failing", Kind: probe.KindAutoAck, MatchedBy: probe.RungMessageID, Reason: "ack wording: \"we have received your request\""},
		{MessageID: "hum-1@acme.example", ReceivedAt: sentAt.Add(6 * time.Second), From: "Dana <dana@acme.example>",
			Subject: "Re: [#4711] Streams failing", Kind: probe.KindHuman, MatchedBy: probe.RungThread, Reason: "new text: 212 chars"},
	} {
		r.ProbeID = p.ID
		if _, err := db.AddReply(r, []byte("raw")); err != nil {
			t.Fatal(err)
		}
	}

	unanswered := base
	unanswered.CreatedAt, unanswered.SentAt = sentAt.Add(time.Hour), sentAt.Add(time.Hour)
	unanswered.State, unanswered.MessageID, unanswered.Token = probe.StateSent, "P2.x@example.com", "M3N4"
	if _, err := db.CreateProbe(unanswered); err != nil {
		t.Fatal(err)
	}
	failed := base
	failed.CreatedAt, failed.State, failed.FailReason = sentAt.Add(2*time.Hour), probe.StateFailed, "550 5.1.1 mailbox unavailable"
	if _, err := db.CreateProbe(failed); err != nil {
		t.Fatal(err)
	}
}

// contractKeys are the fields every probe in `history --format json` must carry.
var contractKeys = []string{"id", "vendor", "script", "priority", "language", "to", "scheduled_at",
	"sent_at", "message_id", "status", "after_hours", "first_ack_at", "ack_latency_seconds",
	"first_response_at", "response_latency_seconds", "business_latency_seconds", "sla", "replies"}

var replyKeys = []string{"id", "message_id", "received_at", "from", "subject", "kind", "matched_by", "reason"}

func checkHistoryJSON(t *testing.T, stdout string) {
	t.Helper()
	var got []map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("history --format json is not one JSON array: %v\n%s", err, stdout)
	}
	if len(got) != 3 {
		t.Fatalf("history returned %d probes, want 3", len(got))
	}
	for _, p := range got {
		for _, k := range contractKeys {
			if _, ok := p[k]; !ok {
				t.Errorf("probe %v lacks key %q", p["id"], k)
			}
		}
	}
	want := []map[string]any{
		{"id": "P1", "status": "answered", "sent_at": "2026-11-24T11:00:00Z", "scheduled_at": "2026-11-24T11:00:00Z",
			"message_id": "P1.x@example.com", "after_hours": true, "first_ack_at": "2026-11-24T11:00:03Z",
			"ack_latency_seconds": 2.0, "first_response_at": "2026-11-24T11:00:06Z", "response_latency_seconds": 5.0,
			"business_latency_seconds": 0.0, "sla": "met", "priority": "P1", "language": "en"},
		{"id": "P2", "status": "unanswered", "scheduled_at": nil, "first_ack_at": nil, "ack_latency_seconds": nil,
			"first_response_at": nil, "response_latency_seconds": nil, "business_latency_seconds": nil, "sla": "breached",
			"after_hours": true},
		{"id": "P3", "status": "failed", "sent_at": nil, "message_id": nil, "after_hours": nil, "sla": "none"},
	}
	for i, w := range want {
		for k, v := range w {
			if got[i][k] != v {
				t.Errorf("probe %d: %s = %#v, want %#v", i, k, got[i][k], v)
			}
		}
	}
	replies, _ := got[0]["replies"].([]any)
	if len(replies) != 2 {
		t.Fatalf("P1 replies = %v, want 2", got[0]["replies"])
	}
	for _, r := range replies {
		for _, k := range replyKeys {
			if _, ok := r.(map[string]any)[k]; !ok {
				t.Errorf("reply lacks key %q", k)
			}
		}
	}
	if r := replies[1].(map[string]any); r["kind"] != "human" || r["matched_by"] != "thread" {
		t.Errorf("second reply = %v, want kind human matched by thread", r)
	}
	if r, _ := got[1]["replies"].([]any); r == nil {
		t.Errorf("P2 replies = %v, want [] (never null)", got[1]["replies"])
	}
}

func TestHistoryJSONContract(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	code, stdout, stderr := invoke(t, now, "history", "--config", cfg, "--format", "json")
	if code != exitOK {
		t.Fatalf("history exit = %d, stderr %s", code, stderr)
	}
	checkHistoryJSON(t, stdout)
}

func TestHistoryWhileRunning(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var runErr bytes.Buffer
	go func() {
		e := &env{stdout: &bytes.Buffer{}, stderr: &runErr, now: func() time.Time { return now }, getenv: os.Getenv}
		done <- e.run(ctx, []string{"run", "--config", cfg})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("run exit = %d after SIGINT-like cancel, want 0", code)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not stop within 15 s of its context ending")
		}
	})
	waitForDaemon(t, stateDir)

	code, stdout, stderr := invoke(t, now, "history", "--config", cfg, "--format", "json")
	if code != exitOK {
		t.Fatalf("history while running: exit %d, stderr %s", code, stderr)
	}
	checkHistoryJSON(t, stdout)

	code, stdout, _ = invoke(t, now, "show", "--config", cfg, "P1")
	if code != exitOK || !strings.Contains(stdout, "matched by thread") {
		t.Errorf("show while running: exit %d\n%s", code, stdout)
	}
	code, _, stderr = invoke(t, now, "show", "--config", cfg, "P99")
	if code != exitNotFound {
		t.Errorf("show P99: exit %d, want %d (%s)", code, exitNotFound, stderr)
	}

	code, _, stderr = invoke(t, now, "run", "--config", cfg)
	if code != exitBusy || !strings.Contains(stderr, "pid") {
		t.Errorf("second run: exit %d, stderr %q; want %d naming the pid", code, stderr, exitBusy)
	}
	if st, err := os.Stat(daemon.SocketPath(stateDir)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("control socket: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
}

func waitForDaemon(t *testing.T, stateDir string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := daemon.Dial(context.Background(), stateDir)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not answer on its socket within 10 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunRefusesMissingSecret(t *testing.T) {
	cfg, _ := mustConfig(t)
	t.Setenv("SP_TEST_IMAP_PASSWORD", "")
	code, _, stderr := invoke(t, now, "run", "--config", cfg)
	if code != exitConfig || !strings.Contains(stderr, "SP_TEST_IMAP_PASSWORD") {
		t.Errorf("run without secret: exit %d, stderr %q; want %d naming the variable", code, stderr, exitConfig)
	}
}

func TestCheckExample(t *testing.T) {
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "")
	code, stdout, stderr := invoke(t, now, "check", "--config", "../../configs/supportprobe.example.yaml")
	if code != exitOK {
		t.Fatalf("check example: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"is valid", "UTC", "next"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "warning") {
		t.Errorf("check with unset secrets printed no warning: %q", stderr)
	}
}

func TestCheckInvalidFilesExitConfig(t *testing.T) {
	files, _ := filepath.Glob("../../configs/testdata/invalid-*.yaml")
	if len(files) == 0 {
		t.Fatal("no invalid config files found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, _, stderr := invoke(t, now, "check", "--config", f)
			if code != exitConfig {
				t.Errorf("check %s: exit %d, want %d; stderr %s", f, code, exitConfig, stderr)
			}
			data, _ := os.ReadFile(f)
			// The file's want line names the source as Parse sees it; check prints the path.
			want := strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "# want: supportprobe.yaml: ")
			if !strings.Contains(stderr, firstLine(want)) {
				t.Errorf("check %s: stderr %q lacks %q", f, stderr, want)
			}
		})
	}
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func TestUsageErrors(t *testing.T) {
	cfg, _ := mustConfig(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, exitUsage, "Commands:"},
		{"unknown command", []string{"hsitory"}, exitUsage, "supportprobe help"},
		{"bad flag", []string{"history", "--vendr", "x"}, exitUsage, "history --help"},
		{"bad format", []string{"history", "--config", cfg, "--format", "xml"}, exitUsage, "want table, json or csv"},
		{"bad status", []string{"history", "--config", cfg, "--status", "done"}, exitUsage, "unknown status"},
		{"bad since", []string{"history", "--config", cfg, "--since", "yesterday"}, exitUsage, "want a date"},
		{"show without id", []string{"show", "--config", cfg}, exitUsage, "supportprobe show P17"},
		{"missing config", []string{"history", "--config", "/nonexistent/x.yaml"}, exitConfig, "x.yaml"},
		{"help", []string{"history", "--help"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := invoke(t, now, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tt.args, code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, c := range commands() {
		code, stdout, _ := invoke(t, now, c.name, "--help")
		if code != exitOK || !strings.Contains(stdout, "Example:") || !strings.Contains(stdout, "supportprobe "+c.name) {
			t.Errorf("%s --help: exit %d, output lacks an example:\n%s", c.name, code, stdout)
		}
	}
	_, stdout, _ := invoke(t, now, "help")
	if !strings.Contains(stdout, "Exit codes:") {
		t.Errorf("help lacks the exit codes:\n%s", stdout)
	}
}

func TestEmptyStateDir(t *testing.T) {
	cfg, _ := mustConfig(t)
	code, stdout, stderr := invoke(t, now, "history", "--config", cfg, "--format", "json")
	if code != exitOK || strings.TrimSpace(stdout) != "[]" || !strings.Contains(stderr, "no database") {
		t.Errorf("history on empty state dir: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
