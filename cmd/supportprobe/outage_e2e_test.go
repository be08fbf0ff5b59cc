package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox/mailworld/mailworldtest"
)

// outageProbe is what the outage tests read from history --format json.
type outageProbe struct {
	ID                     string     `json:"id"`
	Status                 string     `json:"status"`
	Token                  string     `json:"token"`
	MessageID              string     `json:"message_id"`
	SentAt                 *time.Time `json:"sent_at"`
	ClockSkewSeconds       *float64   `json:"clock_skew_seconds"`
	AckLatencySeconds      *float64   `json:"ack_latency_seconds"`
	ResponseLatencySeconds *float64   `json:"response_latency_seconds"`
	Replies                []struct {
		MessageID  string    `json:"message_id"`
		Kind       string    `json:"kind"`
		ReceivedAt time.Time `json:"received_at"`
		DetectedAt time.Time `json:"detected_at"`
	} `json:"replies"`
}

// waitOutageProbe polls history until cond holds for probe id, or fails after within.
func waitOutageProbe(t *testing.T, cfgPath, id, what string, within time.Duration, cond func(outageProbe) bool) outageProbe {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
		if code != exitOK {
			t.Fatalf("history: exit %d, %s", code, stderr)
		}
		var ps []outageProbe
		if err := json.Unmarshal([]byte(stdout), &ps); err != nil {
			t.Fatalf("history --format json: %v\n%s", err, stdout)
		}
		for _, p := range ps {
			if p.ID == id && cond(p) {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %s: %s did not happen within %v; history:\n%s", id, what, within, stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// watcherMetrics scrapes the daemon's /metrics for the inbox watcher's gauges.
func watcherMetrics(t *testing.T, addr string) (connected bool, lastSync time.Time) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape /metrics: %v", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "supportprobe_imap_connected":
			connected = value == "1"
		case "supportprobe_last_sync_timestamp_seconds":
			if f, err := strconv.ParseFloat(value, 64); err == nil && f > 0 {
				lastSync = time.UnixMilli(int64(math.Round(f * 1000)))
			}
		}
	}
	return connected, lastSync
}

// TestIMAPOutageEndToEnd stops Dovecot while the daemon's watcher idles on it, and brings
// it back 8.5 s after the connection dropped. What "delivered during the outage" means here, concretely:
//
//   - The help desk's acknowledgement goes out by SMTP during the outage. Postfix accepts
//     it (250) and tries LMTP, which is down ("connection refused"), so it defers the
//     mail in its queue. Once Dovecot is back, the queue is flushed (Postfix would retry
//     on its own minutes later): the ack lands after the return, and its INTERNALDATE is
//     that later delivery.
//   - The person's answer is filed in the maildir during the outage by a local delivery
//     agent (mailworld.Real.DeliverLocal), as procmail would: it is in the mailbox while
//     IMAP is down, and its INTERNALDATE is that moment, seconds before the watcher can
//     see it.
//
// The test asserts that the watcher is connected and has read every folder within 5 s of
// Dovecot's return (measured on /metrics: supportprobe_imap_connected and
// supportprobe_last_sync_timestamp_seconds), with the production reconnect backoff;
// that both replies are recorded once; and that the recorded latencies are INTERNALDATE
// (less the measured clock skew) minus sent_at, not the time the watcher saw them, which
// is seconds later. It takes about 15 s and needs the real world: it is skipped
// without Postfix and Dovecot unless SUPPORTPROBE_REAL_MAIL=1.
func TestIMAPOutageEndToEnd(t *testing.T) {
	t.Parallel()
	w := mailworldtest.Real(t, linUser, supportUser)
	cfgPath, stateDir := mustWorldConfig(t, w)
	metricsAddr := freeLoopbackAddr(t)
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "http:\n  listen: %q\n", metricsAddr)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	startDaemonStoppable(t, cfgPath, stateDir, "--no-schedules")

	code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
	if code != exitOK {
		t.Fatalf("send: exit %d, %s", code, stderr)
	}
	id := strings.TrimSpace(stdout)
	p := waitOutageProbe(t, cfgPath, id, "sent with the clock skew measured", 20*time.Second,
		func(p outageProbe) bool { return p.Status == "sent" && p.ClockSkewSeconds != nil })
	skew := time.Duration(*p.ClockSkewSeconds * float64(time.Second))

	// The watcher has read the folders since the send, and then sits in IDLE (the recheck
	// one second into the IDLE that follows a wake-up is over after two).
	marker := time.Now()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if connected, last := watcherMetrics(t, metricsAddr); connected && last.After(p.SentAt.Add(-time.Second)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not sync within 10 s of the send")
		}
	}
	time.Sleep(time.Until(marker.Add(2500 * time.Millisecond)))

	down := time.Now()
	if err := w.StopIMAP(); err != nil {
		t.Fatal(err)
	}
	cut := time.Now() // the watcher's connection is gone by now
	if connected, _ := watcherMetrics(t, metricsAddr); connected {
		t.Error("supportprobe_imap_connected = 1 with Dovecot stopped")
	}
	ackID := "ack-" + p.Token + "@helpdesk.acme.example"
	sendAck(t, w, p.Token, ackID, p.MessageID)
	humanID := "agent-" + p.Token + "@helpdesk.acme.example"
	answer := strings.ReplaceAll(fmt.Sprintf(`Return-Path: <dana@acme.example>
Delivered-To: lin.wei@example.com
From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: %[4]s
Message-ID: <%[1]s>
In-Reply-To: <%[2]s>
References: <%[2]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

We moved your streams in the East China region to a healthy ingest node. New streams
should start normally now; please tell us if you still see failures.

Dana
`, humanID, p.MessageID, time.Now().Format(time.RFC1123Z), subjectZh), "\n", "\r\n")
	if err := w.DeliverLocal(linUser.Address, []byte(answer)); err != nil {
		t.Fatal(err)
	}
	filed := time.Now()
	// The watcher retries 1, 3, 7, 11, ... s after the cut with the 4 s cap; with a cap of
	// a minute it would retry at 7 and then 15 s. Returning at 8.5 s tells the two apart:
	// 2.5 s to wait against 6.5 s.
	time.Sleep(time.Until(cut.Add(8500 * time.Millisecond)))
	if err := w.StartIMAP(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	t.Logf("Dovecot down from %s to %s (%v)", down.Format("15:04:05.000"), back.Format("15:04:05.000"), back.Sub(down).Round(time.Millisecond))

	var reconnected time.Duration
	for deadline := back.Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if connected, last := watcherMetrics(t, metricsAddr); connected && !last.Before(back) {
			reconnected = time.Since(back)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not reconnect and sync within 15 s of Dovecot's return")
		}
	}
	t.Logf("watcher connected and synced %v after Dovecot's return", reconnected.Round(time.Millisecond))
	if reconnected > 5*time.Second {
		t.Errorf("watcher synced %v after Dovecot's return, want within 5 s", reconnected.Round(time.Millisecond))
	}

	p = waitOutageProbe(t, cfgPath, id, "both replies recorded", 20*time.Second,
		func(p outageProbe) bool {
			return len(p.Replies) >= 2 && p.ResponseLatencySeconds != nil && p.AckLatencySeconds != nil
		})
	if len(p.Replies) != 2 {
		t.Fatalf("replies = %+v, want exactly 2", p.Replies)
	}
	for _, r := range p.Replies {
		// Latency is INTERNALDATE on our clock minus sent_at.
		want := r.ReceivedAt.Add(-skew).Sub(*p.SentAt).Seconds()
		got := p.AckLatencySeconds
		if r.Kind == "human" {
			got = p.ResponseLatencySeconds
		}
		if math.Abs(*got-want) > 0.001 {
			t.Errorf("%s reply %s: latency %.3f s, want INTERNALDATE %v - skew %v - sent_at %v = %.3f s",
				r.Kind, r.MessageID, *got, r.ReceivedAt, skew, *p.SentAt, want)
		}
		switch r.Kind {
		case "human":
			// Filed during the outage: its INTERNALDATE is that second, and the watcher only
			// saw it after the return.
			if r.ReceivedAt.After(filed) || filed.Sub(r.ReceivedAt) > 2*time.Second {
				t.Errorf("answer filed at %v has received_at %v, want that second", filed, r.ReceivedAt)
			}
			if r.DetectedAt.Before(back) {
				t.Errorf("answer detected at %v, before Dovecot's return at %v", r.DetectedAt, back)
			}
			t.Logf("answer: latency %.0f s from INTERNALDATE; detection came %v later", *got, r.DetectedAt.Sub(r.ReceivedAt).Round(time.Millisecond))
		case "auto_ack":
			// Deferred by Postfix: delivered, and dated, after the return.
			if r.ReceivedAt.Before(back.Truncate(time.Second)) {
				t.Errorf("ack deferred during the outage has received_at %v, before Dovecot's return at %v", r.ReceivedAt, back)
			}
		default:
			t.Errorf("reply %s has kind %s, want human or auto_ack", r.MessageID, r.Kind)
		}
	}
}
