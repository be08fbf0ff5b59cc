package view_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/view"
)

func TestFollowupsInRecordAndThread(t *testing.T) {
	sent := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	p := probe.Probe{ID: "P1", Vendor: "acme", State: probe.StateSent, SentAt: sent, MessageID: "m@example.com",
		Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 24 * time.Hour},
		Replies: []probe.Reply{
			{ID: "R1", Kind: probe.KindAutoAck, ReceivedAt: sent.Add(time.Minute)},
			{ID: "R2", Kind: probe.KindHuman, ReceivedAt: sent.Add(5 * time.Hour)},
		},
		Followups: []probe.Followup{{Index: 1, Kind: probe.FollowupReminder, State: probe.StateSent,
			SentAt: sent.Add(4 * time.Hour), MessageID: "f@example.com"}},
	}
	r, err := view.NewRecord(p, sent.Add(6*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := view.WriteJSON(&buf, []view.Record{r}); err != nil {
		t.Fatal(err)
	}
	var got []struct {
		NeededReminder bool `json:"needed_reminder"`
		Followups      []struct {
			Kind    string   `json:"kind"`
			SentAt  string   `json:"sent_at"`
			ID      string   `json:"message_id"`
			NextAt  string   `json:"next_response_at"`
			NextSec *float64 `json:"next_response_latency_seconds"`
		} `json:"followups"`
		ResponseLatencySeconds float64 `json:"response_latency_seconds"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	f := got[0].Followups
	if !got[0].NeededReminder || len(f) != 1 || f[0].Kind != "reminder" || f[0].ID != "f@example.com" ||
		f[0].NextSec == nil || *f[0].NextSec != 3600 || got[0].ResponseLatencySeconds != 5*3600 {
		t.Errorf("history JSON = %s", buf.String())
	}
	buf.Reset()
	if err := view.WriteThread(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	order := []string{"inquiry  sent", "R1  auto_ack", "follow-up  reminder  sent", "R2  human"}
	last := -1
	for _, s := range order {
		i := strings.Index(out, s)
		if i < 0 || i < last {
			t.Fatalf("WriteThread() lacks %q in time order:\n%s", s, out)
		}
		last = i
	}
	if !strings.Contains(out, "Next response: 2026-11-28T08:00:00Z (1h00m)") {
		t.Errorf("WriteThread() lacks the next response:\n%s", out)
	}
}

// TestWriteCorrections: the "Corrections by hand" section says, for each correction, who
// made it and when, which way a reply moved, what moved or stayed, and any override; a
// probe without corrections says so.
func TestWriteCorrections(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	cs := []probe.Correction{
		{ID: "A1", Action: probe.CorrectionLink, At: at, By: "lin", Note: "answers P2's question", MessageID: "a@acme.example",
			Reply: "R9", WasID: "R4", FromProbe: "P1", ToProbe: "P2", MovedThreadIDs: []string{"<a@acme.example>", "<root@acme.example>"},
			TicketVendor: "acme", MovedTicketKeys: []string{"4711"}, Kept: []string{"message ID <x@acme.example>: in the thread of probe P7, which this link does not change"}},
		{ID: "A2", Action: probe.CorrectionMark, At: at.Add(time.Hour), Reply: "R2", FromProbe: "P1", ToProbe: "P1", KindBefore: probe.KindAutoAck, KindAfter: probe.KindHuman},
		{ID: "A3", Action: probe.CorrectionLink, At: at.Add(2 * time.Hour), By: "kai", Reply: "R10", WasID: "U3", ToProbe: "P1",
			AddedThreadIDs: []string{"<u@acme.example>"}, Forced: "arrived 3h0m0s before probe P1 was sent"},
	}
	var b strings.Builder
	view.WriteCorrections(&b, "P1", cs)
	out := b.String()
	for _, want := range []string{
		"Corrections by hand (3), oldest first:",
		"2026-11-30T09:15:00Z  A1  by lin: moved away to probe P2: reply R4 of probe P1, now reply R9 of probe P2",
		"Message-ID: <a@acme.example>", "Note: answers P2's question",
		"Thread IDs moved from P1: <a@acme.example>, <root@acme.example>",
		"Ticket keys of acme moved from P1: 4711",
		"Left in place: message ID <x@acme.example>: in the thread of probe P7",
		"A2  by someone (not recorded): marked R2 human (was auto_ack)",
		"A3  by kai: linked here: unmatched mail U3, now reply R10 of probe P1",
		"Thread IDs added: <u@acme.example>",
		"FORCED: arrived 3h0m0s before probe P1 was sent",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	view.WriteCorrections(&b, "P1", nil)
	if got := strings.TrimSpace(b.String()); got != "Corrections by hand: none" {
		t.Errorf("no corrections: %q", got)
	}
}

// TestSentAtInferred checks that a probe promoted by a reply says so: sent_at_inferred in
// history's JSON, false for a probe whose 250 was recorded, and "inferred" in show.
func TestSentAtInferred(t *testing.T) {
	dataEnd := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	terms := probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 24 * time.Hour}
	reply := probe.Reply{ID: "R1", ProbeID: "P1", Kind: probe.KindHuman, ReceivedAt: dataEnd.Add(10 * time.Minute), MatchedBy: probe.RungMessageID}
	promoted := probe.Probe{ID: "P1", Vendor: "acme", State: probe.StateUnknown, MessageID: "m@example.com",
		Stage: probe.StageDataEnd, DataEndAt: dataEnd, Terms: terms}
	if !promoted.Promote(reply) {
		t.Fatal("Promote() = false, want true")
	}
	promoted.Replies = []probe.Reply{reply}
	plain := probe.Probe{ID: "P2", Vendor: "acme", State: probe.StateSent, SentAt: dataEnd, MessageID: "n@example.com", Terms: terms}
	rs, err := view.Records([]probe.Probe{promoted, plain}, dataEnd.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := view.WriteJSON(&buf, rs); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got[0]["sent_at_inferred"] != true || got[0]["sent_at"] != "2026-11-28T03:00:00Z" || got[0]["response_latency_seconds"] != 600.0 {
		t.Errorf("promoted probe: sent_at_inferred %v, sent_at %v, response latency %v; want true, the data end, 600",
			got[0]["sent_at_inferred"], got[0]["sent_at"], got[0]["response_latency_seconds"])
	}
	if v, ok := got[1]["sent_at_inferred"]; !ok || v != false {
		t.Errorf("probe with a recorded 250: sent_at_inferred = %v (present %v), want false", v, ok)
	}
	buf.Reset()
	if err := view.WriteThread(&buf, rs[0]); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "2026-11-28T03:00:00Z (Sat 28 Nov 03:00 UTC), inferred: the last moment known before the end of DATA") ||
		!strings.Contains(out, "(sent_at inferred)") || !strings.Contains(out, "proves the inquiry went out") {
		t.Errorf("WriteThread() does not say sent_at is inferred:\n%s", out)
	}
}
