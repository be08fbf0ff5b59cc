package mailworld

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"time"
)

// OpenSMTPD.
//
// With RealOptions.OpenSMTPD, OpenSMTPD (the smtpd of the Debian package opensmtpd, see
// OpenSMTPDPath) runs as the MX of OpenSMTPDDomain (mx.opensmtpd.test) on its own loopback
// port, and Postfix relays that domain to it. It stands for a vendor's gateway in front of
// an internal mail server: it accepts any recipient of its domain and relays the mail to a
// second listener of the same daemon, the "internal server", which answers RCPT with
//
//   - 550 "Invalid recipient" (OpenSMTPD's reject rule) for OpenSMTPDUnknownAddress: the
//     gateway fails the mail and returns its bounce, "Delivery status notification:
//     failed";
//   - 451 4.3.0 (a builtin filter's reject) for OpenSMTPDDeferredAddress: the gateway keeps
//     the mail queued and, with "bounce warn-interval 1s", sends its delay notice,
//     "Delivery status notification: delayed", at that first temporary failure.
//
// Both reports go from MAILER-DAEMON@mx.opensmtpd.test to Postfix, which delivers them to
// the envelope sender's INBOX.
//
// smtpd has its spool (/var/spool/smtpd), control socket and pid file (/run) and chroot
// (/var/lib/opensmtpd/empty) compiled in, and takes its name from /etc/mailname or the host
// name: no option moves them. So the world starts it with unshare(1) in a mount and UTS
// namespace of its own, where the world's opensmtpd/spool is bound over /var/spool,
// opensmtpd/run over /run, opensmtpd/mailname over /etc/mailname (if the machine has
// one) and the host name is mx.opensmtpd.test: its queue lives in the world's directory,
// and several worlds (tests in parallel) each run their own. That needs root, which a Real
// world needs anyway, and a kernel that lets root create namespaces. It runs its
// unprivileged processes as the accounts opensmtpd and opensmtpq (Debian's build; upstream
// calls them _smtpd and _smtpq), which StartRealWithOptions creates where they are missing,
// as the package's maintainer script does.

// Domain and addresses of OpenSMTPD (RealOptions.OpenSMTPD).
const (
	// OpenSMTPDDomain is relayed to OpenSMTPD.
	OpenSMTPDDomain = "opensmtpd.test"
	// OpenSMTPDUnknownAddress gets an OpenSMTPD bounce: "550 Invalid recipient" from the
	// server behind it.
	OpenSMTPDUnknownAddress = "no-such-user@" + OpenSMTPDDomain
	// OpenSMTPDDeferredAddress gets an OpenSMTPD delay notice: the server behind it answers
	// 451 4.3.0, and the mail stays in OpenSMTPD's queue.
	OpenSMTPDDeferredAddress = "support@" + OpenSMTPDDomain
)

// openSMTPDHost is OpenSMTPD's name (its mailname and host name in its namespace).
const openSMTPDHost = "mx." + OpenSMTPDDomain

// EnvOpenSMTPDPath names the environment variable that may give the path of OpenSMTPD's
// smtpd binary.
const EnvOpenSMTPDPath = "SUPPORTPROBE_OPENSMTPD"

// openSMTPDCandidates are the places OpenSMTPDPath looks: the binary of an installed opensmtpd
// package, and the private extraction .ci/run makes (opensmtpd conflicts with postfix, so
// the package cannot be installed beside it).
var openSMTPDCandidates = []string{"/usr/sbin/smtpd", "/usr/local/lib/supportprobe-opensmtpd/usr/sbin/smtpd"}

// OpenSMTPD's compiled-in paths and accounts (Debian's build, 6.8.0p2).
const (
	openSMTPDChroot    = "/var/lib/opensmtpd/empty"
	openSMTPDUser      = "opensmtpd"
	openSMTPDQueueUser = "opensmtpq"
)

// OpenSMTPDPath returns the smtpd binary a world with RealOptions.OpenSMTPD runs:
// $SUPPORTPROBE_OPENSMTPD if set, else the first of /usr/sbin/smtpd and
// /usr/local/lib/supportprobe-opensmtpd/usr/sbin/smtpd that exists. It returns an error
// wrapping ErrRealUnavailable that says how to get one otherwise.
func OpenSMTPDPath() (string, error) {
	if p := os.Getenv(EnvOpenSMTPDPath); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrRealUnavailable, EnvOpenSMTPDPath, p, err)
		}
		return p, nil
	}
	for _, p := range openSMTPDCandidates {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: no OpenSMTPD smtpd binary at %v; extract the Debian package opensmtpd (apt-get download, dpkg -x) into /usr/local/lib/supportprobe-opensmtpd as .ci/run does, or set %s", ErrRealUnavailable, openSMTPDCandidates, EnvOpenSMTPDPath)
}

// openSMTPDTools are the programs the world starts OpenSMTPD with, and their packages.
var openSMTPDTools = []struct{ name, pkg string }{{"unshare", "util-linux"}, {"mount", "mount"}, {"hostname", "hostname"}}

// openSMTPDAvailable reports what a world with OpenSMTPD lacks on this machine: the
// binary, the tools that make its namespace, and namespaces themselves.
func openSMTPDAvailable() error {
	var errs []error
	if _, err := OpenSMTPDPath(); err != nil {
		errs = append(errs, err)
	}
	for _, t := range openSMTPDTools {
		if _, err := exec.LookPath(t.name); err != nil {
			errs = append(errs, fmt.Errorf("%w: no %s (package %s), which starts OpenSMTPD in a namespace of its own", ErrRealUnavailable, t.name, t.pkg))
		}
	}
	if len(errs) == 0 && os.Geteuid() == 0 {
		if out, err := exec.Command("unshare", "--mount", "--uts", "--propagation", "private", "true").CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%w: unshare --mount --uts failed (%v: %s): OpenSMTPD's spool and control socket are compiled in, so it runs in a mount namespace of its own; run the tests where root may create namespaces (a privileged container)", ErrRealUnavailable, err, strings.TrimSpace(string(out))))
		}
	}
	return errors.Join(errs...)
}

// ensureOpenSMTPDAccounts creates OpenSMTPD's accounts and chroot directory where they are
// missing, as the package's maintainer script would (the extracted binary comes without
// them).
func ensureOpenSMTPDAccounts() error {
	for _, u := range []struct{ name, gecos string }{{openSMTPDUser, "OpenSMTPD Daemon"}, {openSMTPDQueueUser, "OpenSMTPD queue user"}} {
		if _, err := user.Lookup(u.name); err == nil {
			continue
		}
		steps := [][]string{
			{"addgroup", "--system", u.name},
			{"adduser", "--system", "--home", openSMTPDChroot, "--no-create-home", "--disabled-password", "--gecos", u.gecos, "--ingroup", u.name, u.name},
		}
		for _, args := range steps {
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				// Another world may have created it meanwhile.
				if _, lerr := user.Lookup(u.name); lerr == nil {
					break
				}
				if _, lerr := user.LookupGroup(u.name); lerr == nil && args[0] == "addgroup" {
					continue
				}
				return fmt.Errorf("create OpenSMTPD's account %s: %s: %v: %s; create it as .ci/run does", u.name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
			}
		}
	}
	if err := os.MkdirAll(openSMTPDChroot, 0o755); err != nil {
		return fmt.Errorf("create OpenSMTPD's chroot directory: %w", err)
	}
	return nil
}

// Layout of OpenSMTPD's part of the world's directory.
const (
	openSMTPDDir      = "opensmtpd"
	openSMTPDConf     = "opensmtpd/smtpd.conf"
	openSMTPDSpool    = "opensmtpd/spool"    // bound over /var/spool; smtpd makes spool/smtpd
	openSMTPDRun      = "opensmtpd/run"      // bound over /run: smtpd.sock, smtpd.pid
	openSMTPDMailname = "opensmtpd/mailname" // bound over /etc/mailname where that exists
	openSMTPDPIDFile  = "opensmtpd/run/smtpd.pid"
	openSMTPDOut      = "opensmtpd.out" // under log/: smtpd -d logs to stderr
)

// openSMTPDConfig returns smtpd.conf: the MX of OpenSMTPDDomain on OpenSMTPDPort, the
// "internal server" behind it on two more ports (one refusing, one deferring), and Postfix
// as the relay of everything else (its bounces and delay notices).
func (r *Real) openSMTPDConfig() []byte {
	return fmt.Appendf(nil, `# Generated by supportprobe's mailworld; rewritten on every start.
# The delay notice goes out at the first temporary failure whose next retry (minutes
# away) is more than a second after the mail arrived, so at the first one.
bounce warn-interval 1s
# Every connection goes to 127.0.0.1: without this, OpenSMTPD waits 5 s between two
# connections to the same host.
mta limit conn-delay-route 0
filter "deferring" phase rcpt-to match rcpt-to regex "." reject "451 4.3.0 Mailbox temporarily unavailable, try again later"

listen on 127.0.0.1 port %[1]d
listen on 127.0.0.1 port %[2]d tag REFUSING
listen on 127.0.0.1 port %[3]d tag DEFERRING filter "deferring"

action "internal_refusing" relay host smtp+notls://127.0.0.1:%[2]d
action "internal_deferring" relay host smtp+notls://127.0.0.1:%[3]d
action "to_postfix" relay host smtp+notls://127.0.0.1:%[4]d

match tag REFUSING from any for any reject
match tag DEFERRING from any for any reject
match from any for rcpt-to "%[5]s" action "internal_deferring"
match from any for domain "%[6]s" action "internal_refusing"
match from local for any action "to_postfix"
`, r.cfg.OpenSMTPDPort, r.cfg.OpenSMTPDRefusePort, r.cfg.OpenSMTPDDeferPort, r.cfg.SMTPPort, OpenSMTPDDeferredAddress, OpenSMTPDDomain)
}

// openSMTPDLaunch is the script unshare runs in OpenSMTPD's namespace: $1 spool, $2 run
// directory, $3 mailname file, $4 host name, $5 smtpd, $6 smtpd.conf. smtpd stays in the
// foreground (-d, logging to stderr) in the background of the script, which returns.
const openSMTPDLaunch = `set -e
mount --bind "$1" /var/spool
mount --bind "$2" /run
if [ -e /etc/mailname ]; then mount --bind "$3" /etc/mailname; fi
hostname "$4"
"$5" -d -f "$6" </dev/null &
`

// startOpenSMTPD writes OpenSMTPD's configuration and starts it, returning once it greets.
func (r *Real) startOpenSMTPD(deadline time.Time) error {
	if err := ensureOpenSMTPDAccounts(); err != nil {
		return err
	}
	if pid, err := r.daemonPID(openSMTPDPIDFile); err == nil {
		return fmt.Errorf("an OpenSMTPD of this world is still running (pid %d in %s)", pid, openSMTPDPIDFile)
	}
	os.Remove(r.path(openSMTPDPIDFile))
	for _, d := range []string{openSMTPDDir, openSMTPDSpool, openSMTPDRun} {
		if err := mkdirOwned(r.path(d), 0, 0, 0o755); err != nil {
			return err
		}
	}
	if err := writeFile(r.path(openSMTPDMailname), []byte(openSMTPDHost+"\n"), 0, 0, 0o644); err != nil {
		return err
	}
	if err := writeFile(r.path(openSMTPDConf), r.openSMTPDConfig(), 0, 0, 0o644); err != nil {
		return err
	}
	// smtpd -n checks the configuration and exits: a mistake fails here, with smtpd's
	// message in the log, rather than as a daemon that never greets.
	if err := r.run(openSMTPDOut, r.openSMTPDPath, "-n", "-f", r.path(openSMTPDConf)); err != nil {
		return fmt.Errorf("check opensmtpd configuration %s: %w", r.path(openSMTPDConf), err)
	}
	if err := r.run(openSMTPDOut, "unshare", "--mount", "--uts", "--propagation", "private", "--",
		"/bin/sh", "-c", openSMTPDLaunch, "opensmtpd-launch",
		r.path(openSMTPDSpool), r.path(openSMTPDRun), r.path(openSMTPDMailname), openSMTPDHost, r.openSMTPDPath, r.path(openSMTPDConf)); err != nil {
		return fmt.Errorf("start opensmtpd: %w", err)
	}
	pid, err := r.waitPID(openSMTPDPIDFile, deadline)
	if err != nil {
		return fmt.Errorf("start opensmtpd: %w", err)
	}
	r.openSMTPDPID = pid
	for {
		err := greeting(r.OpenSMTPDAddr(), "220 ")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for opensmtpd smtp greeting: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// OpenSMTPDAddr returns OpenSMTPD's SMTP address (the MX of OpenSMTPDDomain),
// "127.0.0.1:PORT", or "" in a world without OpenSMTPD.
func (r *Real) OpenSMTPDAddr() string {
	if r.cfg.OpenSMTPDPort == 0 {
		return ""
	}
	return fmt.Sprintf("127.0.0.1:%d", r.cfg.OpenSMTPDPort)
}

// stopOpenSMTPD stops OpenSMTPD and its processes.
func (r *Real) stopOpenSMTPD() error {
	pid := r.openSMTPDPID
	if pid <= 0 {
		pid, _ = r.daemonPID(openSMTPDPIDFile)
	}
	if pid <= 0 {
		return nil
	}
	if err := terminateTree(pid, realStopTimeout); err != nil {
		return fmt.Errorf("stop opensmtpd (pid %d): %w", pid, err)
	}
	r.openSMTPDPID = 0
	return nil
}
