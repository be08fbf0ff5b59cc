package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

var (
	gen  = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	sent = time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC)
)

const (
	inquiry = "Message-ID: <P1.x@example.com>\r\nSubject: Streams failing\r\n\r\nHello\r\n"
	ack     = "Message-ID: <ack-1@acme.example>\r\nSubject: [#4711] Streams failing\r\n\r\nWe have received your request.\r\n"
	human   = "Message-ID: <hum-1@acme.example>\r\nSubject: Re: [#4711]\r\n\r\nHi, looking into it.\r\n"
)

func items() []Item {
	skew := 1.0
	failReason := "550 5.1.1 mailbox unavailable"
	p1 := view.Record{ID: "P1", Vendor: "acme-cloud", Status: probe.StatusAnswered, SentAt: &sent, ClockSkewSeconds: &skew,
		Replies: []view.ReplyRecord{
			{ID: "R1", ReceivedAt: sent.Add(3 * time.Second), Kind: probe.KindAutoAck, MatchedBy: probe.RungMessageID, Reason: "ack wording"},
			{ID: "R2", ReceivedAt: sent.Add(6 * time.Second), Kind: probe.KindHuman, MatchedBy: probe.RungThread, Reason: "other",
				Override: &probe.Override{Kind: probe.KindHuman, Note: "a real person", At: gen}},
		}}
	p3 := view.Record{ID: "P3", Vendor: "acme-cloud", Status: probe.StatusFailed, FailReason: &failReason, Replies: []view.ReplyRecord{}}
	return []Item{
		{Record: p1, Inquiry: &store.Raw{Data: []byte(inquiry), Size: len(inquiry)},
			Replies: map[string]*store.Raw{
				"R1": {Data: []byte(ack), Size: len(ack)},
				// Cut at the store's cap: 20 bytes kept of 5000.
				"R2": {Data: []byte(human[:20]), Size: 5000, Truncated: true},
			}},
		{Record: p3},
	}
}

// testKey and otherKey are fixed keys: the instance's, and someone else's.
var (
	testKey  = NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)), "supportprobe@test")
	otherKey = NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize)), "mallory@elsewhere")
)

func write(t *testing.T, its []Item) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Write(&buf, its, Meta{GeneratedAt: gen, Generator: "supportprobe test", Selection: "--vendor acme-cloud", Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

func verify(t *testing.T, b []byte) Report {
	t.Helper()
	rep, err := Verify(bytes.NewReader(b), int64(len(b)), testKey.Public())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func entries(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
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
		if !f.Modified.Equal(gen) {
			t.Errorf("%s: modified %v, want generated_at %v", f.Name, f.Modified, gen)
		}
	}
	return out
}

// rewrite copies the archive b, letting change alter (or drop, by returning nil) each
// entry's bytes, and add extra entries.
func rewrite(t *testing.T, b []byte, change func(name string, data []byte) []byte, extra map[string]string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if data = change(f.Name, data); data == nil {
			continue
		}
		w, _ := zw.Create(f.Name)
		w.Write(data)
	}
	for name, data := range extra {
		w, _ := zw.Create(name)
		w.Write([]byte(data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func hexSum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func TestRoundTrip(t *testing.T) {
	b, res := write(t, items())
	got := entries(t, b)
	want := []string{"DEFINITIONS.txt", "P1/R1.eml", "P1/R2.eml", "P1/inquiry.eml", "manifest.json", "manifest.json.sig", "signer.pub", "summary.txt"}
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("entries = %v, want %v (sorted)", names, want)
	}
	if string(got["P1/inquiry.eml"]) != inquiry || string(got["P1/R1.eml"]) != ack || string(got["P1/R2.eml"]) != human[:20] {
		t.Error("raw messages not stored byte for byte")
	}
	if string(got["DEFINITIONS.txt"]) != Definitions {
		t.Error("DEFINITIONS.txt differs from Definitions")
	}

	var m Manifest
	if err := json.Unmarshal(got["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.FormatVersion != FormatVersion || !m.GeneratedAt.Equal(gen) || m.Generator != "supportprobe test" ||
		m.DefinitionsVersion != DefinitionsVersion || m.Selection != "--vendor acme-cloud" {
		t.Errorf("manifest header = %+v", m)
	}
	files := map[string]File{}
	for _, f := range m.Files {
		files[f.Path] = f
	}
	if f := files["P1/R1.eml"]; f.SHA256 != hexSum(ack) || f.Size != int64(len(ack)) || f.Truncated || f.OriginalSize != int64(len(ack)) {
		t.Errorf("R1 entry = %+v", f)
	}
	if f := files["P1/R2.eml"]; !f.Truncated || f.Size != 20 || f.OriginalSize != 5000 || f.SHA256 != hexSum(human[:20]) {
		t.Errorf("truncated R2 entry = %+v, want truncated, 20 of 5000 bytes", f)
	}
	if _, ok := files["summary.txt"]; !ok {
		t.Error("summary.txt not in the manifest")
	}
	if _, ok := files["manifest.json"]; ok {
		t.Error("manifest.json lists itself")
	}
	if len(m.Missing) != 1 || m.Missing[0].Path != "P3/inquiry.eml" || !strings.Contains(m.Missing[0].Reason, "never sent") ||
		!strings.Contains(m.Missing[0].Reason, "550 5.1.1") {
		t.Errorf("missing = %+v, want P3/inquiry.eml never sent with its reason", m.Missing)
	}
	if len(m.Probes) != 2 || m.Probes[0].Replies[1].Override == nil || m.Probes[0].Replies[1].Override.Note != "a real person" ||
		m.Probes[0].ClockSkewSeconds == nil {
		t.Errorf("probes = %+v", m.Probes)
	}
	sum := string(got["summary.txt"])
	for _, s := range []string{"P1/R2.eml", "TRUNCATED: 20 of 5000", "P3/inquiry.eml: the inquiry was never sent", "a real person",
		hexSum(ack), "Clock skew (IMAP server minus ours): 1s", DefinitionsVersion} {
		if !strings.Contains(sum, s) {
			t.Errorf("summary.txt lacks %q:\n%s", s, sum)
		}
	}

	rep := verify(t, b)
	if !rep.OK() || rep.Err() != nil {
		t.Fatalf("fresh archive fails verification: %v", rep.Err())
	}
	if rep.Checked != 6 {
		t.Errorf("checked %d files, want 6", rep.Checked)
	}
	if !rep.Signed || !rep.Trusted || rep.SignerFingerprint != testKey.Fingerprint() {
		t.Errorf("signature: signed %v, trusted %v, by %s; want signed by the trusted %s", rep.Signed, rep.Trusted, rep.SignerFingerprint, testKey.Fingerprint())
	}
	if m.Signer == nil || m.Signer.Fingerprint != testKey.Fingerprint() || m.Signer.PublicKey != testKey.AuthorizedKey() ||
		m.Signer.Namespace != SignatureNamespace {
		t.Errorf("manifest signer = %+v", m.Signer)
	}
	if string(got[SignerKeyName]) != testKey.AuthorizedKey()+"\n" {
		t.Errorf("signer.pub = %q", got[SignerKeyName])
	}
	if strings.Contains(string(b), string(testKey.priv.Seed())) {
		t.Error("the archive holds the private key")
	}
	if rep.ManifestSHA256 != res.ManifestSHA256 || rep.ManifestSHA256 != hexSum(string(got["manifest.json"])) {
		t.Errorf("manifest hash: Write %s, Verify %s", res.ManifestSHA256, rep.ManifestSHA256)
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := write(t, items())
	b, _ := write(t, items())
	if !bytes.Equal(a, b) {
		t.Error("two exports of the same data differ")
	}
}

func TestTamperedReplyNamed(t *testing.T) {
	b, _ := write(t, items())
	bad := rewrite(t, b, func(name string, data []byte) []byte {
		if name == "P1/R1.eml" {
			data[len(data)/2] ^= 1
		}
		return data
	}, nil)
	rep := verify(t, bad)
	if len(rep.Problems) != 1 || rep.Problems[0].Path != "P1/R1.eml" ||
		!strings.HasPrefix(rep.Problems[0].String(), "P1/R1.eml: SHA-256 mismatch (manifest "+hexSum(ack)[:12]+"…, file ") {
		t.Errorf("problems = %v, want one SHA-256 mismatch naming P1/R1.eml", rep.Problems)
	}
	if rep.Checked != 5 {
		t.Errorf("checked %d, want the 5 untouched files", rep.Checked)
	}
}

// A byte flipped in the archive itself, not rewritten through a zip writer, is caught
// too (by the hash or the zip's CRC), and names the file.
func TestFlippedArchiveByteNamed(t *testing.T) {
	b, _ := write(t, items())
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	for _, f := range zr.File {
		if f.Name != "P1/inquiry.eml" {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(b)
		bad[off+int64(f.CompressedSize64)/2] ^= 0x40
		rep := verify(t, bad)
		if rep.OK() || rep.Problems[0].Path != "P1/inquiry.eml" {
			t.Errorf("problems = %v, want P1/inquiry.eml named", rep.Problems)
		}
		return
	}
	t.Fatal("no P1/inquiry.eml")
}

func TestExtraAndMissingFiles(t *testing.T) {
	b, _ := write(t, items())
	bad := rewrite(t, b, func(name string, data []byte) []byte {
		if name == "P1/R2.eml" {
			return nil
		}
		return data
	}, map[string]string{"P1/R9.eml": "planted"})
	rep := verify(t, bad)
	got := map[string]string{}
	for _, p := range rep.Problems {
		got[p.Path] = p.What
	}
	if len(got) != 2 || !strings.Contains(got["P1/R2.eml"], "not in the archive") ||
		!strings.Contains(got["P1/R9.eml"], "not listed in the manifest") {
		t.Errorf("problems = %v, want P1/R2.eml missing and P1/R9.eml extra", rep.Problems)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "P1/R9.eml") {
		t.Errorf("Err() = %v", err)
	}
}

func TestVerifyUnreadable(t *testing.T) {
	if _, err := Verify(bytes.NewReader([]byte("not a zip")), 9, nil); err == nil {
		t.Error("Verify of garbage succeeded")
	}
	b, _ := write(t, items())
	noManifest := rewrite(t, b, func(name string, data []byte) []byte {
		if name == ManifestName {
			return nil
		}
		return data
	}, nil)
	if _, err := Verify(bytes.NewReader(noManifest), int64(len(noManifest)), nil); err == nil || !strings.Contains(err.Error(), ManifestName) {
		t.Errorf("Verify without manifest = %v, want an error naming it", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	for name, its := range map[string][]Item{
		"unsafe id":     {{Record: view.Record{ID: "../P1"}}},
		"duplicate":     {{Record: view.Record{ID: "P1"}}, {Record: view.Record{ID: "P1"}}},
		"stray reply":   {{Record: view.Record{ID: "P1"}, Replies: map[string]*store.Raw{"R1": {}}}},
		"unsafe reply":  {{Record: view.Record{ID: "P1", Replies: []view.ReplyRecord{{ID: "R/1"}}}}},
		"reply twice":   {{Record: view.Record{ID: "P1", Replies: []view.ReplyRecord{{ID: "R1"}, {ID: "R1"}}}}},
		"reply inquiry": {{Record: view.Record{ID: "P1", Replies: []view.ReplyRecord{{ID: "inquiry"}}}}},
	} {
		if _, err := Write(io.Discard, its, Meta{GeneratedAt: gen, Key: testKey}); err == nil {
			t.Errorf("%s: Write succeeded", name)
		}
	}
	if _, err := Write(io.Discard, items(), Meta{GeneratedAt: gen}); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("Write without a key = %v, want a refusal", err)
	}
}

func TestMissingReplyRaw(t *testing.T) {
	its := items()
	delete(its[0].Replies, "R1")
	its[0].Why = map[string]string{"R1": "deleted by hand"}
	b, res := write(t, its)
	if !verify(t, b).OK() {
		t.Fatal("archive with a missing reply fails verification")
	}
	var found bool
	for _, m := range res.Manifest.Missing {
		if m.Path == "P1/R1.eml" && m.Reply == "R1" && m.Probe == "P1" && m.Reason == "deleted by hand" {
			found = true
		}
	}
	if !found {
		t.Errorf("missing = %+v, want P1/R1.eml with its reason", res.Manifest.Missing)
	}
}
