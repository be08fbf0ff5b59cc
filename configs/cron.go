package configs

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// CronSpec returns spec pinned to loc in the form robfig/cron v3 understands:
// "CRON_TZ=<zone> <spec>". A nil loc means UTC, as in the time package. spec is the
// five-field spec as written in the file, which Parse has already checked holds no TZ=
// or CRON_TZ= prefix of its own.
func CronSpec(spec string, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return "CRON_TZ=" + loc.String() + " " + strings.TrimSpace(spec)
}

// cronReference is the instant from which a parsed spec must fire at least once. robfig/cron
// searches five years ahead, so a spec such as "0 0 30 2 *" never fires from any start.
var cronReference = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// checkCron checks a five-field cron spec to be evaluated in loc and returns what is
// wrong with it, in words that name the spec.
func checkCron(spec string, loc *time.Location) (err error) {
	s := strings.TrimSpace(spec)
	if s == "" {
		return fmt.Errorf("required: five fields (minute hour day-of-month month day-of-week), e.g. \"0 3 * * *\"")
	}
	if strings.Contains(strings.ToUpper(s), "TZ=") {
		return fmt.Errorf("%q names a time zone inside the spec; remove it and set the timezone: field instead", spec)
	}
	if fields := strings.Fields(s); len(fields) != 5 {
		return fmt.Errorf("%q has %d fields; want 5 (minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\")", spec, len(fields))
	}
	// robfig/cron v3.0.1 has panicked on malformed specs (robfig/cron#554); whatever the
	// spec, a configuration file must produce an error, never a crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("bad spec %q: %v", spec, r)
		}
	}()
	sched, err := cron.ParseStandard(CronSpec(s, loc))
	if err != nil {
		return fmt.Errorf("bad spec %q: %s", spec, cronFieldError(s, err))
	}
	if sched.Next(cronReference).IsZero() {
		return fmt.Errorf("%q never fires (no such date)", spec)
	}
	return nil
}

// cronFields names the five fields of a standard cron spec, in order.
var cronFields = [5]string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// cronFieldError says which field of a five-field spec robfig/cron rejected, which its own
// messages ("end of range (27) above maximum (23): 27") leave out.
func cronFieldError(spec string, err error) string {
	fields := strings.Fields(spec)
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, ferr := cron.ParseStandard(strings.Join(probe, " ")); ferr != nil {
			msg := strings.TrimSuffix(ferr.Error(), ": "+f)
			return fmt.Sprintf("%s field %q: %s", cronFields[i], f, msg)
		}
	}
	return err.Error()
}
