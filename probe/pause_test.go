package probe

import (
	"testing"
	"time"
)

func TestPausedTime(t *testing.T) {
	t0 := time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	for _, tc := range []struct {
		name   string
		pauses []Pause
		want   time.Duration
	}{
		{"none", nil, 0},
		{"inside", []Pause{{From: h(2), Until: h(5)}}, 3 * time.Hour},
		{"clipped both ends", []Pause{{From: h(-5), Until: h(30)}}, 24 * time.Hour},
		{"no end runs to the period's end", []Pause{{From: h(20)}}, 4 * time.Hour},
		{"overlap counted once", []Pause{{From: h(1), Until: h(4)}, {From: h(3), Until: h(6)}}, 5 * time.Hour},
		{"nested counted once", []Pause{{From: h(1), Until: h(10)}, {From: h(3), Until: h(4)}}, 9 * time.Hour},
		{"disjoint add", []Pause{{From: h(10), Until: h(11)}, {From: h(1), Until: h(2)}}, 2 * time.Hour},
		{"touching", []Pause{{From: h(1), Until: h(2)}, {From: h(2), Until: h(3)}}, 2 * time.Hour},
		{"outside", []Pause{{From: h(30), Until: h(40)}, {From: h(-9), Until: h(-1)}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PausedTime(tc.pauses, h(0), h(24)); got != tc.want {
				t.Errorf("PausedTime() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPauseAt(t *testing.T) {
	t0 := time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	short := Pause{From: t0, Until: t0.Add(time.Hour), Source: PauseConfig}
	long := Pause{From: t0, Until: t0.Add(5 * time.Hour), Source: PauseManual}
	open := Pause{From: t0.Add(30 * time.Minute), Source: PauseManual}
	for _, tc := range []struct {
		name   string
		pauses []Pause
		at     time.Time
		want   Pause
		ok     bool
	}{
		{"before", []Pause{short}, t0.Add(-time.Second), Pause{}, false},
		{"at start", []Pause{short}, t0, short, true},
		{"end excluded", []Pause{short}, t0.Add(time.Hour), Pause{}, false},
		{"longest end wins", []Pause{short, long}, t0.Add(time.Minute), long, true},
		{"no end wins", []Pause{long, open, short}, t0.Add(40 * time.Minute), open, true},
		{"no end wins, first", []Pause{open, long}, t0.Add(40 * time.Minute), open, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := PauseAt(tc.pauses, tc.at)
			if ok != tc.ok || got != tc.want {
				t.Errorf("PauseAt() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestPauseReason(t *testing.T) {
	z := time.FixedZone("+01", 3600)
	cfg := Pause{From: time.Date(2026, 12, 24, 0, 0, 0, 0, z), Until: time.Date(2026, 12, 27, 0, 0, 0, 0, z), Note: "holiday freeze", Source: PauseConfig}
	if got, want := cfg.Reason(), "in the configured pause window 2026-12-24T00:00:00+01:00 – 2026-12-27T00:00:00+01:00 (holiday freeze)"; got != want {
		t.Errorf("Reason() = %q, want %q", got, want)
	}
	man := Pause{From: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), By: "lin", Source: PauseManual}
	if got, want := man.Reason(), "paused by hand since 2026-12-01T09:00:00Z by lin, until resumed"; got != want {
		t.Errorf("Reason() = %q, want %q", got, want)
	}
}
