package daemon

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
)

// TestProbeWindow checks the alert check's kept probes: while no record is written
// they are reused (the same decoded probes) and trimmed as the window moves, giving
// exactly what the store gives; a write makes the next call read again and see it.
func TestProbeWindow(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "supportprobe.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Hour)
		if _, err := db.CreateProbe(probe.Probe{Vendor: "acme", CreatedAt: at, State: probe.StateSent, SentAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(ps []probe.Probe) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID+"/"+string(rune('0'+len(p.Replies))))
		}
		return out
	}
	check := func(w *probeWindow, since time.Time) []probe.Probe {
		t.Helper()
		got, err := w.probes(db, since)
		if err != nil {
			t.Fatal(err)
		}
		want, err := db.Probes(store.Filter{Since: since})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("probes since %s = %v, want %v", since.Format(time.TimeOnly), ids(got), ids(want))
		}
		return got
	}

	var w probeWindow
	first := check(&w, t0.Add(2*time.Hour))
	// No write: the same probes, trimmed, whether the window moves to a probe's exact
	// creation time or between two.
	for _, since := range []time.Time{t0.Add(2 * time.Hour), t0.Add(3 * time.Hour), t0.Add(4*time.Hour + time.Minute)} {
		got := check(&w, since)
		if &got[len(got)-1] != &first[len(first)-1] {
			t.Fatalf("since %s: the probes were read again, though nothing was written", since.Format(time.TimeOnly))
		}
	}
	// A reply written: read again, and the reply is there.
	last := first[len(first)-1]
	if _, err := db.AddReply(probe.Reply{ProbeID: last.ID, MessageID: "<r@acme.example>", ReceivedAt: last.SentAt.Add(time.Hour), Kind: probe.KindHuman}, []byte("Subject: r\r\n\r\nr")); err != nil {
		t.Fatal(err)
	}
	got := check(&w, t0.Add(4*time.Hour+time.Minute))
	if len(got[len(got)-1].Replies) != 1 {
		t.Fatalf("probe %s has %d replies after a reply was recorded, want 1", last.ID, len(got[len(got)-1].Replies))
	}
	// A window that moves back (a longer deadline after a reload) reads again.
	check(&w, t0)
}
