// Package configs loads and validates supportprobe's configuration file, and holds the
// example configuration that `supportprobe init` writes (Example).
//
// # From file to domain values
//
// Load and Parse work in two steps. The YAML is first decoded strictly (yaml.v3 with
// KnownFields) into raw structs that mirror the file, so a misspelt key is an error with
// its line number rather than a silently ignored setting. The raw values are then
// validated into the domain's own types: probe.Script (templates tried once at load),
// probe.Vendor with its probe.BusinessHours, SLA targets, deadline, ticket-key pattern,
// probe.Schedule and probe.Limits, and this package's Mail and Summary. Nothing
// downstream sees an unchecked string.
//
// # Errors
//
// Every problem is reported, not just the first, each an *Error naming the source, the
// line, the path and the bad value, joined with errors.Join in file order:
//
//	supportprobe.yaml: line 10: mail.smtp: unknown key "pasword_file" (did you mean "password_file"?)
//	supportprobe.yaml: line 31: vendors[0] "acme-cloud": schedules[0].timezone: unknown time zone "America/LA" (…)
//
// The files under testdata/ each hold one mistake and, on their first line, the exact
// message it must produce; the tests keep those messages honest.
//
// # Rules worth knowing
//
//   - Secrets never live in the file: a server's password comes from password_file or
//     password_env (Secret); a literal password: key is an error. Config.SecretProblems
//     reports passwords that cannot be read yet, which `check` prints as warnings and
//     `run` refuses to start with.
//   - security: none is allowed only for loopback hosts; ports default from security.
//   - Time zones are their own fields. CronSpec builds the "CRON_TZ=<zone> <spec>" string
//     robfig/cron reads, and a TZ= or CRON_TZ= inside a spec is rejected (robfig/cron#554
//     panics on some of them). The tz database is embedded (time/tzdata), so zones resolve
//     in a bare container.
//   - Durations are Go durations plus a day unit: 30m, 24h, 7d, 1d12h.
//   - Vendor names and script ids are keys in the database and arguments on the command
//     line: a-z, 0-9, '.', '_' and '-'.
//   - mail.from must be a person's address: help desks drop or never acknowledge mail from
//     role addresses such as support@ or noreply@, which would read as "vendor never
//     answered".
package configs
