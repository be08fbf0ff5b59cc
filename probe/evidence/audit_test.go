package evidence

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

// auditLog is a chained log of four entries: a mark of P1, a link into P9, a pause of
// acme-cloud and one of another vendor.
func auditLog(t *testing.T) []probe.Correction {
	t.Helper()
	log := []probe.Correction{
		{ID: "A1", Action: probe.CorrectionMark, At: gen, By: "ann", Note: "a real person", Reply: "R2", ToProbe: "P1", FromProbe: "P1", KindAfter: probe.KindHuman},
		{ID: "A2", Action: probe.CorrectionLink, At: gen.Add(time.Minute), By: "bob", Note: "unrelated vendor", Reply: "R9", ToProbe: "P9"},
		{ID: "A3", Action: probe.CorrectionPause, At: gen.Add(2 * time.Minute), By: "ann", Vendor: "acme-cloud", Note: "freeze"},
		{ID: "A4", Action: probe.CorrectionPause, At: gen.Add(3 * time.Minute), By: "ann", Vendor: "lotus-ops", Note: "someone else's"},
	}
	prev := ""
	for i := range log {
		if err := log[i].Chain(uint64(i)+1, prev); err != nil {
			t.Fatal(err)
		}
		prev = log[i].Hash
	}
	return log
}

// withAudit writes the archive of items() with the audit file af.
func withAudit(t *testing.T, af *AuditFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(&buf, items(), Meta{GeneratedAt: gen, Generator: "supportprobe test", Selection: "--vendor acme-cloud", Key: testKey, Audit: af}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// replaceAudit puts aj in place of audit.json and its hash and size in the manifest, as
// a forger without the key would; the signature stays.
func replaceAudit(t *testing.T, b, aj []byte) []byte {
	t.Helper()
	files := entries(t, b)
	var m Manifest
	if err := json.Unmarshal(files[ManifestName], &m); err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Files {
		if f.Path == AuditName {
			m.Files[i].SHA256, m.Files[i].Size, m.Files[i].OriginalSize = sum(aj), int64(len(aj)), int64(len(aj))
		}
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mj = append(mj, '\n')
	return rewrite(t, b, func(name string, data []byte) []byte {
		switch name {
		case AuditName:
			return aj
		case ManifestName:
			return mj
		}
		return data
	}, nil)
}

// TestAuditInArchive: the archive carries every link of the chain, in full only the
// entries of the exported probes and vendors, and verifies; the manifest pins the head.
func TestAuditInArchive(t *testing.T) {
	log := auditLog(t)
	af, err := NewAuditFile(log, []string{"P1", "P3"}, []string{"acme-cloud"})
	if err != nil {
		t.Fatal(err)
	}
	if af.Entries != 4 || af.Included != 2 || af.Head != log[3].Hash || af.Broken != "" {
		t.Errorf("NewAuditFile = entries %d, included %d, head %s, broken %q", af.Entries, af.Included, af.Head, af.Broken)
	}
	for i, full := range []bool{true, false, true, false} {
		if (af.Links[i].Entry != nil) != full {
			t.Errorf("link %d carries its entry: %v, want %v", i+1, af.Links[i].Entry != nil, full)
		}
	}
	b := withAudit(t, af)
	files := entries(t, b)
	if strings.Contains(string(files[AuditName]), "unrelated vendor") || strings.Contains(string(files[AuditName]), "lotus-ops") {
		t.Errorf("audit.json gives away entries of other probes and vendors:\n%s", files[AuditName])
	}
	if !strings.Contains(string(files[SummaryName]), "Audit log (audit.json): 4 entries") {
		t.Errorf("summary does not mention the audit log:\n%s", files[SummaryName])
	}
	rep := verify(t, b)
	if !rep.OK() || rep.Manifest.Audit == nil || rep.Manifest.Audit.Head != log[3].Hash {
		t.Fatalf("Verify = %+v", rep)
	}
}

// TestAuditForgeries: an included entry rewritten, a link left out, or the chain cut
// short is named on audit.json even when the file's hash in the manifest is fixed up.
func TestAuditForgeries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(af *AuditFile)
		want   string
	}{
		{"note rewritten", func(af *AuditFile) { af.Links[0].Entry.Note = "an auto-reply" }, "audit log chain broken at entry seq 1 (A1)"},
		{"note rewritten and rehashed", func(af *AuditFile) {
			e := af.Links[0].Entry
			e.Note = "an auto-reply"
			if err := e.Chain(1, ""); err != nil {
				t.Fatal(err)
			}
			l, _ := e.Link(true)
			af.Links[0] = l
		}, "audit log chain broken at entry seq 2"},
		{"link removed", func(af *AuditFile) { af.Links = append(af.Links[:1], af.Links[2:]...) }, "expected seq 2 here"},
		{"tail cut", func(af *AuditFile) {
			af.Links = af.Links[:3]
			af.Entries, af.Head = 3, af.Links[2].Hash
		}, "the manifest names head"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			af, err := NewAuditFile(auditLog(t), []string{"P1"}, []string{"acme-cloud"})
			if err != nil {
				t.Fatal(err)
			}
			b := withAudit(t, af)
			tc.change(af)
			aj, err := json.MarshalIndent(af, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			rep := verify(t, replaceAudit(t, b, append(aj, '\n')))
			got := problemsAt(rep)
			if !strings.Contains(got[AuditName], tc.want) {
				t.Errorf("problems = %v; want %s to say %q", got, AuditName, tc.want)
			}
			if got[SignatureName] == "" {
				t.Errorf("a manifest changed after signing verifies: %v", got)
			}
		})
	}
}
