package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/mailbox/mailworld/vendorsim"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// Environment of the kill -9 tests.
const (
	// crashChildEnv set to 1 makes this test binary run the supportprobe CLI with its
	// command-line arguments instead of the tests (see init): the daemon the crash tests
	// kill is a separate process, so SIGKILL is real.
	crashChildEnv = "SUPPORTPROBE_CRASH_CHILD"
	// crashRoundsEnv sets how many times TestCrashKill9 kills the daemon in the memory
	// world (default 20; the real world gets a quarter, at least 5).
	crashRoundsEnv = "SUPPORTPROBE_CRASH_ROUNDS"
	// crashSeedEnv replays the kill points and send pacing of an earlier run.
	crashSeedEnv = "SUPPORTPROBE_CRASH_SEED"
)

func init() {
	if os.Getenv(crashChildEnv) != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// crashConfig probes acme-cloud every minute (so kills also land on cron fires and on
// their catch-up) through the fault proxy, and reads lin.wei's mailbox.
const crashConfig = `state_dir: %[1]s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, username: lin.wei@example.com, password_file: %[4]s, timeout: 10s}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, username: lin.wei@example.com, password_file: %[4]s, sent_folder: Sent}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing in {{.Region}}", body: "Hello,\nsince {{.LocalTime.Format \"15:04\"}} no stream in {{.Region}} starts.\n", vars: {Region: eu-west}}
vendors:
  - name: acme-cloud
    to: ["Acme Support <support@acme.example>"]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h, clock: calendar}}
    schedules:
      - {cron: "* * * * *", scripts: [outage-en]}
`

// mustCrashConfig writes crashConfig for a daemon that sends through smtpAddr and reads
// w's IMAP server.
func mustCrashConfig(t *testing.T, w mailworld.World, smtpAddr string) (cfgPath, stateDir string) {
	t.Helper()
	dir := t.TempDir()
	stateDir = filepath.Join(dir, "state")
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(linUser.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, smtpPort, _ := net.SplitHostPort(smtpAddr)
	_, imapPort, _ := net.SplitHostPort(w.IMAPAddr())
	cfgPath = filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, crashConfig, stateDir, smtpPort, imapPort, pw), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, stateDir
}

// crashChild is `supportprobe run` in a child process: this test binary re-executed
// with crashChildEnv set.
type crashChild struct {
	cmd  *exec.Cmd
	log  string // its stdout and stderr
	done chan struct{}
	err  error // cmd.Wait's, once done is closed
}

// startCrashChild starts the daemon on cfgPath, logging to logPath, and waits until it
// answers on its control socket.
func startCrashChild(t *testing.T, cfgPath, stateDir, logPath string) *crashChild {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "run", "--config", cfgPath, "--log-level", "debug")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start daemon process: %v", err)
	}
	c := &crashChild{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { c.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		dc, err := daemon.Dial(context.Background(), stateDir)
		if err == nil {
			dc.Close()
			return c
		}
		select {
		case <-c.done:
			t.Fatalf("daemon process exited before it answered on its socket: %v\n%s", c.err, tailOf(logPath, 40))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon process did not answer on its socket within 30 s: %v\n%s", err, tailOf(logPath, 40))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL to the child (by its pid) and waits for it to die.
func (c *crashChild) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Kill()
	<-c.done
}

// stop asks the child to shut down (SIGTERM) and returns its exit code.
func (c *crashChild) stop(t *testing.T) int {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.kill()
		t.Errorf("daemon process did not stop within 30 s of SIGTERM\n%s", tailOf(c.log, 40))
	}
	return c.cmd.ProcessState.ExitCode()
}

// tailOf returns the last n lines of the file at path, for failure messages.
func tailOf(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// vendorLog records what the simulated help desk sent, by Message-ID.
type vendorLog struct {
	mu   sync.Mutex
	sent map[string]vendorsim.Sent
}

func (l *vendorLog) add(s vendorsim.Sent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[store.NormalizeMessageID(s.MessageID)] = s
}

func (l *vendorLog) snapshot() map[string]vendorsim.Sent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]vendorsim.Sent, len(l.sent))
	for k, v := range l.sent {
		out[k] = v
	}
	return out
}

// startAcmeDesk runs a help desk on support@acme.example that acknowledges every
// inquiry after 1–2 s and has a person answer after 2–4 s, until the test ends.
func startAcmeDesk(t *testing.T, w mailworld.World) *vendorLog {
	t.Helper()
	log := &vendorLog{sent: map[string]vendorsim.Sent{}}
	v := &vendorsim.Vendor{
		Name: "acme", Address: supportUser.Address, Password: supportUser.Password,
		IMAPAddr: w.IMAPAddr(), SMTPAddr: w.SMTPAddr(), Poll: 100 * time.Millisecond, FirstTicket: 4000,
		Ack: &vendorsim.Message{
			// At least a second: INTERNALDATE has one-second resolution.
			After: time.Second, Jitter: time.Second, Auto: true,
			From:    "Acme Support <support@acme.example>",
			Subject: "[#{ticket}] Request received: {subject}",
			Body: "Hello,\n\nThank you for contacting Acme Support. We have received your request and a ticket\n" +
				"(#{ticket}) has been created. A member of our team will respond shortly.\n\nAcme Support\n",
		},
		Answer: &vendorsim.Message{
			After: 2 * time.Second, Jitter: 2 * time.Second,
			From:    "Dana Reyes <dana.reyes@acme.example>",
			Subject: "Re: [#{ticket}] {subject}",
			Body: "Hi {name},\n\nI looked at your account: an ingest node in that region was misconfigured after\n" +
				"this morning's deploy. I moved your streams to a healthy node; please try again and\n" +
				"tell me whether they start now.\n\nDana\nAcme Support\n",
		},
		Sent: log.add,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("help desk: %v", err)
		}
	})
	return log
}

// TestCrashKill9 kills the daemon with SIGKILL at random points while inquiries go out
// (sent by hand through its control socket, several at once, and by an every-minute
// schedule) and the help desk's replies arrive, restarting it each time; the SMTP
// server's answers are delayed at random, so kills often land between a probe's
// "sending" and "sent" records. After the last round the daemon runs until every reply
// is in, stops cleanly, and the test checks:
//
//   - the file passes bbolt's consistency check after every kill;
//   - every message in the inbox is recorded exactly once (as a reply: none may be
//     unmatched here), on the probe whose token and Message-ID it answers, with the kind
//     the help desk meant;
//   - no inquiry reached the vendor twice; every probe recorded as sent reached it
//     once; a probe a kill left "sending" became failed (no note of the end of DATA:
//     it must not have reached the vendor), sent or unknown, and was not re-sent;
//     nothing reached the vendor without a probe; failed probes never reached it;
//   - no unknown probe reached the vendor: the help desk's replies cite every inquiry,
//     and such a reply makes the probe sent at its data_end_at, marked inferred;
//   - latencies are non-negative and match the help desk's own send times.
//
// The seed is logged; a failure's kill points and send pacing are replayed with
// SUPPORTPROBE_CRASH_SEED=SEED. The default is 20 rounds in the memory world and 5 in
// the real one; the long variant is
//
//	SUPPORTPROBE_CRASH_ROUNDS=200 go test -race -run TestCrashKill9 -timeout 60m ./cmd/supportprobe
func TestCrashKill9(t *testing.T) {
	if os.Getenv(crashChildEnv) == "1" {
		t.Skip("running as the daemon's child process")
	}
	t.Parallel()
	rounds := 20
	if s := os.Getenv(crashRoundsEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of rounds", crashRoundsEnv, s)
		}
		rounds = n
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(crashSeedEnv); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want the unsigned number a failed run logged", crashSeedEnv, s)
		}
		seed = n
	}
	t.Logf("seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		crashRounds(t, mailworldtest.Memory(t, linUser, supportUser), rounds, seed)
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		crashRounds(t, mailworldtest.Real(t, linUser, supportUser), max(rounds/4, 5), seed+1)
	})
}

// sendOutcome is what one send through the control socket returned.
type sendOutcome struct {
	probeID string
	err     error
}

// crashStats counts what the kills hit.
type crashStats struct {
	roundsSending   int // a probe was in state sending at the kill
	probesSending   int
	roundsMidReply  int // a reply was recorded but the folder position not yet advanced
	sendsConfirmed  int
	sendsInterupted int
}

func crashRounds(t *testing.T, w mailworld.World, rounds int, seed uint64) {
	proxy := startFaultProxy(t, w.SMTPAddr())
	proxy.setDelay(150*time.Millisecond, seed)
	cfgPath, stateDir := mustCrashConfig(t, w, proxy.Addr())
	desk := startAcmeDesk(t, w)
	logDir := t.TempDir()
	rng := rand.New(rand.NewPCG(seed, seed>>1|1))
	dbPath := daemon.DatabasePath(stateDir)

	var (
		stats      crashStats
		outcomes   []sendOutcome
		wasSending = map[string]bool{} // probes a kill left in state sending
	)
	for round := 1; round <= rounds; round++ {
		child := startCrashChild(t, cfgPath, stateDir, filepath.Join(logDir, fmt.Sprintf("round-%03d.log", round)))
		c, err := daemon.Dial(context.Background(), stateDir)
		if err != nil {
			t.Fatalf("round %d: dial the daemon: %v", round, err)
		}
		// Three senders keep inquiries in flight until the kill; each pauses a random
		// 0–150 ms between sends.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range 3 {
			r := rand.New(rand.NewPCG(seed+uint64(round), uint64(i)))
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					p, err := c.Send(context.Background(), daemon.SendRequest{Vendor: "acme-cloud"})
					mu.Lock()
					outcomes = append(outcomes, sendOutcome{probeID: p.ID, err: err})
					mu.Unlock()
					if err != nil {
						return // the daemon is gone
					}
					time.Sleep(time.Duration(r.Int64N(int64(150 * time.Millisecond))))
				}
			})
		}
		// A third of the kills land in the first 200 ms, while the watcher works through
		// the replies that arrived during the downtime; the rest while sends are in flight.
		killAfter := time.Duration(rng.Int64N(int64(200 * time.Millisecond)))
		if rng.IntN(3) > 0 {
			killAfter = 200*time.Millisecond + time.Duration(rng.Int64N(int64(2*time.Second)))
		}
		time.Sleep(killAfter)
		child.kill()
		close(stop)
		wg.Wait()
		c.Close()

		// The file must be sound after every kill; what the kill interrupted is
		// counted while the daemon is down.
		db, err := store.Open(dbPath, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("round %d: open the database after kill -9: %v", round, err)
		}
		if err := db.Check(); err != nil {
			db.Close()
			t.Fatalf("round %d: bbolt check after kill -9: %v", round, err)
		}
		pending, err := db.PendingProbes()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pending {
			wasSending[p.ID] = true
		}
		midReply := 0
		if pos, ok, err := db.Mailbox("INBOX"); err != nil {
			t.Fatal(err)
		} else if ok {
			ps, err := db.Probes(store.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				for _, r := range p.Replies {
					if r.Folder == "INBOX" && r.UID > pos.LastUID {
						midReply++
					}
				}
			}
		}
		db.Close()
		if len(pending) > 0 {
			stats.roundsSending++
			stats.probesSending += len(pending)
		}
		if midReply > 0 {
			stats.roundsMidReply++
		}
		t.Logf("round %d: killed after %v: %d probes sending, %d replies recorded beyond the saved folder position",
			round, killAfter.Round(time.Millisecond), len(pending), midReply)
	}

	// The last start settles what the last kill interrupted; then every reply must come in.
	child := startCrashChild(t, cfgPath, stateDir, filepath.Join(logDir, "final.log"))
	c, err := daemon.Dial(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	// One send that no kill interrupts, so that some probe is surely answered and
	// measured even when, on a slow machine, every send of the rounds was cut short.
	p, err := c.Send(context.Background(), daemon.SendRequest{Vendor: "acme-cloud"})
	outcomes = append(outcomes, sendOutcome{probeID: p.ID, err: err})
	if err != nil {
		t.Fatalf("the final, uninterrupted send: %v\n%s", err, tailOf(child.log, 40))
	}
	var inquiries, inbox []delivered
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		inquiries = waitForMail(t, w, supportUser, 0, 0)
		inbox = waitForMail(t, w, linUser, 0, 0)
		ps, err := c.Probes(context.Background(), store.Filter{})
		if err != nil {
			t.Fatalf("history through the daemon: %v", err)
		}
		recorded := 0
		for _, p := range ps {
			recorded += len(p.Replies)
		}
		want := 2 * len(inquiries)
		if len(desk.snapshot()) == want && len(inbox) == want && recorded == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not quiet after 90 s: %d inquiries at the vendor, %d answers sent, %d in the inbox, %d recorded; want %d of each\n%s",
				len(inquiries), len(desk.snapshot()), len(inbox), recorded, want, tailOf(child.log, 40))
		}
	}
	c.Close()
	if code := child.stop(t); code != exitOK {
		t.Fatalf("daemon exited %d after SIGTERM, want 0\n%s", code, tailOf(child.log, 40))
	}
	checkChildLogs(t, logDir)

	for _, o := range outcomes {
		if o.err == nil {
			stats.sendsConfirmed++
		} else {
			stats.sendsInterupted++
		}
	}
	t.Logf("%d rounds: %d hit probes in state sending (%d probes), %d hit a reply mid-processing; "+
		"%d sends answered as sent, %d calls ended by a kill; %d inquiries reached the vendor, %d replies",
		rounds, stats.roundsSending, stats.probesSending, stats.roundsMidReply,
		stats.sendsConfirmed, stats.sendsInterupted, len(inquiries), len(inbox))

	db, err := store.Open(dbPath, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("bbolt check after the clean stop: %v", err)
	}
	ps, err := db.Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	unmatched, err := db.UnmatchedMail(time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkNoDuplicateInquiry(t, ps, inquiries, outcomes, wasSending)
	// The inquiry's bytes are stored before SMTP, so every probe that reached the vendor,
	// however a kill left it, can still show what was sent.
	for _, p := range ps {
		if p.MessageID == "" || !reachedVendor(inquiries, p.MessageID) {
			continue
		}
		if raw, err := db.InquiryRaw(p.ID); err != nil || !bytes.Contains(raw.Data, []byte(p.MessageID)) {
			t.Errorf("probe %s (%s) reached the vendor but its raw inquiry is not stored: %v", p.ID, p.State, err)
		}
	}
	checkRepliesOnce(t, ps, unmatched, inbox, desk.snapshot())
	checkLatencies(t, cfgPath, ps, desk.snapshot())
}

// checkChildLogs fails the test on a data race or panic in any of the daemon's runs.
func checkChildLogs(t *testing.T, dir string) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		f, err := os.Open(l)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			if line := s.Text(); strings.Contains(line, "DATA RACE") || strings.HasPrefix(line, "panic:") {
				t.Errorf("%s: %s\n%s", filepath.Base(l), line, tailOf(l, 60))
				break
			}
		}
		f.Close()
	}
}

// checkNoDuplicateInquiry checks what reached the vendor against the stored probes.
func checkNoDuplicateInquiry(t *testing.T, ps []probe.Probe, inquiries []delivered, outcomes []sendOutcome, wasSending map[string]bool) {
	t.Helper()
	atVendor := map[string]int{} // by normalized Message-ID
	tokens := map[string]int{}
	for _, m := range inquiries {
		id, _ := m.header.MessageID()
		atVendor[store.NormalizeMessageID(id)]++
		if rt, _ := m.header.AddressList("Reply-To"); len(rt) == 1 {
			tokens[rt[0].Address]++
		}
	}
	for id, n := range atVendor {
		if n > 1 {
			t.Errorf("inquiry %s reached the vendor %d times", id, n)
		}
	}
	for addr, n := range tokens {
		if n > 1 {
			t.Errorf("%d inquiries reached the vendor with Reply-To %s (one probe token)", n, addr)
		}
	}
	byID := map[string]probe.Probe{}
	byMessageID := map[string]probe.Probe{}
	scheduled := map[time.Time][]string{}
	states := map[probe.State]int{}
	inferred, unknownAtVendor := 0, 0
	for _, p := range ps {
		byID[p.ID] = p
		states[p.State]++
		if p.MessageID != "" {
			byMessageID[store.NormalizeMessageID(p.MessageID)] = p
		}
		if !p.ScheduledAt.IsZero() {
			scheduled[p.ScheduledAt] = append(scheduled[p.ScheduledAt], p.ID)
		}
		n := 0
		if p.MessageID != "" {
			n = atVendor[store.NormalizeMessageID(p.MessageID)]
		}
		switch p.State {
		case probe.StateSent:
			if n != 1 || p.SentAt.IsZero() {
				t.Errorf("%s is sent (sent_at %v) but reached the vendor %d times, want once", p.ID, p.SentAt, n)
			}
			if p.SentAtInferred {
				inferred++
				if !wasSending[p.ID] || p.DataEndAt.IsZero() || !p.SentAt.Equal(p.DataEndAt) {
					t.Errorf("%s is sent at %v, inferred, but no kill left it sending or it is not its data_end_at %v (%s)",
						p.ID, p.SentAt, p.DataEndAt, p.FailReason)
				}
			}
		case probe.StateUnknown:
			if !wasSending[p.ID] {
				t.Errorf("%s is unknown (%s) but no kill left it sending", p.ID, p.FailReason)
			}
			if p.Stage != probe.StageDataEnd {
				t.Errorf("%s is unknown (%s) at stage %q; only a noted end of DATA leaves it maybe sent", p.ID, p.FailReason, p.Stage)
			}
			// The help desk answers every inquiry citing its Message-ID: one that reached
			// it is proven sent by the reply, and must not stay unknown.
			for _, r := range p.Replies {
				if probe.ProvesSent(r.MatchedBy) {
					t.Errorf("%s is unknown (%s) but reply %s, matched by %s, proves it went out", p.ID, p.FailReason, r.ID, r.MatchedBy)
				}
			}
			if n > 0 {
				unknownAtVendor++
			}
		case probe.StateFailed:
			if n != 0 {
				t.Errorf("%s is failed (%s) but reached the vendor", p.ID, p.FailReason)
			}
		default:
			t.Errorf("%s is %s after a clean stop, want sent, unknown or failed", p.ID, p.State)
		}
		if wasSending[p.ID] && p.State == probe.StateSent && p.FailReason == "" {
			// Left sending by a kill, later found in the sent folder: the reason says so.
			t.Errorf("%s was left sending by a kill and is now sent without a reason", p.ID)
		}
	}
	for id := range atVendor {
		if _, ok := byMessageID[id]; !ok {
			t.Errorf("inquiry %s reached the vendor but no probe has its Message-ID", id)
		}
	}
	for at, ids := range scheduled {
		if len(ids) > 1 {
			t.Errorf("the fire scheduled at %s made %d probes: %v; a fire is sent once", at.UTC().Format(time.RFC3339), len(ids), ids)
		}
	}
	for _, o := range outcomes {
		if o.err != nil {
			continue
		}
		if p, ok := byID[o.probeID]; !ok || p.State != probe.StateSent {
			t.Errorf("send answered %s as sent, but it is stored as %v", o.probeID, p.State)
		}
	}
	t.Logf("probes by state: %v; %d were left sending by a kill; %d sent with sent_at inferred from a reply; %d unknown reached the vendor",
		states, len(wasSending), inferred, unknownAtVendor)
	if unknownAtVendor > 0 {
		t.Errorf("%d unknown probes reached the vendor, whose replies cite them all; want them proven sent", unknownAtVendor)
	}
}

// checkRepliesOnce checks that every message in the inbox is recorded exactly once, on
// the probe it answers.
func checkRepliesOnce(t *testing.T, ps []probe.Probe, unmatched []store.Unmatched, inbox []delivered, desk map[string]vendorsim.Sent) {
	t.Helper()
	recorded := map[string][]string{} // normalized Message-ID → where
	for _, p := range ps {
		for _, r := range p.Replies {
			id := store.NormalizeMessageID(r.MessageID)
			recorded[id] = append(recorded[id], p.ID+"/"+r.ID)
			s, ok := desk[id]
			if !ok {
				t.Errorf("%s of %s (%s) was not sent by the help desk", r.ID, p.ID, r.MessageID)
				continue
			}
			if store.NormalizeMessageID(s.InReplyTo) != store.NormalizeMessageID(p.MessageID) || !strings.Contains(s.To, "+"+p.Token+"@") {
				t.Errorf("%s (%s) answers %s sent to %s, but is recorded on %s (Message-ID %s, token %s)",
					r.ID, r.MessageID, s.InReplyTo, s.To, p.ID, p.MessageID, p.Token)
			}
			if want := map[bool]probe.Kind{true: probe.KindAutoAck, false: probe.KindHuman}[s.Auto]; r.Kind != want {
				t.Errorf("%s of %s is %s (%s), want %s", r.ID, p.ID, r.Kind, r.Reason, want)
			}
		}
	}
	for _, u := range unmatched {
		id := store.NormalizeMessageID(u.MessageID)
		recorded[id] = append(recorded[id], u.ID)
		t.Errorf("%s (%s from %s) is unmatched: %s", u.ID, u.MessageID, u.From, u.Why)
	}
	for id, where := range recorded {
		if len(where) > 1 {
			t.Errorf("message %s is recorded %d times: %v", id, len(where), where)
		}
	}
	for _, m := range inbox {
		id, _ := m.header.MessageID()
		if len(recorded[store.NormalizeMessageID(id)]) == 0 {
			t.Errorf("inbox message %s is not recorded", id)
		}
	}
	if len(recorded) != len(inbox) {
		t.Errorf("%d messages recorded, %d in the inbox", len(recorded), len(inbox))
	}
}

// checkLatencies reads the figures as a user would (`history --format json`) and holds
// them against the help desk's own send times.
func checkLatencies(t *testing.T, cfgPath string, ps []probe.Probe, desk map[string]vendorsim.Sent) {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("history: exit %d: %s", code, stderr)
	}
	var hist []struct {
		ID        string     `json:"id"`
		Status    string     `json:"status"`
		SentAt    *time.Time `json:"sent_at"`
		AckSecs   *float64   `json:"ack_latency_seconds"`
		RespSecs  *float64   `json:"response_latency_seconds"`
		MessageID *string    `json:"message_id"`
	}
	if err := json.Unmarshal([]byte(stdout), &hist); err != nil {
		t.Fatalf("history --format json: %v", err)
	}
	if len(hist) != len(ps) {
		t.Fatalf("history lists %d probes, the file holds %d", len(hist), len(ps))
	}
	// The help desk's send time of the ack and the answer to each inquiry.
	sentAt := map[string]map[bool]time.Time{}
	for _, s := range desk {
		id := store.NormalizeMessageID(s.InReplyTo)
		if sentAt[id] == nil {
			sentAt[id] = map[bool]time.Time{}
		}
		sentAt[id][s.Auto] = s.At
	}
	answered := 0
	for _, h := range hist {
		for _, l := range []struct {
			name string
			secs *float64
			auto bool
		}{{"ack", h.AckSecs, true}, {"response", h.RespSecs, false}} {
			if l.secs == nil {
				continue
			}
			if *l.secs < 0 || h.SentAt == nil || h.MessageID == nil {
				t.Errorf("%s: %s latency %v s, sent_at %v; want non-negative, on a sent probe", h.ID, l.name, *l.secs, h.SentAt)
				continue
			}
			at, ok := sentAt[store.NormalizeMessageID(*h.MessageID)][l.auto]
			if !ok {
				t.Errorf("%s: %s latency %v s, but the help desk sent no such reply", h.ID, l.name, *l.secs)
				continue
			}
			// INTERNALDATE has one-second resolution, and the skew is measured with it.
			if want := at.Sub(*h.SentAt).Seconds(); *l.secs < want-2 || *l.secs > want+2 {
				t.Errorf("%s: %s latency %.3f s, but the help desk answered %.3f s after sent_at", h.ID, l.name, *l.secs, want)
			}
		}
		if h.Status == "answered" {
			answered++
		}
	}
	if answered == 0 {
		t.Error("no probe is answered: the help desk's replies were not measured")
	}
}

// TestCrashDuringScheduledFire kills the daemon while a cron fire's inquiry is at the
// SMTP server (delivered, the 250 held back), restarts it, and checks that the fire is
// not sent again by the catch-up of fires missed while down: the vendor gets one
// inquiry, one probe carries that scheduled time, and the fire's outcome is recorded.
// It waits for the next minute boundary, so it takes up to a minute.
func TestCrashDuringScheduledFire(t *testing.T) {
	if os.Getenv(crashChildEnv) == "1" {
		t.Skip("running as the daemon's child process")
	}
	t.Parallel()
	w := mailworldtest.Memory(t, linUser, supportUser)
	proxy := startFaultProxy(t, w.SMTPAddr())
	proxy.holdAfterData()
	cfgPath, stateDir := mustCrashConfig(t, w, proxy.Addr())
	logDir := t.TempDir()

	child := startCrashChild(t, cfgPath, stateDir, filepath.Join(logDir, "first.log"))
	c, err := daemon.Dial(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	var fired probe.Probe
	for deadline := time.Now().Add(75 * time.Second); fired.ID == ""; time.Sleep(50 * time.Millisecond) {
		ps, err := c.Probes(context.Background(), store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.State == probe.StateSending && p.MessageID != "" && !p.ScheduledAt.IsZero() {
				fired = p
			}
		}
		if fired.ID == "" && time.Now().After(deadline) {
			t.Fatalf("no scheduled fire reached SMTP within 75 s\n%s", tailOf(child.log, 40))
		}
	}
	// The world has the inquiry once its DATA is in; the proxy holds the 250.
	waitForMail(t, w, supportUser, 1, 10*time.Second)
	child.kill()
	c.Close()
	proxy.release()
	t.Logf("killed while %s (fire of %s) was sending", fired.ID, fired.ScheduledAt.UTC().Format(time.RFC3339))

	child = startCrashChild(t, cfgPath, stateDir, filepath.Join(logDir, "second.log"))
	// A catch-up fire would start as the daemon starts; give it time to reach SMTP.
	time.Sleep(3 * time.Second)
	if code := child.stop(t); code != exitOK {
		t.Fatalf("daemon exited %d after SIGTERM\n%s", code, tailOf(child.log, 40))
	}
	checkChildLogs(t, logDir)

	if got := waitForMail(t, w, supportUser, 0, 0); len(got) != 1 {
		t.Errorf("the vendor received %d inquiries for one fire, want 1", len(got))
	}
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ps, err := db.Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID != fired.ID && p.ScheduledAt.Equal(fired.ScheduledAt) {
			t.Errorf("%s (%s, %s) was sent again for the fire of %s that %s was sending at the kill",
				p.ID, p.State, p.FailReason, fired.ScheduledAt.UTC().Format(time.RFC3339), fired.ID)
		}
		if p.ID == fired.ID && p.State != probe.StateUnknown && p.State != probe.StateSent {
			t.Errorf("%s is %s (%s), want unknown or sent", p.ID, p.State, p.FailReason)
		}
	}
	fires, err := db.Fires("acme-cloud/0", fired.ScheduledAt, fired.ScheduledAt.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if len(fires) != 1 || fires[0].ProbeID != fired.ID || fires[0].Outcome != probe.FireFailed || !strings.Contains(fires[0].Reason, "not sent again") {
		t.Errorf("fire records of %s = %+v, want one naming %s, failed and not sent again", fired.ScheduledAt.UTC().Format(time.RFC3339), fires, fired.ID)
	} else {
		t.Logf("fire of %s: %s: %s", fired.ScheduledAt.UTC().Format(time.RFC3339), fires[0].Outcome, fires[0].Reason)
	}
}

// reachedVendor reports whether the inquiry with messageID is among those delivered.
func reachedVendor(inquiries []delivered, messageID string) bool {
	for _, m := range inquiries {
		if id, _ := m.header.MessageID(); store.NormalizeMessageID(id) == store.NormalizeMessageID(messageID) {
			return true
		}
	}
	return false
}
