package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// pausedSeconds reads acme-cloud's paused time from `report --format json`.
func pausedSeconds(t *testing.T, at time.Time, cfg string, since, until time.Time) (float64, int) {
	t.Helper()
	code, stdout, stderr := invoke(t, at, "report", "--config", cfg, "--since", since.Format(time.RFC3339),
		"--until", until.Format(time.RFC3339), "--format", "json")
	if code != exitOK {
		t.Fatalf("report: exit %d, %s", code, stderr)
	}
	var r struct {
		Vendors []struct {
			Name   string `json:"name"`
			Paused struct {
				Seconds float64 `json:"seconds"`
				Windows []struct {
					Source string `json:"source"`
				} `json:"windows"`
			} `json:"paused"`
		} `json:"vendors"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, stdout)
	}
	for _, v := range r.Vendors {
		if v.Name == "acme-cloud" {
			return v.Paused.Seconds, len(v.Paused.Windows)
		}
	}
	t.Fatalf("report lists no acme-cloud:\n%s", stdout)
	return 0, 0
}

// TestPauseOnStoppedStateDir pauses, lists, refuses a send, reports and resumes with no
// daemon running: the CLI opens the database itself (and creates it).
func TestPauseOnStoppedStateDir(t *testing.T) {
	cfg, _ := mustConfig(t)
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	at := now

	code, stdout, stderr := invoke(t, at, "pause", "--config", cfg, "acme-cloud", "--until", "48h", "--note", "their migration")
	if code != exitOK || !strings.Contains(stdout, "acme-cloud paused since 2026-11-28T12:00:00Z, until 2026-11-30T12:00:00Z") {
		t.Fatalf("pause: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = invoke(t, at.Add(time.Hour), "pause", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "acme-cloud  in force: paused by hand since 2026-11-28T12:00:00Z") || !strings.Contains(stdout, "(their migration)") {
		t.Errorf("pause (list): exit %d\n%s", code, stdout)
	}
	// The refusal comes before any SMTP: the configured server (127.0.0.1:2525) is never
	// dialled, and no probe is recorded.
	code, stdout, stderr = invoke(t, at.Add(time.Hour), "send", "--config", cfg, "--vendor", "acme-cloud")
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "not sent: paused by hand") ||
		!strings.Contains(stderr, "`supportprobe resume acme-cloud` ends it, or send anyway with --force") {
		t.Errorf("send while paused: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	_, stdout, _ = invoke(t, at.Add(time.Hour), "history", "--config", cfg, "--format", "json")
	if strings.TrimSpace(stdout) != "[]" {
		t.Errorf("history after a refused send = %s, want []", stdout)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown vendor", []string{"pause", "nope"}, exitNotFound, "the vendors are: acme-cloud"},
		{"until in the past", []string{"pause", "acme-cloud", "--until", "2026-11-01"}, exitUsage, "is not after now"},
		{"bad until", []string{"pause", "acme-cloud", "--until", "tomorrow"}, exitUsage, "want an RFC 3339 time"},
		{"two vendors", []string{"pause", "acme-cloud", "lotus"}, exitUsage, "want one vendor"},
		{"resume without vendor", []string{"resume"}, exitUsage, "want one vendor"},
		{"resume unknown vendor", []string{"resume", "nope"}, exitNotFound, "the vendors are: acme-cloud"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := invoke(t, at, append(tc.args[:1:1], append([]string{"--config", cfg}, tc.args[1:]...)...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("%v: exit %d, %s; want exit %d, %q", tc.args, code, stderr, tc.code, tc.want)
			}
		})
	}

	code, stdout, stderr = invoke(t, at.Add(6*time.Hour), "resume", "--config", cfg, "acme-cloud")
	if code != exitOK || !strings.Contains(stdout, "acme-cloud resumed: paused from 2026-11-28T12:00:00Z to 2026-11-28T18:00:00Z") {
		t.Errorf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = invoke(t, at.Add(7*time.Hour), "resume", "--config", cfg, "acme-cloud")
	if code != exitFailure || !strings.Contains(stderr, "vendor acme-cloud is not paused by hand, nothing to resume") {
		t.Errorf("second resume: exit %d, %s", code, stderr)
	}
	// The report counts the 6 hours it was paused, within the period only.
	secs, n := pausedSeconds(t, at.Add(24*time.Hour), cfg, at.Add(-time.Hour), at.Add(12*time.Hour))
	if secs != 6*3600 || n != 1 {
		t.Errorf("report: paused %v s in %d windows, want 21600 s in 1", secs, n)
	}
	code, stdout, _ = invoke(t, at.Add(24*time.Hour), "report", "--config", cfg, "--since", "2026-11-28", "--until", "2026-11-29")
	if code != exitOK || !strings.Contains(stdout, "Paused    6h00m in this period") ||
		!strings.Contains(stdout, "2026-11-28 12:00 UTC – 2026-11-28 18:00 UTC, by hand: their migration") {
		t.Errorf("text report: exit %d, lacks the pause:\n%s", code, stdout)
	}
}

// TestPauseThroughDaemon pauses and resumes through a running daemon, which holds the
// database: the CLI cannot open the file then, so success proves the control socket
// carried it; the daemon refuses a send while paused.
func TestPauseThroughDaemon(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	startDaemon(t, cfg, stateDir, "--no-schedules")
	at := time.Now().UTC().Truncate(time.Second)

	code, stdout, stderr := invoke(t, at, "pause", "--config", cfg, "acme-cloud", "--note", "vendor asked")
	if code != exitOK || !strings.Contains(stdout, "until `supportprobe resume acme-cloud`") {
		t.Fatalf("pause through the daemon: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = invoke(t, at, "send", "--config", cfg, "--vendor", "acme-cloud")
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "not sent: paused by hand") || !strings.Contains(stderr, "(vendor asked)") ||
		!strings.Contains(stderr, "--force") {
		t.Errorf("send through the daemon while paused: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	code, stdout, _ = invoke(t, at, "pause", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "acme-cloud  in force: paused by hand") {
		t.Errorf("pause (list) through the daemon: exit %d\n%s", code, stdout)
	}
	code, _, stderr = invoke(t, at, "pause", "--config", cfg, "nope")
	if code != exitNotFound {
		t.Errorf("pause nope through the daemon: exit %d, %s", code, stderr)
	}
	end := at.Add(90 * time.Minute)
	code, stdout, stderr = invoke(t, end, "resume", "--config", cfg, "acme-cloud")
	if code != exitOK || !strings.Contains(stdout, "acme-cloud resumed") {
		t.Fatalf("resume through the daemon: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = invoke(t, end, "resume", "--config", cfg, "acme-cloud")
	if code != exitFailure || !strings.Contains(stderr, "not paused by hand") {
		t.Errorf("second resume through the daemon: exit %d, %s", code, stderr)
	}
	secs, n := pausedSeconds(t, end, cfg, at.Add(-time.Hour), at.Add(2*time.Hour))
	if secs != 90*60 || n != 1 {
		t.Errorf("report through the daemon: paused %v s in %d windows, want 5400 s in 1", secs, n)
	}
}

// TestConfiguredPauseWindow: a maintenance window of the configuration is listed, makes
// send refuse with the way to end it, is not ended by resume (which says so), and counts
// in the report.
func TestConfiguredPauseWindow(t *testing.T) {
	cfg, _ := mustConfig(t)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	window := "    pause:\n      - {from: \"2026-11-28T00:00:00+01:00\", until: \"2026-11-29T00:00:00+01:00\", note: holiday freeze}\n"
	if err := os.WriteFile(cfg, append(data, window...), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	code, stdout, _ := invoke(t, now, "pause", "--config", cfg)
	if code != exitOK || !strings.Contains(stdout, "acme-cloud  in force: in the configured pause window 2026-11-28T00:00:00+01:00 – 2026-11-29T00:00:00+01:00 (holiday freeze)") {
		t.Errorf("pause (list): exit %d\n%s", code, stdout)
	}
	code, _, stderr := invoke(t, now, "send", "--config", cfg, "--vendor", "acme-cloud")
	if code != exitFailure || !strings.Contains(stderr, "remove or change the window in vendors[].pause of "+cfg+" to end it, or send anyway with --force") {
		t.Errorf("send in the window: exit %d, %s", code, stderr)
	}
	code, _, stderr = invoke(t, now, "resume", "--config", cfg, "acme-cloud")
	if code != exitFailure || !strings.Contains(stderr, "is not paused by hand, nothing to resume; it is in the configured pause window") {
		t.Errorf("resume in the window: exit %d, %s", code, stderr)
	}
	// The window is 2026-11-27T23:00Z to 2026-11-28T23:00Z; the period starts at 12:00.
	secs, n := pausedSeconds(t, now.Add(48*time.Hour), cfg, now, now.Add(24*time.Hour))
	if secs != 11*3600 || n != 1 {
		t.Errorf("report: paused %v s in %d windows, want 39600 s in 1", secs, n)
	}
}

// TestCheckShowsPauseWindows: check lists a configured window still to come and marks
// the upcoming fires that fall in it.
func TestCheckShowsPauseWindows(t *testing.T) {
	cfg, _ := mustConfig(t)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Fires are at 03:00 Los Angeles (11:00 UTC): the window holds the one of 30 Nov.
	window := "    pause:\n      - {from: \"2026-11-30T00:00:00Z\", until: \"2026-12-01T00:00:00Z\", note: holiday freeze}\n"
	if err := os.WriteFile(cfg, append(data, window...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := invoke(t, now, "check", "--config", cfg, "--next", "3")
	if code != exitOK {
		t.Fatalf("check: exit %d, %s", code, stderr)
	}
	wantLines(t, stdout,
		"  Pause: in the configured pause window 2026-11-30T00:00:00Z – 2026-12-01T00:00:00Z (holiday freeze)")
	for _, l := range strings.Split(stdout, "\n") {
		paused := strings.Contains(l, "paused: skipped")
		if strings.Contains(l, "2026-11-30 11:00 UTC") != paused && strings.Contains(l, "next") {
			t.Errorf("check: line %q; want only the fire of 2026-11-30 11:00 UTC marked paused", l)
		}
	}
}
