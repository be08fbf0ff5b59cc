package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// Channel delivers events somewhere people look. Deliver returns nil only when the
// other side accepted the event; an error is retried later with backoff.
type Channel interface {
	// Name identifies the channel in the log, in status and in `alerts test --channel`.
	Name() string
	// Deliver hands ev over, giving up when ctx ends.
	Deliver(ctx context.Context, ev Event) error
}

// Webhook POSTs each event as JSON to URL.
type Webhook struct {
	// ChannelName is the configured name ("ops").
	ChannelName string
	// URL receives the POST.
	URL string
	// Secret signs the body (SignatureHeader); nil sends no signature.
	Secret func() ([]byte, error)
	// Slack sends {"text": ...} for Slack- and Mattermost-compatible incoming webhooks
	// instead of the event's JSON.
	Slack bool
	// Timeout bounds one attempt; 10 s if zero.
	Timeout time.Duration
	// Client makes the request; http.DefaultClient's transport if nil.
	Client *http.Client
}

// Name implements Channel.
func (w *Webhook) Name() string { return w.ChannelName }

// Deliver implements Channel: one POST, success on any 2xx status.
func (w *Webhook) Deliver(ctx context.Context, ev Event) error {
	body := Body(ev)
	if w.Slack {
		body = SlackBody(ev)
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.ChannelName, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "supportprobe-alerts")
	if w.Secret != nil {
		secret, err := w.Secret()
		if err != nil {
			return fmt.Errorf("webhook %s: signing secret: %w", w.ChannelName, err)
		}
		req.Header.Set(SignatureHeader, Sign(secret, body))
	}
	client := w.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: POST %s: %w", w.ChannelName, w.URL, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook %s: POST %s: %s %s", w.ChannelName, w.URL, resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// Command runs a program with the event's JSON on its standard input.
type Command struct {
	// Argv is the program and its arguments; no shell is involved.
	Argv []string
	// Timeout bounds one run; 30 s if zero.
	Timeout time.Duration
}

// Name implements Channel: always "command".
func (c *Command) Name() string { return "command" }

// Deliver implements Channel: success is exit status 0.
func (c *Command) Deliver(ctx context.Context, ev Event) error {
	if len(c.Argv) == 0 {
		return errors.New("command: no program configured")
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Stdin = bytes.NewReader(Body(ev))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		if msg != "" {
			return fmt.Errorf("command %s: %w: %s", c.Argv[0], err, msg)
		}
		return fmt.Errorf("command %s: %w", c.Argv[0], err)
	}
	return nil
}

// Email sends each event as a short plain-text mail to a fixed list, through the
// configured SMTP server. It never writes to a vendor: the recipients come from the
// alerts section only.
type Email struct {
	// To are the recipients.
	To []string
	// Send submits one message; the daemon passes its SMTP sender.
	Send func(ctx context.Context, to []string, subject, body string) error
}

// Name implements Channel: always "email".
func (e *Email) Name() string { return "email" }

// Deliver implements Channel.
func (e *Email) Deliver(ctx context.Context, ev Event) error {
	if e.Send == nil || len(e.To) == 0 {
		return errors.New("email: no recipients or no SMTP server configured")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", ev.Message)
	fmt.Fprintf(&b, "Event:   %s\n", ev.Event)
	if ev.Vendor != "" {
		fmt.Fprintf(&b, "Vendor:  %s\n", ev.Vendor)
	}
	if ev.Probe != "" {
		fmt.Fprintf(&b, "Probe:   %s (supportprobe show %s)\n", ev.Probe, ev.Probe)
	}
	fmt.Fprintf(&b, "At:      %s\n", ev.At.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Alert:   %s\n", ev.ID)
	if err := e.Send(ctx, e.To, Summary(ev), b.String()); err != nil {
		return fmt.Errorf("email to %s: %w", strings.Join(e.To, ", "), err)
	}
	return nil
}
