package report_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"supportprobe/probe/browsertest"
	"supportprobe/probe/report"
)

// The browser test renders the summary mail's HTML and the HTML report in Debian's
// chromium (headless), as the dashboard's browser test does: the pages must render with
// no console error, show the figures of the report, and print to a clean PDF (the
// print stylesheet fits the sheet to the paper). With SUPPORTPROBE_SCREENSHOTS=DIR it
// saves full-page screenshots and the printed PDFs there for a person to look at.

// startChromium starts a headless chromium that may reach only 127.0.0.1 and returns
// the context of its first tab.
func startChromium(t *testing.T, errs *browsertest.Log) context.Context {
	return browsertest.Start(t, errs, 1000, 900, 90*time.Second)
}

// serveHTML serves each page of pages at its path on 127.0.0.1 and returns the base URL.
func serveHTML(t *testing.T, pages map[string][]byte) string {
	t.Helper()
	mux := http.NewServeMux()
	for path, body := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(body)
		})
	}
	// The browser asks for one; a 404 would show as an error in its log.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
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

// a4Width is the printable width of an A4 page with the print stylesheet's 12 mm side
// margins, in CSS pixels (96 per inch).
const a4Width = 702 // (210 - 2*12) mm / 25.4 * 96, rounded down

// printCheck emulates print media at the width of an A4 page's printable area and
// returns how wide the page is then, its body's background, and the PDF chromium
// prints of it.
func printCheck(scrollWidth *int64, background *string, pdf *[]byte) chromedp.Tasks {
	return chromedp.Tasks{
		emulation.SetEmulatedMedia().WithMedia("print"),
		emulation.SetDeviceMetricsOverride(a4Width, 1000, 1, false),
		chromedp.Evaluate(`document.documentElement.scrollWidth`, scrollWidth),
		chromedp.Evaluate(`getComputedStyle(document.body).backgroundColor`, background),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			*pdf, _, err = cdppage.PrintToPDF().WithPrintBackground(true).WithPreferCSSPageSize(true).Do(ctx)
			return err
		}),
		emulation.ClearDeviceMetricsOverride(),
		emulation.SetEmulatedMedia().WithMedia(""),
	}
}

func TestBrowserSummaryAndReport(t *testing.T) {
	sum, _ := weekReport(t, 1000, 6)
	full, _ := weekReport(t, 120, 2)
	var sumHTML, fullHTML bytes.Buffer
	if err := sum.WriteSummaryHTML(&sumHTML, report.SummaryOptions{Attachment: "supportprobe-2026-W48-breaches.csv", AttachedBreaches: len(sum.Breaches),
		More: "The full report: supportprobe report --week 2026-W48 --format html."}); err != nil {
		t.Fatal(err)
	}
	if err := full.WriteHTML(&fullHTML); err != nil {
		t.Fatal(err)
	}
	base := serveHTML(t, map[string][]byte{"/summary.html": sumHTML.Bytes(), "/report.html": fullHTML.Bytes()})
	var errs browsertest.Log
	ctx := startChromium(t, &errs)
	shots := os.Getenv("SUPPORTPROBE_SCREENSHOTS")
	save := func(name string, data []byte) {
		if shots == "" {
			return
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	settle := chromedp.Sleep(200 * time.Millisecond)
	save("summary.html", sumHTML.Bytes())
	save("report.html", fullHTML.Bytes())

	// The summary: the headlines, a table per vendor, the breaches.
	var headlines []string
	var vendorTables, breachRows int
	var shot []byte
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/summary.html"),
		chromedp.WaitVisible("table.headlines"),
		chromedp.Evaluate(`[...document.querySelectorAll("table.headlines td")].map(td => td.innerText)`, &headlines),
		chromedp.Evaluate(`document.querySelectorAll("table.vendor").length`, &vendorTables),
		chromedp.Evaluate(`document.querySelectorAll("table.breaches tr[bgcolor]").length`, &breachRows),
		chromedp.FullScreenshot(&shot, 90),
		settle,
	); err != nil {
		t.Fatal(err)
	}
	save("summary.png", shot)
	want := sum.Headlines()
	if len(headlines) != len(want) {
		t.Errorf("the summary shows %d headlines, want %d: %q", len(headlines), len(want), headlines)
	}
	for i := range min(len(headlines), len(want)) {
		if strings.Join(strings.Fields(headlines[i]), " ") != strings.Join(strings.Fields(want[i]), " ") {
			t.Errorf("headline %d reads %q, want %q", i+1, headlines[i], want[i])
		}
	}
	if vendorTables != len(sum.Vendors) {
		t.Errorf("the summary shows %d vendor tables, want %d", vendorTables, len(sum.Vendors))
	}
	if wantRows := min(len(sum.Breaches), report.DefaultMaxBreaches); breachRows != wantRows {
		t.Errorf("the summary lists %d breaches, want %d", breachRows, wantRows)
	}
	var width int64
	var bg string
	var pdf []byte
	if err := chromedp.Run(ctx, printCheck(&width, &bg, &pdf)); err != nil {
		t.Fatal(err)
	}
	save("summary.pdf", pdf)
	checkPrint(t, "summary", width, bg, pdf)

	// The report: the latency chart's scale starts below the fastest bar, and its
	// labels name the probe in words.
	var ticks, labels []string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/report.html"),
		chromedp.WaitReady("body"),
		chromedp.Evaluate(`[...document.querySelectorAll("tr[title^='probe '] > td:first-child")].map(td => td.innerText)`, &labels),
		chromedp.Evaluate(`[...document.querySelectorAll("td[style*='border-left:1px solid #8c959f']")].map(td => td.innerText.trim())`, &ticks),
		chromedp.FullScreenshot(&shot, 90),
		settle,
	); err != nil {
		t.Fatal(err)
	}
	save("report.png", shot)
	bars := 0
	for _, v := range full.Vendors {
		bars += len(v.Latencies)
	}
	if len(labels) != bars {
		t.Errorf("the report draws %d bars, want %d", len(labels), bars)
	}
	for _, l := range labels {
		if !strings.HasPrefix(l, "probe P") {
			t.Errorf("a bar is labelled %q, want \"probe P…\"", l)
			break
		}
	}
	fastest := full.Vendors[0].Latencies[0].Seconds
	if len(ticks) == 0 {
		t.Fatal("the report's chart has no scale")
	}
	// The scale starts at the last tick below the fastest bar: its own tick is below
	// it and the next one is not.
	i := slices.Index(tickLabels, ticks[0])
	if i < 0 || tickSeconds[i] >= fastest || i+1 < len(tickSeconds) && tickSeconds[i+1] < fastest {
		t.Errorf("the chart of %s starts at %q for a fastest bar of %.0f s; want the last tick below it", full.Vendors[0].Name, ticks[0], fastest)
	}
	if err := chromedp.Run(ctx, printCheck(&width, &bg, &pdf)); err != nil {
		t.Fatal(err)
	}
	save("report.pdf", pdf)
	checkPrint(t, "report", width, bg, pdf)

	if got := errs.Take(); len(got) > 0 {
		t.Errorf("chromium reported errors: %q", got)
	}
}

// The scale's ticks, in order.
var (
	tickLabels  = []string{"1s", "10s", "1m", "10m", "1h", "6h", "1d", "3d", "7d", "30d", "1y"}
	tickSeconds = []float64{1, 10, 60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 30 * 86400, 365 * 86400}
)

// checkPrint checks a page printed cleanly: no wider than the paper, on white, into a
// PDF of at least one page.
func checkPrint(t *testing.T, name string, width int64, bg string, pdf []byte) {
	t.Helper()
	if width > a4Width {
		t.Errorf("%s printed is %d px wide, wider than A4's %d px: it would be cut or shrunk", name, width, a4Width)
	}
	if bg != "rgb(255, 255, 255)" && bg != "rgba(0, 0, 0, 0)" {
		t.Errorf("%s printed has a %s background, want white", name, bg)
	}
	pages := bytes.Count(pdf, []byte("/Type /Page\n")) + bytes.Count(pdf, []byte("/Type /Page>>")) + bytes.Count(pdf, []byte("/Type /Page "))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Errorf("%s printed to %d bytes that are not a PDF", name, len(pdf))
	}
	t.Logf("%s: printed %d px wide, %s, PDF %d KB, %s", name, width, bg, len(pdf)>>10, fmt.Sprintf("%d page objects found", pages))
}
