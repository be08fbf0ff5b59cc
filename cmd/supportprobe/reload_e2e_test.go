package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

var newcoUser = mailworld.User{Address: "support@newco.example", Password: "newco-pw"}

// newcoVendorYAML is appended to crashConfig's vendors: a vendor probed every minute,
// in another zone than acme-cloud.
const newcoVendorYAML = `  - name: newco
    to: ["NewCo Support <support@newco.example>"]
    timezone: Asia/Shanghai
    sla: {P1: {first_response: 2h, clock: calendar}}
    schedules:
      - {cron: "* * * * *", scripts: [outage-en]}
`

// daemonStatus asks the daemon of stateDir for its status.
func daemonStatus(t *testing.T, stateDir string) daemon.Status {
	t.Helper()
	c, err := daemon.Dial(context.Background(), stateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// waitReload waits until the daemon of stateDir reports a reload at or after since.
func waitReload(t *testing.T, stateDir string, since time.Time, logPath string) daemon.ReloadResult {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := daemonStatus(t, stateDir)
		if r := st.Config.LastReload; r != nil && !r.At.Before(since.Truncate(time.Second)) {
			return *r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload reported 15 s after SIGHUP\n%s", tailOf(logPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReloadEndToEnd runs `supportprobe run` as a real process and edits its
// configuration under it: a vendor added to the file is unknown to the daemon until
// SIGHUP (and send says to reload); after SIGHUP `send --vendor` works and its schedule
// fires; an invalid edit is refused by SIGHUP and by `reload`, with the reason in the
// log, reload's exit status and status, while the daemon keeps probing.
func TestReloadEndToEnd(t *testing.T) {
	mailworldtest.Each(t, []mailworld.User{linUser, supportUser, newcoUser}, func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustCrashConfig(t, w, w.SMTPAddr())
		logPath := filepath.Join(t.TempDir(), "daemon.log")
		child := startCrashChild(t, cfgPath, stateDir, logPath)
		pid := child.cmd.Process.Pid

		// status, text and JSON, from the real process, once its watcher has logged in
		// (until then it is unhealthy, and status exits 1 as /healthz answers 503).
		for deadline := time.Now().Add(15 * time.Second); !daemonStatus(t, stateDir).Healthy; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("daemon not healthy 15 s after start: %+v\n%s", daemonStatus(t, stateDir), tailOf(logPath, 30))
			}
		}
		code, stdout, stderr := invoke(t, time.Now(), "status", "--config", cfgPath)
		if code != exitOK || !strings.Contains(stdout, "running, pid "+strconv.Itoa(pid)) || !strings.Contains(stdout, "acme-cloud") ||
			!strings.Contains(stdout, "America/Los_Angeles") || !strings.Contains(stdout, "INBOX") {
			t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
		}
		code, stdout, _ = invoke(t, time.Now(), "status", "--config", cfgPath, "--format", "json")
		var st daemon.Status
		if err := json.Unmarshal([]byte(stdout), &st); err != nil || code != exitOK || !st.Running || st.PID != pid || len(st.Vendors) != 1 {
			t.Errorf("status --format json: exit %d, %+v, %v\n%s", code, st, err, stdout)
		}

		// Add newco to the file: the daemon does not know it yet, and send says so.
		orig, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		withNewco := string(orig) + newcoVendorYAML
		if err := os.WriteFile(cfgPath, []byte(withNewco), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, stderr = invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "newco")
		if code != exitNotFound || !strings.Contains(stderr, "before the file changed") || !strings.Contains(stderr, "supportprobe reload") {
			t.Errorf("send --vendor newco before the reload: exit %d, stderr %q; want %d and a hint to reload", code, stderr, exitNotFound)
		}
		_, stdout, _ = invoke(t, time.Now(), "status", "--config", cfgPath)
		if !strings.Contains(stdout, "the file has changed since") {
			t.Errorf("status after an edit does not say the file changed:\n%s", stdout)
		}

		hupAt := time.Now()
		if err := child.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		res := waitReload(t, stateDir, hupAt, logPath)
		if !res.OK || !slices.Equal(res.VendorsAdded, []string{"newco"}) {
			t.Fatalf("reload after SIGHUP = %+v, want newco added\n%s", res, tailOf(logPath, 30))
		}
		code, stdout, stderr = invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "newco")
		if code != exitOK || !strings.HasPrefix(stdout, "P") {
			t.Fatalf("send --vendor newco after SIGHUP: exit %d\n%s%s", code, stdout, stderr)
		}
		waitForMail(t, w, newcoUser, 1, 30*time.Second)

		// newco's every-minute schedule fires in the running daemon.
		deadline := time.Now().Add(80 * time.Second)
		for {
			c, err := daemon.Dial(context.Background(), stateDir)
			if err != nil {
				t.Fatal(err)
			}
			ps, err := c.Probes(context.Background(), store.Filter{Vendor: "newco"})
			c.Close()
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(ps, func(p probe.Probe) bool { return !p.ScheduledAt.IsZero() && p.State == probe.StateSent }) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no scheduled probe to newco 80 s after the reload; probes %+v\n%s", ps, tailOf(logPath, 30))
			}
			time.Sleep(250 * time.Millisecond)
		}

		// An invalid edit: SIGHUP refuses it and says why in the log and in status.
		bad := strings.Replace(withNewco, "timezone: Asia/Shanghai", "timezone: Asia/Shanghia", 1)
		if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		hupAt = time.Now()
		child.cmd.Process.Signal(syscall.SIGHUP)
		res = waitReload(t, stateDir, hupAt, logPath)
		if res.OK || !strings.Contains(res.Error, "Asia/Shanghia") {
			t.Errorf("reload of an invalid file after SIGHUP = %+v, want refused naming the zone", res)
		}
		if log := tailOf(logPath, 200); !strings.Contains(log, "configuration not reloaded") || !strings.Contains(log, "Asia/Shanghia") {
			t.Errorf("the daemon's log does not say why the file was refused:\n%s", tailOf(logPath, 20))
		}
		code, stdout, stderr = invoke(t, time.Now(), "status", "--config", cfgPath)
		if code != exitConfig || !strings.Contains(stdout, "REFUSED") || !strings.Contains(stdout, "Asia/Shanghia") || !strings.Contains(stderr, "keeps the configuration loaded at") {
			t.Errorf("status with an invalid file: exit %d\n%s%s", code, stdout, stderr)
		}
		// `reload` is refused the same way, with exit 3.
		code, _, stderr = invoke(t, time.Now(), "reload", "--config", cfgPath)
		if code != exitConfig || !strings.Contains(stderr, "Asia/Shanghia") || !strings.Contains(stderr, "keeps the configuration loaded at") {
			t.Errorf("reload of an invalid file: exit %d, stderr %q; want %d and the reason", code, stderr, exitConfig)
		}
		// The daemon runs on, with newco: the file is put back and send works.
		if err := os.WriteFile(cfgPath, []byte(withNewco), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr = invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "newco")
		if code != exitOK || !strings.HasPrefix(stdout, "P") {
			t.Errorf("send --vendor newco after a refused reload: exit %d\n%s%s", code, stdout, stderr)
		}

		// Remove newco with `reload`: it takes effect and sends to newco are refused.
		if err := os.WriteFile(cfgPath, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr = invoke(t, time.Now(), "reload", "--config", cfgPath)
		if code != exitOK || !strings.Contains(stdout, "removed newco") {
			t.Errorf("reload removing newco: exit %d\n%s%s", code, stdout, stderr)
		}
		if st := daemonStatus(t, stateDir); len(st.Vendors) != 1 || st.Vendors[0].Name != "acme-cloud" {
			t.Errorf("status vendors after removing newco = %+v", st.Vendors)
		}
		if code := child.stop(t); code != exitOK {
			t.Errorf("daemon exited %d\n%s", code, tailOf(logPath, 30))
		}
	})
}
