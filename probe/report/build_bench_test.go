package report_test

import (
	"syscall"
	"testing"
	"time"

	"supportprobe/probe/report"
	"supportprobe/probe/report/reporttest"
)

// BenchmarkBuild100k measures report.Build alone (no store, no rendering) over a
// synthetic week of 100,000 probes over 20 vendors compared with as many the week
// before, as the weekly summary builds it (reporttest.Week). Full is the whole report,
// Brief the overview's. Besides the time it reports cpu-ms, the CPU time the process
// used per report (every goroutine, the garbage collector's included), which says more
// than the time on a machine shared with other work.
func BenchmarkBuild100k(b *testing.B) {
	prevStart := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	since, until := prevStart.AddDate(0, 0, 7), prevStart.AddDate(0, 0, 14)
	prev := reporttest.Week(7, "Q", 100_000, 20, prevStart)
	cur := reporttest.Week(8, "P", 100_000, 20, since)
	for _, brief := range []bool{false, true} {
		name := "Full"
		if brief {
			name = "Brief"
		}
		b.Run(name, func(b *testing.B) {
			opts := report.Options{Since: since, Until: until, PrevSince: prevStart, Now: until.Add(6 * time.Hour), Brief: brief}
			cpu := cpuTime()
			for b.Loop() {
				if _, err := report.Build(cur, prev, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms")
		})
	}
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
