package probe_test

import (
	"encoding/json"
	"net/mail"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

func mustFollowup(t *testing.T, kind probe.FollowupKind, after time.Duration) probe.FollowupSpec {
	t.Helper()
	f, err := probe.NewFollowupSpec(kind, after, "That did not help, {{.Vendor}}.", nil)
	if err != nil {
		t.Fatalf("NewFollowupSpec() = %v", err)
	}
	return f
}

func TestFollowupDue(t *testing.T) {
	sent := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	base := probe.Probe{ID: "P1", Token: "ABC123", State: probe.StateSent, SentAt: sent,
		Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 24 * time.Hour}}
	human := func(at time.Time) probe.Reply { return probe.Reply{Kind: probe.KindHuman, ReceivedAt: at} }
	ack := func(at time.Time) probe.Reply { return probe.Reply{Kind: probe.KindAutoAck, ReceivedAt: at} }
	after := mustFollowup(t, probe.FollowupAfterResponse, 10*time.Minute)
	remind := mustFollowup(t, probe.FollowupReminder, 4*time.Hour)
	tests := []struct {
		name    string
		replies []probe.Reply
		done    []probe.Followup
		state   probe.State
		spec    probe.FollowupSpec
		now     time.Time
		wantDue bool
		wantAt  time.Time
	}{
		{name: "after_response without a human reply", replies: []probe.Reply{ack(sent.Add(time.Minute))}, spec: after, now: sent.Add(time.Hour)},
		{name: "after_response before the delay", replies: []probe.Reply{human(sent.Add(time.Hour))}, spec: after, now: sent.Add(time.Hour + 9*time.Minute)},
		{name: "after_response after the delay", replies: []probe.Reply{human(sent.Add(time.Hour))}, spec: after, now: sent.Add(time.Hour + 10*time.Minute), wantDue: true, wantAt: sent.Add(time.Hour + 10*time.Minute)},
		{name: "after_response already recorded", replies: []probe.Reply{human(sent.Add(time.Hour))}, done: []probe.Followup{{Index: 0, State: probe.StateSending}}, spec: after, now: sent.Add(2 * time.Hour)},
		{name: "reminder before its time", spec: remind, now: sent.Add(3 * time.Hour)},
		{name: "reminder unanswered", replies: []probe.Reply{ack(sent.Add(time.Minute))}, spec: remind, now: sent.Add(4 * time.Hour), wantDue: true, wantAt: sent.Add(4 * time.Hour)},
		{name: "reminder answered in time", replies: []probe.Reply{human(sent.Add(time.Hour))}, spec: remind, now: sent.Add(5 * time.Hour)},
		// Answered after the reminder's time but before anyone looked (the daemon down, the
		// loop asleep): the vendor answered, so no reminder, ever.
		{name: "reminder answered after its time, before the check", replies: []probe.Reply{human(sent.Add(5 * time.Hour))}, spec: remind, now: sent.Add(6 * time.Hour)},
		{name: "reminder held by a reply waiting for review", replies: []probe.Reply{{Kind: probe.KindNeedsReview, ReceivedAt: sent.Add(time.Hour)}}, spec: remind, now: sent.Add(5 * time.Hour)},
		{name: "reminder after a review decided the reply is an ack", replies: []probe.Reply{{Kind: probe.KindNeedsReview, ReceivedAt: sent.Add(time.Hour), Override: &probe.Override{Kind: probe.KindAutoAck}}}, spec: remind, now: sent.Add(5 * time.Hour), wantDue: true, wantAt: sent.Add(4 * time.Hour)},
		{name: "reminder already skipped", done: []probe.Followup{{Index: 0, State: probe.StateSkipped}}, spec: remind, now: sent.Add(5 * time.Hour)},
		{name: "reminder after a bounce", replies: []probe.Reply{{Kind: probe.KindBounce, ReceivedAt: sent.Add(time.Minute)}}, spec: remind, now: sent.Add(5 * time.Hour)},
		{name: "probe not sent", state: probe.StateUnknown, spec: remind, now: sent.Add(5 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			p.Replies, p.Followups = tt.replies, tt.done
			if tt.state != "" {
				p.State = tt.state
			}
			at, due := probe.FollowupDue(p, 0, tt.spec, tt.now)
			if due != tt.wantDue || (due && !at.Equal(tt.wantAt)) {
				t.Errorf("FollowupDue() = %v, %v; want %v, %v", at, due, tt.wantAt, tt.wantDue)
			}
		})
	}
	if p := base; !p.PastDeadline(sent.Add(25*time.Hour)) || p.PastDeadline(sent.Add(23*time.Hour)) {
		t.Errorf("PastDeadline wrong around the 24h deadline")
	}
}

func TestMeasureFollowups(t *testing.T) {
	sent := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	p := probe.Probe{State: probe.StateSent, SentAt: sent, ClockSkew: 2 * time.Second,
		Terms: probe.Terms{Hours: probe.HoursSpec{Zone: "UTC"}, Deadline: 24 * time.Hour},
		Replies: []probe.Reply{
			{Kind: probe.KindHuman, ReceivedAt: sent.Add(time.Hour + 2*time.Second)},
			{Kind: probe.KindAutoAck, ReceivedAt: sent.Add(2*time.Hour + 2*time.Second)},
			{Kind: probe.KindHuman, ReceivedAt: sent.Add(3*time.Hour + 2*time.Second)},
		},
		Followups: []probe.Followup{
			{Index: 0, Kind: probe.FollowupAfterResponse, State: probe.StateSent, SentAt: sent.Add(70 * time.Minute)},
			{Index: 1, Kind: probe.FollowupReminder, State: probe.StateSkipped},
		},
	}
	got := probe.MeasureFollowups(p)
	if len(got) != 2 {
		t.Fatalf("MeasureFollowups() = %d entries, want 2", len(got))
	}
	if got[0].NextLatency == nil || *got[0].NextLatency != 110*time.Minute {
		t.Errorf("next latency = %v, want 1h50m (skew removed, ack ignored)", got[0].NextLatency)
	}
	if got[1].NextResponse != nil {
		t.Errorf("skipped follow-up has a next response %+v", got[1].NextResponse)
	}
	if p.NeededReminder() {
		t.Error("NeededReminder() = true for a skipped reminder")
	}
	m, err := probe.Measure(p, sent.Add(4*time.Hour))
	if err != nil || m.ResponseLatency == nil || *m.ResponseLatency != time.Hour {
		t.Errorf("Measure() response latency = %v, %v; want 1h, unchanged by follow-ups", m.ResponseLatency, err)
	}
}

func TestComposeFollowup(t *testing.T) {
	key := []byte("k")
	now := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	p := probe.Probe{ID: "01ABC", Token: "ABC123", Subject: "Streams failing", To: []string{"support@acme.example"}}
	p.MessageID = probe.NewMessageID(key, p.ID, "example.com")
	v := probe.Vendor{Name: "acme"}
	in, err := probe.ComposeFollowup(p, mustFollowup(t, probe.FollowupAfterResponse, time.Minute), 1, v,
		probe.Quoted{MessageID: "agent-1@acme.example", References: []string{p.MessageID}, Subject: "[#1] Streams failing",
			From: "Dana", Date: now, Text: "Fixed.\nDana"},
		probe.Composition{From: mail.Address{Address: "lin@example.com"}, Key: key, Now: now})
	if err != nil {
		t.Fatalf("ComposeFollowup() = %v", err)
	}
	if in.Subject != "Re: [#1] Streams failing" || in.InReplyTo != "agent-1@acme.example" {
		t.Errorf("subject %q, in-reply-to %q", in.Subject, in.InReplyTo)
	}
	if len(in.References) != 2 || in.References[0] != p.MessageID || in.References[1] != "agent-1@acme.example" {
		t.Errorf("References = %q", in.References)
	}
	if !strings.Contains(in.Body, "That did not help, acme.") || !strings.Contains(in.Body, "> Fixed.\n> Dana\n") {
		t.Errorf("Body = %q", in.Body)
	}
	if in.MessageID == p.MessageID {
		t.Error("follow-up reuses the probe's Message-ID")
	}
	if !probe.IsOurMessageID(key, in.MessageID, p.ID) {
		t.Errorf("IsOurMessageID(%s, %s) = false, want true", in.MessageID, p.ID)
	}
}

// TestScriptTermsRoundTrip: a script's follow-ups stored with a probe (as JSON, like
// the store keeps them) come back with the same kinds, delays and order, and render the
// same text with the script's vars as they were then; a script without follow-ups
// stores an empty list, told apart from a probe stored without terms.
func TestScriptTermsRoundTrip(t *testing.T) {
	vars := map[string]string{"Region": "east"}
	s, err := probe.NewScript("outage-en", "en", probe.P1, "Streams failing", "Hello {{.Vendor}}", vars)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		kind  probe.FollowupKind
		after time.Duration
		body  string
	}{{probe.FollowupAfterResponse, 10 * time.Minute, "Still failing in {{.Region}}."}, {probe.FollowupReminder, 4 * time.Hour, "Any news, {{.Vendor}}?"}} {
		spec, err := probe.NewFollowupSpec(f.kind, f.after, f.body, vars)
		if err != nil {
			t.Fatal(err)
		}
		s.Followups = append(s.Followups, spec)
	}
	terms := probe.Terms{Deadline: 24 * time.Hour, Script: s.Terms()}
	s.Vars["Region"] = "changed after creation" // the stored terms keep their own copy
	b, err := json.Marshal(terms)
	if err != nil {
		t.Fatal(err)
	}
	var back probe.Terms
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Script == nil {
		t.Fatalf("terms %s lost the script's follow-ups", b)
	}
	specs, err := back.Script.Specs()
	if err != nil {
		t.Fatalf("Specs() = %v", err)
	}
	if len(specs) != 2 {
		t.Fatalf("Specs() = %d follow-ups, want 2", len(specs))
	}
	p := probe.Probe{ID: "P1", Token: "ABC123", Subject: "Streams failing", MessageID: "m@example.com"}
	c := probe.Composition{From: mail.Address{Address: "lin@example.com"}, Key: []byte("k"), Now: time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)}
	for i, want := range []string{"Still failing in east.", "Any news, acme?"} {
		if specs[i].Kind != s.Followups[i].Kind || specs[i].After != s.Followups[i].After {
			t.Errorf("follow-up %d: %s after %s, want %s after %s", i, specs[i].Kind, specs[i].After, s.Followups[i].Kind, s.Followups[i].After)
		}
		in, err := probe.ComposeFollowup(p, specs[i], i+1, probe.Vendor{Name: "acme"}, probe.Quoted{}, c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(in.Body, want+"\n") {
			t.Errorf("follow-up %d body %q, want it to start with %q", i, in.Body, want)
		}
	}

	none, err := probe.NewScript("plain", "en", probe.P3, "Invoice", "Hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(probe.Terms{Script: none.Terms()})
	if err != nil {
		t.Fatal(err)
	}
	back = probe.Terms{}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Script == nil || len(back.Script.Followups) != 0 {
		t.Errorf("terms of a script without follow-ups = %s, decoded %+v; want stored, with none", b, back.Script)
	}

	damaged := probe.ScriptTerms{Followups: []probe.StoredFollowup{{Kind: probe.FollowupReminder, After: time.Hour, Body: "{{.Missing}}"}}}
	if _, err := damaged.Specs(); err == nil || !strings.Contains(err.Error(), "stored follow-up 0") {
		t.Errorf("Specs(damaged) = %v, want an error naming follow-up 0", err)
	}
}
