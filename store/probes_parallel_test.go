package store

import (
	"fmt"
	"testing"
	"time"

	"supportprobe/probe"
)

// TestProbesLargeAnswer covers the parallel decoding of a large answer (see
// parallelDecodeMin): every probe comes back once, in order, with its own replies, and
// `go test -race` checks that the goroutines share the read transaction safely.
func TestProbesLargeAnswer(t *testing.T) {
	db := mustOpen(t)
	const n = 3*parallelDecodeMin + 7
	err := db.Bulk(func(b *Bulk) error {
		for i := range n {
			p, err := b.CreateProbe(probe.Probe{Vendor: []string{"acme", "lotus"}[i%2], State: probe.StateSent,
				CreatedAt: t0.Add(time.Duration(i) * time.Minute), Subject: fmt.Sprint("probe ", i)})
			if err != nil {
				return err
			}
			for j := range i % 3 {
				if _, err := b.AddReply(probe.Reply{ProbeID: p.ID, MessageID: fmt.Sprintf("r%d.%d@acme.example", i, j),
					Subject: fmt.Sprint("reply to ", i)}, EncodeRaw([]byte("raw"), 0)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Filter{{}, {Vendor: "acme"}, {Since: t0.Add(10 * time.Minute), Until: t0.Add(time.Duration(n-10) * time.Minute)}} {
		ps, err := db.Probes(f)
		if err != nil {
			t.Fatalf("Probes(%+v) = %v", f, err)
		}
		want := 0
		for i := range n {
			at := t0.Add(time.Duration(i) * time.Minute)
			if (f.Vendor != "" && f.Vendor != []string{"acme", "lotus"}[i%2]) || at.Before(f.Since) || (!f.Until.IsZero() && !at.Before(f.Until)) {
				continue
			}
			if want >= len(ps) {
				t.Fatalf("Probes(%+v) returned %d probes, want more", f, len(ps))
			}
			p := ps[want]
			if p.Subject != fmt.Sprint("probe ", i) || len(p.Replies) != i%3 {
				t.Fatalf("Probes(%+v)[%d] = %q with %d replies, want %q with %d", f, want, p.Subject, len(p.Replies), fmt.Sprint("probe ", i), i%3)
			}
			for _, r := range p.Replies {
				if r.Subject != fmt.Sprint("reply to ", i) {
					t.Fatalf("probe %q has reply %q", p.Subject, r.Subject)
				}
			}
			want++
		}
		if len(ps) != want {
			t.Errorf("Probes(%+v) returned %d probes, want %d", f, len(ps), want)
		}
	}
}
