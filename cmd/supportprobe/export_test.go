package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/probe/daemon"
	"supportprobe/probe/evidence"
	"supportprobe/store"
)

const p1Inquiry = "Message-ID: <P1.x@example.com>\r\nSubject: Streams failing\r\n\r\nHello acme-cloud\r\n"

// seedExport is seed plus the inquiry of P1 as sent.
func seedExport(t *testing.T, stateDir string) {
	t.Helper()
	seed(t, stateDir)
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PutInquiryRaw("P1", []byte(p1Inquiry)); err != nil {
		t.Fatal(err)
	}
}

func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// tamper rewrites the archive at path with one byte of entry name flipped.
func tamper(t *testing.T, path, name string) {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	changed := false
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			data[0] ^= 0x20
			changed = true
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zr.Close()
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if !changed {
		t.Fatalf("no entry %s to tamper with", name)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func manifestOf(t *testing.T, files map[string][]byte) evidence.Manifest {
	t.Helper()
	var m evidence.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExportProbeVerifyTamper(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	out := filepath.Join(t.TempDir(), "P1.zip")

	code, stdout, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", out)
	if code != exitOK {
		t.Fatalf("export --probe P1: exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "1 probe, 3 messages") || !strings.Contains(stdout, "SHA-256") {
		t.Errorf("export output:\n%s", stdout)
	}
	files := readZip(t, out)
	if string(files["P1/inquiry.eml"]) != p1Inquiry || string(files["P1/R1.eml"]) != "raw" || string(files["P1/R2.eml"]) != "raw" {
		t.Errorf("messages not byte for byte from the store: %q", files)
	}
	for _, name := range []string{"manifest.json", "summary.txt", "DEFINITIONS.txt"} {
		if len(files[name]) == 0 {
			t.Errorf("archive lacks %s", name)
		}
	}
	if len(files) != 9 {
		t.Errorf("archive has %d entries, want 9 (audit.json among them)", len(files))
	}
	m := manifestOf(t, files)
	if m.Generator != "supportprobe "+version || !m.GeneratedAt.Equal(now) || m.Selection != "--probe P1" ||
		len(m.Probes) != 1 || len(m.Missing) != 0 {
		t.Errorf("manifest = %+v", m)
	}
	p := m.Probes[0]
	if p.SentAt == nil || !p.SentAt.Equal(sentAt) || p.ClockSkewSeconds == nil || *p.ClockSkewSeconds != 1 ||
		len(p.Replies) != 2 || !p.Replies[0].ReceivedAt.Equal(sentAt.Add(3*time.Second)) || p.Replies[1].MatchedBy != "thread" {
		t.Errorf("probe figures = %+v", p)
	}

	code, stdout, stderr = invoke(t, now, "export", "--verify", out)
	if code != exitOK || !strings.Contains(stdout, "OK: 7 files match") {
		t.Fatalf("verify fresh archive: exit %d\n%s%s", code, stdout, stderr)
	}

	tamper(t, out, "P1/R1.eml")
	code, _, stderr = invoke(t, now, "export", "--verify", out)
	if code != exitFailure || !strings.Contains(stderr, "P1/R1.eml: SHA-256 mismatch (manifest ") {
		t.Errorf("verify tampered archive: exit %d, stderr %q; want %d naming P1/R1.eml", code, stderr, exitFailure)
	}
	if strings.Contains(stderr, "P1/R2.eml") || strings.Contains(stderr, "inquiry.eml") {
		t.Errorf("verify blames untouched files: %s", stderr)
	}
}

func TestExportPeriod(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	dir := t.TempDir()
	out := filepath.Join(dir, "acme.zip")
	args := []string{"export", "--config", cfg, "--vendor", "acme-cloud", "--since", "2026-11-01", "--until", "2026-12-01", "--out", out}
	code, stdout, stderr := invoke(t, now, args...)
	if code != exitOK {
		t.Fatalf("export --vendor: exit %d, stderr %s", code, stderr)
	}
	if !strings.Contains(stdout, "missing P3/inquiry.eml: the inquiry was never sent (status failed: 550 5.1.1") ||
		!strings.Contains(stdout, "missing P2/inquiry.eml") {
		t.Errorf("export output does not list the missing inquiries:\n%s", stdout)
	}
	files := readZip(t, out)
	m := manifestOf(t, files)
	if len(m.Probes) != 3 || m.Probes[0].ID != "P1" || m.Probes[2].Status != "failed" {
		t.Errorf("probes = %+v", m.Probes)
	}
	if len(m.Missing) != 2 || m.Missing[0].Path != "P2/inquiry.eml" || m.Missing[1].Path != "P3/inquiry.eml" {
		t.Errorf("missing = %+v", m.Missing)
	}
	if _, ok := files["P3/inquiry.eml"]; ok {
		t.Error("an inquiry never sent appears in the archive")
	}
	if !strings.Contains(string(files["summary.txt"]), "P3/inquiry.eml: the inquiry was never sent") {
		t.Errorf("summary.txt:\n%s", files["summary.txt"])
	}
	code, _, stderr = invoke(t, now, "export", "--verify", out)
	if code != exitOK {
		t.Fatalf("verify: exit %d, stderr %s", code, stderr)
	}

	// Same data, same clock: the same bytes.
	again := filepath.Join(dir, "again.zip")
	args[len(args)-1] = again
	if code, _, stderr := invoke(t, now, args...); code != exitOK {
		t.Fatalf("second export: exit %d, %s", code, stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two exports of the same data at the same time differ")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".export-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}

	// Nothing in the period is an error, not an empty archive.
	code, _, stderr = invoke(t, now, "export", "--config", cfg, "--since", "2027-01-01", "--out", filepath.Join(dir, "none.zip"))
	if code != exitNotFound || !strings.Contains(stderr, "no probes match") {
		t.Errorf("empty period: exit %d, stderr %q", code, stderr)
	}
}

func TestExportUsage(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	out := filepath.Join(t.TempDir(), "x.zip")
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "--config", cfg, "--probe", "P1"}, exitUsage, "--out"},
		{[]string{"export", "--config", cfg, "--probe", "P1", "--vendor", "acme-cloud", "--out", out}, exitUsage, "--probe"},
		{[]string{"export", "--verify", out, "--out", out}, exitUsage, "--verify"},
		{[]string{"export", "--config", cfg, "--since", "yesterday", "--out", out}, exitUsage, "--since"},
		{[]string{"export", "--config", cfg, "P1", "--out", out}, exitUsage, "--probe"},
		{[]string{"export", "--config", cfg, "--probe", "P99", "--out", out}, exitNotFound, "P99"},
		{[]string{"export", "--verify", filepath.Join(t.TempDir(), "absent.zip")}, exitFailure, "absent.zip"},
	} {
		code, _, stderr := invoke(t, now, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed export left an archive")
	}
}

// With the daemon running, the raw messages come through its control socket.
func TestExportWhileRunning(t *testing.T) {
	cfg := runSeededExportDaemon(t)

	out := filepath.Join(t.TempDir(), "P1.zip")
	code, _, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", out)
	if code != exitOK {
		t.Fatalf("export while running: exit %d, stderr %s", code, stderr)
	}
	files := readZip(t, out)
	if string(files["P1/inquiry.eml"]) != p1Inquiry || string(files["P1/R2.eml"]) != "raw" {
		t.Errorf("messages through the daemon: %q", files)
	}
	if code, _, stderr := invoke(t, now, "export", "--verify", out); code != exitOK {
		t.Errorf("verify: exit %d, %s", code, stderr)
	}
}

// runSeededExportDaemon seeds a state directory with seedExport and runs the daemon on it
// until the test ends; it returns the configuration file.
func runSeededExportDaemon(t *testing.T) string {
	t.Helper()
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		e := &env{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, now: func() time.Time { return now }, getenv: os.Getenv}
		done <- e.run(ctx, []string{"run", "--config", cfg})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("run did not stop within 15 s of its context ending")
		}
	})
	waitForDaemon(t, stateDir)
	return cfg
}
