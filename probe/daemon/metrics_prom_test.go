package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"supportprobe/configs"
	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
	"supportprobe/probe"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// These tests read /metrics with the Prometheus project's own text parser
// (github.com/prometheus/common/expfmt, a test-only dependency), and check the example
// rules and dashboard under configs/ against what the daemon writes.

// promFamily is what a test expects of one family the daemon writes.
type promFamily struct {
	typ    dto.MetricType
	labels []string // sorted, le left out
}

// daemonFamilies are every family the daemon writes when IMAP and an alert channel are
// configured. TestMetricsPrometheusParser checks the daemon's output against it exactly,
// so the checks of the rules, the dashboard and the README can rely on it.
var daemonFamilies = map[string]promFamily{
	"supportprobe_alert_channel_failing":       {dto.MetricType_GAUGE, []string{"channel"}},
	"supportprobe_alert_failures_total":        {dto.MetricType_COUNTER, []string{"channel"}},
	"supportprobe_alerts_delivered_total":      {dto.MetricType_COUNTER, []string{"channel"}},
	"supportprobe_build_info":                  {dto.MetricType_GAUGE, []string{"version"}},
	"supportprobe_first_response_seconds":      {dto.MetricType_HISTOGRAM, []string{"priority", "vendor"}},
	"supportprobe_imap_connected":              {dto.MetricType_GAUGE, nil},
	"supportprobe_inquiries_failed_total":      {dto.MetricType_COUNTER, []string{"vendor"}},
	"supportprobe_inquiries_sent_total":        {dto.MetricType_COUNTER, []string{"vendor"}},
	"supportprobe_last_sync_timestamp_seconds": {dto.MetricType_GAUGE, nil},
	"supportprobe_probes_open":                 {dto.MetricType_GAUGE, []string{"priority", "vendor"}},
	"supportprobe_probes_open_past_target":     {dto.MetricType_GAUGE, []string{"priority", "vendor"}},
	"supportprobe_replies_awaiting_review":     {dto.MetricType_GAUGE, []string{"vendor"}},
	"supportprobe_replies_total":               {dto.MetricType_COUNTER, []string{"kind", "vendor"}},
	"supportprobe_unmatched_mail":              {dto.MetricType_GAUGE, []string{"vendor"}},
	"supportprobe_up":                          {dto.MetricType_GAUGE, nil},
}

// promParse parses text with the Prometheus text parser, failing the test when it
// refuses it.
func promParse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("the Prometheus text parser refuses /metrics: %v\n%s", err, text)
	}
	return fams
}

// promValue returns the value of the series of family name whose labels are exactly
// labels (name=value pairs), and whether there is one.
func promValue(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if !mapsEqual(got, want) {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// scrape fetches d's /metrics, checks the media type is one Prometheus reads as the
// text format, and parses it.
func scrape(t *testing.T, d *Daemon) (map[string]*dto.MetricFamily, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + d.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&b); err != nil {
		t.Fatalf("GET /metrics: read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d %q, want 200", resp.StatusCode, b.String())
	}
	if ft := expfmt.ResponseFormat(resp.Header).FormatType(); ft != expfmt.TypeTextPlain {
		t.Fatalf("Content-Type %q is format type %v to Prometheus, want the text format", resp.Header.Get("Content-Type"), ft)
	}
	return promParse(t, b.String()), b.String()
}

// waitProm scrapes until the series has the value want, or fails after 20 s.
func waitProm(t *testing.T, d *Daemon, want float64, name string, labels ...string) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		fams, body := scrape(t, d)
		got, ok := promValue(fams, name, labels...)
		if ok && got == want {
			return fams
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v (present %v) 20 s on, want %v\n%s", name, labels, got, ok, want, body)
		}
		if w := d.watcher.Load(); w != nil {
			w.SyncNow()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unrelatedMail delivers mail from the vendor's domain that cites no probe.
func unrelatedMail(t *testing.T, w mailworld.World) {
	t.Helper()
	msg := strings.ReplaceAll(fmt.Sprintf(`From: Acme Billing <billing@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Your invoice for November
Message-ID: <invoice-%d@billing.acme.example>
Date: %s
Content-Type: text/plain; charset=utf-8

Hello Lin,

Your invoice for November is ready in the customer portal.

Acme Billing
`, time.Now().UnixNano(), time.Now().Format(time.RFC1123Z)), "\n", "\r\n")
	if err := smtp.SendMail(w.SMTPAddr(), nil, "billing@acme.example", []string{"lin.wei@example.com"}, []byte(msg)); err != nil {
		t.Fatalf("deliver unrelated mail: %v", err)
	}
}

// TestMetricsPrometheusParser runs the daemon against a mail world with a failing alert
// webhook, drives every gauge away from zero through what the daemon really does (a
// probe past its target, a reply under review, mail matched to nothing, an alert the
// webhook refuses), and reads /metrics with Prometheus's parser: every family parses,
// has the expected type, labels and HELP, and nothing else is written.
func TestMetricsPrometheusParser(t *testing.T) {
	w := mailworldtest.Memory(t, linUser, supportUser)
	var hookCalls atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hookCalls.Add(1)
		http.Error(rw, "receiver down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	pw := writePassword(t, dir, "lin.pass", linUser.Password)
	text := worldConfigText(w, filepath.Join(dir, "state"),
		"username: lin.wei@example.com, password_file: "+pw,
		"username: lin.wei@example.com, password_file: "+pw+", append_sent: false")
	text = append(text, fmt.Sprintf("alerts:\n  webhooks:\n    - {name: ops, url: %q}\n", hook.URL+"/hook")...)
	cfg, err := configs.Parse(text, "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Accepted two hours ago by our clock: past the P1 one-hour target.
	s := &fakeSender{at: time.Now().Add(-2 * time.Hour)}
	d, err := New(cfg, Options{Sender: s, Logger: quiet, NoSchedules: true, Version: "v9.9.9-test", AlertInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	d.metrics.state.ttl = 0 // read the store on every scrape
	mustRunDaemon(t, d)
	waitHealthy(t, d)

	ctx := context.Background()
	answered, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	unsure, err := d.Send(ctx, SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	open := []string{"priority", "P1", "vendor", "acme-cloud"}
	waitProm(t, d, 2, "supportprobe_probes_open", open...)
	waitProm(t, d, 2, "supportprobe_probes_open_past_target", open...)
	waitProm(t, d, 0, "supportprobe_probes_open", "priority", "P2", "vendor", "acme-cloud")

	// A reply the classifier was unsure of leaves its probe open and waits for review.
	if _, err := d.db.AddReply(probe.Reply{ProbeID: unsure.ID, MessageID: "unsure-1@helpdesk.acme.example", Kind: probe.KindNeedsReview,
		ReceivedAt: time.Now(), From: "dana@acme.example", Subject: "Re: Streams failing", Reason: "short text, no signature"}, []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitProm(t, d, 1, "supportprobe_replies_awaiting_review", "vendor", "acme-cloud")
	// A person's answer, late, closes the other.
	vendorReply(t, w, answered.MessageID)
	waitProm(t, d, 1, "supportprobe_probes_open", open...)
	waitProm(t, d, 1, "supportprobe_probes_open_past_target", open...)
	unrelatedMail(t, w)
	waitProm(t, d, 1, "supportprobe_unmatched_mail", "vendor", "acme-cloud")
	// The open_past_target alerts go to a webhook that answers 503.
	fams := waitProm(t, d, 1, "supportprobe_alert_channel_failing", "channel", "ops")
	if hookCalls.Load() == 0 {
		t.Error("the alert channel is failing, but the webhook was never called")
	}

	var names []string
	for name := range fams {
		names = append(names, name)
	}
	slices.Sort(names)
	var want []string
	for name := range daemonFamilies {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("families written:\n%v\nwant (daemonFamilies):\n%v", names, want)
	}
	for name, f := range fams {
		exp, ok := daemonFamilies[name]
		if !ok {
			continue
		}
		if f.GetType() != exp.typ {
			t.Errorf("%s: type %v, want %v", name, f.GetType(), exp.typ)
		}
		if help := f.GetHelp(); help == "" || !strings.HasSuffix(help, ".") || strings.ContainsAny(help, "\n\\") {
			t.Errorf("%s: HELP %q, want a sentence", name, help)
		}
		if (f.GetType() == dto.MetricType_COUNTER) != strings.HasSuffix(name, "_total") {
			t.Errorf("%s: a %v; counters, and only counters, end in _total", name, f.GetType())
		}
		if len(f.GetMetric()) == 0 {
			t.Errorf("%s: no series", name)
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName())
			}
			slices.Sort(labels)
			if !slices.Equal(labels, exp.labels) {
				t.Errorf("%s: series with labels %v, want %v", name, labels, exp.labels)
			}
			if h := m.GetHistogram(); h != nil {
				checkPromHistogram(t, name, h)
			}
		}
	}
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"supportprobe_up", nil, 1},
		{"supportprobe_build_info", []string{"version", "v9.9.9-test"}, 1},
		{"supportprobe_imap_connected", nil, 1},
		{"supportprobe_inquiries_sent_total", []string{"vendor", "acme-cloud"}, 2},
		{"supportprobe_replies_total", []string{"kind", "human", "vendor", "acme-cloud"}, 1},
		{"supportprobe_first_response_seconds", []string{"priority", "P1", "vendor", "acme-cloud"}, 1},
		{"supportprobe_replies_awaiting_review", []string{"vendor", "acme-cloud"}, 1},
		{"supportprobe_unmatched_mail", []string{"vendor", ""}, 0},
	} {
		if got, ok := promValue(fams, tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if ts, _ := promValue(fams, "supportprobe_last_sync_timestamp_seconds"); math.Abs(ts-float64(time.Now().Unix())) > 60 {
		t.Errorf("last sync = %v, want about now", ts)
	}

	// promtool, when installed, lints the output as Prometheus's maintainers would.
	t.Run("promtool check metrics", func(t *testing.T) {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("promtool not installed")
		}
		_, body := scrape(t, d)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	})
}

// checkPromHistogram checks one parsed histogram series: bounds ascending, counts
// cumulative and within the sample count, which the +Inf bucket equals when present.
func checkPromHistogram(t *testing.T, name string, h *dto.Histogram) {
	t.Helper()
	prevBound, prevCount := math.Inf(-1), uint64(0)
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() <= prevBound || b.GetCumulativeCount() < prevCount || b.GetCumulativeCount() > h.GetSampleCount() {
			t.Errorf("%s: bucket le=%v count %d after le=%v count %d (sample count %d)", name, b.GetUpperBound(), b.GetCumulativeCount(), prevBound, prevCount, h.GetSampleCount())
		}
		if math.IsInf(b.GetUpperBound(), +1) && b.GetCumulativeCount() != h.GetSampleCount() {
			t.Errorf("%s: +Inf bucket %d, sample count %d", name, b.GetCumulativeCount(), h.GetSampleCount())
		}
		prevBound, prevCount = b.GetUpperBound(), b.GetCumulativeCount()
	}
	if n := len(h.GetBucket()); n != len(FirstResponseBuckets) && n != len(FirstResponseBuckets)+1 {
		t.Errorf("%s: %d buckets, want the %d of FirstResponseBuckets", name, n, len(FirstResponseBuckets))
	}
}

// TestMetricsEscapingPrometheusParser: label values and HELP texts with a backslash, a
// double quote and a newline reach Prometheus unchanged.
func TestMetricsEscapingPrometheusParser(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{at: clock}, nil)
	odd := "we\"ird\\ven\ndor"
	d.opts.Version = "v\"1\"\\\n"
	d.metrics.sent.add(1, odd)
	d.metrics.replies.add(2, odd, "human")
	d.metrics.firstResponse.observe(61, odd, "P1")
	var out strings.Builder
	if err := d.writeMetrics(&out); err != nil {
		t.Fatal(err)
	}
	fams := promParse(t, out.String())
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"supportprobe_inquiries_sent_total", []string{"vendor", odd}, 1},
		{"supportprobe_replies_total", []string{"kind", "human", "vendor", odd}, 2},
		{"supportprobe_first_response_seconds", []string{"priority", "P1", "vendor", odd}, 1},
		{"supportprobe_build_info", []string{"version", "v\"1\"\\\n"}, 1},
	} {
		if got, ok := promValue(fams, tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%q = %v (present %v), want %v\n%s", tt.name, tt.labels, got, ok, tt.want, out.String())
		}
	}

	f := newFamily("supportprobe_test_gauge", "gauge", "A path C:\\state\nand a second line.", "x")
	f.add(1, `"`)
	var b strings.Builder
	bw := bufio.NewWriter(&b)
	f.write(bw)
	bw.Flush()
	got := promParse(t, b.String())["supportprobe_test_gauge"]
	if got.GetHelp() != "A path C:\\state\nand a second line." {
		t.Errorf("HELP read back as %q from\n%s", got.GetHelp(), b.String())
	}
	if v, ok := promValue(promParse(t, b.String()), "supportprobe_test_gauge", "x", `"`); !ok || v != 1 {
		t.Errorf(`series x="\"" = %v, %v; want 1`, v, ok)
	}
}

// TestStateGauges counts open probes, probes past target, replies awaiting review and
// unmatched mail on a fake clock, and holds the past-target gauge to the alerts: the
// probes it counts are those the open_past_target check raises.
func TestStateGauges(t *testing.T) {
	now := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	free := int64(1 << 40)
	d, rec := alertsDaemon(t, &now, &free) // P1 target 1h, deadline 2d
	d.metrics.state.ttl = 0
	if err := d.startAlerts(); err != nil {
		t.Fatal(err)
	}
	addProbe(t, d, probe.StateSent, now.Add(-30*time.Minute))                    // open, within target
	past := addProbe(t, d, probe.StateSent, now.Add(-90*time.Minute))            // open, past target
	acked := addProbe(t, d, probe.StateSent, now.Add(-3*time.Hour), probe.Reply{ // acknowledged only: open, past target
		Kind: probe.KindAutoAck, ReceivedAt: now.Add(-179 * time.Minute)})
	unsure := addProbe(t, d, probe.StateSent, now.Add(-5*time.Hour), probe.Reply{ // needs_review counts as no response
		Kind: probe.KindNeedsReview, ReceivedAt: now.Add(-4 * time.Hour)})
	addProbe(t, d, probe.StateSent, now.Add(-2*time.Hour), probe.Reply{Kind: probe.KindHuman, ReceivedAt: now.Add(-100 * time.Minute)})                       // answered
	addProbe(t, d, probe.StateSent, now.Add(-72*time.Hour))                                                                                                   // past its deadline: unanswered
	addProbe(t, d, probe.StateFailed, now.Add(-10*time.Minute))                                                                                               // never sent
	addProbe(t, d, probe.StateSent, now.AddDate(0, 0, -91).Add(-7*time.Minute), probe.Reply{Kind: probe.KindNeedsReview, ReceivedAt: now.AddDate(0, 0, -90)}) // older than review's 90 days
	for i, u := range []store.Unmatched{
		{MessageID: "u1@acme.example", Vendor: "acme-cloud", DetectedAt: now.Add(-time.Hour)},
		{MessageID: "u2@news.example", DetectedAt: now.Add(-2 * time.Hour)},
		{MessageID: "u3@news.example", DetectedAt: now.AddDate(0, 0, -29)},
		{MessageID: "u4@acme.example", Vendor: "acme-cloud", DetectedAt: now.AddDate(0, 0, -31)}, // older than inbox's 30 days
	} {
		if _, err := d.db.AddUnmatched(u, []byte("x")); err != nil {
			t.Fatalf("unmatched %d: %v", i, err)
		}
	}

	var out strings.Builder
	if err := d.writeMetrics(&out); err != nil {
		t.Fatal(err)
	}
	fams := promParse(t, out.String())
	p1 := []string{"priority", "P1", "vendor", "acme-cloud"}
	for _, tt := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"supportprobe_probes_open", p1, 4},
		{"supportprobe_probes_open_past_target", p1, 3},
		{"supportprobe_probes_open", []string{"priority", "P4", "vendor", "acme-cloud"}, 0},
		{"supportprobe_replies_awaiting_review", []string{"vendor", "acme-cloud"}, 1},
		{"supportprobe_unmatched_mail", []string{"vendor", "acme-cloud"}, 1},
		{"supportprobe_unmatched_mail", []string{"vendor", ""}, 2},
	} {
		if got, ok := promValue(fams, tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%v = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}

	if err := d.checkAlerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.alerts.Drain(context.Background())
	var alerted []string
	for _, id := range rec.ids() {
		if p, ok := strings.CutPrefix(id, "open_past_target/"); ok {
			alerted = append(alerted, p)
		}
	}
	want := []string{past.ID, acked.ID, unsure.ID}
	slices.Sort(want)
	if !slices.Equal(alerted, want) {
		t.Errorf("open_past_target alerts for %v, want %v (the probes the gauge counts)", alerted, want)
	}

	// An hour later the probe within target is past it too; with a long TTL the scrape
	// reuses the last read, and reads again once it expires.
	now = now.Add(time.Hour)
	d.metrics.state.ttl = time.Hour
	if _, err := d.stateGauges(); err != nil { // fills the cache as of now
		t.Fatal(err)
	}
	addProbe(t, d, probe.StateSent, now.Add(-time.Minute))
	if got := gaugeNow(t, d, "supportprobe_probes_open", p1...); got != 4 {
		t.Errorf("open probes within the TTL = %v, want the cached 4", got)
	}
	d.metrics.state.ttl = 0
	if got := gaugeNow(t, d, "supportprobe_probes_open", p1...); got != 5 {
		t.Errorf("open probes after the TTL = %v, want 5", got)
	}
	if got := gaugeNow(t, d, "supportprobe_probes_open_past_target", p1...); got != 4 {
		t.Errorf("past target an hour on = %v, want 4", got)
	}
}

// gaugeNow writes d's metrics and returns the value of one series (-1 when absent).
func gaugeNow(t *testing.T, d *Daemon, name string, labels ...string) float64 {
	t.Helper()
	var out strings.Builder
	if err := d.writeMetrics(&out); err != nil {
		t.Fatal(err)
	}
	v, ok := promValue(promParse(t, out.String()), name, labels...)
	if !ok {
		return -1
	}
	return v
}

// TestStateGaugesTwoTiers: replies awaiting review on probes older than the longest
// deadline come from the full scan, so a decision on one shows once that scan is
// repeated; on a recent probe it shows at the next read. Nothing is counted twice
// across the two.
func TestStateGaugesTwoTiers(t *testing.T) {
	now := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	free := int64(1 << 40)
	d, _ := alertsDaemon(t, &now, &free) // longest deadline 2d: maxDeadline 7d, recent window 8d
	c := &d.metrics.state
	c.ttl, c.fullTTL = 0, time.Hour
	review := func(at time.Time) probe.Reply {
		return probe.Reply{Kind: probe.KindNeedsReview, ReceivedAt: at.Add(time.Hour)}
	}
	old := addProbe(t, d, probe.StateSent, now.AddDate(0, 0, -20).Add(-13*time.Minute), review(now.AddDate(0, 0, -20)))
	recent := addProbe(t, d, probe.StateSent, now.AddDate(0, 0, -3).Add(-17*time.Minute), review(now.AddDate(0, 0, -3)))
	vendor := []string{"vendor", "acme-cloud"}
	if got := gaugeNow(t, d, "supportprobe_replies_awaiting_review", vendor...); got != 2 {
		t.Fatalf("awaiting review = %v, want 2 (one old probe, one recent)", got)
	}
	decide := func(p probe.Probe) {
		t.Helper()
		q, err := d.db.Probe(p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.db.SetOverride(q.Replies[0].ID, probe.Override{Kind: probe.KindHuman, At: now, Note: "a person's answer"}); err != nil {
			t.Fatal(err)
		}
	}
	decide(recent)
	if got := gaugeNow(t, d, "supportprobe_replies_awaiting_review", vendor...); got != 1 {
		t.Errorf("after deciding the recent one = %v, want 1 at the next read", got)
	}
	decide(old)
	if got := gaugeNow(t, d, "supportprobe_replies_awaiting_review", vendor...); got != 1 {
		t.Errorf("after deciding the old one, before the full scan = %v, want the scanned 1", got)
	}
	c.fullTTL = 0
	if got := gaugeNow(t, d, "supportprobe_replies_awaiting_review", vendor...); got != 0 {
		t.Errorf("after the full scan = %v, want 0", got)
	}

	// A clock that moves past the full scan's reach forces a new one, so the probes
	// between the two windows are not lost.
	c.fullTTL = time.Hour
	late := addProbe(t, d, probe.StateSent, now.AddDate(0, 0, -1).Add(-19*time.Minute), review(now.AddDate(0, 0, -1)))
	if got := gaugeNow(t, d, "supportprobe_replies_awaiting_review", vendor...); got != 1 {
		t.Fatalf("with %s waiting = %v, want 1", late.ID, got)
	}
	now = now.AddDate(0, 0, 10) // late is now older than the recent window
	if got := gaugeNow(t, d, "supportprobe_replies_awaiting_review", vendor...); got != 1 {
		t.Errorf("ten days on = %v, want still 1 (%s from a new full scan)", got, late.ID)
	}
}

// TestMetricsStoreUnreadable: a scrape that cannot read the store answers 500 with the
// reason instead of leaving the gauges out, so Prometheus's up says so.
func TestMetricsStoreUnreadable(t *testing.T) {
	now := clock
	free := int64(1 << 40)
	d, _ := alertsDaemon(t, &now, &free)
	if err := d.db.Close(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{header: http.Header{}}
	req, _ := http.NewRequest("GET", "/metrics", nil)
	d.monitorHandler().ServeHTTP(rec, req)
	if rec.code != http.StatusInternalServerError || !strings.Contains(rec.body.String(), "cannot read its state") ||
		!strings.Contains(rec.body.String(), "state gauges") {
		t.Errorf("GET /metrics on a closed store = %d %q, want 500 naming the state gauges", rec.code, rec.body.String())
	}
	if strings.Contains(rec.body.String(), "# TYPE") {
		t.Errorf("a failed scrape carries metrics:\n%s", rec.body.String())
	}
}

// The example rules and dashboard under configs/.

const (
	rulesFile     = "../../configs/prometheus-rules.yml"
	rulesTestFile = "../../configs/prometheus-rules.test.yml"
	dashboardFile = "../../configs/grafana-dashboard.json"
)

// prometheusOwn are series Prometheus itself writes that the examples may use.
var prometheusOwn = map[string][]string{"up": nil}

var (
	selectorRE   = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}`)
	matcherRE    = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*$`)
	supportRE    = regexp.MustCompile(`\bsupportprobe_[a-zA-Z0-9_:]*`)
	bareSeriesRE = regexp.MustCompile(`\b(up)\b`)
)

// checkPromQL checks the metric names and label matchers of one PromQL expression
// crudely: every supportprobe_ name is a family the daemon writes (histograms through
// _bucket, _sum or _count), every selector's labels are the family's or the target's
// (job, instance), and brackets and quotes balance. It returns the families used.
func checkPromQL(t *testing.T, where, expr string) []string {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty expression", where)
		return nil
	}
	if err := balanced(expr); err != nil {
		t.Errorf("%s: %v in %q", where, err, expr)
	}
	family := func(name string) (string, bool) {
		if _, ok := daemonFamilies[name]; ok {
			return name, true
		}
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suf); ok && daemonFamilies[base].typ == dto.MetricType_HISTOGRAM {
				if _, ok := daemonFamilies[base]; ok {
					return base, true
				}
			}
		}
		return "", false
	}
	var used []string
	for _, name := range supportRE.FindAllString(expr, -1) {
		base, ok := family(name)
		if !ok {
			t.Errorf("%s: %s is not a metric the daemon writes", where, name)
			continue
		}
		used = append(used, base)
	}
	for _, m := range selectorRE.FindAllStringSubmatch(expr, -1) {
		name, matchers := m[1], m[2]
		var labels []string
		if base, ok := family(name); ok {
			labels = daemonFamilies[base].labels
			if base != name && strings.HasSuffix(name, "_bucket") {
				labels = append(slices.Clone(labels), "le")
			}
		} else if own, ok := prometheusOwn[name]; ok {
			labels = own
		} else {
			if !strings.HasPrefix(name, "supportprobe_") {
				t.Errorf("%s: selector of %s, neither the daemon's nor Prometheus's", where, name)
			}
			continue
		}
		for _, mt := range strings.Split(matchers, ",") {
			if strings.TrimSpace(mt) == "" {
				continue
			}
			sm := matcherRE.FindStringSubmatch(mt)
			if sm == nil {
				t.Errorf("%s: matcher %q of %s is not label=\"value\"", where, mt, name)
				continue
			}
			if l := sm[1]; l != "job" && l != "instance" && !slices.Contains(labels, l) {
				t.Errorf("%s: %s has no label %s (it has %v, job and instance)", where, name, l, labels)
			}
		}
	}
	for _, m := range bareSeriesRE.FindAllString(expr, -1) {
		used = append(used, m)
	}
	return used
}

// balanced reports the first unbalanced bracket or unterminated string in expr.
func balanced(expr string) error {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inStr := false
	for i := 0; i < len(expr); i++ {
		c := rune(expr[i])
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[c] {
				return fmt.Errorf("unbalanced %q at %d", c, i)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inStr {
		return fmt.Errorf("unterminated string")
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return nil
}

// ruleFile is the Prometheus rule-file structure (prometheus/model/rulefmt), decoded
// strictly so a misspelt key fails.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Limit    int    `yaml:"limit"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// promTemplateFuncs are the functions Prometheus offers rule templates, by name: enough
// for text/template to parse the annotations as Prometheus would.
var promTemplateFuncs = func() template.FuncMap {
	fm := template.FuncMap{}
	for _, name := range []string{"query", "first", "label", "value", "strvalue", "args", "reReplaceAll",
		"safeHtml", "match", "title", "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel",
		"humanize", "humanize1024", "humanizeDuration", "humanizePercentage", "humanizeTimestamp",
		"pathPrefix", "externalURL", "parseDuration", "stripPort", "stripDomain", "toTime", "toDuration", "now"} {
		fm[name] = func(...any) any { return nil }
	}
	return fm
}()

// TestPrometheusRulesFile: configs/prometheus-rules.yml is a Prometheus rule file whose
// every rule is complete, whose durations and templates parse, and whose expressions use
// only metrics and labels the daemon writes; it covers the situations it promises.
func TestPrometheusRulesFile(t *testing.T) {
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	var rf ruleFile
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	if len(rf.Groups) == 0 {
		t.Fatalf("%s: no groups", rulesFile)
	}
	groups := map[string]bool{}
	alerts := map[string]bool{}
	used := map[string]bool{}
	for gi, g := range rf.Groups {
		if g.Name == "" || groups[g.Name] {
			t.Errorf("group %d: name %q empty or repeated", gi, g.Name)
		}
		groups[g.Name] = true
		if len(g.Rules) == 0 {
			t.Errorf("group %s: no rules", g.Name)
		}
		for ri, r := range g.Rules {
			where := fmt.Sprintf("group %s rule %d (%s)", g.Name, ri, r.Alert)
			if (r.Alert == "") == (r.Record == "") {
				t.Errorf("%s: want exactly one of alert and record", where)
			}
			if r.Record != "" {
				t.Errorf("%s: a recording rule in an alerts example", where)
				continue
			}
			if alerts[r.Alert] {
				t.Errorf("%s: alert name repeated", where)
			}
			alerts[r.Alert] = true
			for _, u := range checkPromQL(t, where, r.Expr) {
				used[u] = true
			}
			for key, d := range map[string]string{"for": r.For, "keep_firing_for": r.KeepFiringFor} {
				if d == "" {
					continue
				}
				if _, err := model.ParseDuration(d); err != nil {
					t.Errorf("%s: %s %q: %v", where, key, d, err)
				}
			}
			if r.Labels["severity"] == "" {
				t.Errorf("%s: no severity label", where)
			}
			for name := range r.Labels {
				if !model.LabelName(name).IsValidLegacy() {
					t.Errorf("%s: label name %q", where, name)
				}
			}
			for _, key := range []string{"summary", "description"} {
				if strings.TrimSpace(r.Annotations[key]) == "" {
					t.Errorf("%s: no %s annotation", where, key)
				}
			}
			for key, text := range r.Annotations {
				// Prometheus defines these variables before expanding a template.
				defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
				if _, err := template.New(key).Funcs(promTemplateFuncs).Option("missingkey=zero").Parse(defs + text); err != nil {
					t.Errorf("%s: annotation %s: %v", where, key, err)
				}
				for _, l := range regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`).FindAllStringSubmatch(text, -1) {
					if !exprHasLabel(r.Expr, l[1]) {
						t.Errorf("%s: annotation %s uses $labels.%s, which the expression's result lacks", where, key, l[1])
					}
				}
			}
		}
	}
	// The situations the rules promise, by metric.
	for _, m := range []string{"up", "supportprobe_imap_connected", "supportprobe_last_sync_timestamp_seconds",
		"supportprobe_alert_channel_failing", "supportprobe_probes_open_past_target",
		"supportprobe_replies_awaiting_review", "supportprobe_unmatched_mail"} {
		if !used[m] {
			t.Errorf("%s: no rule uses %s", rulesFile, m)
		}
	}

	t.Run("promtool check and test rules", func(t *testing.T) {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("promtool not installed")
		}
		if out, err := exec.Command(promtool, "check", "rules", rulesFile).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", rulesFile, err, out)
		}
		// The rules' own unit tests: each alert fires when its situation lasts, not before.
		if out, err := exec.Command(promtool, "test", "rules", rulesTestFile).CombinedOutput(); err != nil {
			t.Errorf("promtool test rules %s: %v\n%s", rulesTestFile, err, out)
		}
	})
}

// exprHasLabel says, crudely, whether the result of expr keeps label: an aggregation
// keeps only its by() labels (and drops all without one); otherwise the selected
// family's labels and the target's job and instance survive.
func exprHasLabel(expr, label string) bool {
	if m := regexp.MustCompile(`\bby\s*\(([^)]*)\)`).FindStringSubmatch(expr); m != nil {
		for _, l := range strings.Split(m[1], ",") {
			if strings.TrimSpace(l) == label {
				return true
			}
		}
		return false
	}
	if regexp.MustCompile(`\b(sum|min|max|avg|count)\s*\(`).MatchString(expr) {
		return false
	}
	if label == "job" || label == "instance" {
		return true
	}
	for _, name := range supportRE.FindAllString(expr, -1) {
		if slices.Contains(daemonFamilies[name].labels, label) {
			return true
		}
	}
	return false
}

// TestGrafanaDashboard: configs/grafana-dashboard.json is a dashboard whose panels all
// query Prometheus with metrics and labels the daemon writes, and that shows every
// family at least once.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title      string `json:"title"`
		UID        string `json:"uid"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Title      string `json:"title"`
			Type       string `json:"type"`
			Datasource struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
			GridPos struct{ X, Y, W, H int } `json:"gridPos"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.Title == "" || dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, %d panels; want all three", dashboardFile, dash.Title, dash.UID, len(dash.Panels))
	}
	vars := map[string]bool{"__range": true, "__interval": true, "__rate_interval": true}
	used := map[string]bool{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = true
		if q, ok := v.Query.(string); ok && v.Type == "query" {
			for _, u := range checkPromQL(t, "variable "+v.Name, q) {
				used[u] = true
			}
		}
	}
	ids := map[int]bool{}
	varRE := regexp.MustCompile(`\$\{?([a-zA-Z_][a-zA-Z0-9_]*)`)
	for _, p := range dash.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if ids[p.ID] || p.Title == "" || p.Type == "" {
			t.Errorf("%s: id repeated, or no title or type", where)
		}
		ids[p.ID] = true
		if p.Datasource.Type != "prometheus" || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: datasource %+v, gridPos %+v; want prometheus within the 24-column grid", where, p.Datasource, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, tg := range p.Targets {
			for _, u := range checkPromQL(t, where+" "+tg.RefID, tg.Expr) {
				used[u] = true
			}
			for _, m := range varRE.FindAllStringSubmatch(tg.Expr, -1) {
				if !vars[m[1]] {
					t.Errorf("%s: uses $%s, not a dashboard variable", where, m[1])
				}
			}
		}
	}
	for name := range daemonFamilies {
		if !used[name] {
			t.Errorf("%s: no panel shows %s", dashboardFile, name)
		}
	}
}

// TestReadmeListsMetrics: the README's Operations section names every family the daemon
// writes and points to the example rules and dashboard.
func TestReadmeListsMetrics(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, ops, ok := strings.Cut(string(data), "\n## Operations\n")
	if !ok {
		t.Fatal("README.md has no Operations section")
	}
	ops, _, _ = strings.Cut(ops, "\n## ")
	for name := range daemonFamilies {
		if !strings.Contains(ops, "`"+name) {
			t.Errorf("README.md Operations does not list %s", name)
		}
	}
	for _, f := range []string{"configs/prometheus-rules.yml", "configs/grafana-dashboard.json"} {
		if !strings.Contains(ops, f) {
			t.Errorf("README.md Operations does not point to %s", f)
		}
	}
}

// stateProbesPerDay and stateDays size BenchmarkStateGauges's database: a busy trial,
// 100 probes a day (ten vendors probed ten times a day) for the 90 days the review
// gauge looks back.
const (
	stateProbesPerDay = 100
	stateDays         = reviewGaugeDays
)

// BenchmarkStateGauges measures a read of the store's state gauges over 9,000 probes
// with their replies: "scrape" reads the recent window (at most once per
// stateGaugeTTL), "full" the whole 90 days (once per fullScanTTL). The database is
// cached like the weekly report's; run it as
//
//	go test -run '^$' -bench StateGauges ./probe/daemon/
func BenchmarkStateGauges(b *testing.B) {
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	path := storetest.CachedFile(b, fmt.Sprintf("stategauges-%d-v1", stateProbesPerDay*stateDays), func(path string) error {
		db, err := store.Open(path, store.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		db.Bolt().NoSync = true
		defer db.Bolt().Sync()
		g := storetest.NewGenerator(7, 10)
		step := 24 * time.Hour / stateProbesPerDay
		for k := range stateProbesPerDay * stateDays {
			if err := storetest.Write(db, g.Record(fmt.Sprintf("P%d", k+1), start.Add(time.Duration(k)*step))); err != nil {
				return err
			}
		}
		return nil
	})
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := start.AddDate(0, 0, stateDays).Add(time.Hour)
	cfg, err := configs.Parse([]byte(strings.ReplaceAll(alertsTestConfig, "STATE", b.TempDir())), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	d := &Daemon{cfg: cfg, db: db, log: quiet, metrics: newMetrics(nil), opts: Options{Now: func() time.Time { return now }}}
	fams, err := d.stateGauges()
	if err != nil {
		b.Fatal(err)
	}
	var out strings.Builder
	bw := bufio.NewWriter(&out)
	for _, f := range fams {
		f.write(bw)
	}
	bw.Flush()
	b.Logf("gauges over %d probes (the recent window is %s):\n%s", stateProbesPerDay*stateDays, d.maxDeadline()+alertScanMargin, out.String())
	for _, bc := range []struct {
		name    string
		fullTTL time.Duration
	}{
		{"scrape", time.Hour}, // what a scrape costs between full scans
		{"full", 0},           // what one costs every fullScanTTL
	} {
		b.Run(bc.name, func(b *testing.B) {
			d.metrics.state.ttl, d.metrics.state.fullTTL = 0, bc.fullTTL
			cpu0 := processCPU(b)
			for b.Loop() {
				if _, err := d.stateGauges(); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time, unlike elapsed time, does not grow with the machine's load.
			b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "read-ms")
		})
	}
}

// processCPU is the CPU time (user and system) the test process has used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
