package configs_test

import (
	"strings"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/probe"
)

// exampleWith returns the example configuration with each old replaced by the new that
// follows it.
func exampleWith(t *testing.T, pairs ...string) *configs.Config {
	t.Helper()
	s := string(configs.Example)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("exampleWith: %q not in the example", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return mustParse(t, []byte(s))
}

func TestDeadlineWarnings(t *testing.T) {
	// Before Golden Week 2026, whose holidays the example gives lotus-ops.
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

	if ws := mustParse(t, configs.Example).DeadlineWarnings(now); len(ws) != 0 {
		t.Errorf("example (10d deadline): DeadlineWarnings() = %v, want none", ws)
	}

	// The case: the 8h business-clock P3 target with a 7d deadline.
	c := exampleWith(t, "    deadline: 10d", "    deadline: 7d")
	ws := c.DeadlineWarnings(now)
	if len(ws) != 1 {
		t.Fatalf("7d deadline: DeadlineWarnings() = %v, want one warning", ws)
	}
	w := ws[0]
	sh, _ := time.LoadLocation("Asia/Shanghai")
	if w.Vendor != "lotus-ops" || w.Priority != probe.P3 || w.Every || len(w.Spans) != 1 ||
		!w.Spans[0].From.Equal(time.Date(2026, 9, 30, 10, 0, 0, 0, sh)) || !w.Spans[0].To.Equal(time.Date(2026, 10, 1, 17, 0, 0, 0, sh)) {
		t.Errorf("7d deadline: warning = %+v, want lotus-ops P3, sends from Wed 30 Sep 10:00 to Thu 1 Oct 17:00", w)
	}
	for _, want := range []string{`vendor "lotus-ops": sla.P3`, "8h business-time target", "7d deadline",
		"Wed 2026-09-30 10:00 to Thu 2026-10-01 17:00", "Asia/Shanghai", "as little as 0s", "undecided", "raise the deadline"} {
		if !strings.Contains(w.Error(), want) {
			t.Errorf("warning %q lacks %q", w.Error(), want)
		}
	}

	// After Golden Week the configured holidays are past, and 7 days always hold more
	// than 8 business hours.
	if ws := c.DeadlineWarnings(time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)); len(ws) != 0 {
		t.Errorf("7d deadline, after the holidays: DeadlineWarnings() = %v, want none", ws)
	}

	// Holidays more than a year ahead are still looked at.
	far := exampleWith(t, "    deadline: 10d", "    deadline: 7d",
		"holidays: [2026-10-01, 2026-10-02, 2026-10-05, 2026-10-06, 2026-10-07]",
		"holidays: [2028-10-02, 2028-10-03, 2028-10-04, 2028-10-05, 2028-10-06]")
	ws = far.DeadlineWarnings(now)
	if len(ws) != 1 || !strings.Contains(ws[0].Error(), "Fri 2028-09-29 10:00 to Mon 2028-10-02 17:00") {
		t.Errorf("holidays in 2028: DeadlineWarnings() = %v, want one naming Fri 2028-09-29 10:00 to Mon 2028-10-02 17:00", ws)
	}

	// A 2d deadline: every weekend, so the warning names the first few, counts the
	// rest, and names the longest: Golden Week.
	short := exampleWith(t, "    deadline: 10d", "    deadline: 2d")
	ws = short.DeadlineWarnings(now)
	if len(ws) != 1 || len(ws[0].Spans) < 50 {
		t.Fatalf("2d deadline: DeadlineWarnings() = %v, want one with every weekend", ws)
	}
	for _, want := range []string{"Fri 2026-09-04 10:00 to Sat 2026-09-05 17:00", "more, the last ending 2027-08-28",
		"the longest Wed 2026-09-30 10:00 to Tue 2026-10-06 17:00"} {
		if !strings.Contains(ws[0].Error(), want) {
			t.Errorf("2d deadline: warning %q lacks %q", ws[0].Error(), want)
		}
	}

	// A calendar target equal to the deadline cannot be breached by any probe.
	eq := exampleWith(t, "P1: {first_response: 1h, clock: calendar}", "P1: {first_response: 7d, clock: calendar}")
	ws = eq.DeadlineWarnings(now)
	if len(ws) != 1 || ws[0].Vendor != "acme-cloud" || !ws[0].Every || !strings.Contains(ws[0].Error(), "for any probe") {
		t.Errorf("calendar target = deadline: DeadlineWarnings() = %v, want one for any acme-cloud P1 probe", ws)
	}
}

// BenchmarkDeadlineWarnings measures what check adds: a year of send times for every
// vendor and priority of the example, with a 2d deadline (a span every weekend).
func BenchmarkDeadlineWarnings(b *testing.B) {
	c, err := configs.Parse([]byte(strings.Replace(string(configs.Example), "    deadline: 10d", "    deadline: 2d", 1)), "example")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		if len(c.DeadlineWarnings(now)) != 1 {
			b.Fatal("want one warning")
		}
	}
}
