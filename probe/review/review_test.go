package review

import (
	"errors"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

func TestItems(t *testing.T) {
	sent := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	terms := probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 72 * time.Hour, SLA: &probe.SLATarget{FirstResponse: time.Hour}}
	ps := []probe.Probe{
		{ID: "P1", Vendor: "acme", State: probe.StateSent, SentAt: sent, Terms: terms, Replies: []probe.Reply{
			{ID: "R2", Kind: probe.KindNeedsReview, ReceivedAt: sent.Add(2 * time.Hour), Confidence: 0.4, From: "a@acme.example", Reason: "short"},
			{ID: "R1", Kind: probe.KindNeedsReview, ReceivedAt: sent.Add(30 * time.Minute), Reason: "unsure"},
			{ID: "R3", Kind: probe.KindNeedsReview, ReceivedAt: sent.Add(3 * time.Hour), Override: &probe.Override{Kind: probe.KindOther}},
		}},
		{ID: "P2", Vendor: "beta", State: probe.StateSent, SentAt: sent, Terms: terms, Replies: []probe.Reply{
			{ID: "R4", Kind: probe.KindHuman, ReceivedAt: sent.Add(time.Hour)},
		}},
	}
	stored := map[string][]byte{"R1": []byte("From: a@acme.example\r\nSubject: Re: x\r\n\r\nWe are on it.\r\n\r\n> quoted inquiry\r\n")}
	raw := func(id string) ([]byte, bool, error) { b, ok := stored[id]; return b, ok, nil }
	now := sent.Add(4 * time.Hour)
	items, err := Items(ps, raw, now)
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first; the decided R3 and the human R4 are not listed.
	if len(items) != 2 || items[0].ReplyID != "R1" || items[1].ReplyID != "R2" {
		t.Fatalf("Items() = %+v, want R1 then R2", items)
	}
	if items[0].NewText == nil || *items[0].NewText != "We are on it." || items[1].NewText != nil {
		t.Errorf("new texts = %v, %v; want R1's own words, none for R2 (not stored)", items[0].NewText, items[1].NewText)
	}
	if items[0].Confidence != nil || items[1].Confidence == nil || *items[1].Confidence != 0.4 {
		t.Errorf("confidences = %v, %v; want null (not kept), 0.4", items[0].Confidence, items[1].Confidence)
	}
	// R1 at 30 min would meet the 1 h target; R2 at 2 h would breach it.
	if want := "as a person's answer: sent → answered in 30m00s, sla open_breached → met"; items[0].Effect != want {
		t.Errorf("R1 effect = %q, want %q", items[0].Effect, want)
	}
	if want := "as a person's answer: sent → answered in 2h00m, sla open_breached → breached"; items[1].Effect != want {
		t.Errorf("R2 effect = %q, want %q", items[1].Effect, want)
	}

	boom := errors.New("disk on fire")
	if _, err := Items(ps, func(string) ([]byte, bool, error) { return nil, false, boom }, now); !errors.Is(err, boom) || !strings.Contains(err.Error(), "reply R2: read the stored message") {
		t.Errorf("Items() with a failing store = %v, want it wrapped with the reply", err)
	}
	if items, err := Items(nil, raw, now); err != nil || items == nil || len(items) != 0 {
		t.Errorf("Items(nil) = %v, %v; want an empty list (JSON [])", items, err)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	for _, s := range []string{"needs_review", "Human", ""} {
		if _, err := ParseKind(s); err == nil || !strings.Contains(err.Error(), "want one of human, auto_ack, out_of_office, bounce, other") {
			t.Errorf("ParseKind(%q) = %v, want the list of kinds", s, err)
		}
	}
}
