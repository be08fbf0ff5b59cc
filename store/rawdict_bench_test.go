package store_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/store"
	"supportprobe/store/storetest"
)

// daemonWritesProbes is how many probes BenchmarkStoreDaemonWrites writes in each of its
// two files: enough for the first dictionary (trained at 200 copies, about 80 probes)
// to be a small part of the history, as it is in a store that runs for weeks.
const daemonWritesProbes = 4000

// BenchmarkStoreDaemonWrites measures the bytes per probe of the store as the daemon
// writes it (storetest.Write: one operation per transaction, the probe, its Message-ID,
// the raw inquiry, each reply with its raw copy, thread IDs and ticket keys), before and
// after raw copies were compressed with a trained dictionary, side by side in one run:
// the same 4,000 records (same generator seed) into new files, "before" writing each copy
// gzip'd alone into a raw bucket at bbolt's default fill (store.UseGzipRaw,
// UseDefaultRawFill), "fill50" compressing as now at the default fill (the effect of the
// fill alone), "after" as the store now writes, and "after, 16 KB pages" the same in a file made with
// Options.PageSize 16384 (for information: bbolt keeps at least two keys on the right of
// every split, so a 4 KB page of values near 1 KB stays about 60% full whatever its
// FillPercent). bbolt's NoSync is on during the fills: it changes the time, not the pages.
//
// It reports, per probe: bytes/probe (before-, fill50-, page16k-), the file's pages in use
// (bbolt's high-water mark, free pages inside included; the file itself grows in steps
// of several MB); raw-bytes/probe, the pages the raw bucket occupies; and
// raw-value-bytes/probe, the encoded copies themselves; and logs each bucket's share and
// fill. Each record waits for a dictionary training it started, as the daemon's writes,
// minutes apart, would. Run it as
//
//	go test -run '^$' -bench StoreDaemonWrites -benchtime 1x ./store/
func BenchmarkStoreDaemonWrites(b *testing.B) {
	for range b.N {
		before := daemonWritesFill(b, "before (gzip alone, raw bucket at default fill)", true, true, 0)
		fill50 := daemonWritesFill(b, "zstd with dictionary, raw bucket at default fill", false, true, 0)
		after := daemonWritesFill(b, "after (zstd with dictionary, raw bucket at appendFill)", false, false, 0)
		page16k := daemonWritesFill(b, "after, 16 KB pages", false, false, 16384)
		n := float64(daemonWritesProbes)
		for _, r := range []struct {
			prefix string
			res    daemonWritesResult
		}{{"before-", before}, {"fill50-", fill50}, {"", after}, {"page16k-", page16k}} {
			b.ReportMetric(float64(r.res.size)/n, r.prefix+"bytes/probe")
			b.ReportMetric(float64(r.res.rawAlloc)/n, r.prefix+"raw-bytes/probe")
			b.ReportMetric(float64(r.res.rawValues)/n, r.prefix+"raw-value-bytes/probe")
		}
	}
}

type daemonWritesResult struct {
	size, rawAlloc, rawValues int64
}

func daemonWritesFill(b *testing.B, name string, gzipAlone, defaultFill bool, pageSize int) daemonWritesResult {
	b.Helper()
	path := filepath.Join(b.TempDir(), "supportprobe.db")
	db, err := store.Open(path, store.Options{PageSize: pageSize})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Bolt().NoSync = true
	db.UseGzipRaw(gzipAlone)
	db.UseDefaultRawFill(defaultFill)
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
	err = db.Bolt().View(func(tx *bbolt.Tx) error {
		res.size = tx.Size()
		return tx.Bucket([]byte("raw")).ForEach(func(_, v []byte) error {
			res.rawValues += int64(len(v))
			return nil
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	stats, err := db.BucketStats()
	if err != nil {
		b.Fatal(err)
	}
	raw := stats["raw"]
	res.rawAlloc = int64(raw.BranchAlloc + raw.LeafAlloc)
	dicts, err := db.RawDicts()
	lastErr := db.RawTrainingErr()
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.Logf("%s: %d probes written one operation per transaction in %s; %d B in use (file %d B); raw bucket %d keys, %.0f B/probe of pages %.0f%% in use, %.0f B/probe of values; dictionaries %d (last training error: %v)",
		name, daemonWritesProbes, elapsed.Round(time.Millisecond), res.size, st.Size(), raw.KeyN,
		float64(res.rawAlloc)/daemonWritesProbes, 100*float64(raw.BranchInuse+raw.LeafInuse)/float64(max(res.rawAlloc, 1)),
		float64(res.rawValues)/daemonWritesProbes, len(dicts), lastErr)
	for _, d := range dicts {
		b.Logf("  dictionary %d: %d B, trained on %d copies, held-out ratio %.3f (previous %.3f)", d.ID, d.Size, d.Samples, d.HeldOut, d.Previous)
	}
	for _, bn := range []string{"probes", "replies", "raw", "idx_vendor_time", "probe_ids", "reply_ids", "seen", "idx_message_id", "idx_token", "idx_ticket", "raw_dicts"} {
		s, ok := stats[bn]
		if !ok {
			continue
		}
		alloc := s.BranchAlloc + s.LeafAlloc
		b.Logf("  bucket %-16s %7d keys %8.1f B/probe allocated, %5.1f%% in use", bn, s.KeyN,
			float64(alloc)/daemonWritesProbes, 100*float64(s.BranchInuse+s.LeafInuse)/float64(max(alloc, 1)))
	}
	return res
}
