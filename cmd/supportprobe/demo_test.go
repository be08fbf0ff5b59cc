package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs `supportprobe demo --duration 20s` in-process: it must finish cleanly,
// show sends to and replies from the simulated vendors as they happen, and end with a
// report in which nimbus answered and silent did not.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes 20 s")
	}
	t.Parallel()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, now: time.Now, getenv: os.Getenv}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if code := e.run(ctx, []string{"demo", "--duration", "20s"}); code != exitOK {
		t.Fatalf("demo: exit %d\nstderr:\n%s\nstdout:\n%s", code, errb.String(), out.String())
	}
	s := out.String()
	if first, _, _ := strings.Cut(s, "\n"); !regexp.MustCompile(`^supportprobe demo: the dashboard is at http://127\.0\.0\.1:\d+/ `).MatchString(first) {
		t.Errorf("the demo's first line is %q; want the dashboard's address", first)
	}
	if strings.Contains(s, "press Ctrl-C") {
		t.Errorf("with --duration the demo offers to keep serving; it must end")
	}
	for _, v := range []string{"nimbus", "atlas", "lotus", "silent"} {
		if !strings.Contains(s, "sent to "+v) || !strings.Contains(s, "== "+v+" ") {
			t.Errorf("output shows no probe to %s, or no report section for it", v)
		}
	}
	if !regexp.MustCompile(`← P\d nimbus: auto_ack after \d+s`).MatchString(s) {
		t.Errorf("output shows no auto_ack from nimbus")
	}
	if !regexp.MustCompile(`← P\d (nimbus|lotus): human after \d+s`).MatchString(s) {
		t.Errorf("output shows no human reply")
	}
	answered := func(vendor string) int {
		m := regexp.MustCompile(`(?s)== ` + vendor + ` =+\n.*?\nSent +\d+: (\d+) answered`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("report has no Sent line for %s", vendor)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if n := answered("nimbus"); n == 0 {
		t.Errorf("report: nimbus answered %d, want more than 0", n)
	}
	if n := answered("silent"); n != 0 {
		t.Errorf("report: silent answered %d, want 0", n)
	}
	if !strings.Contains(s, "supportprobe init") {
		t.Errorf("output does not say what to try next")
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", s, errb.String())
	}
}

// TestDemoServesUntilInterrupted runs the demo as `supportprobe demo` without
// --duration does (a short probing period here): after the report the dashboard stays
// up and shows the demo's vendors, until the context ends as Ctrl-C ends it; then the
// demo stops cleanly.
func TestDemoServesUntilInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes 8 s")
	}
	t.Parallel()
	var out, errb syncBuffer
	e := &env{stdout: &out, stderr: &errb, now: time.Now, getenv: os.Getenv}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, e, demoOpts{duration: 8 * time.Second, every: time.Second, format: "text", listen: "127.0.0.1:0", serve: true})
	}()
	stays := regexp.MustCompile(`The dashboard stays at (http://127\.0\.0\.1:\d+/) `)
	var addr string
	for deadline := time.Now().Add(60 * time.Second); addr == ""; time.Sleep(100 * time.Millisecond) {
		if m := stays.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the demo ended before serving: %v\n%s\n%s", err, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no \"dashboard stays\" line within 60 s:\n%s", out.String())
		}
	}
	// Well after the probing period the dashboard still answers, with the vendors.
	time.Sleep(time.Second)
	resp, err := http.Get(addr + "?format=json")
	if err != nil {
		t.Fatalf("GET %s after the report: %v", addr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name": "nimbus"`) {
		t.Errorf("GET %s?format=json after the report = %d\n%s", addr, resp.StatusCode, body)
	}
	select {
	case err := <-done:
		t.Fatalf("the demo ended without being interrupted: %v", err)
	default:
	}
	cancel() // Ctrl-C
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo after Ctrl-C = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop within 30 s of Ctrl-C")
	}
	if !strings.Contains(out.String(), "interrupted; stopping.") {
		t.Errorf("the demo does not say it stopped:\n%s", out.String())
	}
	if _, err := http.Get(addr); err == nil {
		t.Errorf("the dashboard still answers after the demo ended")
	}
}
