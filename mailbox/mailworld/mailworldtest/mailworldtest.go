// Package mailworldtest starts mail worlds (see package mailworld) for tests, in any
// package, and stops them when the test ends.
//
// A test that needs a mail server is written once against mailworld.World and run in both
// worlds with Each:
//
//	func TestWatch(t *testing.T) {
//		mailworldtest.Each(t, []mailworld.User{{Address: "lin.wei@example.com", Password: "pw"}},
//			func(t *testing.T, w mailworld.World) {
//				// dial w.SMTPAddr() and w.IMAPAddr() ...
//			})
//	}
//
// The real world (Postfix and Dovecot) is skipped where it cannot run, unless the environment
// sets SUPPORTPROBE_REAL_MAIL=1, which turns the skip into a failure: CI sets it, so a
// missing package fails loudly instead of passing with nothing tested.
package mailworldtest

import (
	"os"
	"testing"

	"supportprobe/mailbox/mailworld"
)

// EnvRequireReal is the environment variable that, set to "1", makes Real fail instead of
// skip when this machine cannot run a real mail world.
const EnvRequireReal = "SUPPORTPROBE_REAL_MAIL"

// Memory starts an in-process mail world with users and closes it when the test ends. It
// calls t.Fatal if the world cannot start.
func Memory(t testing.TB, users ...mailworld.User) *mailworld.Memory {
	t.Helper()
	w, err := mailworld.StartMemory(users...)
	if err != nil {
		t.Fatalf("start memory mail world: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("close memory mail world: %v", err)
		}
	})
	return w
}

// Real starts Postfix and Dovecot with users in a new directory under the system temp dir and stops them
// when the test ends (the daemons outlive the test process otherwise).
//
// Where a real world cannot run (mailworld.RealAvailable), Real skips the test, or fails it
// if SUPPORTPROBE_REAL_MAIL=1. It calls t.Fatal if the world fails to start. When the test
// has failed, cleanup logs the directory and the tails of both daemons' logs and keeps the
// directory for inspection; otherwise it removes it.
func Real(t testing.TB, users ...mailworld.User) *mailworld.Real {
	t.Helper()
	return RealWith(t, mailworld.RealOptions{}, users...)
}

// RealWith is Real with the choices in opts, such as Dovecot's mailbox format
// (mailworld.RealOptions.MailFormat) or the generators of machine mail; it skips (or fails)
// as Real does where the programs those choices need are missing
// (mailworld.RealAvailableWith).
func RealWith(t testing.TB, opts mailworld.RealOptions, users ...mailworld.User) *mailworld.Real {
	t.Helper()
	if err := mailworld.RealAvailableWith(opts); err != nil {
		if os.Getenv(EnvRequireReal) == "1" {
			t.Fatalf("%s=1, but: %v", EnvRequireReal, err)
		}
		t.Skipf("%v (set %s=1 to fail instead of skip)", err, EnvRequireReal)
	}
	// Not t.TempDir(): unix sockets live inside, so the path must be short, and the
	// daemons' users must be able to search every parent, which t.TempDir()'s is not.
	dir, err := os.MkdirTemp(os.TempDir(), "mw")
	if err != nil {
		t.Fatalf("start real mail world: %v", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("start real mail world: %v", err)
	}
	w, err := mailworld.StartRealWithOptions(dir, opts, users...)
	if err != nil {
		t.Fatalf("%v\n(directory %s kept for inspection)", err, dir)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("real mail world in %s (kept for inspection):\n%s", dir, w.Logs())
		}
		if err := w.Close(); err != nil {
			t.Errorf("%v", err)
		}
		if !t.Failed() {
			os.RemoveAll(dir)
		}
	})
	return w
}

// Each runs fn as two subtests, "memory" and "real", each with a fresh world holding users.
// The real subtest is skipped, or fails, as Real decides.
func Each(t *testing.T, users []mailworld.User, fn func(t *testing.T, w mailworld.World)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		fn(t, Memory(t, users...))
	})
	t.Run("real", func(t *testing.T) {
		fn(t, Real(t, users...))
	})
}
