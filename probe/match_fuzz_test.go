package probe_test

import (
	"strings"
	"testing"

	"supportprobe/probe"
)

// FuzzMatch runs the matcher on arbitrary header values and text, as a vendor's mail
// carries them (In-Reply-To and References parsed tolerantly, plus-addresses, ticket
// keys by each vendor's pattern, tokens in the subject and body): it must not panic or
// fail, a match must name its probe, rung and evidence, the probe must be one the index
// knows, and an unmatched mail must say why.
func FuzzMatch(f *testing.F) {
	f.Add("<"+ourP1+">", "<vendor-1@mail.acme.com>, "+ourP2, "dana@acme.com", "lin.wei+K7Q2MX@example.com", "Re: [#4711] Streams failing", "Ref: H4XW9T\n> quoted {ACME:SR7781}")
	f.Add(ourP1+" "+tampered, "", "x@globex.io", "", "Case 00123456 ref:_00D5g0000abc._5005g000001XyZ:ref", "")
	f.Add("<<<>>>", "<,@,>", "@", "+@", "", strings.Repeat("K7Q2MX ", 100))
	f.Add("\x00", "\xff\xfe", "\r\n", "lin.wei+@example.com", "ABC-12", "globex")
	f.Fuzz(func(t *testing.T, inReplyTo, references, from, deliveredTo, subject, text string) {
		m := probe.Mail{
			InReplyTo: strings.Fields(inReplyTo), References: strings.Split(references, ","),
			From: from, DeliveredTo: []string{deliveredTo}, To: []string{deliveredTo},
			Subject: subject, NewText: text, FullText: subject + "\n" + text,
		}
		match, ok, err := testMatcher(newFakeIndex()).Match(m)
		if err != nil {
			t.Fatalf("Match = %v", err)
		}
		if !ok {
			if match.ProbeID != "" || match.Detail == "" {
				t.Fatalf("unmatched = %+v, want no probe and a reason", match)
			}
			return
		}
		if match.ProbeID != "P1" && match.ProbeID != "P2" || match.Rung == "" || match.Detail == "" {
			t.Fatalf("Match = %+v, want P1 or P2 with a rung and its evidence", match)
		}
	})
}
