package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// mustTmpfs mounts a tmpfs of size bytes on dir (which must exist) and unmounts it when
// the test ends, even if it fails. It skips the test, saying why, where mounting is not
// permitted (not root, or a container without CAP_SYS_ADMIN).
func mustTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (%v): %s", dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// remount remounts the tmpfs on dir with opts ("ro" or "rw").
func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v: %s", dir, opts, err, out)
	}
}

// fill writes a file in dir until the file system is full, and returns its name.
func fill(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			return name
		}
	}
}

// TestStateDirFull runs the daemon on a 4 MiB tmpfs and fills it while a reply arrives
// and an inquiry is asked for. The reply cannot be recorded: the watcher keeps its IMAP
// position before it and says why in the log; the send is refused before any mail goes
// out, and the CLI says the disk is full, naming the file. The daemon keeps running; once
// the space is freed it records the reply at its next sync (the next mail wakes it; at
// the latest the 3-minute sweep) and sends again, without a restart; and the database
// passes bbolt's check. Needs root to mount the tmpfs; skipped otherwise.
func TestStateDirFull(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Memory(t, linUser, supportUser)
	cfgPath, stateDir := mustWorldConfig(t, w)
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	mustTmpfs(t, stateDir, 4<<20)
	stop := startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")

	code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
	if code != exitOK {
		t.Fatalf("send: exit %d, %s", code, stderr)
	}
	id := strings.TrimSpace(stdout)
	p := waitOutageProbe(t, cfgPath, id, "sent", 20*time.Second, func(p outageProbe) bool { return p.Status == "sent" })

	filler := fill(t, stateDir)
	// bbolt reuses free pages of its file, so a small record may still fit on a full
	// disk: this reply carries a 300 KB log excerpt that cannot.
	logs := make([]byte, 300<<10)
	rand.Read(logs)
	excerpt := base64.StdEncoding.EncodeToString(logs)
	var wrapped strings.Builder
	for len(excerpt) > 76 {
		wrapped.WriteString(excerpt[:76] + "\n")
		excerpt = excerpt[76:]
	}
	wrapped.WriteString(excerpt)
	vendorSend(t, w, "lin.wei@example.com", vendorReply("full-1-"+p.Token+"@helpdesk.acme.example", p.MessageID,
		"Answered while the disk was full. Our logs:\n\n"+wrapped.String()))
	// bbolt may still place a small probe in free pages its file already has, so a send
	// or two can succeed on the full disk; ask until one is refused, which must happen
	// long before 30.
	refused := false
	for i := 0; i < 30 && !refused; i++ {
		code, stdout, stderr = invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		t.Logf("send %d on a full disk: exit %d, stdout %q, stderr %q", i+1, code, stdout, stderr)
		if code == exitOK {
			continue
		}
		refused = true
		if !strings.Contains(stderr, "no space left on device") || !strings.Contains(stderr, daemon.DatabasePath(stateDir)) {
			t.Errorf("send on a full disk: exit %d, stderr %q; want a failure naming %s and the full disk", code, stderr, daemon.DatabasePath(stateDir))
		}
	}
	if !refused {
		t.Fatal("30 sends on a full disk all succeeded")
	}
	time.Sleep(2 * time.Second) // the watcher has seen the reply, and failed to record it
	// Nothing goes out unrecorded: every inquiry the vendor got is a probe in the history.
	recorded := map[string]bool{}
	code, stdout, stderr = invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
	var all []outageProbe
	if err := json.Unmarshal([]byte(stdout), &all); code != exitOK || err != nil {
		t.Fatalf("history on a full disk: exit %d, %v, %s", code, err, stderr)
	}
	for _, q := range all {
		recorded[strings.Trim(q.MessageID, "<>")] = true
	}
	for _, m := range waitForMail(t, w, supportUser, 1, 5*time.Second) {
		if mid := strings.Trim(m.header.Get("Message-ID"), "<>"); !recorded[mid] {
			t.Errorf("the vendor got inquiry %s, which no probe records: something went out unrecorded", mid)
		}
	}
	p = waitOutageProbe(t, cfgPath, id, "history on a full disk", 5*time.Second, func(outageProbe) bool { return true })
	if len(p.Replies) != 0 {
		t.Errorf("replies recorded on a full disk: %+v", p.Replies)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	vendorSend(t, w, "lin.wei@example.com", vendorReply("full-2-"+p.Token+"@helpdesk.acme.example", p.MessageID, "A second answer, once there was space."))
	p = waitOutageProbe(t, cfgPath, id, "both replies recorded once space is back", 20*time.Second,
		func(p outageProbe) bool { return len(p.Replies) == 2 })
	code, _, stderr = invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
	if code != exitOK {
		t.Errorf("send once space is back: exit %d, %s", code, stderr)
	}

	stop()
	db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Errorf("store Check() after the full disk = %v", err)
	}
}

// TestStateDirReadOnly: on a read-only state directory `run` refuses to start, naming
// the directory, while history and show still read the database. As root it remounts a
// tmpfs read-only (root ignores file modes); otherwise it takes the write permission
// away from the directory.
func TestStateDirReadOnly(t *testing.T) {
	cfgPath, stateDir := mustConfig(t)
	t.Setenv("SP_TEST_IMAP_PASSWORD", "secret")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	root := os.Geteuid() == 0
	if root {
		mustTmpfs(t, stateDir, 4<<20)
	}
	seed(t, stateDir)
	if root {
		remount(t, stateDir, "ro")
	} else {
		if err := os.Chmod(stateDir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(stateDir, 0o700) })
	}

	code, _, stderr := invoke(t, now, "run", "--config", cfgPath)
	t.Logf("run on a read-only state directory: exit %d, stderr %q", code, stderr)
	if code == exitOK || !strings.Contains(stderr, stateDir) || !strings.Contains(stderr, "read-only") {
		t.Errorf("run on a read-only state directory: exit %d, stderr %q; want a failure naming %s as read-only", code, stderr, stateDir)
	}
	code, stdout, stderr := invoke(t, now, "history", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("history on a read-only state directory: exit %d, %s", code, stderr)
	}
	checkHistoryJSON(t, stdout)
	if code, stdout, stderr := invoke(t, now, "show", "--config", cfgPath, "P1"); code != exitOK || !strings.Contains(stdout, "matched by thread") {
		t.Errorf("show P1 on a read-only state directory: exit %d, stderr %q\n%s", code, stderr, stdout)
	}
}
