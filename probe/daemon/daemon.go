// Package daemon is the long-running supportprobe process and the CLI's way to reach its
// data.
//
// # One owner of the database
//
// bbolt locks its file, so one process owns it. While `supportprobe run` is active the
// Daemon holds an exclusive lock on state_dir/supportprobe.pid (which names its pid),
// keeps the database open, and answers the CLI over HTTP on a unix socket,
// state_dir/control.sock (mode 0600, in a 0700 directory). OpenSource gives the CLI a
// Source either way: through the socket when a daemon answers there, or by opening the
// file read-only itself. No subcommand hangs: the socket dial and bbolt's lock wait are
// both bounded.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/alert"
	"supportprobe/schedule"
	"supportprobe/store"
)

// Options tunes a Daemon; the zero value is the production setting.
type Options struct {
	// Logger receives the daemon's logs; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ShutdownTimeout bounds how long Run waits for work in progress once its context
	// ends; default 10 s.
	ShutdownTimeout time.Duration
	// Sender sends inquiries; nil builds one from the configuration's SMTP server.
	Sender probe.Sender
	// SentFolder files sent copies; nil builds one from the configuration's IMAP server
	// when append_sent is on.
	SentFolder probe.SentFolder
	// NoSchedules keeps the schedules from firing: the daemon only watches for replies
	// and serves the CLI (sends by hand still work, and so do the follow-ups of probes
	// sent, which belong to their probe rather than to a schedule).
	NoSchedules bool
	// FollowupInterval is the longest the daemon goes without looking for due
	// follow-ups; default 15 min. It also looks when the next known follow-up falls due
	// and right after an inquiry is sent or a reply recorded, linked or re-marked, so
	// this is only a safety net (and a bound on retrying a limit check that failed).
	FollowupInterval time.Duration
	// AlertInterval is the longest the daemon goes without looking for situations to
	// alert on, and without its alert dispatcher looking for deliveries due; default
	// 15 min. It looks anyway when a situation can have arisen (alerts.go), so this is a
	// safety net, and the bound on noticing a file system filled by another process.
	// Tests shorten it.
	AlertInterval time.Duration
	// DiskFree, when set, replaces the state directory's measured free space in bytes
	// (tests of disk_low).
	DiskFree func() int64
	// SMTPBackoff and SMTPRetryWindow tune the sender built from the configuration
	// (mailbox.SenderOptions Backoff and RetryWindow): the first wait after a transient
	// SMTP failure, and how long one send keeps retrying. Zero keeps mailbox's defaults
	// (5 s and 10 min); tests shorten them. They do not apply to Sender.
	SMTPBackoff, SMTPRetryWindow time.Duration
	// Version labels supportprobe_build_info; default the binary's module version.
	Version string
	// DNSResolver, when set ("127.0.0.1:5353"), is the DNS server asked for the DKIM
	// keys of replies instead of the system's; for tests that serve their own keys.
	DNSResolver string
	// DKIMTimeout bounds the key lookups of one reply's DKIM check; default
	// mailbox.DefaultDKIMTimeout. DKIMRetryInterval is how often the replies whose
	// lookup failed temporarily are checked again, while there are any; default 15 min.
	DKIMTimeout, DKIMRetryInterval time.Duration
}

// Daemon owns one state directory: its lock, its database and its control socket.
// Create it with New, then call Run; always call Close.
type Daemon struct {
	// pageGen counts the changes the dashboard shows that are not probe or reply
	// records (pauses, unmatched mail, reloads); with the store's RecordsGeneration it is
	// the version the dashboard's pages poll, so an open page is rebuilt only when what
	// it shows may have changed (not at every folder mark or alert log write).
	pageGen atomic.Uint64
	// conf is the configuration in force; Reload replaces it (reload.go). Read it with
	// config, once per operation, so one operation sees one configuration.
	conf    atomic.Pointer[configs.Config]
	opts    Options
	log     *slog.Logger
	lock    *stateLock
	db      *store.DB
	ln      net.Listener
	srv     *http.Server
	started time.Time
	sender  probe.Sender
	sent    probe.SentFolder
	tokens  tokenSource // OAuth 2.0 access tokens for mail logins (mail.go)
	key     []byte      // signs our Message-IDs

	// Monitoring (metrics.go): counters, the watcher Run started, and the /metrics listener.
	metrics     *metrics
	watcher     atomic.Pointer[mailbox.Watcher]
	running     atomic.Bool
	httpAddr    atomic.Value // string
	monitor     *http.Server
	monitorDone chan struct{}

	followupWake wake // wakes runFollowups (followups.go)
	// followupScans counts the follow-up passes that read the probes (tests read it).
	followupScans atomic.Uint64
	alertWake     wake // wakes runAlerts (alerts.go)
	dkimWake      wake // arms retryDKIM's timer (auth.go)
	alerts        *alert.Dispatcher
	agenda        alertAgenda // what the last alert check left for the next (alerts.go)
	// inboxWait bounds how long a follow-up pass waits for the inbox watcher before a
	// reminder (inboxCaughtUp); inboxOverride stands in for the watcher in tests.
	inboxWait     time.Duration
	inboxOverride inboxSync

	// Reloads (reload.go): reloadMu serialises them and guards swap, runCtx and
	// schedDone, which Run sets while its scheduler loop (runSchedules) runs. loaded is
	// when the configuration in force was read; lastReload the latest reload's outcome.
	reloadMu   sync.Mutex
	swap       chan *schedule.Runner
	schedDone  chan struct{}
	runCtx     context.Context
	loaded     atomic.Pointer[loadedConfig]
	lastReload atomic.Pointer[ReloadResult]
	// lastSMTP is the latest result of handing an inquiry to the SMTP server (status).
	lastSMTP atomic.Pointer[SMTPStatus]

	closeOnce sync.Once
	closeErr  error
}

// DatabasePath returns the database file in stateDir.
func DatabasePath(stateDir string) string { return filepath.Join(stateDir, "supportprobe.db") }

// SocketPath returns the control socket in stateDir.
func SocketPath(stateDir string) string { return filepath.Join(stateDir, "control.sock") }

// maxSocketPath is the longest unix socket path Linux accepts (sun_path less its NUL).
const maxSocketPath = 107

// New takes ownership of cfg.StateDir: it locks it (ErrBusy, naming the holder's pid,
// when another daemon has it), opens or creates the database, and listens on the
// control socket. It does not start any work; Run does.
func New(cfg *configs.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.FollowupInterval <= 0 {
		opts.FollowupInterval = 15 * time.Minute
	}
	if opts.AlertInterval <= 0 {
		opts.AlertInterval = 15 * time.Minute
	}
	if opts.DKIMRetryInterval <= 0 {
		opts.DKIMRetryInterval = 15 * time.Minute
	}
	sock := SocketPath(cfg.StateDir)
	if len(sock) > maxSocketPath {
		return nil, fmt.Errorf("control socket path %s is %d bytes, over the system's limit of %d: choose a shorter state_dir", sock, len(sock), maxSocketPath)
	}
	d := &Daemon{opts: opts, log: opts.Logger, metrics: newMetrics(cfg.Vendors), inboxWait: defaultInboxSyncWait}
	d.conf.Store(cfg)
	d.loaded.Store(&loadedConfig{at: opts.Now(), digest: configDigest(cfg.Path)})
	var err error
	if d.lock, err = acquireLock(cfg.StateDir); err != nil {
		return nil, err
	}
	if d.db, err = store.Open(DatabasePath(cfg.StateDir), store.Options{Now: opts.Now}); err != nil {
		d.Close()
		return nil, err
	}
	// We hold the state lock, so a socket file left here is from a dead daemon.
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.Close()
		return nil, fmt.Errorf("remove stale control socket %s: %w", sock, err)
	}
	if d.ln, err = net.Listen("unix", sock); err != nil {
		d.Close()
		return nil, fmt.Errorf("listen on control socket %s: %w", sock, err)
	}
	if err := shareSocket(cfg.StateDir, sock, cfg.ControlGroup); err != nil {
		d.Close()
		return nil, err
	}
	if d.key, err = d.db.MessageIDKey(); err != nil {
		d.Close()
		return nil, err
	}
	d.sender, d.sent = opts.Sender, opts.SentFolder
	if cfg.Mail.SMTP.Host != "" {
		if err := d.buildMail(); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.buildAlerts()
	d.srv = &http.Server{Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second, ConnContext: withPeer}
	return d, nil
}

// DB returns the daemon's database, for the parts of the program it runs.
func (d *Daemon) DB() *store.DB { return d.db }

// Run settles probes and follow-ups a crash left mid-send, then fires the vendors'
// schedules, sends follow-ups as they fall due (see Options.FollowupInterval), and
// serves the control socket, and /metrics and /healthz when the configuration has an
// http section, until ctx ends, then shuts down within Options.ShutdownTimeout. It
// returns nil after a clean shutdown.
func (d *Daemon) Run(ctx context.Context) error {
	d.started = d.opts.Now()
	if err := d.resolvePending(ctx); err != nil {
		return err
	}
	if err := d.resolvePendingFollowups(ctx); err != nil {
		return err
	}
	runCtx, stopRunner := context.WithCancel(ctx)
	defer stopRunner()
	gc := startIdleGC(d.log)
	defer gc.stop()
	d.reloadMu.Lock()
	runner, err := d.newRunner(d.config(), runCtx)
	if err != nil {
		d.reloadMu.Unlock()
		return err
	}
	d.swap, d.schedDone, d.runCtx = make(chan *schedule.Runner, 1), make(chan struct{}), runCtx
	d.reloadMu.Unlock()
	defer func() {
		d.reloadMu.Lock()
		d.swap = nil
		d.reloadMu.Unlock()
	}()
	if err := d.startMonitor(); err != nil {
		return err
	}
	d.running.Store(true)
	defer func() {
		d.running.Store(false)
		sctx, cancel := context.WithTimeout(context.Background(), d.opts.ShutdownTimeout)
		defer cancel()
		d.stopMonitor(sctx)
	}()
	if err := d.startAlerts(); err != nil {
		return err
	}
	d.log.Info("daemon started", "state_dir", d.config().StateDir, "pid", os.Getpid(), "vendors", len(d.config().Vendors))

	var w *mailbox.Watcher
	if d.config().Mail.IMAP.Host != "" {
		// Before the follow-ups start: a reminder waits for the watcher's syncs.
		if w, err = d.newWatcher(); err != nil {
			return err
		}
		d.watcher.Store(w)
	}
	runnerDone := make(chan error, 1)
	go func() { runnerDone <- d.runSchedules(runCtx, runner) }()
	// The start's passes over the stored probes (the first follow-up pass, the first
	// alert check) grow the heap well beyond what an idle daemon keeps; once both are
	// done, hand that memory back to the system at once (releaseStartupMemory).
	var startup sync.WaitGroup
	startup.Add(2)
	go func() { startup.Wait(); d.releaseStartupMemory(runCtx); gc.enterIdle() }()
	followupsDone := make(chan struct{})
	go func() {
		defer close(followupsDone)
		d.runFollowups(runCtx, d.opts.FollowupInterval, startup.Done)
	}()
	alertsDone := make(chan struct{})
	go func() {
		defer close(alertsDone)
		// The dispatcher beside the checks: a channel that hangs holds up only its own
		// deliveries, never probing or recording.
		dispatchDone := make(chan struct{})
		go func() { defer close(dispatchDone); d.alerts.Run(runCtx, d.opts.AlertInterval) }()
		d.runAlerts(runCtx, d.opts.AlertInterval, startup.Done)
		<-dispatchDone
	}()
	dkimDone := make(chan struct{})
	go func() { defer close(dkimDone); d.retryDKIM(runCtx, d.opts.DKIMRetryInterval) }()
	watchDone := make(chan struct{})
	if w != nil {
		go func() {
			defer close(watchDone)
			// The watcher reconnects on every error by itself; it returns when ctx ends.
			if err := w.Run(runCtx); err != nil && runCtx.Err() == nil {
				d.log.Error("inbox watcher stopped", "err", err)
			}
		}()
	} else {
		close(watchDone)
	}
	serveDone := make(chan error, 1)
	go func() { serveDone <- d.srv.Serve(d.ln) }()

	var runErr, runnerErr error
	runnerStopped := false
	select {
	case err := <-serveDone:
		runErr = fmt.Errorf("control socket %s: %w", SocketPath(d.config().StateDir), err)
	case runnerErr = <-runnerDone:
		runnerStopped = true
	case <-ctx.Done():
		d.log.Info("daemon stopping", "reason", context.Cause(ctx))
	}
	d.running.Store(false)
	stopRunner()
	sctx, cancel := context.WithTimeout(context.Background(), d.opts.ShutdownTimeout)
	defer cancel()
	if err := d.srv.Shutdown(sctx); err != nil {
		d.log.Warn("control socket did not drain in time", "err", err)
	}
	if !runnerStopped {
		select {
		case runnerErr = <-runnerDone:
		case <-sctx.Done():
			d.log.Warn("scheduler did not stop in time; sends still running will not be recorded")
		}
	}
	select {
	case <-watchDone:
	case <-sctx.Done():
		d.log.Warn("inbox watcher did not stop in time")
	}
	select {
	case <-followupsDone:
	case <-sctx.Done():
		d.log.Warn("follow-ups did not stop in time; a send still running will not be recorded")
	}
	select {
	case <-dkimDone:
	case <-sctx.Done():
		d.log.Warn("DKIM retry pass did not stop in time; its replies are checked again at the next pass")
	}
	select {
	case <-alertsDone:
	case <-sctx.Done():
		d.log.Warn("alerts did not stop in time; a delivery still running is retried at the next start")
	}
	if runnerErr != nil {
		if ctx.Err() == nil && runErr == nil {
			runErr = fmt.Errorf("scheduler: %w", runnerErr)
		} else {
			d.log.Warn("scheduler stopped with an error", "err", runnerErr)
		}
	}
	if runErr == nil {
		// A clean shutdown: the next start is not a restart after a crash.
		d.stopAlerts()
	}
	return runErr
}

// releaseStartupMemory collects the garbage of the daemon's start and returns the freed
// memory to the system in one go (debug.FreeOSMemory). Left to itself, the Go runtime
// returns it in small steps after each GC, the forced one every 2 minutes included: an
// idle daemon would wake hundreds of times to give back what its start used once.
func (d *Daemon) releaseStartupMemory(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	debug.FreeOSMemory()
	runtime.ReadMemStats(&after)
	d.log.Debug("start-up memory returned to the system",
		"heap_in_use_mb", after.HeapInuse>>20, "released_mb", (after.HeapReleased-before.HeapReleased)>>20)
}

// Close releases the socket, the database and the state lock, in that order. It is safe
// to call more than once and after a failed New.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		var errs []error
		if d.srv != nil {
			errs = append(errs, ignoreClosed(d.srv.Close()))
		} else if d.ln != nil {
			errs = append(errs, ignoreClosed(d.ln.Close()))
		}
		if d.ln != nil {
			os.Remove(SocketPath(d.config().StateDir))
		}
		if d.db != nil {
			errs = append(errs, d.db.Close())
		}
		errs = append(errs, d.lock.release())
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) || errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// shareSocket restricts the control socket to its owner (0600) or, with a control group,
// to its owner and that group (0660, and the state directory 0710 so the group can reach
// the socket but not list or read the directory).
func shareSocket(stateDir, sock, group string) error {
	if group == "" {
		if err := os.Chmod(sock, 0o600); err != nil {
			return fmt.Errorf("restrict control socket %s to its owner: %w", sock, err)
		}
		return nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return fmt.Errorf("control.group %s: %w (create the group, or remove control.group)", group, err)
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return fmt.Errorf("control.group %s: gid %q is not a number", group, g.Gid)
	}
	for _, x := range []struct {
		path string
		mode os.FileMode
	}{{stateDir, 0o710}, {sock, 0o660}} {
		if err := os.Chown(x.path, -1, gid); err != nil {
			return fmt.Errorf("control.group %s: give %s to the group: %w (the daemon's user must be a member of it)", group, x.path, err)
		}
		if err := os.Chmod(x.path, x.mode); err != nil {
			return fmt.Errorf("control.group %s: chmod %s: %w", group, x.path, err)
		}
	}
	return nil
}
