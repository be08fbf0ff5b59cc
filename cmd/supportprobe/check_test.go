package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
)

// TestCheckWarnsDeadlineBeforeTarget: with the example's lotus-ops given a 7d deadline,
// its 8h business-clock P3 target cannot pass for probes sent just before Golden Week;
// check says so, naming the send times, and the file stays valid.
func TestCheckWarnsDeadlineBeforeTarget(t *testing.T) {
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "")
	data := bytes.Replace(configs.Example, []byte("    deadline: 10d"), []byte("    deadline: 7d"), 1)
	if bytes.Equal(data, configs.Example) {
		t.Fatal("the example has no lotus-ops deadline of 10d to change")
	}
	path := filepath.Join(t.TempDir(), "supportprobe.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	code, _, stderr := invoke(t, before, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check: exit %d, want %d\n%s", code, exitOK, stderr)
	}
	want := `warning: vendor "lotus-ops": sla.P3: the 8h business-time target cannot pass within the 7d deadline for probes sent Wed 2026-09-30 10:00 to Thu 2026-10-01 17:00 (Asia/Shanghai`
	if !strings.Contains(stderr, want) {
		t.Errorf("check stderr lacks\n%s\n got:\n%s", want, stderr)
	}

	// The example itself (10d) draws no such warning.
	_, _, stderr = invoke(t, before, "check", "--config", "../../configs/supportprobe.example.yaml")
	if strings.Contains(stderr, "cannot pass within") {
		t.Errorf("check of the example warns about a deadline:\n%s", stderr)
	}
}

// TestCheckHTTP: check shows the listener, warns about insecure_plaintext, and names a
// credentials file the daemon could not use, while the file stays valid.
func TestCheckHTTP(t *testing.T) {
	t.Setenv("SUPPORTPROBE_IMAP_PASSWORD", "")
	dir := t.TempDir()
	path := filepath.Join(dir, "supportprobe.yaml")
	data := append(bytes.Clone(configs.Example),
		"http: {listen: \"0.0.0.0:9108\", allow_remote: true, auth: {bearer_tokens_file: http-tokens}, insecure_plaintext: true}\n"...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	const plaintext = "warning: http.insecure_plaintext: remote access to 0.0.0.0:9108 without TLS: tokens, passwords and metrics cross the network in the clear"
	tokens := filepath.Join(dir, "http-tokens")

	code, stdout, stderr := invoke(t, now, "check", "--config", path)
	if code != exitOK {
		t.Fatalf("check: exit %d, want %d\n%s", code, exitOK, stderr)
	}
	for _, want := range []string{plaintext, "warning: http.auth.bearer_tokens_file " + tokens + ": no such file or directory", "`supportprobe run` will refuse to start until it is fixed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check stderr lacks\n%s\ngot:\n%s", want, stderr)
		}
	}
	if want := "HTTP http://0.0.0.0:9108  (remote allowed; auth bearer tokens on every path but /healthz)"; !strings.Contains(stdout, want) {
		t.Errorf("check stdout lacks\n%s\ngot:\n%s", want, stdout)
	}

	if err := os.WriteFile(tokens, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, stderr = invoke(t, now, "check", "--config", path)
	if !strings.Contains(stderr, plaintext) || strings.Contains(stderr, "bearer_tokens_file") {
		t.Errorf("with the tokens file in place, check stderr =\n%s\nwant only the plaintext warning about http", stderr)
	}
}
