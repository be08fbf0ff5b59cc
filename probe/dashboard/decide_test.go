package dashboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
)

// storeDecider decides with the store's own methods, as the daemon's MarkReply and
// LinkMessage do (less the follow-ups they wake).
type storeDecider struct{ db *store.DB }

func (s storeDecider) Mark(id string, o probe.Override) (probe.Reply, error) {
	return s.db.SetOverride(id, o)
}

func (s storeDecider) Link(ref, probeID string, o store.LinkOptions) (probe.Reply, error) {
	return s.db.Link(ref, probeID, o)
}

// mustWritable returns a handler over f's store that accepts decisions; user, when
// set, stands for the listener's authentication.
func mustWritable(t *testing.T, f fixture, user func(*http.Request) string) *Handler {
	t.Helper()
	return New(f.db, Options{Now: func() time.Time { return fixtureNow }, ReadOnly: func() bool { return false },
		Decider: storeDecider{f.db}, User: user})
}

// session is a browser's session with a handler: its cookies, kept across requests.
type session struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
}

func (s *session) do(method, target string, form url.Values, hdr map[string]string) (*http.Response, string) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, c := range res.Cookies() {
		if s.cookies == nil {
			s.cookies = map[string]*http.Cookie{}
		}
		s.cookies[c.Name] = c
	}
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (s *session) token(target string) string {
	s.t.Helper()
	res, body := s.do("GET", target, nil, nil)
	m := csrfInput.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		s.t.Fatalf("GET %s = %d with no CSRF field", target, res.StatusCode)
	}
	return m[1]
}

// sameOrigin are the headers a browser sends with a form posted from the page itself.
var sameOrigin = map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}

func TestDecideReview(t *testing.T) {
	f := mustFixture(t)
	h := mustWritable(t, f, nil)
	s := &session{t: t, h: h}
	tok := s.token("/review")
	if s.cookies[sessionCookie] == nil || !s.cookies[sessionCookie].HttpOnly || s.cookies[sessionCookie].SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Strict", s.cookies[sessionCookie])
	}
	_, body := s.do("GET", "/review", nil, nil)
	for _, k := range []string{"human", "auto_ack", "out_of_office", "bounce", "other"} {
		if !strings.Contains(body, `value="`+k+`"`) {
			t.Errorf("the review form does not offer %s", k)
		}
	}
	other := &session{t: t, h: h}
	otherTok := other.token("/review")

	bad := []struct {
		name string
		form url.Values
		hdr  map[string]string
		code int
	}{
		{"no token", url.Values{"kind": {"human"}, "note": {"n"}}, sameOrigin, 403},
		{"another session's token", url.Values{"csrf": {otherTok}, "kind": {"human"}, "note": {"n"}}, sameOrigin, 403},
		{"cross-site", url.Values{"csrf": {tok}, "kind": {"human"}, "note": {"n"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same site, other port", url.Values{"csrf": {tok}, "kind": {"human"}, "note": {"n"}}, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"no note", url.Values{"csrf": {tok}, "kind": {"human"}, "note": {"  "}}, sameOrigin, 400},
		{"needs_review is no decision", url.Values{"csrf": {tok}, "kind": {"needs_review"}, "note": {"n"}}, sameOrigin, 400},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			res, body := s.do("POST", "/review/"+f.reviewReply, tt.form, tt.hdr)
			if res.StatusCode != tt.code {
				t.Errorf("POST = %d, want %d\n%s", res.StatusCode, tt.code, body)
			}
			r, err := f.db.Reply(f.reviewReply)
			if err != nil {
				t.Fatal(err)
			}
			if r.Override != nil {
				t.Errorf("a refused POST decided the reply: %+v", r.Override)
			}
		})
	}

	res, _ := s.do("POST", "/review/"+f.reviewReply, url.Values{"csrf": {tok}, "kind": {"human"}, "note": {"a real answer"}}, sameOrigin)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST = %d, want 303", res.StatusCode)
	}
	r, err := f.db.Reply(f.reviewReply)
	if err != nil {
		t.Fatal(err)
	}
	if r.EffectiveKind() != probe.KindHuman || r.Override.Note != "a real answer" || r.Override.By != "dashboard (no login: loopback listener)" {
		t.Errorf("override = %+v; want human with the note, by the dashboard", r.Override)
	}
	cs, err := f.db.Corrections(f.review)
	if err != nil || len(cs) != 1 || cs[0].KindAfter != probe.KindHuman || cs[0].Note != "a real answer" {
		t.Fatalf("audit entries of %s = %+v, %v; want the one decision", f.review, cs, err)
	}
	loc, _, _ := strings.Cut(res.Header.Get("Location"), "#") // a browser keeps the fragment to itself
	_, page := s.do("GET", loc, nil, nil)
	if !strings.Contains(page, "Recorded: reply "+f.reviewReply+" is now human, audit entry "+cs[0].ID) ||
		!strings.Contains(page, `id="audit-`+cs[0].ID+`"`) {
		t.Errorf("the probe page does not show the decision and its audit entry")
	}
	if items := mustJSON[[]ReviewItem](t, h, "/review?format=json"); len(items) != 0 {
		t.Errorf("review queue after the decision = %v, want empty", items)
	}
}

func TestDecideNeedsUser(t *testing.T) {
	f := mustFixture(t)
	// Authentication is on, but this request's user is unknown: refused.
	s := &session{t: t, h: mustWritable(t, f, func(*http.Request) string { return "" })}
	tok := s.token("/review")
	res, body := s.do("POST", "/review/"+f.reviewReply, url.Values{"csrf": {tok}, "kind": {"human"}, "note": {"n"}}, sameOrigin)
	if res.StatusCode != 403 || !strings.Contains(body, "login") {
		t.Errorf("POST without a known user = %d, want 403 about the login\n%s", res.StatusCode, body)
	}
	s = &session{t: t, h: mustWritable(t, f, func(*http.Request) string { return "lin" })}
	tok = s.token("/review")
	if res, _ := s.do("POST", "/review/"+f.reviewReply, url.Values{"csrf": {tok}, "kind": {"other"}, "note": {"a newsletter"}}, sameOrigin); res.StatusCode != 303 {
		t.Fatalf("POST as lin = %d, want 303", res.StatusCode)
	}
	if r, _ := f.db.Reply(f.reviewReply); r.Override == nil || r.Override.By != "lin (dashboard)" {
		t.Errorf("override = %+v, want by lin (dashboard)", r.Override)
	}
}

func TestLinkUnmatched(t *testing.T) {
	f := mustFixture(t)
	s := &session{t: t, h: mustWritable(t, f, nil)}
	tok := s.token("/unmatched")
	res, body := s.do("POST", "/unmatched/"+f.unmatchedAcme+"/link", url.Values{"csrf": {tok}, "probe": {"P999"}, "note": {"n"}}, sameOrigin)
	if res.StatusCode != 404 {
		t.Errorf("link to an unknown probe = %d, want 404\n%s", res.StatusCode, body)
	}
	// The mail arrived an hour ago, after the probe past its target was sent (3 h ago),
	// so it may answer it; the ID is accepted in lower case, as the CLI accepts it.
	res, body = s.do("POST", "/unmatched/"+f.unmatchedAcme+"/link", url.Values{"csrf": {tok}, "probe": {strings.ToLower(f.pastTarget)}, "note": {"ticket mail to the wrong address"}}, sameOrigin)
	if res.StatusCode != 303 {
		t.Fatalf("link = %d, want 303\n%s", res.StatusCode, body)
	}
	p, err := f.db.Probe(f.pastTarget)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Replies) != 1 || p.Replies[0].MatchedBy != probe.RungManual {
		t.Fatalf("probe %s replies = %+v, want the linked mail, matched by hand", f.pastTarget, p.Replies)
	}
	cs, _ := f.db.Corrections(f.pastTarget)
	if len(cs) != 1 || cs[0].WasID != f.unmatchedAcme || cs[0].Note != "ticket mail to the wrong address" {
		t.Errorf("audit = %+v", cs)
	}
	if !strings.Contains(res.Header.Get("Location"), "/probes/"+f.pastTarget+"?decided="+p.Replies[0].ID) {
		t.Errorf("Location = %q", res.Header.Get("Location"))
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	f := mustFixture(t)
	// Options.ReadOnly true (the default configuration), and no ReadOnly at all.
	for _, h := range []*Handler{
		New(f.db, Options{Now: func() time.Time { return fixtureNow }, ReadOnly: func() bool { return true }, Decider: storeDecider{f.db}}),
		mustHandler(t, f.db),
	} {
		s := &session{t: t, h: h}
		_, body := s.do("GET", "/review", nil, nil)
		if strings.Contains(body, "<form method=\"post\"") || s.cookies[sessionCookie] != nil {
			t.Errorf("read-only /review has a form or sets a session")
		}
		res, body := s.do("POST", "/review/"+f.reviewReply, url.Values{"kind": {"human"}, "note": {"n"}}, sameOrigin)
		if res.StatusCode != 403 || !strings.Contains(body, "dashboard.read_only: false") {
			t.Errorf("POST on a read-only dashboard = %d\n%s", res.StatusCode, body)
		}
	}
}

func TestTimesToggle(t *testing.T) {
	f := mustFixture(t)
	s := &session{t: t, h: mustHandler(t, f.db)}
	// The answered probe was sent 2026-12-01 02:00 UTC, 10:00 in Shanghai.
	_, body := s.do("GET", "/probes/"+f.met, nil, nil)
	if !strings.Contains(body, "2026-12-01 10:00:00 CST (2026-12-01 02:00:00 UTC)") {
		t.Errorf("by default the probe page does not show the vendor's time with UTC beside")
	}
	_, body = s.do("GET", "/probes/"+f.met+"?tz=utc", nil, nil)
	if strings.Contains(body, "CST") || !strings.Contains(body, "2026-12-01 02:00:00 UTC") {
		t.Errorf("?tz=utc still shows the vendor's zone")
	}
	// Remembered: the next page, without the parameter, is in UTC too.
	_, body = s.do("GET", "/probes/"+f.met, nil, nil)
	if strings.Contains(body, "CST") {
		t.Errorf("the choice of UTC was not remembered")
	}
	if !strings.Contains(body, `href="/probes/`+f.met+`?tz=vendor"`) {
		t.Errorf("the page offers no link back to the vendor's zone")
	}
	if _, body := s.do("GET", "/vendors/acme?period=all", nil, nil); !strings.Contains(body, "Times are in UTC; the heatmap stays in the vendor's zone, Asia/Shanghai.") {
		t.Errorf("the vendor page in UTC does not say the heatmap keeps the vendor's zone")
	}
	_, body = s.do("GET", "/probes/"+f.met+"?tz=vendor", nil, nil)
	if !strings.Contains(body, "CST") {
		t.Errorf("?tz=vendor does not bring the vendor's zone back")
	}
}

func TestLive(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	v1 := mustJSON[liveState](t, h, "/live")
	_, body := get(t, h, "/probes/"+f.review)
	if v1.Version == "" || !strings.Contains(body, `data-version="`+v1.Version+`"`) {
		t.Fatalf("/live = %q; the page carries no matching data-version", v1.Version)
	}
	// The review probe (sent 20 h ago, P1 within 1 h, deadline 72 h) changes next by
	// time at its deadline.
	want := fixtureNow.Add(-20 * time.Hour).Add(72 * time.Hour).Format(time.RFC3339)
	if !strings.Contains(body, `data-refresh-at="`+want+`"`) {
		t.Errorf("probe page: no data-refresh-at=%s", want)
	}
	if _, err := f.db.SetOverride(f.reviewReply, probe.Override{Kind: probe.KindHuman}); err != nil {
		t.Fatal(err)
	}
	if v2 := mustJSON[liveState](t, h, "/live"); v2.Version == v1.Version {
		t.Errorf("/live version %q did not move after a write", v2.Version)
	}
	_, body = get(t, h, "/probes/"+f.review)
	if !strings.Contains(body, `data-refresh-at=""`) {
		t.Errorf("an answered probe still expects a time-driven change")
	}
	res, js := get(t, h, "/static/live.js")
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "javascript") || !strings.Contains(js, `fetch("/live"`) {
		t.Errorf("GET /static/live.js = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestNextChange(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC) // a Wednesday
	biz := probe.HoursSpec{Zone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"}
	sent := func(at time.Time, sla *probe.SLATarget, replies ...probe.Reply) probe.Probe {
		return probe.Probe{ID: "P", State: probe.StateSent, SentAt: at, Replies: replies,
			Terms: probe.Terms{Hours: biz, Deadline: 72 * time.Hour, SLA: sla}}
	}
	tests := []struct {
		name string
		ps   []probe.Probe
		want time.Time
	}{
		{"nothing", nil, time.Time{}},
		// Past the target means more than an hour elapsed: the instant after the hour.
		{"open, calendar target ahead", []probe.Probe{sent(now.Add(-30*time.Minute), &probe.SLATarget{FirstResponse: time.Hour})}, now.Add(30*time.Minute + time.Nanosecond)},
		{"target passed: the deadline next", []probe.Probe{sent(now.Add(-2*time.Hour), &probe.SLATarget{FirstResponse: time.Hour})}, now.Add(70 * time.Hour)},
		// Sent 16:00 Wednesday with 4 business hours: 1 h today, 3 h Thursday: 12:00.
		{"the earliest of several", []probe.Probe{sent(now.Add(-30*time.Minute), &probe.SLATarget{FirstResponse: time.Hour}), sent(now.Add(time.Minute-72*time.Hour), nil)},
			now.Add(time.Minute)},
		{"answered: no change by time", []probe.Probe{sent(now.Add(-30*time.Minute), &probe.SLATarget{FirstResponse: time.Hour},
			probe.Reply{Kind: probe.KindHuman, ReceivedAt: now.Add(-10 * time.Minute)})}, time.Time{}},
		{"past the deadline", []probe.Probe{sent(now.Add(-80*time.Hour), &probe.SLATarget{FirstResponse: time.Hour})}, time.Time{}},
		{"not sent", []probe.Probe{{State: probe.StateFailed}}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextChange(tt.ps, now); !got.Equal(tt.want) {
				t.Errorf("nextChange() = %v, want %v", got, tt.want)
			}
		})
	}
	// The business case alone: 16:00 + 4 business hours = Thursday 12:00, past it just after.
	p := sent(time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC), &probe.SLATarget{FirstResponse: 4 * time.Hour, Clock: probe.Business})
	if got, want := nextChange([]probe.Probe{p}, now.Add(5*time.Hour)), time.Date(2026, 12, 3, 12, 0, 0, 1, time.UTC); !got.Equal(want) {
		t.Errorf("business target: nextChange() = %v, want %v", got, want)
	}
	// A business target reached at closing time (16:00 + 1 h = 17:00) is past only once
	// the clock runs again: just after 09:00 Thursday. A page shown in the evening must
	// still change then, and the probe's state says so.
	p = sent(time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC), &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Business})
	evening := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	want := time.Date(2026, 12, 3, 9, 0, 0, 1, time.UTC)
	if got := nextChange([]probe.Probe{p}, evening); !got.Equal(want) {
		t.Errorf("business target reached at closing: nextChange() = %v, want %v", got, want)
	}
	for _, tt := range []struct {
		at   time.Time
		want probe.SLAState
	}{{evening, probe.SLAOpen}, {want.Add(-time.Nanosecond), probe.SLAOpen}, {want, probe.SLAOpenBreached}} {
		m, err := probe.Measure(p, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if m.SLA != tt.want {
			t.Errorf("target reached at closing, at %s: SLA %s, want %s", tt.at.Format(time.RFC3339Nano), m.SLA, tt.want)
		}
	}
}

func TestProbePageExtras(t *testing.T) {
	f := mustFixture(t)
	// Without an archive writer there is no download link, and the address says how.
	h := mustHandler(t, f.db)
	_, body := get(t, h, "/probes/"+f.met)
	if strings.Contains(body, "evidence.zip") {
		t.Errorf("a download link without an archive writer")
	}
	if res, body := get(t, h, "/probes/"+f.met+"/evidence.zip"); res.StatusCode != 404 || !strings.Contains(body, "supportprobe export --probe "+f.met) {
		t.Errorf("evidence.zip without a writer = %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(body, "<dt>Authenticity</dt><dd>DKIM not checked</dd>") {
		t.Errorf("a reply without a DKIM check does not say so")
	}
	// With one, the link is there and the archive comes as an attachment.
	var asked string
	h = New(f.db, Options{Now: func() time.Time { return fixtureNow }, Evidence: func(_ context.Context, id string, w io.Writer) error {
		asked = id
		_, err := fmt.Fprint(w, "PK-archive-of-"+id)
		return err
	}})
	_, body = get(t, h, "/probes/"+f.met)
	if !strings.Contains(body, `href="/probes/`+f.met+`/evidence.zip"`) {
		t.Errorf("no download link on the probe page")
	}
	res, zip := get(t, h, "/probes/"+f.met+"/evidence.zip")
	if res.StatusCode != 200 || asked != f.met || zip != "PK-archive-of-"+f.met || res.Header.Get("Content-Disposition") != `attachment; filename=supportprobe-evidence-`+f.met+`.zip` {
		t.Errorf("evidence.zip = %d %q %q", res.StatusCode, res.Header.Get("Content-Disposition"), zip)
	}
	if res, _ := get(t, h, "/probes/P999/evidence.zip"); res.StatusCode != 404 {
		t.Errorf("evidence of an unknown probe = %d, want 404", res.StatusCode)
	}
	h = New(f.db, Options{Now: func() time.Time { return fixtureNow }, Evidence: func(context.Context, string, io.Writer) error {
		return errors.New("key file unreadable")
	}})
	if res, body := get(t, h, "/probes/"+f.met+"/evidence.zip"); res.StatusCode != 500 || !strings.Contains(body, "key file unreadable") {
		t.Errorf("a failing archive = %d\n%s", res.StatusCode, body)
	}

	// A reply's DKIM result shows on the page and in its timeline.
	if _, err := f.db.SetReplyAuth(f.metReply, probe.Auth{CheckedAt: fixtureNow, Attempts: 1, VendorDomains: []string{"acme.example"},
		Signatures: []probe.Signature{{Domain: "acme.example", Selector: "s1", Result: probe.DKIMPass, Aligned: true}}}); err != nil {
		t.Fatal(err)
	}
	r, _ := f.db.Reply(f.metReply)
	want := r.Auth.Summary()
	_, body = get(t, mustHandler(t, f.db), "/probes/"+f.met)
	if !strings.Contains(want, "DKIM pass, d=acme.example") || strings.Count(body, want) < 2 {
		t.Errorf("the probe page shows %q fewer than twice (facts and timeline)", want)
	}
}

func TestOverviewPaused(t *testing.T) {
	f := mustFixture(t)
	if _, err := f.db.SetPause(probe.Pause{Vendor: "beta", From: fixtureNow.Add(-time.Hour), Note: "holiday freeze", Source: probe.PauseManual, By: "lin"}); err != nil {
		t.Fatal(err)
	}
	h := mustHandler(t, f.db)
	ov := mustJSON[Overview](t, h, "/?format=json")
	if ov.Vendors[0].Paused != nil || ov.Vendors[1].Paused == nil || ov.Vendors[1].Paused.Note != "holiday freeze" {
		t.Errorf("paused = %v (acme), %v (beta); want beta paused by hand", ov.Vendors[0].Paused, ov.Vendors[1].Paused)
	}
	_, body := get(t, h, "/")
	if !strings.Contains(body, "<strong>paused</strong> until resumed (by lin): holiday freeze") || !strings.Contains(body, ">active</td>") {
		t.Errorf("the overview does not show beta paused and acme active")
	}
	// A configured window comes through Options.Pauses.
	h = New(f.db, Options{Now: func() time.Time { return fixtureNow }, Pauses: func(string, time.Time, time.Time) ([]probe.Pause, error) {
		return []probe.Pause{{Vendor: "acme", From: fixtureNow.Add(-time.Hour), Until: fixtureNow.Add(time.Hour), Source: probe.PauseConfig}}, nil
	}})
	if ov := mustJSON[Overview](t, h, "/?format=json"); ov.Vendors[0].Paused == nil || ov.Vendors[0].Paused.Source != probe.PauseConfig || ov.Vendors[1].Paused != nil {
		t.Errorf("with a configured window: paused = %v, %v", ov.Vendors[0].Paused, ov.Vendors[1].Paused)
	}
}
