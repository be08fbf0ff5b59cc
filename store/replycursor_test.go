package store

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"supportprobe/probe"
)

// TestProbesRepliesInRanges reads probes of interleaved vendors, some with replies and
// some without, in ranges that skip probes (one vendor, a time window) and in full, and
// checks each against Probe(id), which seeks its replies alone: the forward-only reply
// cursor must neither miss a reply nor hand one to the wrong probe.
func TestProbesRepliesInRanges(t *testing.T) {
	db := mustOpen(t)
	vendors := []string{"acme", "lotus", "zeta"}
	n := 3 * parallelDecodeMin // enough for the parallel decode
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Minute)
		p := mustCreate(t, db, probe.Probe{Vendor: vendors[i%3], CreatedAt: at, State: probe.StateSent, SentAt: at})
		for j := range i % 4 { // 0 to 3 replies
			r := probe.Reply{ProbeID: p.ID, MessageID: fmt.Sprintf("<r%d.%d@x.example>", i, j), ReceivedAt: at.Add(time.Hour), Kind: probe.KindHuman}
			if _, err := db.AddReply(r, []byte("Subject: r\r\n\r\nr")); err != nil {
				t.Fatal(err)
			}
		}
	}
	filters := []Filter{
		{},
		{Vendor: "lotus"},
		{Since: t0.Add(100 * time.Minute), Until: t0.Add(1000 * time.Minute)},
		{Vendor: "zeta", Since: t0.Add(7 * time.Minute)},
	}
	for _, f := range filters {
		ps, err := db.Probes(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			t.Fatalf("Probes(%+v) is empty", f)
		}
		for _, p := range ps {
			one, err := db.Probe(p.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(p)
			want, _ := json.Marshal(one)
			if string(got) != string(want) {
				t.Fatalf("Probes(%+v): probe %s = %s, want %s", f, p.ID, got, want)
			}
		}
	}
}
