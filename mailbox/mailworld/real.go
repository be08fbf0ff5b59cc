package mailworld

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

// Paths of the programs a Real world runs, as Debian installs them.
const (
	postfixMasterPath = "/usr/lib/postfix/sbin/master"
	postqueuePath     = "/usr/sbin/postqueue"
	dovecotPath       = "/usr/sbin/dovecot"
	doveadmPath       = "/usr/bin/doveadm"
)

// Bounds on waiting for the daemons.
const (
	realStartTimeout = 15 * time.Second
	realStopTimeout  = 10 * time.Second
	reloadTimeout    = 10 * time.Second
)

// ErrRealUnavailable means this machine cannot run a Real world; the wrapping error says what
// is missing.
var ErrRealUnavailable = errors.New("real mail world unavailable")

// Real is a mail world of real servers: Postfix and Dovecot, run from configuration generated
// in a directory. Start it with StartReal; the caller must call Close, or the daemons keep
// running after the process exits.
//
// Postfix listens for SMTP on 127.0.0.1, knows the users' domains and addresses from
// texthash: maps, refuses unknown users and every other domain at RCPT, and hands accepted
// mail over LMTP to Dovecot, which stores it in maildirs (or dbox, see RealOptions) owned
// by the "mail" user and serves them over IMAP on 127.0.0.1. Postfix accepts SMTP AUTH PLAIN and LOGIN through Dovecot's
// auth service but does not require it. Dovecot creates Sent and Junk (with the \Sent and
// \Junk special-use attributes) on first use.
//
// The directory holds, among others, etc/postfix/main.cf, etc/dovecot.conf, log/postfix.log
// and log/dovecot.log.
type Real struct {
	dir      string
	ownDir   bool   // StartReal made dir, so Close removes it
	format   string // RealOptions.MailFormat, "maildir" by default
	location string // Dovecot's mail_location for format
	cfg      realConfig
	ids      realIDs

	postfixPID, dovecotPID int
	eximPath               string // RealOptions.Exim: the binary, "" without Exim
	eximPID                int
	sendmailPath           string // RealOptions.Sendmail: the binary, "" without Sendmail
	sendmailPID            int
	openSMTPDPath          string // RealOptions.OpenSMTPD: the smtpd binary, "" without OpenSMTPD
	openSMTPDPID           int
	generators             bool   // RealOptions.Generators
	programs               bool   // RealOptions.Programs
	introspect             string // RealOptions.OAuth2IntrospectionURL
	sentFolder             string // RealOptions.SentFolder, "Sent" by default
	junkFolder             string // RealOptions.JunkFolder, "Junk" by default

	mu        sync.Mutex // guards users, closed, dovecotPID and delivered, and serialises AddUser
	closed    bool
	users     []User
	delivered int // DeliverLocal's count, which keeps its file names unique

	closeOnce sync.Once
	closeErr  error
}

var _ World = (*Real)(nil)

// realIDs are the system accounts the daemons run as.
type realIDs struct {
	postfixUID, postfixGID, postdropGID, dovecotGID, mailUID, mailGID int
}

// RealAvailable reports whether this machine can run a Real world: it returns nil, or an
// error wrapping ErrRealUnavailable that names everything missing (programs, system accounts,
// root privileges) and the Debian packages that provide them.
func RealAvailable() error {
	_, err := lookupRealIDs()
	return err
}

// RealAvailableWith is RealAvailable for a world started with opts: with opts.Generators it
// also needs Dovecot's Sieve plugin (package dovecot-sieve), with opts.Exim an Exim binary
// (EximPath), with opts.OpenSMTPD an OpenSMTPD binary (OpenSMTPDPath) and the right to
// start it in namespaces of its own. Its error wraps ErrRealUnavailable and names
// everything missing.
func RealAvailableWith(opts RealOptions) error {
	var errs []error
	if err := RealAvailable(); err != nil {
		errs = append(errs, err)
	}
	if opts.Generators {
		if _, err := os.Stat(sievePluginPath); err != nil {
			errs = append(errs, fmt.Errorf("%w: no Sieve plugin at %s (package dovecot-sieve)", ErrRealUnavailable, sievePluginPath))
		}
	}
	if opts.Exim {
		if _, err := EximPath(); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.OpenSMTPD {
		if err := openSMTPDAvailable(); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.Programs {
		if err := programsAvailable(); err != nil {
			errs = append(errs, err)
		}
	}
	if opts.Sendmail {
		if _, err := SendmailPath(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func lookupRealIDs() (realIDs, error) {
	var missing []string
	for _, prog := range []struct{ path, pkg string }{
		{postfixMasterPath, "postfix"},
		{dovecotPath, "dovecot-core"},
		{doveadmPath, "dovecot-core"},
		{"/usr/lib/dovecot/imap", "dovecot-imapd"},
		{"/usr/lib/dovecot/lmtp", "dovecot-lmtpd"},
	} {
		if _, err := os.Stat(prog.path); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", prog.path, prog.pkg))
		}
	}
	var ids realIDs
	uid := func(name string, id, gid *int) {
		u, err := user.Lookup(name)
		if err != nil {
			missing = append(missing, "user "+name)
			return
		}
		*id, _ = strconv.Atoi(u.Uid)
		if gid != nil {
			*gid, _ = strconv.Atoi(u.Gid)
		}
	}
	gid := func(name string, id *int) {
		g, err := user.LookupGroup(name)
		if err != nil {
			missing = append(missing, "group "+name)
			return
		}
		*id, _ = strconv.Atoi(g.Gid)
	}
	var unused int
	uid("postfix", &ids.postfixUID, &ids.postfixGID)
	gid("postdrop", &ids.postdropGID)
	uid("dovecot", &unused, nil)
	gid("dovecot", &ids.dovecotGID)
	uid("dovenull", &unused, nil)
	uid("mail", &ids.mailUID, &ids.mailGID)
	if os.Geteuid() != 0 {
		missing = append(missing, "root privileges (Postfix's master must start as root)")
	}
	if len(missing) > 0 {
		return ids, fmt.Errorf("%w: missing %s", ErrRealUnavailable, strings.Join(missing, ", "))
	}
	return ids, nil
}

// RealOptions are the choices StartRealWithOptions offers beyond StartReal's defaults.
// The zero value is StartReal's world.
type RealOptions struct {
	// MailFormat is Dovecot's mailbox format: "maildir" (the default, also for ""), with one
	// file per message under mail/ADDRESS/Maildir; "sdbox", one file per message plus an
	// index under mail/ADDRESS/sdbox; or "mdbox", several messages per file under
	// mail/ADDRESS/mdbox. Dovecot reads dbox mail through its index, so opening a message
	// never scans the folder's directory, as maildir may.
	MailFormat string
	// Generators adds the real generators of machine mail (see GeneratorDomain): Postfix
	// bounces (unknown user, mailbox full through a Dovecot quota, relay refused), Postfix
	// delay warnings and verification reports (Real.VerifyAddress), and Dovecot Sieve
	// vacation replies in several languages (Vacations). It needs the Debian package
	// dovecot-sieve besides those of a plain Real world.
	Generators bool
	// Exim also runs Exim as the MX of EximDomain, which bounces in its own format (see
	// EximPath for where the binary comes from).
	Exim bool
	// OpenSMTPD also runs OpenSMTPD as the MX of OpenSMTPDDomain, which bounces and sends
	// delay notices in its own format (see OpenSMTPDPath for where the binary comes from,
	// and OpenSMTPDDomain for how it runs). It creates OpenSMTPD's accounts (opensmtpd,
	// opensmtpq) where they are missing.
	OpenSMTPD bool
	// Sendmail also runs Sendmail as the gateway of SendmailDomain's two subdomains, which
	// bounces and sends delay warnings in its own format (see SendmailPath for where the
	// binary comes from). It needs Generators, whose relay-refusing smtpd and dead port it
	// sends mail to.
	Sendmail bool
	// Programs also runs the mailing lists of Lists (mlmmj) and the autoresponders of
	// Autoresponders (maildrop's mailbot), delivered by Postfix's pipe(8) (see
	// ProgramsDomain). It needs the Debian packages mlmmj and maildrop.
	Programs bool
	// OAuth2IntrospectionURL, when set, also lets users log in with OAuth 2.0 bearer
	// tokens (SASL OAUTHBEARER and XOAUTH2), over IMAP and, through Dovecot SASL, SMTP
	// AUTH at Postfix: Dovecot's oauth2 passdb checks each token at this RFC 7662
	// introspection endpoint (POST token=…) and takes the login name from its "username".
	OAuth2IntrospectionURL string
	// SentFolder is the name of the mailbox Dovecot marks \Sent (SPECIAL-USE, RFC 6154)
	// and creates for every user: "Sent" by default; a localised name such as
	// "Gesendete Elemente" tests that clients find it by its attribute, not its name. It
	// may not contain a double quote or a backslash.
	SentFolder string
	// JunkFolder is the name of the mailbox Dovecot marks \Junk and creates for every
	// user: "Junk" by default; a localised name such as "Courrier indésirable" tests
	// that the watcher finds it by its attribute. The same restrictions apply.
	JunkFolder string
}

// mailLocations maps RealOptions.MailFormat to Dovecot's mail_location.
var mailLocations = map[string]string{
	"maildir": "maildir:~/Maildir",
	"sdbox":   "sdbox:~/sdbox",
	"mdbox":   "mdbox:~/mdbox",
}

// StartReal writes Postfix and Dovecot configuration for the given users into dir, starts
// both daemons on free 127.0.0.1 ports, and returns once both greet a client, or after about
// 15 seconds with an error that ends with the tails of their logs.
//
// dir must be short (unix sockets live under it; the limit is reported as an error) and every
// ancestor must be searchable by other users, because the daemons run as postfix, dovecot
// and mail: a t.TempDir() fails both ways. StartReal creates dir if needed and makes it mode
// 0755; it rewrites the configuration and the users in it but keeps mail already there, and
// refuses a dir whose world is still running. Close leaves dir in place. If dir is "",
// StartReal makes a fresh directory under the system temporary directory and Close removes it.
//
// Starting takes about 0.15 s; Close about 1 s.
//
// StartReal returns an error wrapping ErrRealUnavailable if RealAvailable fails, and one
// wrapping ErrInvalidUser or ErrUserExists for a bad user list. The caller must call Close.
func StartReal(dir string, users ...User) (*Real, error) {
	return StartRealWithOptions(dir, RealOptions{}, users...)
}

// StartRealWithOptions is StartReal with the choices in opts, such as Dovecot's mailbox
// format. Restarting a dir in another format than its mail was written in leaves that mail
// unseen. It returns an error naming the valid formats for an unknown opts.MailFormat,
// and otherwise the errors StartReal does.
func StartRealWithOptions(dir string, opts RealOptions, users ...User) (*Real, error) {
	format := cmp.Or(opts.MailFormat, "maildir")
	location, ok := mailLocations[format]
	if !ok {
		return nil, fmt.Errorf("start real mail world: unknown mail format %q; choose maildir, sdbox or mdbox", opts.MailFormat)
	}
	ids, err := lookupRealIDs()
	if err != nil {
		return nil, fmt.Errorf("start real mail world: %w", err)
	}
	for i, u := range users {
		if err := checkUser(u); err != nil {
			return nil, fmt.Errorf("start real mail world: %w", err)
		}
		if slices.ContainsFunc(users[:i], func(v User) bool { return v.Address == u.Address }) {
			return nil, fmt.Errorf("start real mail world: user %s: %w", u.Address, ErrUserExists)
		}
	}
	r := &Real{dir: dir, ids: ids, users: slices.Clone(users), format: format, location: location, generators: opts.Generators,
		programs:   opts.Programs,
		introspect: opts.OAuth2IntrospectionURL, sentFolder: cmp.Or(opts.SentFolder, "Sent"),
		junkFolder: cmp.Or(opts.JunkFolder, "Junk")}
	if strings.ContainsAny(r.sentFolder, "\"\\") {
		return nil, fmt.Errorf("start real mail world: sent folder %q: a double quote or backslash cannot be written in Dovecot's configuration", opts.SentFolder)
	}
	if strings.ContainsAny(r.junkFolder, "\"\\") || r.junkFolder == r.sentFolder {
		return nil, fmt.Errorf("start real mail world: junk folder %q: the sent folder's name, or a double quote or backslash, which cannot be written in Dovecot's configuration", opts.JunkFolder)
	}
	if opts.Generators {
		if _, err := os.Stat(sievePluginPath); err != nil {
			return nil, fmt.Errorf("start real mail world with generators: %w: no Sieve plugin at %s (package dovecot-sieve)", ErrRealUnavailable, sievePluginPath)
		}
		for _, u := range users {
			if err := r.checkGeneratorDomain(u); err != nil {
				return nil, fmt.Errorf("start real mail world: %w", err)
			}
		}
	}
	if opts.Programs {
		if err := programsAvailable(); err != nil {
			return nil, fmt.Errorf("start real mail world with programs: %w", err)
		}
		for _, u := range users {
			if _, domain, _ := strings.Cut(u.Address, "@"); domain == ProgramsDomain {
				return nil, fmt.Errorf("start real mail world: user %s: domain %s belongs to the mailing lists and autoresponders; choose another: %w", u.Address, domain, ErrInvalidUser)
			}
		}
	}
	if opts.Sendmail {
		if !opts.Generators {
			return nil, fmt.Errorf("start real mail world with sendmail: RealOptions.Sendmail needs RealOptions.Generators (Sendmail relays to the generators' refusing and dead servers)")
		}
		if r.sendmailPath, err = SendmailPath(); err != nil {
			return nil, fmt.Errorf("start real mail world with sendmail: %w", err)
		}
	}
	if opts.Exim {
		if r.eximPath, err = EximPath(); err != nil {
			return nil, fmt.Errorf("start real mail world with exim: %w", err)
		}
	}
	if opts.OpenSMTPD {
		if err := openSMTPDAvailable(); err != nil {
			return nil, fmt.Errorf("start real mail world with opensmtpd: %w", err)
		}
		r.openSMTPDPath, _ = OpenSMTPDPath()
	}
	if r.dir == "" {
		if r.dir, err = os.MkdirTemp("", "mw"); err != nil {
			return nil, fmt.Errorf("start real mail world: %w", err)
		}
		r.ownDir = true
	}
	if err := r.start(); err != nil {
		if r.ownDir {
			os.RemoveAll(r.dir)
		}
		return nil, fmt.Errorf("start real mail world in %s: %w", r.dir, err)
	}
	return r, nil
}

func (r *Real) start() error {
	dir, err := filepath.Abs(r.dir)
	if err != nil {
		return err
	}
	r.dir = dir
	if len(dir)+maxSocketSuffix > maxSocketPath {
		return fmt.Errorf("directory path is %d bytes long; unix sockets under it need it at most %d", len(dir), maxSocketPath-maxSocketSuffix)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if err := checkSearchable(dir); err != nil {
		return err
	}
	for _, pidFile := range []string{postfixPIDFile, dovecotPIDFile} {
		if pid, err := r.daemonPID(pidFile); err == nil {
			return fmt.Errorf("a mail world is still running in this directory (pid %d in %s)", pid, pidFile)
		}
		os.Remove(r.path(pidFile)) // stale: it must not be mistaken for the new daemon's
	}
	r.cfg = realConfig{Dir: dir, MailUID: r.ids.mailUID, MailGID: r.ids.mailGID, MailLocation: r.location, Generators: r.generators, Programs: r.programs,
		OAuth2IntrospectionURL: r.introspect, SentFolder: r.sentFolder, JunkFolder: r.junkFolder}
	ports := []*int{&r.cfg.SMTPPort, &r.cfg.IMAPPort}
	if r.generators {
		ports = append(ports, &r.cfg.RelayPort, &r.cfg.DeadPort, &r.cfg.SizeLimitPort)
	}
	if r.eximPath != "" {
		ports = append(ports, &r.cfg.EximPort)
	}
	if r.sendmailPath != "" {
		ports = append(ports, &r.cfg.SendmailPort)
	}
	if r.openSMTPDPath != "" {
		ports = append(ports, &r.cfg.OpenSMTPDPort, &r.cfg.OpenSMTPDRefusePort, &r.cfg.OpenSMTPDDeferPort)
	}
	var taken []int
	for _, p := range ports {
		for *p == 0 || slices.Contains(taken, *p) {
			if *p, err = freePort(); err != nil {
				return err
			}
		}
		taken = append(taken, *p)
	}
	var relay []string
	if r.generators {
		relay = append(relay, RelayRefusedDomain, DeferredDomain, LoopDomain, SizeLimitDomain)
	}
	if r.programs {
		relay = append(relay, ProgramsDomain)
	}
	if r.sendmailPath != "" {
		relay = append(relay, "refused."+SendmailDomain, "deferred."+SendmailDomain)
	}
	if r.eximPath != "" {
		relay = append(relay, EximDomain)
	}
	if r.openSMTPDPath != "" {
		relay = append(relay, OpenSMTPDDomain)
	}
	r.cfg.RelayDomains = strings.Join(relay, ", ")
	if err := r.writeConfig(); err != nil {
		return err
	}

	// Dovecot first, so that LMTP and auth sockets exist when Postfix first needs them.
	// Both daemons detach; their output goes to files because an inherited pipe would keep
	// exec.Cmd.Wait (and go test) waiting for the daemon.
	if err := r.run("dovecot.out", dovecotPath, "-c", r.path(dovecotConf)); err != nil {
		r.stop()
		return r.withLogs(fmt.Errorf("start dovecot: %w", err))
	}
	deadline := time.Now().Add(realStartTimeout)
	// dovecot returns once it has forked; its master writes the pid file a moment later.
	if r.dovecotPID, err = r.waitPID(dovecotPIDFile, deadline); err != nil {
		r.stop()
		return r.withLogs(fmt.Errorf("start dovecot: %w", err))
	}
	// -w: wait until master has initialised, skipping "postfix start"'s seconds of checks.
	if err := r.run("postfix.out", postfixMasterPath, "-c", r.path(postfixConfDir), "-w"); err != nil {
		r.stop()
		return r.withLogs(fmt.Errorf("start postfix master: %w", err))
	}
	if r.postfixPID, err = r.waitPID(postfixPIDFile, deadline); err != nil {
		r.stop()
		return r.withLogs(fmt.Errorf("start postfix master: %w", err))
	}
	if err := r.waitReady(deadline); err != nil {
		r.stop()
		return r.withLogs(err)
	}
	if r.eximPath != "" {
		if err := r.startExim(deadline); err != nil {
			r.stop()
			return r.withLogs(err)
		}
	}
	if r.openSMTPDPath != "" {
		if err := r.startOpenSMTPD(deadline); err != nil {
			r.stop()
			return r.withLogs(err)
		}
	}
	if r.sendmailPath != "" {
		if err := r.startSendmail(deadline); err != nil {
			r.stop()
			return r.withLogs(err)
		}
	}
	return nil
}

// SMTPAddr returns Postfix's SMTP address, "127.0.0.1:PORT".
func (r *Real) SMTPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.cfg.SMTPPort)) }

// IMAPAddr returns Dovecot's IMAP address, "127.0.0.1:PORT".
func (r *Real) IMAPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.cfg.IMAPPort)) }

// Dir returns the world's directory, which holds its configuration, queue, mail and logs.
func (r *Real) Dir() string { return r.dir }

// Logs returns the last 20 lines of each of Postfix's and Dovecot's logs, for a failing test
// to print.
func (r *Real) Logs() string {
	var b strings.Builder
	for _, name := range []string{postfixLog, "log/postfix.out", dovecotLog, "log/dovecot.out", eximMainLog, "exim/log/paniclog", "log/exim.out", "log/" + openSMTPDOut} {
		data, err := os.ReadFile(r.path(name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", r.path(name), len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// Users returns a copy of the world's users in the order they were added.
func (r *Real) Users() []User {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.users)
}

// AddUser adds u without restarting anything: it writes u's passwd-file, rewrites Postfix's
// maps, reloads Postfix, and returns once Postfix accepts RCPT TO for u's address (bounded
// by about 10 seconds). It returns an error wrapping ErrInvalidUser, ErrUserExists or
// ErrClosed, or one describing the failed step.
func (r *Real) AddUser(u User) error {
	if err := checkUser(u); err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("add user %s: %w", u.Address, ErrClosed)
	}
	if slices.ContainsFunc(r.users, func(v User) bool { return v.Address == u.Address }) {
		return fmt.Errorf("add user %s: %w", u.Address, ErrUserExists)
	}
	if err := r.checkGeneratorDomain(u); err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	users := append(slices.Clone(r.users), u)
	err := r.writeUser(u)
	if err == nil {
		err = r.writeMaps(users)
	}
	if err == nil {
		err = r.reloadPostfix(u.Address)
	}
	if err != nil {
		// Leave no half-added user behind: Dovecot would let it log in.
		os.Remove(r.path(usersDir, u.Address))
		r.writeMaps(r.users)
		return fmt.Errorf("add user %s: %w", u.Address, err)
	}
	r.users = users
	return nil
}

// Close stops Postfix and Dovecot through their pid files and waits until both have exited
// (SIGKILL after about 10 seconds). It removes the directory only if StartReal made it. It is
// idempotent: later calls return the first call's result.
func (r *Real) Close() error {
	r.closeOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		r.closeErr = r.stop()
		if r.ownDir {
			if err := os.RemoveAll(r.dir); err != nil && r.closeErr == nil {
				r.closeErr = err
			}
		}
		if r.closeErr != nil {
			r.closeErr = fmt.Errorf("close real mail world in %s: %w", r.dir, r.closeErr)
		}
	})
	return r.closeErr
}

// StopIMAP stops Dovecot alone, as an outage of the IMAP server would: every IMAP
// connection is dropped (the processes serving them are ended too), new
// ones are refused, and Postfix, which stays up, accepts mail but cannot hand it over
// over LMTP, so it defers it in its queue. It returns once Dovecot has exited, which takes
// about 1.2 s (Dovecot's master sleeps a second on shutdown). Stopping a stopped Dovecot
// does nothing. It returns an error wrapping ErrClosed after Close, or one naming the
// process that would not stop.
func (r *Real) StopIMAP() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("stop dovecot: %w", ErrClosed)
	}
	if r.dovecotPID <= 0 {
		return nil
	}
	// Dovecot's master exits on SIGTERM but leaves the imap processes of open sessions
	// serving their clients (measured with 2.3.19, shutdown_clients = yes), so an IDLE
	// would never notice. A real outage ("systemctl stop dovecot" ends the whole cgroup)
	// ends them all: so do we, by the list of the master's children taken beforehand.
	if err := terminateTree(r.dovecotPID, realStopTimeout); err != nil {
		return fmt.Errorf("stop dovecot (pid %d): %w", r.dovecotPID, err)
	}
	r.dovecotPID = 0
	return nil
}

// terminateTree stops the daemon pid (see terminate) and then the processes it had
// started, listed beforehand: a master's children can outlive it for a while, still
// serving their clients or, as Postfix's smtpd does, still accepting on the listening
// socket they inherited.
func terminateTree(pid int, timeout time.Duration) error {
	procs := children(pid)
	if err := terminate(pid, timeout); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(procs))
	for i, child := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := terminate(child, 2*time.Second); err != nil {
				errs[i] = fmt.Errorf("child process %d: %w", child, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// StartIMAP starts Dovecot again after StopIMAP, with the same configuration, port and
// mail, and returns once it greets IMAP clients and its LMTP socket is back. Then it asks
// Postfix to retry the mail it deferred meanwhile (postqueue -f), as Postfix itself would
// at its next queue run, minutes later: that mail reaches the INBOX a moment after
// StartIMAP returns, with the time of that delivery as its INTERNALDATE. Starting a
// running Dovecot does nothing. Start takes about 1.5 s. It returns an error wrapping
// ErrClosed after Close, or one ending with the tails of the logs.
func (r *Real) StartIMAP() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("start dovecot: %w", ErrClosed)
	}
	if r.dovecotPID > 0 && running(r.dovecotPID) {
		return nil
	}
	os.Remove(r.path(dovecotPIDFile)) // stale: it must not be mistaken for the new master's
	if err := r.run("dovecot.out", dovecotPath, "-c", r.path(dovecotConf)); err != nil {
		return r.withLogs(fmt.Errorf("start dovecot: %w", err))
	}
	deadline := time.Now().Add(realStartTimeout)
	pid, err := r.waitPID(dovecotPIDFile, deadline)
	if err != nil {
		return r.withLogs(fmt.Errorf("start dovecot: %w", err))
	}
	r.dovecotPID = pid
	if err := r.waitReady(deadline); err != nil {
		return r.withLogs(fmt.Errorf("start dovecot: %w", err))
	}
	return r.flushQueue()
}

// FlushQueue asks Postfix to deliver every message waiting in its queue now (postqueue
// -f), instead of at its next retry, minutes away. It returns once Postfix has the
// request, not once the mail is delivered.
func (r *Real) FlushQueue() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("flush postfix queue: %w", ErrClosed)
	}
	return r.flushQueue()
}

func (r *Real) flushQueue() error {
	if err := r.run("postqueue.out", postqueuePath, "-c", r.path(postfixConfDir), "-f"); err != nil {
		return r.withLogs(fmt.Errorf("flush postfix queue: %w", err))
	}
	return nil
}

// DeliverLocal files msg in the INBOX of the user with address the way a local delivery
// agent (procmail, maildrop) would, without Dovecot's server: that is mail delivered during
// an IMAP outage, between StopIMAP and StartIMAP. In a maildir world it writes msg into
// tmp/ and renames it into new/; Dovecot gives it a UID when it next reads the folder and
// takes its INTERNALDATE from the file's modification time, the moment of this call. In a
// dbox world (RealOptions.MailFormat) it saves msg with doveadm save, which gives it its
// UID and INTERNALDATE at once. msg should end its lines with CRLF or LF (Dovecot serves
// either as is). It returns an error wrapping ErrClosed after Close, or naming the file or
// command that failed.
func (r *Real) DeliverLocal(address string, msg []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("deliver to %s: %w", address, ErrClosed)
	}
	if !slices.ContainsFunc(r.users, func(u User) bool { return u.Address == address }) {
		return fmt.Errorf("deliver to %s: no such user in the mail world", address)
	}
	if r.format != "maildir" {
		if err := r.doveadm(address, bytes.NewReader(msg), "save"); err != nil {
			return fmt.Errorf("deliver to %s: %w", address, err)
		}
		return nil
	}
	maildir := r.path(mailDir, address, "Maildir")
	for _, d := range []string{"", "tmp", "new", "cur"} {
		if err := mkdirOwned(filepath.Join(maildir, d), r.ids.mailUID, r.ids.mailGID, 0o700); err != nil {
			return fmt.Errorf("deliver to %s: %w", address, err)
		}
	}
	// MkdirAll made the home as root if it was missing: give it to "mail", as Dovecot would.
	if err := os.Chown(r.path(mailDir, address), r.ids.mailUID, r.ids.mailGID); err != nil {
		return fmt.Errorf("deliver to %s: %w", address, err)
	}
	now := time.Now()
	r.delivered++
	name := fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, os.Getpid(), r.delivered, Hostname)
	tmp := filepath.Join(maildir, "tmp", name)
	if err := writeFileOwned(tmp, msg, r.ids.mailUID, r.ids.mailGID, 0o600); err != nil {
		return fmt.Errorf("deliver to %s: %w", address, err)
	}
	if err := os.Rename(tmp, filepath.Join(maildir, "new", name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("deliver to %s: %w", address, err)
	}
	return nil
}

// MailFormat returns Dovecot's mailbox format in this world: "maildir", "sdbox" or
// "mdbox" (see RealOptions).
func (r *Real) MailFormat() string { return r.format }

// ImportMaildir copies every message of the maildir src (its cur/ and new/) into the
// INBOX of the user with address, in any mail format, with doveadm import: much faster
// than delivering them (about 0.3 ms a message). Each message keeps its flags and, as
// INTERNALDATE, its file's modification time, so old mail can be made to look old. src
// and everything in it must be readable by the "mail" user. Like DeliverLocal it does not
// need Dovecot's server. It returns an error wrapping ErrClosed after Close, or one
// ending with doveadm's output.
func (r *Real) ImportMaildir(address, src string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fmt.Errorf("import %s into %s: %w", src, address, ErrClosed)
	}
	if !slices.ContainsFunc(r.users, func(u User) bool { return u.Address == address }) {
		return fmt.Errorf("import %s into %s: no such user in the mail world", src, address)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return fmt.Errorf("import %s into %s: %w", src, address, err)
	}
	// No fsync per message: the copy is scratch data for a test, and fsync makes it ten
	// times slower. An empty destination folder name imports INBOX into INBOX.
	if err := r.doveadm(address, nil, "-o", "mail_fsync=never", "import", "maildir:"+abs, "", "all"); err != nil {
		return fmt.Errorf("import %s into %s: %w", src, address, err)
	}
	return nil
}

// doveadm runs doveadm with args on the mail of the user with address, as the "mail"
// user and with that user's home in the environment, so it needs no userdb lookup from
// Dovecot's auth service, which is down during an outage (StopIMAP). Global options such
// as -o go first in args. stdin may be nil.
func (r *Real) doveadm(address string, stdin io.Reader, args ...string) error {
	cmd := exec.Command(doveadmPath, append([]string{"-c", r.path(dovecotConf)}, args...)...)
	cmd.Dir = r.dir
	cmd.Stdin = stdin
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "USER=" + address, "HOME=" + r.path(mailDir, address)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(r.ids.mailUID), Gid: uint32(r.ids.mailGID)}}
	// The home must exist and belong to "mail" before doveadm creates the mail under it.
	if err := mkdirOwned(r.path(mailDir, address), r.ids.mailUID, r.ids.mailGID, 0o700); err != nil {
		return err
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", cmd, err, bytes.TrimSpace(out))
	}
	return nil
}

// writeFileOwned creates name with data, owned by uid:gid.
func writeFileOwned(name string, data []byte, uid, gid int, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	err = errors.Join(err, f.Chown(uid, gid), f.Sync(), f.Close())
	if err != nil {
		os.Remove(name)
	}
	return err
}

// IMAPRunning reports whether Dovecot is running: false between StopIMAP and StartIMAP,
// and after Close.
func (r *Real) IMAPRunning() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.closed && r.dovecotPID > 0 && running(r.dovecotPID)
}

// stop terminates whichever daemons are running, in parallel (Dovecot's master alone takes a
// second to shut down), and waits for them. A daemon whose pid is not known yet (start failed
// halfway) is found through its pid file.
func (r *Real) stop() error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []struct {
		name, pidFile string
		pid           int
	}{
		{"postfix master", postfixPIDFile, r.postfixPID},
		{"dovecot", dovecotPIDFile, r.dovecotPID},
	} {
		if d.pid <= 0 {
			d.pid, _ = r.daemonPID(d.pidFile)
		}
		if d.pid <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := terminateTree(d.pid, realStopTimeout); err != nil {
				errs[i] = fmt.Errorf("stop %s (pid %d): %w", d.name, d.pid, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, r.stopExim(), r.stopOpenSMTPD(), r.stopSendmail())...)
}

// daemonPID returns the pid in the pid file if that process is running and is this world's
// daemon (its command line names the world's directory), so that a stale pid file can never
// make Close signal an unrelated process.
func (r *Real) daemonPID(pidFile string) (int, error) {
	name := r.path(pidFile)
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// Sendmail writes its command line on a second line, and retitles its process
	// ("sendmail: accepting connections"): that line names the world instead.
	first, rest, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s: bad content %q", name, data)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !running(pid) || !bytes.Contains(cmdline, []byte(r.dir+"/")) && !strings.Contains(rest, r.dir+"/") {
		return 0, fmt.Errorf("pid file %s: pid %d is not this world's daemon", name, pid)
	}
	return pid, nil
}

// waitPID waits until daemonPID finds the daemon.
func (r *Real) waitPID(pidFile string, deadline time.Time) (int, error) {
	for {
		pid, err := r.daemonPID(pidFile)
		if err == nil {
			return pid, nil
		}
		if time.Now().After(deadline) {
			return 0, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminate sends SIGTERM to pid and waits until it has exited, then SIGKILL if it has not
// within timeout. Dead processes are reaped slowly on some machines, so a zombie counts as
// exited.
func terminate(pid int, timeout time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return err
	}
	if waitExit(pid, time.Now().Add(timeout)) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if waitExit(pid, time.Now().Add(2*time.Second)) {
		return fmt.Errorf("still running %v after SIGTERM; killed", timeout)
	}
	return fmt.Errorf("still running after SIGTERM and SIGKILL")
}

func waitExit(pid int, deadline time.Time) bool {
	for {
		if !running(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running reports whether pid is a live process: present in /proc and not a zombie.
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}

// run runs a daemon's start command and waits for it to return (both daemons detach), with
// its output in log/<out>.
func (r *Real) run(out, prog string, args ...string) error {
	f, err := os.OpenFile(r.path(logDir, out), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(prog, args...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = f, f
	// A fixed environment: nothing from the caller (MAIL_CONFIG, TZ, proxies) leaks in.
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	// Its own session, so a Ctrl-C meant for the test does not reach the daemons halfway.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

// waitReady waits until Postfix and Dovecot greet a client and the LMTP socket exists.
func (r *Real) waitReady(deadline time.Time) error {
	checks := []struct {
		what string
		ok   func() error
	}{
		{"postfix smtp greeting", func() error { return greeting(r.SMTPAddr(), "220 ") }},
		{"dovecot imap greeting", func() error { return greeting(r.IMAPAddr(), "* OK") }},
		{"dovecot lmtp socket", func() error {
			_, err := os.Stat(r.path(postfixQueueDir, "private", "dovecot-lmtp"))
			return err
		}},
	}
	for _, c := range checks {
		for {
			err := c.ok()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("wait for %s: %w", c.what, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// greeting connects to addr and checks that the server's first line starts with prefix.
func greeting(addr, prefix string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, prefix) {
		return fmt.Errorf("greeting %q", strings.TrimSpace(line))
	}
	if prefix == "220 " {
		fmt.Fprintf(conn, "QUIT\r\n")
	} else {
		fmt.Fprintf(conn, "a LOGOUT\r\n")
	}
	return nil
}

// reloadPostfix makes Postfix use the rewritten maps, then checks that it accepts mail for
// newAddr.
//
// Postfix daemons read texthash maps once, when they start. SIGHUP ("postfix reload") makes
// master re-read its configuration and tell its children to exit, but an old smtpd can still
// accept a connection or two and answer it from the old maps (measured: 550 "User unknown" or
// 554 "Relay access denied" right after the reload). So reloadPostfix waits until every
// process master had before the signal has exited: idle ones go within about 50 ms; one in
// the middle of a client's SMTP session goes when that session ends, which is why an open
// session can make AddUser time out.
func (r *Real) reloadPostfix(newAddr string) error {
	deadline := time.Now().Add(reloadTimeout)
	old := children(r.postfixPID)
	if err := syscall.Kill(r.postfixPID, syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload postfix: %w", err)
	}
	for {
		old = slices.DeleteFunc(old, func(pid int) bool { return !running(pid) })
		if len(old) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return r.withLogs(fmt.Errorf("reload postfix: processes %v from before the reload still running after %v (an SMTP session left open?)", old, reloadTimeout))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		err := rcptAccepted(r.SMTPAddr(), newAddr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return r.withLogs(fmt.Errorf("reload postfix: %w", err))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// children returns the pids of ppid's child processes, from /proc.
func children(ppid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// After "(comm)": state, then the parent's pid.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func rcptAccepted(smtpAddr, rcpt string) error {
	conn, err := net.DialTimeout("tcp", smtpAddr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	tc := textproto.NewConn(conn)
	if _, _, err := tc.ReadResponse(220); err != nil {
		return err
	}
	for _, step := range []struct {
		cmd  string
		code int
	}{
		{"HELO mailworld", 250},
		{"MAIL FROM:<>", 250},
		{"RCPT TO:<" + rcpt + ">", 250},
	} {
		if err := tc.PrintfLine("%s", step.cmd); err != nil {
			return err
		}
		if _, _, err := tc.ReadResponse(step.code); err != nil {
			return fmt.Errorf("%s: %w", step.cmd, err)
		}
	}
	tc.PrintfLine("QUIT")
	return nil
}

// writeConfig creates the directory layout and writes every configuration file.
func (r *Real) writeConfig() error {
	ids := r.ids
	dirs := []struct {
		name     string
		uid, gid int
		mode     os.FileMode
	}{
		{"etc", 0, 0, 0o755},
		{postfixConfDir, 0, 0, 0o755},
		{logDir, 0, 0, 0o755},
		{postfixQueueDir, 0, 0, 0o755},
		{postfixDataDir, ids.postfixUID, ids.postfixGID, 0o700},
		{usersDir, 0, ids.dovecotGID, 0o750},
		{mailDir, ids.mailUID, ids.mailGID, 0o700},
	}
	// Passwd-files of an earlier run's users would still let them log in.
	if err := os.RemoveAll(r.path(usersDir)); err != nil {
		return err
	}
	for _, d := range dirs {
		if err := mkdirOwned(r.path(d.name), d.uid, d.gid, d.mode); err != nil {
			return err
		}
	}
	for _, q := range postfixQueueDirs {
		uid, gid := 0, 0
		if q.owner == "postfix" {
			uid, gid = ids.postfixUID, ids.postfixGID
		}
		if q.group == "postdrop" {
			gid = ids.postdropGID
		}
		if err := mkdirOwned(r.path(postfixQueueDir, q.name), uid, gid, os.FileMode(q.mode)); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		tmpl *template.Template
	}{
		{filepath.Join(postfixConfDir, "main.cf"), postfixMain},
		{filepath.Join(postfixConfDir, "master.cf"), postfixMaster},
		{dovecotConf, dovecotConfig},
		{dovecotOAuth2Conf, dovecotOAuth2Config},
	} {
		data, err := render(f.tmpl, r.cfg)
		if err != nil {
			return err
		}
		if err := writeFile(r.path(f.name), data, 0, 0, 0o644); err != nil {
			return err
		}
	}
	for _, u := range r.users {
		if err := r.writeUser(u); err != nil {
			return err
		}
	}
	if err := r.writeGenerators(); err != nil {
		return err
	}
	if r.programs {
		if err := r.writePrograms(); err != nil {
			return err
		}
	}
	return r.writeMaps(r.users)
}

// writeUser writes u's Dovecot passwd-file: plain-text password, the "mail" user's uid and
// gid, and a home under mail/.
func (r *Real) writeUser(u User) error {
	return r.writeUserExtra(u, "")
}

// writeUserExtra is writeUser with Dovecot's extra fields (such as
// "userdb_quota_rule=*:storage=1B") at the end of the line.
func (r *Real) writeUserExtra(u User, extra string) error {
	line := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::%s\n", u.Address, u.Password, r.ids.mailUID, r.ids.mailGID, r.path(mailDir, u.Address), extra)
	return writeFile(r.path(usersDir, u.Address), []byte(line), 0, r.ids.dovecotGID, 0o640)
}

// writeMaps writes Postfix's texthash maps of the users' domains and addresses.
func (r *Real) writeMaps(users []User) error {
	var domains, mailboxes strings.Builder
	seen := make(map[string]bool)
	for _, u := range users {
		fmt.Fprintf(&mailboxes, "%s %s\n", u.Address, u.Address)
		_, domain, _ := strings.Cut(u.Address, "@")
		if !seen[domain] {
			seen[domain] = true
			fmt.Fprintf(&domains, "%s OK\n", domain)
		}
	}
	if r.generators {
		// The domain itself accepts any recipient at RCPT (the catch-all), so that Dovecot's
		// LMTP refuses the unknown ones and Postfix bounces them.
		fmt.Fprintf(&domains, "%s OK\n", GeneratorDomain)
		fmt.Fprintf(&mailboxes, "@%s catch-all\n", GeneratorDomain)
	}
	if err := writeFile(r.path(domainsMap), []byte(domains.String()), 0, 0, 0o644); err != nil {
		return err
	}
	return writeFile(r.path(mailboxesMap), []byte(mailboxes.String()), 0, 0, 0o644)
}

func (r *Real) path(elem ...string) string {
	return filepath.Join(append([]string{r.dir}, elem...)...)
}

// withLogs appends the tails of the daemons' logs to err.
func (r *Real) withLogs(err error) error {
	return fmt.Errorf("%w\n%s", err, r.Logs())
}

// writeFile writes data to name atomically (a reader sees the old or the new file), owned by
// uid:gid, with its modification time a minute in the past: Postfix stalls for about two
// seconds on a map or configuration file it sees as modified just now.
func writeFile(name string, data []byte, uid, gid int, mode os.FileMode) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	past := time.Now().Add(-time.Minute)
	if err := errors.Join(os.Chmod(tmp, mode), os.Chown(tmp, uid, gid), os.Chtimes(tmp, past, past)); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, name)
}

func mkdirOwned(name string, uid, gid int, mode os.FileMode) error {
	if err := os.MkdirAll(name, mode); err != nil {
		return err
	}
	return errors.Join(os.Chown(name, uid, gid), os.Chmod(name, mode))
}

// checkSearchable reports an error if the daemons' users cannot reach dir: every ancestor
// must be searchable by others.
func checkSearchable(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s (mode %v) is not searchable by other users; postfix, dovecot and mail must reach %s", p, fi.Mode().Perm(), dir)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago, for a daemon to bind.
// It picks one below the kernel's ephemeral range, so that no outgoing connection (tests dial
// a lot) can take it before the daemon binds it; another program binding fixed ports still
// can, and the start then fails with "Address already in use" in the logs.
func freePort() (int, error) {
	lo, hi := 20000, 32768
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if first, err := strconv.Atoi(f[0]); err == nil {
				hi = first
			}
		}
	}
	for range 100 {
		if hi-lo < 1000 {
			break // no room below the ephemeral range: let the kernel choose
		}
		port := lo + rand.IntN(hi-lo)
		if ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			ln.Close()
			return port, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
