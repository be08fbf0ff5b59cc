package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/mailbox"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
)

// worldConfig sends through and watches a mail world; %[1]s is the state directory,
// %[2]s and %[3]s the SMTP and IMAP ports, %[4]s the mail section's credentials and
// options (smtp then imap), %[5]s the http listen address.
const worldConfig = `state_dir: %[1]s
mail:
  from: "Lin Wei <lin.wei@example.com>"
  smtp: {host: 127.0.0.1, port: %[2]s, security: none, %[4]s}
  imap: {host: 127.0.0.1, port: %[3]s, security: none, %[5]s}
scripts:
  - {id: outage-en, language: en, priority: P1, subject: "Streams failing", body: "Hello {{.Vendor}}, new streams fail. Ref {{.Token}}"}
vendors:
  - name: acme-cloud
    to: ["Acme Support <support@acme.example>"]
    timezone: America/Los_Angeles
    sla: {P1: {first_response: 1h}}
http: {listen: "127.0.0.1:0"}
`

var (
	linUser     = mailworld.User{Address: "lin.wei@example.com", Password: "lin-pw"}
	supportUser = mailworld.User{Address: "support@acme.example", Password: "support-pw"}
)

// worldConfigText fills in worldConfig for w, with smtp and imap the rest of each
// server's flow mapping (username, password_file or password_env, options).
func worldConfigText(w mailworld.World, stateDir, smtpRest, imapRest string) []byte {
	_, smtpPort, _ := net.SplitHostPort(w.SMTPAddr())
	_, imapPort, _ := net.SplitHostPort(w.IMAPAddr())
	return fmt.Appendf(nil, worldConfig, stateDir, smtpPort, imapPort, smtpRest, imapRest)
}

// writePassword writes pw to a file of its own in dir and returns the file's path.
func writePassword(t *testing.T, dir, name, pw string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustRunDaemon starts d.Run and waits until the monitoring listener is bound. The
// returned stop ends Run, waits for it (failing the test on an error) and closes d; the
// test's cleanup calls it too.
func mustRunDaemon(t *testing.T, d *Daemon) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v, want nil after cancel", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return within 15 s of cancel")
		}
		if err := d.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for d.HTTPAddr() == "" {
		select {
		case err := <-done:
			t.Fatalf("Run() = %v before the metrics listener was bound", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("HTTPAddr() still empty 10 s after Run started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return stop
}

// httpGet fetches url and returns the status, the Content-Type and the body.
func httpGet(t *testing.T, url string) (int, string, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// waitHealthy polls /healthz until it answers 200, or fails the test after 15 s.
func waitHealthy(t *testing.T, d *Daemon) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _, body := httpGet(t, "http://"+d.HTTPAddr()+"/healthz")
		if code == http.StatusOK {
			var st Status
			if err := json.Unmarshal([]byte(body), &st); err != nil || !st.Healthy || !st.Running || st.PID != os.Getpid() {
				t.Errorf("GET /healthz = 200 %q (decode: %v), want the running daemon's status, healthy", body, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz = %d %q 15 s after start, want 200", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vendorReply delivers a person's answer to inquiry messageID through w's SMTP server.
func vendorReply(t *testing.T, w mailworld.World, messageID string) {
	t.Helper()
	msg := strings.ReplaceAll(fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: Streams failing
Message-ID: <agent-%[2]d@helpdesk.acme.example>
In-Reply-To: <%[1]s>
References: <%[1]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

We found a misconfigured ingest node and moved your streams to a healthy one.
New streams should start normally now; please let us know if you still see failures.

Dana
`, messageID, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z)), "\n", "\r\n")
	if err := smtp.SendMail(w.SMTPAddr(), nil, "dana@acme.example", []string{"lin.wei@example.com"}, []byte(msg)); err != nil {
		t.Fatalf("vendor reply: %v", err)
	}
}

// waitReplies nudges the watcher until probe id has n replies, or fails after 20 s.
func waitReplies(t *testing.T, d *Daemon, id string, n int) probe.Probe {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := d.DB().Probe(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Replies) >= n {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %s has %d replies 20 s on, want %d; watcher state %+v", id, len(p.Replies), n, d.watchState())
		}
		if w := d.watcher.Load(); w != nil {
			w.SyncNow()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMetric scrapes /metrics until series has the value want and returns that scrape:
// the counters are updated just after the store, so a test that saw the store may
// scrape a moment too early.
func waitMetric(t *testing.T, d *Daemon, series string, want float64) (body string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, _, body = httpGet(t, "http://"+d.HTTPAddr()+"/metrics")
		fams, err := parseExposition(body)
		if err != nil {
			t.Fatalf("parse /metrics: %v\n%s", err, body)
		}
		if got, _ := fams.value(series); got == want {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not %v 10 s on:\n%s", series, want, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	w := mailworldtest.Memory(t, linUser, supportUser)
	dir := t.TempDir()
	pw := writePassword(t, dir, "lin.pass", linUser.Password)
	cfg, err := configs.Parse(worldConfigText(w, filepath.Join(dir, "state"),
		"username: lin.wei@example.com, password_file: "+pw,
		"username: lin.wei@example.com, password_file: "+pw+", append_sent: false"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Sent two minutes ago by our clock, so the reply lands in the (60, 300] bucket.
	s := &fakeSender{at: time.Now().Add(-2 * time.Minute)}
	d, err := New(cfg, Options{Sender: s, Logger: quiet, NoSchedules: true, Version: "v1.2.3-test"})
	if err != nil {
		t.Fatal(err)
	}
	stop := mustRunDaemon(t, d)
	base := "http://" + d.HTTPAddr()
	waitHealthy(t, d)

	ctx := context.Background()
	p, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.err = errors.New("554 5.7.1 rejected")
	s.mu.Unlock()
	if _, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud", Script: "outage-en"}); err == nil {
		t.Fatal("Send() with a refusing server = nil error")
	}
	vendorReply(t, w, p.MessageID)
	waitReplies(t, d, p.ID, 1)
	waitMetric(t, d, `supportprobe_first_response_seconds_count{priority="P1",vendor="acme-cloud"}`, 1)

	// The dashboard shares the listener: the overview links the vendor, the probe
	// page shows the reply, and the metrics endpoints are unaffected by its "/".
	if code, ctype, body := httpGet(t, base+"/"); code != http.StatusOK || !strings.HasPrefix(ctype, "text/html") ||
		!strings.Contains(body, `href="/vendors/acme-cloud"`) {
		t.Errorf("GET / = %d %q; want the dashboard's overview linking acme-cloud:\n%s", code, ctype, body)
	}
	if code, _, body := httpGet(t, base+"/probes/"+p.ID+"?format=json"); code != http.StatusOK || !strings.Contains(body, `"kind": "human"`) {
		t.Errorf("GET /probes/%s?format=json = %d; want the probe with its human reply:\n%s", p.ID, code, body)
	}
	if code, _, _ := httpGet(t, base+"/nothing-here"); code != http.StatusNotFound {
		t.Errorf("GET /nothing-here = %d, want 404", code)
	}

	code, ctype, body := httpGet(t, base+"/metrics")
	if code != http.StatusOK || ctype != "text/plain; version=0.0.4; charset=utf-8" {
		t.Fatalf("GET /metrics = %d, Content-Type %q; want 200, text/plain; version=0.0.4", code, ctype)
	}
	fams, err := parseExposition(body)
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	for _, tt := range []struct {
		series string
		want   float64
	}{
		{`supportprobe_up`, 1},
		{`supportprobe_build_info{version="v1.2.3-test"}`, 1},
		{`supportprobe_imap_connected`, 1},
		{`supportprobe_inquiries_sent_total{vendor="acme-cloud"}`, 1},
		{`supportprobe_inquiries_failed_total{vendor="acme-cloud"}`, 1},
		{`supportprobe_replies_total{kind="human",vendor="acme-cloud"}`, 1},
		{`supportprobe_replies_total{kind="auto_ack",vendor="acme-cloud"}`, 0},
		{`supportprobe_first_response_seconds_bucket{le="60",priority="P1",vendor="acme-cloud"}`, 0},
		{`supportprobe_first_response_seconds_bucket{le="300",priority="P1",vendor="acme-cloud"}`, 1},
		{`supportprobe_first_response_seconds_bucket{le="+Inf",priority="P1",vendor="acme-cloud"}`, 1},
		{`supportprobe_first_response_seconds_count{priority="P1",vendor="acme-cloud"}`, 1},
	} {
		if got, ok := fams.value(tt.series); !ok || got != tt.want {
			t.Errorf("%s = %v (present %v), want %v", tt.series, got, ok, tt.want)
		}
	}
	if sum, _ := fams.value(`supportprobe_first_response_seconds_sum{priority="P1",vendor="acme-cloud"}`); sum < 110 || sum > 140 {
		t.Errorf("first response sum = %v s, want about 120", sum)
	}
	if ts, _ := fams.value(`supportprobe_last_sync_timestamp_seconds`); math.Abs(ts-float64(time.Now().Unix())) > 60 {
		t.Errorf("last sync timestamp = %v, want about now (%d)", ts, time.Now().Unix())
	}
	for name, typ := range map[string]string{
		"supportprobe_inquiries_sent_total":        "counter",
		"supportprobe_first_response_seconds":      "histogram",
		"supportprobe_last_sync_timestamp_seconds": "gauge",
	} {
		if f := fams.family(name); f == nil || f.typ != typ || f.help == "" {
			t.Errorf("family %s = %+v, want type %s with help", name, f, typ)
		}
	}

	t.Run("curl", func(t *testing.T) {
		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Skip("curl not installed")
		}
		out, err := exec.Command(curl, "-sf", base+"/metrics").Output()
		if err != nil {
			t.Fatalf("curl -sf %s/metrics: %v", base, err)
		}
		if _, err := parseExposition(string(out)); err != nil {
			t.Fatalf("parse curl output: %v\n%s", err, out)
		}
	})

	// A second reply from a person is counted but not observed again.
	vendorReply(t, w, p.MessageID)
	waitReplies(t, d, p.ID, 2)
	body = waitMetric(t, d, `supportprobe_replies_total{kind="human",vendor="acme-cloud"}`, 2)
	if fams, err = parseExposition(body); err != nil {
		t.Fatal(err)
	}
	if got, _ := fams.value(`supportprobe_replies_total{kind="human",vendor="acme-cloud"}`); got != 2 {
		t.Errorf("human replies = %v, want 2", got)
	}
	if got, _ := fams.value(`supportprobe_first_response_seconds_count{priority="P1",vendor="acme-cloud"}`); got != 1 {
		t.Errorf("first responses observed = %v, want still 1", got)
	}

	addr := d.HTTPAddr()
	stop()
	if got := d.HTTPAddr(); got != "" {
		t.Errorf("HTTPAddr() after Run = %q, want empty", got)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("metrics listener %s still accepts connections after Run returned", addr)
	}
}

func TestNoHTTPSectionNoListener(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{at: clock}, nil)
	if d.config().HTTP != nil {
		t.Fatalf("probing config has an http section: %+v", d.config().HTTP)
	}
	if err := d.startMonitor(); err != nil || d.HTTPAddr() != "" {
		t.Errorf("startMonitor() = %v, HTTPAddr() = %q; want nothing started", err, d.HTTPAddr())
	}
}

func TestWatcherHealth(t *testing.T) {
	now := time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		st      mailbox.WatchState
		started bool
		want    bool
		why     string
	}{
		{"not started", mailbox.WatchState{}, false, false, "inbox watcher not started"},
		{"connected", mailbox.WatchState{Connected: true}, true, true, ""},
		{"reconnecting after a recent sync", mailbox.WatchState{LastSync: now.Add(-9 * time.Minute)}, true, true, ""},
		{"never synced", mailbox.WatchState{LastError: errors.New("dial tcp: connection refused")}, true, false,
			"inbox watcher not connected and never synced: dial tcp: connection refused"},
		{"synced too long ago", mailbox.WatchState{LastSync: now.Add(-11 * time.Minute)}, true, false,
			"inbox watcher not connected and last synced 11m0s ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, why := watcherHealth(tt.st, tt.started, now)
			if ok != tt.want || why != tt.why {
				t.Errorf("watcherHealth() = %v, %q; want %v, %q", ok, why, tt.want, tt.why)
			}
		})
	}
}

func TestHealthzUnavailable(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{at: clock}, nil)
	srv := d.monitorHandler()
	for _, tt := range []struct {
		name, want string
		running    bool
	}{
		{"stopped", "daemon is not running", false},
		{"watcher not started", "inbox watcher not started", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d.running.Store(tt.running)
			rec := &recorder{header: http.Header{}}
			req, _ := http.NewRequest("GET", "/healthz", nil)
			srv.ServeHTTP(rec, req)
			var st Status
			if err := json.Unmarshal([]byte(rec.body.String()), &st); err != nil {
				t.Fatalf("GET /healthz body %q: %v", rec.body.String(), err)
			}
			if rec.code != http.StatusServiceUnavailable || st.Healthy || st.Unhealthy != tt.want {
				t.Errorf("GET /healthz = %d healthy=%v unhealthy=%q, want 503 %q", rec.code, st.Healthy, st.Unhealthy, tt.want)
			}
		})
	}
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func TestMetricsOutputIsSortedAndEscaped(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{at: clock}, nil)
	d.opts.Version = "v\"1\"\\\n"
	for _, v := range []string{"zeta", "alpha", "mid"} {
		d.metrics.sent.add(1, v)
	}
	d.metrics.firstResponse.observe(60, "b", "P2")
	d.metrics.firstResponse.observe(1e9, "a", "P1")
	var first, second strings.Builder
	if err := d.writeMetrics(&first); err != nil {
		t.Fatal(err)
	}
	if err := d.writeMetrics(&second); err != nil {
		t.Fatal(err)
	}
	if first.String() != second.String() {
		t.Errorf("two scrapes of the same state differ:\n%s\n---\n%s", first.String(), second.String())
	}
	fams, err := parseExposition(first.String())
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, first.String())
	}
	var names []string
	for _, f := range fams.order {
		names = append(names, f.name)
	}
	if !slices.IsSorted(names) {
		t.Errorf("families %v, want sorted by name", names)
	}
	var vendors []string
	for _, s := range fams.family("supportprobe_inquiries_sent_total").samples {
		vendors = append(vendors, s.labels["vendor"])
	}
	if want := []string{"acme-cloud", "alpha", "mid", "zeta"}; !slices.Equal(vendors, want) {
		t.Errorf("sent series vendors = %v, want %v", vendors, want)
	}
	if v, ok := fams.value(`supportprobe_build_info{version="v\"1\"\\\n"}`); !ok || v != 1 {
		t.Errorf("build_info with an escaped version = %v, %v; want 1\n%s", v, ok, first.String())
	}
	for _, line := range []string{
		`supportprobe_replies_total{kind="auto_ack",vendor="acme-cloud"} 0`,
		`supportprobe_first_response_seconds_bucket{priority="P1",vendor="a",le="+Inf"} 1`,
	} {
		if !strings.Contains(first.String(), "\n"+line+"\n") {
			t.Errorf("output lacks the line %s (labels sorted by name, le last)", line)
		}
	}
	// An observation on a bucket's bound counts in that bucket; one past the last, in +Inf only.
	for series, want := range map[string]float64{
		`supportprobe_first_response_seconds_bucket{le="60",priority="P2",vendor="b"}`:     1,
		`supportprobe_first_response_seconds_bucket{le="604800",priority="P1",vendor="a"}`: 0,
		`supportprobe_first_response_seconds_bucket{le="+Inf",priority="P1",vendor="a"}`:   1,
		`supportprobe_first_response_seconds_sum{priority="P1",vendor="a"}`:                1e9,
	} {
		if got, ok := fams.value(series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
}

// TestParseExpositionRejects keeps the test's parser honest: it must refuse what a
// scraper refuses.
func TestParseExpositionRejects(t *testing.T) {
	const help = "# HELP h x\n# TYPE h histogram\n"
	tests := []struct{ name, text string }{
		{"bad name", "1abc 1\n"},
		{"no value", "abc\n"},
		{"bad value", "abc one\n"},
		{"bad escape", `abc{a="\x"} 1` + "\n"},
		{"unterminated labels", `abc{a="1" 1` + "\n"},
		{"duplicate series", "abc 1\nabc 2\n"},
		{"unknown type", "# TYPE abc meter\nabc 1\n"},
		{"type after samples", "abc 1\n# TYPE abc gauge\n"},
		{"interleaved", "a 1\nb 1\na{x=\"1\"} 1\n"},
		{"no +Inf", help + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
		{"descending le", help + "h_bucket{le=\"2\"} 0\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
		{"not cumulative", help + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
		{"count mismatch", help + "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n"},
		{"no sum", help + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseExposition(tt.text); err == nil {
				t.Errorf("parseExposition(%q) = nil error, want one", tt.text)
			}
		})
	}
}

// A small parser of the Prometheus text exposition format 0.0.4, strict enough to catch
// what a scraper would reject.

type expSample struct {
	name   string
	labels map[string]string
	value  float64
}

type expFamily struct {
	name, typ, help string
	samples         []expSample
}

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// seriesKey renders name and labels with the labels sorted by name.
func seriesKey(name string, labels map[string]string) string {
	if len(labels) == 0 {
		return name
	}
	var keys []string
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+strconv.Quote(labels[k]))
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// parsedExposition is the result of parseExposition.
type parsedExposition struct {
	fams  map[string]*expFamily
	order []*expFamily
	by    map[string]float64 // by seriesKey
}

func (p *parsedExposition) value(series string) (float64, bool) {
	v, ok := p.by[series]
	return v, ok
}

func (p *parsedExposition) family(name string) *expFamily { return p.fams[name] }

// parseExposition parses text and checks it: well-formed HELP and TYPE lines, at most
// one of each per family and before its samples, families not interleaved, valid names
// and escapes, no duplicate series, and for histograms le buckets ascending to +Inf,
// cumulative, with +Inf equal to _count and a _sum for each series.
func parseExposition(text string) (*parsedExposition, error) {
	p := &parsedExposition{fams: map[string]*expFamily{}, by: map[string]float64{}}
	var cur *expFamily
	done := map[string]bool{}
	famOf := func(name string) string {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suf); ok {
				if f := p.fams[base]; f != nil && f.typ == "histogram" {
					return base
				}
			}
		}
		return name
	}
	enter := func(name string) (*expFamily, error) {
		if cur != nil && cur.name == name {
			return cur, nil
		}
		if done[name] {
			return nil, fmt.Errorf("family %s interleaved with another", name)
		}
		if cur != nil {
			done[cur.name] = true
		}
		f := p.fams[name]
		if f == nil {
			f = &expFamily{name: name, typ: "untyped"}
			p.fams[name] = f
			p.order = append(p.order, f)
		}
		cur = f
		return f, nil
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "#"); ok {
			fields := strings.SplitN(strings.TrimLeft(rest, " "), " ", 3)
			if len(fields) < 2 || fields[0] != "HELP" && fields[0] != "TYPE" {
				continue // a plain comment
			}
			name := fields[1]
			if !metricNameRE.MatchString(name) {
				return nil, fmt.Errorf("line %d: bad metric name %q", n, name)
			}
			f, err := enter(name)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			arg := ""
			if len(fields) == 3 {
				arg = fields[2]
			}
			switch fields[0] {
			case "HELP":
				if f.help != "" {
					return nil, fmt.Errorf("line %d: second HELP for %s", n, name)
				}
				if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(arg, `\\`, ""), `\n`, ""), `\`) {
					return nil, fmt.Errorf("line %d: bad escape in HELP %q", n, arg)
				}
				f.help = arg
				if f.help == "" {
					return nil, fmt.Errorf("line %d: empty HELP for %s", n, name)
				}
			case "TYPE":
				if f.typ != "untyped" || len(f.samples) > 0 {
					return nil, fmt.Errorf("line %d: TYPE for %s after its samples or a second TYPE", n, name)
				}
				if !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, arg) {
					return nil, fmt.Errorf("line %d: unknown type %q", n, arg)
				}
				f.typ = arg
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		f, err := enter(famOf(s.name))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if f.typ == "histogram" && s.name == f.name {
			return nil, fmt.Errorf("line %d: histogram sample %s without _bucket, _sum or _count", n, s.name)
		}
		key := seriesKey(s.name, s.labels)
		if _, dup := p.by[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate series %s", n, key)
		}
		p.by[key] = s.value
		f.samples = append(f.samples, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, f := range p.order {
		if f.typ == "histogram" {
			if err := checkHistogram(f); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// checkHistogram checks each series of histogram f.
func checkHistogram(f *expFamily) error {
	type hist struct {
		les          []float64
		counts       []float64
		sum, count   float64
		hasSum, hasN bool
	}
	byKey := map[string]*hist{}
	var keys []string
	for _, s := range f.samples {
		labels := map[string]string{}
		for k, v := range s.labels {
			if k != "le" {
				labels[k] = v
			}
		}
		key := seriesKey(f.name, labels)
		h := byKey[key]
		if h == nil {
			h = &hist{}
			byKey[key] = h
			keys = append(keys, key)
		}
		switch s.name {
		case f.name + "_bucket":
			le, ok := s.labels["le"]
			if !ok {
				return fmt.Errorf("%s: bucket without le", key)
			}
			bound, err := parseFloat(le)
			if err != nil {
				return fmt.Errorf("%s: le %q: %w", key, le, err)
			}
			if n := len(h.les); n > 0 && bound <= h.les[n-1] {
				return fmt.Errorf("%s: le %v after %v, want ascending", key, bound, h.les[n-1])
			}
			if n := len(h.counts); n > 0 && s.value < h.counts[n-1] {
				return fmt.Errorf("%s: bucket le=%v count %v below the previous %v, want cumulative", key, bound, s.value, h.counts[n-1])
			}
			if h.hasSum || h.hasN {
				return fmt.Errorf("%s: bucket after _sum or _count", key)
			}
			h.les, h.counts = append(h.les, bound), append(h.counts, s.value)
		case f.name + "_sum":
			if _, ok := s.labels["le"]; ok {
				return fmt.Errorf("%s: _sum with le", key)
			}
			h.sum, h.hasSum = s.value, true
		case f.name + "_count":
			if _, ok := s.labels["le"]; ok {
				return fmt.Errorf("%s: _count with le", key)
			}
			h.count, h.hasN = s.value, true
		}
	}
	for _, key := range keys {
		h := byKey[key]
		switch n := len(h.les); {
		case n == 0 || !math.IsInf(h.les[n-1], +1):
			return fmt.Errorf("%s: no +Inf bucket", key)
		case !h.hasSum || !h.hasN:
			return fmt.Errorf("%s: missing _sum or _count", key)
		case h.counts[n-1] != h.count:
			return fmt.Errorf("%s: +Inf bucket %v != _count %v", key, h.counts[n-1], h.count)
		}
	}
	return nil
}

// parseSample parses `name{label="value",...} value [timestamp]`.
func parseSample(line string) (expSample, error) {
	s := expSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	s.name = line[:i]
	if !metricNameRE.MatchString(s.name) {
		return s, fmt.Errorf("bad metric name %q", s.name)
	}
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, fmt.Errorf("bad label in %q", line)
			}
			name := strings.TrimSpace(rest[:eq])
			if !labelNameRE.MatchString(name) {
				return s, fmt.Errorf("bad label name %q", name)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s twice in %q", name, line)
			}
			rest = rest[eq+2:]
			var v strings.Builder
			closed := false
			for j := 0; j < len(rest); j++ {
				c := rest[j]
				if c == '"' {
					rest, closed = rest[j+1:], true
					break
				}
				if c == '\\' {
					if j+1 >= len(rest) {
						return s, fmt.Errorf("unterminated escape in %q", line)
					}
					j++
					switch rest[j] {
					case '\\':
						v.WriteByte('\\')
					case '"':
						v.WriteByte('"')
					case 'n':
						v.WriteByte('\n')
					default:
						return s, fmt.Errorf(`bad escape \%c in %q`, rest[j], line)
					}
					continue
				}
				v.WriteByte(c)
			}
			if !closed {
				return s, fmt.Errorf("unterminated label value in %q", line)
			}
			s.labels[name] = v.String()
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("want , or } after label %s in %q", name, line)
			}
		}
	}
	if !strings.HasPrefix(rest, " ") {
		return s, fmt.Errorf("no space before the value in %q", line)
	}
	fields := strings.Fields(rest)
	if len(fields) < 1 || len(fields) > 2 {
		return s, fmt.Errorf("want a value and an optional timestamp in %q", line)
	}
	v, err := parseFloat(fields[0])
	if err != nil {
		return s, fmt.Errorf("value in %q: %w", line, err)
	}
	s.value = v
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return s, fmt.Errorf("timestamp in %q: %w", line, err)
		}
	}
	return s, nil
}

func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(+1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}
