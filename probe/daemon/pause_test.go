package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/store"
)

// pauseConfig is probingConfig with a configured maintenance window on acme-cloud:
// 2026-12-24 00:00 to 2026-12-27 00:00 in +01:00.
var pauseConfig = probingConfig + `    pause:
      - {from: "2026-12-24T00:00:00+01:00", until: "2026-12-27T00:00:00+01:00", note: holiday freeze}
`

// runCatchUp starts a daemon on dir at the instant now, lets the catch-up handle the
// schedule's fire at fireAt, stops it, and returns the fire's record and what was sent.
func runCatchUp(t *testing.T, dir string, now, fireAt time.Time, setup func(d *Daemon)) (probe.Fire, []probe.Inquiry) {
	t.Helper()
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(pauseConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sender := &fakeSender{at: now}
	d, err := New(cfg, Options{Sender: sender, SentFolder: &fakeSentFolder{}, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if setup != nil {
		setup(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var fires []probe.Fire
	for deadline := time.Now().Add(10 * time.Second); len(fires) == 0; time.Sleep(10 * time.Millisecond) {
		if fires, err = d.DB().Fires(jobID("acme-cloud", 0), fireAt, fireAt.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if len(fires) == 0 && time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("no outcome recorded for the fire of %s within 10 s", fireAt.Format(time.RFC3339))
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
	if err := d.DB().Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
	sender.mu.Lock()
	defer sender.mu.Unlock()
	return fires[0], sender.sent
}

// TestFireDuringPauseIsSkipped: a pause set by hand until 04:00 holds back the fire of
// 03:00, which is recorded as skipped with the pause as its reason, and sends nothing;
// the next day's fire, after the pause's end, goes out.
func TestFireDuringPauseIsSkipped(t *testing.T) {
	t.Setenv("SP_UNUSED", "unused")
	dir := filepath.Join(t.TempDir(), "state")
	fireAt := clock // 03:00 in Los Angeles, the schedule's time
	f, sent := runCatchUp(t, dir, fireAt.Add(10*time.Second), fireAt, func(d *Daemon) {
		if _, err := d.SetPause(PauseRequest{Vendor: "acme-cloud", Until: fireAt.Add(time.Hour), Note: "their migration", By: "lin", At: fireAt.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := d.DB().MarkHandled(jobID("acme-cloud", 0), fireAt.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
	if f.Outcome != probe.FireSkipped || !strings.Contains(f.Reason, "paused by hand") || !strings.Contains(f.Reason, "their migration") || f.ProbeID != "" {
		t.Errorf("fire during the pause = %s %q, probe %q; want skipped, naming the pause and its note, no probe", f.Outcome, f.Reason, f.ProbeID)
	}
	if len(sent) != 0 {
		t.Errorf("%d inquiries sent during the pause", len(sent))
	}

	next := fireAt.AddDate(0, 0, 1)
	f, sent = runCatchUp(t, dir, next.Add(10*time.Second), next, nil)
	if f.Outcome != probe.FireLate || f.ProbeID == "" || len(sent) != 1 {
		t.Errorf("fire after the pause ended = %s %q, probe %q, %d sent; want sent (late by the catch-up's 10 s), one inquiry", f.Outcome, f.Reason, f.ProbeID, len(sent))
	}
}

// TestPauseChecks covers the pause check of fires (the configured window and a pause by
// hand), the refusal of a send by hand, --force, and resume.
func TestPauseChecks(t *testing.T) {
	t.Setenv("SP_UNUSED", "unused")
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(pauseConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sender := &fakeSender{at: now}
	d, err := New(cfg, Options{Sender: sender, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	lim := pauseLimiter{d: d, inner: allowAll{}}
	ctx := context.Background()
	holiday := time.Date(2026, 12, 25, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		at     time.Time
		ok     bool
		reason string
	}{
		{"before the window", time.Date(2026, 12, 23, 22, 59, 59, 0, time.UTC), true, ""},
		{"window start", time.Date(2026, 12, 23, 23, 0, 0, 0, time.UTC), false, "in the configured pause window 2026-12-24T00:00:00+01:00 – 2026-12-27T00:00:00+01:00 (holiday freeze)"},
		{"inside", holiday, false, "configured pause window"},
		{"window end is excluded", time.Date(2026, 12, 26, 23, 0, 0, 0, time.UTC), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason, err := lim.Allow(ctx, "acme-cloud", tc.at)
			if err != nil || ok != tc.ok || !strings.Contains(reason, tc.reason) {
				t.Errorf("Allow(%s) = %v, %q, %v; want %v, %q", tc.at.Format(time.RFC3339), ok, reason, err, tc.ok, tc.reason)
			}
		})
	}

	if _, err := d.SetPause(PauseRequest{Vendor: "nope"}); !errors.Is(err, ErrUnknownVendor) {
		t.Errorf("SetPause(nope) = %v, want ErrUnknownVendor", err)
	}
	if _, err := d.SetPause(PauseRequest{Vendor: "acme-cloud", Until: now.Add(-time.Minute)}); err == nil || !strings.Contains(err.Error(), "is not after now") {
		t.Errorf("SetPause(until in the past) = %v, want a refusal", err)
	}
	if _, err := d.SetPause(PauseRequest{Vendor: "acme-cloud", Note: "checking their portal", By: "lin"}); err != nil {
		t.Fatal(err)
	}
	if ok, reason, _ := lim.Allow(ctx, "acme-cloud", now.Add(time.Hour)); ok || !strings.Contains(reason, "until resumed (checking their portal)") {
		t.Errorf("Allow during a pause by hand = %v, %q; want held back, naming the pause", ok, reason)
	}
	_, err = d.Send(ctx, SendRequest{Vendor: "acme-cloud"})
	if !errors.Is(err, ErrPaused) || !strings.Contains(err.Error(), "supportprobe resume acme-cloud") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("Send while paused = %v; want ErrPaused naming resume and --force", err)
	}
	if ps, _ := d.DB().Probes(store.Filter{}); len(ps) != 0 || len(sender.sent) != 0 {
		t.Errorf("a refused send left %d probes and sent %d inquiries", len(ps), len(sender.sent))
	}
	if p, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud", Force: true}); err != nil || p.State != probe.StateSent {
		t.Errorf("Send(Force) while paused = %s, %v; want sent", p.State, err)
	}
	if _, err := d.Resume(PauseRequest{Vendor: "acme-cloud", By: "kim"}); err != nil {
		t.Fatalf("Resume = %v", err)
	}
	if ok, _, _ := lim.Allow(ctx, "acme-cloud", now.Add(time.Hour)); !ok {
		t.Error("Allow after resume: still held back")
	}
	if _, err := d.Resume(PauseRequest{Vendor: "acme-cloud"}); !errors.Is(err, store.ErrNotPaused) {
		t.Errorf("second Resume = %v, want store.ErrNotPaused", err)
	}
}

// allowAll is a Limiter with no limits.
type allowAll struct{}

func (allowAll) Allow(context.Context, string, time.Time) (bool, string, error) { return true, "", nil }

// TestFireScheduledInPauseStaysUnsent: the daemon was down over the fire of 03:00, which
// fell in a pause that ended at 03:20; back at 03:30, within the catch-up's grace, it
// records the fire as skipped (scheduled inside the pause) instead of sending it late.
func TestFireScheduledInPauseStaysUnsent(t *testing.T) {
	t.Setenv("SP_UNUSED", "unused")
	dir := filepath.Join(t.TempDir(), "state")
	fireAt := clock
	f, sent := runCatchUp(t, dir, fireAt.Add(30*time.Minute), fireAt, func(d *Daemon) {
		if _, err := d.SetPause(PauseRequest{Vendor: "acme-cloud", Until: fireAt.Add(20 * time.Minute), At: fireAt.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := d.DB().MarkHandled(jobID("acme-cloud", 0), fireAt.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
	if f.Outcome != probe.FireSkipped || !strings.Contains(f.Reason, "scheduled inside a pause: paused by hand") || len(sent) != 0 {
		t.Errorf("catch-up of a fire scheduled in a pause = %s %q, %d sent; want skipped, naming the pause, nothing sent", f.Outcome, f.Reason, len(sent))
	}
}
