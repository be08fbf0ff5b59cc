package report

import "testing"

// TestScaleRange checks the latency chart's scale starts at the last tick below the
// fastest bar and ends at the first tick not below the longest, two intervals at
// least.
func TestScaleRange(t *testing.T) {
	tests := []struct {
		name             string
		fastest, longest float64
		wantFrom, wantTo string
	}{
		{"answers in hours", 2*3600 + 900, 3 * 86400, "1h", "3d"},
		{"an answer in 30 s", 30, 3600, "10s", "1h"},
		{"an answer within a second", 0.5, 120, "1s", "10m"},
		{"exactly on a tick", 600, 700, "1m", "1h"},
		{"beyond the last tick", 400 * 86400, 500 * 86400, "7d", "1y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to := scaleRange(tt.fastest, tt.longest)
			if got, want := scaleTicks[from].label+"–"+scaleTicks[to].label, tt.wantFrom+"–"+tt.wantTo; got != want {
				t.Errorf("scaleRange(%v, %v) = %s, want %s", tt.fastest, tt.longest, got, want)
			}
		})
	}
}

// TestAttainmentInterval checks a rate carries its 95% interval only from MinIntervalN
// decided probes, and says why not below.
func TestAttainmentInterval(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	few := Attainment{Met: 2, Decided: 3, Rate: f(2.0 / 3), Lo: f(0.21), Hi: f(0.94)}
	enough := Attainment{Met: 5, Decided: 6, Rate: f(5.0 / 6), Lo: f(0.44), Hi: f(0.97)}
	if got, want := attainment(few), "2/3 met, 67% (too few for an interval)"; got != want {
		t.Errorf("attainment(2 of 3) = %q, want %q", got, want)
	}
	if got, want := attainment(enough), "5/6 met, 83% [44%–97%]"; got != want {
		t.Errorf("attainment(5 of 6) = %q, want %q", got, want)
	}
	if segs := intervalBar(few); segs != nil {
		t.Errorf("intervalBar(2 of 3) = %v, want no bar", segs)
	}
	if segs := intervalBar(enough); len(segs) == 0 {
		t.Errorf("intervalBar(5 of 6) draws nothing")
	}
}
