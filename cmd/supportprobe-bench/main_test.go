package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: supportprobe/mailbox
cpu: AMD EPYC
BenchmarkDetectionDelay-2   	       1	20000000000 ns/op	       507.2 p50-ms	       548.9 p99-ms	       501.0 raw-p50-ms	       530.1 raw-p99-ms
BenchmarkFirstSync-2        	       1	9000000000 ns/op	        40.00 sync-10k-ms	       170.0 naive-10k-ms	       110.0 sync-50k-ms	       100.0 floor-50k-ms	       700.0 naive-50k-ms	       200.0 search-50k-ms	        19.00 sdbox-sync-10k-ms	       166.0 sdbox-naive-10k-ms	        18.00 sdbox-sync-50k-ms	        14.00 sdbox-floor-50k-ms	       720.0 sdbox-naive-50k-ms	       130.0 sdbox-search-50k-ms
--- SKIP: BenchmarkStore1M
    bench_test.go:12: no space for a 2 GB database
BenchmarkWeeklyReport-2     	       1	 800000000 ns/op	      1200 report-100k-ms
PASS
`

func TestRowsFromOutput(t *testing.T) {
	res := newResults()
	parse(strings.NewReader(sample), res)
	got := map[string]row{}
	for _, r := range rows(res) {
		if _, dup := got[r.figure]; dup {
			t.Errorf("two rows are named %q", r.figure)
		}
		got[r.figure] = r
	}
	for _, tc := range []struct{ figure, ours, base, ratio, verdict string }{
		{"1 detection p99 (IDLE)", "549 ms", "530 ms", "1.04×", "met"},
		{"2 first sync 10k, maildir", "40.0 ms", "170.0 ms", "4.25×", "info"},
		{"2 first sync 50k, maildir", "110.0 ms", "700.0 ms", "6.36×", "MISSED"},
		{"2 sync 50k vs 10k, maildir", "110.0 ms", "40.0 ms", "2.75×", "MISSED"},
		{"2 sync vs floor 50k, maildir", "110.0 ms", "100.0 ms", "1.10×", "info"},
		{"2 first sync 50k, sdbox", "18.0 ms", "720.0 ms", "40.00×", "met"},
		{"2 sync 50k vs 10k, sdbox", "18.0 ms", "19.0 ms", "0.95×", "met"},
		{"2 no mark 50k, sdbox", "130.0 ms", "720.0 ms", "5.54×", "info"},
		{"3 one vendor, 30 days", "skipped", "", "", "no space for a 2 GB database"},
		{"3 weekly report, 100k", "1200 ms", "", "", "MISSED"},
		{"4 idle wake-ups, 50 vendors", "not run", "", "", ""},
	} {
		r, ok := got[tc.figure]
		if !ok {
			t.Errorf("no row named %q", tc.figure)
			continue
		}
		if r.ours != tc.ours || r.base != tc.base || r.ratio != tc.ratio || r.verdict != tc.verdict {
			t.Errorf("%s = %+v, want ours %q base %q ratio %q verdict %q", tc.figure, r, tc.ours, tc.base, tc.ratio, tc.verdict)
		}
	}
}

// idleSample is BenchmarkDaemonIdle's line from a run with a 2-minute window.
const idleSample = `pkg: supportprobe/cmd/supportprobe
BenchmarkDaemonIdle-2   	       1	120000000000 ns/op	       120.0 window-s	         0.1500 wakeups/s	         0.05000 baseline-wakeups/s	         6.000 anon-start-MB	        12.00 anon-end-MB	         0.6500 baseline-anon-start-MB	         0.6600 baseline-anon-end-MB	        40.00 rss-MB	         2.000 baseline-rss-MB	        20.00 db-mmap-MB	         0.01667 imap-cmds/s
`

// TestIdleRows: each idle figure is printed beside the baseline's from the same run, with
// the ratio, and judged against issue 16's targets; a window under 5 minutes is a miss.
func TestIdleRows(t *testing.T) {
	res := newResults()
	parse(strings.NewReader(idleSample), res)
	got := map[string]row{}
	for _, r := range rows(res) {
		got[r.figure] = r
	}
	for _, tc := range []struct{ figure, ours, base, ratio, verdict string }{
		{"4 idle wake-ups, 50 vendors", "0.150 /s", "0.050 /s", "3.00×", "met"},
		{"4 idle anon, window start", "6.00 MB", "0.65 MB", "9.23×", "met"},
		{"4 idle anon, window end", "12.00 MB", "0.66 MB", "18.18×", "MISSED"},
		{"4 idle RSS", "40.0 MB", "2.0 MB", "20.00×", "info"},
		{"4 idle database pages", "20.0 MB", "", "", "info"},
		{"4 idle IMAP commands", "0.0167 /s", "", "", "info"},
		{"4 idle window", "120 s", "", "", "MISSED"},
	} {
		r, ok := got[tc.figure]
		if !ok {
			t.Errorf("no row named %q", tc.figure)
			continue
		}
		if r.ours != tc.ours || r.base != tc.base || r.ratio != tc.ratio || r.verdict != tc.verdict {
			t.Errorf("%s = %+v, want ours %q base %q ratio %q verdict %q", tc.figure, r, tc.ours, tc.base, tc.ratio, tc.verdict)
		}
	}
}

func TestTableAligns(t *testing.T) {
	res := newResults()
	parse(strings.NewReader(sample), res)
	var b bytes.Buffer
	printTable(&b, rows(res))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != len(checks)+2 {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), len(checks)+2, b.String())
	}
	col := strings.Index(lines[0], "ours")
	for _, l := range lines[2:] {
		if r := []rune(l); len(r) < col || r[col-1] != ' ' || r[col-2] != ' ' {
			t.Errorf("column 'ours' not aligned at %d in %q", col, l)
		}
	}
}

func TestUnknownSuite(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"-only", "disk"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown suite "disk"`) {
		t.Errorf("run -only disk = %d, %q; want 2 and the suite named", code, errb.String())
	}
	errb.Reset()
	if code := run(t.Context(), []string{"-only", "idle", "-idle-window", "0s"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "-idle-window 0s") {
		t.Errorf("run -idle-window 0s = %d, %q; want 2 and the flag named", code, errb.String())
	}
}
