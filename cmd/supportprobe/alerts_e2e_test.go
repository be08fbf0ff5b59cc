package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe/alert"
	"supportprobe/store"
)

// hookSecret signs the test webhooks' bodies.
const hookSecret = "alerts-e2e-secret"

// hookBody is what a webhook receives.
type hookBody struct {
	ID, Event, Vendor, Probe, Message, At string
}

// hookReceiver is a webhook on loopback that checks each POST's signature and records
// its body; while hang is set it holds requests until the client gives up.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []hookBody
	bad    []string
	hang   bool
	status int
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{status: http.StatusOK}
	stop := make(chan struct{})
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		hang, status := h.hang, h.status
		h.mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		var b hookBody
		h.mu.Lock()
		defer h.mu.Unlock()
		if !alert.Verify([]byte(hookSecret), body, r.Header.Get(alert.SignatureHeader)) || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			h.bad = append(h.bad, fmt.Sprintf("%s %q sig %q", r.Method, body, r.Header.Get(alert.SignatureHeader)))
		} else if err := json.Unmarshal(body, &b); err != nil {
			h.bad = append(h.bad, string(body))
		} else if status == http.StatusOK {
			h.got = append(h.got, b)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(func() { close(stop); h.Close() })
	return h
}

func (h *hookReceiver) set(hang bool, status int) {
	h.mu.Lock()
	h.hang, h.status = hang, status
	h.mu.Unlock()
}

// bodies returns what was received so far, and fails on any badly signed POST.
func (h *hookReceiver) bodies(t *testing.T) []hookBody {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		t.Fatalf("webhook received unsigned or malformed posts: %v", h.bad)
	}
	return append([]hookBody(nil), h.got...)
}

// waitHook waits until the receiver holds a body for which ok holds.
func (h *hookReceiver) waitHook(t *testing.T, what string, timeout time.Duration, ok func(hookBody) bool) hookBody {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, b := range h.bodies(t) {
			if ok(b) {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook: %s did not arrive within %s; received %+v", what, timeout, h.bodies(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(bs []hookBody, event string) int {
	n := 0
	for _, b := range bs {
		if b.Event == event {
			n++
		}
	}
	return n
}

// alertsConfig appends an alerts section with the webhook, email to ops and a command
// that appends each alert's JSON to cmdOut, and a P1 target of 3 s.
func alertsConfig(t *testing.T, cfgPath, hookURL, cmdOut string) {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "first_response: 1h", "first_response: 3s", 1)
	s += fmt.Sprintf(`alerts:
  webhooks:
    - {name: ops, url: %q, secret_env: SUPPORTPROBE_TEST_HOOK_SECRET, timeout: 2s}
  email: {to: ["ops@example.com"]}
  command: ["sh", "-c", "cat >> \"$0\"; echo >> \"$0\"", %q]
`, hookURL, cmdOut)
	if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

var opsUser = mailworld.User{Address: "ops@example.com", Password: "ops-pw"}

// TestAlertsEndToEnd: a P1 probe past its 3 s target reaches the signed webhook, the
// email list and the command within the minute, once, and stays once across a restart;
// `alerts list` shows the deliveries and `alerts test` sends on one channel.
func TestAlertsEndToEnd(t *testing.T) {
	t.Setenv("SUPPORTPROBE_TEST_HOOK_SECRET", hookSecret)
	mailworldtest.Each(t, []mailworld.User{linUser, supportUser, opsUser}, func(t *testing.T, w mailworld.World) {
		hook := newHookReceiver(t)
		cfgPath, stateDir := mustWorldConfig(t, w)
		cmdOut := filepath.Join(t.TempDir(), "alerts.jsonl")
		alertsConfig(t, cfgPath, hook.URL, cmdOut)
		fast := func(e *env) { e.alertInterval = 200 * time.Millisecond }
		stop := startDaemonWith(t, cfgPath, stateDir, fast, "--no-schedules")

		code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
		if code != exitOK {
			t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
		}
		p := waitHistory(t, cfgPath, strings.Fields(stdout)[0], "sent", func(p historyProbe) bool { return p.Status == "sent" })
		b := hook.waitHook(t, "open_past_target", 60*time.Second, func(b hookBody) bool { return b.Event == alert.OpenPastTarget })
		if b.Probe != p.ID || b.Vendor != "acme-cloud" || b.ID != "open_past_target/"+p.ID ||
			!strings.Contains(b.Message, "past its 3s calendar target") {
			t.Errorf("webhook body %+v", b)
		}
		if _, err := time.Parse(time.RFC3339, b.At); err != nil {
			t.Errorf("at %q: %v", b.At, err)
		}

		mails := waitForMail(t, w, opsUser, 1, 30*time.Second)
		if subj := mails[0].header.Get("Subject"); !strings.Contains(subj, "open_past_target acme-cloud "+p.ID) {
			t.Errorf("alert mail subject %q", subj)
		}
		if to := mails[0].header.Get("To"); !strings.Contains(to, "ops@example.com") || strings.Contains(to, "acme") {
			t.Errorf("alert mail to %q", to)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, _ := os.ReadFile(cmdOut)
			if strings.Contains(string(out), `"event":"open_past_target"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the command got no open_past_target alert; its input: %s", out)
			}
			time.Sleep(50 * time.Millisecond)
		}

		code, stdout, stderr = invoke(t, time.Now(), "alerts", "list", "--config", cfgPath, "--format", "json")
		var recs []alert.Record
		if code != exitOK || json.Unmarshal([]byte(stdout), &recs) != nil {
			t.Fatalf("alerts list: exit %d\n%s%s", code, stdout, stderr)
		}
		var opt *alert.Record
		for i := range recs {
			if recs[i].Event.Event == alert.OpenPastTarget {
				opt = &recs[i]
			}
		}
		if opt == nil || len(opt.Deliveries) != 3 {
			t.Fatalf("alert log %+v; want open_past_target with three deliveries", recs)
		}
		for _, dl := range opt.Deliveries {
			if dl.DeliveredAt.IsZero() {
				t.Errorf("delivery %+v not delivered", dl)
			}
		}
		code, stdout, _ = invoke(t, time.Now(), "alerts", "list", "--config", cfgPath)
		if code != exitOK || !strings.Contains(stdout, "open_past_target") || !strings.Contains(stdout, "ops delivered") {
			t.Errorf("alerts list text: exit %d\n%s", code, stdout)
		}

		// A clean restart repeats nothing and is no crash.
		stop()
		stop = startDaemonWith(t, cfgPath, stateDir, fast, "--no-schedules")
		time.Sleep(time.Second)
		if bs := hook.bodies(t); count(bs, alert.OpenPastTarget) != 1 || count(bs, alert.CrashRestart) != 0 {
			t.Errorf("after a clean restart the webhook holds %+v; want one open_past_target and no crash_restart", bs)
		}

		code, stdout, stderr = invoke(t, time.Now(), "alerts", "test", "--config", cfgPath, "--channel", "ops")
		if code != exitOK || !strings.Contains(stdout, "ops        delivered") {
			t.Errorf("alerts test: exit %d\n%s%s", code, stdout, stderr)
		}
		hook.waitHook(t, "test alert", 5*time.Second, func(b hookBody) bool { return b.Event == alert.Test })
		code, _, stderr = invoke(t, time.Now(), "alerts", "test", "--config", cfgPath, "--channel", "nope")
		if code == exitOK || !strings.Contains(stderr, `"nope" (configured: ops, email, command)`) {
			t.Errorf("alerts test on an unknown channel: exit %d, %s", code, stderr)
		}
		stop()
		// A failing channel shows in the log and is retried: the daemon is stopped,
		// so alerts test runs on the configuration's channels directly.
		hook.set(false, http.StatusServiceUnavailable)
		code, stdout, _ = invoke(t, time.Now(), "alerts", "test", "--config", cfgPath, "--channel", "ops")
		if code == exitOK || !strings.Contains(stdout, "ops        FAILED: webhook ops: POST") || !strings.Contains(stdout, "503") {
			t.Errorf("alerts test on a failing webhook: exit %d\n%s", code, stdout)
		}
	})
}

// TestAlertsSurviveKill9: an alert raised but not yet delivered when the daemon is
// killed is delivered after the restart, once; the restart after a crash raises
// crash_restart, once per crash. A real process, killed with SIGKILL.
func TestAlertsSurviveKill9(t *testing.T) {
	t.Setenv("SUPPORTPROBE_TEST_HOOK_SECRET", hookSecret)
	w := mailworldtest.Memory(t, linUser, supportUser, opsUser)
	hook := newHookReceiver(t)
	cfgPath, stateDir := mustCrashConfig(t, w, w.SMTPAddr())
	alertsConfig(t, cfgPath, hook.URL, filepath.Join(t.TempDir(), "alerts.jsonl"))
	logs := t.TempDir()

	first := startCrashChild(t, cfgPath, stateDir, filepath.Join(logs, "1.log"))
	first.kill()
	// The second start finds the first's crash and raises crash_restart; the webhook
	// hangs, so the alert is in the log, undelivered, when this daemon dies too.
	hook.set(true, http.StatusOK)
	second := startCrashChild(t, cfgPath, stateDir, filepath.Join(logs, "2.log"))
	time.Sleep(500 * time.Millisecond)
	second.kill()
	if n := len(hook.bodies(t)); n != 0 {
		t.Fatalf("webhook received %d alerts while it hung", n)
	}
	hook.set(false, http.StatusOK)
	third := startCrashChild(t, cfgPath, stateDir, filepath.Join(logs, "3.log"))
	hook.waitHook(t, "both crash_restart alerts", 30*time.Second, func(hookBody) bool { return count(hook.bodies(t), alert.CrashRestart) >= 2 })
	time.Sleep(time.Second)
	if code := third.stop(t); code != exitOK {
		t.Errorf("third daemon exited %d\n%s", code, tailOf(filepath.Join(logs, "3.log"), 30))
	}
	bs := hook.bodies(t)
	ids := map[string]int{}
	for _, b := range bs {
		ids[b.ID]++
	}
	if count(bs, alert.CrashRestart) != 2 || len(ids) != len(bs) {
		t.Errorf("webhook received %+v; want two crash_restart alerts, each once", bs)
	}
	db, err := store.Open(filepath.Join(stateDir, "supportprobe.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if due, err := db.Alerts().Due(time.Now().Add(time.Hour)); err != nil || len(due) != 0 {
		t.Errorf("alerts still due after the restart: %+v, %v", due, err)
	}
}
