package alert

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// memLog is an in-memory Log with the store's semantics, for the dispatcher's tests.
type memLog struct {
	mu   sync.Mutex
	recs []*Record
}

func (m *memLog) Raise(ev Event, channels []string, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		if r.Event.ID == ev.ID {
			return false, nil
		}
	}
	r := &Record{Event: ev, RaisedAt: now}
	for _, c := range channels {
		r.Deliveries = append(r.Deliveries, Delivery{Channel: c, NextTry: now})
	}
	m.recs = append(m.recs, r)
	return true, nil
}

func (m *memLog) Due(now time.Time) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		for _, d := range r.Deliveries {
			if !d.Done() && !d.NextTry.After(now) {
				c := *r
				c.Deliveries = append([]Delivery(nil), r.Deliveries...)
				out = append(out, c)
				break
			}
		}
	}
	return out, nil
}

func (m *memLog) Update(id string, d Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		if r.Event.ID == id {
			for i := range r.Deliveries {
				if r.Deliveries[i].Channel == d.Channel {
					r.Deliveries[i] = d
					return nil
				}
			}
		}
	}
	return errors.New("no such delivery")
}

func (m *memLog) delivery(id, channel string) Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.recs {
		if r.Event.ID == id {
			for _, d := range r.Deliveries {
				if d.Channel == channel {
					return d
				}
			}
		}
	}
	return Delivery{}
}

var at = time.Date(2026, 12, 7, 3, 4, 5, 0, time.UTC)

func sample(id string) Event {
	return Event{ID: id, Event: OpenPastTarget, Vendor: "acme", Probe: "P12", Message: "P12 to acme has had no response for 1h05m, past its 1h P1 target.", At: at}
}

func TestWebhookBodyAndSignature(t *testing.T) {
	secret := []byte("s3cret")
	var got struct {
		body []byte
		sig  string
		ct   string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.body, _ = io.ReadAll(r.Body)
		got.sig, got.ct = r.Header.Get(SignatureHeader), r.Header.Get("Content-Type")
	}))
	defer srv.Close()
	w := &Webhook{ChannelName: "ops", URL: srv.URL, Secret: func() ([]byte, error) { return secret, nil }}
	if err := w.Deliver(context.Background(), sample("a1")); err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatalf("body %s: %v", got.body, err)
	}
	want := map[string]string{"id": "a1", "event": "open_past_target", "vendor": "acme", "probe": "P12", "at": "2026-12-07T03:04:05Z",
		"message": "P12 to acme has had no response for 1h05m, past its 1h P1 target."}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %q, want %q", k, body[k], v)
		}
	}
	if !Verify(secret, got.body, got.sig) || Verify([]byte("other"), got.body, got.sig) || Verify(secret, append(got.body, ' '), got.sig) {
		t.Errorf("signature %q does not verify exactly against the body under the secret", got.sig)
	}
	if !strings.HasPrefix(got.sig, "sha256=") || len(got.sig) != len("sha256=")+64 || got.ct != "application/json" {
		t.Errorf("signature header %q, content type %q", got.sig, got.ct)
	}
}

func TestWebhookSlackAndErrors(t *testing.T) {
	var body []byte
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
		io.WriteString(w, "invalid_payload")
	}))
	defer srv.Close()
	w := &Webhook{ChannelName: "chat", URL: srv.URL, Slack: true}
	if err := w.Deliver(context.Background(), sample("a1")); err != nil {
		t.Fatal(err)
	}
	var slack map[string]string
	if err := json.Unmarshal(body, &slack); err != nil || len(slack) != 1 ||
		slack["text"] != "[supportprobe] open_past_target acme P12: P12 to acme has had no response for 1h05m, past its 1h P1 target." {
		t.Errorf("slack body %s (%v)", body, err)
	}
	status = http.StatusBadRequest
	err := w.Deliver(context.Background(), sample("a1"))
	if err == nil || !strings.Contains(err.Error(), "webhook chat") || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "invalid_payload") {
		t.Errorf("error on 400 = %v, want the channel, the status and the server's words", err)
	}
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer hang.Close()
	defer close(stop)
	slow := &Webhook{ChannelName: "slow", URL: hang.URL, Timeout: 100 * time.Millisecond}
	start := time.Now()
	if err := slow.Deliver(context.Background(), sample("a1")); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("hanging receiver: err %v after %s, want a timeout error", err, time.Since(start))
	}
}

func TestCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "event.json")
	c := &Command{Argv: []string{"sh", "-c", `cat > "$0"`, out}}
	if err := c.Deliver(context.Background(), sample("a1")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil || string(b) != string(Body(sample("a1"))) {
		t.Errorf("stdin = %s (%v), want the event's JSON", b, err)
	}
	bad := &Command{Argv: []string{"sh", "-c", "echo paging failed >&2; exit 3"}}
	if err := bad.Deliver(context.Background(), sample("a1")); err == nil || !strings.Contains(err.Error(), "paging failed") {
		t.Errorf("failing command: %v, want its exit status and output", err)
	}
}

func TestEmail(t *testing.T) {
	var to []string
	var subject, body string
	e := &Email{To: []string{"ops@example.com"}, Send: func(_ context.Context, t []string, s, b string) error {
		to, subject, body = t, s, b
		return nil
	}}
	if err := e.Deliver(context.Background(), sample("a1")); err != nil {
		t.Fatal(err)
	}
	if len(to) != 1 || to[0] != "ops@example.com" || !strings.HasPrefix(subject, "[supportprobe] open_past_target acme P12") ||
		!strings.Contains(body, "supportprobe show P12") || !strings.Contains(body, "2026-12-07T03:04:05Z") {
		t.Errorf("mail to %v, subject %q, body:\n%s", to, subject, body)
	}
}

// flaky fails its first n deliveries, then records what it got.
type flaky struct {
	name string
	mu   sync.Mutex
	fail int
	got  []string
}

func (f *flaky) Name() string { return f.name }
func (f *flaky) Deliver(_ context.Context, ev Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("connection refused")
	}
	f.got = append(f.got, ev.ID)
	return nil
}

func TestDispatcherRetriesOnce(t *testing.T) {
	now := at
	log := &memLog{}
	good, bad := &flaky{name: "good"}, &flaky{name: "bad", fail: 2}
	d := NewDispatcher(log, []Channel{good, bad}, Options{Now: func() time.Time { return now }})
	if ok, err := d.Raise(sample("a1")); !ok || err != nil {
		t.Fatalf("raise: %v %v", ok, err)
	}
	if ok, _ := d.Raise(sample("a1")); ok {
		t.Fatal("the same ID raised twice")
	}
	next := d.Drain(context.Background())
	if len(good.got) != 1 || len(bad.got) != 0 || !next.Equal(now.Add(10*time.Second)) {
		t.Fatalf("after the first drain: good %v bad %v, next try %v", good.got, bad.got, next)
	}
	if st := d.Status(); !st[1].Failing || st[1].LastError != "connection refused" || st[0].Failing {
		t.Errorf("status %+v", st)
	}
	// Not due yet: nothing is tried, and the pending retry is still reported, so Run
	// sleeps until it rather than polling for it.
	if next := d.Drain(context.Background()); !next.Equal(now.Add(10 * time.Second)) {
		t.Errorf("a drain before the retry is due returned next try %v, want %v", next, now.Add(10*time.Second))
	}
	if bad.fail != 1 {
		t.Fatalf("retried before the backoff ended")
	}
	now = now.Add(10 * time.Second)
	next = d.Drain(context.Background())
	if !next.Equal(now.Add(30 * time.Second)) {
		t.Errorf("second backoff ends %v, want +30s", next)
	}
	now = now.Add(30 * time.Second)
	d.Drain(context.Background())
	d.Drain(context.Background())
	if len(good.got) != 1 || len(bad.got) != 1 {
		t.Errorf("delivered good %v bad %v, want each once", good.got, bad.got)
	}
	if dl := log.delivery("a1", "bad"); dl.Attempts != 3 || dl.DeliveredAt.IsZero() || dl.LastError != "" {
		t.Errorf("bad's delivery %+v", dl)
	}
	if st := d.Status(); st[1].Failing || st[1].Failed != 2 || st[1].Delivered != 1 {
		t.Errorf("status after recovery %+v", st)
	}
}

func TestDispatcherRateLimitAndGiveUp(t *testing.T) {
	now := at
	log := &memLog{}
	c := &flaky{name: "c"}
	d := NewDispatcher(log, []Channel{c}, Options{Now: func() time.Time { return now }, MaxPerHour: 2})
	for _, id := range []string{"a1", "a2", "a3"} {
		d.Raise(sample(id))
	}
	next := d.Drain(context.Background())
	if len(c.got) != 2 || !next.Equal(at.Add(time.Hour)) {
		t.Fatalf("delivered %v, next %v; want two now and the third held for an hour", c.got, next)
	}
	now = at.Add(time.Hour)
	d.Drain(context.Background())
	if len(c.got) != 3 || d.Status()[0].Limited != 1 {
		t.Errorf("delivered %v, status %+v", c.got, d.Status())
	}

	dead := &flaky{name: "dead", fail: 1 << 30}
	log2 := &memLog{}
	d2 := NewDispatcher(log2, []Channel{dead}, Options{Now: func() time.Time { return now }})
	d2.Raise(sample("b1"))
	for range 40 {
		d2.Drain(context.Background())
		now = now.Add(time.Hour)
	}
	if dl := log2.delivery("b1", "dead"); dl.GaveUpAt.IsZero() || dl.Attempts > 30 {
		t.Errorf("delivery to a dead channel: %+v; want given up after a day", dl)
	}
}

func TestDispatcherSlowChannelDoesNotHoldOthers(t *testing.T) {
	log := &memLog{}
	release := make(chan struct{})
	slow := &blocking{release: release}
	fast := &flaky{name: "fast"}
	d := NewDispatcher(log, []Channel{slow, fast}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx, time.Second)
	d.Raise(sample("a1"))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		fast.mu.Lock()
		n := len(fast.got)
		fast.mu.Unlock()
		if n == 1 {
			close(release)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	t.Fatal("the fast channel waited for the blocked one")
}

type blocking struct{ release chan struct{} }

func (b *blocking) Name() string { return "slow" }
func (b *blocking) Deliver(ctx context.Context, _ Event) error {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return nil
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 30 * time.Second, 90 * time.Second, 270 * time.Second, 810 * time.Second, 2430 * time.Second, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}
