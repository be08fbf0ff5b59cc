package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"

	"supportprobe/configs"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/vendorsim"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/probe/view"
	"supportprobe/store"
)

const demoSynopsis = `demo [--duration 60s] [--report text|html] [--keep] [--every 2s] [--listen 127.0.0.1:0]

Runs the whole loop on this machine, with nothing to set up: an in-process mail world
on loopback, four simulated vendors (nimbus, a 24x7 help desk that acknowledges at once
and answers within seconds; atlas, which keeps business hours and is closed now; lotus,
which answers in Chinese, in GBK; silent, which never answers), and the real daemon,
probing them on a compressed schedule (a probe to one of them every 2 seconds, plus the
daemon's own every-minute schedule). It starts by printing the address of the
dashboard, where the probes and replies appear live and the review queue can be
decided (dashboard.read_only: false). Replies are printed as the daemon records them;
after a minute of probing comes the report of the demo period, and the dashboard stays
up, replies still arriving, until you press Ctrl-C. With --duration the demo probes that
long, prints the report and ends (for scripts and tests). Nothing leaves the machine.`

const demoExample = `  supportprobe demo
  supportprobe demo --listen 127.0.0.1:8080
  supportprobe demo --duration 2m --report html --keep`

// demoVendor is one simulated vendor: its support mailbox, its part of the
// configuration and its help desk's behaviour.
type demoVendor struct {
	name, address, display string
	yaml                   string // the vendor's entry under vendors:, after "- name: …"
	sim                    vendorsim.Vendor
}

func demoCmd(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo", demoSynopsis, demoExample)
	duration := fs.Duration("duration", 60*time.Second, "how long to probe before the report")
	format := fs.String("report", "text", "report `format`: text, or html (written to supportprobe-demo.html)")
	keep := fs.Bool("keep", false, "keep the temporary state directory and configuration")
	every := fs.Duration("every", 2*time.Second, "time between two probes sent by hand, to the vendors in turn")
	listen := fs.String("listen", "127.0.0.1:0", "serve the dashboard on `host:port` (loopback; port 0 picks a free one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Without --duration the dashboard stays up after the report, until Ctrl-C.
	serve := true
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "duration" {
			serve = false
		}
	})
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; demo takes only flags", fs.Arg(0))
	}
	if *format != "text" && *format != "html" {
		return usagef("--report %q: want text or html", *format)
	}
	if *duration < 5*time.Second {
		return usagef("--duration %s: want at least 5s", *duration)
	}
	if *every < 100*time.Millisecond {
		return usagef("--every %s: want at least 100ms", *every)
	}
	if host, _, err := net.SplitHostPort(*listen); err != nil || !slices.Contains([]string{"127.0.0.1", "localhost", "::1"}, host) {
		return usagef("--listen %q: want a loopback host:port, e.g. 127.0.0.1:8080 (the demo serves nothing beyond this machine)", *listen)
	}
	return runDemo(ctx, e, demoOpts{duration: *duration, every: *every, format: *format, keep: *keep, listen: *listen, serve: serve})
}

// demoOpts are demo's flags: serve keeps the dashboard up after the report until ctx
// ends (no --duration given).
type demoOpts struct {
	duration, every time.Duration
	format, listen  string
	keep, serve     bool
}

func runDemo(ctx context.Context, e *env, o demoOpts) (err error) {
	duration, every, format, keep := o.duration, o.every, o.format, o.keep
	out := &lockedWriter{w: e.stdout}
	start := time.Now()
	stamp := func() string { return fmt.Sprintf("[%5.1fs]", time.Since(start).Seconds()) }

	dir, err := os.MkdirTemp("", "spdemo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if keep {
		defer fmt.Fprintf(out, "\nKept %s: try `supportprobe history --config %s`.\n", dir, filepath.Join(dir, "supportprobe.yaml"))
	} else {
		defer os.RemoveAll(dir)
	}

	atlasZone, atlasLocal := closedZone(start, duration+5*time.Minute)
	vendors := demoVendors(atlasZone)
	lin := mailworld.User{Address: "lin.wei@example.com", Password: "demo-lin-pw"}
	var users []mailworld.User
	for _, v := range vendors {
		users = append(users, mailworld.User{Address: v.address, Password: "demo-" + v.name + "-pw"})
	}
	world, err := mailworld.StartMemory(users...)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer world.Close()
	// Our mailbox marks its folders as a provider's do (RFC 6154), so the daemon finds
	// Sent and Junk by their attributes, as it would at a real provider.
	if err := world.AddUserWithFolders(lin, mailworld.Folder{Name: "Sent", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrSent}},
		mailworld.Folder{Name: "Junk", SpecialUse: []imap.MailboxAttr{imap.MailboxAttrJunk}}); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	cfg, err := demoConfig(dir, world, lin, vendors, o.listen)
	if err != nil {
		return err
	}

	// The daemon: the same code path as `supportprobe run`, logging only problems.
	level := slog.LevelWarn
	d, err := daemon.New(cfg, daemon.Options{
		Logger:          slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level})),
		ShutdownTimeout: 5 * time.Second,
	})
	if err != nil {
		return err
	}
	defer d.Close()

	// The help desks.
	simCtx, stopSims := context.WithCancel(context.Background())
	var sims sync.WaitGroup
	defer func() {
		stopSims()
		sims.Wait()
	}()
	for i := range vendors {
		v := &vendors[i]
		v.sim.IMAPAddr, v.sim.SMTPAddr = world.IMAPAddr(), world.SMTPAddr()
		v.sim.Password = "demo-" + v.name + "-pw"
		if vc, ok := cfg.Vendor(v.name); ok && !vc.Hours.AlwaysOpen() {
			v.sim.Open = vc.Hours.IsOpen
		}
		sims.Add(1)
		go func() {
			defer sims.Done()
			if err := v.sim.Run(simCtx); err != nil {
				fmt.Fprintf(e.stderr, "supportprobe demo: vendor %s: %v\n", v.name, err)
			}
		}()
	}

	runCtx, stopDaemon := context.WithCancel(context.Background())
	defer stopDaemon()
	runDone := make(chan error, 1)
	go func() { runDone <- d.Run(runCtx) }()
	// Send nothing before Run has settled interrupted probes and started serving: it
	// would take a probe being sent for one a crash left behind.
	if err := demoWaitDaemon(ctx, cfg.StateDir, runDone); err != nil {
		return err
	}
	// The control socket answers from New on; the dashboard's listener once Run is up.
	for wait := time.Now().Add(10 * time.Second); d.HTTPAddr() == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(wait) || ctx.Err() != nil {
			return fmt.Errorf("demo: the dashboard's listener on %s did not start within 10 s", o.listen)
		}
	}
	dash := "http://" + d.HTTPAddr() + "/"
	fmt.Fprintf(out, "supportprobe demo: the dashboard is at %s (open it in a browser; it updates live).\n", dash)
	fmt.Fprintf(out, "A mail world on loopback (SMTP %s, IMAP %s), four simulated vendors, %s of probing.\n", world.SMTPAddr(), world.IMAPAddr(), duration)
	for _, v := range vendors {
		fmt.Fprintf(out, "  %-7s %s\n", v.name, v.display)
	}
	fmt.Fprintf(out, "          (atlas keeps Mon–Fri 09:00–18:00 in %s, where it is %s now: closed)\n", atlasZone, atlasLocal)
	fmt.Fprintf(out, "State in %s.\n\n", dir)
	names := make([]string, len(vendors))
	for i, v := range vendors {
		names[i] = v.name
	}

	// The compressed schedule: a probe to the next vendor every `every`, through the
	// same Send the scheduler calls; none in the last stretch, so late replies can come.
	demoCtx, endDemo := context.WithTimeout(ctx, duration)
	defer endDemo()
	quietFrom := start.Add(duration - min(15*time.Second, duration/4))
	var senders sync.WaitGroup
	senders.Add(1)
	go func() {
		defer senders.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			if time.Now().Before(quietFrom) {
				name := names[i%len(names)]
				if _, err := d.Send(demoCtx, daemon.SendRequest{Vendor: name}); err != nil && demoCtx.Err() == nil {
					fmt.Fprintf(out, "%s ✗ send to %s: %v\n", stamp(), name, err)
				}
			}
			select {
			case <-demoCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	// Progress: new probes and replies as the daemon records them.
	w := &demoWatcher{db: d.DB(), out: out, stamp: stamp, since: start.Add(-time.Second), probes: map[string]bool{}, replies: map[string]bool{}}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for demoCtx.Err() == nil {
		select {
		case <-demoCtx.Done():
		case <-tick.C:
			w.poll()
		}
	}
	senders.Wait()
	w.poll()
	if ctx.Err() != nil {
		fmt.Fprintf(out, "%s interrupted; stopping.\n", stamp())
	}

	w.poll()
	until := time.Now().Add(time.Second)
	title := fmt.Sprintf("supportprobe demo, %s against simulated vendors", duration.Round(time.Second))
	r, err := daemon.BuildReport(context.Background(), demoProber{d.DB()}, "", start.Add(-time.Second).UTC(), until.UTC(), time.Now(), title, nil)
	if err != nil {
		return fmt.Errorf("demo: report: %w", err)
	}
	fmt.Fprintln(out)
	if format == "html" {
		path := "supportprobe-demo.html"
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := r.WriteHTML(f); err != nil {
			f.Close()
			return fmt.Errorf("demo: report: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		fmt.Fprintf(out, "Report written to %s.\n", path)
	} else if err := r.WriteText(out); err != nil {
		return err
	}
	fmt.Fprint(out, `
That was the real daemon against simulated help desks. To measure your own vendors:
  supportprobe init                                         write a commented supportprobe.yaml; edit it
  supportprobe check --connect --config supportprobe.yaml   validate it and log in to your mail servers
  supportprobe run --config supportprobe.yaml               start probing
`)
	if o.serve && ctx.Err() == nil {
		// Probing has stopped; the daemon still watches, so late replies keep arriving.
		fmt.Fprintf(out, "\nThe dashboard stays at %s (late replies still arrive); press Ctrl-C to end the demo.\n", dash)
		for ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-tick.C:
				w.poll()
			}
		}
		fmt.Fprintf(out, "%s interrupted; stopping.\n", stamp())
	}
	stopDaemon()
	if err := <-runDone; err != nil {
		return fmt.Errorf("demo: daemon: %w", err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// demoWaitDaemon returns once the daemon answers on its control socket, or with the
// error Run returned, within 10 s.
func demoWaitDaemon(ctx context.Context, stateDir string, runDone <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := daemon.Dial(ctx, stateDir)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: the daemon did not start within 10 s: %w", err)
		}
		select {
		case err := <-runDone:
			return fmt.Errorf("demo: daemon: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// demoWatcher prints the probes and replies that appear in the database.
type demoWatcher struct {
	db      *store.DB
	out     io.Writer
	stamp   func() string
	since   time.Time
	probes  map[string]bool
	replies map[string]bool
}

func (w *demoWatcher) poll() {
	ps, err := w.db.Probes(store.Filter{Since: w.since})
	if err != nil {
		fmt.Fprintf(w.out, "%s ✗ reading the database: %v\n", w.stamp(), err)
		return
	}
	for _, p := range ps {
		if !w.probes[p.ID] && p.State != probe.StateSending {
			w.probes[p.ID] = true
			how := ""
			if !p.ScheduledAt.IsZero() {
				how = ", on the daemon's own schedule"
			}
			switch p.State {
			case probe.StateSent:
				fmt.Fprintf(w.out, "%s → %s sent to %s (%s%s)\n", w.stamp(), p.Priority, p.Vendor, p.Script, how)
			default:
				fmt.Fprintf(w.out, "%s ✗ %s to %s %s: %s\n", w.stamp(), p.Priority, p.Vendor, p.State, p.FailReason)
			}
		}
		for _, r := range p.Replies {
			if w.replies[r.ID] {
				continue
			}
			w.replies[r.ID] = true
			// As history and the report print it (one rounding rule).
			lat := max(0, r.ReceivedAt.Add(-p.ClockSkew).Sub(p.SentAt)).Seconds()
			fmt.Fprintf(w.out, "%s ← %s %s: %s after %s (%s)\n", w.stamp(), p.Priority, p.Vendor, r.EffectiveKind(), view.Duration(&lat), p.Script)
		}
	}
}

// demoProber reads probes straight from the daemon's database.
type demoProber struct{ db *store.DB }

func (p demoProber) Probes(_ context.Context, f store.Filter) ([]probe.Probe, error) {
	return p.db.Probes(f)
}

// lockedWriter serialises writes from the demo's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// closedZone returns a zone in which Mon–Fri 09:00–18:00 is closed from now for span,
// and the local time there; UTC with hours moved out of the way if none is.
func closedZone(now time.Time, span time.Duration) (zone, local string) {
	for _, z := range []string{"Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "Australia/Sydney", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "America/Sao_Paulo"} {
		h, err := probe.NewBusinessHours(probe.HoursSpec{Zone: z, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"})
		if err != nil {
			continue // no tzdata for it
		}
		if h.Between(now, now.Add(span)) == 0 && !h.IsOpen(now) {
			return z, now.In(h.Location()).Format("Mon 15:04")
		}
	}
	return "UTC", now.UTC().Format("Mon 15:04")
}

func demoVendors(atlasZone string) []demoVendor {
	weekdays := "{days: [mon, tue, wed, thu, fri], open: \"09:00\", close: \"18:00\"}"
	if atlasZone == "UTC" {
		// No zone at hand is closed now: open for an hour starting two hours from now.
		h := (time.Now().UTC().Hour() + 2) % 24
		weekdays = fmt.Sprintf("{days: [mon, tue, wed, thu, fri, sat, sun], open: \"%02d:00\", close: \"%02d:00\"}", h, h+1)
	}
	return []demoVendor{
		{
			name: "nimbus", address: "support@nimbus.test",
			display: "24x7 help desk: acknowledges at once, a person answers in 5–12 s",
			yaml: `    to: ["Nimbus Support <support@nimbus.test>"]
    timezone: America/New_York
    sla: {P1: {first_response: 30s}, P3: {first_response: 1m}}
    deadline: 2m
    ticket_key: '\[#(\d+)\]'
    schedules: [{cron: "* * * * *", scripts: [outage-en, billing-en]}]
`,
			sim: vendorsim.Vendor{
				Name: "nimbus", Address: "support@nimbus.test", FirstTicket: 1234,
				Ack: &vendorsim.Message{
					// At least a second: INTERNALDATE has one-second resolution, so an
					// ack within the second of sending would show as 0 s or less.
					After: time.Second, Jitter: 1500 * time.Millisecond,
					From: "Nimbus Support <support@nimbus.test>", Auto: true,
					Subject: "[#{ticket}] Request received: {subject}",
					Body: "Hello,\n\nThank you for contacting Nimbus Support. We have received your request and a ticket\n" +
						"(#{ticket}) has been created. A member of our team will respond shortly.\n\nNimbus Support\n",
				},
				Answer: &vendorsim.Message{
					After: 5 * time.Second, Jitter: 7 * time.Second,
					From:    "Sam Porter <sam.porter@nimbus.test>",
					Subject: "Re: [#{ticket}] {subject}",
					Body: "Hi {name},\n\nI had a look at your account and found the cause: one of our ingest nodes in\n" +
						"that region was misconfigured after a deploy this morning. I moved your traffic to\n" +
						"a healthy node; new streams should start normally now. Could you try again and let\n" +
						"me know if you still see failures?\n\nSam\nNimbus Support\n",
				},
			},
		},
		{
			name: "atlas", address: "support@atlas.test",
			display: "business hours only; answers the next working day",
			yaml: `    to: ["Atlas Customer Care <support@atlas.test>"]
    timezone: ` + atlasZone + `
    business_hours: ` + weekdays + `
    sla: {P1: {first_response: 1m}, P3: {first_response: 1m, clock: business}}
    deadline: 2m
    schedules: [{cron: "* * * * *", scripts: [outage-en, billing-en]}]
`,
			sim: vendorsim.Vendor{
				Name: "atlas", Address: "support@atlas.test",
				Answer: &vendorsim.Message{
					After: 20 * time.Second, From: "Ana Ortiz <ana.ortiz@atlas.test>", Subject: "Re: {subject}",
					Body: "Hello {name},\n\nI checked your request this morning. We found the problem on our side and\n" +
						"fixed it; please try again and tell me whether it works for you now.\n\nAna\n",
				},
			},
		},
		{
			name: "lotus", address: "support@lotus.test",
			display: "answers in Chinese (GBK): acknowledgement at once, a person after about 10 s",
			yaml: `    to: ["莲花技术支持 <support@lotus.test>"]
    timezone: Asia/Shanghai
    sla: {P1: {first_response: 30s}, P3: {first_response: 1m}}
    deadline: 2m
    ticket_key: '【工单(\d+)】'
    schedules: [{cron: "* * * * *", scripts: [invoice-zh, outage-zh]}]
`,
			sim: vendorsim.Vendor{
				Name: "lotus", Address: "support@lotus.test", Charset: "gbk", FirstTicket: 880001,
				Ack: &vendorsim.Message{
					After: 2 * time.Second, Jitter: time.Second,
					From: "莲花技术支持 <support@lotus.test>", Auto: true,
					Subject: "【工单{ticket}】已收到您的工单：{subject}",
					Body:    "尊敬的客户，您好！\n\n已收到您的工单（编号 {ticket}），我们会尽快安排工程师处理。\n\n此邮件为系统自动发送，请勿直接回复。\n",
				},
				Answer: &vendorsim.Message{
					After: 9 * time.Second, Jitter: 3 * time.Second,
					From:    "王芳 <wang.fang@lotus.test>",
					Subject: "回复：【工单{ticket}】{subject}",
					Body: "{name}，您好：\n\n我核对了您的账户，这个问题是我们这边的配置变更引起的，已经处理好了。" +
						"多收的费用会在下个账单周期退还。请您再试一下，如果还有问题可以直接回复我。\n\n王芳\n莲花云 技术支持\n",
				},
			},
		},
		{
			name: "silent", address: "support@silent.test",
			display: "never answers",
			yaml: `    to: [support@silent.test]
    timezone: Europe/London
    sla: {P1: {first_response: 30s}, P3: {first_response: 1m}}
    deadline: 2m
    schedules: [{cron: "* * * * *", scripts: [outage-en, billing-en]}]
`,
			sim: vendorsim.Vendor{Name: "silent", Address: "support@silent.test"},
		},
	}
}

const demoScripts = `scripts:
  - id: outage-en
    language: en
    priority: P1
    subject: "Streams failing in {{.Region}} since {{.LocalTime.Format \"15:04\"}}"
    body: |
      Hello,

      Since about {{.LocalTime.Format "15:04"}} your time, new streams in {{.Region}} fail to
      start for us; existing ones keep running. We have not changed anything on our side
      today. Could someone take a look?

      Our reference: {{.Token}}

      Thanks,
      Lin
    vars: {Region: eu-west-1}
  - id: billing-en
    language: en
    priority: P3
    subject: "Question about our {{.Month}} invoice"
    body: |
      Hello,

      Our {{.Month}} invoice has a storage line we did not expect, about twice last
      month's. Could you tell us what it covers?

      Reference: {{.Token}}

      Best regards,
      Lin Wei
    vars: {Month: March}
  - id: invoice-zh
    language: zh
    priority: P3
    subject: "关于{{.Month}}发票的问题"
    body: |
      您好，

      我们{{.Month}}的发票金额和合同约定的不一致，多出了一项存储费用。
      麻烦帮忙核对一下，谢谢。

      参考编号：{{.Token}}

      林伟
    vars: {Month: 三月}
  - id: outage-zh
    language: zh
    priority: P1
    subject: "紧急：{{.Region}} 推流失败"
    body: |
      您好，

      从 {{.LocalTime.Format "15:04"}} 起，{{.Region}} 的新推流全部失败，已有的推流正常。
      我们这边今天没有做任何变更，请尽快帮忙看一下。

      参考编号：{{.Token}}

      林伟
    vars: {Region: 华东}
`

// demoConfig writes the demo's password file and configuration into dir and returns the
// validated configuration.
func demoConfig(dir string, w *mailworld.Memory, lin mailworld.User, vendors []demoVendor, listen string) (*configs.Config, error) {
	pw := filepath.Join(dir, "lin.pass")
	if err := os.WriteFile(pw, []byte(lin.Password+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	_, smtpPort, _ := strings.Cut(w.SMTPAddr(), ":")
	_, imapPort, _ := strings.Cut(w.IMAPAddr(), ":")
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by `supportprobe demo` for a mail world on loopback.\nstate_dir: %s\n", filepath.Join(dir, "state"))
	fmt.Fprintf(&b, `mail:
  from: "Lin Wei <%[1]s>"
  plus_addressing: true
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, username: %[1]s, password_file: %[4]s}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, username: %[1]s, password_file: %[4]s, sent_folder: Sent}
`, lin.Address, smtpPort, imapPort, pw)
	b.WriteString(demoScripts)
	b.WriteString("vendors:\n")
	for _, v := range vendors {
		fmt.Fprintf(&b, "  - name: %s\n%s", v.name, v.yaml)
	}
	// The dashboard, on loopback, accepting decisions: the demo's data is its own.
	fmt.Fprintf(&b, "http: {listen: %q}\ndashboard: {read_only: false}\n", listen)
	path := filepath.Join(dir, "supportprobe.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	cfg, err := configs.Parse([]byte(b.String()), path)
	if err != nil {
		return nil, fmt.Errorf("demo: the generated configuration is invalid (a bug): %w", err)
	}
	cfg.Path = path
	return cfg, nil
}
