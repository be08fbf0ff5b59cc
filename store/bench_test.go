package store_test

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"supportprobe/store"
	"supportprobe/store/storetest"
)

// The 1,000,000-probe database: 20 vendors over two years, so one vendor has about
// 50,000 probes and 30 days of one vendor about 2,050.
const (
	store1MProbes  = 1_000_000
	store1MVendors = 20
	store1MChunk   = 10_000 // probes per write transaction and per generator seed
	store1MSpan    = 730 * 24 * time.Hour
	// store1MVersion names the cached file's contents: change it whenever storetest's
	// generator or the store's write path changes what a fill produces, page packing
	// included (bytes/probe measures it).
	store1MVersion = "v4"
)

var store1MStart = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)

// storeSize is a benchmark file's size: probes written evenly over span.
type storeSize struct {
	name   string // of the cached file
	probes int
	span   time.Duration
}

var (
	size1M = storeSize{"store1m-" + store1MVersion, store1MProbes, store1MSpan}
	// size100k has 1M's density a vendor a day over a tenth of the span: one vendor's
	// 30 days are as many probes (about 2,050) in a file a tenth the size, which builds
	// in minutes rather than half an hour.
	size100k = storeSize{"store100k-" + store1MVersion, store1MProbes / 10, store1MSpan / 10}
)

// BenchmarkStore1M measures the store at 1,000,000 probes as the daemon writes them
// (storetest.Record: probe JSON with terms, Message-ID, token and subject; the gzip'd raw
// inquiry of 1–1.5 KB; for most probes an acknowledgement and an agent's reply with
// their raw copies, thread IDs and ticket keys; some unanswered, some failed).
//
// It reports vendor30d-ms, the time of Probes(Filter{Vendor, Since, Until}) for 30 days
// of one vendor with their replies (the query history and the per-vendor report run),
// warm, averaged over the iterations; vendor30d-figures-ms, the same query figures only
// (Filter.FiguresOnly, as reports read); bytes/probe, the file's size over the probes; and
// raw-bytes/probe, the pages the raw bucket (the raw copies, kept as evidence)
// occupies over the probes. The share of every bucket is logged.
//
// Building the file takes 10 to 30 minutes here (the raw copies are gzip'd one by one,
// as the store does; about 10 GB are written), so it is cached in the system temp dir
// as supportprobe-bench/store1m-<version>-schema<N>.db and reused while the fill's
// version and the schema version stay the same; delete it to rebuild. The fill writes 10,000
// probes per transaction through the functions CreateProbe and AddReply use inside
// theirs (Bulk, export_test.go), with bbolt's NoSync on: the records and indexes are
// the daemon's, only the transaction boundaries differ. Run it as
//
//	go test -run '^$' -bench Store1M -benchtime 1x ./store/
//
// (-benchtime 20x averages vendor30d-ms over 20 queries).
func BenchmarkStore1M(b *testing.B) { benchmarkStore(b, size1M) }

// BenchmarkStore100k is BenchmarkStore1M on a file of 100,000 probes (size100k): the
// same query, as many probes in its answer, a B-tree a tenth the size. Run it as
//
//	go test -run '^$' -bench Store100k -benchtime 20x ./store/
func BenchmarkStore100k(b *testing.B) { benchmarkStore(b, size100k) }

func benchmarkStore(b *testing.B, size storeSize) {
	path := storeFile(b, size)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	since := store1MStart.Add(size.span / 2)
	f := store.Filter{Vendor: "vendor01", Since: since, Until: since.AddDate(0, 0, 30)}
	start := time.Now()
	ps, err := db.Probes(f)
	if err != nil {
		b.Fatal(err)
	}
	replies := 0
	for _, p := range ps {
		replies += len(p.Replies)
	}
	b.Logf("first query after open: %d probes, %d replies in %s", len(ps), replies, time.Since(start).Round(time.Millisecond))
	if len(ps) < 1500 {
		b.Fatalf("Probes(%s, 30 days) = %d probes, want about 2,050: the cached file %s is not what this benchmark builds; delete it", f.Vendor, len(ps), path)
	}

	b.ResetTimer()
	for range b.N {
		if _, err := db.Probes(f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "vendor30d-ms")
	// The same query as a report of that vendor reads it (Filter.FiguresOnly).
	ff := f
	ff.FiguresOnly = true
	t0 := time.Now()
	for range b.N {
		if _, err := db.Probes(ff); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "vendor30d-figures-ms")
	b.ReportMetric(float64(st.Size())/float64(size.probes), "bytes/probe")

	stats, err := db.BucketStats()
	if err != nil {
		b.Fatal(err)
	}
	raw := stats["raw"]
	b.ReportMetric(float64(raw.BranchAlloc+raw.LeafAlloc)/float64(size.probes), "raw-bytes/probe")
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range stats {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		s := stats[n]
		alloc := s.BranchAlloc + s.LeafAlloc
		if alloc == 0 {
			continue
		}
		b.Logf("bucket %-16s %9d keys  %7.1f B/probe allocated, %5.1f%% in use", n, s.KeyN,
			float64(alloc)/float64(size.probes), 100*float64(s.BranchInuse+s.LeafInuse)/float64(alloc))
	}
}

// storeFile returns the cached file of size, building it first if needed.
func storeFile(b *testing.B, size storeSize) string {
	b.Helper()
	return storetest.CachedFile(b, size.name, func(path string) error { return fillStore(path, size) })
}

// encodedRecord is a record with its raw copies already compressed, so workers can
// compress while the writer writes.
type encodedRecord struct {
	rec       storetest.Record
	inquiry   []byte
	followups [][]byte
	replies   [][]byte
}

// fillStore writes size's probes into a new file at path. Chunks are made and
// compressed by GOMAXPROCS workers and written in ID order, one transaction each.
func fillStore(path string, size storeSize) error {
	db, err := store.Open(path, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	db.Bolt().NoSync = true
	defer db.Bolt().Sync()

	chunks := size.probes / store1MChunk
	results := make([]chan []encodedRecord, chunks)
	for i := range results {
		results[i] = make(chan []encodedRecord, 1)
	}
	ahead := make(chan struct{}, 2*runtime.GOMAXPROCS(0)) // bounds the chunks in memory
	next := make(chan int)
	go func() {
		for c := range chunks {
			ahead <- struct{}{}
			next <- c
		}
		close(next)
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range next {
				results[c] <- makeChunk(c, size)
			}
		})
	}
	defer wg.Wait()

	for c := range chunks {
		recs := <-results[c]
		<-ahead
		err := db.Bulk(func(bk *store.Bulk) error {
			for _, e := range recs {
				p, err := bk.CreateProbe(e.rec.Probe)
				if err != nil {
					return err
				}
				if p.ID != e.rec.Probe.ID {
					return fmt.Errorf("store assigned %s to the record made for %s", p.ID, e.rec.Probe.ID)
				}
				if e.inquiry != nil {
					if err := bk.PutInquiryRaw(p.ID, e.inquiry); err != nil {
						return err
					}
				}
				for i, f := range e.followups {
					if err := bk.PutInquiryRaw(p.ID+"/followup/"+strconv.Itoa(i), f); err != nil {
						return err
					}
				}
				for i, r := range e.rec.Replies {
					if _, err := bk.AddReply(r.Reply, e.replies[i]); err != nil {
						return err
					}
					if err := bk.AddThreadID(p.ID, r.Reply.MessageID); err != nil {
						return err
					}
					if r.Ticket != "" {
						if err := bk.AddTicketKey(p.Vendor, r.Ticket, p.ID); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			// Drain the workers so they can finish.
			go func() {
				for _, ch := range results[c+1:] {
					<-ch
					<-ahead
				}
			}()
			return fmt.Errorf("chunk %d: %w", c, err)
		}
	}
	return nil
}

// makeChunk makes chunk c's records, IDs P(c·chunk+1)…, created at even steps over the
// span with a little jitter, and compresses their raw copies.
func makeChunk(c int, size storeSize) []encodedRecord {
	g := storetest.NewGenerator(uint64(c)+1, store1MVendors)
	step := size.span / time.Duration(size.probes)
	out := make([]encodedRecord, store1MChunk)
	for i := range out {
		k := c*store1MChunk + i
		at := store1MStart.Add(time.Duration(k)*step + time.Duration(i*7919%int(step/time.Millisecond))*time.Millisecond/2)
		rec := g.Record("P"+strconv.Itoa(k+1), at)
		e := encodedRecord{rec: rec}
		if rec.Inquiry != nil {
			e.inquiry = store.EncodeRaw(rec.Inquiry, store.DefaultRawCap)
		}
		for _, f := range rec.Followups {
			e.followups = append(e.followups, store.EncodeRaw(f, store.DefaultRawCap))
		}
		for _, r := range rec.Replies {
			e.replies = append(e.replies, store.EncodeRaw(r.Raw, store.DefaultRawCap))
		}
		out[i] = e
	}
	return out
}
