package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// SignatureNamespace is the SSHSIG namespace of an archive's signature: a signature
// made for another purpose with the same key never passes as one over a manifest.
const SignatureNamespace = "supportprobe-evidence"

// The signature is in OpenSSH's SSHSIG format (PROTOCOL.sshsig in the OpenSSH sources),
// armored, so that `ssh-keygen -Y verify` checks it without supportprobe.
const (
	sshsigMagic   = "SSHSIG"
	sshsigVersion = 1
	sshsigBegin   = "-----BEGIN SSH SIGNATURE-----"
	sshsigEnd     = "-----END SSH SIGNATURE-----"
)

// sshsigSigned is what is signed: the magic, then these fields.
type sshsigSigned struct {
	Namespace string
	Reserved  string
	HashAlg   string
	Hash      []byte
}

// sshsigBlob is the signature blob after the magic.
type sshsigBlob struct {
	Version   uint32
	PublicKey []byte
	Namespace string
	Reserved  string
	HashAlg   string
	Signature []byte
}

// signSSHSIG signs msg with k and returns the armored SSHSIG. Ed25519 signatures are
// deterministic, so the same manifest always gets the same signature.
func signSSHSIG(k *Key, msg []byte) ([]byte, error) {
	signer, err := ssh.NewSignerFromKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("evidence: signing key: %w", err)
	}
	h := sha512.Sum512(msg)
	data := append([]byte(sshsigMagic), ssh.Marshal(sshsigSigned{Namespace: SignatureNamespace, HashAlg: "sha512", Hash: h[:]})...)
	sig, err := signer.Sign(nil, data) // Ed25519 reads no randomness
	if err != nil {
		return nil, fmt.Errorf("evidence: sign manifest: %w", err)
	}
	blob := append([]byte(sshsigMagic), ssh.Marshal(sshsigBlob{
		Version: sshsigVersion, PublicKey: signer.PublicKey().Marshal(), Namespace: SignatureNamespace,
		HashAlg: "sha512", Signature: ssh.Marshal(sig),
	})...)
	enc := base64.StdEncoding.EncodeToString(blob)
	var b bytes.Buffer
	b.WriteString(sshsigBegin + "\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n" + sshsigEnd + "\n")
	return b.Bytes(), nil
}

// verifySSHSIG checks the armored SSHSIG sig over msg. It returns the signing key named
// in the signature; when trusted is not nil that key must be trusted.
func verifySSHSIG(sig, msg []byte, trusted ed25519.PublicKey) (ed25519.PublicKey, error) {
	s := strings.TrimSpace(string(sig))
	if !strings.HasPrefix(s, sshsigBegin) || !strings.HasSuffix(s, sshsigEnd) {
		return nil, errors.New("not an armored SSH signature")
	}
	s = strings.Join(strings.Fields(s[len(sshsigBegin):len(s)-len(sshsigEnd)]), "")
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	if !bytes.HasPrefix(raw, []byte(sshsigMagic)) {
		return nil, errors.New("SSH signature: no SSHSIG magic")
	}
	var b sshsigBlob
	if err := ssh.Unmarshal(raw[len(sshsigMagic):], &b); err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	if b.Version != sshsigVersion {
		return nil, fmt.Errorf("SSH signature: version %d, want %d", b.Version, sshsigVersion)
	}
	if b.Namespace != SignatureNamespace {
		return nil, fmt.Errorf("SSH signature: namespace %q, want %q", b.Namespace, SignatureNamespace)
	}
	pk, err := ssh.ParsePublicKey(b.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("SSH signature: public key: %w", err)
	}
	ck, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return nil, fmt.Errorf("SSH signature: a %s key, not ssh-ed25519", pk.Type())
	}
	pub, ok := ck.CryptoPublicKey().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("SSH signature: a %s key, not ssh-ed25519", pk.Type())
	}
	if trusted != nil && !pub.Equal(trusted) {
		return pub, fmt.Errorf("signed by key %s, not by the trusted key %s", Fingerprint(pub), Fingerprint(trusted))
	}
	var h []byte
	switch b.HashAlg {
	case "sha512":
		x := sha512.Sum512(msg)
		h = x[:]
	case "sha256":
		x := sha256.Sum256(msg)
		h = x[:]
	default:
		return pub, fmt.Errorf("SSH signature: hash %q, want sha512 or sha256", b.HashAlg)
	}
	var sg ssh.Signature
	if err := ssh.Unmarshal(b.Signature, &sg); err != nil {
		return pub, fmt.Errorf("SSH signature: %w", err)
	}
	data := append([]byte(sshsigMagic), ssh.Marshal(sshsigSigned{Namespace: b.Namespace, Reserved: b.Reserved, HashAlg: b.HashAlg, Hash: h})...)
	if err := pk.Verify(data, &sg); err != nil {
		return pub, fmt.Errorf("signature does not match %s (it, or the manifest, was changed after signing)", ManifestName)
	}
	return pub, nil
}
