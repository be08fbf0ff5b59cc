package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Names of the signing key's files in the state directory. The private key is in
// OpenSSH format (what ssh-keygen writes, unencrypted), file mode 0600; the public key
// beside it is one authorized_keys line and carries the key's comment.
const (
	KeyFileName       = "evidence-key"
	PublicKeyFileName = "evidence-key.pub"
)

// ErrNoKey reports that the state directory holds no signing key yet.
var ErrNoKey = errors.New("no evidence signing key")

// Key is the Ed25519 key an instance signs its evidence archives with. Its private half
// never leaves the state directory: not in the database, the archives or the logs.
type Key struct {
	priv ed25519.PrivateKey
	// Comment ends the public key line: "supportprobe@" and an ID of the state directory
	// chosen when the key was made, so that a verifier holding several keys can tell
	// them apart.
	Comment string
}

// NewKey wraps an Ed25519 private key (tests, and keys made elsewhere).
func NewKey(priv ed25519.PrivateKey, comment string) *Key {
	return &Key{priv: priv, Comment: comment}
}

// Public returns the public half.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// AuthorizedKey returns the public key as one OpenSSH authorized_keys line, without the
// newline: "ssh-ed25519 AAAA... supportprobe@ID".
func (k *Key) AuthorizedKey() string { return AuthorizedKey(k.Public(), k.Comment) }

// Fingerprint returns the key's fingerprint as ssh-keygen -l prints it: "SHA256:" and
// the unpadded base64 of the SHA-256 of the public key's SSH wire encoding.
func (k *Key) Fingerprint() string { return Fingerprint(k.Public()) }

// AuthorizedKey formats pub as an authorized_keys line with the given comment.
func AuthorizedKey(pub ed25519.PublicKey, comment string) string {
	sp, err := ssh.NewPublicKey(pub)
	if err != nil { // only for a key of the wrong length, which ed25519 never hands out
		return ""
	}
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(sp)), "\n")
	if comment != "" {
		line += " " + comment
	}
	return line
}

// Fingerprint returns pub's fingerprint in the ssh style, "SHA256:...".
func Fingerprint(pub ed25519.PublicKey) string {
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		return ""
	}
	return ssh.FingerprintSHA256(sp)
}

// PublicPEM returns pub as a PEM "PUBLIC KEY" block (PKIX, RFC 8410), what openssl reads.
func PublicPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key as PKIX: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey reads an Ed25519 public key given by a verifier: an authorized_keys
// line ("ssh-ed25519 AAAA... comment", as `supportprobe key` prints it), an
// allowed_signers line ("principal [options] ssh-ed25519 AAAA..."), or a PEM "PUBLIC
// KEY" block (`supportprobe key --format pem`).
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY", block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("PEM public key is a %T, not Ed25519", k)
		}
		return pub, nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// An allowed_signers line starts with principals, then perhaps options; the
		// key starts at its type.
		fields := strings.Fields(line)
		for i, f := range fields {
			if f == ssh.KeyAlgoED25519 {
				line = strings.Join(fields[i:], " ")
				break
			}
		}
		sp, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("not an ssh-ed25519 public key line or a PEM PUBLIC KEY: %w", err)
		}
		ck, ok := sp.(ssh.CryptoPublicKey)
		if !ok {
			return nil, fmt.Errorf("%s key: not usable", sp.Type())
		}
		pub, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a %s key, not ssh-ed25519", sp.Type())
		}
		return pub, nil
	}
	return nil, errors.New("no public key in it")
}

// LoadKey reads the signing key of stateDir. It returns an error wrapping ErrNoKey
// when there is none yet, and refuses a private key file that others may read.
func LoadKey(stateDir string) (*Key, error) {
	path := filepath.Join(stateDir, KeyFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (created by `supportprobe key` or the first export)", path, ErrNoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("read evidence signing key: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("evidence signing key %s has mode %04o; others may read it: chmod 600 it (and consider the key exposed)",
			path, st.Mode().Perm())
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("evidence signing key %s: %w; restore it from the backup of the state directory", path, err)
	}
	var priv ed25519.PrivateKey
	switch k := raw.(type) {
	case *ed25519.PrivateKey:
		priv = *k
	case ed25519.PrivateKey:
		priv = k
	default:
		return nil, fmt.Errorf("evidence signing key %s is a %T, not Ed25519", path, raw)
	}
	k := &Key{priv: priv}
	k.Comment = readComment(filepath.Join(stateDir, PublicKeyFileName), k.Public())
	if k.Comment == "" {
		// The .pub file is a convenience; without it the comment is derived from the key.
		h := sha256.Sum256(k.Public())
		k.Comment = "supportprobe@" + hex.EncodeToString(h[:4])
	}
	return k, nil
}

// readComment returns the comment of the public key file at path when that file holds
// pub, else "".
func readComment(path string, pub ed25519.PublicKey) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sp, comment, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return ""
	}
	want, err := ssh.NewPublicKey(pub)
	if err != nil || !bytes.Equal(sp.Marshal(), want.Marshal()) {
		return ""
	}
	return comment
}

// LoadOrCreateKey reads the signing key of stateDir, making one first when there is
// none; created says it did. Two processes creating at once end up with the same key:
// the file is linked into place only if it does not exist yet.
func LoadOrCreateKey(stateDir string) (k *Key, created bool, err error) {
	k, err = LoadKey(stateDir)
	if !errors.Is(err, ErrNoKey) {
		return k, false, err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create evidence signing key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("create evidence signing key: %w", err)
	}
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, false, fmt.Errorf("create evidence signing key: %w", err)
	}
	k = &Key{priv: priv, Comment: "supportprobe@" + hex.EncodeToString(id[:])}
	block, err := ssh.MarshalPrivateKey(priv, k.Comment)
	if err != nil {
		return nil, false, fmt.Errorf("create evidence signing key: %w", err)
	}
	path := filepath.Join(stateDir, KeyFileName)
	if err := writeNew(path, pem.EncodeToMemory(block), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process was quicker: use its key
			k, err = LoadKey(stateDir)
			return k, false, err
		}
		return nil, false, fmt.Errorf("create evidence signing key: %w", err)
	}
	pubPath := filepath.Join(stateDir, PublicKeyFileName)
	tmp := pubPath + ".tmp"
	if err := os.WriteFile(tmp, []byte(k.AuthorizedKey()+"\n"), 0o644); err != nil {
		return nil, false, fmt.Errorf("write %s: %w", pubPath, err)
	}
	if err := os.Rename(tmp, pubPath); err != nil {
		return nil, false, fmt.Errorf("write %s: %w", pubPath, err)
	}
	if err := ownLikeDir(stateDir, path, pubPath); err != nil {
		return nil, false, fmt.Errorf("create evidence signing key: %w", err)
	}
	return k, true, nil
}

// ownLikeDir gives files the owner of dir when root made them: root running `export`
// or `key` first must not leave a key the daemon's own user cannot read.
func ownLikeDir(dir string, files ...string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	uid, gid, ok := owner(st)
	if !ok || uid == 0 {
		return nil
	}
	for _, f := range files {
		if err := os.Chown(f, uid, gid); err != nil {
			return fmt.Errorf("give %s the owner of %s: %w", f, dir, err)
		}
	}
	return nil
}

// writeNew writes data to path, synced, only if path does not exist; the error wraps
// fs.ErrExist when it does.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".evidence-key-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Link(f.Name(), path)
}
