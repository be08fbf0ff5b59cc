// Package browsertest starts Debian's chromium, headless and driven with chromedp, for the
// tests that must see pages as a browser renders them (the dashboard, the HTML report and
// the summary mail): a Content-Security-Policy that blocks nothing the pages need, hostile
// vendor text that stays inert in a real DOM, a print stylesheet that fits the paper.
//
// The browser may reach only 127.0.0.1 (every other host name fails to resolve), uses a
// fresh profile, and reports console errors, uncaught exceptions, log entries of level
// warning or error (where CSP violations appear) and JavaScript dialogs to a Log.
//
// Without chromium the tests skip, unless SUPPORTPROBE_BROWSER=1 or
// SUPPORTPROBE_REAL_MAIL=1 (as CI sets), where they fail.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium returns chromium's path, or skips t when it is not installed, unless
// SUPPORTPROBE_REAL_MAIL=1 or SUPPORTPROBE_BROWSER=1 (CI), where t fails.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("SUPPORTPROBE_REAL_MAIL") == "1" || os.Getenv("SUPPORTPROBE_BROWSER") == "1" {
		t.Fatal("chromium is not installed and the browser tests are required; install it with `apt-get install chromium fonts-noto-cjk` (.ci/run does)")
	}
	t.Skip("chromium is not installed (apt-get install chromium fonts-noto-cjk); set SUPPORTPROBE_BROWSER=1 to require it")
	return ""
}

// Log collects what pages report as errors. It is safe for concurrent use.
type Log struct {
	mu     sync.Mutex
	errors []string
}

// Add records one error.
func (l *Log) Add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errors = append(l.errors, s)
}

// Take returns the errors recorded since the last Take and forgets them.
func (l *Log) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.errors
	l.errors = nil
	return out
}

// Listen is the chromedp target listener that feeds l.
func (l *Log) Listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			l.Add("console " + string(ev.Type) + ": " + strings.Join(args, " "))
		}
	case *runtime.EventExceptionThrown:
		l.Add("exception: " + ev.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.LevelError || ev.Entry.Level == cdplog.LevelWarning {
			l.Add("log " + string(ev.Entry.Source) + " " + string(ev.Entry.Level) + ": " + ev.Entry.Text)
		}
	case *cdppage.EventJavascriptDialogOpening:
		l.Add("dialog: " + ev.Message)
	}
}

// Start starts a fresh headless chromium with a window of width × height pixels, feeding
// log, and returns the context of its first tab, which ends after timeout. The browser is
// closed and its profile removed when t ends.
func Start(t testing.TB, log *Log, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	path := Chromium(t)
	// Not t.TempDir: chromium's helper processes may still write to the profile for a
	// moment after the browser exits, so its removal is retried below.
	profile, err := os.MkdirTemp("", "supportprobe-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
		// Every host name fails to resolve: the pages must need nothing but the test
		// server on 127.0.0.1.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"))
	bctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		// Close the browser and wait for it, but not forever: a browser that does not
		// exit is killed when the allocator is cancelled.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = chromedp.Cancel(bctx)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Log("chromium did not close within 5 s; killing it")
		}
		cancelTab()
		cancel()
		for i := 0; ; i++ {
			err := os.RemoveAll(profile)
			if err == nil || i == 20 {
				if err != nil {
					t.Errorf("remove chromium's profile %s: %v", profile, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	ctx, cancelTime := context.WithTimeout(bctx, timeout)
	t.Cleanup(cancelTime)
	chromedp.ListenTarget(ctx, log.Listen)
	if err := chromedp.Run(ctx, cdplog.Enable(), runtime.Enable(), cdppage.Enable()); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}
