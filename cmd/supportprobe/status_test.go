package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"supportprobe/probe/daemon"
)

// TestStatusWithoutDaemon: with no daemon, status says so and exits 1, and shows what the
// state directory holds: nothing before the first run, then the seeded trial's open
// probe past its target and acme-cloud's next fire.
func TestStatusWithoutDaemon(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	code, stdout, stderr := invoke(t, now, "status", "--config", cfg)
	if code != exitFailure || !strings.Contains(stdout, "NOT RUNNING") || !strings.Contains(stdout, "not created yet") || !strings.Contains(stderr, "no daemon is running") {
		t.Errorf("status on an empty state directory: exit %d\n%s%s", code, stdout, stderr)
	}

	seed(t, stateDir)
	// P2 was sent at 12:00 UTC with a 1 h target and a 72 h deadline: open, past target.
	at := sentAt.Add(150 * time.Minute)
	code, stdout, stderr = invoke(t, at, "status", "--config", cfg)
	for _, want := range []string{"NOT RUNNING", "1 probe open, 1 past target: P2", "2026-11-25 11:00 UTC  (2026-11-25 03:00 PST America/Los_Angeles)", "0 unmatched"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status without a daemon lacks %q:\n%s", want, stdout)
		}
	}
	if code != exitFailure || !strings.Contains(stderr, "supportprobe run") {
		t.Errorf("status without a daemon: exit %d, stderr %q; want 1 and how to start it", code, stderr)
	}

	code, stdout, _ = invoke(t, at, "status", "--config", cfg, "--format", "json")
	var st daemon.Status
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("status --format json: %v\n%s", err, stdout)
	}
	if code != exitFailure || st.Running || st.Healthy || st.OpenProbes != 1 || !slices.Equal(st.PastTarget, []string{"P2"}) ||
		len(st.Vendors) != 1 || st.Vendors[0].Zone != "America/Los_Angeles" {
		t.Errorf("status --format json without a daemon: exit %d, %+v", code, st)
	}
}
