package schedule

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestNextAcrossZonesAndDST pins fire times across daylight-saving changes. Each case
// gives the spec, its zone, the instant Next is asked from, and the next fire times
// expected, written as RFC 3339 with the zone's offset so the wall time is visible.
func TestNextAcrossZonesAndDST(t *testing.T) {
	tests := []struct {
		name, spec, zone, from string
		want                   []string
	}{
		{"LA spring-forward: 02:30 does not exist, fires once at 03:00 PDT",
			"30 2 * * *", "America/Los_Angeles", "2027-03-13T12:00:00-08:00",
			[]string{"2027-03-14T03:00:00-07:00", "2027-03-15T02:30:00-07:00"}},
		{"LA spring-forward: every 15 minutes through the gap fires once at 03:00",
			"*/15 1-3 14 3 *", "America/Los_Angeles", "2027-03-14T01:40:00-08:00",
			[]string{"2027-03-14T01:45:00-08:00", "2027-03-14T03:00:00-07:00", "2027-03-14T03:15:00-07:00"}},
		{"LA fall-back: 01:30 happens twice, fires once",
			"30 1 * * *", "America/Los_Angeles", "2026-10-31T12:00:00-07:00",
			[]string{"2026-11-01T01:30:00-07:00", "2026-11-02T01:30:00-08:00"}},
		{"LA fall-back: hourly skips the repeated hour",
			"0 * 1 11 *", "America/Los_Angeles", "2026-11-01T00:30:00-07:00",
			[]string{"2026-11-01T01:00:00-07:00", "2026-11-01T02:00:00-08:00"}},
		{"LA: 3 a.m. daily in winter", "0 3 * * *", "America/Los_Angeles", "2026-11-28T16:00:00Z",
			[]string{"2026-11-29T03:00:00-08:00", "2026-11-30T03:00:00-08:00"}},
		{"London spring-forward: 01:30 fires at 02:00 BST",
			"30 1 * * *", "Europe/London", "2027-03-27T12:00:00Z",
			[]string{"2027-03-28T02:00:00+01:00", "2027-03-29T01:30:00+01:00"}},
		{"London fall-back: 01:30 once",
			"30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00Z"}},
		{"Shanghai has no DST", "0 3 * * 1-5", "Asia/Shanghai", "2026-11-27T20:00:00Z",
			[]string{"2026-11-30T03:00:00+08:00", "2026-12-01T03:00:00+08:00"}},
		{"Lord Howe spring-forward: 02:15 falls in a 30-minute gap",
			"15 2 * * *", "Australia/Lord_Howe", "2026-10-03T12:00:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"Lord Howe fall-back: 01:45 repeats, fires once",
			"45 1 * * *", "Australia/Lord_Howe", "2027-04-03T12:00:00+11:00",
			[]string{"2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse(tt.spec, mustLoc(t, tt.zone))
			if err != nil {
				t.Fatal(err)
			}
			from, err := time.Parse(time.RFC3339, tt.from)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.want {
				want, _ := time.Parse(time.RFC3339, w)
				got := spec.Next(from)
				if !got.Equal(want) {
					t.Fatalf("Next #%d after %s = %s, want %s", i+1, from.Format(time.RFC3339), got.Format(time.RFC3339), w)
				}
				from = got
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	utc := time.UTC
	tests := []struct{ name, spec, want string }{
		{"TZ prefix", "TZ=UTC 0 3 * * *", "timezone field"},
		{"CRON_TZ prefix", "CRON_TZ=Asia/Tokyo 0 3 * * *", "timezone field"},
		{"six fields", "0 0 3 * * *", "expected exactly 5 fields"},
		{"bad minute", "61 3 * * *", "end of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.spec, utc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tt.spec, err, tt.want)
			}
		})
	}
}
