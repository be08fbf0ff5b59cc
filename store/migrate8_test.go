package store_test

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// TestMigration8 writes a realistic history the way the daemon does (storetest.Write:
// answered, acknowledged, unanswered, failed and unknown probes, follow-ups, thread IDs
// and ticket keys), adds the records people and later passes change (kinds decided by
// hand, replies waiting for review, DKIM checks), puts the file back in schema version
// 7's JSON, and migrates it: every probe and reply must decode to the same record, and
// every figure of the report over two weeks, compared with the week before, must be
// identical before and after.
func TestMigration8(t *testing.T) {
	path := filepath.Join(t.TempDir(), "supportprobe.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	g := storetest.NewGenerator(8, 6)
	const n = 300
	step := 21 * 24 * time.Hour / n
	for k := range n {
		if err := storetest.Write(db, g.Record("P"+strconv.Itoa(k+1), start.Add(time.Duration(k)*step))); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Probes(store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	decided := 0
	for i, p := range all {
		for _, r := range p.Replies {
			switch {
			case i%7 == 0 && r.Kind == probe.KindHuman:
				// A person's answer the classifier doubted: waits for review.
				if _, err := db.SetOverride(r.ID, probe.Override{Kind: probe.KindNeedsReview, By: "lin", Note: "unsure"}); err != nil {
					t.Fatal(err)
				}
			case i%11 == 0 && r.Kind == probe.KindAutoAck:
				if _, err := db.SetOverride(r.ID, probe.Override{Kind: probe.KindHuman, At: r.ReceivedAt.Add(time.Hour), By: "lin"}); err != nil {
					t.Fatal(err)
				}
				decided++
			case i%5 == 0:
				a := probe.Auth{CheckedAt: r.DetectedAt, Attempts: 1, VendorDomains: []string{"example.com"},
					Signatures: []probe.Signature{{Domain: "example.com", Selector: "s1", Result: "pass", Aligned: true}}}
				if _, err := db.SetReplyAuth(r.ID, a); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if decided == 0 {
		t.Fatal("the history has no acknowledgement to override; change the generator's seed")
	}

	now := start.Add(22 * 24 * time.Hour)
	since, until := start.Add(14*24*time.Hour), start.Add(21*24*time.Hour)
	figures := func(t *testing.T) (probes, rep string) {
		t.Helper()
		ps, err := db.Probes(store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := db.Probes(store.Filter{Since: since, Until: until})
		if err != nil {
			t.Fatal(err)
		}
		prev, err := db.Probes(store.Filter{Since: start.Add(7 * 24 * time.Hour), Until: since})
		if err != nil {
			t.Fatal(err)
		}
		r, err := report.Build(cur, prev, report.Options{Since: since, Until: until, PrevSince: start.Add(7 * 24 * time.Hour), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		pj, err := json.Marshal(ps)
		if err != nil {
			t.Fatal(err)
		}
		rj, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(pj), string(rj)
	}
	wantProbes, wantReport := figures(t)

	if err := db.RewriteAsJSON(); err != nil {
		t.Fatal(err)
	}
	// Readers accept JSON: the file as version 7 left it reads the same.
	jsonProbes, jsonReport := figures(t)
	if jsonProbes != wantProbes || jsonReport != wantReport {
		t.Fatal("the JSON records read back differently from the records they were made from")
	}
	countEncodings(t, db, map[byte]int{'{': 1}) // all JSON now
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open and migrate: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("bbolt check after migration: %v", err)
		}
		db.Close()
	})
	countEncodings(t, db, map[byte]int{0xB7: 1}) // all in the record encoding
	gotProbes, gotReport := figures(t)
	if gotProbes != wantProbes {
		t.Errorf("probes after migration 8 differ from before:\n%.2000s\nwant\n%.2000s", gotProbes, wantProbes)
	}
	if gotReport != wantReport {
		t.Errorf("report after migration 8 differs from before:\n%.2000s\nwant\n%.2000s", gotReport, wantReport)
	}
}

// countEncodings checks that every probe and reply record starts with one of the
// bytes in want (the first byte names the encoding) and that there are some.
func countEncodings(t *testing.T, db *store.DB, want map[byte]int) {
	t.Helper()
	n := 0
	err := db.Bolt().View(func(tx *bbolt.Tx) error {
		for _, name := range []string{"probes", "replies"} {
			if err := tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				n++
				if len(v) == 0 || want[v[0]] == 0 {
					t.Errorf("bucket %s key %x: record starts with %q, want one of %v", name, k, v[:min(len(v), 1)], want)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no probe or reply records")
	}
}
