package mailworld

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// UnboundPath is where Debian's unbound package puts the server.
const UnboundPath = "/usr/sbin/unbound"

// UnboundAvailable says why StartUnbound cannot run here (nil when it can).
func UnboundAvailable() error {
	if _, err := os.Stat(UnboundPath); err != nil {
		return fmt.Errorf("unbound not installed (%s; Debian package unbound): %w", UnboundPath, err)
	}
	return nil
}

// Unbound is a real DNS server (Debian's unbound) on a loopback port, answering from
// local data only: the TXT records it was started with, NXDOMAIN for any other name in
// their zones, and REFUSED for the rest of the world (it never recurses). Always call
// Close.
type Unbound struct {
	// Addr is "127.0.0.1:PORT", the resolver address to hand to the code under test.
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan error
}

// StartUnbound starts unbound in dir (its configuration and log go there), serving txt
// (name -> records, each record one string of at most 255 bytes), and waits until it
// answers. The zone of each name is its parent after "_domainkey." when there is one,
// else the name itself. It returns an error naming unbound's log when the server does
// not start within 10 s.
func StartUnbound(dir string, txt map[string][]string) (*Unbound, error) {
	if err := UnboundAvailable(); err != nil {
		return nil, err
	}
	if len(txt) == 0 {
		return nil, errors.New("unbound: no TXT records given; it would serve nothing")
	}
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n  interface: 127.0.0.1\n  port: %d\n  do-ip6: no\n  do-daemonize: no\n", port)
	fmt.Fprintf(&b, "  username: \"\"\n  chroot: \"\"\n  directory: %q\n  pidfile: %q\n", dir, filepath.Join(dir, "unbound.pid"))
	fmt.Fprintf(&b, "  use-syslog: no\n  logfile: %q\n  verbosity: 1\n  num-threads: 1\n", filepath.Join(dir, "unbound.log"))
	b.WriteString("  access-control: 127.0.0.0/8 allow\n  module-config: \"iterator\"\n  so-reuseport: no\n")
	var zones []string
	names := make([]string, 0, len(txt))
	for n := range txt {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		n = strings.TrimSuffix(strings.ToLower(n), ".")
		zone := n
		if _, parent, ok := strings.Cut(n, "._domainkey."); ok {
			zone = parent
		}
		if !slices.Contains(zones, zone) {
			zones = append(zones, zone)
			fmt.Fprintf(&b, "  local-zone: \"%s.\" static\n", zone)
		}
	}
	for _, n := range names {
		for _, r := range txt[n] {
			if len(r) > 255 || strings.ContainsAny(r, "\"'\n") {
				return nil, fmt.Errorf("unbound: TXT record of %s: longer than 255 bytes or holds a quote or newline; not supported here", n)
			}
			fmt.Fprintf(&b, "  local-data: '%s. 60 IN TXT \"%s\"'\n", strings.TrimSuffix(n, "."), r)
		}
	}
	b.WriteString("remote-control:\n  control-enable: no\n")
	conf := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("unbound: write %s: %w", conf, err)
	}
	cmd := exec.Command(UnboundPath, "-d", "-c", conf)
	log, err := os.Create(filepath.Join(dir, "unbound.stderr"))
	if err != nil {
		return nil, fmt.Errorf("unbound: %w", err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("unbound: start %s: %w", UnboundPath, err)
	}
	u := &Unbound{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { u.done <- cmd.Wait() }()
	// Ready when it answers the first published name.
	probeName := names[0]
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", u.Addr)
	}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := r.LookupTXT(ctx, probeName)
		cancel()
		if err == nil {
			return u, nil
		}
		select {
		case werr := <-u.done:
			return nil, fmt.Errorf("unbound exited at start (%v); see %s and %s", werr, filepath.Join(dir, "unbound.stderr"), filepath.Join(dir, "unbound.log"))
		default:
		}
		if time.Now().After(deadline) {
			u.Close()
			return nil, fmt.Errorf("unbound did not answer on %s within 10 s; see %s", u.Addr, filepath.Join(dir, "unbound.log"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeUDPPort finds a UDP port free on 127.0.0.1 now; another process could take it
// before unbound binds it, which StartUnbound then reports.
func freeUDPPort() (int, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("unbound: find a free port: %w", err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port, nil
}

// Close stops unbound and waits for it to exit (up to 5 s, then kills it).
func (u *Unbound) Close() error {
	if u.cmd.Process == nil {
		return nil
	}
	u.cmd.Process.Signal(os.Interrupt)
	select {
	case <-u.done:
		return nil
	case <-time.After(5 * time.Second):
		u.cmd.Process.Kill()
		<-u.done
		return fmt.Errorf("unbound on %s did not stop within 5 s; killed", u.Addr)
	}
}
