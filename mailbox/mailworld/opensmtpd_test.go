package mailworld_test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

// TestOpenSMTPDIsolated: a world with OpenSMTPD (and nothing else of the generators) keeps
// OpenSMTPD's compiled-in spool, control socket and pid file in the world's directory and
// its host name in a namespace of its own: the machine's /var/spool and host name stay as
// they were, OpenSMTPD greets as mx.opensmtpd.test, and Close ends it.
func TestOpenSMTPDIsolated(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	_, spoolErr := os.Stat("/var/spool/smtpd")
	start := time.Now()
	w := mailworldtest.RealWith(t, mailworld.RealOptions{OpenSMTPD: true}, lin)
	t.Logf("world with OpenSMTPD started in %v", time.Since(start).Round(time.Millisecond))

	conn, err := net.DialTimeout("tcp", w.OpenSMTPDAddr(), 2*time.Second)
	if err != nil {
		t.Fatalf("dial OpenSMTPD at %s: %v", w.OpenSMTPDAddr(), err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	greeting, err := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	if err != nil {
		t.Fatalf("read OpenSMTPD's greeting: %v", err)
	}
	if !strings.HasPrefix(greeting, "220 mx.opensmtpd.test ESMTP OpenSMTPD") {
		t.Errorf("OpenSMTPD greets %q, want 220 mx.opensmtpd.test ESMTP OpenSMTPD", strings.TrimSpace(greeting))
	}
	if now, err := os.Hostname(); err != nil || now != host {
		t.Errorf("the machine's host name is %q (%v) with OpenSMTPD running, was %q", now, err, host)
	}
	if _, err := os.Stat("/var/spool/smtpd"); os.IsNotExist(spoolErr) && err == nil {
		t.Errorf("/var/spool/smtpd appeared on the machine; OpenSMTPD's spool belongs in the world's directory")
	}
	for _, p := range []string{"opensmtpd/spool/smtpd/queue", "opensmtpd/run/smtpd.sock"} {
		if _, err := os.Stat(filepath.Join(w.Dir(), p)); err != nil {
			t.Errorf("OpenSMTPD's %s is not in the world's directory: %v", filepath.Base(p), err)
		}
	}
	data, err := os.ReadFile(filepath.Join(w.Dir(), "opensmtpd/run/smtpd.pid"))
	if err != nil {
		t.Fatalf("OpenSMTPD's pid file: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("OpenSMTPD's pid file holds %q: %v", data, err)
	}
	start = time.Now()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close took %v", time.Since(start).Round(time.Millisecond))
	if err := syscall.Kill(pid, 0); err == nil {
		if stat, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); !strings.Contains(string(stat), ") Z ") {
			t.Errorf("OpenSMTPD (pid %d) still runs after Close", pid)
		}
	}
}
