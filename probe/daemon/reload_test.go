package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/store"
)

// reloadConfig's IMAP server does not exist (the watcher keeps reconnecting, which
// these tests do not look at); VENDORS is replaced by each test's vendors.
const reloadConfig = `state_dir: STATE
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none, username: lin.wei@example.com, password_file: STATE.pass, append_sent: false}
http: {listen: "127.0.0.1:0"}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
vendors:
VENDORS`

const (
	acmeVendor = `  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h}}
    schedules:
      - {cron: "0 3 * * *", scripts: [outage-en]}
`
	acmeSlower = `  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 4h}}
    schedules:
      - {cron: "30 4 * * *", scripts: [outage-en]}
`
	newcoVendor = `  - name: newco
    to: [help@newco.example]
    timezone: Asia/Shanghai
    sla: {P1: {first_response: 2h}}
    schedules:
      - {cron: "0 9 * * 1-5", scripts: [outage-en]}
`
)

// mustReloadConfig writes the configuration with vendors to path.
func mustReloadConfig(t *testing.T, path, stateDir, vendors string) {
	t.Helper()
	text := strings.ReplaceAll(strings.ReplaceAll(reloadConfig, "STATE", stateDir), "VENDORS", vendors)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	// Written once: a daemon running on it reads it at each reconnect.
	if _, err := os.Stat(stateDir + ".pass"); err == nil {
		return
	}
	if err := os.WriteFile(stateDir+".pass", []byte("not-a-real-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mustReloadDaemon opens a daemon on a configuration file holding vendors; now is its
// clock (nil: the real one).
func mustReloadDaemon(t *testing.T, vendors string, now func() time.Time) (*Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "supportprobe.yaml")
	mustReloadConfig(t, path, filepath.Join(dir, "state"), vendors)
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	if now != nil {
		at = now()
	}
	d, err := New(cfg, Options{Sender: &fakeSender{at: at}, Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

// checkAtEnd checks d's database file once the test is over and d closed. Call it
// before mustRunDaemon: cleanups run last first, and a Check beside a running daemon's
// writes can report pages freed by a newer transaction.
func checkAtEnd(t *testing.T, d *Daemon) {
	path := d.DB().Path()
	t.Cleanup(func() {
		d.Close()
		db, err := store.Open(path, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("reopen %s for Check: %v", path, err)
		}
		defer db.Close()
		if err := db.Check(); err != nil {
			t.Errorf("Check() = %v", err)
		}
	})
}

// waitHandled waits until the fire log has a watermark for job at or after t: the
// scheduler that has the job started (a new one marks its jobs handled up to its start)
// or stopped (a stopped one marks them up to its stop).
func waitHandled(t *testing.T, d *Daemon, job string, after time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		last, ok, err := d.DB().LastHandled(job)
		if err != nil {
			t.Fatal(err)
		}
		if ok && !last.Before(after) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("LastHandled(%s) = %v, %v 10 s after the reload, want a watermark at or after %v", job, last, ok, after)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReloadAddsChangesAndRemovesVendors(t *testing.T) {
	d, path := mustReloadDaemon(t, acmeVendor, nil)
	checkAtEnd(t, d)
	mustRunDaemon(t, d)
	ctx := context.Background()
	before, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Send(ctx, SendRequest{Vendor: "newco"}); !errors.Is(err, ErrUnknownVendor) {
		t.Fatalf("Send(newco) before the reload = %v, want ErrUnknownVendor", err)
	}

	// Add newco and slow acme-cloud's target down.
	mustReloadConfig(t, path, d.config().StateDir, acmeSlower+newcoVendor)
	reloadAt := time.Now()
	res, err := d.Reload(ctx)
	if err != nil {
		t.Fatalf("Reload() = %v", err)
	}
	if !res.OK || !slices.Equal(res.VendorsAdded, []string{"newco"}) || !slices.Equal(res.VendorsChanged, []string{"acme-cloud"}) || len(res.VendorsRemoved) > 0 || len(res.NeedsRestart) > 0 {
		t.Errorf("Reload() = %+v, want ok, newco added, acme-cloud changed, nothing removed or needing a restart", res)
	}
	// The old scheduler stopped and one with newco's schedule started.
	waitHandled(t, d, "newco/0", reloadAt)
	waitHandled(t, d, "acme-cloud/0", reloadAt)

	p, err := d.Send(ctx, SendRequest{Vendor: "newco"})
	if err != nil || p.Vendor != "newco" || p.Terms.SLA == nil || p.Terms.SLA.FirstResponse != 2*time.Hour || p.Terms.Hours.Zone != "Asia/Shanghai" {
		t.Errorf("Send(newco) after the reload = %+v, %v; want a probe on newco's terms (2h, Asia/Shanghai)", p.Terms, err)
	}
	kept, err := d.DB().Probe(before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Terms.SLA == nil || kept.Terms.SLA.FirstResponse != time.Hour {
		t.Errorf("probe %s sent before the reload has terms %+v, want its 1h target kept", kept.ID, kept.Terms.SLA)
	}
	after, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud"})
	if err != nil || after.Terms.SLA == nil || after.Terms.SLA.FirstResponse != 4*time.Hour {
		t.Errorf("Send(acme-cloud) after the reload = %+v, %v; want the new 4h target", after.Terms.SLA, err)
	}
	st, err := d.status()
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(st.Vendors, func(v VendorStatus) bool { return v.Name == "newco" }); i < 0 || st.Vendors[i].Zone != "Asia/Shanghai" || st.Vendors[i].NextFire.IsZero() {
		t.Errorf("status vendors = %+v, want newco with its next fire in Asia/Shanghai", st.Vendors)
	}
	if st.Config.LastReload == nil || !st.Config.LastReload.OK || st.Config.SHA256 != configDigest(path) {
		t.Errorf("status config = %+v, want the successful reload and the file's digest", st.Config)
	}

	// Remove newco again: sends to it are refused, its probes stay.
	mustReloadConfig(t, path, d.config().StateDir, acmeSlower)
	if res, err := d.Reload(ctx); err != nil || !slices.Equal(res.VendorsRemoved, []string{"newco"}) {
		t.Errorf("Reload() removing newco = %+v, %v", res, err)
	}
	if _, err := d.Send(ctx, SendRequest{Vendor: "newco"}); !errors.Is(err, ErrUnknownVendor) {
		t.Errorf("Send(newco) after removing it = %v, want ErrUnknownVendor", err)
	}
	if ps, err := d.DB().Probes(store.Filter{Vendor: "newco"}); err != nil || len(ps) != 1 {
		t.Errorf("newco's probes after its removal = %d, %v; want its one probe kept", len(ps), err)
	}
	if res, err := d.Reload(ctx); err != nil || !res.Unchanged {
		t.Errorf("Reload() of an unchanged file = %+v, %v; want unchanged", res, err)
	}
}

func TestReloadRefusesInvalidFile(t *testing.T) {
	d, path := mustReloadDaemon(t, acmeVendor, nil)
	checkAtEnd(t, d)
	mustRunDaemon(t, d)
	ctx := context.Background()
	inForce := d.config()
	tests := []struct {
		name, text, want string
	}{
		{"unknown key", strings.Replace(acmeVendor, "timezone:", "time_zone:", 1), `unknown key "time_zone"`},
		{"unknown time zone", strings.Replace(acmeVendor, "America/Los_Angeles", "America/Los_Angles", 1), "America/Los_Angles"},
		{"bad cron", strings.Replace(acmeVendor, "0 3 * * *", "0 25 * * *", 1), "cron"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustReloadConfig(t, path, inForce.StateDir, tt.text)
			res, err := d.Reload(ctx)
			if !errors.Is(err, ErrReloadRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Reload() = %v, want ErrReloadRefused naming %q", err, tt.want)
			}
			if res.OK || !strings.Contains(res.Error, tt.want) {
				t.Errorf("ReloadResult = %+v, want refused with the reason", res)
			}
			if d.config() != inForce {
				t.Error("the configuration in force changed after a refused reload")
			}
			st, _ := d.status()
			if st.Config.LastReload == nil || st.Config.LastReload.OK || !strings.Contains(st.Config.LastReload.Error, tt.want) {
				t.Errorf("status last reload = %+v, want the refusal and its reason", st.Config.LastReload)
			}
			if _, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud"}); err != nil {
				t.Errorf("Send(acme-cloud) after a refused reload = %v, want the daemon still probing", err)
			}
		})
	}
	mustReloadConfig(t, path, inForce.StateDir, acmeVendor)
	if res, err := d.Reload(ctx); err != nil || !res.OK {
		t.Errorf("Reload() of the fixed file = %+v, %v", res, err)
	}

	// Every reload is in the audit log, refused or not, with the file's SHA-256.
	log, err := d.db.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != len(tests)+1 {
		t.Fatalf("audit log after %d reloads has %d entries: %+v", len(tests)+1, len(log), log)
	}
	for i, c := range log {
		refused := i < len(tests)
		if c.Action != probe.CorrectionReload || c.File != path || len(c.ConfigSHA256) != 64 || (c.Refused != "") != refused {
			t.Errorf("audit entry %d = %+v; want a reload of %s, refused: %v", i, c, path, refused)
		}
		if refused && !strings.Contains(c.Refused, tests[i].want) {
			t.Errorf("audit entry %d says %q, want the reason naming %q", i, c.Refused, tests[i].want)
		}
	}
	if err := probe.VerifyEntries(log); err != nil {
		t.Errorf("VerifyEntries(reloads) = %v", err)
	}
}

func TestReloadLeavesRestartSectionsAlone(t *testing.T) {
	d, path := mustReloadDaemon(t, acmeVendor, nil)
	checkAtEnd(t, d)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(text), "port: 2525", "port: 2526", 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := d.Reload(context.Background())
	if err != nil || !slices.Equal(res.NeedsRestart, []string{"mail"}) {
		t.Errorf("Reload() after a port change = %+v, %v; want mail named as needing a restart", res, err)
	}
	if got := d.config().Mail.SMTP.Port; got != 2525 {
		t.Errorf("SMTP port in force after the reload = %d, want 2525 until a restart", got)
	}
}

// TestReloadDashboardReadOnly: dashboard.read_only: false added to the file takes
// effect at the reload, without a restart, and removing it makes the dashboard
// read-only again.
func TestReloadDashboardReadOnly(t *testing.T) {
	d, path := mustReloadDaemon(t, acmeVendor, nil)
	checkAtEnd(t, d)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !d.config().Dashboard.ReadOnly {
		t.Fatal("the dashboard accepts decisions before the file allows them")
	}
	if err := os.WriteFile(path, append(text, "dashboard: {read_only: false}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := d.Reload(context.Background())
	if err != nil || res.Unchanged || len(res.NeedsRestart) != 0 || d.config().Dashboard.ReadOnly {
		t.Errorf("Reload() with read_only: false = %+v, %v; read-only now %v; want it applied, no restart", res, err, d.config().Dashboard.ReadOnly)
	}
	if err := os.WriteFile(path, text, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reload(context.Background()); err != nil || !d.config().Dashboard.ReadOnly {
		t.Errorf("Reload() without the dashboard section = %v; read-only now %v, want true", err, d.config().Dashboard.ReadOnly)
	}
}

func TestStatusCounts(t *testing.T) {
	c := &testClock{t: clock}
	d, _ := mustReloadDaemon(t, acmeVendor, c.now)
	checkAtEnd(t, d)
	ctx := context.Background()
	answered, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud"})
	if err != nil {
		t.Fatal(err)
	}
	mustAddReply(t, d, answered, probe.KindHuman, clock.Add(10*time.Minute), "a1@acme.example")
	mustAddReply(t, d, open, probe.KindNeedsReview, clock.Add(20*time.Minute), "r1@acme.example")
	if _, err := d.DB().AddUnmatched(store.Unmatched{MessageID: "u1@elsewhere.example", Folder: "INBOX", UID: 9,
		ReceivedAt: clock, DetectedAt: clock, Kind: probe.KindOther}, []byte("Subject: hi\r\n\r\nhi")); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name       string
		at         time.Time
		pastTarget []string
	}{
		{"within target", clock.Add(30 * time.Minute), []string{}},
		{"past target", clock.Add(2 * time.Hour), []string{open.ID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.set(tt.at)
			st, err := d.status()
			if err != nil {
				t.Fatal(err)
			}
			if st.OpenProbes != 1 || !slices.Equal(st.PastTarget, tt.pastTarget) || st.NeedsReview != 1 || st.Unmatched != 1 {
				t.Errorf("status = open %d, past target %v, needs review %d, unmatched %d; want 1, %v, 1, 1",
					st.OpenProbes, st.PastTarget, st.NeedsReview, st.Unmatched, tt.pastTarget)
			}
		})
	}
	st, _ := d.status()
	// 0 3 * * * in Los Angeles after 2026-11-29 13:00 UTC (05:00 PST): 2026-11-30 03:00 PST.
	want := time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)
	if len(st.Vendors) != 1 || !st.Vendors[0].NextFire.Equal(want) || st.Vendors[0].NextFireLocal != "2026-11-30 03:00 PST" || st.Vendors[0].Zone != "America/Los_Angeles" {
		t.Errorf("status vendors = %+v, want acme-cloud next at %v, 03:00 PST", st.Vendors, want)
	}
	if st.SMTP == nil || !st.SMTP.OK || st.SMTP.Probe != open.ID {
		t.Errorf("status SMTP = %+v, want the last send (%s) accepted", st.SMTP, open.ID)
	}
}

// TestAuditNamesWhoAsked: a reload or pause asked on the control socket names, in the
// audit log, the account the kernel reports for the connection (not a name the client
// could make up), with the claimed name beside it when it differs; a reload by signal
// names the signal.
func TestAuditNamesWhoAsked(t *testing.T) {
	d, _ := mustReloadDaemon(t, acmeVendor, nil)
	checkAtEnd(t, d)
	mustRunDaemon(t, d)
	ctx := context.Background()
	me, err := user.Current()
	if err != nil {
		t.Skipf("no current user: %v", err)
	}
	account := fmt.Sprintf("%s (uid %s, pid %d)", me.Username, me.Uid, os.Getpid())

	c, err := Dial(ctx, d.config().StateDir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Reload(ctx); err != nil {
		t.Fatalf("Reload over the socket: %v", err)
	}
	if _, err := c.SetPause(ctx, PauseRequest{Vendor: "acme-cloud", At: time.Now().UTC(), By: "mallory"}); err != nil {
		t.Fatalf("SetPause over the socket: %v", err)
	}
	if _, err := d.Reload(WithRequester(ctx, "SIGHUP (sender not known)")); err != nil {
		t.Fatalf("Reload by signal: %v", err)
	}
	log, err := d.db.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{account, account + `, as "mallory"`, "SIGHUP (sender not known)"}
	if len(log) != len(want) {
		t.Fatalf("audit log has %d entries, want %d: %+v", len(log), len(want), log)
	}
	for i, c := range log {
		if c.By != want[i] {
			t.Errorf("audit entry %d (%s) by %q, want %q", i, c.Action, c.By, want[i])
		}
	}
}
