// Command supportprobe-bench runs supportprobe's performance benchmarks in one go and
// prints one table: each figure beside its baseline measured in the same run, the ratio,
// the target from issues 7 and 16, and whether it was met.
//
//	go run ./cmd/supportprobe-bench            # everything (real Dovecot needed for 1–2)
//	go run ./cmd/supportprobe-bench -only store,idle
//	go run ./cmd/supportprobe-bench -only idle -idle-window 10m
//
// It calls `go test -run '^$' -bench … -benchtime 1x` on the packages that hold the
// benchmarks (each benchmark repeats its own measurement enough times inside one b.N) and
// reads the custom metrics they report with b.ReportMetric. The IMAP benchmarks need
// Postfix and Dovecot installed and root (as in .ci/run); the command sets
// SUPPORTPROBE_REAL_MAIL=1 for them, and a benchmark that cannot run shows as skipped with
// its reason. Absolute times depend on the machine; the ratios are the figures to compare.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// suite is one `go test -bench` invocation.
type suite struct {
	name  string // for -only
	also  string // another name -only knows it by ("report": the weekly report alone)
	pkg   string
	bench string // -bench pattern
	env   []string
}

// idleWindowEnv carries -idle-window to BenchmarkDaemonIdle.
const idleWindowEnv = "SUPPORTPROBE_IDLE_BENCH_WINDOW"

var suites = []suite{
	{name: "imap", pkg: "./mailbox/", bench: "^(BenchmarkDetectionDelay|BenchmarkFirstSync)$", env: []string{"SUPPORTPROBE_REAL_MAIL=1"}},
	{name: "store", pkg: "./store/", bench: "^(BenchmarkStore1M|BenchmarkStoreDaemonWrites)$"},
	{name: "store", also: "report", pkg: "./probe/daemon/", bench: "^BenchmarkWeeklyReport$"},
	{name: "idle", pkg: "./cmd/supportprobe/", bench: "^BenchmarkDaemonIdle$"},
}

const usage = `usage: go run ./cmd/supportprobe-bench [-only imap,store,report,idle] [-idle-window 5m] [-v]

Runs supportprobe's benchmarks (issues 7 and 16) and prints each figure beside its
baseline, the ratio and the target. -idle-window is how long the idle daemon and the
minimal Go program beside it are watched (default 5m; under 2m can miss the Go runtime's
forced GC, which sets the baseline's floor). -v streams the go test output to stderr as it
runs.

Examples:
  go run ./cmd/supportprobe-bench
  go run ./cmd/supportprobe-bench -only store
  go run ./cmd/supportprobe-bench -only report     # the weekly report alone (part of store)
  go run ./cmd/supportprobe-bench -only idle -idle-window 10m
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("supportprobe-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	only := fs.String("only", "", "comma-separated suites to run: imap, store, idle (default all)")
	verbose := fs.Bool("v", false, "stream go test's output to stderr")
	idleWindow := fs.Duration("idle-window", 5*time.Minute, "how long the idle benchmark watches the daemon and the baseline")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "supportprobe-bench: unexpected argument %q; it takes only flags (see -h)\n", fs.Arg(0))
		return 2
	}
	if *idleWindow <= 0 {
		fmt.Fprintf(stderr, "supportprobe-bench: -idle-window %v: want a positive duration such as 5m\n", *idleWindow)
		return 2
	}
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
		for _, w := range want {
			if !slices.ContainsFunc(suites, func(s suite) bool { return s.name == w || s.also == w }) {
				fmt.Fprintf(stderr, "supportprobe-bench: unknown suite %q in -only; choose from imap, store, report, idle\n", w)
				return 2
			}
		}
	}
	res := newResults()
	failed := false
	for _, s := range suites {
		if want != nil && !slices.Contains(want, s.name) && (s.also == "" || !slices.Contains(want, s.also)) {
			continue
		}
		fmt.Fprintf(stderr, "== go test -run '^$' -bench '%s' -benchtime 1x %s\n", s.bench, s.pkg)
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", s.bench, "-benchtime", "1x", "-timeout", "60m", s.pkg)
		cmd.Env = append(os.Environ(), s.env...)
		if s.name == "idle" {
			cmd.Env = append(cmd.Env, idleWindowEnv+"="+idleWindow.String())
		}
		var out bytes.Buffer
		var w io.Writer = &out
		if *verbose {
			w = io.MultiWriter(&out, stderr)
		}
		cmd.Stdout, cmd.Stderr = w, w
		err := cmd.Run()
		parse(&out, res)
		if err != nil {
			failed = true
			fmt.Fprintf(stderr, "supportprobe-bench: %s failed: %v\n", s.pkg, err)
			if !*verbose {
				stderr.Write(out.Bytes())
			}
		}
	}
	printTable(stdout, rows(res))
	if failed {
		return 1
	}
	return 0
}

// results holds what the benchmarks reported: metrics by benchmark name (without the -N
// suffix) and unit, and the reason of each skipped benchmark.
type results struct {
	metrics map[string]map[string]float64
	skips   map[string]string
}

func newResults() results {
	return results{metrics: map[string]map[string]float64{}, skips: map[string]string{}}
}

// parse reads go test -bench output: result lines
// "BenchmarkX-2   1   123 ns/op   4.5 p99-ms ..." and "--- SKIP: BenchmarkX" blocks.
func parse(r io.Reader, res results) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	skipping := ""
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- SKIP: "); ok {
			skipping = strings.Fields(name)[0]
			res.skips[skipping] = ""
			continue
		}
		if skipping != "" && strings.HasPrefix(line, "    ") {
			if res.skips[skipping] == "" {
				reason := strings.TrimSpace(line)
				if _, after, ok := strings.Cut(reason, ": "); ok && strings.Contains(reason, ".go:") {
					reason = after
				}
				res.skips[skipping] = reason
			}
			continue
		}
		skipping = ""
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 && !strings.Contains(name[i:], "/") {
			name = name[:i]
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			var v float64
			if _, err := fmt.Sscanf(f[i], "%g", &v); err == nil {
				m[f[i+1]] = v
			}
		}
		res.metrics[name] = m
	}
}

// row is one line of the table.
type row struct {
	figure, ours, base, ratio, target, verdict string
}

// check describes one figure: where its value and baseline come from and what it must meet.
type check struct {
	figure       string
	bench        string
	unit, format string
	baseUnit     string                     // baseline metric, "" for none
	ratio        func(v, b float64) float64 // shown as "×"; nil for none
	target       string
	ok           func(v, b float64) bool
}

var checks = slices.Concat([]check{
	{figure: "1 detection p50 (IDLE)", bench: "BenchmarkDetectionDelay", unit: "p50-ms", format: "%.0f ms", baseUnit: "raw-p50-ms",
		ratio: func(v, b float64) float64 { return v / b }, target: "—", ok: nil},
	{figure: "1 detection p99 (IDLE)", bench: "BenchmarkDetectionDelay", unit: "p99-ms", format: "%.0f ms", baseUnit: "raw-p99-ms",
		ratio: func(v, b float64) float64 { return v / b }, target: "≤ 1000 ms, ≤ 1.5× raw",
		ok: func(v, b float64) bool { return v <= 1000 && v <= 1.5*b }},
}, firstSyncChecks("maildir", "", "maildir: server scans dir"), firstSyncChecks("sdbox", "sdbox-", ""), []check{
	{figure: "3 one vendor, 30 days", bench: "BenchmarkStore1M", unit: "vendor30d-ms", format: "%.1f ms",
		target: "≤ 50 ms", ok: func(v, _ float64) bool { return v <= 50 }},
	{figure: "3 database per probe", bench: "BenchmarkStore1M", unit: "bytes/probe", format: "%.0f B", baseUnit: "raw-bytes/probe",
		target: "≤ 2048 B", ok: func(v, _ float64) bool { return v <= 2048 }},
	{figure: "3 per probe, daemon's writes", bench: "BenchmarkStoreDaemonWrites", unit: "bytes/probe", format: "%.0f B", baseUnit: "before-bytes/probe",
		ratio: func(v, b float64) float64 { return v / b }, target: "≤ 3072 B (aim 2048 B)", ok: func(v, _ float64) bool { return v <= 3072 }},
	{figure: "3 raw copies, daemon's writes", bench: "BenchmarkStoreDaemonWrites", unit: "raw-bytes/probe", format: "%.0f B", baseUnit: "before-raw-bytes/probe",
		ratio: func(v, b float64) float64 { return v / b }, target: "(baseline: gzip alone)", ok: nil},
	{figure: "3 weekly report, 100k", bench: "BenchmarkWeeklyReport", unit: "report-100k-ms", format: "%.0f ms",
		target: "≤ 1000 ms", ok: func(v, _ float64) bool { return v <= 1000 }},
	{figure: "3 weekly report, CPU time", bench: "BenchmarkWeeklyReport", unit: "cpu-ms", format: "%.0f ms",
		target: "(both cores' time; the machine's load shows here)", ok: nil},
	{figure: "3 weekly read, both weeks", bench: "BenchmarkWeeklyReport", unit: "read-ms", format: "%.0f ms", baseUnit: "full-read-ms",
		ratio: func(v, b float64) float64 { return v / b }, target: "(baseline: every field decoded)", ok: nil},
	{figure: "4 idle wake-ups, 50 vendors", bench: "BenchmarkDaemonIdle", unit: "wakeups/s", format: "%.3f /s", baseUnit: "baseline-wakeups/s",
		ratio: func(v, b float64) float64 { return v / b }, target: "≤ 0.2 /s (context switches)",
		ok: func(v, _ float64) bool { return v <= 0.2 }},
	{figure: "4 idle anon, window start", bench: "BenchmarkDaemonIdle", unit: "anon-start-MB", format: "%.2f MB", baseUnit: "baseline-anon-start-MB",
		ratio: func(v, b float64) float64 { return v / b }, target: "≤ 10 MB",
		ok: func(v, _ float64) bool { return v <= 10 }},
	{figure: "4 idle anon, window end", bench: "BenchmarkDaemonIdle", unit: "anon-end-MB", format: "%.2f MB", baseUnit: "baseline-anon-end-MB",
		ratio: func(v, b float64) float64 { return v / b }, target: "≤ 10 MB",
		ok: func(v, _ float64) bool { return v <= 10 }},
	{figure: "4 idle RSS", bench: "BenchmarkDaemonIdle", unit: "rss-MB", format: "%.1f MB", baseUnit: "baseline-rss-MB",
		ratio: func(v, b float64) float64 { return v / b }, target: "(anon + executable + database pages)", ok: nil},
	{figure: "4 idle database pages", bench: "BenchmarkDaemonIdle", unit: "db-mmap-MB", format: "%.1f MB",
		target: "(page cache, in RSS)", ok: nil},
	{figure: "4 idle IMAP commands", bench: "BenchmarkDaemonIdle", unit: "imap-cmds/s", format: "%.4f /s",
		target: "(sweeps, rechecks)", ok: nil},
	{figure: "4 idle window", bench: "BenchmarkDaemonIdle", unit: "window-s", format: "%.0f s",
		target: "≥ 300 s", ok: func(v, _ float64) bool { return v >= 300 }},
})

// firstSyncChecks are benchmark 2's rows for one of BenchmarkFirstSync's Dovecot mail
// formats, whose metrics carry prefix. The issue sets its targets (20× below the naive
// client, flat from 10k to 50k) on the 50k inbox; at 10k the naive client takes so little
// (about 170 ms) that 20× would be below what Dovecot needs to greet and log in a new
// session (about 16 ms), so that row is for information. why, if not "", says in the
// target cells why this format cannot meet them; the verdict is kept all the same.
func firstSyncChecks(format, prefix, why string) []check {
	target := func(t string) string {
		if why == "" {
			return t
		}
		return t + " (" + why + ")"
	}
	speedup := func(v, b float64) float64 { return b / v }
	return []check{
		{figure: "2 first sync 10k, " + format, bench: "BenchmarkFirstSync", unit: prefix + "sync-10k-ms", format: "%.1f ms", baseUnit: prefix + "naive-10k-ms",
			ratio: speedup, target: "(20× is set at 50k)", ok: nil},
		{figure: "2 first sync 50k, " + format, bench: "BenchmarkFirstSync", unit: prefix + "sync-50k-ms", format: "%.1f ms", baseUnit: prefix + "naive-50k-ms",
			ratio: speedup, target: target("≥ 20× faster"), ok: func(v, b float64) bool { return b/v >= 20 }},
		{figure: "2 sync 50k vs 10k, " + format, bench: "BenchmarkFirstSync", unit: prefix + "sync-50k-ms", format: "%.1f ms", baseUnit: prefix + "sync-10k-ms",
			ratio: func(v, b float64) float64 { return v / b }, target: target("flat (≤ 1.5×)"), ok: func(v, b float64) bool { return v <= 1.5*b }},
		{figure: "2 sync vs floor 50k, " + format, bench: "BenchmarkFirstSync", unit: prefix + "sync-50k-ms", format: "%.1f ms", baseUnit: prefix + "floor-50k-ms",
			ratio: func(v, b float64) float64 { return v / b }, target: "(least any client pays)", ok: nil},
		{figure: "2 no mark 50k, " + format, bench: "BenchmarkFirstSync", unit: prefix + "search-50k-ms", format: "%.1f ms", baseUnit: prefix + "naive-50k-ms",
			ratio: speedup, target: "(fallback)", ok: nil},
	}
}

func rows(res results) []row {
	var out []row
	for _, c := range checks {
		r := row{figure: c.figure, target: c.target}
		m, ran := res.metrics[c.bench]
		v, has := m[c.unit]
		switch {
		case !ran:
			if reason, skipped := res.skips[c.bench]; skipped {
				r.ours, r.verdict = "skipped", reason
			} else {
				r.ours, r.verdict = "not run", ""
			}
			out = append(out, r)
			continue
		case !has:
			r.ours, r.verdict = "missing", "benchmark did not report "+c.unit
			out = append(out, r)
			continue
		}
		r.ours = fmt.Sprintf(c.format, v)
		b, hasBase := m[c.baseUnit]
		if c.baseUnit != "" && hasBase {
			if strings.HasPrefix(c.baseUnit, "raw-bytes") {
				r.base = fmt.Sprintf("%.0f B raw", b)
			} else {
				r.base = fmt.Sprintf(c.format, b)
			}
			if c.ratio != nil && b > 0 && v > 0 {
				r.ratio = fmt.Sprintf("%.2f×", c.ratio(v, b))
			}
		}
		switch {
		case c.ok == nil:
			r.verdict = "info"
		case c.baseUnit != "" && c.ratio != nil && !hasBase:
			r.verdict = "no baseline"
		case c.ok(v, b):
			r.verdict = "met"
		default:
			r.verdict = "MISSED"
		}
		out = append(out, r)
	}
	return out
}

func printTable(w io.Writer, rs []row) {
	head := row{"figure", "ours", "baseline", "ratio", "target", "verdict"}
	all := append([]row{head}, rs...)
	width := make([]int, 6)
	cells := func(r row) []string { return []string{r.figure, r.ours, r.base, r.ratio, r.target, r.verdict} }
	for _, r := range all {
		for i, c := range cells(r) {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	for n, r := range all {
		var b strings.Builder
		for i, c := range cells(r) {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c)
			if i < 5 {
				b.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			total := 10
			for _, x := range width {
				total += x
			}
			fmt.Fprintln(w, strings.Repeat("-", total))
		}
	}
}
