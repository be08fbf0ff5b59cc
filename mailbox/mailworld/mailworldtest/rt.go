package mailworldtest

import (
	"os"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
)

// RT starts a Request Tracker 5 help desk (see mailworld.StartRT) wired into the world w,
// whose General queue is the world user queue, in a new directory under the system temp
// dir, and stops it when the test ends.
//
// Where RT cannot run (mailworld.RTAvailable), RT skips the test, or fails it if
// SUPPORTPROBE_REAL_MAIL=1. It calls t.Fatal if RT fails to start. When the test has
// failed, cleanup logs the directory and the tails of RT's logs and keeps the directory;
// otherwise it removes it.
func RT(t testing.TB, w mailworld.World, queue mailworld.User) *mailworld.RT {
	t.Helper()
	return RTWith(t, w, mailworld.RTOptions{Queue: queue})
}

// RTWith is RT with options: opts.Queue is required; SMTPAddr and IMAPAddr are w's.
func RTWith(t testing.TB, w mailworld.World, opts mailworld.RTOptions) *mailworld.RT {
	t.Helper()
	if err := mailworld.RTAvailable(); err != nil {
		if os.Getenv(EnvRequireReal) == "1" {
			t.Fatalf("%s=1, but: %v", EnvRequireReal, err)
		}
		t.Skipf("%v (set %s=1 to fail instead of skip)", err, EnvRequireReal)
	}
	dir, err := os.MkdirTemp(os.TempDir(), "rt")
	if err != nil {
		t.Fatalf("start request tracker: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("start request tracker: %v", err)
	}
	opts.SMTPAddr, opts.IMAPAddr = w.SMTPAddr(), w.IMAPAddr()
	rt, err := mailworld.StartRT(dir, opts)
	if err != nil {
		t.Fatalf("%v\n(directory %s kept for inspection)", err, dir)
	}
	db, srv := rt.StartupTimes()
	t.Logf("request tracker at %s: database created in %v, rt-server answering after %v more", rt.URL(), db.Round(100*time.Millisecond), srv.Round(100*time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("request tracker in %s (kept for inspection):\n%s", dir, rt.Logs())
		}
		if err := rt.Close(); err != nil {
			t.Errorf("%v", err)
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return rt
}
