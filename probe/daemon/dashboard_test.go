package daemon

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
	"supportprobe/probe/dashboard"
	"supportprobe/probe/evidence"
	"supportprobe/store"
)

// dashboardClient is a browser-like client of the daemon's listener: it keeps cookies
// and sends the credentials it was given with every request.
type dashboardClient struct {
	t     *testing.T
	c     *http.Client
	base  string
	authz string
}

func newDashboardClient(t *testing.T, base, authz string) *dashboardClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 10 * time.Second, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &dashboardClient{t: t, c: c, base: base, authz: authz}
}

func (dc *dashboardClient) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	dc.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, dc.base+path, body)
	if err != nil {
		dc.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if dc.authz != "" {
		req.Header.Set("Authorization", dc.authz)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := dc.c.Do(req)
	if err != nil {
		dc.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		dc.t.Fatal(err)
	}
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token loads path and returns the CSRF token of its forms.
func (dc *dashboardClient) token(path string) string {
	dc.t.Helper()
	resp, body := dc.do("GET", path, nil, nil)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		dc.t.Fatalf("GET %s = %d with no CSRF field; want 200 and a form", path, resp.StatusCode)
	}
	return m[1]
}

// TestDashboardDecisions runs the daemon with authentication and dashboard.read_only:
// false, and decides a review item and links unmatched mail from the pages as a browser
// would: each goes through the daemon's MarkReply and LinkMessage, lands in the audit
// log with the logged-in user and the note, and a request without the token or from
// another site changes nothing.
func TestDashboardDecisions(t *testing.T) {
	dir := t.TempDir()
	auth := writeAuthFiles(t, dir)
	cfg := &configs.Config{StateDir: filepath.Join(dir, "state"), HTTP: &configs.HTTP{Listen: "127.0.0.1:0", Auth: auth},
		Dashboard: configs.Dashboard{ReadOnly: false},
		Vendors:   []probe.Vendor{{Name: "acme-cloud", To: []string{"support@acme.example"}, Deadline: 72 * time.Hour}}}
	d, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := time.Now().UTC().Truncate(time.Second)
	p, err := d.db.CreateProbe(probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: "P1", Token: "T1", MessageID: "p1@example.com",
		State: probe.StateSent, SentAt: now.Add(-2 * time.Hour), CreatedAt: now.Add(-2 * time.Hour), Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 72 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.db.AddReply(probe.Reply{ProbeID: p.ID, MessageID: "unsure@acme.example", Kind: probe.KindNeedsReview, ReceivedAt: now.Add(-time.Hour),
		From: "dana@acme.example", Subject: "Re: Streams failing", Reason: "short text, no signature"}, []byte("From: dana@acme.example\r\n\r\nLooking into it.\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	um, err := d.db.AddUnmatched(store.Unmatched{MessageID: "lost@acme.example", ReceivedAt: now.Add(-30 * time.Minute), DetectedAt: now.Add(-30 * time.Minute),
		From: "sam@acme.example", Subject: "Your ticket", Kind: probe.KindHuman, Why: "no evidence", Vendor: "acme-cloud"}, []byte("From: sam@acme.example\r\n\r\nHello\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	mustRunDaemon(t, d)
	base := "http://" + d.HTTPAddr()
	auditLen := func() int {
		log, err := d.db.AuditLog()
		if err != nil {
			t.Fatal(err)
		}
		return len(log)
	}

	// Without credentials the page is not even shown.
	if resp, _ := newDashboardClient(t, base, "").do("GET", "/review", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /review without credentials = %d, want 401", resp.StatusCode)
	}
	alice := newDashboardClient(t, base, basic(basicUser, goodPassword))
	tok := alice.token("/review")
	decide := url.Values{"csrf": {tok}, "kind": {"human"}, "note": {"agent's one-line answer"}}

	refused := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{"kind": {"human"}, "note": {"x"}}, map[string]string{"Origin": base}},
		{"another session's token", url.Values{"csrf": {"AAAA" + tok[4:]}, "kind": {"human"}, "note": {"x"}}, map[string]string{"Origin": base}},
		{"cross-site (Sec-Fetch-Site)", decide, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}},
		{"another origin on the same host", decide, map[string]string{"Origin": "http://127.0.0.1:1"}},
	}
	for _, tt := range refused {
		before := auditLen()
		resp, body := alice.do("POST", "/review/"+rep.ID, tt.form, tt.hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: POST /review/%s = %d, want 403\n%s", tt.name, rep.ID, resp.StatusCode, body)
		}
		if n := auditLen(); n != before {
			t.Errorf("%s: the audit log grew from %d to %d entries on a refused write", tt.name, before, n)
		}
	}
	if resp, _ := alice.do("GET", "/review/"+rep.ID, nil, nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /review/%s = %d, want 405: decisions are POST only", rep.ID, resp.StatusCode)
	}

	resp, body := alice.do("POST", "/review/"+rep.ID, decide, map[string]string{"Origin": base, "Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/probes/"+p.ID+"?decided="+rep.ID+"#"+rep.ID {
		t.Fatalf("POST /review/%s = %d Location %q, want 303 to the probe page\n%s", rep.ID, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	got, err := d.db.Reply(rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.EffectiveKind() != probe.KindHuman || got.Override == nil || got.Override.By != basicUser+" (dashboard)" {
		t.Errorf("reply after the decision = %+v, want human decided by %q", got.Override, basicUser+" (dashboard)")
	}
	log, err := d.db.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	last := log[len(log)-1]
	if last.Action != probe.CorrectionMark || last.Reply != rep.ID || last.By != basicUser+" (dashboard)" || last.Note != "agent's one-line answer" ||
		last.KindBefore != probe.KindNeedsReview || last.KindAfter != probe.KindHuman {
		t.Errorf("audit entry = %+v; want the mark of %s by %s (dashboard), needs_review → human, with the note", last, rep.ID, basicUser)
	}
	if err := probe.VerifyEntries(log); err != nil {
		t.Errorf("the audit chain does not verify after a dashboard decision: %v", err)
	}
	_, page := alice.do("GET", resp.Header.Get("Location"), nil, nil)
	if !strings.Contains(page, "Recorded: reply "+rep.ID+" is now human, audit entry "+last.ID) {
		t.Errorf("the probe page does not confirm the decision with its audit entry %s", last.ID)
	}

	// A bearer token links the unmatched mail; the audit names the token by its hash.
	bot := newDashboardClient(t, base, "Bearer "+goodToken)
	link := url.Values{"csrf": {bot.token("/unmatched")}, "probe": {p.ID}, "note": {"the vendor's ticket mail, sent to the wrong address"}}
	if resp, body := bot.do("POST", "/unmatched/"+um.ID+"/link", link, map[string]string{"Origin": base}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /unmatched/%s/link = %d, want 303\n%s", um.ID, resp.StatusCode, body)
	}
	log, err = d.db.AuditLog()
	if err != nil {
		t.Fatal(err)
	}
	last = log[len(log)-1]
	if last.Action != probe.CorrectionLink || last.WasID != um.ID || last.ToProbe != p.ID || !strings.HasPrefix(last.By, "bearer token sha256:") ||
		strings.Contains(last.By, goodToken) {
		t.Errorf("audit entry = %+v; want the link of %s to %s by the token's hash, never the token", last, um.ID, p.ID)
	}

	// The probe's evidence archive downloads, signed by the state directory's key.
	resp, zip := alice.do("GET", "/probes/"+p.ID+"/evidence.zip", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "supportprobe-evidence-"+p.ID+".zip") {
		t.Fatalf("GET evidence.zip = %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	key, _, err := evidence.LoadOrCreateKey(cfg.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	vr, err := evidence.Verify(bytes.NewReader([]byte(zip)), int64(len(zip)), key.Public())
	if err != nil || !vr.OK() {
		t.Fatalf("Verify(downloaded archive) = %v, %v", vr.Err(), err)
	}
	if len(vr.Manifest.Probes) != 1 || vr.Manifest.Probes[0].ID != p.ID {
		t.Errorf("archive holds %d probes, want %s alone", len(vr.Manifest.Probes), p.ID)
	}
}

// TestDashboardReadOnlyByDefault: without dashboard.read_only: false the pages carry no
// form and a POST, even with a valid session and token shape, is refused.
func TestDashboardReadOnlyByDefault(t *testing.T) {
	d := mustHTTPDaemon(t, &configs.HTTP{Listen: "127.0.0.1:0"}, io.Discard)
	d.conf.Store(&configs.Config{StateDir: d.config().StateDir, HTTP: d.config().HTTP, Dashboard: configs.Dashboard{ReadOnly: true}})
	mustRunDaemon(t, d)
	base := "http://" + d.HTTPAddr()
	c := newDashboardClient(t, base, "")
	_, body := c.do("GET", "/review", nil, nil)
	if strings.Contains(body, `name="csrf"`) || !strings.Contains(body, "read-only") {
		t.Errorf("read-only /review shows a decision form or does not say it is read-only")
	}
	resp, body := c.do("POST", "/review/R1", url.Values{"csrf": {"x"}, "kind": {"human"}, "note": {"x"}}, map[string]string{"Origin": base})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "dashboard.read_only: false") {
		t.Errorf("POST on a read-only dashboard = %d, want 403 naming dashboard.read_only\n%s", resp.StatusCode, body)
	}
}

// TestDashboardLiveVersion: the version an open page polls moves when what the pages show
// changes (a probe or reply record, a pause) and not when the daemon writes what they do
// not show (a folder's sync position), so an open overview is not rebuilt for nothing.
func TestDashboardLiveVersion(t *testing.T) {
	d := mustHTTPDaemon(t, &configs.HTTP{Listen: "127.0.0.1:0"}, io.Discard)
	d.conf.Store(&configs.Config{StateDir: d.config().StateDir, HTTP: d.config().HTTP,
		Vendors: []probe.Vendor{{Name: "acme-cloud", To: []string{"support@acme.example"}, Deadline: 72 * time.Hour}}})
	mustRunDaemon(t, d)
	base := "http://" + d.HTTPAddr()
	version := func() string {
		t.Helper()
		resp, err := http.Get(base + "/live")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			Version string `json:"version"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || v.Version == "" {
			t.Fatalf("GET /live: %+v, %v", v, err)
		}
		return v.Version
	}
	// The overview keeps its figures while the version stays: each write below must
	// show on it at the next request.
	overview := func() dashboard.Overview {
		t.Helper()
		resp, err := http.Get(base + "/?format=json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var ov dashboard.Overview
		if err := json.Unmarshal(body, &ov); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /?format=json = %d: %v\n%s", resp.StatusCode, err, body)
		}
		return ov
	}
	if ov := overview(); len(ov.Vendors) != 0 {
		t.Fatalf("overview of an empty store: %d vendors", len(ov.Vendors))
	}
	v0 := version()
	if err := d.db.SetMailbox("INBOX", store.MailboxState{UIDValidity: 7, LastUID: 42}); err != nil {
		t.Fatal(err)
	}
	if v := version(); v != v0 {
		t.Errorf("version moved from %s to %s on a folder position write, which no page shows", v0, v)
	}
	if _, err := d.db.CreateProbe(probe.Probe{Vendor: "acme-cloud", Script: "outage-en", Priority: "P1", Token: "T1", MessageID: "p1@example.com",
		CreatedAt: time.Now().Add(-time.Minute), Terms: probe.Terms{Deadline: 72 * time.Hour,
			Hours: probe.HoursSpec{Zone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"}}}); err != nil {
		t.Fatal(err)
	}
	v1 := version()
	if v1 == v0 {
		t.Errorf("version stayed %s after a new probe", v1)
	}
	if ov := overview(); len(ov.Vendors) != 1 || ov.Vendors[0].Name != "acme-cloud" || ov.Totals.Total != 1 || ov.Vendors[0].Paused != nil {
		t.Errorf("overview after a new probe: %+v; want acme-cloud's one probe, not paused", ov)
	}
	if _, err := d.SetPause(PauseRequest{Vendor: "acme-cloud", Note: "vendor asked"}); err != nil {
		t.Fatal(err)
	}
	if v := version(); v == v1 {
		t.Errorf("version stayed %s after a pause", v)
	}
	if ov := overview(); len(ov.Vendors) != 1 || ov.Vendors[0].Paused == nil || ov.Vendors[0].Paused.Note != "vendor asked" {
		t.Errorf("overview after a pause: %+v; want acme-cloud paused", ov.Vendors)
	}
}
