package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrBusy means another process already runs the daemon on the same state directory.
var ErrBusy = errors.New("state directory in use")

// stateLock is an exclusive flock on state_dir/supportprobe.pid, which holds the pid of
// the owner so a second daemon can say who holds the directory. The kernel drops the
// lock when the process dies, so a crash never leaves a stale lock.
type stateLock struct{ f *os.File }

// PidFile returns the path of the lock file in stateDir.
func PidFile(stateDir string) string { return filepath.Join(stateDir, "supportprobe.pid") }

func acquireLock(stateDir string) (*stateLock, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory %s: %w", stateDir, err)
	}
	path := PidFile(stateDir)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, syscall.EROFS) {
		return nil, fmt.Errorf("state directory %s is on a read-only file system: run writes its lock, database and control socket there; remount it read-write or choose another state_dir (history, show, inbox and report still read it): %w", stateDir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		holder := "another process"
		if data, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(data))); perr == nil {
				holder = fmt.Sprintf("supportprobe run (pid %d)", pid)
			}
		}
		return nil, fmt.Errorf("state directory %s is held by %s: %w; stop that daemon first, or give this one another state_dir", stateDir, holder, ErrBusy)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write pid to %s: %w", path, err)
	}
	if err := restrictDatabase(DatabasePath(stateDir)); err != nil {
		f.Close()
		return nil, err
	}
	return &stateLock{f: f}, nil
}

// restrictDatabase makes an existing database file its owner's alone. It holds the
// evidence and the key that signs our Message-IDs, and one copied or restored with a
// looser mode would stay readable by others: bbolt sets the mode only when it creates
// the file. (The state directory may be shared and stays as the user made it; a new one
// is 0700.)
func restrictDatabase(db string) error {
	st, err := os.Stat(db)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil // absent (store.Open creates it 0600) or already private
	}
	if err := os.Chmod(db, st.Mode().Perm()&0o600); err != nil {
		return fmt.Errorf("restrict database %s (mode %v) to its owner: %w; run chmod 600 on it", db, st.Mode().Perm(), err)
	}
	return nil
}

// release empties the pid file and drops the lock.
func (l *stateLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}
