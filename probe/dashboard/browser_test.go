package dashboard

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"supportprobe/probe"
	"supportprobe/probe/browsertest"
)

// The browser test drives Debian's chromium (headless) through the DevTools protocol
// with chromedp: it is the only way to prove what the handler tests cannot, that the
// Content-Security-Policy blocks nothing the pages need, that hostile vendor text stays
// inert in a real DOM, and that Chinese text renders with real glyphs.

// browserLog collects what the page reports as errors: console errors, uncaught
// exceptions, browser log entries of level error (where CSP violations appear), and
// JavaScript dialogs (which only a script could open).
type browserLog = browsertest.Log

// mustBrowser starts a fresh headless chromium that may reach only 127.0.0.1, and
// returns a context for its first tab.
func mustBrowser(t *testing.T, log *browserLog) context.Context {
	return browsertest.Start(t, log, 1280, 900, 60*time.Second)
}

// mustServe serves h on 127.0.0.1 with a canary page that breaks the policy, so the
// test can show that a violation would be seen.
func mustServe(t *testing.T, h *Handler) string {
	t.Helper()
	mux := http.NewServeMux()
	h.Register(mux)
	mux.HandleFunc("GET /csp-canary", func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><html><head><title>canary</title></head><body><p style="color:red">x</p><script>console.log("ran")</script></body></html>`))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestBrowser(t *testing.T) {
	f := mustFixture(t)
	h := mustWritable(t, f, nil)
	base := mustServe(t, h)
	var log browserLog
	ctx := mustBrowser(t, &log)
	shots := os.Getenv("SUPPORTPROBE_SCREENSHOTS")
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			if shots == "" {
				return nil
			}
			var png []byte
			if err := chromedp.FullScreenshot(&png, 100).Do(ctx); err != nil {
				return err
			}
			if err := os.MkdirAll(shots, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	// settle lets late console messages arrive before the log is read.
	settle := chromedp.Sleep(300 * time.Millisecond)

	// The canary proves the listener sees a policy violation.
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/csp-canary"), chromedp.WaitReady("body"), settle); err != nil {
		t.Fatal(err)
	}
	if got := log.Take(); !strings.Contains(strings.Join(got, "\n"), "Content Security Policy") {
		t.Fatalf("the canary's inline script and style were not reported as CSP violations; the log has %q", got)
	}

	var title, location string
	var rows, bars, imgs int
	err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("table.overview"),
		chromedp.Evaluate(`document.querySelectorAll("table.overview tbody tr").length`, &rows),
		shot("overview"),
		// The first Tab reaches the skip link, the next the navigation: links are
		// reachable by keyboard.
		chromedp.KeyEvent(kb.Tab),
		chromedp.Evaluate(`document.activeElement.textContent`, &title),
	)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("overview has %d vendor rows, want 2", rows)
	}
	if title != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", title)
	}
	if err := chromedp.Run(ctx,
		chromedp.Click(`table.overview a[href="/vendors/acme"]`, chromedp.NodeVisible),
		chromedp.WaitVisible("svg.chart"),
		chromedp.Location(&location),
		chromedp.Evaluate(`document.querySelectorAll("svg.chart rect").length`, &bars),
		shot("vendor"),
	); err != nil {
		t.Fatal(err)
	}
	if location != base+"/vendors/acme" || bars != 4 {
		t.Errorf("after following acme: at %s with %d bars; want %s/vendors/acme with 4", location, bars, base)
	}
	// The chart's columns take their colours from the stylesheet, not inline styles.
	var fill string
	if err := chromedp.Run(ctx, chromedp.Evaluate(`getComputedStyle(document.querySelector("svg.chart rect.st-answered")).fill`, &fill)); err != nil {
		t.Fatal(err)
	}
	if fill != "rgb(0, 158, 115)" {
		t.Errorf("an answered column is filled %q, want the stylesheet's rgb(0, 158, 115)", fill)
	}

	var subject string
	if err := chromedp.Run(ctx,
		chromedp.Click(`table.probes a[href="/probes/`+f.met+`"]`, chromedp.NodeVisible),
		chromedp.WaitVisible("pre.text"),
		chromedp.Location(&location),
		chromedp.Evaluate(`document.querySelectorAll("img, script:not([src=\"/static/live.js\"])").length`, &imgs),
		chromedp.Text(`section.reply dl dd:nth-of-type(2)`, &subject),
		shot("probe"),
		settle,
	); err != nil {
		t.Fatal(err)
	}
	if location != base+"/probes/"+f.met {
		t.Errorf("after following the probe: at %s", location)
	}
	// The hostile subject and From are text in the DOM, never elements.
	if imgs != 0 || subject != hostileSubject {
		t.Errorf("probe page: %d img/script elements, subject shown as %q; want 0 and %q as text", imgs, subject, hostileSubject)
	}

	// Chinese text renders with a font that has its glyphs (fonts-noto-cjk), not as
	// boxes: the browser reports which platform fonts drew the reply's text.
	var fonts []*css.PlatformFontUsage
	var nodes []cdp.NodeID
	if err := chromedp.Run(ctx,
		dom.Enable(), css.Enable(),
		chromedp.NodeIDs("pre.text", &nodes),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			fonts, err = css.GetPlatformFontsForNode(nodes[0]).Do(ctx)
			return err
		}),
	); err != nil {
		t.Fatal(err)
	}
	cjk := 0
	var names []string
	for _, f := range fonts {
		names = append(names, f.FamilyName)
		if strings.Contains(f.FamilyName, "CJK") {
			cjk += int(f.GlyphCount)
		}
	}
	if want := len([]rune(strings.Trim(chineseText, "，。"))) - 1; cjk < want {
		t.Errorf("the Chinese reply was drawn with fonts %v, %d glyphs from a CJK font; want at least %d", names, cjk, want)
	}

	// The other pages load too, with the live script running, and nothing on any page
	// broke the policy or logged an error.
	for _, p := range []string{"/review", "/unmatched", "/probes/" + f.review, "/?period=all", "/vendors/beta?tz=utc"} {
		var live string
		if err := chromedp.Run(ctx, chromedp.Navigate(base+p), chromedp.WaitVisible("main"), settle,
			chromedp.Evaluate(`[...document.scripts].map(s => s.src).join(" ")`, &live)); err != nil {
			t.Fatalf("load %s: %v", p, err)
		}
		if live != base+"/static/live.js" {
			t.Errorf("%s loads scripts %q; want only %s/static/live.js", p, live, base)
		}
	}
	if err := chromedp.Run(ctx, shot("vendor-utc")); err != nil {
		t.Fatal(err)
	}
	if got := log.Take(); len(got) > 0 {
		t.Errorf("the browser reported errors or policy violations:\n%s", strings.Join(got, "\n"))
	}

	browserDecision(t, ctx, f, base, &log, shot, settle)
	browserLive(t, ctx, f, base, &log, shot)
}

// browserDecision decides the review item in the browser: a click records it, the
// probe page shows the new verdict and its audit entry. Before that, a cross-site form
// (another origin on 127.0.0.1, even with a valid token) and the page's own form without
// its token are refused and change nothing.
func browserDecision(t *testing.T, ctx context.Context, f fixture, base string, log *browserLog, shot func(string) chromedp.Action, settle chromedp.Action) {
	t.Helper()
	form := `form[action="/review/` + f.reviewReply + `"]`
	var token string
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/review"), chromedp.WaitVisible(form),
		chromedp.Evaluate(`document.querySelector('`+form+` input[name="csrf"]').value`, &token)); err != nil {
		t.Fatal(err)
	}
	undecided := func(when string) {
		t.Helper()
		r, err := f.db.Reply(f.reviewReply)
		if err != nil {
			t.Fatal(err)
		}
		if r.Override != nil {
			t.Fatalf("%s: the reply was decided: %+v", when, r.Override)
		}
	}

	// An attacker's page on another origin posts the same form, with the real token.
	evil := http.NewServeMux()
	evil.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><head><title>win a prize</title></head><body>
<form method="post" action="%s/review/%s"><input type="hidden" name="csrf" value="%s">
<input type="hidden" name="kind" value="auto_ack"><input type="hidden" name="note" value="forged">
<button id="go" type="submit">Claim</button></form></body></html>`, base, f.reviewReply, html.EscapeString(token))
	})
	evilBase := mustServeMux(t, evil)
	var status string
	if err := chromedp.Run(ctx, chromedp.Navigate(evilBase+"/"), chromedp.WaitVisible("#go"), chromedp.Click("#go"),
		chromedp.WaitVisible("main"), chromedp.Text("main h1", &status), shot("refused-cross-site")); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "403") {
		t.Errorf("the cross-site form got %q, want a 403 page", status)
	}
	undecided("after the cross-site post")

	// The page's own form, its token removed.
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/review"), chromedp.WaitVisible(form),
		chromedp.Evaluate(`document.querySelector('`+form+` input[name="csrf"]').remove()`, nil),
		chromedp.Click(form+` input[value="human"]`), chromedp.SendKeys(form+` input[name="note"]`, "no token"),
		chromedp.Click(form+` button[type="submit"]`), chromedp.WaitVisible("p.error"), chromedp.Text("main h1", &status)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "403") {
		t.Errorf("the form without its token got %q, want a 403 page", status)
	}
	undecided("after the post without a token")
	// The two refusals are the only errors the browser saw: the 403 responses.
	for _, e := range log.Take() {
		if !strings.Contains(e, "403") {
			t.Errorf("the browser reported more than the refusals: %s", e)
		}
	}

	// The real decision, by keyboard and mouse as a person makes it.
	var done, audit, location string
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/review"), chromedp.WaitVisible(form),
		chromedp.Click(form+` input[value="human"]`),
		chromedp.SendKeys(form+` input[name="note"]`, "agent's one-line answer after a courtesy opener"),
		shot("review"),
		chromedp.Click(form+` button[type="submit"]`),
		chromedp.WaitVisible("p.done"),
		chromedp.Text("p.done", &done), chromedp.Text("ul.audit", &audit), chromedp.Location(&location),
		shot("decided"), settle,
	); err != nil {
		t.Fatal(err)
	}
	r, err := f.db.Reply(f.reviewReply)
	if err != nil {
		t.Fatal(err)
	}
	if r.EffectiveKind() != probe.KindHuman {
		t.Fatalf("after the click the reply is %s, want human", r.EffectiveKind())
	}
	cs, err := f.db.Corrections(f.review)
	if err != nil || len(cs) != 1 {
		t.Fatalf("audit entries of %s = %v, %v; want the decision", f.review, cs, err)
	}
	if !strings.HasPrefix(location, base+"/probes/"+f.review+"?decided="+f.reviewReply) ||
		!strings.Contains(done, "reply "+f.reviewReply+" is now human, audit entry "+cs[0].ID) ||
		!strings.Contains(audit, "needs_review → human: agent's one-line answer after a courtesy opener") {
		t.Errorf("after the decision: at %s, notice %q, audit %q", location, done, audit)
	}
	if got := log.Take(); len(got) > 0 {
		t.Errorf("the browser reported errors during the decision:\n%s", strings.Join(got, "\n"))
	}
}

// browserLive leaves the overview open and records a reply behind its back: the page
// shows it within a few polls, without navigating (a marker set in the page survives).
func browserLive(t *testing.T, ctx context.Context, f fixture, base string, log *browserLog, shot func(string) chromedp.Action) {
	t.Helper()
	var before string
	if err := chromedp.Run(ctx, chromedp.Navigate(base+"/review"), chromedp.WaitVisible("main"),
		chromedp.Evaluate(`window.notReloaded = true`, nil), chromedp.Text("main", &before)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, "No reply awaits review.") {
		t.Fatalf("the review queue is not empty before the live test:\n%s", before)
	}
	// A new reply the classifier is unsure of, on the probe past its target.
	r, err := f.db.AddReply(probe.Reply{ProbeID: f.pastTarget, MessageID: "live@acme.example", ReceivedAt: fixtureNow, DetectedAt: fixtureNow,
		From: "kim@acme.example", Subject: "Re: live update", Kind: probe.KindNeedsReview, Confidence: 0.3, Reason: "fixture: live"},
		rawMail("kim@acme.example", "Re: live update", "Checking."))
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithTimeout(ctx, 4*LivePoll)
	defer cancel()
	var still bool
	var status string
	if err := chromedp.Run(lctx, chromedp.WaitVisible(`section.reply[id="`+r.ID+`"]`),
		chromedp.Evaluate(`window.notReloaded === true`, &still), chromedp.Text("#live", &status), shot("live")); err != nil {
		t.Fatalf("the new reply %s did not appear on the open page within %s: %v", r.ID, 4*LivePoll, err)
	}
	if !still || !strings.HasPrefix(status, "Updated at ") {
		t.Errorf("the page was reloaded (marker %v) or did not say it updated (%q)", still, status)
	}
	if got := log.Take(); len(got) > 0 {
		t.Errorf("the browser reported errors during the live update:\n%s", strings.Join(got, "\n"))
	}
}

// mustServeMux serves mux on another port of 127.0.0.1: another origin.
func mustServeMux(t *testing.T, mux http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}
