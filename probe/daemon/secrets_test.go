package daemon

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/probe/view"
	"supportprobe/store"
)

// Distinctive passwords: any of them found in a log, the database or an export is a leak.
const (
	smtpSecret  = "s3cr3t-SMTP-pw-9f2"
	imapSecret  = "s3cr3t-IMAP-pw-7c1"
	wrongSecret = "s3cr3t-WRONG-pw-3d4"
	relayLogin  = "relay@example.com"
	imapEnvName = "SUPPORTPROBE_TEST_IMAP_PASSWORD"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// teeHandler hands every record to each of its handlers.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}

// debugLogger logs everything, as text and as JSON, to buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	return slog.New(teeHandler{slog.NewTextHandler(buf, opts), slog.NewJSONHandler(buf, opts)})
}

// secretForms are the shapes a password takes on the wire or in a careless log line:
// as is, base64, and inside an AUTH PLAIN response.
func secretForms(login, pw string) []string {
	b64 := base64.StdEncoding.EncodeToString
	return []string{pw, b64([]byte(pw)), b64([]byte("\x00" + login + "\x00" + pw)), b64([]byte(login + "\x00" + login + "\x00" + pw))}
}

// checkNoSecrets fails the test for each form of each password found in data.
func checkNoSecrets(t *testing.T, where string, data []byte, forms []string) {
	t.Helper()
	for _, f := range forms {
		if i := bytes.Index(data, []byte(f)); i >= 0 {
			lo, hi := max(0, i-120), min(len(data), i+len(f)+40)
			t.Errorf("%s holds the password form %q: …%q…", where, f, data[lo:hi])
		}
	}
}

// secretScenario runs a daemon against w with the SMTP password from a file and the
// IMAP password from the environment, sends one probe, and calls during while it runs.
// It returns the daemon's logs, the bytes of its database after Close, the history JSON
// and the last /metrics and /healthz bodies.
func secretScenario(t *testing.T, w mailworld.World, smtpPW, imapPW string, during func(t *testing.T, d *Daemon, p probe.Probe, sendErr error)) (logs, db, history, monitor []byte) {
	t.Helper()
	dir := t.TempDir()
	pwFile := writePassword(t, dir, "smtp.pass", smtpPW)
	t.Setenv(imapEnvName, imapPW)
	cfg, err := configs.Parse(worldConfigText(w, filepath.Join(dir, "state"),
		"username: "+relayLogin+", password_file: "+pwFile,
		"username: lin.wei@example.com, password_env: "+imapEnvName+", sent_folder: Sent"), "secrets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if probs := cfg.SecretProblems(); len(probs) > 0 {
		t.Fatalf("SecretProblems() = %v", probs)
	}
	var buf syncBuffer
	d, err := New(cfg, Options{Logger: debugLogger(&buf), NoSchedules: true})
	if err != nil {
		t.Fatal(err)
	}
	stop := mustRunDaemon(t, d)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, sendErr := d.Send(sctx, SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	during(t, d, p, sendErr)

	base := "http://" + d.HTTPAddr()
	_, _, metrics := httpGet(t, base+"/metrics")
	_, _, health := httpGet(t, base+"/healthz")
	monitor = []byte(metrics + health)

	ps, err := d.DB().Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := view.Records(ps, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var hist bytes.Buffer
	if err := view.WriteJSON(&hist, recs); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(hist.Bytes(), []byte(p.ID)) {
		t.Errorf("history JSON lacks probe %s:\n%s", p.ID, hist.Bytes())
	}

	stop()
	db, err = os.ReadFile(DatabasePath(cfg.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(db, []byte(p.MessageID)) {
		t.Errorf("database does not hold the probe's Message-ID %q: is this the right file?", p.MessageID)
	}
	return buf.Bytes(), db, hist.Bytes(), monitor
}

// TestPasswordsNeverLeak runs the daemon with real passwords through a mail world, logging
// at Debug level in text and JSON, and looks for the passwords everywhere it writes.
func TestPasswordsNeverLeak(t *testing.T) {
	// Lin's mailbox is the IMAP login; the SMTP server is logged in to as a relay user.
	w := mailworldtest.Memory(t, mailworld.User{Address: linUser.Address, Password: imapSecret}, supportUser,
		mailworld.User{Address: relayLogin, Password: smtpSecret})
	forms := append(secretForms(relayLogin, smtpSecret), secretForms(linUser.Address, imapSecret)...)

	t.Run("good", func(t *testing.T) {
		logs, db, hist, monitor := secretScenario(t, w, smtpSecret, imapSecret, func(t *testing.T, d *Daemon, p probe.Probe, err error) {
			if err != nil || p.State != probe.StateSent {
				t.Fatalf("Send() = %s, %v; want sent", p.State, err)
			}
			if !p.SkewMeasured {
				t.Error("the sent copy was not filed (no skew measured): the IMAP login did not happen")
			}
			vendorReply(t, w, p.MessageID)
			waitReplies(t, d, p.ID, 1)
		})
		if !bytes.Contains(logs, []byte(`"level":"DEBUG"`)) || !bytes.Contains(logs, []byte("level=INFO")) {
			t.Errorf("logs lack JSON debug or text info records; the test logs nothing useful:\n%s", logs)
		}
		if !bytes.Contains(logs, []byte("reply recorded")) {
			t.Errorf("logs lack the reply:\n%s", logs)
		}
		checkNoSecrets(t, "the log", logs, forms)
		checkNoSecrets(t, "the database file", db, forms)
		checkNoSecrets(t, "the history JSON", hist, forms)
		checkNoSecrets(t, "/metrics and /healthz", monitor, forms)
	})

	t.Run("wrong password", func(t *testing.T) {
		wrong := append(secretForms(relayLogin, wrongSecret), secretForms(linUser.Address, wrongSecret)...)
		logs, db, hist, monitor := secretScenario(t, w, wrongSecret, wrongSecret, func(t *testing.T, d *Daemon, p probe.Probe, err error) {
			if err == nil || p.State != probe.StateFailed {
				t.Fatalf("Send() with a wrong SMTP password = %s, %v; want failed", p.State, err)
			}
			deadline := time.Now().Add(15 * time.Second)
			for d.watchState().LastError == nil {
				if time.Now().After(deadline) {
					t.Fatalf("watcher state %+v 15 s on, want a login error", d.watchState())
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
		if !bytes.Contains(bytes.ToLower(logs), []byte("auth")) && !bytes.Contains(bytes.ToLower(logs), []byte("login")) {
			t.Errorf("logs do not mention the failed login:\n%s", logs)
		}
		if !strings.Contains(string(monitor), "inbox watcher not connected") {
			t.Errorf("/healthz does not report the failing watcher:\n%s", monitor)
		}
		for _, f := range [][]string{wrong, forms} {
			checkNoSecrets(t, "the log", logs, f)
			checkNoSecrets(t, "the database file", db, f)
			checkNoSecrets(t, "the history JSON", hist, f)
			checkNoSecrets(t, "/metrics and /healthz", monitor, f)
		}
	})
}
