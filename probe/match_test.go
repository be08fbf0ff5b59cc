package probe_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
)

// fakeIndex is a map-based MatchIndex that normalises message IDs the way the store does
// (brackets off, lower case).
type fakeIndex struct {
	ids     map[string]string
	tokens  map[string]string
	tickets map[string]string // vendor + "/" + key
	err     error
	lookups int
}

func (f *fakeIndex) ProbeByMessageID(id string) (string, error) {
	f.lookups++
	if f.err != nil {
		return "", f.err
	}
	return f.ids[strings.ToLower(strings.Trim(strings.TrimSpace(id), "<>"))], nil
}

func (f *fakeIndex) ProbeByToken(tok string) (string, error) {
	f.lookups++
	if f.err != nil {
		return "", f.err
	}
	return f.tokens[tok], nil
}

func (f *fakeIndex) ProbeByTicketKey(vendor, key string) (string, error) {
	f.lookups++
	if f.err != nil {
		return "", f.err
	}
	return f.tickets[vendor+"/"+key], nil
}

var (
	matchKey = []byte("0123456789abcdef0123456789abcdef")
	matchAt  = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	// Our inquiries: P1 (token K7Q2MX) and P2 (token H4XW9T).
	ourP1 = probe.NewMessageID(matchKey, "P1", "example.com")
	ourP2 = probe.NewMessageID(matchKey, "P2", "example.com")
	// ourP3 verifies but its probe is not in the index (another database, a deleted probe).
	ourP3 = probe.NewMessageID(matchKey, "P3", "example.com")
	// tampered is ourP1 with the HMAC's last digit changed; the store learned it as part
	// of P1's thread (say, from a manual link).
	tampered        = tamper(ourP1)
	tamperedUnknown = tamper(ourP2)
)

func tamper(id string) string {
	at := strings.IndexByte(id, '@')
	last := id[at-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return id[:at-1] + string(repl) + id[at:]
}

func newFakeIndex() *fakeIndex {
	return &fakeIndex{
		ids: map[string]string{
			strings.ToLower(ourP1):     "P1",
			strings.ToLower(ourP2):     "P2",
			strings.ToLower(tampered):  "P1",
			"vendor-1@mail.acme.com":   "P1",
			"vendor-2@mail.acme.com":   "P2",
			"zd-4711.abc@acme.zendesk": "P1",
		},
		tokens: map[string]string{"K7Q2MX": "P1", "H4XW9T": "P2"},
		tickets: map[string]string{
			"acme/4711":   "P1",
			"acme/4712":   "P2",
			"acme/SR7781": "P1",
			// one key per default format, all for globex
			"globex/123":      "P1",
			"globex/124":      "P1",
			"globex/125":      "P1",
			"globex/4711":     "P1",
			"globex/00123456": "P1",
			"globex/00123457": "P1",
			"globex/4713":     "P1",
			"globex/20240601": "P1",
			"globex/ABC-12":   "P1",
			"globex/ref:_00D5g0000abc._5005g000001XyZ:ref": "P1",
			"globex/ref:!00D5g0000abc.!500Dn03Y4Gh:ref":    "P1",
		},
	}
}

func testMatcher(idx probe.MatchIndex) probe.Matcher {
	return probe.Matcher{
		Key:     matchKey,
		Mailbox: "lin.wei@example.com",
		Vendors: []probe.Vendor{
			{Name: "acme", Domains: []string{"acme.com", "acme.zendesk.com"}, TicketKey: regexp.MustCompile(`\{ACME:(\w+)\}`)},
			{Name: "globex", Domains: []string{"globex.io"}},
		},
		Index: idx,
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name       string
		mail       probe.Mail
		wantOK     bool
		wantProbe  string
		wantRung   probe.Rung
		wantDetail []string // substrings of Detail
	}{
		// Rung 1: our Message-ID.
		{
			name:   "rung 1: In-Reply-To ours",
			mail:   probe.Mail{From: "agent@acme.com", InReplyTo: []string{ourP1}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungMessageID,
			wantDetail: []string{"In-Reply-To <" + ourP1 + ">"},
		},
		{
			name:   "rung 1: References with brackets and upper case",
			mail:   probe.Mail{From: "x@y.org", References: []string{"<" + strings.ToUpper(ourP1) + ">"}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungMessageID,
			wantDetail: []string{"References <" + strings.ToUpper(ourP1) + ">"},
		},
		{
			name:   "rung 1: several IDs in one unparsed string, commas",
			mail:   probe.Mail{From: "x@y.org", References: []string{"<a@b.c>,<" + ourP2 + ">"}},
			wantOK: true, wantProbe: "P2", wantRung: probe.RungMessageID,
		},
		{
			name:   "rung 1: missing brackets",
			mail:   probe.Mail{From: "x@y.org", References: []string{"a@b.c " + ourP2}},
			wantOK: true, wantProbe: "P2", wantRung: probe.RungMessageID,
		},
		{
			name: "rung 1: DSN via OriginalMessageID",
			mail: probe.Mail{From: "mailer-daemon@mx.acme.com", Subject: "Undelivered Mail Returned to Sender",
				Report: &probe.DeliveryReport{OriginalMessageID: ourP2, Action: "failed", Status: "5.1.1"}},
			wantOK: true, wantProbe: "P2", wantRung: probe.RungMessageID,
			wantDetail: []string{"DSN original Message-ID <" + ourP2 + ">"},
		},
		{
			name: "rung 1 outranks weaker evidence that disagrees",
			mail: probe.Mail{From: "agent@acme.com", InReplyTo: []string{ourP1}, References: []string{"vendor-2@mail.acme.com"},
				NewText: "See below.\nRef: H4XW9T"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungMessageID,
			wantDetail: []string{"outranks", "vendor-2@mail.acme.com", "probe P2", "Ref: H4XW9T"},
		},
		{
			name:       "rung 1: our IDs of two probes are ambiguous",
			mail:       probe.Mail{From: "agent@acme.com", References: []string{ourP1, ourP2}},
			wantDetail: []string{"ambiguous", "probe P1", "probe P2", ourP1, ourP2},
		},
		{
			name:   "tampered HMAC is not rung 1 but the index knows it: rung 3",
			mail:   probe.Mail{From: "agent@acme.com", InReplyTo: []string{tampered}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungThread,
			wantDetail: []string{"In-Reply-To <" + tampered + ">"},
		},
		{
			name:       "tampered HMAC unknown to the index matches nothing",
			mail:       probe.Mail{From: "agent@acme.com", InReplyTo: []string{tamperedUnknown}},
			wantDetail: []string{"no evidence", "1 cited message IDs, none known"},
		},
		{
			name:       "verified ID of a probe the index does not know matches nothing",
			mail:       probe.Mail{From: "agent@acme.com", InReplyTo: []string{ourP3}},
			wantDetail: []string{"no evidence"},
		},

		// Rung 2: plus-address.
		{
			name:   "rung 2: Delivered-To",
			mail:   probe.Mail{From: "agent@acme.com", DeliveredTo: []string{"lin.wei+k7q2mx@example.com"}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungPlusAddress,
			wantDetail: []string{"Delivered-To lin.wei+k7q2mx@example.com"},
		},
		{
			name:   "rung 2: To in mixed case with a display name",
			mail:   probe.Mail{From: "agent@acme.com", To: []string{"Lin Wei <Lin.Wei+K7Q2MX@Example.COM>"}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungPlusAddress,
			wantDetail: []string{"To lin.wei+k7q2mx@example.com"},
		},
		{
			name:   "rung 2: Cc",
			mail:   probe.Mail{From: "agent@acme.com", To: []string{"someone@acme.com"}, Cc: []string{"lin.wei+h4xw9t@example.com"}},
			wantOK: true, wantProbe: "P2", wantRung: probe.RungPlusAddress,
		},
		{
			name:   "rung 2 beats a weaker rung that agrees",
			mail:   probe.Mail{From: "agent@acme.com", To: []string{"lin.wei+k7q2mx@example.com"}, References: []string{"vendor-1@mail.acme.com"}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungPlusAddress,
		},
		{
			name:       "rung 2: unknown plus token",
			mail:       probe.Mail{From: "agent@acme.com", To: []string{"lin.wei+ZZZZZZ@example.com"}},
			wantDetail: []string{"no evidence", "unknown plus-address token ZZZZZZ"},
		},
		{
			name:       "rung 2: plus-address on another domain does not count",
			mail:       probe.Mail{From: "agent@acme.com", To: []string{"lin.wei+k7q2mx@example.org"}},
			wantDetail: []string{"no evidence", "no plus-address of lin.wei@example.com"},
		},
		{
			name:       "rung 2: plus-addresses of two probes are ambiguous",
			mail:       probe.Mail{From: "agent@acme.com", To: []string{"lin.wei+k7q2mx@example.com"}, Cc: []string{"lin.wei+h4xw9t@example.com"}},
			wantDetail: []string{"ambiguous", "probe P1 by To lin.wei+k7q2mx@example.com", "probe P2 by Cc lin.wei+h4xw9t@example.com"},
		},
		{
			name:       "rung 2 disagreeing with rung 3 is ambiguous, not a silent pick",
			mail:       probe.Mail{From: "agent@acme.com", To: []string{"lin.wei+k7q2mx@example.com"}, References: []string{"vendor-2@mail.acme.com"}},
			wantDetail: []string{"ambiguous", "probe P1", "probe P2", "(plus_address)", "(thread)"},
		},

		// Rung 3: thread.
		{
			name:   "rung 3: vendor-only References",
			mail:   probe.Mail{From: "agent@acme.com", MessageID: "vendor-9@mail.acme.com", References: []string{"<vendor-1@mail.acme.com>"}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungThread,
			wantDetail: []string{"References <vendor-1@mail.acme.com>"},
		},
		{
			name:   "rung 3: vendor In-Reply-To in upper case",
			mail:   probe.Mail{From: "agent@acme.com", InReplyTo: []string{"ZD-4711.ABC@ACME.ZENDESK"}},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungThread,
		},
		{
			name:       "rung 3: two threads are ambiguous",
			mail:       probe.Mail{From: "agent@acme.com", References: []string{"vendor-1@mail.acme.com", "vendor-2@mail.acme.com"}},
			wantDetail: []string{"ambiguous", "probe P1 by References <vendor-1@mail.acme.com>", "probe P2 by References <vendor-2@mail.acme.com>"},
		},
		{
			name: "rung 3 disagreeing with a token is ambiguous",
			mail: probe.Mail{From: "agent@acme.com", References: []string{"vendor-1@mail.acme.com"},
				NewText: "Merged with your other request.", FullText: "Merged with your other request.\n> Ref: H4XW9T"},
			wantDetail: []string{"ambiguous", "probe P1", "probe P2 by Ref: H4XW9T in quoted text (token)"},
		},

		// Rung 4: ticket keys.
		{
			name:   "rung 4: vendor's own pattern",
			mail:   probe.Mail{From: "support@acme.com", Subject: "Re: storage question {ACME:SR7781}"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey,
			wantDetail: []string{`ticket key "SR7781" (\{ACME:(\w+)\}) in subject`},
		},
		{
			name:   "rung 4: default [Acme #4711] from a subdomain",
			mail:   probe.Mail{From: "help@eu.acme.com", Subject: "[Acme #4711] Update"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey,
		},
		{
			name:   "rung 4: help-desk domain of the vendor",
			mail:   probe.Mail{From: "support@acme.zendesk.com", Subject: "[#4712] Re: SLA"},
			wantOK: true, wantProbe: "P2", wantRung: probe.RungTicketKey,
		},
		{name: "rung 4 default: [#123]", mail: globexMail("[#123] Your question", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "123"`}},
		{name: "rung 4 default: [Ticket#124]", mail: globexMail("[Ticket#124] Your question", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "124"`}},
		{name: "rung 4 default: [Ticket #125]", mail: globexMail("Re: [Ticket #125]", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "125"`}},
		{name: "rung 4 default: [Globex #4711]", mail: globexMail("[Globex #4711] Re: P1 coverage", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "4711"`}},
		{name: "rung 4 default: Case #00123456", mail: globexMail("Case #00123456: Re: coverage", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "00123456"`}},
		{name: "rung 4 default: Case: 00123457 in the body", mail: globexMail("Re: coverage", "Hello,\nCase: 00123457\nWe are on it."), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "00123457"`, "in body"}},
		{name: "rung 4 default: Ticket ID: 4713 in the body", mail: globexMail("Re: coverage", "Ticket ID: 4713"), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey},
		{name: "rung 4 default: 工单号", mail: globexMail("回复：咨询", "您好，\n工单号：20240601\n"), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "20240601"`}},
		{name: "rung 4 default: Jira ABC-12", mail: globexMail("[JIRA] (ABC-12) Support question", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey, wantDetail: []string{`ticket key "ABC-12"`}},
		{name: "rung 4 default: Salesforce classic thread ID", mail: globexMail("Re: coverage [ ref:_00D5g0000abc._5005g000001XyZ:ref ]", ""), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey},
		{name: "rung 4 default: Salesforce Lightning thread ID", mail: globexMail("Re: coverage", "Thanks.\nref:!00D5g0000abc.!500Dn03Y4Gh:ref"), wantOK: true, wantProbe: "P1", wantRung: probe.RungTicketKey},
		{
			name:       "rung 4: key of a sender that belongs to no vendor is not looked up",
			mail:       probe.Mail{From: "someone@gmail.com", Subject: "[#123] hello"},
			wantDetail: []string{"no evidence", `sender domain "gmail.com" belongs to no vendor`},
		},
		{
			name:       "rung 4: a key known for another vendor does not count",
			mail:       probe.Mail{From: "support@acme.com", Subject: "[#123] hello"},
			wantDetail: []string{"no evidence", `ticket keys "123" unknown for vendor acme`},
		},
		{
			name:       "rung 4: a look-alike domain is not the vendor's",
			mail:       probe.Mail{From: "support@notacme.com", Subject: "[#4711] hello"},
			wantDetail: []string{"no evidence", "belongs to no vendor"},
		},
		{
			name:       "rung 4: a key deep in the body is not searched",
			mail:       globexMail("Re: coverage", strings.Repeat("line\n", 12)+"Ticket ID: 4713"),
			wantDetail: []string{"no evidence", "no ticket key of vendor globex"},
		},
		{
			name:       "rung 4: UTF-8 is no Jira key",
			mail:       globexMail("Re: UTF-8 subjects", ""),
			wantDetail: []string{"no ticket key of vendor globex"},
		},
		{
			name:       "rung 4: keys of two probes are ambiguous",
			mail:       probe.Mail{From: "support@acme.com", Subject: "[Acme #4711] merged into [Acme #4712]"},
			wantDetail: []string{"ambiguous", "probe P1", "probe P2"},
		},

		// Rung 5: token.
		{
			name:   "rung 5: Ref form in the new text",
			mail:   probe.Mail{From: "li@partner.cn", NewText: "Answer below.\n\nRef: K7Q2MX\n", FullText: "Answer below.\n\nRef: K7Q2MX\n"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungToken,
			wantDetail: []string{"Ref: K7Q2MX in body"},
		},
		{
			name: "rung 5: token in quoted text only",
			mail: probe.Mail{From: "agent@acme.com", NewText: "Yes, 24x7.",
				FullText: "Yes, 24x7.\n\nOn Mon, Lin Wei wrote:\n> Do you cover nights?\n> Ref: k7q2mx\n"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungToken,
			wantDetail: []string{"Ref: K7Q2MX in quoted text"},
		},
		{
			name:   "rung 5: bare token in the subject, lower case",
			mail:   probe.Mail{From: "agent@acme.com", Subject: "Re: question h4xw9t"},
			wantOK: true, wantProbe: "P2", wantRung: probe.RungToken,
			wantDetail: []string{"token H4XW9T in subject"},
		},
		{
			name:   "rung 5: token next to Chinese text",
			mail:   probe.Mail{From: "kefu@partner.cn", NewText: "已处理。参考编号K7Q2MX，谢谢。"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungToken,
		},
		{
			name:   "rung 5: the Ref form is preferred over a bare token",
			mail:   probe.Mail{From: "agent@acme.com", NewText: "Your colleague asked about H4XW9T too.\nRef: K7Q2MX"},
			wantOK: true, wantProbe: "P1", wantRung: probe.RungToken,
			wantDetail: []string{"Ref: K7Q2MX in body"},
		},
		{
			name:       "rung 5: bare tokens of two probes are ambiguous",
			mail:       probe.Mail{From: "agent@acme.com", NewText: "About K7Q2MX and H4XW9T: both fine."},
			wantDetail: []string{"ambiguous", "token K7Q2MX", "token H4XW9T"},
		},
		{
			name:       "rung 5: token-shaped words the index does not know",
			mail:       probe.Mail{From: "agent@acme.com", NewText: "CHANGE REPORT 123456 status"},
			wantDetail: []string{"no evidence", "no known token (2 token-shaped words checked)"},
		},
		{
			name:       "rung 5: a token inside a longer word is not a token",
			mail:       probe.Mail{From: "agent@acme.com", NewText: "XK7Q2MX K7Q2MX1 K7Q2MX_"},
			wantDetail: []string{"no evidence"},
		},

		// Nothing.
		{
			name:       "no evidence: never the latest probe to that domain",
			mail:       probe.Mail{From: "support@acme.com", Subject: "Hello", NewText: "Are you still interested?"},
			wantDetail: []string{"no evidence", "no In-Reply-To or References", "no ticket key of vendor acme"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := testMatcher(newFakeIndex()).Match(tt.mail)
			if err != nil {
				t.Fatalf("Match() error = %v", err)
			}
			if ok != tt.wantOK || got.ProbeID != tt.wantProbe || got.Rung != tt.wantRung {
				t.Errorf("Match() = %q, %q, ok %v; want %q, %q, ok %v (detail %q)", got.ProbeID, got.Rung, ok,
					tt.wantProbe, tt.wantRung, tt.wantOK, got.Detail)
			}
			if got.Detail == "" {
				t.Errorf("Match().Detail is empty")
			}
			for _, want := range tt.wantDetail {
				if !strings.Contains(got.Detail, want) {
					t.Errorf("Match().Detail = %q, want it to contain %q", got.Detail, want)
				}
			}
		})
	}
}

func globexMail(subject, body string) probe.Mail {
	return probe.Mail{From: "support@globex.io", Subject: subject, NewText: body, FullText: body}
}

func TestMatchLearns(t *testing.T) {
	tests := []struct {
		name        string
		mail        probe.Mail
		wantProbe   string
		wantVendor  string
		wantThread  []string
		wantTickets []string
	}{
		{
			name: "ack with a new ticket key joins the thread",
			mail: probe.Mail{MessageID: "zd-9000@acme.zendesk.com", From: "support@acme.zendesk.com",
				InReplyTo: []string{ourP1}, References: []string{ourP1},
				Subject: "[#9000] Re: Night coverage", NewText: "Your request (#9000) has been received.\nTicket #9000"},
			wantProbe: "P1", wantVendor: "acme",
			wantThread:  []string{"zd-9000@acme.zendesk.com", ourP1},
			wantTickets: []string{"9000"},
		},
		{
			name: "IDs and keys of another probe are not learned",
			mail: probe.Mail{MessageID: "<new@mail.acme.com>", From: "agent@acme.com",
				InReplyTo: []string{ourP1}, References: []string{"vendor-2@mail.acme.com", "other@mail.acme.com"},
				Subject: "[Acme #4712] [Acme #5000] merged"},
			wantProbe: "P1", wantVendor: "acme",
			wantThread:  []string{"new@mail.acme.com", ourP1, "other@mail.acme.com"},
			wantTickets: []string{"5000"},
		},
		{
			name: "vendor's own pattern first, then the defaults",
			mail: probe.Mail{MessageID: "m@acme.com", From: "agent@acme.com", InReplyTo: []string{"vendor-1@mail.acme.com"},
				Subject: "{ACME:SR9999} Case #00999999"},
			wantProbe: "P1", wantVendor: "acme",
			wantThread:  []string{"m@acme.com", "vendor-1@mail.acme.com"},
			wantTickets: []string{"SR9999", "00999999"},
		},
		{
			name: "a sender of no vendor teaches no ticket keys",
			mail: probe.Mail{MessageID: "m@gmail.com", From: "x@gmail.com", InReplyTo: []string{ourP2},
				Subject: "[#77] hello"},
			wantProbe:  "P2",
			wantThread: []string{"m@gmail.com", ourP2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := testMatcher(newFakeIndex()).Match(tt.mail)
			if err != nil || !ok {
				t.Fatalf("Match() = %+v, %v, %v; want a match", got, ok, err)
			}
			if got.ProbeID != tt.wantProbe || got.Vendor != tt.wantVendor {
				t.Errorf("Match() probe, vendor = %q, %q; want %q, %q", got.ProbeID, got.Vendor, tt.wantProbe, tt.wantVendor)
			}
			if !slices.Equal(got.ThreadIDs, tt.wantThread) {
				t.Errorf("Match().ThreadIDs = %q, want %q", got.ThreadIDs, tt.wantThread)
			}
			if !slices.Equal(got.TicketKeys, tt.wantTickets) {
				t.Errorf("Match().TicketKeys = %q, want %q", got.TicketKeys, tt.wantTickets)
			}
		})
	}
}

func TestMatchErrors(t *testing.T) {
	boom := errors.New("database closed")
	idx := newFakeIndex()
	idx.err = boom
	mail := probe.Mail{MessageID: "m@acme.com", From: "agent@acme.com", InReplyTo: []string{ourP1}}
	_, ok, err := testMatcher(idx).Match(mail)
	if !errors.Is(err, boom) || ok {
		t.Fatalf("Match() with a failing index = ok %v, %v; want %v", ok, err, boom)
	}
	if !strings.Contains(err.Error(), "m@acme.com") || !strings.Contains(err.Error(), ourP1) {
		t.Errorf("Match() error %q does not name the mail and the lookup", err)
	}

	m := testMatcher(nil)
	m.Index = nil
	if _, _, err := m.Match(mail); !errors.Is(err, probe.ErrNoIndex) {
		t.Errorf("Match() without an index = %v, want ErrNoIndex", err)
	}
}

// TestMatchWithoutKeyOrMailbox: without a key our IDs are only thread IDs, and without a
// mailbox plus-addresses are not looked at.
func TestMatchWithoutKeyOrMailbox(t *testing.T) {
	m := testMatcher(newFakeIndex())
	m.Key, m.Mailbox = nil, ""
	got, ok, err := m.Match(probe.Mail{From: "a@acme.com", InReplyTo: []string{ourP1}, To: []string{"lin.wei+h4xw9t@example.com"}})
	if err != nil || !ok || got.ProbeID != "P1" || got.Rung != probe.RungThread {
		t.Errorf("Match() = %q, %q, %v, %v; want P1 at rung thread", got.ProbeID, got.Rung, ok, err)
	}
}

func TestMatchBoundsTokenLookups(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "A%05d ", i)
	}
	idx := newFakeIndex()
	_, ok, err := testMatcher(idx).Match(probe.Mail{From: "news@example.net", NewText: b.String()})
	if err != nil || ok {
		t.Fatalf("Match() = ok %v, %v; want unmatched", ok, err)
	}
	if idx.lookups > 1100 {
		t.Errorf("Match() made %d index lookups for a long text, want at most about 1000", idx.lookups)
	}
}

func TestDefaultTicketKeys(t *testing.T) {
	pats := probe.DefaultTicketKeys()
	if len(pats) == 0 {
		t.Fatal("DefaultTicketKeys() is empty")
	}
	for _, re := range pats {
		if n := re.NumSubexp(); n != 1 {
			t.Errorf("pattern %s has %d capture groups, want 1", re, n)
		}
	}
	pats[0] = nil
	if probe.DefaultTicketKeys()[0] == nil {
		t.Error("DefaultTicketKeys() returned a shared slice")
	}
	tests := []struct{ text, want string }{
		{"[#123]", "123"},
		{"[Ticket#123]", "123"},
		{"[ticket #123]", "123"},
		{"[Acme #4711] Re: x", "4711"},
		{"[name #12]", "12"},
		{"Case #00123456", "00123456"},
		{"Case: 00123456", "00123456"},
		{"Case Number: 00123456", "00123456"},
		{"Ticket #4711", "4711"},
		{"Request ID: 4711", "4711"},
		{"工单号：12345", "12345"},
		{"工單編號 12345", "12345"},
		{"(SUP-42) printer", "SUP-42"},
		{"ref:_00D5g0000abc._5005g000001XyZ:ref", "ref:_00D5g0000abc._5005g000001XyZ:ref"},
		{"ref:!00D5g0000abc.!500Dn03Y4Gh:ref", "ref:!00D5g0000abc.!500Dn03Y4Gh:ref"},
	}
	for _, tt := range tests {
		found := ""
		for _, re := range probe.DefaultTicketKeys() {
			if sm := re.FindStringSubmatch(tt.text); sm != nil {
				found = sm[1]
				break
			}
		}
		if found != tt.want {
			t.Errorf("default ticket keys in %q = %q, want %q", tt.text, found, tt.want)
		}
	}
	for _, text := range []string{"in case 2 fails", "Abc-12", "A-1", "ticket 4711"} {
		for _, re := range probe.DefaultTicketKeys() {
			if sm := re.FindStringSubmatch(text); sm != nil {
				t.Errorf("pattern %s finds %q in %q, want nothing", re, sm[1], text)
			}
		}
	}
}

// TestMatchKeepsOutEarlyMail is issue 12, defect 3 (matching side): evidence for a probe
// whose inquiry was sent after the mail arrived (beyond probe.ArrivalTolerance, with the
// probe's clock skew removed) is set aside with the reason, so the mail never becomes a
// reply, and never a latency, of that probe; other evidence still decides.
func TestMatchKeepsOutEarlyMail(t *testing.T) {
	sent := map[string]time.Time{"P1": matchAt.Add(3 * time.Hour), "P2": matchAt}
	skew := map[string]time.Duration{}
	m := testMatcher(newFakeIndex())
	m.Sent = func(id string) (time.Time, time.Duration, error) { return sent[id], skew[id], nil }

	// Cites P1's thread only, and arrived 2 h before P1 went out.
	early := probe.Mail{MessageID: "x1@acme.com", From: "dana@acme.com", ReceivedAt: matchAt.Add(time.Hour),
		InReplyTo: []string{"<vendor-1@mail.acme.com>"}}
	got, ok, err := m.Match(early)
	if err != nil {
		t.Fatal(err)
	}
	if ok || got.ProbeID != "" || !strings.Contains(got.Detail, "probe P1") || !strings.Contains(got.Detail, "2h0m0s before that inquiry was sent") ||
		!strings.HasPrefix(got.Detail, "no probe it could answer") {
		t.Errorf("Match(early for P1) = %q, %v, %q; want unmatched, saying it arrived 2h before P1 was sent", got.ProbeID, ok, got.Detail)
	}
	if slices.Contains(got.ThreadIDs, "vendor-1@mail.acme.com") {
		t.Errorf("ThreadIDs %q hold P1's vendor ID: a link would move it", got.ThreadIDs)
	}

	// Evidence for P1 (too early) and for P2 (sent before): P2 wins, with the reason.
	both := early
	both.References = []string{"<vendor-2@mail.acme.com>"}
	got, ok, err = m.Match(both)
	if err != nil || !ok || got.ProbeID != "P2" || !strings.Contains(got.Detail, "set aside: probe P1") {
		t.Errorf("Match(P1 early, P2 fine) = %q, %v, %q, %v; want P2, naming P1 set aside", got.ProbeID, ok, got.Detail, err)
	}

	// Within the tolerance, or with the skew accounted for, it is an answer.
	onTime := early
	onTime.ReceivedAt = sent["P1"].Add(-time.Second)
	if got, ok, _ := m.Match(onTime); !ok || got.ProbeID != "P1" {
		t.Errorf("Match(1 s before sent_at) = %q, %v (%s); want P1 (within ArrivalTolerance)", got.ProbeID, ok, got.Detail)
	}
	skew["P1"] = -3 * time.Hour // the IMAP server's clock runs 3 h behind ours
	if got, ok, _ := m.Match(early); !ok || got.ProbeID != "P1" {
		t.Errorf("Match(early on the server's clock, after sent_at on ours) = %q, %v (%s); want P1", got.ProbeID, ok, got.Detail)
	}

	// A probe not known to be sent has nothing to be early for; a failing lookup is an error.
	sent["P1"] = time.Time{}
	skew["P1"] = 0
	if got, ok, _ := m.Match(early); !ok || got.ProbeID != "P1" {
		t.Errorf("Match(probe not sent) = %q, %v; want P1", got.ProbeID, ok)
	}
	m.Sent = func(id string) (time.Time, time.Duration, error) { return time.Time{}, 0, errors.New("disk gone") }
	if _, _, err := m.Match(early); err == nil || !strings.Contains(err.Error(), "probe P1") {
		t.Errorf("Match(failing Sent) = %v; want an error naming the probe", err)
	}
}
