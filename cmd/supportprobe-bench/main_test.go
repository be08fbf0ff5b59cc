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
BenchmarkFirstSync-2        	       1	9000000000 ns/op	        12.00 sync-10k-ms	       140.0 naive-10k-ms	        13.00 sync-50k-ms	       700.0 naive-50k-ms	       243.0 search-50k-ms
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
		got[r.figure] = r
	}
	for _, tc := range []struct{ figure, ours, base, ratio, verdict string }{
		{"1 detection p99 (IDLE)", "549 ms", "530 ms", "1.04×", "met"},
		{"2 first sync, 50k inbox", "13.0 ms", "700.0 ms", "53.85×", "met"},
		{"2 first sync, 10k inbox", "12.0 ms", "140.0 ms", "11.67×", "MISSED"},
		{"2 first sync 50k vs 10k", "13.0 ms", "12.0 ms", "1.08×", "met"},
		{"3 one vendor, 30 days", "skipped", "", "", "no space for a 2 GB database"},
		{"3 weekly report, 100k", "1200 ms", "", "", "MISSED"},
		{"4 idle RSS, 50 vendors", "not run", "", "", ""},
	} {
		r := got[tc.figure]
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
}
