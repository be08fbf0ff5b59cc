package probe_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q) = %v", name, err)
	}
	return loc
}

func mustHours(t *testing.T, spec probe.HoursSpec) probe.BusinessHours {
	t.Helper()
	h, err := probe.NewBusinessHours(spec)
	if err != nil {
		t.Fatalf("NewBusinessHours(%+v) = %v", spec, err)
	}
	return h
}

// wall returns the instant at which clocks in loc show s ("2006-01-02 15:04[:05]"). Wall
// times that occur twice or never on a DST day are written with instant instead.
func wall(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if len(s) == len(layout)+3 {
		layout += ":05"
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatalf("ParseInLocation(%q) = %v", s, err)
	}
	return v
}

// instant parses a time with an explicit offset, "2006-01-02 15:04 -0700".
func instant(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04 -0700", s)
	if err != nil {
		t.Fatalf("Parse(%q) = %v", s, err)
	}
	return v
}

var (
	weekdays = []string{"mon", "tue", "wed", "thu", "fri"}
	allWeek  = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

// officeHours is Mon–Fri 09:00–18:00 in zone, with Christmas 2026 (a Friday) off.
func officeHours(zone string) probe.HoursSpec {
	return probe.HoursSpec{Zone: zone, Days: weekdays, Open: "09:00", Close: "18:00", Holidays: []string{"2026-12-25"}}
}

// TestBusinessHoursBetweenOffice runs the same wall-clock intervals in a zone with daylight
// saving time (no change falls in these weeks: LA is on PDT all June and PST all
// December) and in one without, so each want is the same in both.
// 2026-06-01 is a Monday, 2026-06-05 a Friday, 2026-12-25 a Friday.
func TestBusinessHoursBetweenOffice(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want time.Duration
	}{
		// 10:00 → 11:30 Monday, all inside 09:00–18:00.
		{"inside one window", "2026-06-01 10:00", "2026-06-01 11:30", 90 * time.Minute},
		// 07:00 → 09:00 is closed, 09:00 → 10:00 counts.
		{"starts before opening", "2026-06-01 07:00", "2026-06-01 10:00", time.Hour},
		// 17:00 → 18:00 counts, 18:00 → 20:00 is closed.
		{"ends after closing", "2026-06-01 17:00", "2026-06-01 20:00", time.Hour},
		// Only 09:00–18:00 counts.
		{"spans a whole day", "2026-06-01 07:00", "2026-06-01 20:00", 9 * time.Hour},
		{"opening to closing", "2026-06-01 09:00", "2026-06-01 18:00", 9 * time.Hour},
		// Monday evening to Tuesday morning touches no window.
		{"overnight outside", "2026-06-01 19:00", "2026-06-02 08:00", 0},
		// Fri 17:00–18:00 (1h) + Sat, Sun closed + Mon 09:00–10:00 (1h).
		{"across the weekend", "2026-06-05 17:00", "2026-06-08 10:00", 2 * time.Hour},
		{"weekend only", "2026-06-06 09:00", "2026-06-07 18:00", 0},
		// Five days of 9h.
		{"a whole week", "2026-06-01 00:00", "2026-06-08 00:00", 45 * time.Hour},
		// Thu 17:00–18:00 (1h) + Fri 25 Dec holiday + weekend + Mon 09:00–10:00 (1h).
		{"across a holiday", "2026-12-24 17:00", "2026-12-28 10:00", 2 * time.Hour},
		{"inside a holiday", "2026-12-25 10:00", "2026-12-25 12:00", 0},
		// Mon 21 – Thu 24 Dec, four days of 9h; Friday is the holiday.
		{"holiday week", "2026-12-21 00:00", "2026-12-28 00:00", 36 * time.Hour},
		{"b before a", "2026-06-01 11:00", "2026-06-01 10:00", 0},
		{"b equals a", "2026-06-01 10:00", "2026-06-01 10:00", 0},
	}
	for _, zone := range []string{"America/Los_Angeles", "Asia/Shanghai"} {
		h := mustHours(t, officeHours(zone))
		loc := h.Location()
		for _, tt := range tests {
			t.Run(zone+"/"+tt.name, func(t *testing.T) {
				a, b := wall(t, loc, tt.a), wall(t, loc, tt.b)
				if got := h.Between(a, b); got != tt.want {
					t.Errorf("Between(%v, %v) = %v, want %v", a, b, got, tt.want)
				}
			})
		}
	}
}

func TestBusinessHoursBetween(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	utc := time.UTC
	tests := []struct {
		name string
		spec probe.HoursSpec
		a, b time.Time
		want time.Duration
	}{
		// One UTC interval, two zones: 2026-06-01 00:00Z–12:00Z is Mon 08:00–20:00 in
		// Shanghai (UTC+8), so 09:00–18:00 = 9h; in LA (UTC−7) it is Sun 17:00 – Mon 05:00,
		// entirely closed.
		{"same UTC interval in Shanghai", officeHours("Asia/Shanghai"),
			wall(t, utc, "2026-06-01 00:00"), wall(t, utc, "2026-06-01 12:00"), 9 * time.Hour},
		{"same UTC interval in LA", officeHours("America/Los_Angeles"),
			wall(t, utc, "2026-06-01 00:00"), wall(t, utc, "2026-06-01 12:00"), 0},
		// 16:00Z–01:00Z next day is Mon 09:00–18:00 PDT (9h), but Tue 00:00–09:00 in
		// Shanghai, ending at its opening instant (0).
		{"LA day in LA", officeHours("America/Los_Angeles"),
			wall(t, utc, "2026-06-01 16:00"), wall(t, utc, "2026-06-02 01:00"), 9 * time.Hour},
		{"LA day in Shanghai", officeHours("Asia/Shanghai"),
			wall(t, utc, "2026-06-01 16:00"), wall(t, utc, "2026-06-02 01:00"), 0},

		// "24:00" closes at midnight: Mon 23:00–24:00 (1h) + Tue 09:00–10:00 (1h).
		{"24:00 close across midnight", probe.HoursSpec{Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "24:00"},
			wall(t, la, "2026-06-01 23:00"), wall(t, la, "2026-06-02 10:00"), 2 * time.Hour},
		// Fri 20:00–24:00 (4h) + weekend + Mon 09:00–09:30.
		{"24:00 close across weekend", probe.HoursSpec{Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "24:00"},
			wall(t, la, "2026-06-05 20:00"), wall(t, la, "2026-06-08 09:30"), 4*time.Hour + 30*time.Minute},
		{"24:00 close whole day", probe.HoursSpec{Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "24:00"},
			wall(t, la, "2026-06-01 00:00"), wall(t, la, "2026-06-02 00:00"), 15 * time.Hour},

		// 24x7 (no Days): business time is calendar time, holidays ignored.
		// Fri 17:00 → Mon 10:00 = 3 × 24h − 7h = 65h.
		{"24x7 across weekend", probe.HoursSpec{Zone: "America/Los_Angeles"},
			wall(t, la, "2026-06-05 17:00"), wall(t, la, "2026-06-08 10:00"), 65 * time.Hour},
		// Thu 17:00 → Mon 10:00 = 4 × 24h − 7h = 89h; the listed holiday does not count.
		{"24x7 ignores holidays", probe.HoursSpec{Zone: "America/Los_Angeles", Holidays: []string{"2026-12-25"}},
			wall(t, la, "2026-12-24 17:00"), wall(t, la, "2026-12-28 10:00"), 89 * time.Hour},
		// Fall-back Sunday: midnight PDT (07:00Z) to midnight PST (08:00Z next day).
		{"24x7 fall-back day", probe.HoursSpec{Zone: "America/Los_Angeles"},
			instant(t, "2026-11-01 00:00 -0700"), instant(t, "2026-11-02 00:00 -0800"), 25 * time.Hour},
		{"24x7 b before a", probe.HoursSpec{Zone: "America/Los_Angeles"},
			wall(t, la, "2026-06-08 10:00"), wall(t, la, "2026-06-05 17:00"), 0},

		// Daylight saving with a seven-day week, so the change falls on a business day.
		// LA 2027-03-14 (Sun): 02:00 PST → 03:00 PDT, a 23-hour day.
		{"LA spring-forward day 00:00–24:00", probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "00:00", Close: "24:00"},
			instant(t, "2027-03-14 00:00 -0800"), instant(t, "2027-03-15 00:00 -0700"), 23 * time.Hour},
		// Sat 12:00–24:00 (12h) + Sun (23h) + Mon 00:00–12:00 (12h).
		{"LA spring-forward weekend 00:00–24:00", probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "00:00", Close: "24:00"},
			instant(t, "2027-03-13 12:00 -0800"), instant(t, "2027-03-15 12:00 -0700"), 47 * time.Hour},
		// LA 2026-11-01 (Sun): 02:00 PDT → 01:00 PST, a 25-hour day.
		{"LA fall-back day 00:00–24:00", probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "00:00", Close: "24:00"},
			instant(t, "2026-11-01 00:00 -0700"), instant(t, "2026-11-02 00:00 -0800"), 25 * time.Hour},
		// 01:00 PST (09:00Z) to 04:00 PDT (11:00Z): the skipped hour is not worked.
		{"LA spring-forward day 01:00–04:00", probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "01:00", Close: "04:00"},
			instant(t, "2027-03-14 00:00 -0800"), instant(t, "2027-03-15 00:00 -0700"), 2 * time.Hour},
		// 01:00 occurs twice; the window opens at the first (PDT, 08:00Z) and closes at
		// 04:00 PST (12:00Z): the repeated hour is worked twice.
		{"LA fall-back day 01:00–04:00", probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "01:00", Close: "04:00"},
			instant(t, "2026-11-01 00:00 -0700"), instant(t, "2026-11-02 00:00 -0800"), 4 * time.Hour},
		{"LA ordinary day 01:00–04:00", probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "01:00", Close: "04:00"},
			wall(t, la, "2026-06-01 00:00"), wall(t, la, "2026-06-02 00:00"), 3 * time.Hour},
		// Lord Howe shifts by 30 minutes at 02:00. 2026-10-04 (Sun): 02:00 +10:30 → 02:30 +11.
		{"Lord Howe spring-forward day 00:00–24:00", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "00:00", Close: "24:00"},
			instant(t, "2026-10-04 00:00 +1030"), instant(t, "2026-10-05 00:00 +1100"), 23*time.Hour + 30*time.Minute},
		// 2026-04-05 (Sun): 02:00 +11 → 01:30 +10:30.
		{"Lord Howe fall-back day 00:00–24:00", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "00:00", Close: "24:00"},
			instant(t, "2026-04-05 00:00 +1100"), instant(t, "2026-04-06 00:00 +1030"), 24*time.Hour + 30*time.Minute},
		// 01:00 +10:30 (Oct 3 14:30Z) to 04:00 +11 (17:00Z).
		{"Lord Howe spring-forward day 01:00–04:00", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "01:00", Close: "04:00"},
			instant(t, "2026-10-04 00:00 +1030"), instant(t, "2026-10-05 00:00 +1100"), 2*time.Hour + 30*time.Minute},
		// 01:00 +11 (Apr 4 14:00Z) to 04:00 +10:30 (17:30Z).
		{"Lord Howe fall-back day 01:00–04:00", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "01:00", Close: "04:00"},
			instant(t, "2026-04-05 00:00 +1100"), instant(t, "2026-04-06 00:00 +1030"), 3*time.Hour + 30*time.Minute},
		// Santiago springs forward at midnight: 2026-09-06 (Sun) 00:00 −04 → 01:00 −03, so
		// that day has no 00:00. Sat 12:00–18:00 (6h) + Sun 09:00–18:00 (9h) + Mon
		// 09:00–12:00 (3h).
		{"Santiago midnight spring-forward, seven days", probe.HoursSpec{Zone: "America/Santiago", Days: allWeek, Open: "09:00", Close: "18:00"},
			instant(t, "2026-09-05 12:00 -0400"), instant(t, "2026-09-07 12:00 -0300"), 18 * time.Hour},
		// Fri 17:00–18:00 (1h) + weekend + Mon 09:00–10:00 (1h).
		{"Santiago midnight spring-forward, weekdays", probe.HoursSpec{Zone: "America/Santiago", Days: weekdays, Open: "09:00", Close: "18:00"},
			instant(t, "2026-09-04 17:00 -0400"), instant(t, "2026-09-07 10:00 -0300"), 2 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHours(t, tt.spec)
			if got := h.Between(tt.a, tt.b); got != tt.want {
				t.Errorf("Between(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestBusinessHoursIsOpen(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	utc := time.UTC
	lateClose := probe.HoursSpec{Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "24:00"}
	tests := []struct {
		name string
		spec probe.HoursSpec
		t    time.Time
		want bool
	}{
		// The window is [open, close).
		{"at opening", officeHours("America/Los_Angeles"), wall(t, la, "2026-06-01 09:00"), true},
		{"just before opening", officeHours("America/Los_Angeles"), wall(t, la, "2026-06-01 08:59:59"), false},
		{"just before closing", officeHours("America/Los_Angeles"), wall(t, la, "2026-06-01 17:59:59"), true},
		{"at closing", officeHours("America/Los_Angeles"), wall(t, la, "2026-06-01 18:00"), false},
		{"3 a.m.", officeHours("America/Los_Angeles"), wall(t, la, "2026-06-02 03:00"), false},
		{"Saturday noon", officeHours("America/Los_Angeles"), wall(t, la, "2026-06-06 12:00"), false},
		{"holiday noon", officeHours("America/Los_Angeles"), wall(t, la, "2026-12-25 12:00"), false},
		{"day before holiday", officeHours("America/Los_Angeles"), wall(t, la, "2026-12-24 12:00"), true},
		// 16:00Z is Mon 09:00 PDT but Tue 00:00 CST.
		{"16:00Z in LA", officeHours("America/Los_Angeles"), wall(t, utc, "2026-06-01 16:00"), true},
		{"16:00Z in Shanghai", officeHours("Asia/Shanghai"), wall(t, utc, "2026-06-01 16:00"), false},
		// 01:00Z is Tue 09:00 CST.
		{"01:00Z in Shanghai", officeHours("Asia/Shanghai"), wall(t, utc, "2026-06-02 01:00"), true},
		{"24:00 close, last second", lateClose, wall(t, la, "2026-06-01 23:59:59"), true},
		{"24:00 close, midnight", lateClose, wall(t, la, "2026-06-02 00:00"), false},
		{"24:00 close, Friday night into Saturday", lateClose, wall(t, la, "2026-06-06 00:30"), false},
		{"24x7 Sunday 3 a.m.", probe.HoursSpec{Zone: "America/Los_Angeles"}, wall(t, la, "2026-06-07 03:00"), true},
		{"24x7 on a listed holiday", probe.HoursSpec{Zone: "America/Los_Angeles", Holidays: []string{"2026-12-25"}}, wall(t, la, "2026-12-25 03:00"), true},
		// Lord Howe 2026-10-04: 02:45 +11 is after the jump (15:45Z), inside 01:00–04:00.
		{"Lord Howe after the jump", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "01:00", Close: "04:00"},
			instant(t, "2026-10-04 02:45 +1100"), true},
		{"Lord Howe closing after the jump", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "01:00", Close: "04:00"},
			instant(t, "2026-10-04 04:00 +1100"), false},
		// Santiago 2026-09-06 (Sun) has no local midnight; it is still a Sunday, closed
		// for a Mon–Sat vendor, and Saturday stays open.
		{"Santiago Sunday without midnight", probe.HoursSpec{Zone: "America/Santiago", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat"}, Open: "09:00", Close: "18:00"},
			instant(t, "2026-09-06 10:00 -0300"), false},
		{"Santiago Saturday before", probe.HoursSpec{Zone: "America/Santiago", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat"}, Open: "09:00", Close: "18:00"},
			instant(t, "2026-09-05 10:00 -0400"), true},
		// A holiday on Saturday 5 Sep must not close Sunday 6 Sep.
		{"Santiago holiday is its own date", probe.HoursSpec{Zone: "America/Santiago", Days: allWeek, Open: "09:00", Close: "18:00", Holidays: []string{"2026-09-05"}},
			instant(t, "2026-09-06 10:00 -0300"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHours(t, tt.spec)
			if got := h.IsOpen(tt.t); got != tt.want {
				t.Errorf("IsOpen(%v) = %v, want %v", tt.t, got, tt.want)
			}
		})
	}
}

func TestBusinessHoursAdd(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	utc := time.UTC
	office := officeHours("America/Los_Angeles")
	early := probe.HoursSpec{Zone: "America/Los_Angeles", Days: allWeek, Open: "01:00", Close: "04:00"}
	lordHowe := probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: allWeek, Open: "01:00", Close: "04:00"}

	// Only Mondays are open, and every Monday for more than ten years is a holiday.
	mondaysOff := probe.HoursSpec{Zone: "America/Los_Angeles", Days: []string{"mon"}, Open: "09:00", Close: "18:00"}
	for d := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2038; d = d.AddDate(0, 0, 7) {
		mondaysOff.Holidays = append(mondaysOff.Holidays, d.Format(time.DateOnly))
	}

	tests := []struct {
		name string
		spec probe.HoursSpec
		a    time.Time
		d    time.Duration
		want time.Time
	}{
		// Fri 17:00–18:00 uses 1h, the second hour is Mon 09:00–10:00.
		{"across the weekend", office, wall(t, la, "2026-06-05 17:00"), 2 * time.Hour, wall(t, la, "2026-06-08 10:00")},
		// Exactly the rest of Friday: the answer is Friday's closing, not Monday's opening.
		{"ends at closing", office, wall(t, la, "2026-06-05 17:00"), time.Hour, wall(t, la, "2026-06-05 18:00")},
		{"one minute past closing", office, wall(t, la, "2026-06-05 17:00"), time.Hour + time.Minute, wall(t, la, "2026-06-08 09:01")},
		{"from a closed Saturday", office, wall(t, la, "2026-06-06 12:00"), 30 * time.Minute, wall(t, la, "2026-06-08 09:30")},
		{"from before opening", office, wall(t, la, "2026-06-01 07:00"), 9 * time.Hour, wall(t, la, "2026-06-01 18:00")},
		// Five days of 9h end Friday at closing.
		{"a whole week", office, wall(t, la, "2026-06-01 07:00"), 45 * time.Hour, wall(t, la, "2026-06-05 18:00")},
		// Thu 17:00–18:00 (1h), Fri 25 Dec holiday, Mon 09:00–10:00 (1h).
		{"across a holiday", office, wall(t, la, "2026-12-24 17:00"), 2 * time.Hour, wall(t, la, "2026-12-28 10:00")},
		{"zero", office, wall(t, la, "2026-06-06 12:00"), 0, wall(t, la, "2026-06-06 12:00")},
		{"negative", office, wall(t, la, "2026-06-06 12:00"), -time.Hour, wall(t, la, "2026-06-06 12:00")},
		// 00:00Z is Mon 08:00 CST; one business hour ends 10:00 CST = 02:00Z.
		{"Shanghai from a UTC instant", officeHours("Asia/Shanghai"), wall(t, utc, "2026-06-01 00:00"), time.Hour, wall(t, utc, "2026-06-01 02:00")},
		// Mon 23:00–24:00 (1h) + Tue 09:00–10:00 (1h).
		{"24:00 close", probe.HoursSpec{Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "24:00"},
			wall(t, la, "2026-06-01 23:00"), 2 * time.Hour, wall(t, la, "2026-06-02 10:00")},
		{"24x7", probe.HoursSpec{Zone: "America/Los_Angeles"}, wall(t, la, "2026-06-05 17:00"), 65 * time.Hour, wall(t, la, "2026-06-08 10:00")},
		// 24 hours after midnight PDT on the 25-hour day is 23:00 PST the same day.
		{"24x7 fall-back day", probe.HoursSpec{Zone: "America/Los_Angeles"},
			instant(t, "2026-11-01 00:00 -0700"), 24 * time.Hour, instant(t, "2026-11-01 23:00 -0800")},
		// Sat 03:00–04:00 PST (1h) + Sun 01:00 PST–04:00 PDT (2h, 02:00–03:00 skipped).
		{"spring-forward skips the missing hour", early, instant(t, "2027-03-13 03:00 -0800"), 3 * time.Hour, instant(t, "2027-03-14 04:00 -0700")},
		// One hour after 01:30 PST is 02:30 PST = 03:30 PDT.
		{"spring-forward inside the window", early, instant(t, "2027-03-14 01:30 -0800"), time.Hour, instant(t, "2027-03-14 03:30 -0700")},
		// Sat 03:00–04:00 PDT (1h) + Sun 01:00 PDT–04:00 PST (4h).
		{"fall-back counts the repeated hour", early, instant(t, "2026-10-31 03:00 -0700"), 5 * time.Hour, instant(t, "2026-11-01 04:00 -0800")},
		// 01:00 +10:30 to 04:00 +11 is 2h30m; one more minute is Monday 01:01.
		{"Lord Howe spring-forward", lordHowe, instant(t, "2026-10-04 01:00 +1030"), 2*time.Hour + 30*time.Minute, instant(t, "2026-10-04 04:00 +1100")},
		{"Lord Howe past the short window", lordHowe, instant(t, "2026-10-04 01:00 +1030"), 2*time.Hour + 31*time.Minute, instant(t, "2026-10-05 01:01 +1100")},
		// Sat 17:00–18:00 −04 (1h) + Sun 09:00–10:00 −03 (1h), across the midnight jump.
		{"Santiago midnight spring-forward", probe.HoursSpec{Zone: "America/Santiago", Days: allWeek, Open: "09:00", Close: "18:00"},
			instant(t, "2026-09-05 17:00 -0400"), 2 * time.Hour, instant(t, "2026-09-06 10:00 -0300")},
		{"gives up on a calendar of holidays", mondaysOff, wall(t, la, "2026-06-01 00:00"), time.Hour, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHours(t, tt.spec)
			if got := h.Add(tt.a, tt.d); !got.Equal(tt.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.a, tt.d, got, tt.want)
			}
		})
	}
}

// TestBusinessHoursAddInvertsBetween checks Between(a, Add(a, d)) == d on a grid of
// starts (every 7 hours over five weeks, spanning weekends, DST changes and a holiday).
func TestBusinessHoursAddInvertsBetween(t *testing.T) {
	specs := map[string]probe.HoursSpec{
		"LA office":         {Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "18:00", Holidays: []string{"2026-11-02"}},
		"LA early":          {Zone: "America/Los_Angeles", Days: allWeek, Open: "01:00", Close: "04:00"},
		"LA 24:00 close":    {Zone: "America/Los_Angeles", Days: []string{"sun", "sat"}, Open: "20:30", Close: "24:00"},
		"Lord Howe early":   {Zone: "Australia/Lord_Howe", Days: allWeek, Open: "01:00", Close: "04:00"},
		"Santiago office":   {Zone: "America/Santiago", Days: allWeek, Open: "09:00", Close: "18:00"},
		"Shanghai office":   officeHours("Asia/Shanghai"),
		"LA 24x7 (no days)": {Zone: "America/Los_Angeles"},
	}
	starts := map[string]time.Time{
		"LA office":         time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC),
		"LA early":          time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC),
		"LA 24:00 close":    time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC),
		"Lord Howe early":   time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC),
		"Santiago office":   time.Date(2026, 8, 20, 0, 0, 0, 0, time.UTC),
		"Shanghai office":   time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC),
		"LA 24x7 (no days)": time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC),
	}
	durations := []time.Duration{time.Minute, 90 * time.Minute, 5 * time.Hour, 23 * time.Hour, 50 * time.Hour}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			h := mustHours(t, spec)
			for a := starts[name]; a.Before(starts[name].AddDate(0, 0, 35)); a = a.Add(7 * time.Hour) {
				for _, d := range durations {
					b := h.Add(a, d)
					if got := h.Between(a, b); got != d {
						t.Errorf("Between(%v, Add(a, %v) = %v) = %v, want %v", a, d, b, got, d)
					}
				}
			}
		})
	}
}

func TestNewBusinessHoursErrors(t *testing.T) {
	tests := []struct {
		name string
		spec probe.HoursSpec
		want []string // substrings of the error: the field and the bad value
	}{
		{"unknown zone", probe.HoursSpec{Zone: "Mars/Olympus_Mons", Days: weekdays, Open: "09:00", Close: "18:00"}, []string{"zone", `"Mars/Olympus_Mons"`}},
		{"empty zone", probe.HoursSpec{Days: weekdays, Open: "09:00", Close: "18:00"}, []string{"zone", `""`}},
		{"unknown day", probe.HoursSpec{Zone: "UTC", Days: []string{"mon", "funday"}, Open: "09:00", Close: "18:00"}, []string{"days:", `"funday"`}},
		{"hours without days", probe.HoursSpec{Zone: "UTC", Open: "09:00", Close: "18:00"}, []string{"days:"}},
		{"open without leading zero", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "9:00", Close: "18:00"}, []string{"open:", `"9:00"`}},
		{"open missing", probe.HoursSpec{Zone: "UTC", Days: weekdays, Close: "18:00"}, []string{"open:", `""`}},
		{"open with a dash", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09-00", Close: "18:00"}, []string{"open:", `"09-00"`}},
		{"open minute 60", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:60", Close: "18:00"}, []string{"open:", `"09:60"`}},
		// A letter O for a zero: Sscanf would read "09:3" and ignore the rest.
		{"open with a letter", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:3O", Close: "18:00"}, []string{"open:", `"09:3O"`}},
		{"open with a sign", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "+9:00", Close: "18:00"}, []string{"open:", `"+9:00"`}},
		{"close hour 25", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:00", Close: "25:00"}, []string{"close:", `"25:00"`}},
		{"close past 24:00", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:00", Close: "24:30"}, []string{"close:", `"24:30"`}},
		{"close before open", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "18:00", Close: "09:00"}, []string{"close", `"09:00"`, `"18:00"`}},
		{"close equals open", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:00", Close: "09:00"}, []string{"close", `"09:00"`}},
		{"holiday that does not exist", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:00", Close: "18:00", Holidays: []string{"2026-02-30"}}, []string{"holidays:", `"2026-02-30"`}},
		{"holiday in another format", probe.HoursSpec{Zone: "UTC", Days: weekdays, Open: "09:00", Close: "18:00", Holidays: []string{"25/12/2026"}}, []string{"holidays:", `"25/12/2026"`}},
		// A 24x7 vendor ignores holidays, but a malformed one is still a configuration error.
		{"bad holiday on a 24x7 vendor", probe.HoursSpec{Zone: "UTC", Holidays: []string{"2026-13-01"}}, []string{"holidays:", `"2026-13-01"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := probe.NewBusinessHours(tt.spec)
			if err == nil {
				t.Fatalf("NewBusinessHours(%+v) = nil error, want one containing %q", tt.spec, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewBusinessHours(%+v) = %q, want it to contain %q", tt.spec, err, w)
				}
			}
		})
	}
}

func TestNewBusinessHoursValid(t *testing.T) {
	tests := []struct {
		name       string
		spec       probe.HoursSpec
		wantAlways bool
		wantDays   []time.Weekday
	}{
		{"weekdays", officeHours("Asia/Shanghai"), false,
			[]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}},
		{"day names ignore case and spaces", probe.HoursSpec{Zone: "UTC", Days: []string{" Mon ", "TUE", "sun"}, Open: "00:00", Close: "24:00"}, false,
			[]time.Weekday{time.Sunday, time.Monday, time.Tuesday}},
		{"24x7", probe.HoursSpec{Zone: "Australia/Lord_Howe"}, true,
			[]time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHours(t, tt.spec)
			if got := h.AlwaysOpen(); got != tt.wantAlways {
				t.Errorf("AlwaysOpen() = %v, want %v", got, tt.wantAlways)
			}
			if got := h.OpenDays(); !slices.Equal(got, tt.wantDays) {
				t.Errorf("OpenDays() = %v, want %v", got, tt.wantDays)
			}
			if got := h.Location().String(); got != tt.spec.Zone {
				t.Errorf("Location() = %v, want %v", got, tt.spec.Zone)
			}
			if got := h.Spec(); got.Zone != tt.spec.Zone || !slices.Equal(got.Days, tt.spec.Days) || got.Open != tt.spec.Open || got.Close != tt.spec.Close {
				t.Errorf("Spec() = %+v, want %+v", got, tt.spec)
			}
		})
	}
}

func TestMustBusinessHoursPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("MustBusinessHours(bad zone) did not panic")
		}
	}()
	probe.MustBusinessHours(probe.HoursSpec{Zone: "Nowhere/Nothing"})
}

func TestShortStarts(t *testing.T) {
	sh, la := mustLoc(t, "Asia/Shanghai"), mustLoc(t, "America/Los_Angeles")
	goldenWeek := probe.HoursSpec{Zone: "Asia/Shanghai", Days: weekdays, Open: "09:00", Close: "18:00",
		Holidays: []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"}}
	type span struct{ from, to string }
	tests := []struct {
		name          string
		spec          probe.HoursSpec
		loc           *time.Location
		from, to      string
		window, limit time.Duration
		want          []span
		least         []time.Duration
	}{
		{
			// The case: sent on 30 Sep from 10:00, or on 1 Oct up to 17:00, a
			// probe's 7 days hold at most 8h of business time.
			name: "golden week, 8h business in 7d", spec: goldenWeek, loc: sh,
			from: "2026-09-01 00:00", to: "2026-11-01 00:00", window: 7 * 24 * time.Hour, limit: 8 * time.Hour,
			want: []span{{"2026-09-30 10:00", "2026-10-01 17:00"}}, least: []time.Duration{0},
		},
		{
			name: "golden week, 10d deadline is enough", spec: goldenWeek, loc: sh,
			from: "2026-09-01 00:00", to: "2026-11-01 00:00", window: 10 * 24 * time.Hour, limit: 8 * time.Hour,
		},
		{
			// Every weekend: Friday from 10:00 to Saturday 17:00, twice in two weeks.
			name: "weekends, 8h business in 2d", spec: probe.HoursSpec{Zone: "Asia/Shanghai", Days: weekdays, Open: "09:00", Close: "18:00"}, loc: sh,
			from: "2026-11-02 00:00", to: "2026-11-16 00:00", window: 48 * time.Hour, limit: 8 * time.Hour,
			want:  []span{{"2026-11-06 10:00", "2026-11-07 17:00"}, {"2026-11-13 10:00", "2026-11-14 17:00"}},
			least: []time.Duration{0, 0},
		},
		{
			// The range cuts the span: it starts inside one and ends inside another.
			name: "clipped to the range", spec: probe.HoursSpec{Zone: "Asia/Shanghai", Days: weekdays, Open: "09:00", Close: "18:00"}, loc: sh,
			from: "2026-11-07 12:00", to: "2026-11-13 12:00", window: 48 * time.Hour, limit: 8 * time.Hour,
			want:  []span{{"2026-11-07 12:00", "2026-11-07 17:00"}, {"2026-11-13 10:00", "2026-11-13 12:00"}},
			least: []time.Duration{3 * time.Hour, 6 * time.Hour},
		},
		{
			name: "24x7, window within the limit", spec: probe.HoursSpec{Zone: "America/Los_Angeles"}, loc: la,
			from: "2026-11-01 00:00", to: "2026-11-08 00:00", window: 4 * time.Hour, limit: 8 * time.Hour,
			want: []span{{"2026-11-01 00:00", "2026-11-08 00:00"}}, least: []time.Duration{4 * time.Hour},
		},
		{
			name: "24x7, window longer than the limit", spec: probe.HoursSpec{Zone: "America/Los_Angeles"}, loc: la,
			from: "2026-11-01 00:00", to: "2026-11-08 00:00", window: 9 * time.Hour, limit: 8 * time.Hour,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHours(t, tt.spec)
			got := h.ShortStarts(wall(t, tt.loc, tt.from), wall(t, tt.loc, tt.to), tt.window, tt.limit)
			if len(got) != len(tt.want) {
				t.Fatalf("ShortStarts() = %d spans %v, want %v", len(got), got, tt.want)
			}
			for i, w := range tt.want {
				if !got[i].From.Equal(wall(t, tt.loc, w.from)) || !got[i].To.Equal(wall(t, tt.loc, w.to)) || got[i].Least != tt.least[i] {
					t.Errorf("span %d = %s to %s, least %s; want %s to %s, least %s", i,
						got[i].From.In(tt.loc).Format("2006-01-02 15:04"), got[i].To.In(tt.loc).Format("2006-01-02 15:04"), got[i].Least,
						w.from, w.to, tt.least[i])
				}
			}
		})
	}
}

// TestShortStartsAgainstBetween checks ShortStarts against Between itself, sampled every
// 7 minutes across a DST change, a holiday and weekends, for several deadlines: a start
// is in a span exactly when its window holds at most the limit, and the spans' Least is
// the least business time found.
func TestShortStartsAgainstBetween(t *testing.T) {
	la := mustLoc(t, "America/Los_Angeles")
	h := mustHours(t, probe.HoursSpec{Zone: "America/Los_Angeles", Days: weekdays, Open: "09:00", Close: "17:30",
		Holidays: []string{"2026-11-02", "2026-11-26", "2026-11-27"}})
	from, to := wall(t, la, "2026-10-28 00:03"), wall(t, la, "2026-11-30 00:00")
	for _, c := range []struct{ window, limit time.Duration }{
		{48 * time.Hour, 8 * time.Hour}, {72 * time.Hour, 4 * time.Hour}, {36*time.Hour + 30*time.Minute, 2 * time.Hour},
		{5 * 24 * time.Hour, 17 * time.Hour}, {24 * time.Hour, 0},
	} {
		spans := h.ShortStarts(from, to, c.window, c.limit)
		if len(spans) == 0 {
			t.Errorf("window %s, limit %s: no span; every case here has weekends or holidays that make some", c.window, c.limit)
		}
		in := func(x time.Time) (probe.StartSpan, bool) {
			for _, s := range spans {
				if !x.Before(s.From) && !x.After(s.To) {
					return s, true
				}
			}
			return probe.StartSpan{}, false
		}
		for x := from; !x.After(to); x = x.Add(7 * time.Minute) {
			got := h.Between(x, x.Add(c.window))
			s, ok := in(x)
			if ok != (got <= c.limit) {
				t.Fatalf("window %s, limit %s: start %s holds %s of business time, in a span = %v", c.window, c.limit, x.In(la), got, ok)
			}
			if ok && got < s.Least {
				t.Fatalf("window %s, limit %s: start %s holds %s, less than its span's Least %s", c.window, c.limit, x.In(la), got, s.Least)
			}
		}
		for i := 1; i < len(spans); i++ {
			if !spans[i].From.After(spans[i-1].To) {
				t.Errorf("window %s: spans %d and %d overlap or touch: %v, %v", c.window, i-1, i, spans[i-1], spans[i])
			}
		}
	}
}

// TestBusinessHoursAtDSTGapsAndRepeats pins the opening and closing instants on days
// whose opening or closing time the clocks skip or show twice (found by the oracle,
// oracle_test.go). A skipped time is reached when the clocks jump past it; a repeated
// one is its first occurrence, whatever time.Date happens to return for it.
func TestBusinessHoursAtDSTGapsAndRepeats(t *testing.T) {
	tests := []struct {
		name string
		spec probe.HoursSpec
		a, b string // wall times in the spec's zone; b may be ambiguous only if unused
		want time.Duration
		open string // an instant (RFC 3339) that must be inside business hours
	}{
		// Santiago goes from 00:00 to 01:00 on Sun 6 Sep 2026: a vendor open until
		// midnight on Saturday is open until the change (time.Date(24:00) gave 23:00).
		{"open until a skipped midnight", probe.HoursSpec{Zone: "America/Santiago", Days: []string{"sat"}, Open: "20:00", Close: "24:00"},
			"2026-09-05 12:00", "2026-09-06 12:00", 4 * time.Hour, "2026-09-05T23:53:07-04:00"},
		// A vendor opening at a skipped midnight opens when the day starts, at 01:00 -03:
		// the Saturday hour before the change is not Sunday's business time.
		{"opening at a skipped midnight", probe.HoursSpec{Zone: "America/Santiago", Days: []string{"sun"}, Open: "00:00", Close: "02:00"},
			"2026-09-05 12:00", "2026-09-06 12:00", time.Hour, "2026-09-06T01:30:00-03:00"},
		// Lord Howe goes from 02:00 to 02:30 on Sun 4 Oct 2026: opening at 02:15 means
		// opening at the change (time.Date(02:15) gave 02:45).
		{"opening in a 30-minute gap", probe.HoursSpec{Zone: "Australia/Lord_Howe", Days: []string{"sun"}, Open: "02:15", Close: "04:00"},
			"2026-10-03 12:00", "2026-10-04 12:00", 90 * time.Minute, "2026-10-04T02:31:00+11:00"},
		// New York shows 01:00–02:00 twice on Sun 1 Nov 2026: a vendor closing at 01:30
		// closes the first time, after 1h30.
		{"closing at a repeated time", probe.HoursSpec{Zone: "America/New_York", Days: []string{"sun"}, Open: "00:00", Close: "01:30"},
			"2026-10-31 12:00", "2026-11-01 12:00", 90 * time.Minute, "2026-11-01T01:10:00-04:00"},
		// Kolkata went from +06:30 back to +05:30 at midnight on 14 Oct 1945: 23:30
		// came first at +06:30 (time.Date gave the second, an hour later).
		{"closing at a repeated time, late evening", probe.HoursSpec{Zone: "Asia/Kolkata", Days: []string{"sun"}, Open: "18:45", Close: "23:30"},
			"1945-10-14 12:00", "1945-10-15 12:00", 4*time.Hour + 45*time.Minute, "1945-10-14T23:10:00+06:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.spec.Zone)
			h := probe.MustBusinessHours(tt.spec)
			if got := h.Between(wall(t, loc, tt.a), wall(t, loc, tt.b)); got != tt.want {
				t.Errorf("Between(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			at, err := time.Parse(time.RFC3339, tt.open)
			if err != nil {
				t.Fatal(err)
			}
			if !h.IsOpen(at) {
				t.Errorf("IsOpen(%s) = false, want true", tt.open)
			}
		})
	}
}
