package daemon

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/alert"
)

// cutProxy forwards TCP connections to target until cut: then it closes the open ones
// and refuses new ones (accepts and closes them at once) until restored.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	open   []net.Conn
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			up, err := net.Dial("tcp", target)
			if down || err != nil {
				c.Close()
				if up != nil {
					up.Close()
				}
				continue
			}
			p.mu.Lock()
			p.open = append(p.open, c, up)
			p.mu.Unlock()
			wg.Go(func() { io.Copy(c, up); c.Close() })
			wg.Go(func() { io.Copy(up, c); up.Close() })
		}
	})
	t.Cleanup(func() { ln.Close(); p.setDown(true); wg.Wait() })
	return p
}

// setDown cuts every open connection and refuses new ones (true), or lets them through.
func (p *cutProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.open {
			c.Close()
		}
		p.open = nil
	}
}

// TestWatcherDownAlertWithoutPolling runs the daemon with its safety net an hour away
// and an IMAP server behind a proxy that cuts it off: watcher_down is raised once the
// threshold has passed since the cut (a timer armed for that instant), and watcher_up
// as soon as the watcher has synced again (its first sync wakes the alert loop),
// neither by polling.
func TestWatcherDownAlertWithoutPolling(t *testing.T) {
	w := mailworldtest.Memory(t, linUser, supportUser)
	proxy := startCutProxy(t, w.IMAPAddr())
	dir := t.TempDir()
	pw := writePassword(t, dir, "lin.pass", linUser.Password)
	_, worldPort, _ := net.SplitHostPort(w.IMAPAddr())
	_, proxyPort, _ := net.SplitHostPort(proxy.ln.Addr().String())
	text := strings.Replace(string(worldConfigText(w, filepath.Join(dir, "state"),
		"username: lin.wei@example.com, password_file: "+pw,
		"username: lin.wei@example.com, password_file: "+pw+", append_sent: false")),
		"port: "+worldPort+",", "port: "+proxyPort+",", 1)
	cfg, err := configs.Parse([]byte(text), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Under the configuration's one-minute floor, so the test is short.
	const after = 1500 * time.Millisecond
	cfg.Alerts = &configs.Alerts{WatcherDownAfter: after, WaitingAfter: configs.DefaultWaitingAfter, DiskFreeBelow: 1, MaxPerHour: 30}
	d, err := New(cfg, Options{Sender: &fakeSender{}, Logger: quiet, NoSchedules: true, AlertInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mustRunDaemon(t, d)

	waitFor := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	raised := func(event string) (at time.Time, n int) {
		rs, err := d.db.Alerts().List(time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Event.Event == event {
				at, n = r.RaisedAt, n+1
			}
		}
		return at, n
	}
	waitFor("the watcher's first sync", 10*time.Second, func() bool {
		wt := d.watcher.Load()
		return wt != nil && wt.State().Connected && !wt.State().LastSync.IsZero()
	})

	// Down counts from the last complete sync (or the start, if later).
	healthy := d.healthySince(d.watcher.Load().State())
	cut := time.Now()
	proxy.setDown(true)
	waitFor("watcher_down after the cut", after+alertSlack+5*time.Second, func() bool { _, n := raised(alert.WatcherDown); return n == 1 })
	if at, _ := raised(alert.WatcherDown); at.Before(healthy.Add(after)) {
		t.Errorf("watcher_down raised at %s, before the threshold passed (%s)", at.Format(time.StampMilli), healthy.Add(after).Format(time.StampMilli))
	}

	proxy.setDown(false)
	// The watcher reconnects within its longest backoff (4 s).
	waitFor("watcher_up after the server came back", 10*time.Second, func() bool { _, n := raised(alert.WatcherUp); return n == 1 })
	if _, n := raised(alert.WatcherDown); n != 1 {
		t.Errorf("%d watcher_down alerts, want 1", n)
	}
	t.Log(fmt.Sprintf("cut at %s; alerts raised without a poll", cut.Format(time.StampMilli)))
}
