package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/store"
	"supportprobe/store/storetest"
)

// daemonWritesProbes is how many probes BenchmarkStoreDaemonWrites writes in each of its
// files: enough for the first dictionary (trained at 200 copies, about 80 probes)
// to be a small part of the history, as it is in a store that runs for weeks.
const daemonWritesProbes = 4000

// BenchmarkStoreDaemonWrites measures the bytes per probe of the store as the daemon
// writes it (storetest.Write: one operation per transaction, the probe, its Message-ID,
// the raw inquiry, each reply with its raw copy, thread IDs and ticket keys), side by
// side in one run: the same 4,000 records (same generator seed) into new files written
// as stages of issue 16 left the store:
//
//   - "before-": each copy gzip'd alone, in the one raw bucket keyed by name
//     ("reply/R40") at bbolt's default fill, 4 KB pages, index keys of schema 9;
//   - "schema9-": as schema 9 wrote a new file: raw copies zstd with a trained
//     dictionary, in a bucket per kind keyed by number, in chunks of 16 KB, replies and
//     follow-ups compressed against their probe's inquiry (format 3), 16 KB pages
//     (DefaultPageSize), index keys and probe records of schema 9;
//   - "keys10-": and the index keys of schema 10 (keys.go: Message-ID indexes keyed by
//     a 13-byte hash, id indexes by number);
//   - no prefix: as the store now writes: and the records of schema 10 (codec.go:
//     probes share their terms, replies are written against their probe).
//
// The stages between "before-" and "schema9-" (zstd in the one raw bucket, buckets per
// kind without format 3, 4 KB pages) were measured by earlier runs (README
// "Benchmarks"), and left out so that the fills fit the timeout on a loaded 2-core
// machine. bbolt's NoSync is on during the fills: it changes the time, not the pages.
//
// It reports, per probe: bytes/probe, the file's pages in use (bbolt's high-water
// mark, free pages inside included; the file itself grows in steps of several MB);
// raw-bytes/probe, the pages the raw copies' buckets occupy; and raw-value-bytes/probe,
// the values bbolt holds for them (the encoded copies, or the chunks of copies with
// their few bytes of framing); and logs each bucket's pages, share and fill, and the
// free pages. Each record waits for a dictionary training it started, as the daemon's
// writes, minutes apart, would. Run it as
//
//	go test -run '^$' -bench StoreDaemonWrites -benchtime 1x -timeout 1700s -v ./store/
func BenchmarkStoreDaemonWrites(b *testing.B) {
	for range b.N {
		n := float64(daemonWritesProbes)
		for _, v := range []daemonWritesVariant{
			{prefix: "before-", name: "before: gzip alone, one raw bucket at fill 0.5, 4 KB pages", gzip: true, defaultFill: true, legacyKeys: true, noRef: true, pageSize: 4096, schema9Keys: true, schema9Records: true},
			{prefix: "schema9-", name: "schema 9 in 16 KB pages, as it wrote a new file", schema9Keys: true, schema9Records: true},
			{prefix: "keys10-", name: "and the index keys of schema 10", schema9Records: true},
			{prefix: "", name: "as the store now writes: and the records of schema 10 (terms shared, replies against their probe)"},
		} {
			res := daemonWritesFill(b, v)
			b.ReportMetric(float64(res.size)/n, v.prefix+"bytes/probe")
			b.ReportMetric(float64(res.rawAlloc)/n, v.prefix+"raw-bytes/probe")
			b.ReportMetric(float64(res.rawValues)/n, v.prefix+"raw-value-bytes/probe")
		}
	}
}

// daemonWritesVariant is one way of writing the store that BenchmarkStoreDaemonWrites
// compares.
type daemonWritesVariant struct {
	prefix, name                         string
	gzip, defaultFill, legacyKeys, noRef bool
	pageSize                             int
	// schema9Keys writes the index keys as schema 9 did (Message-IDs and ids as text);
	// schema9Records, the probe records (terms inline).
	schema9Keys, schema9Records bool
}

type daemonWritesResult struct {
	size, rawAlloc, rawValues int64
}

// rawBuckets are the buckets that hold raw copies, of every schema version.
var rawBuckets = []string{"raw", "raw_inquiries", "raw_followups", "raw_replies", "raw_unmatched"}

func daemonWritesFill(b *testing.B, v daemonWritesVariant) daemonWritesResult {
	b.Helper()
	path := filepath.Join(b.TempDir(), "supportprobe.db")
	db, err := store.Open(path, store.Options{PageSize: v.pageSize})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Bolt().NoSync = true
	db.UseGzipRaw(v.gzip)
	db.UseDefaultRawFill(v.defaultFill)
	db.UseLegacyRawKeys(v.legacyKeys)
	db.UseRawRefs(!v.noRef)
	defer store.UseSchema9Format(v.schema9Keys, v.schema9Records)()
	g := storetest.NewGenerator(42, 20)
	at := time.Date(2026, 9, 7, 6, 0, 0, 0, time.UTC)
	start := time.Now()
	for i := range daemonWritesProbes {
		at = at.Add(time.Duration(200+i*7919%400) * time.Second)
		if err := storetest.Write(db, g.Record("P"+strconv.Itoa(i+1), at)); err != nil {
			b.Fatal(err)
		}
		// The daemon writes a probe every few minutes: a training (seconds) is over
		// before the next one, so the fill waits for it too, and which copies were
		// written before the first dictionary does not depend on the machine's load.
		db.WaitRawTraining()
	}
	db.WaitRawTraining()
	if err := db.Bolt().Sync(); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)

	var res daemonWritesResult
	err = db.Bolt().View(func(tx *bbolt.Tx) error { res.size = tx.Size(); return nil })
	if err != nil {
		b.Fatal(err)
	}
	formats, stored, err := db.RawCopyStats()
	if err != nil {
		b.Fatal(err)
	}
	res.rawValues = stored
	stats, err := db.BucketStats()
	if err != nil {
		b.Fatal(err)
	}
	var rawInuse, rawKeys int
	for _, name := range rawBuckets {
		s := stats[name]
		res.rawAlloc += int64(s.BranchAlloc + s.LeafAlloc)
		rawInuse += s.BranchInuse + s.LeafInuse
	}
	for _, n := range formats {
		rawKeys += n
	}
	dicts, err := db.RawDicts()
	lastErr := db.RawTrainingErr()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	bs := db.Bolt().Stats()
	pageSize := db.Bolt().Info().PageSize
	b.Logf("%s: %d probes written one operation per transaction in %s; %d B in use (file %d B, %d B pages, %d free and %d pending pages); raw copies %d (by format %v), %.0f B/probe of pages %.0f%% in use, %.0f B/probe of values; dictionaries %d (last training error: %v)",
		v.name, daemonWritesProbes, elapsed.Round(time.Millisecond), res.size, st.Size(), pageSize, bs.FreePageN, bs.PendingPageN, rawKeys, formats,
		float64(res.rawAlloc)/daemonWritesProbes, 100*float64(rawInuse)/float64(max(res.rawAlloc, 1)),
		float64(res.rawValues)/daemonWritesProbes, len(dicts), lastErr)
	for _, d := range dicts {
		b.Logf("  dictionary %d: %d B, trained on %d copies, held-out ratio %.3f (previous %.3f)", d.ID, d.Size, d.Samples, d.HeldOut, d.Previous)
	}
	var names []string
	for name := range stats {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, bn := range names {
		s := stats[bn]
		alloc := s.BranchAlloc + s.LeafAlloc
		if alloc == 0 {
			continue
		}
		b.Logf("  bucket %-16s %7d keys %8.1f B/probe allocated, %5.1f%% in use (leaves %5d pages, %4d overflow, %5.1f%% in use; branches %6.1f B/probe)", bn, s.KeyN,
			float64(alloc)/daemonWritesProbes, 100*float64(s.BranchInuse+s.LeafInuse)/float64(max(alloc, 1)),
			s.LeafPageN, s.LeafOverflowN, 100*float64(s.LeafInuse)/float64(max(s.LeafAlloc, 1)), float64(s.BranchAlloc)/daemonWritesProbes)
	}
	return res
}
