package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"supportprobe/probe/evidence"
)

// writeZip writes files as a zip archive at path, entries sorted by name.
func writeZip(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// forgeArchive rewrites the entry name (a reply, say "P1/R1.eml") of the archive at path
// and its manifest entry (new SHA-256 and size), keeping the signature, as someone
// altering the evidence would.
func forgeArchive(t *testing.T, path, name string) {
	t.Helper()
	files := readZip(t, path)
	if files[name] == nil {
		t.Fatalf("no %s in %s", name, path)
	}
	forged := []byte("a reply the vendor never sent")
	files[name] = forged
	var m map[string]any
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(forged)
	found := false
	for _, f := range m["files"].([]any) {
		if f := f.(map[string]any); f["path"] == name {
			f["sha256"], f["size"], f["original_size"] = hex.EncodeToString(h[:]), len(forged), len(forged)
			found = true
		}
	}
	if !found {
		t.Fatalf("no %s in the manifest", name)
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files["manifest.json"] = append(mj, '\n')
	writeZip(t, path, files)
}

// TestKeyAndSignedExport: `key` makes the instance's key and prints it; export signs
// with that key; export --verify accepts the archive against it (by file or by
// fingerprint) and refuses it against another key; and a reply rewritten together with
// its manifest entry fails verification.
func TestKeyAndSignedExport(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	dir := t.TempDir()

	code, pubLine, stderr := invoke(t, now, "key", "--config", cfg)
	if code != exitOK || !strings.HasPrefix(pubLine, "ssh-ed25519 AAAA") || !strings.Contains(pubLine, " supportprobe@") {
		t.Fatalf("key: exit %d, stdout %q, stderr %s", code, pubLine, stderr)
	}
	if !strings.Contains(stderr, "created the evidence signing key") || !strings.Contains(stderr, "back it up") {
		t.Errorf("key did not say it made the key: %s", stderr)
	}
	st, err := os.Stat(filepath.Join(stateDir, evidence.KeyFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st)
	}
	key, err := evidence.LoadKey(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	fp := key.Fingerprint()
	if !strings.Contains(stderr, "fingerprint "+fp) {
		t.Errorf("key stderr lacks fingerprint %s: %s", fp, stderr)
	}
	code, pem, _ := invoke(t, now, "key", "--config", cfg, "--format", "pem")
	if code != exitOK || !strings.HasPrefix(pem, "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf("key --format pem: exit %d, %q", code, pem)
	}
	if code, _, stderr := invoke(t, now, "key", "--config", cfg, "--format", "x509"); code != exitUsage || !strings.Contains(stderr, "ssh or pem") {
		t.Errorf("key --format x509: exit %d, %s", code, stderr)
	}
	trusted := filepath.Join(dir, "supportprobe.pub")
	trustedPEM := filepath.Join(dir, "supportprobe.pem")
	other := filepath.Join(dir, "other.pub")
	os.WriteFile(trusted, []byte(pubLine), 0o644)
	os.WriteFile(trustedPEM, []byte(pem), 0o644)
	_, otherLine, _ := invoke(t, now, "key", "--config", mustOtherConfig(t))
	os.WriteFile(other, []byte(otherLine), 0o644)

	out := filepath.Join(dir, "P1.zip")
	code, stdout, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "signed by key "+fp) || strings.Contains(stderr, "created") {
		t.Fatalf("export: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := manifestOf(t, readZip(t, out)).Signer; got == nil || got.Fingerprint != fp {
		t.Errorf("manifest signer = %+v, want %s", got, fp)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"own key named", []string{"--verify", out}, exitOK, "signature good, by key " + fp + ": the key the archive names; compare"},
		{"trusted key", []string{"--verify", out, "--key", trusted}, exitOK, "signature good, by the trusted key " + fp},
		{"trusted PEM", []string{"--verify", out, "--key", trustedPEM}, exitOK, "signature good, by the trusted key " + fp},
		{"fingerprint", []string{"--verify", out, "--fingerprint", fp}, exitOK, "matched by fingerprint"},
		{"other key", []string{"--verify", out, "--key", other}, exitFailure, "manifest.json.sig: signed by key " + fp + ", not by the trusted key"},
		{"other fingerprint", []string{"--verify", out, "--fingerprint", "SHA256:AAAA"}, exitFailure, "not by the trusted key SHA256:AAAA"},
		{"both", []string{"--verify", out, "--key", trusted, "--fingerprint", fp}, exitUsage, "not both"},
		{"bad fingerprint", []string{"--verify", out, "--fingerprint", "abc"}, exitUsage, "SHA256:"},
		{"key is not a key", []string{"--verify", out, "--key", out}, exitUsage, "--key"},
		{"key without verify", []string{"--config", cfg, "--probe", "P1", "--out", out, "--key", trusted}, exitUsage, "--key goes with --verify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := invoke(t, now, append([]string{"export"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d, want %d containing %q\n%s%s", code, tt.code, tt.want, stdout, stderr)
			}
		})
	}

	forgeArchive(t, out, "P1/R1.eml")
	code, stdout, stderr = invoke(t, now, "export", "--verify", out, "--key", trusted)
	if code != exitFailure || !strings.Contains(stderr, "manifest.json.sig: signature does not match manifest.json") ||
		!strings.Contains(stderr, "(1 problem, 7 files intact)") {
		t.Errorf("forged reply and manifest: exit %d\n%s%s", code, stdout, stderr)
	}
	// Without --key it fails too: the old signature does not cover the new manifest.
	if code, _, stderr := invoke(t, now, "export", "--verify", out); code != exitFailure || !strings.Contains(stderr, "signature does not match") {
		t.Errorf("forged, no --key: exit %d, %s", code, stderr)
	}
}

// mustOtherConfig is a second instance with its own state directory and key.
func mustOtherConfig(t *testing.T) string {
	t.Helper()
	cfg, _ := mustConfig(t)
	return cfg
}

// TestSignedExportWhileRunning: `run` makes the key at its first start; an export through
// the running daemon signs with it, and verifies against what `key` prints.
func TestSignedExportWhileRunning(t *testing.T) {
	cfg := runSeededExportDaemon(t)

	out := filepath.Join(t.TempDir(), "P1.zip")
	// The first run made the key; an export while it runs signs with it.
	if code, stdout, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", out); code != exitOK ||
		strings.Contains(stderr, "created the evidence signing key") || !strings.Contains(stderr+stdout, "signed by key SHA256:") {
		t.Fatalf("export while running: exit %d\n%s%s", code, stdout, stderr)
	}
	code, pubLine, stderr := invoke(t, now, "key", "--config", cfg)
	if code != exitOK || strings.Contains(stderr, "created") {
		t.Fatalf("key while running, after run made the key: exit %d, %s", code, stderr)
	}
	trusted := filepath.Join(t.TempDir(), "supportprobe.pub")
	os.WriteFile(trusted, []byte(pubLine), 0o644)
	if code, stdout, stderr := invoke(t, now, "export", "--verify", out, "--key", trusted); code != exitOK || !strings.Contains(stdout, "by the trusted key") {
		t.Errorf("verify against the key printed while running: exit %d\n%s%s", code, stdout, stderr)
	}
}
