package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/probe/alert"
)

// alertRecorder is an alert channel that keeps what it is given.
type alertRecorder struct {
	mu  sync.Mutex
	evs []alert.Event
}

func (r *alertRecorder) Name() string { return "rec" }
func (r *alertRecorder) Deliver(_ context.Context, ev alert.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

func (r *alertRecorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.evs {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

const alertsTestConfig = `state_dir: STATE
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: 2525, security: none}
  imap: {host: 127.0.0.1, port: 1143, security: none, username: lin.wei@example.com, password_env: SP_UNUSED, append_sent: false}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}"}
vendors:
  - name: acme-cloud
    to: [support@acme.example]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h}}
    deadline: 2d
alerts:
  waiting_after: 2h
  watcher_down_after: 10m
  disk_free_below: 100MB
`

// alertsDaemon is a daemon on a fake clock whose alerts go to a alertRecorder.
func alertsDaemon(t *testing.T, now *time.Time, free *int64) (*Daemon, *alertRecorder) {
	t.Helper()
	return alertsDaemonWith(t, func() time.Time { return *now }, func() int64 { return *free })
}

// alertsDaemonWith is alertsDaemon on the clock now, with free as the free space.
func alertsDaemonWith(t *testing.T, now func() time.Time, free func() int64) (*Daemon, *alertRecorder) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(alertsTestConfig, "STATE", dir)), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Sender: &fakeSender{}, Now: now, Logger: quiet, DiskFree: free})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	rec := &alertRecorder{}
	d.alerts = alert.NewDispatcher(d.db.Alerts(), []alert.Channel{rec}, alert.Options{Now: d.opts.Now, Logger: quiet})
	return d, rec
}

func addProbe(t *testing.T, d *Daemon, state probe.State, sentAt time.Time, replies ...probe.Reply) probe.Probe {
	t.Helper()
	v, _ := d.config().Vendor("acme-cloud")
	p, err := d.db.CreateProbe(probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: "P1", Token: "T" + sentAt.Format("150405"),
		MessageID: sentAt.Format("150405") + "@example.com", State: state, SentAt: sentAt, CreatedAt: sentAt, Terms: v.Terms("P1"),
		FailReason: map[bool]string{true: "550 5.1.1 no such user"}[state == probe.StateFailed]})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range replies {
		r.ProbeID = p.ID
		r.MessageID = p.ID + "-" + string(rune('a'+i)) + "@acme.example"
		if _, err := d.db.AddReply(r, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestAlertChecks: each situation raises its event once, with the probe and a readable
// sentence; situations from before alerting began raise nothing.
func TestAlertChecks(t *testing.T) {
	now := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	free := int64(1 << 40)
	d, rec := alertsDaemon(t, &now, &free)
	old := addProbe(t, d, probe.StateSent, now.Add(-40*time.Hour), probe.Reply{Kind: probe.KindHuman, ReceivedAt: now.Add(-30 * time.Hour)})
	if err := d.startAlerts(); err != nil { // the epoch: now
		t.Fatal(err)
	}
	now = now.Add(3 * time.Hour)
	open := addProbe(t, d, probe.StateSent, now.Add(-90*time.Minute))
	failed := addProbe(t, d, probe.StateFailed, now.Add(-time.Minute))
	bounced := addProbe(t, d, probe.StateSent, now.Add(-10*time.Minute), probe.Reply{Kind: probe.KindBounce, ReceivedAt: now.Add(-9 * time.Minute)})
	late := addProbe(t, d, probe.StateSent, now.Add(-3*time.Hour), probe.Reply{Kind: probe.KindHuman, ReceivedAt: now.Add(-30 * time.Second)})
	review := addProbe(t, d, probe.StateSent, now.Add(-170*time.Minute), probe.Reply{Kind: probe.KindNeedsReview, ReceivedAt: now.Add(-160 * time.Minute), Reason: "unsure"})
	fresh := addProbe(t, d, probe.StateSent, now.Add(-20*time.Minute), probe.Reply{Kind: probe.KindNeedsReview, ReceivedAt: now.Add(-10 * time.Minute)})
	_ = fresh

	for range 3 {
		if err := d.checkAlerts(context.Background()); err != nil {
			t.Fatal(err)
		}
		d.alerts.Drain(context.Background())
	}
	want := []string{
		"bounced/" + bounced.ID,
		"open_past_target/" + open.ID,
		"open_past_target/" + review.ID, // no person yet after 170 min: past its 1 h target
		"review_waiting/R",              // completed below
		"send_failed/" + failed.ID,
		"sla_breached/" + late.ID,
	}
	got := rec.ids()
	if len(got) != len(want) {
		t.Fatalf("alerts %v\nwant %v", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("alert %d = %s, want %s…", i, got[i], want[i])
		}
	}
	for _, e := range rec.evs {
		if e.Probe == old.ID {
			t.Errorf("alert %s about a breach decided before alerting began", e.ID)
		}
		switch e.Event {
		case alert.SendFailed:
			if !strings.Contains(e.Message, "550 5.1.1 no such user") {
				t.Errorf("send_failed message %q lacks the reason", e.Message)
			}
		case alert.SLABreached:
			if !strings.Contains(e.Message, "breached its 1h00m calendar target: the first response came after 3h00m.") {
				t.Errorf("sla_breached message %q", e.Message)
			}
		case alert.ReviewWaiting:
			if !strings.Contains(e.Message, "1 reply awaiting review (supportprobe review)") || e.Probe != review.ID {
				t.Errorf("review_waiting %+v", e)
			}
		}
	}
}

// TestAlertConditions: the watcher down past its threshold raises watcher_down once and
// watcher_up when it syncs again; a low disk raises disk_low once per episode; a start
// that finds the previous run never stopped raises crash_restart.
func TestAlertConditions(t *testing.T) {
	now := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	free := int64(1 << 40)
	d, rec := alertsDaemon(t, &now, &free)
	if err := d.startAlerts(); err != nil {
		t.Fatal(err)
	}
	d.started = now
	drain := func() { d.alerts.Drain(context.Background()) }

	st := mailbox.WatchState{Connected: true, LastSync: now}
	now = now.Add(time.Minute)
	d.watcherTransition(st, now)
	st = mailbox.WatchState{LastSync: now, LastError: errors.New("LOGIN refused: AUTHENTICATIONFAILED"), LastErrorAt: now}
	now = now.Add(9 * time.Minute)
	d.watcherTransition(st, now) // 9 min: under the threshold
	drain()
	if n := len(rec.ids()); n != 0 {
		t.Fatalf("alerts before the threshold: %v", rec.ids())
	}
	for range 3 {
		now = now.Add(2 * time.Minute)
		d.watcherTransition(st, now)
	}
	drain()
	if ids := rec.ids(); len(ids) != 1 || !strings.HasPrefix(ids[0], "watcher_down/") || !strings.Contains(rec.evs[0].Message, "AUTHENTICATIONFAILED") {
		t.Fatalf("alerts %v %+v; want one watcher_down naming the error", ids, rec.evs)
	}
	st = mailbox.WatchState{Connected: true, LastSync: now.Add(time.Second)}
	now = now.Add(time.Minute)
	d.watcherTransition(st, now)
	d.watcherTransition(st, now.Add(time.Minute))
	drain()
	if ids := rec.ids(); len(ids) != 2 || !strings.HasPrefix(ids[1], "watcher_up/") {
		t.Fatalf("alerts %v; want watcher_down then watcher_up", ids)
	}

	free = 50 << 20
	d.diskAlert(now)
	d.diskAlert(now.Add(time.Minute))
	free = 105 << 20 // above the threshold but inside the hysteresis: the same episode
	d.diskAlert(now.Add(2 * time.Minute))
	free = 50 << 20
	d.diskAlert(now.Add(3 * time.Minute))
	drain()
	if n := strings.Count(strings.Join(rec.ids(), " "), "disk_low/"); n != 1 {
		t.Fatalf("disk_low alerts %v; want one per episode", rec.ids())
	}
	free = 1 << 30
	d.diskAlert(now.Add(4 * time.Minute))
	free = 50 << 20
	d.diskAlert(now.Add(5 * time.Minute))
	drain()
	if n := strings.Count(strings.Join(rec.ids(), " "), "disk_low/"); n != 2 {
		t.Fatalf("disk_low alerts %v; want a second after the space came back", rec.ids())
	}

	// The run never stopped cleanly (condRunning is still set): the next start says so.
	if err := d.startAlerts(); err != nil {
		t.Fatal(err)
	}
	drain()
	if n := strings.Count(strings.Join(rec.ids(), " "), "crash_restart/"); n != 1 {
		t.Fatalf("alerts %v; want one crash_restart", rec.ids())
	}
	d.stopAlerts()
	if err := d.startAlerts(); err != nil {
		t.Fatal(err)
	}
	drain()
	if n := strings.Count(strings.Join(rec.ids(), " "), "crash_restart/"); n != 1 {
		t.Errorf("a start after a clean stop raised crash_restart: %v", rec.ids())
	}
	if _, ok, _ := d.db.Alerts().Condition(condRunning); !ok {
		t.Error("a running daemon is not marked running")
	}

}

// TestAlertTimerArming: with the safety net an hour away, the alert loop still raises
// each alert on time: a probe's target passing with no response (the timer armed for
// it), a reply crossing the review wait, and a failed send (the write wakes the loop).
// The daemon's clock runs with real time, set back so that the probes' thresholds fall
// within the next seconds.
func TestAlertTimerArming(t *testing.T) {
	// The vendor's P1 target is calendar time, so the day and hour do not matter.
	offset := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC).Sub(time.Now())
	now := func() time.Time { return time.Now().Add(offset) }
	d, _ := alertsDaemonWith(t, now, func() int64 { return 1 << 40 })
	if err := d.startAlerts(); err != nil {
		t.Fatal(err)
	}
	const lead = 1500 * time.Millisecond
	t0 := now()
	// Its 1 h P1 target passes lead from now.
	open := addProbe(t, d, probe.StateSent, t0.Add(-time.Hour+lead))
	// Its reply, received 2 h (waiting_after) less lead ago, awaits review.
	addProbe(t, d, probe.StateSent, t0.Add(-3*time.Hour),
		probe.Reply{Kind: probe.KindNeedsReview, ReceivedAt: t0.Add(-2*time.Hour + lead), Reason: "unsure"},
		probe.Reply{Kind: probe.KindHuman, ReceivedAt: t0.Add(-2*time.Hour - time.Minute)})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.runAlerts(ctx, time.Hour, nil) }()
	t.Cleanup(func() { cancel(); <-done })

	raisedAt := func(prefix string) (time.Time, bool) {
		rs, err := d.db.Alerts().List(time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if strings.HasPrefix(r.Event.ID, prefix) {
				return r.RaisedAt, true
			}
		}
		return time.Time{}, false
	}
	// Before its threshold nothing is raised.
	if _, ok := raisedAt(alert.OpenPastTarget + "/" + open.ID); ok {
		t.Fatalf("open_past_target raised before the target passed")
	}
	for _, c := range []struct{ name, id string }{
		{"target passed", alert.OpenPastTarget + "/" + open.ID},
		{"review wait passed", alert.ReviewWaiting + "/"},
	} {
		deadline := time.Now().Add(lead + alertSlack + 3*time.Second)
		for {
			if at, ok := raisedAt(c.id); ok {
				if due := t0.Add(lead); at.Before(due) {
					t.Errorf("%s: raised at %s, before its threshold %s", c.name, at.Format(time.StampMilli), due.Format(time.StampMilli))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %s alert within %v of its threshold, with the safety net an hour away", c.name, c.id, alertSlack+3*time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// A send that fails is recorded through fail, which wakes the loop.
	sending := addProbe(t, d, probe.StateSending, now())
	if _, err := d.fail(sending, errors.New("550 5.1.1 no such user")); err == nil {
		t.Fatal("fail() = nil, want the cause back")
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		if _, ok := raisedAt(alert.SendFailed + "/" + sending.ID); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no send_failed alert within 3 s of the failure, with the safety net an hour away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestUntilGrid: the safety-net timers all end on multiples of their interval.
func TestUntilGrid(t *testing.T) {
	base := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		now   time.Time
		every time.Duration
		want  time.Duration
	}{
		{"on the grid: a whole interval", base, 15 * time.Minute, 15 * time.Minute},
		{"between", base.Add(4*time.Minute + 30*time.Second), 15 * time.Minute, 10*time.Minute + 30*time.Second},
		{"another zone, same instant", base.Add(4 * time.Minute).In(time.FixedZone("X", 5*3600+1800)), 15 * time.Minute, 11 * time.Minute},
		{"short interval", base.Add(50 * time.Millisecond), 200 * time.Millisecond, 150 * time.Millisecond},
		{"no interval", base, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := untilGrid(c.now, c.every); got != c.want {
				t.Errorf("untilGrid(%s, %v) = %v, want %v", c.now, c.every, got, c.want)
			}
		})
	}
}
