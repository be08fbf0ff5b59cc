package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// idleBenchWindowEnv sets BenchmarkDaemonIdle's quiet window, a Go duration; default
// 5 minutes (supportprobe-bench's -idle-window sets it). The window must be long enough to
// hold the timers that fire rarely: the Go runtime forces a GC every 2 minutes whatever
// the program does, so a window under 2 minutes can miss even that.
const idleBenchWindowEnv = "SUPPORTPROBE_IDLE_BENCH_WINDOW"

// idleBenchStderrEnv names a file that receives a copy of the measured daemon's
// standard error (its log), for looking into what it did while idle, for example with
// GODEBUG=gctrace=1 set, which the daemon inherits.
const idleBenchStderrEnv = "SUPPORTPROBE_IDLE_BENCH_STDERR"

// idleBenchTraceEnv, set to 1, makes BenchmarkDaemonIdle read the daemon's context
// switches every second of the window too, and log each second in which some happened
// (from the measuring process, which does not wake the daemon): when the wake-ups come
// tells which timer they belong to.
const idleBenchTraceEnv = "SUPPORTPROBE_IDLE_BENCH_TRACE"

// defaultIdleWindow is BenchmarkDaemonIdle's window without idleBenchWindowEnv.
const defaultIdleWindow = 5 * time.Minute

// idleSettle is how long both processes run before the window opens: the daemon's start
// (first sync of every folder, its recheck a second later, the first alert and
// follow-up passes) is work, not idling.
const idleSettle = 10 * time.Second

// idleBaselineSource is the baseline program: what any Go daemon that waits for SIGTERM
// costs when it does nothing, the Go runtime's own idle cost.
const idleBaselineSource = `package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	<-c
}
`

// BenchmarkDaemonIdle measures what the supportprobe daemon costs when nothing happens,
// against a minimal Go program that only blocks, measured side by side in the same run.
//
// It builds both with `go build -o` into a temporary directory (the same go command,
// the same flags), so the daemon measured is the binary users run, not this test binary.
// It runs `supportprobe run` with 50 vendors, each probed weekly at 03:00 on a weekday in
// its own zone (nothing fires during the measurement), with follow-ups and a weekly
// summary configured, over 60 days of history (6,000 probes), against a mail world whose
// IMAP server the daemon reaches over TCP on 127.0.0.1, through a proxy that counts the
// commands it sends: the in-process memory world, or Postfix and Dovecot when
// SUPPORTPROBE_REAL_MAIL=1. Beside it runs the baseline program.
//
// After idleSettle it reads, for each process at the start and at the end of the window
// (5 minutes, or $SUPPORTPROBE_IDLE_BENCH_WINDOW): the voluntary and involuntary context
// switches of all its threads (/proc/PID/task/*/status), and its anonymous memory
// (/proc/PID/smaps_rollup, Anonymous: Go heap, stacks and runtime, not file pages). It
// reports wakeups/s (context switches per second over the window) beside
// baseline-wakeups/s, anon-start-MB and anon-end-MB beside baseline-anon-end-MB, and
// rss-MB, db-mmap-MB (database pages mapped, which a warm page cache inflates),
// imap-cmds/s and window-s.
//
// A context switch is not a wake-up: after each wake-up the Go runtime's sysmon thread
// spins down through a few dozen short sleeps, so one timer can show as 50 or more
// switches; the baseline shows the runtime's own floor, chiefly its forced GC every
// 2 minutes. Run it as
//
//	go test -run '^$' -bench DaemonIdle -benchtime 1x -timeout 30m ./cmd/supportprobe/
//
// or through `go run ./cmd/supportprobe-bench -only idle`, which sets the window from its
// -idle-window flag.
func BenchmarkDaemonIdle(b *testing.B) {
	window := defaultIdleWindow
	if s := os.Getenv(idleBenchWindowEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("%s=%q: want a positive Go duration such as 5m", idleBenchWindowEnv, s)
		}
		window = d
	}
	var w mailworld.World
	if os.Getenv(mailworldtest.EnvRequireReal) == "1" {
		w = mailworldtest.Real(b, linUser, supportUser)
	} else {
		w = mailworldtest.Memory(b, linUser, supportUser)
	}
	b.ResetTimer()
	res := measureIdle(b, w, window, idleHistoryDays)
	b.StopTimer()

	b.ReportMetric(res.window.Seconds(), "window-s")
	b.ReportMetric(res.daemon.wakeups(res.window), "wakeups/s")
	b.ReportMetric(res.baseline.wakeups(res.window), "baseline-wakeups/s")
	b.ReportMetric(res.daemon.start.anonKB/1024, "anon-start-MB")
	b.ReportMetric(res.daemon.end.anonKB/1024, "anon-end-MB")
	b.ReportMetric(res.baseline.start.anonKB/1024, "baseline-anon-start-MB")
	b.ReportMetric(res.baseline.end.anonKB/1024, "baseline-anon-end-MB")
	b.ReportMetric(res.daemon.end.rssKB/1024, "rss-MB")
	b.ReportMetric(res.baseline.end.rssKB/1024, "baseline-rss-MB")
	b.ReportMetric(res.dbMmapKB/1024, "db-mmap-MB")
	b.ReportMetric(float64(res.imapCommands)/res.window.Seconds(), "imap-cmds/s")
	b.Log(res.String())
	if strings.Contains(res.logs, "level=ERROR") {
		b.Errorf("the daemon logged errors while idle:\n%s", res.logs)
	}
}

// TestIdleMeasurement runs BenchmarkDaemonIdle's machinery over a 2-second window: both
// programs are built and run, the daemon reaches the IMAP server over TCP, and every
// figure is read from /proc for both processes at both ends of the window. It checks the
// readings, not their values: two seconds say nothing about an idle rate.
func TestIdleMeasurement(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the supportprobe binary and runs it for about 15 s")
	}
	if _, err := os.Stat("/proc/self/smaps_rollup"); err != nil {
		t.Skipf("no /proc/self/smaps_rollup here (%v): the idle measurement needs Linux 4.14 or later", err)
	}
	w := mailworldtest.Memory(t, linUser, supportUser)
	// Two days of history, not the benchmark's sixty: this checks the machinery, and
	// writing 6,000 probes under the race detector takes minutes.
	res := measureIdle(t, w, 2*time.Second, 2)
	t.Log(res.String())
	if res.window < 2*time.Second {
		t.Errorf("window = %v, want at least the 2 s asked for", res.window)
	}
	for _, p := range []struct {
		name string
		s    idleProcess
	}{{"daemon", res.daemon}, {"baseline", res.baseline}} {
		switch {
		case p.s.end.threads < 1:
			t.Errorf("%s: %d threads read from /proc/%d/task, want at least 1", p.name, p.s.end.threads, p.s.pid)
		case p.s.start.switches <= 0:
			t.Errorf("%s: %d context switches at the start, want some (starting a process switches)", p.name, p.s.start.switches)
		case p.s.end.switches < p.s.start.switches:
			t.Errorf("%s: context switches fell from %d to %d: threads were lost from the sum", p.name, p.s.start.switches, p.s.end.switches)
		case p.s.start.anonKB <= 0 || p.s.end.anonKB <= 0:
			t.Errorf("%s: anonymous memory %v kB then %v kB, want both above 0", p.name, p.s.start.anonKB, p.s.end.anonKB)
		}
	}
	if res.imapConns < 1 || res.imapTotal < 1 {
		t.Errorf("the daemon made %d IMAP connections and %d commands through the proxy, want its watcher's", res.imapConns, res.imapTotal)
	}
	if res.dbMmapKB <= 0 {
		t.Errorf("database pages mapped = %v kB, want the daemon's database mapped", res.dbMmapKB)
	}
	if strings.Contains(res.logs, "level=ERROR") {
		t.Errorf("the daemon logged errors:\n%s", res.logs)
	}
}

// TestProcReadings checks the parsers of /proc's status and smaps_rollup files on
// copies of real ones.
func TestProcReadings(t *testing.T) {
	status := "Name:\tsupportprobe\nState:\tS (sleeping)\nVmRSS:\t   14236 kB\nThreads:\t7\nvoluntary_ctxt_switches:\t123\nnonvoluntary_ctxt_switches:\t4\n"
	rollup := "00400000-7ffd1c5fb000 ---p 00000000 00:00 0                          [rollup]\nRss:               14236 kB\nPss:               13210 kB\nAnonymous:          6712 kB\nSwap:                  0 kB\n"
	for _, c := range []struct {
		name, field, data string
		want              float64
	}{
		{"voluntary", "voluntary_ctxt_switches", status, 123},
		{"involuntary", "nonvoluntary_ctxt_switches", status, 4},
		{"rss", "VmRSS", status, 14236},
		{"anonymous", "Anonymous", rollup, 6712},
		{"missing", "RssShmem", status, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := statusField([]byte(c.data), c.field); got != c.want {
				t.Errorf("statusField(%s) = %v, want %v", c.field, got, c.want)
			}
		})
	}
}

// idleResult is one run of measureIdle.
type idleResult struct {
	window           time.Duration
	daemon, baseline idleProcess
	dbMmapKB         float64
	imapCommands     int64 // over the window
	imapTotal        int64 // since the daemon started
	imapConns        int64
	logs             string // the daemon's log
}

// idleProcess is one measured process: its readings at both ends of the window.
type idleProcess struct {
	pid        int
	start, end procReading
}

// wakeups is the context switches per second over window.
func (p idleProcess) wakeups(window time.Duration) float64 {
	return float64(p.end.switches-p.start.switches) / window.Seconds()
}

// procReading is what /proc says about a process at one instant.
type procReading struct {
	switches int64   // voluntary and involuntary, all threads
	threads  int     // threads summed
	anonKB   float64 // smaps_rollup Anonymous
	rssKB    float64 // status VmRSS
}

func (r idleResult) String() string {
	ratio := func(a, b float64) string {
		if b <= 0 {
			return "no ratio: the baseline is 0"
		}
		return fmt.Sprintf("%.1f×", a/b)
	}
	dw, bw := r.daemon.wakeups(r.window), r.baseline.wakeups(r.window)
	return fmt.Sprintf("over %.0f s: context switches/s: daemon %.3f (%d switches, %d threads), baseline %.3f (%d switches, %d threads), ratio %s;\n"+
		"anonymous memory: daemon %.2f MB → %.2f MB, baseline %.2f MB → %.2f MB, ratio at the end %s; RSS daemon %.1f MB (database pages %.1f MB), baseline %.1f MB;\n"+
		"IMAP: %d commands over the window, %d since the daemon started, on %d connections",
		r.window.Seconds(), dw, r.daemon.end.switches-r.daemon.start.switches, r.daemon.end.threads,
		bw, r.baseline.end.switches-r.baseline.start.switches, r.baseline.end.threads, ratio(dw, bw),
		r.daemon.start.anonKB/1024, r.daemon.end.anonKB/1024, r.baseline.start.anonKB/1024, r.baseline.end.anonKB/1024,
		ratio(r.daemon.end.anonKB, r.baseline.end.anonKB), r.daemon.end.rssKB/1024, r.dbMmapKB/1024, r.baseline.end.rssKB/1024,
		r.imapCommands, r.imapTotal, r.imapConns)
}

// measureIdle builds supportprobe and the baseline program, starts `supportprobe run`
// with 50 vendors against w and the baseline beside it, lets both settle, and reads both
// at the start and the end of window. Both processes are stopped when tb ends.
func measureIdle(tb testing.TB, w mailworld.World, window time.Duration, historyDays int) idleResult {
	tb.Helper()
	daemonBin, baselineBin := buildIdleBinaries(tb)
	imapProxy := startCountingProxy(tb, w.IMAPAddr())
	cfgPath, stateDir := mustIdleConfig(tb, w.SMTPAddr(), imapProxy.Addr())
	prefillIdleHistory(tb, stateDir, historyDays)

	var logs syncBuffer
	var dlog io.Writer = &logs
	if path := os.Getenv(idleBenchStderrEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			tb.Fatalf("%s: %v", idleBenchStderrEnv, err)
		}
		tb.Cleanup(func() { f.Close() })
		dlog = io.MultiWriter(&logs, f)
	}
	dmn := startIdleProcess(tb, daemonBin, dlog, "run", "--config", cfgPath)
	base := startIdleProcess(tb, baselineBin, io.Discard)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := daemon.Dial(context.Background(), stateDir)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the daemon did not answer on its control socket within 30 s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(idleSettle)

	res := idleResult{daemon: idleProcess{pid: dmn.Process.Pid}, baseline: idleProcess{pid: base.Process.Pid}}
	c0 := imapProxy.commands.Load()
	res.daemon.start, res.baseline.start = readProc(tb, dmn.Process.Pid), readProc(tb, base.Process.Pid)
	start := time.Now()
	if os.Getenv(idleBenchTraceEnv) == "1" {
		traceIdle(tb, dmn.Process.Pid, start, window, res.daemon.start.switches)
	} else {
		time.Sleep(window)
	}
	res.daemon.end, res.baseline.end = readProc(tb, dmn.Process.Pid), readProc(tb, base.Process.Pid)
	res.window = time.Since(start)
	res.imapTotal, res.imapConns = imapProxy.commands.Load(), imapProxy.conns.Load()
	res.imapCommands = res.imapTotal - c0
	res.dbMmapKB = mappingRSSKB(tb, dmn.Process.Pid, daemon.DatabasePath(stateDir))
	res.logs = logs.String()
	return res
}

// traceIdle reads pid's context switches every second until window has passed since
// start, and logs the seconds in which some happened, with the threads that switched.
func traceIdle(tb testing.TB, pid int, start time.Time, window time.Duration, prev int64) {
	tb.Helper()
	var lines []string
	for i := 1; time.Since(start) < window; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second)))
		r := readProc(tb, pid)
		if d := r.switches - prev; d > 0 {
			lines = append(lines, fmt.Sprintf("+%ds: %d", i, d))
		}
		prev = r.switches
	}
	tb.Logf("seconds of the window with context switches in the daemon: %s", strings.Join(lines, ", "))
}

// buildIdleBinaries builds supportprobe (this package) and the baseline program with the
// same go command and flags into a temporary directory.
func buildIdleBinaries(tb testing.TB) (daemonBin, baselineBin string) {
	tb.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("no go command on PATH to build the binaries measured: %v", err)
	}
	dir := tb.TempDir()
	daemonBin, baselineBin = filepath.Join(dir, "supportprobe"), filepath.Join(dir, "idle-baseline")
	src := filepath.Join(dir, "baseline")
	if err := os.Mkdir(src, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(idleBaselineSource), 0o644); err != nil {
		tb.Fatal(err)
	}
	for _, b := range []struct{ out, dir, pkg string }{
		{daemonBin, ".", "."},         // this package, from the test's working directory
		{baselineBin, src, "main.go"}, // a file outside any module: standard library only
	} {
		cmd := exec.Command(goCmd, "build", "-o", b.out, b.pkg)
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("go build -o %s %s (in %s): %v\n%s", b.out, b.pkg, b.dir, err, out)
		}
	}
	return daemonBin, baselineBin
}

// startIdleProcess starts bin with args; the end of tb stops it with SIGTERM and waits
// for it.
func startIdleProcess(tb testing.TB, bin string, stderr io.Writer, args ...string) *exec.Cmd {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			tb.Errorf("%s (pid %d) did not stop within 30 s of SIGTERM", filepath.Base(bin), cmd.Process.Pid)
		}
	})
	return cmd
}

// readProc reads pid's context switches (all threads), anonymous memory and RSS.
func readProc(tb testing.TB, pid int) procReading {
	tb.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		tb.Fatalf("threads of pid %d: none found in /proc/%d/task (%v): has it exited?", pid, pid, err)
	}
	var r procReading
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			continue // the thread exited
		}
		r.threads++
		for _, f := range []string{"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"} {
			r.switches += int64(statusField(data, f))
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatalf("read status of pid %d: %v", pid, err)
	}
	r.rssKB = statusField(status, "VmRSS")
	rollup, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		tb.Fatalf("read smaps_rollup of pid %d: %v", pid, err)
	}
	r.anonKB = statusField(rollup, "Anonymous")
	return r
}

// mappingRSSKB sums the Rss of pid's mappings of file, from /proc/PID/smaps.
func mappingRSSKB(tb testing.TB, pid int, file string) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		tb.Fatalf("read smaps of pid %d: %v", pid, err)
	}
	var kb float64
	in := false
	for line := range bytes.Lines(data) {
		f := strings.Fields(string(line))
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			in = len(f) >= 6 && f[5] == file // a mapping's header line
		case in && len(f) >= 2 && f[0] == "Rss:":
			v, _ := strconv.ParseFloat(f[1], 64)
			kb += v
		}
	}
	return kb
}

// statusField reads the number after "field:" in a /proc file of "name: value" lines
// (status, smaps_rollup); 0 when the field is missing.
func statusField(data []byte, field string) float64 {
	for line := range bytes.Lines(data) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		f := strings.Fields(string(value))
		if len(f) == 0 {
			return 0
		}
		v, _ := strconv.ParseFloat(f[0], 64)
		return v
	}
	return 0
}

// idleHistoryDays of history are in the database when the daemon starts: two probes a
// day for each vendor, as storetest makes them, so the daemon idles over a realistic
// file (its follow-up pass reads the last deadline's worth of probes).
const idleHistoryDays = 60

// prefillIdleHistory writes the history the idle daemon starts with. The follow-ups of
// every probe are recorded as skipped, so none falls due and is sent during the
// measurement.
func prefillIdleHistory(tb testing.TB, stateDir string, days int) {
	tb.Helper()
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	db.Bolt().NoSync = true
	g := storetest.NewGenerator(7, 50)
	n := days * 2 * 50
	step := time.Duration(days) * 24 * time.Hour / time.Duration(n)
	start := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	for k := range n {
		rec := g.Record("P"+strconv.Itoa(k+1), start.Add(time.Duration(k)*step))
		rec.Followups = nil
		rec.Probe.Followups = []probe.Followup{
			{Index: 0, Kind: probe.FollowupAfterResponse, State: probe.StateSkipped, Reason: "prefilled history"},
			{Index: 1, Kind: probe.FollowupReminder, State: probe.StateSkipped, Reason: "prefilled history"},
		}
		if err := storetest.Write(db, rec); err != nil {
			tb.Fatalf("prefill the idle daemon's database: %v", err)
		}
	}
	if err := db.Bolt().Sync(); err != nil {
		tb.Fatal(err)
	}
}

// idleVendor is one vendor of the idle configuration: it is probed weekly, at 03:00 on a
// weekday, in a zone of its own; %[1]d numbers it.
const idleVendor = `
  - name: vendor%02[1]d
    to: ["Support <support@vendor%02[1]d.example>"]
    timezone: %[2]s
    business_hours: {days: [mon, tue, wed, thu, fri], open: "09:00", close: "18:00"}
    sla: {P1: {first_response: 1h, clock: calendar}, P2: {first_response: 4h, clock: calendar}, P3: {first_response: 8h, clock: business}}
    deadline: 7d
    ticket_key: '\[#(\d+)\]'
    schedules:
      - {cron: "0 3 * * %[3]d", scripts: [p1-outage, p3-billing, p2-zh-latency, p4-howto], jitter: 20m}
    limits: {max_per_day: 2, max_per_week: 10, min_spacing: 2h}
`

const idleHeader = `state_dir: %[1]s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, username: lin.wei@example.com, password_file: %[4]s}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, username: lin.wei@example.com, password_file: %[4]s, sent_folder: Sent}
summary: {cron: "0 8 * * 1", timezone: Asia/Shanghai, to: ["lead@example.com"]}
scripts:
  - id: p1-outage
    language: en
    priority: P1
    subject: "Streams failing in {{.Region}} since {{.LocalTime.Format \"15:04\"}}"
    body: "Hello,\n\nnew streams in {{.Region}} fail to start. Could someone take a look?\n\nLin\n"
    vars: {Region: eu-west-1}
    followups:
      - {after_response: 10m, body: "Thanks, but it still fails for us. Could you check again?\n"}
      - {if_unanswered: 4h, body: "Hello again, any news on this?\n"}
  - {id: p3-billing, language: en, priority: P3, subject: "Question about last month's invoice", body: "Hello,\n\nI see the storage line item twice on our invoice. Could you check?\n"}
  - {id: p2-zh-latency, language: zh, priority: P2, subject: "推流延迟突然升高", body: "您好，\n\n上海节点的推流延迟明显升高，请帮忙看一下，谢谢。\n"}
  - {id: p4-howto, language: en, priority: P4, subject: "How do I rotate API keys without downtime?", body: "Hello,\n\ncan two API keys be active at the same time during a rotation?\n"}
vendors:`

var idleZones = []string{
	"America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
	"Europe/Moscow", "Asia/Dubai", "Asia/Kolkata", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
	"Pacific/Auckland",
}

// mustIdleConfig writes the 50-vendor configuration; weekdays are chosen so that no
// schedule fires within the next hour.
func mustIdleConfig(tb testing.TB, smtpAddr, imapAddr string) (cfgPath, stateDir string) {
	tb.Helper()
	dir := tb.TempDir()
	stateDir = filepath.Join(dir, "state")
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(linUser.Password+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	_, smtpPort, _ := net.SplitHostPort(smtpAddr)
	_, imapPort, _ := net.SplitHostPort(imapAddr)
	var cfg strings.Builder
	fmt.Fprintf(&cfg, idleHeader, stateDir, smtpPort, imapPort, pw)
	now := time.Now()
	for i := range 50 {
		zone := idleZones[i%len(idleZones)]
		loc, err := time.LoadLocation(zone)
		if err != nil {
			tb.Fatal(err)
		}
		// A weekday whose 03:00 is not within the next hour (nor the last: no catch-up).
		day := time.Weekday((int(now.In(loc).Weekday()) + 2 + i%3) % 7)
		fmt.Fprintf(&cfg, idleVendor, i+1, zone, int(day))
	}
	cfgPath = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	return cfgPath, stateDir
}

// countingProxy forwards connections to an IMAP server unchanged and counts them and
// the lines clients send (each a command, or the DONE that ends an IDLE).
type countingProxy struct {
	ln       net.Listener
	commands atomic.Int64
	conns    atomic.Int64
	wg       sync.WaitGroup
}

func startCountingProxy(tb testing.TB, target string) *countingProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	var mu sync.Mutex
	var open []net.Conn
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.conns.Add(1)
			mu.Lock()
			open = append(open, c, up)
			mu.Unlock()
			p.wg.Go(func() { io.Copy(c, up); c.Close() })
			p.wg.Go(func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					p.commands.Add(int64(bytes.Count(buf[:n], []byte("\n"))))
					if n > 0 {
						if _, werr := up.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				up.Close()
			})
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// Addr returns the proxy's address, "127.0.0.1:PORT".
func (p *countingProxy) Addr() string { return p.ln.Addr().String() }
