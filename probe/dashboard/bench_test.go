package dashboard

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"supportprobe/probe/view"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// benchNow ends the week the benchmark files hold; their probes are spread evenly over
// the 7 days before it, across 10 vendors.
var benchNow = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func benchFile(b *testing.B, n int) *store.DB {
	b.Helper()
	path := storetest.CachedFile(b, fmt.Sprintf("dashboard%d-v1", n), func(path string) error {
		db, err := store.Open(path, store.Options{})
		if err != nil {
			return err
		}
		defer db.Close()
		db.Bolt().NoSync = true
		defer db.Bolt().Sync()
		g := storetest.NewGenerator(15, 10)
		start := benchNow.Add(-7 * 24 * time.Hour)
		step := 7 * 24 * time.Hour / time.Duration(n)
		for k := range n {
			if err := storetest.Write(db, g.Record("P"+strconv.Itoa(k+1), start.Add(time.Duration(k)*step))); err != nil {
				return err
			}
		}
		return nil
	})
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkOverview serves the overview of the whole file (HTML and JSON) beside what
// `history --format json` does over the same probes (read, view.NewRecord each, encode).
// The HTML and JSON figures are cold builds: the kept figures are forgotten before
// each request, as after any write to the store (the process's first request, which
// also pays for mapping the file, is logged apart). "kept" is a request served from the
// figures kept by the one before (a reload, another tab, a poll after a write that
// another tab already fetched). cpu-ms/op is the process's CPU time (user and system,
// all threads, GC included) per request, which a loaded machine does not inflate the
// way it does the wall time.
func BenchmarkOverview(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("probes=%d", n), func(b *testing.B) { benchOverview(b, n) })
	}
}

// benchOverview builds (or reuses) the file of n probes only when its sub-benchmark
// runs, so -bench probes=10000 does not build the 100,000-probe file.
func benchOverview(b *testing.B, n int) {
	db := benchFile(b, n)
	h := New(db, Options{Now: func() time.Time { return benchNow }})
	serve := func(b *testing.B, target string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 {
			b.Fatalf("GET %s = %d: %s", target, rec.Code, rec.Body)
		}
	}
	// The process's first request also maps the file's pages and grows the heap from
	// nothing: logged, and kept out of the figures below, which are each a build from
	// a store already read once (as every build after a daemon's first).
	cpu, start := cpuTime(b), time.Now()
	serve(b, "/?period=7d")
	b.Logf("%d probes: the process's first overview took %s (%s of CPU)", n, time.Since(start).Round(time.Millisecond),
		(cpuTime(b) - cpu).Round(time.Millisecond))
	for _, target := range []string{"/?period=7d", "/?period=7d&format=json"} {
		b.Run(target, func(b *testing.B) {
			cpu := cpuTime(b)
			for b.Loop() {
				h.forgetOverviews()
				serve(b, target)
			}
			reportCPU(b, cpu)
		})
	}
	b.Run("kept", func(b *testing.B) {
		serve(b, "/?period=7d")
		builds, _ := h.overviewBuilds()
		cpu := cpuTime(b)
		for b.Loop() {
			serve(b, "/?period=7d")
		}
		reportCPU(b, cpu)
		if after, _ := h.overviewBuilds(); after != builds {
			b.Fatalf("kept: %d builds during the loop, want none", after-builds)
		}
	})
	b.Run("history-json", func(b *testing.B) {
		cpu := cpuTime(b)
		for b.Loop() {
			ps, err := db.Probes(store.Filter{Since: benchNow.Add(-7 * 24 * time.Hour), Until: benchNow})
			if err != nil {
				b.Fatal(err)
			}
			enc := json.NewEncoder(io.Discard)
			for _, p := range ps {
				r, err := view.NewRecord(p, benchNow)
				if err != nil {
					b.Fatal(err)
				}
				if err := enc.Encode(r); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportCPU(b, cpu)
	})
}

// forgetOverviews drops the kept overview figures, so the next request builds them.
func (h *Handler) forgetOverviews() {
	h.overviews.mu.Lock()
	defer h.overviews.mu.Unlock()
	clear(h.overviews.kept)
}

// cpuTime returns the process's CPU time so far (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time used since since per iteration, in milliseconds.
func reportCPU(b *testing.B, since time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-since)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
