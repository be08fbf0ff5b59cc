package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
)

// hookSender is a Sender that reads the stored probe at each hook, as a crash there
// would leave it, then accepts the inquiry.
type hookSender struct {
	d                 *Daemon
	id                string // the probe being sent, found by its Message-ID
	atSend, atDataEnd probe.Probe
	dataEndErr        error
}

func (h *hookSender) Send(_ context.Context, in probe.Inquiry) (probe.SendResult, error) {
	id, _ := h.d.DB().ProbeByMessageID(in.MessageID)
	h.id = id
	if err := in.BeforeSend([]byte("raw")); err != nil {
		return probe.SendResult{}, err
	}
	h.atSend, _ = h.d.DB().Probe(id)
	clock := clock.Add(2 * time.Second)
	h.d.opts.Now = func() time.Time { return clock }
	if h.dataEndErr = in.BeforeDataEnd(); h.dataEndErr != nil {
		return probe.SendResult{}, h.dataEndErr
	}
	// A retry notes again: the first time stays.
	h.d.opts.Now = func() time.Time { return clock.Add(time.Minute) }
	if err := in.BeforeDataEnd(); err != nil {
		return probe.SendResult{}, err
	}
	h.atDataEnd, _ = h.d.DB().Probe(id)
	return probe.SendResult{AcceptedAt: clock.Add(time.Minute + 100*time.Millisecond), Raw: []byte("raw"), Attempts: 2}, nil
}

// TestSendNotesDataEnd checks what a crash at each point of a send would leave on disk:
// before the end of DATA the probe is stored as sending at stage before_data_end; once
// the hook ran, at stage data_end with the first attempt's time, durably (read back from
// the file inside the send).
func TestSendNotesDataEnd(t *testing.T) {
	h := &hookSender{}
	d := mustProbingDaemon(t, h, nil)
	h.d = d
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if err != nil {
		t.Fatal(err)
	}
	if s := h.atSend; s.State != probe.StateSending || s.Stage != probe.StageBeforeDataEnd || !s.DataEndAt.IsZero() {
		t.Errorf("before the end of DATA: state %s, stage %q, data_end_at %v; want sending, before_data_end, none", s.State, s.Stage, s.DataEndAt)
	}
	dataEnd := clock.Add(2 * time.Second)
	if s := h.atDataEnd; s.State != probe.StateSending || s.Stage != probe.StageDataEnd || !s.DataEndAt.Equal(dataEnd) {
		t.Errorf("at the end of DATA: state %s, stage %q, data_end_at %v; want sending, data_end, %v (the first attempt's)", s.State, s.Stage, s.DataEndAt, dataEnd)
	}
	if p.State != probe.StateSent || p.SentAtInferred || !p.DataEndAt.Equal(dataEnd) || !p.SentAt.After(p.DataEndAt) {
		t.Errorf("after the 250: state %s, sent_at %v (inferred %v), data_end_at %v; want sent after data_end_at, not inferred",
			p.State, p.SentAt, p.SentAtInferred, p.DataEndAt)
	}
}

// TestResolvePendingByStage is the startup decision for probes a crash left sending: no
// note of the end of DATA means certainly not sent (failed, whatever the sent folder
// says or whether it can be read); a note means maybe sent (unknown without a sent copy).
// Nothing is sent.
func TestResolvePendingByStage(t *testing.T) {
	for _, tt := range []struct {
		name      string
		folder    *fakeSentFolder
		stage     probe.SendStage
		wantState probe.State
		wantWhy   string
	}{
		{"before the end of DATA", &fakeSentFolder{}, probe.StageBeforeDataEnd, probe.StateFailed, probe.ReasonCrashedBeforeDataEnd},
		{"before the end of DATA, sent folder down", &fakeSentFolder{err: errors.New("imap down")}, probe.StageBeforeDataEnd, probe.StateFailed, probe.ReasonCrashedBeforeDataEnd},
		{"before the end of DATA, no sent folder", nil, probe.StageBeforeDataEnd, probe.StateFailed, probe.ReasonCrashedBeforeDataEnd},
		{"end of DATA noted", &fakeSentFolder{}, probe.StageDataEnd, probe.StateUnknown, "after the end of DATA was noted; maybe sent, not sent again; no copy in the sent folder"},
		{"end of DATA noted, no sent folder", nil, probe.StageDataEnd, probe.StateUnknown, "maybe sent, not sent again; no sent folder to check"},
		{"end of DATA noted, copy in the sent folder", &fakeSentFolder{known: map[string]time.Time{"m@example.com": clock}}, probe.StageDataEnd, probe.StateSent, "sent copy's INTERNALDATE"},
		{"stored without a stage", &fakeSentFolder{}, "", probe.StateUnknown, "interrupted during SMTP; maybe sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeSender{}
			var sf probe.SentFolder
			if tt.folder != nil {
				sf = tt.folder
			}
			d := mustProbingDaemon(t, s, sf)
			p, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", State: probe.StateSending, MessageID: "m@example.com",
				Stage: tt.stage, DataEndAt: map[bool]time.Time{true: clock}[tt.stage == probe.StageDataEnd]})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.resolvePending(context.Background()); err != nil {
				t.Fatal(err)
			}
			got, _ := d.DB().Probe(p.ID)
			if got.State != tt.wantState || !strings.Contains(got.FailReason, tt.wantWhy) {
				t.Errorf("resolved to %s (%q), want %s (%q)", got.State, got.FailReason, tt.wantState, tt.wantWhy)
			}
			if len(s.sent) != 0 {
				t.Errorf("startup sent %d inquiries, want none", len(s.sent))
			}
			if ps, _ := d.DB().PendingProbes(); len(ps) != 0 {
				t.Errorf("still pending: %d", len(ps))
			}
		})
	}
}

// TestReplyPromotesUnknownProbe feeds replies to probes a crash left unknown through the
// daemon's handler: a reply matched by our Message-ID, the plus-address or the token
// proves the inquiry went out and makes the probe sent at its data_end_at, marked
// inferred; one matched only by a thread ID or a ticket key (a guess about which probe,
// not proof of delivery) leaves it unknown.
func TestReplyPromotesUnknownProbe(t *testing.T) {
	d := mustPipelineDaemon(t)
	var probes []probe.Probe
	for _, req := range []SendRequest{{Vendor: "acme-cloud", Script: "outage-en"}, {Vendor: "lotus-ops", Script: "invoice-zh"}} {
		p, err := d.Send(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		probes = append(probes, p)
	}
	dataEnd := clock.Add(-1500 * time.Millisecond)
	crashed := func(t *testing.T, id string) {
		t.Helper()
		if _, err := d.DB().UpdateProbe(id, func(p *probe.Probe) error {
			p.State, p.SentAt, p.SentAtInferred, p.FailReason = probe.StateUnknown, time.Time{}, false, "maybe sent"
			p.Stage, p.DataEndAt = probe.StageDataEnd, dataEnd
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range probes {
		crashed(t, p.ID)
	}
	fill := func(raw string) string {
		for i, p := range probes {
			n := string(rune('1' + i))
			raw = strings.ReplaceAll(raw, "{{MSGID"+n+"}}", "<"+p.MessageID+">")
			raw = strings.ReplaceAll(raw, "{{TOKEN"+n+"}}", p.Token)
		}
		return strings.ReplaceAll(raw, "\n", "\r\n")
	}
	// In order: the thread and ticket-key mails match only through what the first two
	// taught the index.
	tests := []struct {
		file     string
		probe    string
		rung     probe.Rung
		promotes bool
	}{
		{"ack-in-reply-to.eml", "P1", probe.RungMessageID, true},
		{"human-plus-address.eml", "P1", probe.RungPlusAddress, true},
		{"human-thread-commas.eml", "P1", probe.RungThread, false},
		{"human-ticket-key.eml", "P1", probe.RungTicketKey, false},
		{"human-token-in-quote.eml", "P2", probe.RungToken, true},
	}
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			crashed(t, tt.probe)
			data, err := os.ReadFile(filepath.Join("testdata", "pipeline", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			raw := []byte(fill(string(data)))
			at := clock.Add(time.Duration(i+1) * time.Minute)
			if err := d.handleMail(context.Background(), mailbox.Fetched{Folder: "INBOX", UIDValidity: 1, UID: uint32(i + 1),
				InternalDate: at, Raw: raw, Size: int64(len(raw)), DetectedAt: at}); err != nil {
				t.Fatalf("handleMail = %v", err)
			}
			p, err := d.DB().Probe(tt.probe)
			if err != nil {
				t.Fatal(err)
			}
			last := p.Replies[len(p.Replies)-1]
			if last.MatchedBy != tt.rung {
				t.Fatalf("reply matched %s by %s (%s), want %s", p.ID, last.MatchedBy, last.MatchDetail, tt.rung)
			}
			if !tt.promotes {
				if p.State != probe.StateUnknown || !p.SentAt.IsZero() || p.SentAtInferred {
					t.Errorf("after a reply matched by %s: state %s, sent_at %v, inferred %v; want still unknown", tt.rung, p.State, p.SentAt, p.SentAtInferred)
				}
				return
			}
			if p.State != probe.StateSent || !p.SentAt.Equal(dataEnd) || !p.SentAtInferred || !strings.Contains(p.FailReason, last.ID) {
				t.Errorf("after a reply matched by %s: state %s, sent_at %v, inferred %v, reason %q; want sent at %v, inferred, naming %s",
					tt.rung, p.State, p.SentAt, p.SentAtInferred, p.FailReason, dataEnd, last.ID)
			}
			// Measured from the bound: the first reply's arrival minus data_end_at.
			m, err := probe.Measure(p, at.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			want := p.Replies[0].ReceivedAt.Sub(dataEnd)
			if m.SignOfLifeLatency == nil || *m.SignOfLifeLatency != want {
				t.Errorf("sign-of-life latency %v, want %v from data_end_at", m.SignOfLifeLatency, want)
			}
		})
	}
}

// TestStartupPromotesProvenProbe covers a crash between recording a reply and promoting
// its probe: the reply is stored, the probe still unknown; the next start promotes it.
func TestStartupPromotesProvenProbe(t *testing.T) {
	d := mustProbingDaemon(t, &fakeSender{}, nil)
	dataEnd := clock.Add(-time.Hour)
	mk := func(rung probe.Rung) string {
		p, err := d.DB().CreateProbe(probe.Probe{Vendor: "acme-cloud", State: probe.StateUnknown, MessageID: string(rung) + "@example.com",
			Stage: probe.StageDataEnd, DataEndAt: dataEnd, FailReason: "maybe sent"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.DB().AddReply(probe.Reply{ProbeID: p.ID, MessageID: "re-" + string(rung) + "@acme.example", Folder: "INBOX", UID: 1,
			ReceivedAt: clock.Add(-time.Minute), Kind: probe.KindHuman, MatchedBy: rung}, []byte("raw")); err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	proven, guessed := mk(probe.RungPlusAddress), mk(probe.RungTicketKey)
	if err := d.resolvePending(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, _ := d.DB().Probe(proven); p.State != probe.StateSent || !p.SentAt.Equal(dataEnd) || !p.SentAtInferred {
		t.Errorf("probe with a plus-address reply: state %s, sent_at %v, inferred %v; want sent at %v, inferred", p.State, p.SentAt, p.SentAtInferred, dataEnd)
	}
	if p, _ := d.DB().Probe(guessed); p.State != probe.StateUnknown {
		t.Errorf("probe with a ticket-key reply only: state %s, want unknown", p.State)
	}
}

// TestSendMaybeSentIsUnknown checks that a send whose final "." got no reply is stored
// as unknown, not failed (a failed probe never reached the vendor), and that a reply
// citing it then makes it sent from its data_end_at.
func TestSendMaybeSentIsUnknown(t *testing.T) {
	s := &fakeSender{err: fmt.Errorf("smtp 127.0.0.1:2525: end of DATA: EOF (temporary, 2 attempts): %w", probe.ErrMaybeSent)}
	d := mustProbingDaemon(t, s, nil)
	p, err := d.Send(context.Background(), SendRequest{Vendor: "acme-cloud", Script: "outage-en"})
	if !errors.Is(err, probe.ErrMaybeSent) {
		t.Fatalf("Send = %v, want the sender's error", err)
	}
	if p.State != probe.StateUnknown || !strings.Contains(p.FailReason, "maybe sent, not sent again") {
		t.Errorf("probe = %s (%q), want unknown, maybe sent", p.State, p.FailReason)
	}
	if _, err := d.DB().UpdateProbe(p.ID, func(q *probe.Probe) error {
		q.Stage, q.DataEndAt = probe.StageDataEnd, clock // as the hook before the "." notes it
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r, err := d.DB().AddReply(probe.Reply{ProbeID: p.ID, MessageID: "ack@acme.example", Folder: "INBOX", UID: 1,
		ReceivedAt: clock.Add(time.Minute), Kind: probe.KindAutoAck, MatchedBy: probe.RungMessageID}, []byte("raw"))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := d.promote(r); err != nil || !ok {
		t.Fatalf("promote = %v, %v; want true", ok, err)
	}
	if q, _ := d.DB().Probe(p.ID); q.State != probe.StateSent || !q.SentAt.Equal(clock) || !q.SentAtInferred {
		t.Errorf("after the reply: %s, sent_at %v, inferred %v; want sent at %v, inferred", q.State, q.SentAt, q.SentAtInferred, clock)
	}
}
