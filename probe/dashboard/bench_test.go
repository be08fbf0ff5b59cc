package dashboard

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
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
func BenchmarkOverview(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("probes=%d", n), func(b *testing.B) { benchOverview(b, n) })
	}
}

// benchOverview builds (or reuses) the file of n probes only when its sub-benchmark
// runs, so -bench probes=10000 does not build the 100,000-probe file.
func benchOverview(b *testing.B, n int) {
	{
		db := benchFile(b, n)
		h := New(db, Options{Now: func() time.Time { return benchNow }})
		for _, target := range []string{"/?period=7d", "/?period=7d&format=json"} {
			b.Run(target, func(b *testing.B) {
				for b.Loop() {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
					if rec.Code != 200 {
						b.Fatalf("GET %s = %d: %s", target, rec.Code, rec.Body)
					}
				}
			})
		}
		b.Run("history-json", func(b *testing.B) {
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
		})
	}
}
