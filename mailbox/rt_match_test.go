package mailbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"supportprobe/probe"
)

// rtIndex is the store's side of matching, as a map: message IDs and ticket keys
// learned so far, each giving its probe.
type rtIndex struct {
	ids  map[string]string // lower-case message ID → probe
	keys map[string]string // vendor/key → probe
}

func (x *rtIndex) ProbeByMessageID(id string) (string, error) { return x.ids[strings.ToLower(id)], nil }
func (x *rtIndex) ProbeByToken(string) (string, error)        { return "", nil }
func (x *rtIndex) ProbeByTicketKey(v, k string) (string, error) {
	return x.keys[v+"/"+k], nil
}

// learn records what the daemon records for an accepted match.
func (x *rtIndex) learn(m probe.Match, ids, keys bool) {
	if ids {
		for _, id := range m.ThreadIDs {
			x.ids[strings.ToLower(id)] = m.ProbeID
		}
	}
	if keys {
		for _, k := range m.TicketKeys {
			x.keys[m.Vendor+"/"+k] = m.ProbeID
		}
	}
}

// rtCorpusMail parses one of the Request Tracker mails that TestRTEndToEnd saved.
func rtCorpusMail(t *testing.T, kind, name string) probe.Mail {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "probe", "testdata", "corpus", kind, name))
	if err != nil {
		t.Fatalf("read RT corpus mail: %v", err)
	}
	m, err := Parse(raw, ParseOptions{})
	if err != nil {
		t.Fatalf("Parse(%s) error = %v", name, err)
	}
	return m
}

// TestMatchRequestTrackerMail matches real Request Tracker 5 mail (saved by
// TestRTEndToEnd, sent without plus-addressing). Its REST answers cite none of our
// Message-IDs (empty In-Reply-To, only <RT-Ticket-N@rt.test> in References), so they
// match only through what the ticket's AutoReply taught: its pseudo-reference (rung
// thread) or, if only ticket keys were kept, "[rt.test #N]" (rung ticket_key). Mail of a
// ticket nothing was learned about stays unmatched instead of landing on the other probe.
func TestMatchRequestTrackerMail(t *testing.T) {
	ack1 := rtCorpusMail(t, "auto_ack", "rt-autoreply-ticket1.eml")
	ack2 := rtCorpusMail(t, "auto_ack", "rt-autoreply-ticket2.eml")
	rest1 := rtCorpusMail(t, "human", "rt-answer-rest-ticket1.eml")
	resolved2 := rtCorpusMail(t, "notification", "rt-resolved-ticket2.eml")
	web2 := rtCorpusMail(t, "human", "rt-answer-web-ticket2.eml")
	if len(rest1.InReplyTo) != 0 || len(rest1.References) != 1 || rest1.References[0] != "RT-Ticket-1@rt.test" {
		t.Fatalf("REST answer cites In-Reply-To %q, References %q; the corpus no longer shows RT's REST shape", rest1.InReplyTo, rest1.References)
	}
	if len(ack1.InReplyTo) != 1 || len(ack2.InReplyTo) != 1 {
		t.Fatalf("AutoReplies cite In-Reply-To %q and %q, want our inquiry each", ack1.InReplyTo, ack2.InReplyTo)
	}

	// Without the HMAC key our inquiry IDs match at rung thread, as any known ID does.
	for _, tc := range []struct {
		name          string
		learnIDs      bool
		learnKeys     bool
		wantRESTRung  probe.Rung
		wantRESTMatch bool
	}{
		{"thread IDs and ticket keys learned", true, true, probe.RungThread, true},
		{"only ticket keys learned", false, true, probe.RungTicketKey, true},
		{"only thread IDs learned", true, false, probe.RungThread, true},
		{"nothing learned", false, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := &rtIndex{
				ids:  map[string]string{strings.ToLower(ack1.InReplyTo[0]): "P1", strings.ToLower(ack2.InReplyTo[0]): "P2"},
				keys: map[string]string{},
			}
			m := probe.Matcher{Index: x, Vendors: []probe.Vendor{{Name: "acme-cloud", Domains: []string{"acme.example"}}}}
			match := func(what string, mail probe.Mail) (probe.Match, bool) {
				t.Helper()
				got, ok, err := m.Match(mail)
				if err != nil {
					t.Fatalf("Match(%s) error = %v", what, err)
				}
				return got, ok
			}

			got, ok := match("AutoReply of ticket 1", ack1)
			if !ok || got.ProbeID != "P1" {
				t.Fatalf("Match(AutoReply of ticket 1) = %+v, %v; want P1", got, ok)
			}
			x.learn(got, tc.learnIDs, tc.learnKeys)

			// Ticket 2's Resolved notice before anything of ticket 2 was learned: it
			// must not fall onto P1, whose ticket is another.
			if got, ok := match("Resolved notice of ticket 2", resolved2); ok {
				t.Errorf("Match(Resolved notice of ticket 2, nothing of ticket 2 learned) = %s by %s (%s); want unmatched", got.ProbeID, got.Rung, got.Detail)
			}

			got, ok = match("REST answer of ticket 1", rest1)
			if ok != tc.wantRESTMatch || (ok && (got.ProbeID != "P1" || got.Rung != tc.wantRESTRung)) {
				t.Errorf("Match(REST answer of ticket 1) = %s by %q (%s), matched %v; want P1 by %q: %v", got.ProbeID, got.Rung, got.Detail, ok, tc.wantRESTRung, tc.wantRESTMatch)
			}

			got, ok = match("AutoReply of ticket 2", ack2)
			if !ok || got.ProbeID != "P2" {
				t.Fatalf("Match(AutoReply of ticket 2) = %+v, %v; want P2", got, ok)
			}
			x.learn(got, tc.learnIDs, tc.learnKeys)
			// The web answer cites our inquiry; the notice, like a REST answer, only RT's
			// pseudo-reference and ticket key.
			for _, c := range []struct {
				what string
				mail probe.Mail
				want bool
			}{{"Resolved notice of ticket 2", resolved2, tc.wantRESTMatch}, {"web answer of ticket 2", web2, true}} {
				got, ok := match(c.what, c.mail)
				if ok != c.want || (ok && got.ProbeID != "P2") {
					t.Errorf("Match(%s) = %s by %q (%s), matched %v; want P2: %v", c.what, got.ProbeID, got.Rung, got.Detail, ok, c.want)
				}
			}
		})
	}
}
