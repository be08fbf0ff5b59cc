package daemon

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"supportprobe/configs"
)

// With control.group the socket is 0660 and the state directory 0710, both the group's;
// without, the socket stays 0600; an unknown group stops New with a clear error.
func TestControlGroup(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skip(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(t.TempDir(), "state")
	d, err := New(&configs.Config{StateDir: dir, ControlGroup: g.Name}, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{SocketPath(dir): 0o660, dir: 0o710, DatabasePath(dir): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	d.Close()

	private := filepath.Join(t.TempDir(), "state")
	d, err = New(&configs.Config{StateDir: private}, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(SocketPath(private)); fi.Mode().Perm() != 0o600 {
		t.Errorf("socket without a control group: %v, want 0600", fi.Mode().Perm())
	}
	d.Close()

	_, err = New(&configs.Config{StateDir: filepath.Join(t.TempDir(), "state"), ControlGroup: "no-such-group-sp"}, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "control.group no-such-group-sp") || !strings.Contains(err.Error(), "create the group") {
		t.Errorf("unknown group: %v", err)
	}
}
