package dashboard

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"supportprobe/probe/report"
)

// get serves one request and returns the response and its body.
func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func mustJSON[T any](t *testing.T, h http.Handler, target string) T {
	t.Helper()
	res, body := get(t, h, target)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s = %d %s: %s", target, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", target, err, body)
	}
	return v
}

func TestOverviewJSON(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	ov := mustJSON[Overview](t, h, "/?format=json")
	if ov.Period.Name != "7d" || len(ov.Vendors) != 2 {
		t.Fatalf("overview = period %q, %d vendors; want 7d, 2", ov.Period.Name, len(ov.Vendors))
	}
	acme, beta := ov.Vendors[0], ov.Vendors[1]
	if acme.Name != "acme" || beta.Name != "beta" {
		t.Fatalf("vendors = %s, %s; want acme, beta", acme.Name, beta.Name)
	}
	// acme: 4 sent; answered 2 (met, breached); the one past its target is open and a
	// breach; the review reply counts as no response.
	if acme.Counts.Sent != 4 || acme.Counts.Answered != 2 {
		t.Errorf("acme counts = %+v; want 4 sent, 2 answered", acme.Counts)
	}
	// Breaches: the late answer, and the two probes past their target with no
	// person's answer (the reply waiting for review counts as none).
	if acme.Breaches != 3 || acme.OpenPastTarget != 2 {
		t.Errorf("acme breaches = %d, open past target = %d; want 3, 2", acme.Breaches, acme.OpenPastTarget)
	}
	if acme.PendingReview != 1 || ov.PendingReview != 1 {
		t.Errorf("pending review = %d (acme), %d (all); want 1, 1", acme.PendingReview, ov.PendingReview)
	}
	if acme.Unmatched != 1 || ov.Unmatched != 2 || ov.UnmatchedNoVendor != 1 {
		t.Errorf("unmatched = %d (acme), %d (all), %d (no vendor); want 1, 2, 1", acme.Unmatched, ov.Unmatched, ov.UnmatchedNoVendor)
	}
	// The answered probe sent at 10:00 in Shanghai is business hours, the one at 23:00
	// after hours; both were answered.
	if acme.BusinessHours.Answered != 1 || acme.AfterHours.Answered != 1 {
		t.Errorf("acme hours = %+v / %+v; want one answered in each", acme.BusinessHours, acme.AfterHours)
	}
	if len(acme.SLA) != 1 || acme.SLA[0].Met != 1 || acme.SLA[0].Decided != 4 {
		t.Errorf("acme SLA = %+v; want P1 1 met of 4 decided (open past target is decided)", acme.SLA)
	}
	// Half of acme's probes are unanswered or open, so its p90 is not reached.
	if acme.MedianResponse == nil || acme.P90Response == nil || acme.P90Response.Reached {
		t.Errorf("acme median, p90 = %+v, %+v; want a p90 not reached", acme.MedianResponse, acme.P90Response)
	}
	if beta.Counts.Answered != 0 || beta.Counts.AutoAcked != 1 {
		t.Errorf("beta counts = %+v; want 0 answered, 1 auto-acked", beta.Counts)
	}
}

func TestOverviewHTMLMatchesJSON(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	ov := mustJSON[Overview](t, h, "/?format=json")
	res, body := get(t, h, "/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<a href="/vendors/acme">acme</a>`, `<a href="/vendors/beta">beta</a>`,
		estText(ov.Vendors[0].MedianResponse), "&gt; " + durText(ov.Vendors[0].P90Response.Seconds),
		"P1: 25% (1/4)", "100% (2/2), 2 open", "1 replies await review",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("GET / lacks %q", want)
		}
	}
}

func TestPeriods(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	tests := []struct {
		query string
		sent  int // over all vendors
	}{
		{"period=7d", 5},
		{"period=week", 5}, // Monday 30 Nov onwards
		{"period=lastweek", 0},
		{"period=all", 5},
		{"period=custom&since=2026-12-01&until=2026-12-02", 4}, // Tuesday only
		{"period=custom&since=2026-12-02T00:00:00Z&until=2026-12-03T00:00:00Z", 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ov := mustJSON[Overview](t, h, "/?format=json&"+tt.query)
			if ov.Totals.Sent != tt.sent {
				t.Errorf("GET /?%s: sent = %d, want %d (period %+v)", tt.query, ov.Totals.Sent, tt.sent, ov.Period)
			}
		})
	}
	for _, bad := range []string{"period=month", "period=custom&since=2026-12-01", "period=custom&since=x&until=2026-12-02", "format=xml"} {
		res, body := get(t, h, "/?"+bad)
		if res.StatusCode != 400 {
			t.Errorf("GET /?%s = %d, want 400", bad, res.StatusCode)
		}
		if !strings.Contains(body, "want") {
			t.Errorf("GET /?%s: the error does not say what to give: %s", bad, body)
		}
	}
}

func TestVendorPage(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	vp := mustJSON[VendorPage](t, h, "/vendors/acme?format=json")
	if vp.Vendor.Name != "acme" || vp.Total != 4 || len(vp.Probes) != 4 || len(vp.Breaches) != 3 {
		t.Fatalf("vendor page = %s, total %d, %d rows, %d breaches; want acme, 4, 4, 3", vp.Vendor.Name, vp.Total, len(vp.Probes), len(vp.Breaches))
	}
	if len(vp.Vendor.Heatmap) == 0 || len(vp.Vendor.Latencies) != 4 {
		t.Errorf("heatmap %d cells, %d bars; want cells and 4 bars", len(vp.Vendor.Heatmap), len(vp.Vendor.Latencies))
	}
	// Filtering and sorting by query parameters.
	en := mustJSON[VendorPage](t, h, "/vendors/acme?format=json&language=en&sort=id&dir=desc")
	if len(en.Probes) != 3 {
		t.Fatalf("language=en: %d rows, want 3", len(en.Probes))
	}
	for i := 1; i < len(en.Probes); i++ {
		if en.Probes[i-1].ID < en.Probes[i].ID {
			t.Errorf("sort=id&dir=desc: %s before %s", en.Probes[i-1].ID, en.Probes[i].ID)
		}
	}
	ans := mustJSON[VendorPage](t, h, "/vendors/acme?format=json&status=answered&sort=latency")
	if len(ans.Probes) != 2 || ans.Probes[0].ID != f.met || ans.Probes[1].ID != f.breached {
		t.Errorf("status=answered&sort=latency = %v; want %s, %s", ids(ans.Probes), f.met, f.breached)
	}
	if got := mustJSON[VendorPage](t, h, "/vendors/acme?format=json&script=billing-en&priority=P1"); len(got.Probes) != 1 || got.Probes[0].ID != f.review {
		t.Errorf("script=billing-en&priority=P1 = %v; want %s", ids(got.Probes), f.review)
	}

	res, body := get(t, h, "/vendors/acme")
	if res.StatusCode != 200 {
		t.Fatalf("GET /vendors/acme = %d", res.StatusCode)
	}
	// The chart's axis starts below the fastest answer (30 minutes): at 10m.
	if labels := svgTickLabels(body); len(labels) == 0 || labels[0] != "10m" {
		t.Errorf("chart axis = %v; want it to start at 10m, the tick below the fastest answer (30m)", labels)
	}
	if n := strings.Count(body, "<rect "); n != 4 {
		t.Errorf("chart has %d bars, want 4", n)
	}
	// Heatmap cells in Shanghai time: the met probe at Tue 10:00, the breach at Tue 23:00.
	for _, want := range []string{`class="st-answered" title="Tue 10:00–11:00`, `class="st-breached" title="Tue 23:00–24:00`, "A 1/1", "B 1/1"} {
		if !strings.Contains(body, want) {
			t.Errorf("vendor page lacks %q", want)
		}
	}
	// Sort links keep the filters and flip the direction of the current column.
	_, body = get(t, h, "/vendors/acme?period=all&language=en&sort=id")
	if !strings.Contains(body, `href="/vendors/acme?dir=desc&amp;language=en&amp;period=all&amp;sort=id"`) {
		t.Errorf("sort link of the current column does not flip it while keeping the filters")
	}

	if res, _ := get(t, h, "/vendors/nobody"); res.StatusCode != 404 {
		t.Errorf("GET /vendors/nobody = %d, want 404", res.StatusCode)
	}
	if res, _ := get(t, h, "/vendors/acme?sort=colour"); res.StatusCode != 400 {
		t.Errorf("GET /vendors/acme?sort=colour = %d, want 400", res.StatusCode)
	}
	// A vendor with no probe in the period is shown, empty.
	if res, body := get(t, h, "/vendors/acme?period=lastweek"); res.StatusCode != 200 || !strings.Contains(body, "No probe matches.") {
		t.Errorf("GET /vendors/acme?period=lastweek = %d, want 200 and an empty table", res.StatusCode)
	}
}

func ids(rows []report.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func TestProbePage(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	pp := mustJSON[ProbePage](t, h, "/probes/"+f.met+"?format=json")
	if pp.Probe.ID != f.met || pp.Probe.Status != "answered" || pp.Probe.SLA != "met" || pp.Zone != "Asia/Shanghai" {
		t.Fatalf("probe page = %s %s %s %s", pp.Probe.ID, pp.Probe.Status, pp.Probe.SLA, pp.Zone)
	}
	var what []string
	for _, e := range pp.Timeline {
		what = append(what, e.What)
	}
	want := []string{"scheduled", "sent", "first sign of life", "reply " + f.metReply, "SLA target passes", "deadline"}
	if strings.Join(what, "|") != strings.Join(want, "|") {
		t.Errorf("timeline = %q, want %q", what, want)
	}
	if pp.SLADeadline == nil || !pp.SLADeadline.Equal(pp.Probe.SentAt.Add(3600e9)) {
		t.Errorf("SLA deadline = %v, want sent + 1h", pp.SLADeadline)
	}
	if len(pp.Texts) != 1 || pp.Texts[0].NewText == nil || !hasCJK(*pp.Texts[0].NewText) {
		t.Errorf("texts = %+v; want the Chinese new text", pp.Texts)
	}
	res, body := get(t, h, "/probes/"+f.met)
	if res.StatusCode != 200 || !strings.Contains(body, chineseText) || !strings.Contains(body, "confidence 0.95") || !strings.Contains(body, "matched by message_id") {
		t.Errorf("GET /probes/%s = %d; want the reply's text, its confidence and rung", f.met, res.StatusCode)
	}
	if res, body := get(t, h, "/probes/P999?format=json"); res.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("GET /probes/P999?format=json = %d %s, want 404 with an error", res.StatusCode, body)
	}
}

func TestReviewAndUnmatched(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	items := mustJSON[[]ReviewItem](t, h, "/review?format=json")
	if len(items) != 1 || items[0].ReplyID != f.reviewReply || items[0].ProbeID != f.review || items[0].NewText == nil || items[0].Confidence == nil {
		t.Fatalf("review = %+v; want %s on %s with its text and confidence", items, f.reviewReply, f.review)
	}
	_, body := get(t, h, "/review")
	if !strings.Contains(body, "read-only") || strings.Contains(body, "<form method=\"post\"") || !strings.Contains(body, "supportprobe review REPLY-ID KIND") {
		t.Errorf("/review does not say it is read-only and which command decides")
	}
	um := mustJSON[[]map[string]any](t, h, "/unmatched?format=json")
	if len(um) != 2 || um[1]["id"] != f.unmatchedAcme {
		t.Errorf("unmatched = %v; want 2, the acme one last", um)
	}
	_, body = get(t, h, "/unmatched")
	if !strings.Contains(body, "read-only") || strings.Contains(body, "<form method=\"post\"") || !strings.Contains(body, "supportprobe link MESSAGE-ID PROBE-ID") {
		t.Errorf("/unmatched does not say it is read-only and which command links")
	}
}

// TestEscaping proves that vendor-controlled From and Subject never become markup on
// any page: no element or attribute comes from them, only text.
func TestEscaping(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	for _, path := range []string{"/", "/vendors/acme", "/probes/" + f.met, "/probes/" + f.review, "/review", "/unmatched"} {
		t.Run(path, func(t *testing.T) {
			_, body := get(t, h, path)
			// Escaped text has no "<", so every "<x ...>" is a real tag; quoted attribute
			// values are dropped before looking for handlers in the tag itself.
			var bad []string
			quoted := regexp.MustCompile(`"[^"]*"`)
			for _, tag := range regexp.MustCompile(`<[a-zA-Z][^>]*>`).FindAllString(body, -1) {
				if tag == liveScriptTag {
					continue // the dashboard's own script file, the only one
				}
				bare := quoted.ReplaceAllString(tag, `""`)
				if regexp.MustCompile(`(?i)^<(script|img|iframe|object)|\son[a-z]+=|\sstyle=`).MatchString(bare) {
					bad = append(bad, tag)
				}
			}
			if len(bad) > 0 {
				t.Errorf("GET %s has markup that must not be there: %v", path, bad)
			}
			if path != "/" && path != "/vendors/acme" && path != "/probes/"+f.met && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("GET %s does not show the hostile subject as text", path)
			}
		})
	}
	_, body := get(t, h, "/probes/"+f.met)
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("the probe page does not show the hostile From and Subject as text")
	}
}

// liveScriptTag is the one script element the pages carry: the live updates' file.
const liveScriptTag = `<script src="/static/live.js" defer>`

func TestSecurityHeaders(t *testing.T) {
	f := mustFixture(t)
	h := mustHandler(t, f.db)
	for _, path := range []string{"/", "/?format=json", "/vendors/acme", "/probes/" + f.met, "/review", "/unmatched", "/static/dashboard.css", "/probes/P999", "/?period=bad"} {
		res, body := get(t, h, path)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-") {
			t.Errorf("GET %s: Content-Security-Policy = %q", path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			// Nothing the policy would block: no inline script or style, no external URL;
			// the one script is the dashboard's own file.
			if n := strings.Count(body, "<script"); n != 1 || !strings.Contains(body, liveScriptTag+"</script>") {
				t.Errorf("GET %s has %d <script> tags; want only %s, empty", path, n, liveScriptTag)
			}
			for _, re := range []string{`<script>`, `<style`, ` style=`, `src="http`, `href="http`, `url\(`} {
				if regexp.MustCompile(re).MatchString(body) {
					t.Errorf("GET %s has %s, which the policy forbids", path, re)
				}
			}
		}
	}
	res, body := get(t, h, "/static/dashboard.css")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ".st-breached") {
		t.Errorf("GET /static/dashboard.css = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// svgTickLabels returns the text of the chart's axis labels, from the axis's start
// (the bottom) up.
func svgTickLabels(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<text class="ticklabel"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
