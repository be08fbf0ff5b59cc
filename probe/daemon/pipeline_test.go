package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
)

const pipelineConfig = `state_dir: STATE
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none, username: lin.wei@example.com, password_env: SP_UNUSED, append_sent: false}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
  - {id: invoice-zh, language: zh, priority: P3, subject: "关于发票的问题", body: "您好"}
  - id: export-en
    language: en
    priority: P2
    subject: "Nightly export stuck"
    body: |
      Hello,

      our nightly export to S3 has been stuck at 95% since 02:10 UTC. The job log shows
      repeated "upload part timed out" errors for the last part. We changed nothing on
      our side. Could you check whether the export workers in eu-west are healthy?

      Thanks,
      Lin
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h}}
  - name: lotus-ops
    to: [support@lotus.example]
    timezone: Asia/Shanghai
`

// TestPipeline feeds the raw messages in testdata/pipeline through the daemon's handler
// (parse, match, classify, record) in order, as the watcher would, and checks where each
// one lands: which probe, which rung, which kind. The messages are templates: {{MSGIDn}}
// and {{TOKENn}} stand for probe n's Message-ID and token.
func TestPipeline(t *testing.T) {
	d := mustPipelineDaemon(t)
	var probes []probe.Probe
	for _, req := range []SendRequest{{Vendor: "acme-cloud", Script: "outage-en"}, {Vendor: "lotus-ops", Script: "invoice-zh"}, {Vendor: "acme-cloud", Script: "outage-en"}, {Vendor: "acme-cloud", Script: "export-en"}} {
		p, err := d.Send(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p)
	}
	fill := func(raw string) string {
		for i, p := range probes {
			n := string(rune('1' + i))
			raw = strings.ReplaceAll(raw, "{{MSGID"+n+"}}", "<"+p.MessageID+">")
			raw = strings.ReplaceAll(raw, "{{TOKEN"+n+"}}", p.Token)
		}
		return strings.ReplaceAll(raw, "\n", "\r\n")
	}

	tests := []struct {
		file  string
		probe string // "" = unmatched
		rung  probe.Rung
		kind  probe.Kind
	}{
		{"ack-in-reply-to.eml", "P1", probe.RungMessageID, probe.KindAutoAck},
		{"human-plus-address.eml", "P1", probe.RungPlusAddress, probe.KindHuman},
		{"human-thread-commas.eml", "P1", probe.RungThread, probe.KindHuman},
		{"human-ticket-key.eml", "P1", probe.RungTicketKey, probe.KindHuman},
		{"human-token-in-quote.eml", "P2", probe.RungToken, probe.KindHuman},
		{"ooo-german.eml", "P1", probe.RungMessageID, probe.KindOutOfOffice},
		{"bounce-dsn.eml", "P3", probe.RungMessageID, probe.KindBounce},
		{"unmatched-newsletter.eml", "", "", probe.KindOther},
		// A help desk pasting our request, unquoted, into its acknowledgement: our own
		// words are not the desk's answer.
		{"ack-echoes-inquiry.eml", "P4", probe.RungMessageID, probe.KindAutoAck},
	}
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "pipeline", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			raw := []byte(fill(string(data)))
			f := mailbox.Fetched{Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1), InternalDate: clock.Add(time.Duration(i+1) * time.Minute),
				Raw: raw, Size: int64(len(raw)), DetectedAt: clock.Add(time.Duration(i+1) * time.Minute)}
			if err := d.handleMail(context.Background(), f); err != nil {
				t.Fatalf("handleMail = %v", err)
			}
			// The same message again (another folder, or after a restart) changes nothing.
			f.Folder = "Junk"
			if err := d.handleMail(context.Background(), f); err != nil {
				t.Fatalf("handleMail(again) = %v", err)
			}
			m, _ := mailbox.Parse(raw, mailbox.ParseOptions{})
			rid, seen, _ := d.DB().Seen(m.MessageID)
			if !seen {
				t.Fatalf("%s not recorded", m.MessageID)
			}
			if tt.probe == "" {
				um, _ := d.DB().UnmatchedMail(time.Time{}, time.Time{})
				if len(um) != 1 || um[0].ID != rid || um[0].Kind != tt.kind || um[0].Why == "" {
					t.Errorf("unmatched = %+v, want %s as %s with a why", um, rid, tt.kind)
				}
				return
			}
			r, err := d.DB().Reply(rid)
			if err != nil {
				t.Fatalf("%s recorded as %s, not as a reply: %v", m.MessageID, rid, err)
			}
			if r.ProbeID != tt.probe || r.MatchedBy != tt.rung || r.Kind != tt.kind {
				t.Errorf("reply = probe %s, rung %s (%s), kind %s (%s); want %s, %s, %s",
					r.ProbeID, r.MatchedBy, r.MatchDetail, r.Kind, r.Reason, tt.probe, tt.rung, tt.kind)
			}
			// The stored confidence is the classifier's for the stored kind: above the
			// review threshold for a decided kind, and stated in the reason.
			if r.Confidence < probe.ReviewThreshold || r.Confidence > 1 || !strings.Contains(r.Reason, "confidence") {
				t.Errorf("reply confidence %v, reason %q; want the classifier's confidence in [%.2f,1] and in the reason", r.Confidence, r.Reason, probe.ReviewThreshold)
			}
			if r.Reason == "" || !r.ReceivedAt.Equal(f.InternalDate) {
				t.Errorf("reply reason %q, received_at %v; want a reason and the INTERNALDATE %v", r.Reason, r.ReceivedAt, f.InternalDate)
			}
		})
	}
	for _, tt := range []struct {
		id     string
		status probe.Status
	}{{"P1", probe.StatusAnswered}, {"P2", probe.StatusAnswered}, {"P3", probe.StatusBounced}} {
		p, _ := d.DB().Probe(tt.id)
		if m, _ := probe.Measure(p, clock.Add(time.Hour)); m.Status != tt.status {
			t.Errorf("%s status = %s, want %s", tt.id, m.Status, tt.status)
		}
	}
}

// FuzzPipeline runs parse → match → classify on arbitrary bytes, seeded with the
// pipeline and parser corpora: nothing may panic, every decision must carry a kind and
// a reason, and a match must name its rung.
func FuzzPipeline(f *testing.F) {
	for _, pattern := range []string{"testdata/pipeline/*.eml", "../../mailbox/testdata/mail/*.eml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err == nil {
				f.Add(data)
			}
		}
	}
	vendors := []probe.Vendor{{Name: "acme-cloud", Domains: []string{"acme.example"}}}
	idx := fakeIndex{"20261129t110000.p1.k7q2mx.0123456789abcdef@example.com": "P1", "ack-1@helpdesk.acme.example": "P1"}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := mailbox.Parse(raw, mailbox.ParseOptions{MaxText: 64 << 10})
		if err != nil {
			return
		}
		match, ok, err := probe.Matcher{Key: []byte("k"), Mailbox: "lin.wei@example.com", Vendors: vendors, Index: idx}.Match(m)
		if err != nil {
			t.Fatalf("Match = %v", err)
		}
		if ok && (match.ProbeID == "" || match.Rung == "") {
			t.Fatalf("match without probe or rung: %+v", match)
		}
		c := probe.Classify(m, nil)
		if c.Kind == "" || c.Reason == "" {
			t.Fatalf("Classify = %+v, want a kind and a reason", c)
		}
	})
}

// fakeIndex knows message IDs only.
type fakeIndex map[string]string

func (f fakeIndex) ProbeByMessageID(id string) (string, error)   { return f[strings.ToLower(id)], nil }
func (f fakeIndex) ProbeByToken(string) (string, error)          { return "", nil }
func (f fakeIndex) ProbeByTicketKey(_, _ string) (string, error) { return "", nil }

// mustPipelineDaemon returns a daemon on pipelineConfig in a temp state dir, with a
// fake sender and the clock stopped at clock; the test's end checks its database and
// closes it.
func mustPipelineDaemon(t *testing.T) *Daemon {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(pipelineConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: &fakeSender{at: clock}, Now: func() time.Time { return clock }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.DB().Check(); err != nil {
			t.Errorf("Check() = %v", err)
		}
		d.Close()
	})
	return d
}
