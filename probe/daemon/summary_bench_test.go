package daemon

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"supportprobe/configs"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// The weekly-report database: 100,000 probes in the reported week and as many in the
// week before it (a steady 100,000 a week, so the comparison with the previous period
// reads as much again), over 20 vendors.
const (
	weeklyProbes  = 100_000 // per week
	weeklyVendors = 20
	// weeklyVersion names the cached file's contents: change it whenever storetest's
	// generator or the store's records change (not for how bbolt packs its pages, which
	// does not matter to this benchmark).
	weeklyVersion = "v2"
)

// weeklyStart is Monday of the week before the reported one, 2026-W47, in UTC.
var weeklyStart = time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)

// BenchmarkWeeklyReport measures the weekly summary's whole path over one week of
// 100,000 probes (and the 100,000 of the week before, which the report compares
// against): BuildReport reading both weeks from the store with every reply, then the
// mail's text, HTML and CSV (SummaryMail), as sendSummary does. It reports
// report-100k-ms, the time of that path with the file in the page cache, and cpu-ms,
// the CPU time the process used for it (every goroutine and the garbage collector's;
// on a machine shared with other work, the time alone says little); read-ms, reading
// both weeks as BuildReport does (store.Filter.FiguresOnly), beside full-read-ms, the
// same read decoding every field as before; and logs the share of each phase and the
// time of a first, cold read.
//
// The database is filled through the store's public API exactly as the daemon writes
// (storetest.Write: one operation per transaction; bbolt's NoSync on during the fill).
// That took 26 minutes here on a busy machine, so the file is cached in the system temp
// dir under supportprobe-bench/weekly100k-<version>-schema<N>.db and reused while the
// fill's version and the schema version stay the same; delete it to rebuild. Run it as
//
//	go test -run '^$' -bench WeeklyReport -benchtime 1x ./probe/daemon/
func BenchmarkWeeklyReport(b *testing.B) {
	path := weeklyFile(b)
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cfg := &configs.Config{Summary: &configs.Summary{To: []string{"lead@example.com"}, Location: time.UTC}}
	cfg.Mail.From.Address = "lin.wei@example.com"
	since, until := weeklyStart.AddDate(0, 0, 7), weeklyStart.AddDate(0, 0, 14)
	now := until.Add(6 * time.Hour)
	ctx := context.Background()

	// The first read after the file was written or evicted from the page cache goes to
	// the disk page by page (bbolt asks for no read-ahead); it is logged, not measured.
	t0 := time.Now()
	if _, err := db.Probes(store.Filter{Since: weeklyStart, Until: until}); err != nil {
		b.Fatal(err)
	}
	b.Logf("first read of both weeks (cold page cache, if the file was not read lately): %d ms", time.Since(t0).Milliseconds())

	var load, build, render, used time.Duration
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		t0 := time.Now()
		cur, err := db.Probes(store.Filter{Since: since, Until: until, FiguresOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		load += time.Since(t0)
		if len(cur) != weeklyProbes {
			b.Fatalf("the reported week holds %d probes, want %d: delete %s", len(cur), weeklyProbes, path)
		}
		c1 := cpuTime()
		t1 := time.Now()
		r, err := BuildReport(ctx, local{db}, "", since, until, now, "Week 2026-W48", nil)
		if err != nil {
			b.Fatal(err)
		}
		build += time.Since(t1)
		t2 := time.Now()
		m, err := SummaryMail(cfg, r, "2026-W48", now)
		if err != nil {
			b.Fatal(err)
		}
		render += time.Since(t2)
		if b.N == 1 {
			b.Logf("text %d KB, HTML %d KB, CSV %d KB", len(m.Text)>>10, len(m.HTML)>>10, len(m.Attachments[0].Data)>>10)
		}
		used += cpuTime() - c1
	}
	b.StopTimer()
	// Both weeks as the report reads them, and as they were read before figures-only
	// decoding (every field of every record), side by side in the same run.
	read := func(figuresOnly bool) float64 {
		t0 := time.Now()
		for _, f := range []store.Filter{{Since: weeklyStart, Until: since}, {Since: since, Until: until}} {
			f.FiguresOnly = figuresOnly
			if _, err := db.Probes(f); err != nil {
				b.Fatal(err)
			}
		}
		return float64(time.Since(t0).Microseconds()) / 1000
	}
	read(true)
	b.ReportMetric(read(false), "full-read-ms")
	b.ReportMetric(read(true), "read-ms")
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(build+render), "report-100k-ms")
	b.ReportMetric(ms(used), "cpu-ms")
	b.Logf("per report: BuildReport %.0f ms (of which reading one week from the store alone takes %.0f ms), text+HTML+CSV %.0f ms; CPU time %.0f ms (all loops %.0f ms)",
		ms(build), ms(load), ms(render), ms(used), ms(cpuTime()-cpu))
}

// weeklyFile returns the cached two-week file, building it first if needed.
func weeklyFile(b *testing.B) string {
	b.Helper()
	return storetest.CachedFile(b, "weekly100k-"+weeklyVersion, fillWeekly)
}

func fillWeekly(path string) error {
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	db.Bolt().NoSync = true
	defer db.Bolt().Sync()
	g := storetest.NewGenerator(48, weeklyVendors)
	step := 7 * 24 * time.Hour / weeklyProbes
	for k := range 2 * weeklyProbes {
		rec := g.Record("P"+strconv.Itoa(k+1), weeklyStart.Add(time.Duration(k)*step))
		if err := storetest.Write(db, rec); err != nil {
			return err
		}
	}
	return nil
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
