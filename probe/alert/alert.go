// Package alert tells people at once when something needs them: a probe open past its
// SLA target, a breach, a failed or bounced send, the inbox watcher down, mail waiting
// for a decision, the state directory filling up, a restart after a crash.
//
// The big picture:
//
//   - The daemon looks at its state on a short tick and raises an Event for each
//     situation it finds. Every event has a stable ID built from what it is about
//     ("open_past_target/P12", "watcher_down/INBOX/1733500000"), so raising the same
//     situation twice is a no-op.
//   - A raised event is written to a Log (the store's alerts bucket) together with one
//     pending delivery per channel, in one transaction, before anything is sent. A
//     crash after that loses nothing: the Dispatcher finds the pending deliveries when
//     it starts again.
//   - The Dispatcher delivers each pending delivery on its channel (webhook, email,
//     command), retrying with backoff and holding back when a channel exceeds its rate
//     limit, and records the outcome. It runs beside the probing, never in its way: a
//     channel that hangs or fails delays only its own deliveries.
//   - Delivery is at least once. A crash between a channel accepting an alert and the
//     log recording that may deliver it again after the restart, with the same ID in
//     the body, so a receiver can drop the repeat; nothing is delivered twice
//     otherwise.
//
// Webhook bodies are JSON (Body) signed with HMAC-SHA256 of the body under the
// channel's secret, in the X-Supportprobe-Signature header ("sha256=<hex>"); see Sign
// and Verify.
package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
)

// Event names: the values of Event.Event. Other tools rely on them; add, never rename.
const (
	// OpenPastTarget is a probe without a response after its SLA target.
	OpenPastTarget = "open_past_target"
	// SLABreached is a probe whose SLA was decided breached.
	SLABreached = "sla_breached"
	// SendFailed is an inquiry the SMTP server refused or that could not be sent.
	SendFailed = "send_failed"
	// Bounced is an inquiry the vendor's side returned as undeliverable.
	Bounced = "bounced"
	// WatcherDown is the inbox watcher disconnected or refused for longer than the
	// configured threshold.
	WatcherDown = "watcher_down"
	// WatcherUp resolves a WatcherDown: the watcher synced again.
	WatcherUp = "watcher_up"
	// ReviewWaiting is a reply awaiting review, or mail matched to no probe, older than
	// the configured threshold.
	ReviewWaiting = "review_waiting"
	// DiskLow is the state directory's file system short of free space.
	DiskLow = "disk_low"
	// CrashRestart is the daemon starting after it stopped without a clean shutdown.
	CrashRestart = "crash_restart"
	// Test is sent by `supportprobe alerts test`.
	Test = "test"
)

// Events lists every event name, in the order the documentation gives them.
var Events = []string{OpenPastTarget, SLABreached, SendFailed, Bounced, WatcherDown, WatcherUp, ReviewWaiting, DiskLow, CrashRestart, Test}

// SignatureHeader carries the webhook body's HMAC-SHA256.
const SignatureHeader = "X-Supportprobe-Signature"

// Event is one alert: what happened, to which vendor and probe, in one readable sentence.
type Event struct {
	// ID identifies the situation; raising an ID already in the log does nothing.
	ID string `json:"id"`
	// Event is one of the names in Events.
	Event string `json:"event"`
	// Vendor is the vendor concerned, "" when none is.
	Vendor string `json:"vendor,omitempty"`
	// Probe is the probe concerned (P12), "" when none is.
	Probe string `json:"probe,omitempty"`
	// Message is one readable sentence that says what happened and what to look at.
	Message string `json:"message"`
	// At is when the situation began (a target passed, a watcher went down), or when
	// it was noticed where that is all that is known.
	At time.Time `json:"at"`
}

// Body returns the JSON that webhooks and commands receive: id, event, vendor, probe,
// message and at (RFC 3339).
func Body(ev Event) []byte {
	type wire struct {
		ID      string `json:"id"`
		Event   string `json:"event"`
		Vendor  string `json:"vendor"`
		Probe   string `json:"probe"`
		Message string `json:"message"`
		At      string `json:"at"`
	}
	b, _ := json.Marshal(wire{ev.ID, ev.Event, ev.Vendor, ev.Probe, ev.Message, ev.At.UTC().Format(time.RFC3339)})
	return b
}

// SlackBody returns the body of a Slack- or Mattermost-compatible incoming webhook:
// {"text": "..."} with the event's sentence and what it is about.
func SlackBody(ev Event) []byte {
	b, _ := json.Marshal(map[string]string{"text": Summary(ev)})
	return b
}

// Summary is the event as one line of text: "[supportprobe] open_past_target acme P12:
// <message>". Email subjects and chat messages use it.
func Summary(ev Event) string {
	var b strings.Builder
	b.WriteString("[supportprobe] ")
	b.WriteString(ev.Event)
	for _, s := range []string{ev.Vendor, ev.Probe} {
		if s != "" {
			b.WriteString(" ")
			b.WriteString(s)
		}
	}
	b.WriteString(": ")
	b.WriteString(ev.Message)
	return b.String()
}

// Sign returns the X-Supportprobe-Signature value for body: "sha256=" and the hex
// HMAC-SHA256 of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is a valid signature of body under secret, comparing in
// constant time. Receivers written in Go can use it as it is.
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sum, m.Sum(nil))
}
