package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
)

// TestCatchUpNeverResendsInterruptedFire restarts a daemon after a crash that hit the
// fire of 03:00 mid-send: its probe is still sending and no outcome of the fire was
// recorded, so the fire looks missed and the catch-up would send it again. The vendor
// may already have the first inquiry; the fire must be recorded as already attempted,
// naming the probe, and nothing sent.
func TestCatchUpNeverResendsInterruptedFire(t *testing.T) {
	t.Setenv("SP_UNUSED", "unused") // the watcher's password; its server is not there
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(probingConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fireAt := clock // 03:00 in Los Angeles, the schedule's time
	restart := fireAt.Add(10 * time.Second)
	sender := &fakeSender{at: restart}
	d, err := New(cfg, Options{Sender: sender, SentFolder: &fakeSentFolder{}, Now: func() time.Time { return restart }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// What the crashed run left behind.
	p, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", Script: "outage-en", State: probe.StateSending,
		MessageID: "interrupted@example.com", Token: "K7Q2", ScheduledAt: fireAt, CreatedAt: fireAt})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DB().MarkHandled(jobID("acme-cloud", 0), fireAt.Add(-time.Hour)); err != nil {
		t.Fatal(err)
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
			t.Fatal("the catch-up recorded no outcome for the fire of 03:00 within 10 s")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}

	if len(sender.sent) != 0 {
		t.Errorf("the catch-up sent %d inquiries for a fire already attempted as %s", len(sender.sent), p.ID)
	}
	if f := fires[0]; f.Outcome != probe.FireFailed || f.ProbeID != p.ID || !strings.Contains(f.Reason, "not sent again") {
		t.Errorf("fire of 03:00 = %s %q, probe %q; want failed, naming %s, not sent again", f.Outcome, f.Reason, f.ProbeID, p.ID)
	}
	if got, _ := d.DB().Probe(p.ID); got.State != probe.StateUnknown {
		t.Errorf("%s is %s, want unknown (interrupted during SMTP, no sent copy)", p.ID, got.State)
	}
	if err := d.DB().Check(); err != nil {
		t.Errorf("Check() = %v", err)
	}
}
