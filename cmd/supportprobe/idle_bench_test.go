package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// idleBenchChildEnv makes this test binary, re-executed by BenchmarkDaemonIdle, act as
// one of the two processes it measures instead of running tests (see init): "daemon"
// runs the supportprobe CLI with the command-line arguments, "baseline" only blocks
// until SIGTERM, so the Go runtime's own idle cost shows beside the daemon's.
const idleBenchChildEnv = "SUPPORTPROBE_IDLE_BENCH_CHILD"

// idleBenchBinaryEnv names a supportprobe executable (go build ./cmd/supportprobe) for
// BenchmarkDaemonIdle to run as the daemon instead of this test binary, which carries
// the test code and its dependencies too.
const idleBenchBinaryEnv = "SUPPORTPROBE_IDLE_BENCH_BINARY"

// idleBenchWindowEnv sets BenchmarkDaemonIdle's quiet window (a Go duration, default
// 20s); a window over 3m includes one IMAP safety sweep.
const idleBenchWindowEnv = "SUPPORTPROBE_IDLE_BENCH_WINDOW"

func init() {
	switch os.Getenv(idleBenchChildEnv) {
	case "daemon":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	case "baseline":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		<-ctx.Done()
		stop()
		os.Exit(0)
	}
}

// BenchmarkDaemonIdle starts `supportprobe run` as a separate process with 50 vendors,
// each probed weekly at 03:00 on a weekday in its own zone (nothing fires during the
// measurement), with follow-ups and a weekly summary configured, over 60 days of history
// (6,000 probes), against an in-process memory mail world, so the IMAP watcher sits in
// IDLE. Beside it runs a baseline: the same binary blocking on a channel, which is the
// executable's and the Go runtime's idle cost alone.
//
// After both settle (5 s) it reads VmRSS and VmHWM from /proc/PID/status and, over a
// quiet window (20 s, or $SUPPORTPROBE_IDLE_BENCH_WINDOW), counts wake-ups: the
// voluntary and involuntary context switches of all the process's threads
// (/proc/PID/task/*/status), per second, and the IMAP commands the daemon sent
// (through a counting proxy in front of the world's IMAP server). It reports rss-MB,
// hwm-MB, wakeups/s, imap-cmds/s, baseline-rss-MB and baseline-wakeups/s, and what the
// RSS is made of: anon-MB (the process's own memory) beside baseline-anon-MB, and
// db-mmap-MB (database pages mapped; the rest is the executable and libc).
//
// A context switch is not a wake-up: after each wake-up the Go runtime's sysmon thread
// spins down through a few dozen short sleeps, so one timer shows as 50 or more. The
// daemon's timers when idle: each schedule's next cron fire (one runtime timer for all),
// the watcher's safety sweep (every 3 minutes, a sync of every folder, then one more 1 s
// later), go-imap's 30 s write deadline, armed when IDLE starts and left to expire, the
// follow-up loop (asleep until the next known follow-up, a send or a reply, at most
// 15 minutes), and the runtime's forced GC every 2 minutes. Run it as
//
//	go test -run '^$' -bench DaemonIdle -benchtime 1x ./cmd/supportprobe/
//
// and, to include a safety sweep (every 3 minutes) in the window,
//
//	SUPPORTPROBE_IDLE_BENCH_WINDOW=200s go test -run '^$' -bench DaemonIdle -benchtime 1x -timeout 30m ./cmd/supportprobe/
//
// and, to measure the real executable rather than the test binary,
//
//	go build -o supportprobe.bin ./cmd/supportprobe
//	SUPPORTPROBE_IDLE_BENCH_BINARY=$PWD/supportprobe.bin go test -run '^$' -bench DaemonIdle -benchtime 1x ./cmd/supportprobe/
func BenchmarkDaemonIdle(b *testing.B) {
	window := 20 * time.Second
	if s := os.Getenv(idleBenchWindowEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			b.Fatalf("%s=%q: want a positive Go duration such as 200s", idleBenchWindowEnv, s)
		}
		window = d
	}
	w := mailworldtest.Memory(b, linUser, supportUser)
	imapProxy := startCountingProxy(b, w.IMAPAddr())
	cfgPath, stateDir := mustIdleConfig(b, w.SMTPAddr(), imapProxy.Addr())
	prefillIdleHistory(b, stateDir)

	var logs syncBuffer
	dmn := startIdleChild(b, "daemon", &logs, "run", "--config", cfgPath)
	base := startIdleChild(b, "baseline", io.Discard)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := daemon.Dial(context.Background(), stateDir)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("daemon did not come up within 20 s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(5 * time.Second) // settle: first sync done, IDLE entered

	b.ResetTimer()
	d0, b0, c0 := switches(b, dmn.Process.Pid), switches(b, base.Process.Pid), imapProxy.commands.Load()
	start := time.Now()
	time.Sleep(window)
	d1, b1, c1 := switches(b, dmn.Process.Pid), switches(b, base.Process.Pid), imapProxy.commands.Load()
	secs := time.Since(start).Seconds()
	b.StopTimer()

	rss, hwm := procStatusKB(b, dmn.Process.Pid, "VmRSS"), procStatusKB(b, dmn.Process.Pid, "VmHWM")
	baseRSS := procStatusKB(b, base.Process.Pid, "VmRSS")
	b.ReportMetric(rss/1024, "rss-MB")
	b.ReportMetric(hwm/1024, "hwm-MB")
	// What RSS is made of: the process's own memory (RssAnon: Go heap, stacks, runtime),
	// and file pages it maps: the executable, and the database, whose pages the kernel
	// maps 64 KB at a time from the page cache (fault-around), so a warm cache inflates it.
	b.ReportMetric(procStatusKB(b, dmn.Process.Pid, "RssAnon")/1024, "anon-MB")
	b.ReportMetric(mappingRSSKB(b, dmn.Process.Pid, daemon.DatabasePath(stateDir))/1024, "db-mmap-MB")
	b.ReportMetric(procStatusKB(b, base.Process.Pid, "RssAnon")/1024, "baseline-anon-MB")
	b.ReportMetric(float64(d1-d0)/secs, "wakeups/s")
	b.ReportMetric(float64(c1-c0)/secs, "imap-cmds/s")
	b.ReportMetric(baseRSS/1024, "baseline-rss-MB")
	b.ReportMetric(float64(b1-b0)/secs, "baseline-wakeups/s")
	b.Logf("over %.0f s: daemon %d context switches (%d threads, %d since start), baseline %d (%d threads, %d since start); IMAP commands %d (%d since start) on %d connections",
		secs, d1-d0, threads(dmn.Process.Pid), d1, b1-b0, threads(base.Process.Pid), b1, c1-c0, c1, imapProxy.conns.Load())
	if strings.Contains(logs.String(), "level=ERROR") {
		b.Errorf("the daemon logged errors while idle:\n%s", logs.String())
	}
}

// idleHistoryDays of history are in the database when the daemon starts: two probes a
// day for each vendor, as storetest makes them, so the daemon idles over a realistic
// file (its follow-up pass reads the last deadline's worth of probes).
const idleHistoryDays = 60

// prefillIdleHistory writes the history the idle daemon starts with. The follow-ups of
// every probe are recorded as skipped, so none falls due and is sent during the
// measurement.
func prefillIdleHistory(b *testing.B, stateDir string) {
	b.Helper()
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Bolt().NoSync = true
	g := storetest.NewGenerator(7, 50)
	n := idleHistoryDays * 2 * 50
	step := idleHistoryDays * 24 * time.Hour / time.Duration(n)
	start := time.Now().Add(-idleHistoryDays * 24 * time.Hour)
	for k := range n {
		rec := g.Record("P"+strconv.Itoa(k+1), start.Add(time.Duration(k)*step))
		rec.Followups = nil
		rec.Probe.Followups = []probe.Followup{
			{Index: 0, Kind: probe.FollowupAfterResponse, State: probe.StateSkipped, Reason: "prefilled history"},
			{Index: 1, Kind: probe.FollowupReminder, State: probe.StateSkipped, Reason: "prefilled history"},
		}
		if err := storetest.Write(db, rec); err != nil {
			b.Fatalf("prefill the idle daemon's database: %v", err)
		}
	}
	if err := db.Bolt().Sync(); err != nil {
		b.Fatal(err)
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
func mustIdleConfig(b *testing.B, smtpAddr, imapAddr string) (cfgPath, stateDir string) {
	b.Helper()
	dir := b.TempDir()
	stateDir = filepath.Join(dir, "state")
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(linUser.Password+"\n"), 0o600); err != nil {
		b.Fatal(err)
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
			b.Fatal(err)
		}
		// A weekday whose 03:00 is not within the next hour (nor the last: no catch-up).
		day := time.Weekday((int(now.In(loc).Weekday()) + 2 + i%3) % 7)
		fmt.Fprintf(&cfg, idleVendor, i+1, zone, int(day))
	}
	cfgPath = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return cfgPath, stateDir
}

// startIdleChild re-executes the test binary in mode (see idleBenchChildEnv) with args;
// the benchmark's end stops it with SIGTERM and waits for it.
func startIdleChild(b *testing.B, mode string, stderr io.Writer, args ...string) *exec.Cmd {
	b.Helper()
	exe := os.Args[0]
	if bin := os.Getenv(idleBenchBinaryEnv); bin != "" && mode == "daemon" {
		exe = bin
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), idleBenchChildEnv+"="+mode)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s child: %v", mode, err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			b.Errorf("%s child (pid %d) did not stop within 30 s of SIGTERM", mode, cmd.Process.Pid)
		}
	})
	return cmd
}

// switches sums the voluntary and involuntary context switches of every thread of pid.
func switches(b *testing.B, pid int) int64 {
	b.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(tasks) == 0 {
		b.Fatalf("threads of pid %d: %v (is /proc mounted?)", pid, err)
	}
	var n int64
	for _, t := range tasks {
		data, err := os.ReadFile(t)
		if err != nil {
			continue // the thread exited
		}
		for _, f := range []string{"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"} {
			n += int64(statusField(data, f))
		}
	}
	return n
}

func threads(pid int) int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	return len(tasks)
}

// procStatusKB reads a "kB" field such as VmRSS from /proc/PID/status.
func procStatusKB(b *testing.B, pid int, field string) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("read status of pid %d: %v", pid, err)
	}
	return statusField(data, field)
}

// mappingRSSKB sums the Rss of pid's mappings of file, from /proc/PID/smaps.
func mappingRSSKB(b *testing.B, pid int, file string) float64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		b.Fatalf("read smaps of pid %d: %v", pid, err)
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

func statusField(data []byte, field string) float64 {
	for line := range bytes.Lines(data) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || string(name) != field {
			continue
		}
		v, _ := strconv.ParseFloat(strings.Fields(string(value))[0], 64)
		return v
	}
	return 0
}

// countingProxy forwards connections to an IMAP server unchanged and counts them and
// the lines clients send (each a command, or the DONE that ends an IDLE).
type countingProxy struct {
	ln       net.Listener
	commands atomic.Int64
	conns    atomic.Int64
	wg       sync.WaitGroup
}

func startCountingProxy(b *testing.B, target string) *countingProxy {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
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
	b.Cleanup(func() {
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
