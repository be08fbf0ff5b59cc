package schedule

import (
	"testing"
	"time"
)

// FuzzParse feeds Parse arbitrary cron specs from a configuration file, in zones with
// daylight saving, half-hour shifts and none: it must return an error rather than panic
// (robfig/cron has panicked on malformed specs), and a spec it accepts must only ever
// fire strictly later than asked, each fire after the one before.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 3 * * *", "*/15 9-17 * * MON-FRI", "30 2 * * SUN", "@daily", "@every 1h",
		"0 0 30 2 *", "TZ=UTC 0 3 * * *", "CRON_TZ=Asia/Shanghai 0 3 * * *", "TZ=", "0 0 L * *", "? ? ? ? ?",
		"59 23 31 12 *", "0 0 1,15 * 1-5", "0-59/0 * * * *", "*/99999999999 * * * *", " 0 3 * * * "} {
		f.Add(s, uint8(0), int64(1_790_000_000))
	}
	zones := []string{"UTC", "America/Los_Angeles", "Asia/Shanghai", "Australia/Lord_Howe", "Europe/Berlin", "Asia/Kolkata"}
	locs := make([]*time.Location, len(zones))
	for i, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			f.Fatal(err)
		}
		locs[i] = loc
	}
	f.Fuzz(func(t *testing.T, spec string, zone uint8, unix int64) {
		loc := locs[int(zone)%len(locs)]
		s, err := Parse(spec, loc)
		if err != nil {
			return
		}
		// Stay within years cron can reach and time.Time can print.
		from := time.Unix(unix%(200*365*86400), 0).UTC()
		prev := from
		for _, at := range s.Upcoming(from, 3) {
			if !at.After(prev) {
				t.Fatalf("Parse(%q) in %s: Upcoming(%v) gave %v, not after %v", spec, loc, from, at, prev)
			}
			prev = at
		}
	})
}
