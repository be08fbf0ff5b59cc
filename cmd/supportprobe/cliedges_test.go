package main

import (
	"archive/zip"
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// TestHelpPrintedOnce checks that every subcommand's --help prints its usage text once,
// to standard output, and that a bad flag prints a one-line error, not the usage.
func TestHelpPrintedOnce(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := invoke(t, now, c.name, "--help")
			if code != exitOK {
				t.Fatalf("%s --help: exit %d, stderr %q", c.name, code, stderr)
			}
			for _, s := range []string{"Usage: supportprobe " + c.name, "Example:", "Flags:"} {
				if n := strings.Count(stdout, s); n != 1 {
					t.Errorf("%s --help prints %q %d times, want once:\n%s", c.name, s, n, stdout)
				}
			}
			if stderr != "" {
				t.Errorf("%s --help wrote to stderr: %q", c.name, stderr)
			}
		})
	}
	code, stdout, stderr := invoke(t, now, "history", "--no-such-flag")
	if code != exitUsage || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("history --no-such-flag: exit %d, stdout %q, stderr %q; want %d and one line naming the flag", code, stdout, stderr, exitUsage)
	}
}

// seedInbox is seed plus two mails no probe matched: U1 with a Message-ID and a long
// reason, U2 without a Message-ID (known only by its id). Both arrived after P2 was sent.
func seedInbox(t *testing.T, stateDir string) {
	t.Helper()
	seed(t, stateDir)
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, u := range []store.Unmatched{
		{MessageID: "<lost@acme.example>", From: "=?utf-8?q?Dana_Sch=C3=B6n_from_the_Acme_Cloud_Enterprise_Support_Team?= <dana.schoen@acme.example>",
			Subject:    "Re: your question about the streams that fail in eu-west-1 since this morning, and the invoice",
			ReceivedAt: sentAt.Add(90 * time.Minute), Kind: probe.KindHuman, Reason: "human: 120 chars of new text",
			Why: "no In-Reply-To or References we know, no probe token in the addresses, subject or body, and no ticket key learned from acme-cloud before; it came from a personal address"},
		{From: "ops@acme.example", Subject: "no id", ReceivedAt: sentAt.Add(100 * time.Minute), Kind: probe.KindHuman,
			Reason: "human: 40 chars of new text", Why: "no evidence"},
	} {
		if _, err := db.AddUnmatched(u, []byte("raw")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInboxTable checks that the inbox table shows the ids link takes, fits 100
// columns with the reason why a mail matched nothing wrapped under it, and that --wide
// prints everything in full.
func TestInboxTable(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedInbox(t, stateDir)
	code, stdout, stderr := invoke(t, now, "inbox", "--config", cfg, "--since", "2026-11-01")
	if code != exitOK {
		t.Fatalf("inbox: exit %d, %s", code, stderr)
	}
	for _, id := range []string{"R1", "R2", "U1", "U2"} {
		if !strings.Contains(stdout, "  "+id+"  ") {
			t.Errorf("inbox lacks id %s:\n%s", id, stdout)
		}
	}
	var why []string
	for _, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		if w := view.TextWidth(line); w > inboxWidth {
			t.Errorf("inbox line of %d columns, want at most %d: %q", w, inboxWidth, line)
		}
		if strings.HasPrefix(line, "    ") {
			why = append(why, strings.TrimSpace(line))
		}
	}
	if got, want := strings.Join(why, " "), "unmatched: no In-Reply-To or References we know, no probe token in the addresses, subject or body, and no ticket key learned from acme-cloud before; it came from a personal address unmatched: no evidence"; got != want {
		t.Errorf("wrapped reasons read %q, want %q", got, want)
	}
	if !strings.Contains(stdout, "  Dana Schön from the A…  ") {
		t.Errorf("inbox shows the sender's name encoded, want it decoded:\n%s", stdout)
	}

	_, stdout, _ = invoke(t, now, "inbox", "--config", cfg, "--since", "2026-11-01", "--wide")
	for _, want := range []string{
		"Dana Schön from the Acme Cloud Enterprise Support Team <dana.schoen@acme.example>",
		"Re: your question about the streams that fail in eu-west-1 since this morning, and the invoice",
		"    unmatched: no In-Reply-To or References we know, no probe token in the addresses, subject or body, and no ticket key learned from acme-cloud before; it came from a personal address\n",
		"    kind: human: 120 chars of new text\n",
		"    kind: ack wording: \"we have received your request\"\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inbox --wide lacks %q:\n%s", want, stdout)
		}
	}
}

// TestIDsAnyCaseAndLinkByInboxID runs show, mark, export and link with ids typed in
// lower case, links by the U and R ids inbox shows (directly on the file, then through
// the daemon), and checks that a missing record is named once as not found.
func TestIDsAnyCaseAndLinkByInboxID(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedInbox(t, stateDir)
	if code, stdout, stderr := invoke(t, now, "show", "--config", cfg, "p1"); code != exitOK || !strings.Contains(stdout, "Probe               P1") {
		t.Errorf("show p1: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := invoke(t, now, "mark", "--config", cfg, "r1", "auto_ack"); code != exitOK || !strings.Contains(stdout, "R1 of probe P1 is now auto_ack") {
		t.Errorf("mark r1: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "p1", "--out", t.TempDir()+"/p1.zip"); code != exitOK {
		t.Errorf("export --probe p1: exit %d, %s", code, stderr)
	}
	// U2 has no Message-ID: only its id can name it.
	code, stdout, stderr := invoke(t, now, "link", "--config", cfg, "u2", "p2")
	if code != exitOK || !strings.HasPrefix(stdout, "U2 is now reply R3 of probe P2 (human)") {
		t.Fatalf("link u2 p2: exit %d\n%s%s", code, stdout, stderr)
	}

	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	startDaemon(t, cfg, stateDir, "--no-schedules")
	code, stdout, stderr = invoke(t, now, "link", "--config", cfg, "U1", "p2")
	if code != exitOK || !strings.HasPrefix(stdout, "U1 <lost@acme.example> is now reply R4 of probe P2 (human)") {
		t.Fatalf("link U1 P2 through the daemon: exit %d\n%s%s", code, stdout, stderr)
	}
	// A reply moves by its id too.
	code, stdout, stderr = invoke(t, now, "link", "--config", cfg, "r4", "P1")
	if code != exitOK || !strings.HasPrefix(stdout, "R4 <lost@acme.example> is now reply R5 of probe P1") {
		t.Fatalf("link r4 P1 through the daemon: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stdout, _ := invoke(t, now, "show", "--config", cfg, "p1"); !strings.Contains(stdout, "linked here: reply R4 of probe P2, now reply R5 of probe P1") {
		t.Errorf("show p1 lacks the link from R4:\n%s", stdout)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"show", "p99"}, "probe P99: not found (list the probes with `supportprobe history`)"},
		{[]string{"mark", "r99", "human"}, "reply R99: set kind human: not found"},
		{[]string{"link", "u9", "p1"}, "unmatched mail U9: not found (see `supportprobe inbox --unmatched`)"},
		{[]string{"link", "<nobody@acme.example>", "p1"}, "message <nobody@acme.example>: not found"},
		{[]string{"link", "u1", "p99"}, "not found"},
	} {
		code, _, stderr := invoke(t, now, append([]string{tc.args[0], "--config", cfg}, tc.args[1:]...)...)
		if code != exitNotFound || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "not found") != 1 {
			t.Errorf("%v through the daemon: exit %d, stderr %q; want %d, %q, and \"not found\" once", tc.args, code, stderr, exitNotFound, tc.want)
		}
	}
}

// TestReportPeriods checks the period report picks from its flags and names in its
// header, and that an unknown vendor is an error naming the known ones.
func TestReportPeriods(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	tests := []struct {
		name         string
		args         []string
		title, since string // the header's first line, and the Period line's start
		until        string
	}{
		{"none: the last 7 days", nil, "Last 7 days (Sat 21 Nov 12:00 to now, Sat 28 Nov 2026 12:00 UTC)", "2026-11-21 12:00 UTC", "2026-11-28 12:00 UTC"},
		{"since alone: to now", []string{"--since", "2026-11-24"}, "Tue 24 Nov 2026 00:00 UTC to now (Sat 28 Nov 2026 12:00 UTC)", "2026-11-24 00:00 UTC", "2026-11-28 12:00 UTC"},
		{"this week so far", []string{"--week", "this"}, "Week 2026-W48 so far (Mon 23 Nov – now, Sat 28 Nov 2026 12:00 UTC)", "2026-11-23 00:00 UTC", "2026-11-28 12:00 UTC"},
		{"a past week", []string{"--week", "2026-W47"}, "Week 2026-W47 (Mon 16 Nov – Sun 22 Nov 2026, UTC)", "2026-11-16 00:00 UTC", "2026-11-23 00:00 UTC"},
		{"since and until", []string{"--since", "2026-11-01", "--until", "2026-12-01"}, "Sun 1 Nov 2026 00:00 UTC to Tue 1 Dec 2026 00:00 UTC", "2026-11-01 00:00 UTC", "2026-12-01 00:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := invoke(t, now, append([]string{"report", "--config", cfg}, tt.args...)...)
			if code != exitOK {
				t.Fatalf("report %v: exit %d, %s", tt.args, code, stderr)
			}
			lines := strings.Split(stdout, "\n")
			if lines[0] != tt.title {
				t.Errorf("report %v: header %q, want %q", tt.args, lines[0], tt.title)
			}
			if want := "Period    " + tt.since + " to " + tt.until; !strings.Contains(stdout, want+"\n") {
				t.Errorf("report %v lacks %q:\n%s", tt.args, want, stdout)
			}
		})
	}
	// The seeded probes were created on 24 Nov: in the last 7 days, not in W47.
	_, stdout, _ := invoke(t, now, "report", "--config", cfg)
	if !strings.Contains(stdout, "Probes    3:") {
		t.Errorf("report of the last 7 days does not count the 3 probes of 24 Nov:\n%s", stdout)
	}

	code, _, stderr := invoke(t, now, "report", "--config", cfg, "--vendor", "NOPE")
	if code != exitNotFound || !strings.Contains(stderr, `vendor "NOPE": not in the configuration`) || !strings.Contains(stderr, "known vendors: acme-cloud") {
		t.Errorf("report --vendor NOPE: exit %d, stderr %q; want %d naming acme-cloud", code, stderr, exitNotFound)
	}
	if code, _, stderr := invoke(t, now, "report", "--config", cfg, "--vendor", "acme-cloud"); code != exitOK {
		t.Errorf("report --vendor acme-cloud: exit %d, %s", code, stderr)
	}
}

// TestReportEmailWeek checks which week `report --email` mails: without a period the
// last full week, refused (nothing sent) when it had no probes; the week so far only
// with --week this. No SMTP server listens, so a mail that would go out fails to connect:
// that proves the period was accepted.
func TestReportEmailWeek(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seed(t, stateDir)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	summary := "summary: {cron: \"0 9 * * MON\", timezone: UTC, to: [procurement@example.com]}\n"
	if err := os.WriteFile(cfg, append(data, summary...), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	// On 28 Nov the last full week is W47, before the seeded probes of 24 Nov.
	code, stdout, stderr := invoke(t, now, "report", "--config", cfg, "--email")
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "week 2026-W47 had no probes, so no summary was mailed") ||
		!strings.Contains(stderr, "--week 2026-W47") || !strings.Contains(stderr, "--week this") {
		t.Errorf("report --email with an empty last week: exit %d, stdout %q, stderr %q; want a refusal naming both ways on", code, stdout, stderr)
	}
	for _, args := range [][]string{{"--week", "this"}, {"--week", "2026-W47"}} {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, now: func() time.Time { return now }, getenv: os.Getenv,
			smtpBackoff: 10 * time.Millisecond, smtpRetryWindow: 50 * time.Millisecond}
		code = e.run(context.Background(), append([]string{"report", "--config", cfg, "--email"}, args...))
		stderr = errb.String()
		if code != exitFailure || strings.Contains(stderr, "no summary was mailed") || !strings.Contains(stderr, "127.0.0.1") {
			t.Errorf("report --email %v: exit %d, stderr %q; want an attempt to reach the SMTP server", args, code, stderr)
		}
	}
	if !strings.Contains(stderr, "note: Week 2026-W47") || !strings.Contains(stderr, "has no probes; the summary mailed says so") {
		t.Errorf("report --email --week 2026-W47 (empty) does not say the week is empty: %q", stderr)
	}
}

// TestExportOverwriteAndRezip checks that export keeps an existing archive unless
// --force, and that --verify passes an archive unzipped and zipped again by hand (with
// the directory entries zip -r adds) and still fails one with a changed file.
func TestExportOverwriteAndRezip(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	seedExport(t, stateDir)
	dir := t.TempDir()
	out := filepath.Join(dir, "p1.zip")
	if code, _, stderr := invoke(t, now, "export", "--config", cfg, "--probe", "P1", "--out", out); code != exitOK {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour) // a second archive would differ: generated_at
	code, stdout, stderr := invoke(t, later, "export", "--config", cfg, "--probe", "P1", "--out", out)
	if after, _ := os.ReadFile(out); code != exitUsage || stdout != "" || !strings.Contains(stderr, out+" exists; nothing written") ||
		!strings.Contains(stderr, "--force") || !bytes.Equal(after, before) {
		t.Errorf("export over an existing file: exit %d, stderr %q, file changed %v; want %d, the file kept, --force named",
			code, stderr, !bytes.Equal(after, before), exitUsage)
	}
	if code, stdout, stderr := invoke(t, later, "export", "--config", cfg, "--probe", "P1", "--out", out, "--force"); code != exitOK ||
		!strings.Contains(stdout, "wrote "+out+": 1 probe, 3 messages") {
		t.Fatalf("export --force: exit %d, %s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(out); bytes.Equal(after, before) {
		t.Error("export --force left the old archive in place")
	}

	// Unzip, then zip again with a directory entry before each folder's files, as zip -r
	// does (with the zip tool when the machine has it, else with archive/zip).
	files := readZip(t, out)
	unz := filepath.Join(dir, "unzipped")
	for name, data := range files {
		p := filepath.Join(unz, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rezipped := filepath.Join(dir, "rezipped.zip")
	if zipTool, err := exec.LookPath("zip"); err == nil {
		cmd := exec.Command(zipTool, "-q", "-r", rezipped, ".")
		cmd.Dir = unz
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("zip -r: %v\n%s", err, b)
		}
	} else {
		writeZipWithDirs(t, rezipped, files)
	}
	var dirs int
	zr, err := zip.OpenReader(rezipped)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			dirs++
		}
	}
	zr.Close()
	if dirs == 0 {
		t.Fatalf("the re-zipped archive has no directory entries; the test proves nothing")
	}
	code, stdout, stderr = invoke(t, now, "export", "--verify", rezipped)
	if code != exitOK || !strings.Contains(stdout, "OK: 7 files match manifest.json") || !strings.Contains(stdout, "; 1 probe (") {
		t.Errorf("verify of a re-zipped archive with %d directory entries: exit %d\n%s%s", dirs, code, stdout, stderr)
	}
	// A changed file is still caught in a re-zipped archive.
	changed := filepath.Join(dir, "changed.zip")
	files["P1/inquiry.eml"] = append(files["P1/inquiry.eml"], '!')
	writeZipWithDirs(t, changed, files)
	code, _, stderr = invoke(t, now, "export", "--verify", changed)
	if code != exitFailure || !strings.Contains(stderr, "P1/inquiry.eml: SHA-256 mismatch") || !strings.Contains(stderr, "(1 problem, 6 files intact)") {
		t.Errorf("verify of a re-zipped archive with a changed file: exit %d, %s", code, stderr)
	}
}

// writeZipWithDirs writes files to path as zip -r would: a directory entry before the
// files of each folder.
func writeZipWithDirs(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	names := slices.Sorted(maps.Keys(files))
	made := map[string]bool{}
	for _, name := range names {
		if d, _, ok := strings.Cut(name, "/"); ok && !made[d] {
			made[d] = true
			if _, err := zw.Create(d + "/"); err != nil {
				t.Fatal(err)
			}
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(files[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLatencyOneRounding records a person's answer 1h29m40s (on our clock) after the
// inquiry and checks that history, show and report all print it "1h30m" (rounded half
// up to the minute, never truncated to "1h29m"), and that show and the history table
// give the vendor's wall clock beside UTC.
func TestLatencyOneRounding(t *testing.T) {
	cfg, stateDir := mustConfig(t)
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: probe.P1, Language: "en",
		To: []string{"support@acme.example"}, Subject: "Streams failing", CreatedAt: sentAt, SentAt: sentAt,
		State: probe.StateSent, MessageID: "P1.x@example.com", Token: "K7Q2", ClockSkew: 2 * time.Second, SkewMeasured: true,
		Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "America/Los_Angeles", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"},
			SLA: &probe.SLATarget{FirstResponse: 2 * time.Hour, Clock: probe.Calendar}, Deadline: 72 * time.Hour}}
	if p, err = db.CreateProbe(p); err != nil {
		t.Fatal(err)
	}
	// The server's clock is 2 s ahead: it stamps 1h29m42s, which is 1h29m40s on ours.
	if _, err := db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "hum@acme.example", ReceivedAt: sentAt.Add(time.Hour + 29*time.Minute + 42*time.Second),
		From: "Dana <dana@acme.example>", Subject: "Re: Streams failing", Kind: probe.KindHuman, MatchedBy: probe.RungMessageID, Reason: "new text"}, []byte("raw")); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, hist, _ := invoke(t, now, "history", "--config", cfg)
	_, show, _ := invoke(t, now, "show", "--config", cfg, "P1")
	_, rep, _ := invoke(t, now, "report", "--config", cfg)
	for name, out := range map[string]string{"history": hist, "show": show, "report": rep} {
		if !strings.Contains(out, "1h30m") || strings.Contains(out, "1h29m") {
			t.Errorf("%s does not print the latency as 1h30m:\n%s", name, out)
		}
	}
	for _, want := range []string{
		"Sent                2026-11-24T11:00:00Z (Tue 24 Nov 03:00 PST)",
		"First response      2026-11-24T12:29:42Z (Tue 24 Nov 04:29 PST), after 1h30m",
		"+1h30m  matched by message_id",
		"Thread (1 reply, 0 follow-ups)",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if !strings.Contains(hist, "2026-11-24 11:00*  Tue 03:00 PST") {
		t.Errorf("history table lacks the vendor's time beside UTC:\n%s", hist)
	}
}
