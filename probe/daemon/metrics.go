package daemon

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
	"supportprobe/store"
)

// The monitoring listener (configs.HTTP) serves the dashboard (probe/dashboard: /,
// /vendors/NAME, /probes/ID, /review, /unmatched, read-only) and two endpoints:
//
//   - /metrics: the daemon's counters, histograms and gauges in the Prometheus text
//     exposition format 0.0.4, written by hand (the format is a few lines of text and a
//     client library would be the largest dependency of the program; the tests check the
//     output with the Prometheus project's own parser). Families are sorted by name and
//     series by label values, so two scrapes of the same state are identical.
//   - /healthz: the daemon's Status as JSON (what `supportprobe status --format json`
//     prints), with 200 while the daemon runs and, when IMAP is configured, the inbox
//     watcher is connected or has synced within healthSyncWindow; otherwise 503, with
//     the reason in "unhealthy".
//
// With http.auth every path but /healthz requires credentials (httpauth.go), and with
// cert_file and key_file the listener serves TLS; allow_remote requires both, or auth
// and an explicit insecure_plaintext.
//
// The gauges of the store's state (open probes, probes past target, replies awaiting
// review, unmatched mail) are read at scrape time, cheaply: decoding probes is the cost
// (about 30 µs each), so a scrape reads only the probes created within the longest
// deadline (the only ones that can be open), at most once per stateGaugeTTL however
// often it is scraped. Replies awaiting review on older probes, back to the 90 days that
// `review` lists, come from a full scan repeated every fullScanTTL: they change only
// when a person decides one or a late reply arrives. A store that cannot be read fails
// the scrape (500), so Prometheus's up goes to 0 rather than the gauges vanishing.

// FirstResponseBuckets are the upper bounds, in seconds, of the
// supportprobe_first_response_seconds histogram: 1 min to 1 week.
var FirstResponseBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800}

// healthSyncWindow is how long /healthz stays healthy after the watcher's last complete
// sync while it is disconnected (reconnecting with backoff).
const healthSyncWindow = 10 * time.Minute

// stateGaugeTTL is how long the store's state gauges are reused between scrapes, and
// fullScanTTL how long the review counts of probes older than the longest deadline are.
const (
	stateGaugeTTL = 10 * time.Second
	fullScanTTL   = 5 * time.Minute
)

// The windows of the state gauges are the defaults of the commands that list the same
// things, so the dashboard and the CLI agree: `review` lists replies of probes created
// in the last 90 days, `inbox --unmatched` the mail detected in the last 30 days.
const (
	reviewGaugeDays    = 90
	unmatchedGaugeDays = 30
)

// metricsContentType is the text exposition format's media type.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// family is one metric family: a counter or a histogram with fixed label names, whose
// series are created on first use. Safe for concurrent use.
type family struct {
	name, help, typ string
	labels          []string
	buckets         []float64 // histograms only, ascending, without +Inf

	mu     sync.Mutex
	series map[string]*series // by label values joined with "\xff"
}

type series struct {
	values []string
	value  float64  // counter or gauge
	counts []uint64 // histogram: observations per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

func newFamily(name, typ, help string, labels ...string) *family {
	return &family{name: name, typ: typ, help: help, labels: labels, series: map[string]*series{}}
}

// get returns the series for values, creating it. f.mu must be held.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metric %s: %d label values for labels %v", f.name, len(values), f.labels))
	}
	key := strings.Join(values, "\xff")
	s := f.series[key]
	if s == nil {
		s = &series{values: slices.Clone(values)}
		if f.typ == "histogram" {
			s.counts = make([]uint64, len(f.buckets)+1)
		}
		f.series[key] = s
	}
	return s
}

// add adds v to the counter or gauge with the given label values; add(0, …) makes the
// series visible before its first event, so rate() sees it start at zero.
func (f *family) add(v float64, values ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.get(values).value += v
}

// observe records v in the histogram with the given label values.
func (f *family) observe(v float64, values ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.get(values)
	i, _ := slices.BinarySearch(f.buckets, v) // first bucket whose bound is >= v
	s.counts[i]++
	s.sum += v
	s.count++
}

// write writes the family: HELP, TYPE, then its series. Label pairs are written sorted
// by name (le last), and series sorted by their label values in that order.
func (f *family) write(w *bufio.Writer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.typ)
	order := make([]int, len(f.labels)) // label indexes in name order
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(f.labels[a], f.labels[b]) })
	names := make([]string, len(order))
	for i, j := range order {
		names[i] = f.labels[j]
	}
	sorted := func(s *series) []string {
		values := make([]string, len(order))
		for i, j := range order {
			values[i] = s.values[j]
		}
		return values
	}
	all := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *series) int { return slices.Compare(sorted(a), sorted(b)) })
	for _, s := range all {
		values := sorted(s)
		if f.typ != "histogram" {
			fmt.Fprintf(w, "%s%s %s\n", f.name, labelSet(names, values), formatFloat(s.value))
			continue
		}
		leNames, leValues := append(slices.Clip(names), "le"), append(slices.Clip(values), "")
		var cum uint64
		for i, c := range s.counts {
			cum += c
			leValues[len(leValues)-1] = "+Inf"
			if i < len(f.buckets) {
				leValues[len(leValues)-1] = formatFloat(f.buckets[i])
			}
			fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelSet(leNames, leValues), cum)
		}
		fmt.Fprintf(w, "%s_sum%s %s\n", f.name, labelSet(names, values), formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", f.name, labelSet(names, values), s.count)
	}
}

func labelSet(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(values[i]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// metrics are the daemon's counters and histograms; gauges are read at scrape time.
type metrics struct {
	sent, failed, replies *family
	firstResponse         *family

	state stateCache
}

// stateCache holds the store's state gauges between scrapes (stateGauges).
type stateCache struct {
	mu           sync.Mutex
	ttl, fullTTL time.Duration
	at, fullAt   time.Time // by the monotonic clock, not Options.Now
	fams         []*family
	fullNow      time.Time    // Options.Now of the last full scan
	reviewed     []probeState // from it: the probes with replies awaiting review
}

// probeState is what the state gauges need of one probe.
type probeState struct {
	created          time.Time
	vendor, priority string
	open, pastTarget bool
	reviews          int // replies awaiting review
}

func newMetrics(vendors []probe.Vendor) *metrics {
	m := &metrics{
		state: stateCache{ttl: stateGaugeTTL, fullTTL: fullScanTTL},
		sent: newFamily("supportprobe_inquiries_sent_total", "counter",
			"Inquiries the SMTP server accepted, by vendor.", "vendor"),
		failed: newFamily("supportprobe_inquiries_failed_total", "counter",
			"Inquiries recorded as failed (not composed, or refused by the SMTP server), by vendor.", "vendor"),
		replies: newFamily("supportprobe_replies_total", "counter",
			"Replies matched to a probe and recorded, by vendor and classified kind.", "vendor", "kind"),
		firstResponse: newFamily("supportprobe_first_response_seconds", "histogram",
			"Calendar time from sending a probe to its first human reply, observed when that reply is recorded.", "vendor", "priority"),
	}
	m.firstResponse.buckets = FirstResponseBuckets
	for _, v := range vendors {
		m.addVendor(v.Name)
	}
	return m
}

// addVendor makes vendor's counters visible at zero before its first event.
func (m *metrics) addVendor(vendor string) {
	m.sent.add(0, vendor)
	m.failed.add(0, vendor)
	for _, k := range probe.Kinds {
		m.replies.add(0, vendor, string(k))
	}
}

// countReply counts reply r of vendor, just recorded, and when it is the probe's first
// human reply observes the probe's response latency. A probe that cannot be read or
// measured is logged and not observed: metrics never fail the recording of mail.
func (d *Daemon) countReply(vendor string, r probe.Reply) {
	d.metrics.replies.add(1, vendor, string(r.EffectiveKind()))
	if r.EffectiveKind() != probe.KindHuman {
		return
	}
	p, err := d.db.Probe(r.ProbeID)
	if err != nil {
		d.log.Warn("first-response metric: read probe", "probe", r.ProbeID, "err", err)
		return
	}
	humans := 0
	for _, pr := range p.Replies {
		if pr.EffectiveKind() == probe.KindHuman {
			humans++
		}
	}
	if humans != 1 {
		return // an earlier human reply was observed already
	}
	m, err := probe.Measure(p, d.opts.Now())
	if err != nil {
		d.log.Warn("first-response metric: measure probe", "probe", p.ID, "err", err)
		return
	}
	if m.FirstResponse == nil || m.FirstResponse.ID != r.ID || m.ResponseLatency == nil {
		return
	}
	d.metrics.firstResponse.observe(m.ResponseLatency.Seconds(), p.Vendor, string(p.Priority))
}

// stateGauges returns the gauges of the store's state, read again when the last read
// is older than the cache's ttl (and with a full scan when that is older than fullTTL,
// or no longer reaches the recent window). Concurrent scrapes wait for one read rather
// than each scanning the store.
func (d *Daemon) stateGauges() ([]*family, error) {
	c := &d.metrics.state
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fams != nil && time.Since(c.at) < c.ttl {
		return c.fams, nil
	}
	now := d.opts.Now().UTC()
	reviewSince := now.AddDate(0, 0, -reviewGaugeDays)
	recentSince := now.Add(-d.maxDeadline() - alertScanMargin)
	var recent []probeState
	var err error
	if c.fullAt.IsZero() || time.Since(c.fullAt) >= c.fullTTL || c.fullNow.Before(recentSince) || now.Before(c.fullNow) {
		var all []probeState
		if all, err = d.probeStates(earlier(reviewSince, recentSince), now); err != nil {
			return nil, err
		}
		c.reviewed = c.reviewed[:0]
		for _, ps := range all {
			if ps.reviews > 0 {
				c.reviewed = append(c.reviewed, ps)
			}
			if !ps.created.Before(recentSince) {
				recent = append(recent, ps)
			}
		}
		c.fullNow, c.fullAt = now, time.Now()
	} else if recent, err = d.probeStates(recentSince, now); err != nil {
		return nil, err
	}
	// The recent window from this read, and older probes from the last full scan.
	for _, ps := range c.reviewed {
		if ps.created.Before(recentSince) && !ps.created.Before(reviewSince) {
			recent = append(recent, probeState{created: ps.created, vendor: ps.vendor, reviews: ps.reviews})
		}
	}
	fams, err := d.stateFamilies(now, recent)
	if err != nil {
		return nil, err
	}
	c.fams, c.at = fams, time.Now()
	return fams, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// probeStates reads the probes created at or after since and judges each as of now, by
// the same Measure that decides the open_past_target alert and every report. Only
// probes whose deadline has not passed are measured: a probe past its deadline is
// decided, never open.
func (d *Daemon) probeStates(since, now time.Time) ([]probeState, error) {
	ps, err := d.db.Probes(store.Filter{Since: since})
	if err != nil {
		return nil, fmt.Errorf("state gauges: %w", err)
	}
	out := make([]probeState, 0, len(ps))
	for _, p := range ps {
		st := probeState{created: p.CreatedAt, vendor: p.Vendor, priority: string(p.Priority)}
		for _, r := range p.Replies {
			if r.EffectiveKind() == probe.KindNeedsReview {
				st.reviews++
			}
		}
		// An hour of margin past the deadline covers any clock skew Measure removes.
		if p.State == probe.StateSent && now.Before(p.SentAt.Add(p.Terms.Deadline+time.Hour)) {
			m, err := probe.Measure(p, now)
			if err != nil {
				d.log.Warn("state gauges: measure probe", "probe", p.ID, "err", err)
			} else if m.Status == probe.StatusSent || m.Status == probe.StatusAcknowledged {
				st.open, st.pastTarget = true, m.SLA == probe.SLAOpenBreached
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// stateFamilies builds the state gauges from the probes' states and the unmatched mail
// of the last unmatchedGaugeDays. Every configured vendor (and priority) has a series,
// zero when nothing waits, so a dashboard's sum is 0 rather than empty.
func (d *Daemon) stateFamilies(now time.Time, states []probeState) ([]*family, error) {
	open := newFamily("supportprobe_probes_open", "gauge",
		"Probes sent and still awaiting a person's answer (sent or acknowledged, deadline not reached), by vendor and priority.", "vendor", "priority")
	past := newFamily("supportprobe_probes_open_past_target", "gauge",
		"Open probes already past their SLA first-response target (SLA state open_breached), by vendor and priority.", "vendor", "priority")
	review := newFamily("supportprobe_replies_awaiting_review", "gauge",
		fmt.Sprintf("Replies classified needs_review that no person has decided yet, on probes created in the last %d days (what `supportprobe review` lists), by vendor.", reviewGaugeDays), "vendor")
	unmatched := newFamily("supportprobe_unmatched_mail", "gauge",
		fmt.Sprintf("Mail matched to no probe and not linked to one, detected in the last %d days (what `supportprobe inbox --unmatched` lists), by the sender's vendor by its From domain (empty when none).", unmatchedGaugeDays), "vendor")
	for _, v := range d.config().Vendors {
		for _, pr := range probe.Priorities {
			open.add(0, v.Name, string(pr))
			past.add(0, v.Name, string(pr))
		}
		review.add(0, v.Name)
		unmatched.add(0, v.Name)
	}
	unmatched.add(0, "")
	reviewSince := now.AddDate(0, 0, -reviewGaugeDays)
	for _, st := range states {
		if st.open {
			open.add(1, st.vendor, st.priority)
		}
		if st.pastTarget {
			past.add(1, st.vendor, st.priority)
		}
		if st.reviews > 0 && !st.created.Before(reviewSince) {
			review.add(float64(st.reviews), st.vendor)
		}
	}
	us, err := d.db.UnmatchedMail(now.AddDate(0, 0, -unmatchedGaugeDays), time.Time{})
	if err != nil {
		return nil, fmt.Errorf("state gauges: list unmatched mail: %w", err)
	}
	for _, u := range us {
		unmatched.add(1, u.Vendor)
	}
	return []*family{open, past, review, unmatched}, nil
}

// writeMetrics writes every family, the scrape-time gauges included, sorted by name. An
// error before anything is written (the store's state cannot be read) is returned as
// is; the caller can still answer with an error status.
func (d *Daemon) writeMetrics(out io.Writer) error {
	state, err := d.stateGauges()
	if err != nil {
		return err
	}
	up := newFamily("supportprobe_up", "gauge", "1 while the daemon runs.")
	up.add(1)
	info := newFamily("supportprobe_build_info", "gauge", "Always 1; the version label names the running build.", "version")
	info.add(1, d.version())
	fams := []*family{d.metrics.sent, d.metrics.failed, d.metrics.replies, d.metrics.firstResponse, up, info}
	fams = append(fams, state...)
	if d.config().Mail.IMAP.Host != "" {
		st := d.watchState()
		connected := newFamily("supportprobe_imap_connected", "gauge", "1 while the inbox watcher is logged in to the IMAP server, else 0.")
		connected.add(0)
		if st.Connected {
			connected.add(1)
		}
		lastSync := newFamily("supportprobe_last_sync_timestamp_seconds", "gauge",
			"Unix time the inbox watcher last read every folder; 0 before the first sync.")
		lastSync.add(0)
		if !st.LastSync.IsZero() {
			lastSync.add(float64(st.LastSync.UnixMilli()) / 1000)
		}
		fams = append(fams, connected, lastSync)
	}
	if st := d.alerts.Status(); len(st) > 0 {
		failing := newFamily("supportprobe_alert_channel_failing", "gauge", "1 while the alert channel's last delivery failed, else 0.", "channel")
		delivered := newFamily("supportprobe_alerts_delivered_total", "counter", "Alerts the channel accepted since the daemon started.", "channel")
		failed := newFamily("supportprobe_alert_failures_total", "counter", "Failed alert delivery attempts since the daemon started.", "channel")
		for _, c := range st {
			failing.add(0, c.Name)
			if c.Failing {
				failing.add(1, c.Name)
			}
			delivered.add(float64(c.Delivered), c.Name)
			failed.add(float64(c.Failed), c.Name)
		}
		fams = append(fams, failing, delivered, failed)
	}
	slices.SortFunc(fams, func(a, b *family) int { return cmp.Compare(a.name, b.name) })
	w := bufio.NewWriter(out)
	for _, f := range fams {
		f.write(w)
	}
	return w.Flush()
}

// version is Options.Version, else the module version the binary was built from.
func (d *Daemon) version() string {
	if d.opts.Version != "" {
		return d.opts.Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "unknown"
}

// health reports whether the daemon is healthy and, when not, why.
func (d *Daemon) health() (ok bool, reason string) {
	if !d.running.Load() {
		return false, "daemon is not running"
	}
	if d.config().Mail.IMAP.Host == "" {
		return true, ""
	}
	return watcherHealth(d.watchState(), d.watcher.Load() != nil, d.opts.Now())
}

// watcherHealth judges the inbox watcher from its state: healthy while connected, or
// within healthSyncWindow of its last complete sync, unless its last attempt was refused
// (a wrong password, a revoked OAuth token): waiting will not mend that, a person must.
func watcherHealth(st mailbox.WatchState, started bool, now time.Time) (bool, string) {
	refused := st.LastError != nil && errors.Is(st.LastError, mailbox.ErrAuthFailed) && st.LastErrorAt.After(st.LastSync)
	switch {
	case !started:
		return false, "inbox watcher not started"
	case st.Connected:
		return true, ""
	case !st.LastSync.IsZero() && now.Sub(st.LastSync) <= healthSyncWindow && !refused:
		return true, ""
	}
	why := "inbox watcher not connected"
	if st.LastSync.IsZero() {
		why += " and never synced"
	} else {
		why += fmt.Sprintf(" and last synced %s ago", now.Sub(st.LastSync).Round(time.Second))
	}
	if st.LastError != nil {
		why += ": " + st.LastError.Error()
	}
	return false, why
}

// watchState is the running watcher's state; zero before Run starts it.
func (d *Daemon) watchState() mailbox.WatchState {
	if w := d.watcher.Load(); w != nil {
		return w.State()
	}
	return mailbox.WatchState{}
}

// monitorHandler serves /metrics, /healthz and the dashboard (probe/dashboard) on the
// other addresses.
func (d *Daemon) monitorHandler() http.Handler {
	mux := http.NewServeMux()
	d.dashboardHandler().Register(mux)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := d.writeMetrics(&buf); err != nil {
			d.log.Error("metrics: scrape failed", "err", err)
			http.Error(w, "supportprobe cannot read its state for /metrics: "+err.Error()+"; see the daemon's log", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", metricsContentType)
		if _, err := w.Write(buf.Bytes()); err != nil {
			d.log.Debug("write metrics", "err", err)
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		// The same JSON as `supportprobe status --format json`; the code says healthy
		// (200) or not (503, with the reason in "unhealthy").
		st, err := d.status()
		if err != nil {
			st.Error = err.Error()
		}
		w.Header().Set("Cache-Control", "no-store")
		code := http.StatusOK
		if !st.Healthy {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, st)
	})
	return mux
}

// startMonitor listens on cfg.HTTP.Listen and serves the monitoring endpoints until
// stopMonitor. It does nothing when the configuration has no http section. It refuses
// (as validation does, for a Config built in code) a listener allowed beyond loopback
// without authentication, or without TLS unless insecure_plaintext; credentials files
// and the certificate are read here, so a bad one stops the start with its name.
func (d *Daemon) startMonitor() error {
	hc := d.config().HTTP
	if hc == nil {
		return nil
	}
	if hc.AllowRemote && hc.Auth.IsZero() {
		return fmt.Errorf("http.allow_remote is true but http.auth names no credentials: refusing to serve %s unauthenticated; set http.auth.bearer_tokens_file or http.auth.basic_file", hc.Listen)
	}
	if hc.AllowRemote && !hc.TLS() && !hc.InsecurePlaintext {
		return fmt.Errorf("http.allow_remote is true but http.cert_file and http.key_file are not set: refusing to send credentials in the clear on %s; set them, or http.insecure_plaintext: true on a network you trust", hc.Listen)
	}
	handler := d.monitorHandler()
	if !hc.Auth.IsZero() {
		auth, err := loadHTTPAuth(hc.Auth, d.log, d.opts.Now)
		if err != nil {
			return err
		}
		handler = auth.wrap(handler)
	}
	var tlsConf *tls.Config
	if hc.TLS() {
		cert, err := loadHTTPCert(hc)
		if err != nil {
			return err
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", hc.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", hc.Listen, err)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	d.httpAddr.Store(ln.Addr().String())
	d.monitor = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, TLSConfig: tlsConf,
		ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)} // TLS handshake failures
	d.monitorDone = make(chan struct{})
	go func() {
		defer close(d.monitorDone)
		if err := d.monitor.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	var auth []string
	if hc.Auth.BearerTokensFile != "" {
		auth = append(auth, "bearer")
	}
	if hc.Auth.BasicFile != "" {
		auth = append(auth, "basic")
	}
	if len(auth) == 0 {
		auth = append(auth, "none")
	}
	scheme := "http://"
	if hc.TLS() {
		scheme = "https://"
	}
	d.log.Info("serving the dashboard, /metrics and /healthz", "addr", ln.Addr().String(), "dashboard", scheme+ln.Addr().String()+"/",
		"tls", hc.TLS(), "auth", strings.Join(auth, ","))
	if hc.AllowRemote && !hc.TLS() {
		d.log.Warn("http: remote access without TLS (insecure_plaintext): credentials and metrics cross the network in the clear", "addr", ln.Addr().String())
	}
	return nil
}

// stopMonitor shuts the monitoring server down, waiting for scrapes in progress until ctx
// ends.
func (d *Daemon) stopMonitor(ctx context.Context) {
	if d.monitor == nil {
		return
	}
	if err := d.monitor.Shutdown(ctx); err != nil {
		d.log.Warn("metrics listener did not drain in time", "err", err)
		d.monitor.Close()
	}
	<-d.monitorDone
	d.httpAddr.Store("")
}

// HTTPAddr returns the address the /metrics and /healthz listener is bound to, with the
// port chosen when the configuration asked for port 0; "" when the configuration has no
// http section, before Run has bound it, and after Run has returned.
func (d *Daemon) HTTPAddr() string {
	s, _ := d.httpAddr.Load().(string)
	return s
}
