package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/evidence"
)

// TestRunCreatesEvidenceKey: the first `run` makes the key that signs evidence archives
// (0600), so `key` can hand its public half over before any export; a second run keeps it.
func TestRunCreatesEvidenceKey(t *testing.T) {
	w := mailworldtest.Memory(t, linUser, supportUser)
	cfgPath, stateDir := mustWorldConfig(t, w)
	stop := startDaemonWith(t, cfgPath, stateDir, nil, "--no-schedules")
	path := filepath.Join(stateDir, evidence.KeyFileName)
	var fi os.FileInfo
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if fi, err = os.Stat(path); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if fi == nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after run, %s: %v; want a 0600 key file", path, fi)
	}
	k1, err := evidence.LoadKey(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	startDaemonWith(t, cfgPath, stateDir, nil, "--no-schedules")
	code, stdout, stderr := invoke(t, time.Now(), "key", "--config", cfgPath)
	if code != exitOK || !strings.HasPrefix(stdout, "ssh-ed25519 ") || !strings.Contains(stderr, evidence.Fingerprint(k1.Public())) {
		t.Errorf("key after a second run: exit %d\n%s%s\nwant the first run's key %s", code, stdout, stderr, evidence.Fingerprint(k1.Public()))
	}
}
