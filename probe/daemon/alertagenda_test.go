package daemon

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/alert"
)

// TestAlertAgenda checks that the alert check that reads only the probes whose
// thresholds came (the agenda) finds what a check that reads the whole window finds,
// step after step over four days of a fake clock: the same events (raised at the same
// step or before), the same replies past the review wait, the same next instant to
// look. Probes cross their target and deadline, replies their review wait, probes leave
// the window, and a reply and a probe written midway make the next check read the
// window again. It also checks what it saves: one full read at the start and one after
// the write, and only a few probes read in between.
func TestAlertAgenda(t *testing.T) {
	now0 := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)
	now := now0
	free := int64(1 << 40)
	d, _ := alertsDaemon(t, &now, &free)

	var open probe.Probe
	for i := range 30 {
		// Seconds apart as well, so every probe's token differs.
		sent := now0.Add(-time.Duration(i)*97*time.Minute + time.Duration(i)*time.Second)
		var replies []probe.Reply
		reply := func(k probe.Kind, after time.Duration) {
			if at := sent.Add(after); !at.After(now0) {
				replies = append(replies, probe.Reply{Kind: k, ReceivedAt: at, Reason: "test"})
			}
		}
		state := probe.StateSent
		switch i % 6 {
		case 1:
			reply(probe.KindHuman, 30*time.Minute) // answered in time
		case 2:
			reply(probe.KindHuman, 3*time.Hour) // answered late: breached
		case 3:
			reply(probe.KindNeedsReview, 20*time.Minute) // waits for review
		case 4:
			reply(probe.KindBounce, time.Minute)
		case 5:
			state = probe.StateFailed
		}
		p := addProbe(t, d, state, sent, replies...)
		if i == 0 {
			open = p
		}
	}

	ids := func(evs []alert.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	waitIDs := func(ws []waitingItem) []string {
		var out []string
		for _, w := range ws {
			out = append(out, w.id)
		}
		slices.Sort(out)
		return out
	}
	var agenda alertAgenda
	seenInc, seenFull := map[string]bool{}, map[string]bool{}
	const step = 13 * time.Minute
	steps := int(4 * 24 * time.Hour / step)
	for k := range steps {
		now = now0.Add(time.Duration(k) * step)
		if k == steps/2 {
			// Writes: the first probe is answered, and a new probe goes out.
			if _, err := d.db.AddReply(probe.Reply{ProbeID: open.ID, MessageID: "late@acme.example", Kind: probe.KindHuman, ReceivedAt: now}, []byte("x")); err != nil {
				t.Fatal(err)
			}
			addProbe(t, d, probe.StateSent, now.Add(-30*time.Minute+7*time.Second))
		}
		evI, wI, nI, err := d.probeAlertsWith(&agenda, now)
		if err != nil {
			t.Fatalf("step %d: agenda check: %v", k, err)
		}
		evF, wF, nF, err := d.probeAlertsWith(&alertAgenda{}, now)
		if err != nil {
			t.Fatalf("step %d: full check: %v", k, err)
		}
		for _, id := range ids(evI) {
			seenInc[id] = true
		}
		for _, id := range ids(evF) {
			seenFull[id] = true
			if !seenInc[id] {
				t.Errorf("step %d (%s): the full check finds %s, the agenda check has not raised it", k, now.Format(time.DateTime), id)
			}
		}
		if got, want := waitIDs(wI), waitIDs(wF); !slices.Equal(got, want) {
			t.Errorf("step %d (%s): replies past the review wait %v, the full check finds %v", k, now.Format(time.DateTime), got, want)
		}
		if !nI.Equal(nF) {
			t.Errorf("step %d (%s): next look at %s, the full check says %s", k, now.Format(time.DateTime), nI, nF)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if got, want := slices.Sorted(maps.Keys(seenInc)), slices.Sorted(maps.Keys(seenFull)); !slices.Equal(got, want) {
		t.Errorf("events over the run:\n agenda %v\n full   %v", got, want)
	}
	for _, want := range []string{alert.OpenPastTarget + "/" + open.ID, alert.SLABreached + "/" + open.ID} {
		if !seenInc[want] {
			t.Errorf("no %s over the run; the probe's target and its late answer should raise it", want)
		}
	}
	if agenda.fullReads != 2 {
		t.Errorf("the agenda check read the whole window %d times, want 2 (at the start and after the write)", agenda.fullReads)
	}
	// Each probe has at most three instants (target, deadline, a review wait), read
	// again for each; without the agenda every step reads every probe.
	if most := 3 * 31; agenda.dueReads == 0 || agenda.dueReads > most {
		t.Errorf("the agenda check read %d probes one by one over %d steps, want between 1 and %d", agenda.dueReads, steps, most)
	}
	t.Log(fmt.Sprintf("%d steps: %d events, %d full reads, %d probes read as their thresholds came", steps, len(seenInc), agenda.fullReads, agenda.dueReads))
}
