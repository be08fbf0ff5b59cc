package store_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"supportprobe/store"
	"supportprobe/store/storetest"
)

// BenchmarkReadRecords reads 3,000 probes with their replies, in full and figures only,
// from two files written alike but for their records: as schema 9 wrote them (format
// version 1) and as schema 10 does (terms shared, replies against their probe), side by
// side in one run, so that the smaller records are seen not to cost the reads (the
// weekly report's path). Raw copies are gzip'd alone: they are not read here.
//
//	go test -run '^$' -bench ReadRecords -benchtime 30x ./store/
func BenchmarkReadRecords(b *testing.B) {
	const n = 3000
	dbs := map[string]*store.DB{}
	for _, name := range []string{"schema9", "schema10"} {
		db, err := store.Open(filepath.Join(b.TempDir(), name+".db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.Bolt().NoSync = true
		db.UseGzipRaw(true)
		restore := store.UseSchema9Format(name == "schema9", name == "schema9")
		g := storetest.NewGenerator(42, 20)
		at := time.Date(2026, 9, 7, 6, 0, 0, 0, time.UTC)
		for i := range n {
			at = at.Add(5 * time.Minute)
			if err := storetest.Write(db, g.Record("P"+strconv.Itoa(i+1), at)); err != nil {
				b.Fatal(err)
			}
		}
		restore()
		dbs[name] = db
	}
	// Each way of reading, both files one after the other.
	for _, figures := range []bool{false, true} {
		for _, name := range []string{"schema9", "schema10"} {
			db := dbs[name]
			mode := "full"
			if figures {
				mode = "figures"
			}
			b.Run(mode+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					ps, err := db.Probes(store.Filter{FiguresOnly: figures})
					if err != nil || len(ps) != n {
						b.Fatalf("Probes = %d, %v", len(ps), err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/probe")
			})
		}
	}
}
