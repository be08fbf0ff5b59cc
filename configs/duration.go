package configs

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// day is the unit "d" that durations in the file accept besides Go's: a vendor's deadline
// reads better as 7d than as 168h. A day is 24 hours; daylight-saving changes do not
// stretch it.
const day = 24 * time.Hour

// parseDuration parses a duration as time.ParseDuration does, plus a "d" unit of 24 hours
// that may be mixed with the others ("7d", "1d12h"). A negative duration is an error: no
// setting in the file means anything negative.
func parseDuration(s string) (time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("bad duration %q: %s (want a number and a unit: 30m, 24h, 7d, 1d12h)", s, why)
	}
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return 0, bad("empty")
	case strings.HasPrefix(t, "-"):
		if d, err := parseDuration(t[1:]); err == nil && d > 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
	case t == "0":
		return 0, nil
	}
	t = strings.TrimPrefix(t, "+")
	var total time.Duration
	for t != "" {
		// One term: a number, then its unit.
		i := 0
		for i < len(t) && (t[i] == '.' || t[i] >= '0' && t[i] <= '9') {
			i++
		}
		j := i
		for j < len(t) && !(t[j] == '.' || t[j] >= '0' && t[j] <= '9') {
			j++
		}
		num, unit := t[:i], t[i:j]
		if num == "" {
			return 0, bad(fmt.Sprintf("%q is not a number", t[:j]))
		}
		if unit == "" {
			return 0, bad(fmt.Sprintf("%q has no unit", num))
		}
		var d time.Duration
		if unit == "d" {
			days, err := time.ParseDuration(num + "h") // reuses Go's decimal handling
			if err != nil || days > math.MaxInt64/24 {
				return 0, bad("too large or malformed")
			}
			d = days * 24
		} else {
			var err error
			if d, err = time.ParseDuration(num + unit); err != nil {
				var why string
				if strings.Contains(err.Error(), "unknown unit") {
					why = fmt.Sprintf("unknown unit %q", strings.TrimSpace(unit))
				} else {
					why = "too large or malformed"
				}
				return 0, bad(why)
			}
		}
		if total > math.MaxInt64-d {
			return 0, bad("too large")
		}
		total += d
		t = t[j:]
	}
	return total, nil
}

// formatDuration writes d the way the file does, preferring days for whole days, so
// messages quote values in the user's terms ("7d", "1h", not "168h0m0s", "1h0m0s").
func formatDuration(d time.Duration) string {
	short := func(d time.Duration) string {
		s := d.String()
		s, _ = strings.CutSuffix(s, "m0s")
		if strings.HasSuffix(d.String(), "m0s") {
			s += "m"
		}
		if t, ok := strings.CutSuffix(s, "h0m"); ok {
			s = t + "h"
		}
		return s
	}
	switch {
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d > day:
		return fmt.Sprintf("%dd%s", d/day, short(d%day))
	}
	return short(d)
}
