package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/probe/evidence"
	"supportprobe/store"
)

type auditJSON struct {
	Verified bool               `json:"verified"`
	Problem  string             `json:"problem"`
	Total    int                `json:"total"`
	Head     string             `json:"head"`
	Entries  []probe.Correction `json:"entries"`
}

func auditOf(t *testing.T, cfg string, args ...string) (int, auditJSON, string) {
	t.Helper()
	code, stdout, stderr := invoke(t, now, append([]string{"audit", "--config", cfg, "--format", "json"}, args...)...)
	var out auditJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("audit --format json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	return code, out, stderr
}

// TestAuditLog makes one entry of every kind: mark and a review decision on the file,
// then link, pause, resume and reload through the daemon; `audit` lists them in order,
// chained, and verifies the chain; --since lists the later ones only.
func TestAuditLog(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	seedReview(t, stateDir)
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddUnmatched(store.Unmatched{MessageID: "<lost@acme.example>", From: "Dana <dana@acme.example>",
		Subject: "about your streams", ReceivedAt: sentAt.Add(90 * 60e9), Kind: probe.KindHuman,
		Reason: "human: 120 chars of new text", Why: "no evidence"}, []byte("raw")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if code, stdout, stderr := invoke(t, now, "audit", "--config", cfg); code != exitOK || !strings.Contains(stdout, "is empty") {
		t.Errorf("audit of an empty log: exit %d\n%s%s", code, stdout, stderr)
	}
	steps := [][]string{
		{"mark", "--config", cfg, "--note", "agent signed it", "R1", "human"},
		{"review", "--config", cfg, "--note", "instruction given", "R3", "human"},
	}
	for _, s := range steps {
		if code, stdout, stderr := invoke(t, now, s...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", s[0], code, stdout, stderr)
		}
	}
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	startDaemon(t, cfg, stateDir, "--no-schedules")
	later := now.Add(3600e9)
	for _, s := range [][]string{
		{"link", "--config", cfg, "--note", "from a personal address", "lost@acme.example", "P2"},
		{"pause", "--config", cfg, "--note", "portal migration", "acme-cloud"},
		{"resume", "--config", cfg, "acme-cloud"},
		{"reload", "--config", cfg},
	} {
		if code, stdout, stderr := invoke(t, later, s...); code != exitOK {
			t.Fatalf("%s through the daemon: exit %d\n%s%s", s[0], code, stdout, stderr)
		}
	}

	code, out, stderr := auditOf(t, cfg)
	if code != exitOK || !out.Verified || out.Total != 6 || len(out.Entries) != 6 {
		t.Fatalf("audit: exit %d, %+v\n%s", code, out, stderr)
	}
	want := []string{probe.CorrectionMark, probe.CorrectionMark, probe.CorrectionLink, probe.CorrectionPause, probe.CorrectionResume, probe.CorrectionReload}
	prev := ""
	for i, c := range out.Entries {
		if c.Action != want[i] || c.Seq != uint64(i+1) || c.Prev != prev {
			t.Errorf("entry %d: action %s seq %d prev %.8s; want %s, %d, %.8s", i, c.Action, c.Seq, c.Prev, want[i], i+1, prev)
		}
		prev = c.Hash
	}
	if out.Head != prev {
		t.Errorf("head %s, want the last entry's hash %s", out.Head, prev)
	}
	if e := out.Entries[1]; e.Reply != "R3" || e.KindAfter != probe.KindHuman || e.Note != "instruction given" {
		t.Errorf("review decision entry = %+v", e)
	}
	if e := out.Entries[3]; e.Vendor != "acme-cloud" || e.Note != "portal migration" {
		t.Errorf("pause entry = %+v", e)
	}
	if e := out.Entries[5]; e.File != cfg || len(e.ConfigSHA256) != 64 || e.Refused != "" {
		t.Errorf("reload entry = %+v", e)
	}
	code, out, _ = auditOf(t, cfg, "--since", later.Format("2006-01-02T15:04:05Z"))
	if code != exitOK || out.Total != 6 || len(out.Entries) != 4 || out.Entries[0].Action != probe.CorrectionLink {
		t.Errorf("audit --since: exit %d, %d of %d entries", code, len(out.Entries), out.Total)
	}
	code, stdout, stderr := invoke(t, now, "audit", "--config", cfg)
	for _, w := range []string{"reply R1 of P1: auto_ack -> human", "vendor acme-cloud paused until resumed", "vendor acme-cloud resumed",
		"put in force", "note: portal migration", "chain verified from seq 1 to 6"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("audit text lacks %q:\n%s%s", w, stdout, stderr)
		}
	}
	if code != exitOK {
		t.Errorf("audit: exit %d", code)
	}
	if code, _, stderr := invoke(t, now, "audit", "--config", cfg, "--format", "xml"); code != exitUsage || !strings.Contains(stderr, "want text or json") {
		t.Errorf("audit --format xml: exit %d, %s", code, stderr)
	}
}

// TestAuditTamperCLI changes one entry's note in the bbolt file: `audit` exits 1 naming
// that entry, an export made afterwards carries the same break and `export --verify`
// fails on audit.json, while an export made before it verifies.
func TestAuditTamperCLI(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	for _, s := range [][]string{
		{"mark", "--config", cfg, "--note", "agent signed it", "R1", "human"},
		{"pause", "--config", cfg, "--note", "freeze", "acme-cloud"},
		{"mark", "--config", cfg, "--note", "second look", "R1", "human"},
	} {
		if code, stdout, stderr := invoke(t, now, s...); code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", s[0], code, stdout, stderr)
		}
	}
	good := filepath.Join(t.TempDir(), "good.zip")
	if code, _, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", good); code != exitOK {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	files := readZip(t, good)
	var af evidence.AuditFile
	if err := json.Unmarshal(files[evidence.AuditName], &af); err != nil {
		t.Fatalf("%s: %v\n%s", evidence.AuditName, err, files[evidence.AuditName])
	}
	if af.Entries != 3 || af.Included != 3 || len(af.Links) != 3 || af.Links[0].Entry == nil || af.Broken != "" {
		t.Errorf("audit.json = %+v", af)
	}
	if m := manifestOf(t, files); m.Audit == nil || m.Audit.Head != af.Head || af.Head != af.Links[2].Hash {
		t.Errorf("manifest audit = %+v, file head %s", m.Audit, af.Head)
	}
	code, stdout, stderr := invoke(t, now, "export", "--verify", good)
	if code != exitOK || !strings.Contains(stdout, "audit chain verified: 3 entries") {
		t.Fatalf("verify before tampering: exit %d\n%s%s", code, stdout, stderr)
	}

	db, err := bbolt.Open(daemon.DatabasePath(stateDir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("audit"))
		k, v := b.Cursor().First()
		k, v = bytes.Clone(k), bytes.Replace(v, []byte("agent signed it"), []byte("auto-reply, clearly"), 1)
		return b.Put(k, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = invoke(t, now, "audit", "--config", cfg)
	if code != exitFailure || !strings.Contains(stderr, "audit log chain broken at entry seq 1 (A1)") || !strings.Contains(stderr, "altered") {
		t.Errorf("audit after tampering: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "note: auto-reply, clearly") {
		t.Errorf("audit after tampering still lists the entries as stored:\n%s", stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.zip")
	code, _, stderr = invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", bad)
	if code != exitOK || !strings.Contains(stderr, "warning: audit log chain broken at entry seq 1") {
		t.Fatalf("export of a broken log: exit %d, %s", code, stderr)
	}
	code, _, stderr = invoke(t, now, "export", "--verify", bad)
	if code != exitFailure || !strings.Contains(stderr, "audit.json: audit log chain broken at entry seq 1 (A1)") {
		t.Errorf("verify of an archive with the broken log: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = invoke(t, now, "export", "--verify", good); code != exitOK {
		t.Errorf("the archive made before tampering no longer verifies: %s", stderr)
	}
}
