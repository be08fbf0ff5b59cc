package evidence

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forge alters P1/R1.eml in the archive b and rewrites the manifest to match, as someone
// who knows the format would: the new hash and size, everything else unchanged. With
// signer nil the old signature stays; otherwise the forger signs with signer and puts
// that key in signer.pub and the manifest, as a thorough forger would.
func forge(t *testing.T, b []byte, signer *Key) []byte {
	t.Helper()
	files := entries(t, b)
	forged := []byte(strings.Replace(string(files["P1/R1.eml"]), "We have received", "We have resolved", 1))
	if bytes.Equal(forged, files["P1/R1.eml"]) {
		t.Fatal("forge changed nothing")
	}
	var m Manifest
	if err := json.Unmarshal(files[ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	pub := files[SignerKeyName]
	if signer != nil {
		pub = []byte(signer.AuthorizedKey() + "\n")
		m.Signer = &Signer{PublicKey: signer.AuthorizedKey(), Fingerprint: signer.Fingerprint(), Namespace: SignatureNamespace}
	}
	for i, f := range m.Files {
		switch f.Path {
		case "P1/R1.eml":
			m.Files[i].SHA256, m.Files[i].Size, m.Files[i].OriginalSize = sum(forged), int64(len(forged)), int64(len(forged))
		case SignerKeyName:
			m.Files[i].SHA256, m.Files[i].Size, m.Files[i].OriginalSize = sum(pub), int64(len(pub)), int64(len(pub))
		}
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mj = append(mj, '\n')
	sig := files[SignatureName]
	if signer != nil {
		if sig, err = signSSHSIG(signer, mj); err != nil {
			t.Fatal(err)
		}
	}
	return rewrite(t, b, func(name string, data []byte) []byte {
		switch name {
		case "P1/R1.eml":
			return forged
		case ManifestName:
			return mj
		case SignatureName:
			return sig
		case SignerKeyName:
			return pub
		}
		return data
	}, nil)
}

func problemsAt(rep Report) map[string]string {
	got := map[string]string{}
	for _, p := range rep.Problems {
		got[p.Path] += p.What
	}
	return got
}

// A reply rewritten together with its manifest entry passes every hash, and fails on
// the signature; re-signed with another key, it fails against the trusted key and,
// checked against the key it names, shows a fingerprint that is not the instance's.
func TestForgedManifestFails(t *testing.T) {
	b, _ := write(t, items())

	kept := forge(t, b, nil)
	rep := verify(t, kept)
	got := problemsAt(rep)
	if len(got) != 1 || !strings.Contains(got[SignatureName], "signature does not match manifest.json") {
		t.Errorf("forged manifest, old signature: problems = %v, want only the signature failing", rep.Problems)
	}
	if rep.Checked != 6 || rep.Signed {
		t.Errorf("forged manifest: checked %d, signed %v; want every hash matching (6) and no valid signature", rep.Checked, rep.Signed)
	}

	resigned := forge(t, b, otherKey)
	rep = verify(t, resigned)
	got = problemsAt(rep)
	if len(got) != 1 || !strings.Contains(got[SignatureName], "signed by key "+otherKey.Fingerprint()+", not by the trusted key "+testKey.Fingerprint()) {
		t.Errorf("re-signed by another key: problems = %v, want the signature naming both keys", rep.Problems)
	}
	untrusted, err := Verify(bytes.NewReader(resigned), int64(len(resigned)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !untrusted.OK() || untrusted.Trusted || untrusted.SignerFingerprint != otherKey.Fingerprint() {
		t.Errorf("re-signed, checked against its own key: ok %v, trusted %v, fingerprint %s; want ok, untrusted, %s",
			untrusted.OK(), untrusted.Trusted, untrusted.SignerFingerprint, otherKey.Fingerprint())
	}
}

func TestSignatureProblems(t *testing.T) {
	b, _ := write(t, items())
	for _, tt := range []struct {
		name   string
		change func(name string, data []byte) []byte
		path   string
		want   string
	}{
		{"unsigned", func(name string, data []byte) []byte {
			if name == SignatureName {
				return nil
			}
			return data
		}, SignatureName, "the archive is unsigned"},
		{"garbage signature", func(name string, data []byte) []byte {
			if name == SignatureName {
				return []byte("hello")
			}
			return data
		}, SignatureName, "not an armored SSH signature"},
		{"stripped to look like format 1", func(name string, data []byte) []byte {
			switch name {
			case SignatureName:
				return nil
			case ManifestName:
				return bytes.Replace(data, []byte(`"format_version": 2`), []byte(`"format_version": 1`), 1)
			}
			return data
		}, SignatureName, "unsigned, so nothing shows which instance wrote it or that the manifest is its own (format 1, written before supportprobe signed archives)"},
		{"manifest one byte off", func(name string, data []byte) []byte {
			if name == ManifestName {
				return bytes.Replace(data, []byte(`"selection": "--vendor acme-cloud"`), []byte(`"selection": "--vendor acme-clouds"`), 1)
			}
			return data
		}, SignatureName, "signature does not match"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := verify(t, rewrite(t, b, tt.change, nil))
			if got := problemsAt(rep); !strings.Contains(got[tt.path], tt.want) || rep.OK() {
				t.Errorf("problems = %v, want %s: %q", rep.Problems, tt.path, tt.want)
			}
		})
	}
}

// The signature's namespace is part of what is signed: a signature by the same key in
// another namespace (say, over a git commit) never passes for a manifest's.
func TestSignatureNamespace(t *testing.T) {
	mj := []byte(`{"format_version": 2}`)
	sig, err := signSSHSIG(testKey, mj)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifySSHSIG(sig, mj, testKey.Public()); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if _, err := verifySSHSIG(sig, append(mj, ' '), testKey.Public()); err == nil {
		t.Error("signature verified over a different manifest")
	}
	if _, err := verifySSHSIG(sig, mj, otherKey.Public()); err == nil || !strings.Contains(err.Error(), "not by the trusted key") {
		t.Errorf("verify against another key = %v", err)
	}
}

// needTools skips when the command-line tools of the recipe are missing, unless the
// real mail world is required (SUPPORTPROBE_REAL_MAIL=1), where they must be there.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("SUPPORTPROBE_REAL_MAIL") == "1" {
				t.Fatalf("%s is required (SUPPORTPROBE_REAL_MAIL=1): %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// recipe returns the shell commands of the DEFINITIONS.txt recipe, the lines after "$ ".
func recipe(t *testing.T) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(Definitions, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(l), "$ "); ok {
			lines = append(lines, c)
		}
	}
	if len(lines) < 3 {
		t.Fatalf("DEFINITIONS.txt has %d recipe lines", len(lines))
	}
	return strings.Join(lines, "\n")
}

// runRecipe runs the recipe in a fresh directory holding archive.zip and trusted.pub.
func runRecipe(t *testing.T, archive []byte, trusted *Key) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "archive.zip"), archive, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trusted.pub"), []byte(trusted.AuthorizedKey()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-e", "-c", recipe(t))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The recipe in DEFINITIONS.txt, run word for word with the real ssh-keygen, unzip, jq
// and sha256sum, accepts a fresh archive and rejects a forged one, a re-signed one, and
// one checked against the wrong key.
func TestRecipeWithSSHKeygen(t *testing.T) {
	needTools(t, "ssh-keygen", "unzip", "jq", "sha256sum")
	b, _ := write(t, items())

	out, err := runRecipe(t, b, testKey)
	if err != nil {
		t.Fatalf("recipe on a fresh archive: %v\n%s", err, out)
	}
	if want := `Good "supportprobe-evidence" signature for supportprobe with ED25519 key ` + testKey.Fingerprint(); !strings.Contains(out, want) {
		t.Errorf("recipe output lacks %q:\n%s", want, out)
	}
	for _, f := range []string{"P1/R1.eml: OK", "P1/R2.eml: OK", "P1/inquiry.eml: OK", "signer.pub: OK", "summary.txt: OK", "DEFINITIONS.txt: OK"} {
		if !strings.Contains(out, f) {
			t.Errorf("recipe output lacks %q:\n%s", f, out)
		}
	}

	for name, tt := range map[string]struct {
		archive []byte
		trusted *Key
	}{
		"forged manifest, old signature": {forge(t, b, nil), testKey},
		"re-signed by another key":       {forge(t, b, otherKey), testKey},
		"checked against another key":    {b, otherKey},
	} {
		out, err := runRecipe(t, tt.archive, tt.trusted)
		if err == nil {
			t.Errorf("%s: recipe succeeded:\n%s", name, out)
		} else if strings.Contains(out, "Good \"supportprobe-evidence\" signature") {
			t.Errorf("%s: ssh-keygen called the signature good:\n%s", name, out)
		}
	}

	// A file changed under its old manifest fails at the hashes.
	bad := rewrite(t, b, func(name string, data []byte) []byte {
		if name == "P1/R1.eml" {
			data[0] ^= 0x20
		}
		return data
	}, nil)
	out, err = runRecipe(t, bad, testKey)
	if err == nil || !strings.Contains(out, "P1/R1.eml: FAILED") {
		t.Errorf("altered reply: recipe err %v, output:\n%s", err, out)
	}
}
