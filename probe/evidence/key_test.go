package evidence

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if _, err := LoadKey(dir); !errors.Is(err, ErrNoKey) {
		t.Fatalf("LoadKey of an empty state directory = %v, want ErrNoKey", err)
	}
	k, created, err := LoadOrCreateKey(dir)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateKey = %v, created %v", err, created)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %04o, want 0600", KeyFileName, st.Mode().Perm())
	}
	if !strings.HasPrefix(k.Comment, "supportprobe@") || !strings.HasPrefix(k.AuthorizedKey(), "ssh-ed25519 AAAA") ||
		!strings.HasSuffix(k.AuthorizedKey(), " "+k.Comment) || !strings.HasPrefix(k.Fingerprint(), "SHA256:") {
		t.Errorf("key %q, fingerprint %q", k.AuthorizedKey(), k.Fingerprint())
	}
	pub, err := os.ReadFile(filepath.Join(dir, PublicKeyFileName))
	if err != nil || string(pub) != k.AuthorizedKey()+"\n" {
		t.Errorf("%s = %q, %v; want %q", PublicKeyFileName, pub, err, k.AuthorizedKey())
	}

	again, created, err := LoadOrCreateKey(dir)
	if err != nil || created || !again.Public().Equal(k.Public()) || again.Comment != k.Comment {
		t.Errorf("second LoadOrCreateKey: %v, created %v, same key %v, comment %q", err, created, again.Public().Equal(k.Public()), again.Comment)
	}

	// The public key file is a convenience: without it the key still loads.
	os.Remove(filepath.Join(dir, PublicKeyFileName))
	if k2, err := LoadKey(dir); err != nil || !k2.Public().Equal(k.Public()) || !strings.HasPrefix(k2.Comment, "supportprobe@") {
		t.Errorf("LoadKey without %s = %v", PublicKeyFileName, err)
	}

	// A private key others may read is refused, naming the file and the fix.
	if err := os.Chmod(filepath.Join(dir, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("LoadKey of a mode 0644 key = %v", err)
	}
}

// Processes making the key at once (an export and `supportprobe key`, say) end up with
// one key, not each with its own.
func TestCreateKeyRace(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	keys := make([]*Key, 8)
	errs := make([]error, len(keys))
	for i := range keys {
		wg.Go(func() { keys[i], _, errs[i] = LoadOrCreateKey(dir) })
	}
	wg.Wait()
	for i, k := range keys {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if !k.Public().Equal(keys[0].Public()) {
			t.Errorf("creator %d got key %s, creator 0 %s", i, k.Fingerprint(), keys[0].Fingerprint())
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".evidence-key-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// The key file is in OpenSSH's own format and the fingerprint is the one ssh-keygen
// computes; the PEM form is one openssl reads.
func TestKeyFormatsWithRealTools(t *testing.T) {
	needTools(t, "ssh-keygen", "openssl")
	dir := t.TempDir()
	k, _, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-l", "-f", filepath.Join(dir, KeyFileName)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), k.Fingerprint()) || !strings.Contains(string(out), "(ED25519)") {
		t.Errorf("ssh-keygen -l on the private key: %v\n%s\nwant %s", err, out, k.Fingerprint())
	}
	out, err = exec.Command("ssh-keygen", "-y", "-f", filepath.Join(dir, KeyFileName)).CombinedOutput()
	if err != nil || !strings.HasPrefix(k.AuthorizedKey(), strings.TrimSpace(string(out))) {
		t.Errorf("ssh-keygen -y: %v\n%s\nwant %s", err, out, k.AuthorizedKey())
	}
	p, err := PublicPEM(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemPath := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(pemPath, p, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("openssl", "pkey", "-pubin", "-in", pemPath, "-noout", "-text").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ED25519 Public-Key") {
		t.Errorf("openssl pkey on the PEM: %v\n%s", err, out)
	}
	for name, data := range map[string][]byte{"pem": p, "ssh": []byte(k.AuthorizedKey() + "\n"),
		"allowed_signers": []byte(`supportprobe namespaces="supportprobe-evidence" ` + k.AuthorizedKey())} {
		got, err := ParsePublicKey(data)
		if err != nil || !got.Equal(k.Public()) {
			t.Errorf("ParsePublicKey(%s) = %v", name, err)
		}
	}
	for name, data := range map[string]string{"empty": "", "rsa-ish": "ssh-rsa AAAAB3NzaC1yc2E= x", "private": "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"} {
		if _, err := ParsePublicKey([]byte(data)); err == nil {
			t.Errorf("ParsePublicKey(%s) succeeded", name)
		}
	}
}

// Root making the key in a state directory that belongs to the daemon's user gives the
// files to that user, who must be able to read the key later.
func TestCreateKeyAsRootKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand files to another user")
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	const uid, gid = 65534, 65534 // nobody, nogroup
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKey(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{KeyFileName, PublicKeyFileName} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if u, g, _ := owner(st); u != uid || g != gid {
			t.Errorf("%s owned by %d:%d, want the state directory's %d:%d", name, u, g, uid, gid)
		}
	}
}
