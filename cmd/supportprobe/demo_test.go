package main

import (
	"bytes"
	"context"
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
