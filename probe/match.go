package probe

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Matching a reply to its probe
//
// Matcher.Match walks the ladder of DESIGN.md, strongest evidence first, and records
// which rung tied the mail to its probe:
//
//  1. RungMessageID: one of our own Message-IDs (HMAC-verified with Matcher.Key, brackets
//     and case tolerated) in In-Reply-To or References, or, for a delivery status
//     notification, as the returned message's Message-ID, and known to the index.
//  2. RungPlusAddress: our mailbox with "+TOKEN" in To, Cc or Delivered-To
//     (case-insensitive), the token known to the index.
//  3. RungThread: any ID in In-Reply-To or References the index knows: vendor IDs joined
//     to a probe's thread by an earlier match, or one of ours whose HMAC does not verify.
//  4. RungTicketKey: a ticket key of the sender's vendor (found by From domain, exact or a
//     subdomain of Vendor.Domains; the vendor's own pattern first, then
//     DefaultTicketKeys) in the subject or the first lines of the body, known to the
//     index for that vendor.
//  5. RungToken: a probe token anywhere in the subject or the text, quoted text included;
//     the "Ref: TOKEN" footer form is preferred over any token-shaped word. Only the index
//     decides whether a token-shaped word (a common word such as "CHANGE" has the shape)
//     is a token.
//  6. Otherwise the mail is unmatched. Nothing is ever guessed from "the latest probe to
//     that domain".
//
// Every rung is evaluated, not only the first that finds something, because evidence
// that points at two different probes is ambiguous: the mail is then left unmatched with
// a Detail naming every candidate and what pointed at it, and a person links it by hand.
// Falling silently to whichever rung happens to be stronger would hide a merged ticket or
// a crossed thread inside a latency figure. One exception: a verified Message-ID of ours
// (rung 1) outranks everything weaker, because nobody but us can make one; the weaker,
// disagreeing evidence is still named in the Detail. Two different probes at rung 1
// itself remain ambiguous.

// MatchIndex answers the lookups the matching ladder needs; the store implements it. Each
// method returns the probe ID, or "" when the value belongs to no probe. Message IDs are
// passed without angle brackets in the case found, tokens in upper case, ticket keys as
// found.
type MatchIndex interface {
	// ProbeByMessageID returns the probe whose thread holds messageID: its own
	// Message-ID or a vendor ID learned from an earlier match.
	ProbeByMessageID(messageID string) (string, error)
	// ProbeByToken returns the probe with that token.
	ProbeByToken(token string) (string, error)
	// ProbeByTicketKey returns the probe that vendor's ticket key was learned for.
	ProbeByTicketKey(vendor, key string) (string, error)
}

// Matcher ties inbound mail to probes. It is a value with no state of its own; Match is
// safe for concurrent use when Index is.
type Matcher struct {
	// Key is the database's Message-ID HMAC key. Without a key rung 1 is skipped (any ID
	// would verify) and our IDs can only match at rung 3.
	Key []byte
	// Mailbox is our address ("lin.wei@example.com"); plus-addresses are built on it.
	// Empty: rung 2 is skipped.
	Mailbox string
	// Vendors are the configured vendors, for the sender's vendor and its ticket keys.
	Vendors []Vendor
	// Index answers the lookups; it must not be nil.
	Index MatchIndex
	// Sent returns when a probe's inquiry was sent (zero when not known to be sent) and
	// the probe's clock skew (the IMAP server's clock minus ours). Evidence for a probe
	// whose inquiry went out after the mail arrived (ArrivedBefore, on our clock) is set
	// aside with the reason: such mail cannot answer it. Nil: no such check.
	Sent func(probeID string) (sentAt time.Time, clockSkew time.Duration, err error)
}

// Match is the outcome of matching one mail.
type Match struct {
	// ProbeID is the matched probe; "" when unmatched.
	ProbeID string
	// Rung is the strongest rung that found the probe; "" when unmatched.
	Rung Rung
	// Detail says what matched (`In-Reply-To <…>`, `Delivered-To lin.wei+K7Q2MX@…`,
	// `ticket key "4711" (…) in subject`, `token K7Q2MX in body`) or, when unmatched,
	// why: no evidence (what was looked for), or ambiguous (every candidate and what
	// pointed at it).
	Detail string
	// Vendor is the vendor the sender belongs to by its From domain; "" if none.
	Vendor string
	// ThreadIDs are this mail's Message-ID and the IDs it cites, to join the matched
	// probe's thread so later mail citing only them matches at rung 3. IDs the index
	// already gives to another probe are left out.
	ThreadIDs []string
	// TicketKeys are the ticket keys of the sender's vendor found in this mail, to record
	// for the matched probe (rung 4 for later mail). Keys the index already gives to
	// another probe are left out.
	TicketKeys []string
}

// ErrNoIndex is returned by Match when the Matcher has no index.
var ErrNoIndex = errors.New("matcher has no index")

// Match ties mail to a probe. ok is false when the mail is unmatched, Match.Detail then
// says why. ThreadIDs and TicketKeys are filled in either case, but are only to be
// recorded once the match is accepted (by Match or by a manual link). An error comes
// only from the index and leaves the mail undecided; it names the lookup that failed.
func (m Matcher) Match(mail Mail) (Match, bool, error) {
	if m.Index == nil {
		return Match{}, false, ErrNoIndex
	}
	s := matchState{m: m, mail: mail, knownIDs: map[string]string{}}
	vendor, hasVendor := m.vendorOf(mail.FromDomain())
	if hasVendor {
		s.res.Vendor = vendor.Name
	}
	s.refs = mailRefs(mail)

	steps := []func() error{
		s.byMessageID,
		s.byPlusAddress,
		s.byThread,
		func() error { return s.byTicketKey(vendor, hasVendor) },
		s.byToken,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return Match{}, false, fmt.Errorf("match mail %s: %w", mailLabel(mail), err)
		}
	}
	if err := s.dropEarly(); err != nil {
		return Match{}, false, fmt.Errorf("match mail %s: %w", mailLabel(mail), err)
	}
	ok := s.decide()
	if len(s.early) > 0 {
		if len(s.ev) == 0 {
			s.res.Detail = "no probe it could answer"
		}
		s.res.Detail += "; set aside: " + strings.Join(s.early, "; ")
	}
	s.learn()
	return s.res, ok, nil
}

// dropEarly removes the evidence for probes whose inquiry was sent after the mail
// arrived (beyond ArrivalTolerance): the mail cannot answer them, so they are no
// candidates, and never a latency. What it set aside goes into s.early, for the Detail.
func (s *matchState) dropEarly() error {
	if s.m.Sent == nil || s.mail.ReceivedAt.IsZero() {
		return nil
	}
	early := map[string]bool{}
	for _, p := range distinctProbes(s.ev) {
		sentAt, skew, err := s.m.Sent(p)
		if err != nil {
			return fmt.Errorf("read when probe %s was sent: %w", p, err)
		}
		arrived := s.mail.ReceivedAt.Add(-skew)
		if !ArrivedBefore(arrived, sentAt) {
			continue
		}
		early[p] = true
		e := s.ev[slices.IndexFunc(s.ev, func(e evidence) bool { return e.probe == p })] // its strongest
		s.early = append(s.early, fmt.Sprintf("probe %s by %s (%s): the mail arrived at %s, %s before that inquiry was sent at %s, so it cannot answer it",
			p, e.detail, e.rung, arrived.UTC().Format(time.RFC3339), sentAt.Sub(arrived).Round(time.Second), sentAt.UTC().Format(time.RFC3339)))
	}
	// Evidence stays in the order collected, strongest rung first.
	s.ev = slices.DeleteFunc(s.ev, func(e evidence) bool { return early[e.probe] })
	return nil
}

// mailLabel names a mail in errors.
func mailLabel(mail Mail) string {
	if mail.MessageID != "" {
		return "<" + mail.MessageID + ">"
	}
	return fmt.Sprintf("from %s %q", mail.From, mail.Subject)
}

// evidence is one finding of one rung.
type evidence struct {
	rung   Rung
	probe  string
	detail string
}

// mailRef is a message ID the mail cites and the header it came from.
type mailRef struct {
	header string
	id     string
}

// foundKey is a ticket key found in the mail and the pattern that found it.
type foundKey struct {
	key     string
	pattern string
	where   string
}

type matchState struct {
	m        Matcher
	mail     Mail
	refs     []mailRef
	knownIDs map[string]string // lower-case ID → probe ("" = unknown), from the index
	rung1IDs map[string]bool
	keys     []foundKey
	keyProbe map[string]string
	plusSeen []string // plus-address tokens that the index did not know
	words    int      // token-shaped words looked up
	ev       []evidence
	early    []string // candidates set aside: the mail arrived before their inquiry
	res      Match
}

// lookupID asks the index about a message ID once.
func (s *matchState) lookupID(id string) (string, error) {
	k := strings.ToLower(id)
	if p, ok := s.knownIDs[k]; ok {
		return p, nil
	}
	p, err := s.m.Index.ProbeByMessageID(id)
	if err != nil {
		return "", fmt.Errorf("look up message ID <%s>: %w", id, err)
	}
	s.knownIDs[k] = p
	return p, nil
}

func (s *matchState) add(r Rung, probe, detail string) {
	s.ev = append(s.ev, evidence{rung: r, probe: probe, detail: detail})
}

// byMessageID is rung 1.
func (s *matchState) byMessageID() error {
	s.rung1IDs = map[string]bool{}
	if len(s.m.Key) == 0 {
		return nil
	}
	cands := slices.Clone(s.refs)
	if r := s.mail.Report; r != nil {
		for _, id := range splitMessageIDs(r.OriginalMessageID) {
			cands = append(cands, mailRef{header: "DSN original Message-ID", id: id})
		}
	}
	for _, c := range cands {
		p, err := s.lookupID(c.id)
		if err != nil {
			return err
		}
		// Only an ID we made for the probe the index gives it to is ours; any other
		// (the vendor's, or one the index ties to another probe) is left to rung 3.
		if p == "" || !IsOurMessageID(s.m.Key, c.id, p) {
			continue
		}
		s.rung1IDs[strings.ToLower(c.id)] = true
		s.add(RungMessageID, p, fmt.Sprintf("%s <%s>", c.header, c.id))
	}
	return nil
}

// byPlusAddress is rung 2.
func (s *matchState) byPlusAddress() error {
	local, domain, ok := strings.Cut(bareAddress(s.m.Mailbox), "@")
	if !ok || local == "" || domain == "" {
		return nil
	}
	prefix := local + "+"
	headers := []struct {
		name  string
		addrs []string
	}{{"To", s.mail.To}, {"Cc", s.mail.Cc}, {"Delivered-To", s.mail.DeliveredTo}}
	asked := map[string]string{}
	for _, h := range headers {
		for _, a := range h.addrs {
			addr := bareAddress(a)
			l, d, ok := strings.Cut(addr, "@")
			if !ok || !strings.EqualFold(d, domain) || len(l) <= len(prefix) || !strings.EqualFold(l[:len(prefix)], prefix) {
				continue
			}
			tok := strings.ToUpper(l[len(prefix):])
			if !IsToken(tok) {
				continue
			}
			p, seen := asked[tok]
			if !seen {
				var err error
				if p, err = s.m.Index.ProbeByToken(tok); err != nil {
					return fmt.Errorf("look up plus-address token %s: %w", tok, err)
				}
				asked[tok] = p
				if p == "" {
					s.plusSeen = append(s.plusSeen, tok)
				}
			}
			if p != "" {
				s.add(RungPlusAddress, p, h.name+" "+addr)
			}
		}
	}
	return nil
}

// byThread is rung 3.
func (s *matchState) byThread() error {
	cands := slices.Clone(s.refs)
	if r := s.mail.Report; r != nil {
		for _, id := range splitMessageIDs(r.OriginalMessageID) {
			cands = append(cands, mailRef{header: "DSN original Message-ID", id: id})
		}
	}
	for _, c := range cands {
		if s.rung1IDs[strings.ToLower(c.id)] {
			continue
		}
		p, err := s.lookupID(c.id)
		if err != nil {
			return err
		}
		if p != "" {
			s.add(RungThread, p, fmt.Sprintf("%s <%s>", c.header, c.id))
		}
	}
	return nil
}

// byTicketKey is rung 4.
func (s *matchState) byTicketKey(v Vendor, hasVendor bool) error {
	s.keyProbe = map[string]string{}
	if !hasVendor {
		return nil
	}
	patterns := DefaultTicketKeys()
	if v.TicketKey != nil {
		patterns = append([]*regexp.Regexp{v.TicketKey}, patterns...)
	}
	s.keys = findTicketKeys(patterns, s.mail.Subject, bodyHead(s.mail, ticketKeyLines))
	for _, k := range s.keys {
		p, err := s.m.Index.ProbeByTicketKey(v.Name, k.key)
		if err != nil {
			return fmt.Errorf("look up vendor %s ticket key %q: %w", v.Name, k.key, err)
		}
		s.keyProbe[k.key] = p
		if p != "" {
			s.add(RungTicketKey, p, fmt.Sprintf("ticket key %q (%s) in %s", k.key, k.pattern, k.where))
		}
	}
	return nil
}

// maxTokenLookups bounds the index lookups for token-shaped words in one mail (a long
// newsletter holds thousands); the subject and the "Ref:" forms are looked up first.
const maxTokenLookups = 1000

var (
	// tokenWordRe finds token-shaped words; \b is an ASCII word boundary, so a token
	// next to CJK text or punctuation is still a word.
	tokenWordRe = regexp.MustCompile(`(?i)\b[0-9a-z]{6}\b`)
	// refTokenRe finds the footer form Compose writes ("Ref: TOKEN") and its variants.
	refTokenRe = regexp.MustCompile(`(?i)\bref(?:erence)?\.?\s*(?:[:#：]\s*)?([0-9a-z]{6})\b`)
)

// byToken is rung 5.
func (s *matchState) byToken() error {
	texts := []struct{ where, text string }{{"subject", s.mail.Subject}}
	if strings.TrimSpace(s.mail.NewText) == "" {
		texts = append(texts, struct{ where, text string }{"body", s.mail.FullText})
	} else {
		texts = append(texts, struct{ where, text string }{"body", s.mail.NewText},
			struct{ where, text string }{"quoted text", s.mail.FullText})
	}
	type word struct{ tok, where string }
	var refs, bare []word
	seen := map[string]bool{}
	for _, t := range texts {
		for _, sm := range refTokenRe.FindAllStringSubmatch(t.text, -1) {
			if tok := strings.ToUpper(sm[1]); IsToken(tok) && !seen["ref:"+tok] {
				seen["ref:"+tok] = true
				refs = append(refs, word{tok, t.where})
			}
		}
	}
	for _, t := range texts {
		for _, w := range tokenWordRe.FindAllString(t.text, -1) {
			if tok := strings.ToUpper(w); IsToken(tok) && !seen[tok] {
				seen[tok] = true
				bare = append(bare, word{tok, t.where})
			}
		}
	}
	asked := map[string]string{}
	look := func(tok string) (string, error) {
		if p, ok := asked[tok]; ok {
			return p, nil
		}
		s.words++
		p, err := s.m.Index.ProbeByToken(tok)
		if err != nil {
			return "", fmt.Errorf("look up token %s: %w", tok, err)
		}
		asked[tok] = p
		return p, nil
	}
	// The "Ref:" form is preferred: when it names a known probe, bare words are not
	// consulted at all.
	found := false
	for _, w := range refs {
		p, err := look(w.tok)
		if err != nil {
			return err
		}
		if p != "" {
			found = true
			s.add(RungToken, p, fmt.Sprintf("Ref: %s in %s", w.tok, w.where))
		}
	}
	if found {
		return nil
	}
	for _, w := range bare {
		if s.words >= maxTokenLookups {
			break
		}
		p, err := look(w.tok)
		if err != nil {
			return err
		}
		if p != "" {
			s.add(RungToken, p, fmt.Sprintf("token %s in %s", w.tok, w.where))
		}
	}
	return nil
}

// decide picks the probe, or explains why none.
func (s *matchState) decide() bool {
	var r1 []evidence
	for _, e := range s.ev {
		if e.rung == RungMessageID {
			r1 = append(r1, e)
		}
	}
	if probes := distinctProbes(r1); len(probes) == 1 {
		e := r1[0]
		s.res.ProbeID, s.res.Rung, s.res.Detail = e.probe, e.rung, e.detail
		var overruled []string
		for _, o := range s.ev {
			if o.probe != e.probe {
				overruled = append(overruled, fmt.Sprintf("%s (%s, probe %s)", o.detail, o.rung, o.probe))
			}
		}
		if len(overruled) > 0 {
			s.res.Detail += "; outranks " + strings.Join(overruled, ", ")
		}
		return true
	} else if len(probes) > 1 {
		s.res.Detail = ambiguity(r1)
		return false
	}
	switch probes := distinctProbes(s.ev); len(probes) {
	case 0:
		s.res.Detail = s.noEvidence()
		return false
	case 1:
		e := s.ev[0] // evidence is collected strongest rung first
		s.res.ProbeID, s.res.Rung, s.res.Detail = e.probe, e.rung, e.detail
		return true
	default:
		s.res.Detail = ambiguity(s.ev)
		return false
	}
}

func distinctProbes(ev []evidence) []string {
	var ps []string
	for _, e := range ev {
		if !slices.Contains(ps, e.probe) {
			ps = append(ps, e.probe)
		}
	}
	return ps
}

// ambiguity names every candidate probe and the strongest evidence for each.
func ambiguity(ev []evidence) string {
	var parts []string
	for _, p := range distinctProbes(ev) {
		for _, e := range ev {
			if e.probe == p {
				parts = append(parts, fmt.Sprintf("probe %s by %s (%s)", p, e.detail, e.rung))
				break
			}
		}
	}
	return "ambiguous: " + strings.Join(parts, " vs ") + "; link it by hand"
}

// noEvidence says what was looked for and not found.
func (s *matchState) noEvidence() string {
	var parts []string
	if n := len(s.refs); n == 0 {
		parts = append(parts, "no In-Reply-To or References")
	} else {
		parts = append(parts, fmt.Sprintf("%d cited message IDs, none known", n))
	}
	if _, _, ok := strings.Cut(bareAddress(s.m.Mailbox), "@"); ok {
		if len(s.plusSeen) > 0 {
			parts = append(parts, "unknown plus-address token "+strings.Join(s.plusSeen, ", "))
		} else {
			parts = append(parts, "no plus-address of "+bareAddress(s.m.Mailbox))
		}
	}
	switch {
	case s.res.Vendor == "":
		parts = append(parts, fmt.Sprintf("sender domain %q belongs to no vendor", s.mail.FromDomain()))
	case len(s.keys) == 0:
		parts = append(parts, "no ticket key of vendor "+s.res.Vendor)
	default:
		var ks []string
		for _, k := range s.keys {
			ks = append(ks, fmt.Sprintf("%q", k.key))
		}
		parts = append(parts, fmt.Sprintf("ticket keys %s unknown for vendor %s", strings.Join(ks, ", "), s.res.Vendor))
	}
	parts = append(parts, fmt.Sprintf("no known token (%d token-shaped words checked)", s.words))
	return "no evidence: " + strings.Join(parts, "; ")
}

// learn fills ThreadIDs and TicketKeys, leaving out what the index gives to another
// probe (for an unmatched mail: to any probe).
func (s *matchState) learn() {
	seen := map[string]bool{}
	add := func(id string) {
		k := strings.ToLower(id)
		if id == "" || seen[k] {
			return
		}
		seen[k] = true
		if p, ok := s.knownIDs[k]; ok && p != "" && p != s.res.ProbeID {
			return
		}
		s.res.ThreadIDs = append(s.res.ThreadIDs, id)
	}
	for _, id := range splitMessageIDs(s.mail.MessageID) {
		add(id)
	}
	for _, r := range s.refs {
		add(r.id)
	}
	for _, k := range s.keys {
		if p := s.keyProbe[k.key]; p != "" && p != s.res.ProbeID {
			continue
		}
		if !slices.Contains(s.res.TicketKeys, k.key) {
			s.res.TicketKeys = append(s.res.TicketKeys, k.key)
		}
	}
}

// vendorOf returns the vendor whose Domains hold domain, exactly or as a parent domain;
// the most specific domain wins, and between equally specific ones the first vendor in
// configuration order (configuration should not list a domain twice).
func (m Matcher) vendorOf(domain string) (Vendor, bool) {
	domain = strings.Trim(strings.ToLower(domain), ".")
	if domain == "" {
		return Vendor{}, false
	}
	best, bestLen := -1, 0
	for i, v := range m.Vendors {
		for _, d := range v.Domains {
			d = strings.Trim(strings.ToLower(strings.TrimSpace(d)), "@.")
			if d == "" || (domain != d && !strings.HasSuffix(domain, "."+d)) {
				continue
			}
			if len(d) > bestLen {
				best, bestLen = i, len(d)
			}
		}
	}
	if best < 0 {
		return Vendor{}, false
	}
	return m.Vendors[best], true
}

// mailRefs returns the IDs in In-Reply-To then References, each once.
func mailRefs(mail Mail) []mailRef {
	var refs []mailRef
	seen := map[string]bool{}
	for _, h := range []struct {
		name string
		ids  []string
	}{{"In-Reply-To", mail.InReplyTo}, {"References", mail.References}} {
		for _, raw := range h.ids {
			for _, id := range splitMessageIDs(raw) {
				if k := strings.ToLower(id); !seen[k] {
					seen[k] = true
					refs = append(refs, mailRef{header: h.name, id: id})
				}
			}
		}
	}
	return refs
}

// splitMessageIDs parses message IDs tolerantly: "<a@b> <c@d>", "<a@b>,<c@d>", bare
// "a@b, c@d", a missing closing bracket. Outside brackets only words with an "@" count,
// so comments such as "(Lin Wei's message of …)" are skipped.
func splitMessageIDs(s string) []string {
	var ids []string
	if strings.Contains(s, "<") {
		for {
			i := strings.IndexByte(s, '<')
			if i < 0 {
				break
			}
			s = s[i+1:]
			j := strings.IndexByte(s, '>')
			if j < 0 {
				j = len(s)
			}
			if id := strings.Join(strings.Fields(s[:j]), ""); id != "" {
				ids = append(ids, id)
			}
			if j == len(s) {
				break
			}
			s = s[j+1:]
		}
		return ids
	}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
		if strings.Contains(f, "@") {
			ids = append(ids, strings.Trim(f, "<>"))
		}
	}
	return ids
}

// bareAddress returns the address in "Name <addr>" or "addr", lower case.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// ticketKeyLines is how many non-blank, unquoted lines at the top of the body are
// searched for ticket keys, after the subject: help desks put "Ticket #4711 created" and
// "Case: 00123456" there, while keys deeper in the text are too often someone else's
// (a release number, a quoted older ticket).
const ticketKeyLines = 10

// bodyHead returns the first n non-blank, unquoted lines of the new text (of the full
// text when the parser found no new text).
func bodyHead(mail Mail, n int) string {
	text := mail.NewText
	if strings.TrimSpace(text) == "" {
		text = mail.FullText
	}
	var lines []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ">") {
			continue
		}
		lines = append(lines, line)
		if len(lines) == n {
			break
		}
	}
	return strings.Join(lines, "\n")
}

// defaultTicketKeys are the ticket-key formats of common help desks, each with exactly
// one capture group holding the key. Order matters only for which pattern is credited
// when two find the same key.
var defaultTicketKeys = []*regexp.Regexp{
	// [#123], [Ticket#123], [Ticket #123]: Zendesk, Freshdesk, osTicket subjects.
	regexp.MustCompile(`(?i)\[\s*(?:ticket\s*)?#\s*(\d+)\s*\]`),
	// [Acme #4711], [name #12]: Request Tracker and help desks named after the vendor.
	regexp.MustCompile(`\[[\p{L}\p{N}][\p{L}\p{N} ._&-]{0,38}?\s*#\s*(\d+)\s*\]`),
	// Case #00123456, Case: 00123456, Case Number: 00123456: Salesforce Service Cloud.
	regexp.MustCompile(`(?i)\bcase\s*(?:number|no\.?|id)?\s*[#:：]?\s*(\d{5,12})\b`),
	// Ticket #4711, Request #4711, Ticket ID: 4711 in text.
	regexp.MustCompile(`(?i)\b(?:ticket|request|incident|inquiry|enquiry)\s*(?:number|no\.?|id)?\s*[#:：]\s*(\d{3,12})\b`),
	// 工单号：12345, 工單編號 12345.
	regexp.MustCompile(`(?:工单|工單)\s*(?:号|號|编号|編號)?\s*[#:：]?\s*(\d{3,12})`),
	// ABC-12: Jira Service Management (project key of 2 to 10 upper-case letters).
	regexp.MustCompile(`\b([A-Z]{2,10}-[1-9][0-9]{0,7})\b`),
	// ref:_00D…._500…:ref (classic) and ref:!00D….!500…:ref (Lightning): Salesforce
	// Email-to-Case thread IDs.
	regexp.MustCompile(`\b(ref:[_!]00D[0-9A-Za-z]{4,}\.?[_!]500[0-9A-Za-z]{4,}:ref)\b`),
}

// DefaultTicketKeys returns the ticket-key patterns used for every vendor, after the
// vendor's own: "[#123]", "[Ticket#123]", "[Ticket #123]" (Freshdesk and Zendesk
// "[#123]" included), "[Acme #4711]", "Case #00123456" and "Case: 00123456",
// "Ticket #4711" and "Ticket ID: 4711", "工单号：12345", Jira-style "ABC-12", and
// Salesforce thread IDs "ref:_00D…._500…:ref" and "ref:!00D….!500…:ref". Each has
// exactly one capture group, the key. The slice is a fresh copy; the expressions are
// shared and safe for concurrent use.
func DefaultTicketKeys() []*regexp.Regexp {
	return slices.Clone(defaultTicketKeys)
}

// notTicketProjects are upper-case prefixes that look like Jira project keys in
// "XYZ-123" but name standards, encodings and time zones.
var notTicketProjects = map[string]bool{
	"UTF": true, "ISO": true, "SHA": true, "MD": true, "RFC": true, "TLS": true, "SSL": true,
	"HTTP": true, "HTTPS": true, "CVE": true, "GMT": true, "UTC": true, "CST": true, "EST": true,
	"PST": true, "CET": true, "IPV": true, "COVID": true, "TCP": true, "UDP": true, "AES": true,
	"RSA": true, "GB": true, "CP": true, "WIN": true, "ANSI": true, "ASCII": true, "EN": true,
	"IEC": true, "PCI": true, "SOC": true, "TLSV": true, "X": true,
}

// findTicketKeys returns the keys patterns find in the subject, then in head, each once,
// credited to the first pattern that found it.
func findTicketKeys(patterns []*regexp.Regexp, subject, head string) []foundKey {
	var keys []foundKey
	for _, t := range []struct{ where, text string }{{"subject", subject}, {"body", head}} {
		for _, re := range patterns {
			for _, sm := range re.FindAllStringSubmatch(t.text, -1) {
				if len(sm) < 2 {
					continue
				}
				k := strings.TrimSpace(sm[1])
				if k == "" || slices.ContainsFunc(keys, func(f foundKey) bool { return f.key == k }) {
					continue
				}
				if proj, num, ok := strings.Cut(k, "-"); ok && isDigits(num) && notTicketProjects[proj] {
					continue
				}
				keys = append(keys, foundKey{key: k, pattern: re.String(), where: t.where})
			}
		}
	}
	return keys
}
