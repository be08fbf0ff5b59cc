package probe

import (
	"strings"
	"testing"
	"time"
)

func TestCertainlyNotSent(t *testing.T) {
	tests := []struct {
		name   string
		p      Probe
		want   bool
		reason string
	}{
		{"never composed", Probe{State: StateSending}, true, "interrupted before the inquiry reached SMTP"},
		{"before the end of DATA", Probe{State: StateSending, MessageID: "a@b", Stage: StageBeforeDataEnd}, true, ReasonCrashedBeforeDataEnd},
		{"end of DATA noted", Probe{State: StateSending, MessageID: "a@b", Stage: StageDataEnd, DataEndAt: time.Unix(1, 0)}, false, ""},
		{"stored without a stage", Probe{State: StateSending, MessageID: "a@b"}, false, ""},
		{"already sent", Probe{State: StateSent, MessageID: "a@b", Stage: StageBeforeDataEnd}, false, ""},
		{"unknown", Probe{State: StateUnknown, MessageID: "a@b", Stage: StageBeforeDataEnd}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, ok := CertainlyNotSent(tt.p)
			if ok != tt.want || reason != tt.reason {
				t.Errorf("CertainlyNotSent() = %q, %v; want %q, %v", reason, ok, tt.reason, tt.want)
			}
		})
	}
}

func TestPromote(t *testing.T) {
	created := time.Date(2026, 11, 29, 11, 0, 0, 0, time.UTC)
	dataEnd := created.Add(1500 * time.Millisecond)
	unknown := Probe{ID: "P7", State: StateUnknown, MessageID: "p7@x", Stage: StageDataEnd, DataEndAt: dataEnd,
		CreatedAt: created, FailReason: "maybe sent"}
	tests := []struct {
		name      string
		p         Probe
		rung      Rung
		replyOf   string
		want      bool
		wantSent  time.Time
		wantInRsn string
	}{
		{"our Message-ID cited", unknown, RungMessageID, "P7", true, dataEnd, "the last moment known before the end of DATA"},
		{"plus-address", unknown, RungPlusAddress, "P7", true, dataEnd, "matched by plus_address"},
		{"token", unknown, RungToken, "P7", true, dataEnd, "matched by token"},
		{"thread ID only", unknown, RungThread, "P7", false, time.Time{}, ""},
		{"ticket key only", unknown, RungTicketKey, "P7", false, time.Time{}, ""},
		{"linked by hand", unknown, RungManual, "P7", false, time.Time{}, ""},
		{"another probe's reply", unknown, RungMessageID, "P8", false, time.Time{}, ""},
		{"failed stays failed", Probe{ID: "P7", State: StateFailed, CreatedAt: created}, RungMessageID, "P7", false, time.Time{}, ""},
		{"sent keeps its 250", Probe{ID: "P7", State: StateSent, SentAt: dataEnd.Add(time.Second), CreatedAt: created},
			RungMessageID, "P7", false, dataEnd.Add(time.Second), ""},
		{"no end of DATA noted: from creation", Probe{ID: "P7", State: StateUnknown, MessageID: "p7@x", CreatedAt: created},
			RungMessageID, "P7", true, created, "when the probe was created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			got := p.Promote(Reply{ID: "R3", ProbeID: tt.replyOf, MatchedBy: tt.rung})
			if got != tt.want {
				t.Fatalf("Promote(%s) = %v, want %v", tt.rung, got, tt.want)
			}
			if !got {
				if p.State != tt.p.State || !p.SentAt.Equal(tt.p.SentAt) || p.SentAtInferred || p.FailReason != tt.p.FailReason {
					t.Errorf("Promote(%s) = false but changed the probe: %+v", tt.rung, p)
				}
				return
			}
			if p.State != StateSent || !p.SentAt.Equal(tt.wantSent) || !p.SentAtInferred {
				t.Errorf("after Promote: state %s, sent_at %v, inferred %v; want sent at %v, inferred", p.State, p.SentAt, p.SentAtInferred, tt.wantSent)
			}
			if !strings.Contains(p.FailReason, "R3") || !strings.Contains(p.FailReason, tt.wantInRsn) {
				t.Errorf("reason %q; want it to name R3 and %q", p.FailReason, tt.wantInRsn)
			}
			// Promoted, the probe is measured from the bound: a reply 90 s after it is a
			// 90 s latency, never less.
			p.Terms = Terms{Hours: HoursSpec{Zone: "UTC"}, Deadline: 24 * time.Hour}
			p.Replies = []Reply{{ID: "R3", ProbeID: "P7", ReceivedAt: tt.wantSent.Add(90 * time.Second), Kind: KindHuman, MatchedBy: tt.rung}}
			m, err := Measure(p, tt.wantSent.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != StatusAnswered || m.ResponseLatency == nil || *m.ResponseLatency != 90*time.Second {
				t.Errorf("Measure after Promote = %s, latency %v; want answered in 90s", m.Status, m.ResponseLatency)
			}
		})
	}
}
