package main

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/probe/daemon"
	"supportprobe/store"
)

// startDaemonRetrying runs `supportprobe run` in-process, as startDaemonStoppable does,
// with the SMTP sender's first backoff and retry window shortened to backoff and window.
func startDaemonRetrying(t *testing.T, cfgPath, stateDir string, backoff, window time.Duration) (stop func()) {
	t.Helper()
	return startDaemonWith(t, cfgPath, stateDir, func(e *env) {
		e.followupInterval = 0
		e.smtpBackoff, e.smtpRetryWindow = backoff, window
	})
}

// downProbe is the part of `history --format json` these tests read.
type downProbe struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	FailReason  *string    `json:"fail_reason"`
	ScheduledAt *time.Time `json:"scheduled_at"`
	SentAt      *time.Time `json:"sent_at"`
	LateBy      *float64   `json:"late_by_seconds"`
	MessageID   *string    `json:"message_id"`
	AckSecs     *float64   `json:"ack_latency_seconds"`
	RespSecs    *float64   `json:"response_latency_seconds"`
	BizSecs     *float64   `json:"business_latency_seconds"`
	SLA         string     `json:"sla"`
}

// downHistory runs `history --format json` as a user would.
func downHistory(t *testing.T, cfgPath string) []downProbe {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
	if code != exitOK {
		t.Fatalf("history: exit %d: %s", code, stderr)
	}
	var out []downProbe
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("history --format json: %v\n%s", err, stdout)
	}
	return out
}

// downReport is the part of `report --format json` these tests read.
type downReport struct {
	Totals  map[string]int `json:"totals"`
	Vendors []struct {
		Name     string         `json:"name"`
		Counts   map[string]int `json:"counts"`
		Response struct {
			N      int `json:"n"`
			Events int `json:"events"`
			Median *struct {
				Seconds float64 `json:"seconds"`
				Reached bool    `json:"reached"`
			} `json:"median"`
		} `json:"response"`
		Latencies []struct {
			ProbeID string `json:"probe_id"`
		} `json:"latencies"`
	} `json:"vendors"`
	Probes []struct {
		ID       string   `json:"id"`
		Status   string   `json:"status"`
		RespSecs *float64 `json:"response_latency_seconds"`
	} `json:"probes"`
}

// reportOfLastHour runs `report --format json` over the hour around now.
func reportOfLastHour(t *testing.T, cfgPath string) downReport {
	t.Helper()
	now := time.Now()
	code, stdout, stderr := invoke(t, now, "report", "--config", cfgPath, "--format", "json",
		"--since", now.Add(-time.Hour).UTC().Format(time.RFC3339), "--until", now.Add(time.Hour).UTC().Format(time.RFC3339))
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	var r downReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report --format json: %v\n%s", err, stdout)
	}
	return r
}

var attemptsRE = regexp.MustCompile(`(\d+) attempts, retry window of ([^ ]+) used up`)

// TestSMTPDownAtFireTime lets a scheduled fire find the SMTP server down, refusing
// connections or answering 421: the daemon retries with backoff within its retry
// window (shortened here to 2 s), then records the probe as failed with the server's
// reason and the fire as failed. The probe is shown as failed, never as unanswered or
// as a latency, in history and in the report. When the server is back, the next fire
// sends normally, and its answer is the only latency the report counts.
//
// The fire at SMTP-down time is the catch-up of a fire missed while down (so it comes at
// once); the next one is the every-minute schedule, so the test takes up to a minute or
// two.
func TestSMTPDownAtFireTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		fail, heal func(t *testing.T, p *faultProxy)
		reason     string // in the failed probe's reason
	}{
		{"refused", func(t *testing.T, p *faultProxy) { p.down() }, func(t *testing.T, p *faultProxy) { p.up(t) }, "connection refused"},
		{"421", func(t *testing.T, p *faultProxy) { p.set421(true) }, func(t *testing.T, p *faultProxy) { p.set421(false) }, "421 4.3.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := mailworldtest.Memory(t, linUser, supportUser)
			proxy := startFaultProxy(t, w.SMTPAddr())
			desk := startAcmeDesk(t, w)
			cfgPath, stateDir := mustCrashConfig(t, w, proxy.Addr())

			// The schedule last ran 90 s ago: the fire missed since is caught up at start.
			db, err := store.Open(daemon.DatabasePath(stateDir), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := db.MarkHandled("acme-cloud/0", time.Now().Add(-90*time.Second)); err != nil {
				t.Fatal(err)
			}
			db.Close()

			tc.fail(t, proxy)
			const window = 2 * time.Second
			stop := startDaemonRetrying(t, cfgPath, stateDir, 100*time.Millisecond, window)

			var failed downProbe
			for deadline := time.Now().Add(30 * time.Second); failed.ID == ""; time.Sleep(100 * time.Millisecond) {
				for _, p := range downHistory(t, cfgPath) {
					if p.Status == "failed" {
						failed = p
					}
				}
				if failed.ID == "" && time.Now().After(deadline) {
					t.Fatalf("no failed probe 30 s after a fire with SMTP down: %+v", downHistory(t, cfgPath))
				}
			}
			reason := ""
			if failed.FailReason != nil {
				reason = *failed.FailReason
			}
			m := attemptsRE.FindStringSubmatch(reason)
			if !strings.Contains(reason, tc.reason) || m == nil {
				t.Fatalf("%s: fail_reason %q; want the server's %q, the attempts and the retry window", failed.ID, reason, tc.reason)
			}
			t.Logf("%s (fire of %s, %.1f s late) failed: %s", failed.ID, failed.ScheduledAt.UTC().Format(time.RFC3339), *failed.LateBy, reason)
			if n, _ := strconv.Atoi(m[1]); n < 3 {
				t.Errorf("%s: %d attempts within %s; want retries with backoff from 100 ms", failed.ID, n, window)
			}
			if tc.name == "421" && proxy.connections() < 3 {
				t.Errorf("the server saw %d connections, want one per attempt (≥ 3)", proxy.connections())
			}
			if failed.ScheduledAt == nil || failed.LateBy == nil || *failed.LateBy <= 0 {
				t.Errorf("%s: scheduled_at %v, late_by %v; want the caught-up fire's time and lateness", failed.ID, failed.ScheduledAt, failed.LateBy)
			}
			if failed.SentAt != nil || failed.AckSecs != nil || failed.RespSecs != nil || failed.BizSecs != nil || failed.SLA != "none" {
				t.Errorf("%s: sent_at %v, latencies %v/%v/%v, sla %q; a failed probe has no sent_at, no latency and sla none",
					failed.ID, failed.SentAt, failed.AckSecs, failed.RespSecs, failed.BizSecs, failed.SLA)
			}
			r := reportOfLastHour(t, cfgPath)
			if r.Totals["total"] != 1 || r.Totals["failed"] != 1 || r.Totals["sent"] != 0 || r.Totals["unanswered"] != 0 || r.Totals["open"] != 0 {
				t.Errorf("report totals with SMTP down = %v; want 1 probe, failed, none sent, unanswered or open", r.Totals)
			}
			for _, v := range r.Vendors {
				if v.Response.N != 0 || len(v.Latencies) != 0 {
					t.Errorf("report: %s has %d response observations and latency bars %v; a failed probe is neither", v.Name, v.Response.N, v.Latencies)
				}
			}

			// The server comes back: the next fire of the schedule goes out, and is answered.
			// (Under load a minute boundary can pass while SMTP is still down: that fire
			// fails too, and is held to the same rules.)
			tc.heal(t, proxy)
			var sent downProbe
			failedIDs := map[string]bool{}
			for deadline := time.Now().Add(150 * time.Second); sent.Status != "answered"; time.Sleep(250 * time.Millisecond) {
				sent = downProbe{}
				for _, p := range downHistory(t, cfgPath) {
					switch {
					case p.Status == "failed":
						failedIDs[p.ID] = true
					case sent.ID == "" && p.ScheduledAt != nil:
						sent = p
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("the schedule's next fire after SMTP came back: %+v; want it sent and answered within 150 s", sent)
				}
			}
			t.Logf("%s (fire of %s) sent after SMTP came back, answered after %.1f s; %d fires failed",
				sent.ID, sent.ScheduledAt.UTC().Format(time.RFC3339), *sent.RespSecs, len(failedIDs))
			if sent.SentAt == nil || sent.RespSecs == nil || *sent.RespSecs < 0 || sent.FailReason != nil && *sent.FailReason != "" {
				t.Errorf("%s: sent_at %v, response latency %v, fail_reason %v; want a normal send and answer", sent.ID, sent.SentAt, sent.RespSecs, sent.FailReason)
			}
			if !sent.ScheduledAt.After(*failed.ScheduledAt) {
				t.Errorf("%s has scheduled_at %v, not after the failed fire's %v", sent.ID, sent.ScheduledAt, failed.ScheduledAt)
			}
			r = reportOfLastHour(t, cfgPath)
			nf := len(failedIDs)
			if r.Totals["total"] != nf+1 || r.Totals["failed"] != nf || r.Totals["sent"] != 1 || r.Totals["answered"] != 1 || r.Totals["unanswered"] != 0 {
				t.Errorf("report totals after SMTP came back = %v; want %d probes: %d failed, 1 sent and answered", r.Totals, nf+1, nf)
			}
			for _, v := range r.Vendors {
				if v.Response.N != 1 || v.Response.Events != 1 || len(v.Latencies) != 1 || v.Latencies[0].ProbeID != sent.ID {
					t.Errorf("report: %s response n=%d events=%d bars %v; want the answered probe %s only", v.Name, v.Response.N, v.Response.Events, v.Latencies, sent.ID)
				}
				if md := v.Response.Median; md == nil || !md.Reached || md.Seconds != *sent.RespSecs {
					t.Errorf("report: %s median response %+v, want %v s, the answered probe's latency", v.Name, md, *sent.RespSecs)
				}
			}
			for _, row := range r.Probes {
				if failedIDs[row.ID] && (row.Status != "failed" || row.RespSecs != nil) {
					t.Errorf("report row of %s: status %s, latency %v; want failed, none", row.ID, row.Status, row.RespSecs)
				}
			}
			if got := waitForMail(t, w, supportUser, 0, 0); len(got) != 1 {
				t.Errorf("the vendor received %d inquiries, want 1 (a failed fire sends nothing)", len(got))
			}
			if n := len(desk.snapshot()); n < 1 {
				t.Errorf("the help desk sent %d answers", n)
			}

			// The fire log, read from the file once the daemon has stopped.
			stop()
			db, err = store.Open(daemon.DatabasePath(stateDir), store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			fires, err := db.Fires("acme-cloud/0", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			sawSent := false
			for _, f := range fires {
				switch {
				case failedIDs[f.ProbeID]:
					delete(failedIDs, f.ProbeID)
					if f.Outcome != probe.FireFailed || !strings.Contains(f.Reason, tc.reason) {
						t.Errorf("fire of %s: %s %q, want failed with the server's reason", f.ScheduledAt, f.Outcome, f.Reason)
					}
					if f.ProbeID == failed.ID && !f.ScheduledAt.Equal(*failed.ScheduledAt) {
						t.Errorf("fire of %s names %s, scheduled at %s", f.ScheduledAt, f.ProbeID, failed.ScheduledAt)
					}
				case f.ProbeID == sent.ID:
					sawSent = true
					if f.Outcome != probe.FireSent {
						t.Errorf("fire of %s: %s %q, want sent", f.ScheduledAt, f.Outcome, f.Reason)
					}
				}
			}
			if len(failedIDs) > 0 || !sawSent {
				t.Errorf("fire log %+v lacks the failed fires of %v or the sent one of %s", fires, sortedIDs(failedIDs), sent.ID)
			}
		})
	}
}

// sortedIDs lists a set of probe IDs in order, for messages.
func sortedIDs(set map[string]bool) []string {
	return slices.Sorted(maps.Keys(set))
}
