package probe

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Telling automatic mail from a person's reply
//
// Classify gathers evidence on two sides and weighs it; it is not a first-match ladder.
//
//  1. Rules from the configuration, first match wins: `rule "name"`, confidence 1.
//  2. Machine reports decide by what they state (classifyReport): the report-type of a
//     multipart/report; a DSN's Action before its status ("failed": bounce, whatever the
//     status class; "delayed": other, the inquiry may still arrive; "delivered",
//     "relayed", "expanded", "deliverable", "undeliverable": other, a success or
//     verification report, no message returned);
//     RFC 5965 feedback reports and RFC 8098 read receipts: other; a bounce without a
//     DSN by its give-up wording, status class and subject. Then mail from a mail
//     system (MAILER-DAEMON, postmaster, a null Return-Path) or in its words with a
//     permanent SMTP failure, and providers' JSON notifications (classifyStructured).
//  3. Everything else is weighed (weigh). Machine evidence: Auto-Submitted (1),
//     Precedence bulk/junk/auto_reply and X-Auto-Response-Suppress (0.5), a no-reply sender (1.5), a null Return-Path (3), help-desk headers (0.25:
//     agents' answers carry them too), wording that a request was received or a ticket
//     created (2.5 each), that the mail is automatic (4), courtesy wording (0.5),
//     template sentences (0.25 each, at most 0.75), an X-Autoreply or X-Autorespond
//     header, an absence subject, absence wording under an automatic signal (2.5 each),
//     a help desk's resolved/closed notice (2), survey or verification wording (3), list
//     headers on mail that is not a reply (4 + 1), a team's signature (0.5), nothing of
//     weight beyond receipt wording (1). Person evidence: new text (3 from humanWeight, 1.5
//     from cueWeight, else 0.5), up to two cues of a person answering (1 each: a
//     question, first person, an instruction, a yes or no), text that answers on its own
//     (1), a named person's signature (1), and no automatic signal at all (1).
//  4. The kind is what the machine side points to (out_of_office when an absence is
//     named and no help desk acknowledges; other for surveys, verification mails,
//     newsletters and status notices; auto_ack for the rest), or human when the text is
//     substantial; whichever side weighs more wins, and the confidence is the logistic
//     of the margin. Below ReviewThreshold the kind is needs_review, leaning to the kind
//     the evidence favoured. Every signal and its weight is in the reason.
//
// "New text" is Mail.NewText with what a help desk adds around a message taken out:
// anything after a signature delimiter ("-- "), a closing line ("Best regards,", "此致",
// "よろしくお願いいたします") once some content came before it, or a separator that
// starts a copy of the request ("-----Original Message-----", "On … wrote:", a From:/Sent:
// block, or a line of dashes below ack, survey or verification wording: an update
// notice's dashes are followed by the agent's new comment, which counts); greetings
// ("Dear Lin,", "您好，", "いつもお世話になっております"); every sentence of template
// wording (ticket links, "reply above this line", business hours, "Status: Open", survey,
// verification and absence phrases); and, clause by clause, acknowledgement and courtesy
// wording: "感谢您的来信，我们支持7x24小时服务" keeps its answer, where dropping the
// sentence would drop it. URLs and e-mail addresses do not count, nor do digits.
//
// What is left is weighed in letters, a CJK character counting as three (a Chinese
// sentence of about 27 characters carries what an English sentence of about 80 letters
// does). It answers on its own when it weighs at least humanWeight (150: two or three
// sentences), or at least cueWeight (30: a short sentence) and either shows a cue of a
// person answering or the mail has no wording that a request was received.
// Reasons report the length in characters (runes) of that text.

// Rule is a per-vendor override from the configuration: mail whose sender and subject
// match is given Kind, before any heuristic.
type Rule struct {
	// From is an address ("agents@acme.com") or "@domain", which also covers its
	// subdomains; "" matches any sender. Compared case-insensitively.
	From string
	// Subject must match the decoded subject; nil matches any.
	Subject *regexp.Regexp
	Kind    Kind
	// Name identifies the rule in the reason of every decision it makes.
	Name string
}

// matches reports whether r applies to m.
func (r Rule) matches(m Mail) bool {
	if from := strings.ToLower(strings.TrimSpace(r.From)); from != "" {
		if d, ok := strings.CutPrefix(from, "@"); ok {
			md := m.FromDomain()
			if md != d && !strings.HasSuffix(md, "."+d) {
				return false
			}
		} else if !strings.EqualFold(bareAddress(m.From), from) {
			return false
		}
	}
	return r.Subject == nil || r.Subject.MatchString(m.Subject)
}

// Classification is what a mail is, how sure the classifier is, and why.
type Classification struct {
	Kind Kind
	// Confidence is how strongly the evidence supports Kind, in [0,1]: 1 for a rule, about
	// 0.99 for a machine report that states what it is, and the logistic of the margin
	// between the two sides' weights otherwise. Below ReviewThreshold Kind is
	// KindNeedsReview and Reason says which kind the evidence leaned to.
	Confidence float64
	// Reason names the signals that decided, then every signal found on each side, for
	// the record beside the figure: `auto_ack: Auto-Submitted: auto-replied; ack wording
	// "we have received your request"; no new text beyond the acknowledgement
	// [confidence 0.95; machine: Auto-Submitted: auto-replied (+2), …; person: none]`.
	Reason string
}

// ReviewThreshold is the confidence below which a reply is KindNeedsReview: it counts as
// no response until a person decides its kind (`supportprobe review`).
const ReviewThreshold = 0.7

// The thresholds for new text, in weight (letters, a CJK character counting as 3).
const (
	humanWeight = 150 // substantial whatever else the mail says
	cueWeight   = 30  // enough with a cue of a person answering, or without ack wording
	cjkWeight   = 3
)

// classifyTextLimit bounds the new text Classify reads; see Classify.
const classifyTextLimit = 2 << 10

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Classify decides what kind of mail m is, from its headers and content and the rules
// (first match wins, confidence 1). It is a pure function of its arguments, so a stored
// mail reclassifies to the same result.
//
// Machine reports decide first: a DSN by its recipients' Action (failed: bounce;
// delayed: a delay, other; delivered, relayed, expanded, deliverable: a verification
// report, other), an RFC 5965 feedback report or an RFC 8098 read receipt (other), a
// provider's JSON notification (bounce or other by its event), a bounce without a DSN
// (by its sender, subject, status and give-up wording). None of them is a person's reply:
// a person who forwards a bounce with a note sends a message of their own, whose report
// is attached, not the message itself.
//
// Other mail is weighed: machine evidence (automatic headers, help-desk headers, a
// no-reply sender, ack, template, notification, survey and verification wording, an
// absence subject) against person evidence (new text beyond courtesy openers and
// furniture, questions, instructions, first person, a named person's signature). The
// kind comes from the strongest machine evidence, or human when the person's side
// outweighs it; the confidence is the logistic of the margin, and below
// ReviewThreshold the kind is needs_review.
func Classify(m Mail, rules []Rule) Classification {
	for _, r := range rules {
		if r.matches(m) {
			return Classification{Kind: r.Kind, Confidence: 1, Reason: ruleReason(r)}
		}
	}
	if c, ok := classifyReplyReport(m); ok { // classify_machines.go
		return c
	}
	if c, ok := classifyReport(m); ok {
		return c
	}
	if c, ok := classifyListNotice(m); ok { // classify_machines.go
		return c
	}
	if c, ok := classifyDeskChangeNotice(m); ok { // classify_machines.go
		return c
	}
	if c, ok := classifyStructured(m); ok {
		return c
	}
	if c, ok := classifyRefusal(m); ok {
		return c
	}
	if c, ok := classifyReceipt(m); ok {
		return c
	}
	if c, ok := classifyAggregateReport(m); ok {
		return c
	}
	kind, why, ev := weigh(m)
	return ev.decide(kind, why)
}

// escalationRe is an escalation named in ack wording.
var escalationRe = regexp.MustCompile(`(?i)escalat`)

// unwrapLines joins the lines of each paragraph of text with a space, keeping blank
// lines between paragraphs.
func unwrapLines(text string) string {
	paras := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n")
	for i, p := range paras {
		paras[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(paras, "\n\n")
}

// weigh runs the wording and header analysis and returns the kind the machine side
// points to (or human), the decisive reason, and the evidence on both sides.
func weigh(m Mail) (Kind, string, *kindEvidence) {
	ev := &kindEvidence{}
	// Wording is looked for in the subject and the sender's own text: not in a
	// signature, nor in a copy of the request below it. Only the first
	// classifyTextLimit bytes (2 KiB: some 350 words, far beyond what makes an answer
	// substantial) are read: acknowledgements and answers say what they are at the
	// top, and the phrase search would otherwise take seconds on a 250 KB mail, holding
	// up every message behind it.
	nt := analyzeNewText(truncateUTF8(m.NewText, classifyTextLimit), m.Subject, newEcho(m.Inquiry))
	// A person forwarding a bounce with a note that answers nothing ("FYI, see below."):
	// what reaches us is the failure. A note that answers is a person's reply.
	if fwdPrefixRe.MatchString(m.Subject) && nt.weight < cueWeight && len(nt.cues) == 0 {
		if what := forwardedBounce(m); what != "" {
			ev.machine("forwards a bounce ("+what+") with a note that answers nothing", 4)
			return KindBounce, fmt.Sprintf("bounce: forwards a delivery failure (%s) with only %d chars of its own", what, nt.chars), ev
		}
	}
	// A reply's subject ("Re: Ticket Received - …") quotes the subject of the mail it
	// answers, so its wording says nothing of this one.
	ackSubject := m.Subject
	if replyPrefixRe.MatchString(m.Subject) {
		ackSubject = ""
	}
	// Phrases are looked for in paragraphs whose hard-wrapped lines are joined: "we've
	// got\nyour message" is one phrase.
	own := unwrapLines(nt.own)
	subjectAndText := m.Subject + "\n" + own
	acks := slices.Concat(findPhrases(subjectAckPhrases, ackSubject), findPhrases(ackPhrases, ackSubject+"\n"+own))
	// "Your escalation request has been logged" receipts the escalation of a request
	// filed long before, not the inquiry: the mail is the escalation's notice.
	ackText := ackSubject + "\n" + own
	acks = slices.DeleteFunc(acks, func(a hit) bool {
		return a.at <= len(ackText) && escalationRe.MatchString(ackText[max(0, a.at-24):min(len(ackText), a.end)])
	})
	// "We've received your request and I've refunded the duplicate charge": receipt
	// wording in a sentence whose other clauses answer is a person's courtesy.
	for i, a := range acks {
		if a.strong && a.end <= len(ackText) && answersBeside(besideHit(ackText, a)) {
			acks[i].strong = false
		}
	}
	strongAck, selfAuto := false, false
	for _, a := range acks {
		strongAck = strongAck || a.strong
		selfAuto = selfAuto || autoDeclRe.MatchString(a.text)
	}
	// A status notice cites its record too; only receipt wording makes it an
	// acknowledgement rather than a notice (below).
	receipt := strongAck
	for _, b := range nt.bookkeeping {
		if matchesAny(b.text, updatePhrases) {
			continue // a change notice cites its record too, and receipts nothing
		}
		if slices.ContainsFunc(acks, func(a hit) bool { return a.strong && strings.Contains(b.text, a.text) }) {
			continue // its receipt wording already counts ("Your case number is 0098123.")
		}
		acks = append(acks, hit{text: clip(b.text, 80), strong: b.strong, at: len(subjectAndText)})
		strongAck = strongAck || b.strong
	}
	auto := autoSignals(m)
	desk := helpDeskSignals(m)
	for _, a := range auto {
		ev.machine(a, autoWeight(a))
	}
	for _, d := range desk {
		ev.machine(d, 0.25)
	}
	if strings.TrimSpace(m.HeaderValue("Return-Path")) == "<>" {
		// RFC 5321: the null reverse-path is for notifications, never a person's mail.
		ev.machine("Return-Path <>", 3)
	}
	// Receipt wording in a mail that also answers ("Yes - …", work reported done; an
	// instruction is none here, since receipts give them too: "Please quote this
	// number", "ご確認ください") weighs less: agents open answers with their desk's
	// receipt formula.
	receiptWeight := 2.5
	if answersBeyondInstructions(nt.text) {
		receiptWeight = 1.5
	}
	for i, a := range acks {
		switch {
		case i >= 3:
		case a.strong:
			ev.machine(fmt.Sprintf("ack wording %q", a.text), receiptWeight)
		case autoDeclRe.MatchString(a.text):
			ev.machine(fmt.Sprintf("says it is automatic: %q", a.text), 4)
		default:
			ev.machine(fmt.Sprintf("courtesy or ack wording %q", a.text), 0.5)
		}
	}
	if nt.furniture > 0 {
		ev.machine(fmt.Sprintf("%d sentences of template wording", nt.furniture), min(0.25*float64(nt.furniture), 0.75))
	}
	if nt.echoed > 0 {
		// People quote with ">" or below "On … wrote:", which is gone before this; a
		// desk pastes the request into its acknowledgement.
		ev.machine(fmt.Sprintf("repeats %d sentences of our inquiry unquoted", nt.echoed), 0.5)
	}
	// "auto-replied" (RFC 3834: a response a program generated, as vacations and
	// acknowledgements are) with no cue of a person and no person's signature: some
	// desks mark their agents' answers so, but those show a person somewhere.
	if slices.ContainsFunc(auto, func(a string) bool { return strings.HasPrefix(a, "Auto-Submitted: auto-replied") }) &&
		len(nt.cues) == 0 && !(nt.signature != "" && personNameRe.MatchString(nt.signature) && !teamNameRe.MatchString(nt.signature)) {
		ev.machine("auto-replied with no sign of a person", 1)
	}
	// A mail that says it comes from an AI or virtual assistant ("I'm Fin, Vendor's AI
	// agent") is a program's however much it says and however personal its voice: a
	// person does not call themselves a bot.
	if bot := botDeclRe.FindString(nt.own); bot != "" {
		ev.machine(fmt.Sprintf("says it is an AI or virtual assistant: %q", strings.Join(strings.Fields(bot), " ")), 8)
		return KindAutoAck, fmt.Sprintf("auto_ack: says it is an AI or virtual assistant (%q); a program's answer, not a person's", strings.Join(strings.Fields(bot), " ")), ev
	}
	// Survey and verification wording is a program's too: such a mail is not "bare".
	// Each list is searched once; the rules below reuse the hits.
	surveyHits, verifyHits := findPhrases(surveyPhrases, subjectAndText), findPhrases(verifyPhrases, subjectAndText)
	unreadHits, reminderHits := findPhrases(unreadPhrases, subjectAndText), findPhrases(reminderPhrases, subjectAndText)
	machineWording := len(surveyHits)+len(verifyHits) > 0
	// A notification about something else (a receipt for a payment, a digest of missed
	// activity) says why it is sent; one that replies to nothing needs no automatic
	// header to be a program's.
	notReply := len(m.InReplyTo) == 0 && len(m.References) == 0 && !replyPrefixRe.MatchString(m.Subject)
	// (The footer that says why is below the signature: the new text's first
	// classifyTextLimit bytes are read, as for every phrase.)
	head := truncateUTF8(m.NewText, classifyTextLimit)
	notif := findPhrases(notificationPhrases, subjectAndText+"\n"+head)
	machineWording = machineWording || len(notif) > 0
	// Thanks alone ("Thank you for your message. We do support SSO via SAML.") opens
	// people's answers as often as acknowledgements: it does not stop a mail from being
	// bare of automatic signals. A promise or receipt wording does.
	courtesyOnly := !slices.ContainsFunc(acks, func(a hit) bool { return a.strong || !courtesyRe.MatchString(a.text) })
	// A mail that says it received the request (or that the team is away), under an
	// automatic header, with no cue of a person answering: its length (a desk's long
	// template, in a language whose furniture we do not all know, or in an agent's
	// first person: "I'm Sam and I'll be looking after your request") makes no answer.
	// First person alone, a question mark or a "my" is no answer; an instruction, a
	// yes or no, or work reported done is.
	teamAwayWording := len(findPhrases(teamAwayPhrases, subjectAndText)) > 0
	// Receipt wording, that is: a record number cited in a status line ("Ticket #4471 |
	// Status: Solved") above an agent's answer receipts nothing.
	receiptOnly := (receipt || teamAwayWording) && len(auto) > 0 && !answersBeyondInstructions(nt.text)
	// The same holds for a verification or challenge, a survey, a reminder that the desk
	// waits for us, or a notice that nobody reads the mail (or that a moderator holds
	// it), under an automatic header: however
	// long, with no cue of a person answering, it is the program's mail its wording
	// says it is.
	formOnly := (machineWording || len(unreadHits) > 0 || len(reminderHits) > 0) && (len(auto) > 0 || len(notif) > 0 && notReply) && !answersBeyondInstructions(nt.text)
	nt.receiptOnly = receiptOnly
	if formOnly && !receiptOnly {
		nt.formOnly = true
	}
	nt.personEvidence(ev, len(auto) == 0 && courtesyOnly && len(desk) == 0 && !machineWording && nt.furniture == 0)
	// Courtesy wording ("Thanks for reaching out", "感谢您的来信") opens people's answers
	// as often as acknowledgements; only wording that says a request was received or
	// that the mail is automatic asks the rest of the text to show a person's cue.
	if sub, why := nt.substantial(strongAck || selfAuto); sub && !receiptOnly {
		if why == "" {
			why = "by its length"
		}
		ev.person("answers on its own "+why, 1)
	} else if strongAck || selfAuto || len(acks) > 0 && nt.weight == 0 {
		ev.machine("nothing of weight beyond the acknowledgement", 1)
	}

	// Out of office, unless the content is a help desk's acknowledgement.
	personal := findPhrases(personalAbsence, nt.own)
	// Whether the sender answers is judged on the text left once absence, redirect and
	// template sentences are out: "so please resend your question to her" belongs to
	// the notice.
	ooo := oooSignals(m, auto, personal, nt.weight < cueWeight && len(nt.cues) == 0 && len(nt.bookkeeping) == 0, answeringCue(findPhrases(humanCues, nt.text), true))
	for _, o := range ooo {
		w := 2.5
		if strings.HasPrefix(o, "says the person has left") {
			// Said of the person in the third person: a notice, which a colleague's
			// answer beside it (a cue, weight) can still outweigh.
			w = 4
		}
		ev.machine(o, w)
	}
	// A help desk's automatic reply ("AutoReply", "Automatic reply: [Ticket#…]") is its
	// acknowledgement; only a person's absence wording makes it an absence notice.
	// A support team's own closure ("Our office is closed for the holidays; our
	// support team will respond when we are back") acknowledges the request for the
	// team; it is no person's absence.
	teamAway := len(personal) == 0 && teamAwayWording
	deskAck := strongAck || len(desk) > 0 || teamAway
	// "This mailbox is not monitored" under an "Automatic reply" subject is no absence:
	// nobody is away, nobody reads it (below), unless a person's absence is said too.
	unreadNotice := len(personal) == 0 && len(unreadHits) > 0
	if len(ooo) > 0 && (!deskAck || len(personal) > 0) && !unreadNotice {
		return KindOutOfOffice, "out_of_office: " + strings.Join(slices.Concat(ooo, auto), "; "), ev
	}

	// A survey sent with a solved notice ("Request #48213 has been solved … How would you
	// rate the support you received?") is the survey, whatever comment it carries.
	solvedSurvey := len(surveyHits) > 0 && len(auto) > 0 && len(findPhrases(noticePhrases, subjectAndText)) > 0
	// Nor does a survey become an answer by its length: only a person answering in it
	// (a yes or no, work reported done) does.
	if other := surveyHits; len(other) > 0 && (nt.weight < humanWeight || formOnly || solvedSurvey || !answersBeyondInstructions(nt.text)) {
		ev.machine("survey wording "+quoteMatches(other), 3)
		return KindOther, "other: survey " + quoteMatches(other) + newTextNote(nt), ev
	}
	if other := verifyHits; len(other) > 0 && (nt.weight < humanWeight || formOnly) {
		ev.machine("verification wording "+quoteMatches(other), 3)
		return KindOther, "other: verification " + quoteMatches(other) + newTextNote(nt), ev
	}
	// Nobody will read it: an address that is not monitored, or mail held by a
	// security gateway. Not an acknowledgement (no request was opened), not an answer;
	// but a receipt that adds "replies to this address are not read" is a receipt.
	if other := unreadHits; len(other) > 0 && (nt.weight < humanWeight && len(nt.cues) == 0 || formOnly) && !strongAck {
		ev.machine("not read by anyone "+quoteMatches(other), 3)
		return KindOther, "other: says the mail is not read " + quoteMatches(other) + newTextNote(nt), ev
	}
	// A reminder that the desk waits for us, under an automatic header, with no cue of
	// a person answering: "Could you send the details?" is the reminder's own question.
	if rem := reminderHits; len(rem) > 0 && formOnly && !strongAck {
		ev.machine("reminder wording "+quoteMatches(rem), 3)
		return KindOther, "other: a reminder that the desk waits for us " + quoteMatches(rem) + newTextNote(nt), ev
	}
	list := listSignals(m)
	newsletter := len(list) > 0 && len(m.InReplyTo) == 0 && len(m.References) == 0
	if newsletter && len(acks) == 0 {
		ev.machine("newsletter ("+strings.Join(list, ", ")+")", 4)
		ev.machine("not a reply (no In-Reply-To or References)", 1)
		return KindOther, "other: newsletter (" + strings.Join(list, ", ") + ", not a reply)", ev
	}
	// Marketing that replies to nothing ("You're invited: …", "Save your seat"): what a
	// vendor's campaign system sends a new contact, not a response to the inquiry.
	if promo := findPhrases(promoPhrases, subjectAndText); len(promo) > 0 && notReply && len(acks) == 0 && !answersInClauses(nt.text) {
		ev.machine("promotional wording "+quoteMatches(promo), 3)
		ev.machine("not a reply (no In-Reply-To, References or reply prefix)", 1)
		return KindOther, "other: promotional mail (" + quoteMatches(promo) + "), not a reply", ev
	}
	// A sales sequence's mail: sales wording and a way to unsubscribe, nothing answered.
	if sales := findPhrases(salesPhrases, subjectAndText); len(sales) > 0 && unsubscribeRe.MatchString(head) {
		// Both together: a person answering a support question neither pitches a call
		// nor offers a way to unsubscribe from their own mail.
		ev.machine("sales-sequence wording "+quoteMatches(sales)+" with an unsubscribe line", 8)
		return KindOther, "other: a sales sequence's mail (" + quoteMatches(sales) + ", an unsubscribe line), not an answer", ev
	}
	// A notification about something else (a receipt for a payment, a digest of missed
	// activity) that replies to nothing, or that an automatic header marks.
	if len(notif) > 0 && (notReply || len(auto) > 0) && len(acks) == 0 && !answeringCue(nt.cues, false) {
		ev.machine("notification wording "+quoteMatches(notif), 3)
		if notReply {
			ev.machine("not a reply (no In-Reply-To, References or reply prefix)", 1)
		}
		return KindOther, "other: an automatic notification (" + quoteMatches(notif) + "), not a response" + newTextNote(nt), ev
	}
	notice := findPhrases(noticePhrases, subjectAndText)
	if routed := findPhrases(routedPhrases, subjectAndText); len(routed) > 0 && !strongAck {
		notice = append(notice, routed...)
	}
	if len(notice) > 0 {
		ev.machine("status notification "+quoteMatches(notice), 2)
	}
	updated := findPhrases(updatePhrases, subjectAndText)

	if substantial, why := nt.substantial(strongAck || selfAuto); substantial && !newsletter && !receiptOnly {
		reason := fmt.Sprintf("human: %d chars of new text", nt.chars)
		if why != "" {
			reason += " " + why
		}
		if len(acks) > 0 {
			reason += " beyond ack wording " + quoteMatches(acks)
		}
		if despite := slices.Concat(auto, ooo); len(despite) > 0 {
			reason += " despite " + strings.Join(despite, ", ")
		} else if len(acks) == 0 {
			reason += ", no automatic signal"
		}
		// When the machine side outweighs the text, decide() turns this around.
		ev.alt = KindAutoAck
		if len(notice)+len(updated) > 0 && !receipt {
			ev.alt = KindOther
		}
		return KindHuman, reason, ev
	}
	if len(notice) > 0 && !receipt {
		return KindOther, "other: help-desk status notification " + quoteMatches(notice) + ", not a response; " + autoRemainder(nt), ev
	}
	if len(updated) > 0 && !receipt {
		ev.machine("change notice "+quoteMatches(updated)+" with nothing of weight beside it", 2)
		return KindOther, "other: help-desk change notice " + quoteMatches(updated) + ", nothing of weight beside it; " + autoRemainder(nt), ev
	}
	if len(acks) > 0 {
		sig := slices.Clone(auto)
		if len(ooo) > 0 {
			sig = append(sig, strings.Join(ooo, ", ")+", but the content is a help desk's acknowledgement")
		}
		sig = append(sig, "ack wording "+quoteMatches(acks))
		return KindAutoAck, "auto_ack: " + strings.Join(sig, "; ") + "; " + ackRemainder(nt), ev
	}
	if len(auto) > 0 || len(desk) > 0 {
		return KindAutoAck, "auto_ack: " + strings.Join(slices.Concat(auto, desk), "; ") + "; " + autoRemainder(nt), ev
	}
	if nt.weight > 0 {
		return KindHuman, fmt.Sprintf("human: %d chars of new text, no automatic signal", nt.chars), ev
	}
	// Nothing but links, from no program: a person pasting the documentation pages
	// that answer ("https://docs.example/export/svg"). A program's mail says something
	// around its links.
	if links := linkOnlyRe.FindAllString(nt.own, -1); len(links) > 0 && len(acks) == 0 && len(desk) == 0 && strings.TrimSpace(linkOnlyRe.ReplaceAllString(nt.own, "")) == "" {
		ev.person(fmt.Sprintf("nothing but %d links, from no program", len(links)), 2)
		return KindHuman, fmt.Sprintf("human: nothing but %d links, no automatic signal", len(links)), ev
	}
	ev.machine("no new text", 1.5)
	return KindOther, "other: no new text and no signal of a person, an acknowledgement or an automatic sender", ev
}

// linkOnlyRe is a web link standing alone, with the punctuation around it.
var linkOnlyRe = regexp.MustCompile(`(?i)[\s<(\[]*https?://\S+[\s>)\].,;]*`)

func ruleReason(r Rule) string {
	var on []string
	if r.From != "" {
		on = append(on, "from "+r.From)
	}
	if r.Subject != nil {
		on = append(on, "subject /"+r.Subject.String()+"/")
	}
	if len(on) == 0 {
		return fmt.Sprintf("rule %q", r.Name)
	}
	return fmt.Sprintf("rule %q (%s)", r.Name, strings.Join(on, ", "))
}

func newTextNote(nt newText) string {
	if nt.chars == 0 {
		return ", no new text"
	}
	return fmt.Sprintf(", only %d chars of other new text", nt.chars)
}

func ackRemainder(nt newText) string {
	if nt.chars == 0 {
		return "no new text beyond the acknowledgement"
	}
	return fmt.Sprintf("only %d chars of new text beyond the acknowledgement", nt.chars)
}

func autoRemainder(nt newText) string {
	if nt.chars == 0 {
		return "no new human text"
	}
	return fmt.Sprintf("only %d chars of new text", nt.chars)
}

// Machine reports.

var (
	daemonSenderRe  = regexp.MustCompile(`(?i)^(?:mailer[-_]?daemon|mail[-_]?daemon|postmaster|mail[-_]?delivery[-_]?(?:system|subsystem)?|microsoftexchange[0-9a-f]{32})$`)
	bounceSubjectRe = regexp.MustCompile(`(?i)undeliver|returned to sender|returned mail|delivery status notification(?: \((?:failure|delay)|: (?:failed|error))|delivery (?:has )?failed|delivery failure|failure notice|mail delivery (?:failed|failure|system)|could not be delivered|non[- ]?delivery|not delivered|mail system error|退信|投递失败|投遞失敗|无法投递|無法投遞|未能送达|unzustellbar|nicht zustellbar|non remis|échec de la remise|no se puede entregar|no entregado|onbestelbaar|non recapitabile|não entregue|配信不能|送信できませんでした`)
	delaySubjectRe  = regexp.MustCompile(`(?i)delay|still being retried|warning: could not send|延迟|延遲|verzögert|retardé`)
)

// dispositionDeleted reports whether an RFC 8098 Disposition field
// ("automatic-action/MDN-sent-automatically; deleted") has the disposition type deleted.
func dispositionDeleted(disposition string) bool {
	_, typ, ok := strings.Cut(disposition, ";")
	if !ok {
		return false
	}
	typ, _, _ = strings.Cut(typ, "/") // an old modifier: "deleted/error"
	return strings.EqualFold(strings.TrimSpace(typ), "deleted")
}

// reportConfidence is the confidence of a decision a machine report states itself.
const reportConfidence = 0.99

// classifyReport decides a machine report: a multipart/report of any type, or a bounce
// recognised without one.
func classifyReport(m Mail) (Classification, bool) {
	r := m.Report
	if r == nil {
		return classifyDaemonNotice(m)
	}
	var parts []string
	if r.ReportType != "" {
		parts = append(parts, "report-type "+r.ReportType)
	}
	if len(r.Actions) > 1 {
		parts = append(parts, "actions "+strings.Join(r.Actions, ","))
	}
	action := r.Action
	if action == "" {
		action = "unknown"
	}
	if r.Action != "" || r.ReportType == "delivery-status" {
		parts = append(parts, "action "+action)
	}
	if r.Status != "" {
		parts = append(parts, "status "+r.Status)
	}
	if r.GaveUp {
		parts = append(parts, "says it gave up")
	}
	if r.Feedback != "" {
		parts = append(parts, fmt.Sprintf("%q", clip(r.Feedback, 80)))
	}
	if r.Diagnostic != "" {
		parts = append(parts, fmt.Sprintf("%q", clip(r.Diagnostic, 120)))
	}
	detail := strings.Join(parts, ", ")
	sure := func(k Kind, reason string, conf float64) (Classification, bool) {
		return Classification{Kind: k, Confidence: conf,
			Reason: fmt.Sprintf("%s [confidence %.2f; machine: %s; person: none, a machine report]", reason, conf, detail)}, true
	}
	switch r.ReportType {
	case "feedback-report":
		return sure(KindOther, "other: feedback report (RFC 5965), a complaint about a message, not a response", reportConfidence)
	case "disposition-notification":
		// RFC 8098's disposition type says what became of our message. "deleted", as a
		// Sieve reject (RFC 5429) or a filter sends it, means it was thrown away unread:
		// refused, like a bounce. "displayed" is a read receipt.
		if dispositionDeleted(r.Feedback) {
			return sure(KindBounce, "bounce: the recipient's system rejected or deleted the message unread (RFC 8098 disposition \"deleted\", as a Sieve reject sends)", reportConfidence)
		}
		return sure(KindOther, "other: read receipt (RFC 8098), no response", reportConfidence)
	}
	// The recipient's Action decides before the status: a 4.x.x status under "failed"
	// is a failure (the server gave up on a temporary error), and a 5.x.x status under
	// "delayed" is not one yet.
	switch r.Action {
	case "failed":
		return sure(KindBounce, "bounce: delivery status notification reports a failure", reportConfidence)
	case "delayed":
		return sure(KindOther, "other: delivery status notification, delivery delayed and still being retried: not a failure", reportConfidence)
	case "delivered", "relayed", "expanded", "deliverable":
		return sure(KindOther, "other: delivery status notification of delivery or verification: not a failure", reportConfidence)
	case "undeliverable":
		// Postfix's answer to address verification (sendmail -bv): the address would
		// fail, but no message was sent or returned.
		return sure(KindOther, "other: address verification report (the address would not accept mail; no message was returned)", reportConfidence)
	}
	switch {
	case r.GaveUp, strings.HasPrefix(r.Status, "5"):
		return sure(KindBounce, "bounce: delivery status notification reports a failure", 0.95)
	case strings.HasPrefix(r.Status, "4"):
		return sure(KindOther, "other: temporary failure status without a final action: not a failure yet", 0.9)
	case r.ReportType == "delivery-status":
		// A DSN that states neither action nor status.
		return sure(KindBounce, "bounce: delivery status notification without an action", 0.8)
	case r.ReportType != "":
		return sure(KindOther, "other: machine report", 0.9)
	}
	if delaySubjectRe.MatchString(m.Subject) {
		return sure(KindOther, fmt.Sprintf("other: delay notice (subject %q)", clip(m.Subject, 80)), 0.85)
	}
	// A report that states no type, action or status (parsing found only the returned
	// message, as in OpenSMTPD's bounce without its delivery-status part) says no more
	// than a notice without one: its sender, subject and wording decide.
	if r.ReportType == "" && r.Action == "" && r.Status == "" {
		if c, ok := classifyDaemonNotice(m); ok && c.Kind == KindBounce {
			return c, true
		}
	}
	if bounceSubjectRe.MatchString(m.Subject) {
		return sure(KindBounce, fmt.Sprintf("bounce: From %s, bounce subject %q", m.From, clip(m.Subject, 80)), 0.9)
	}
	return sure(KindOther, fmt.Sprintf("other: mail system notice from %s, subject %q states no failure", m.From, clip(m.Subject, 80)), 0.8)
}

// mtaWordingRe is how mail systems word a delivery failure in the body of a bounce
// that carries no DSN and whose sender or subject parse did not recognise (Courier,
// Yahoo, appliances): the notice's own sentences and the SMTP transcript it quotes.
var mtaWordingRe = regexp.MustCompile(`(?im)mail delivery software|this is the (?:mail system|qmail-send program|courier mail server|mailer-daemon)|an error has occurred while attempting to deliver|delivery status notification|undeliverable mail|could not be delivered to one or more|cannot be delivered|(?:unable|not able) to deliver (?:your|the) message|permanent fatal errors|^\s*<<<\s*5\d\d\b|^\s*>>>\s*rcpt to|remote (?:host|server) (?:said|returned)|mailbox unavailable|user unknown|no such user|recipient address rejected|` +
	// Exchange's and other systems' notices in the sender's language.
	`diagnostic information for administrators|diagnoseinformationen für administratoren|informations de diagnostic pour les administrateurs|información de diagnóstico para administradores|informazioni di diagnostica per gli amministratori|diagnostische gegevens voor beheerders|informações de diagnóstico para administradores|konnte nicht (?:an \S+ )?zugestellt werden|n'a pas pu être (?:remis|distribué)|no se (?:pudo|ha podido) entregar|non è stato possibile (?:recapitare|consegnare)|kon niet (?:worden )?(?:bezorgd|afgeleverd)|não (?:pôde|foi possível) ser entregue|kunde inte levereras|nie (?:mogła|może) zostać dostarczona|не (?:может быть|удалось) доставить|не может быть доставлено|无法(?:送达|投递)|無法(?:傳遞|投遞|送達)|配信できませんでした`)

// smtpFailureRe is a permanent SMTP reply or status code in a bounce's text.
var smtpFailureRe = regexp.MustCompile(`\b5\d\d[ -]|\b5\.\d{1,3}\.\d{1,3}\b`)

// forwardedBounce names what makes the text a forward carries a delivery failure (its
// subject line or a mail system's wording with a permanent SMTP code), or "".
func forwardedBounce(m Mail) string {
	full := truncateUTF8(m.FullText, 4*classifyTextLimit)
	for _, l := range strings.Split(full, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(l, "> "))
		if rest, ok := strings.CutPrefix(strings.ToLower(l), "subject:"); ok && bounceSubjectRe.MatchString(rest) && !delaySubjectRe.MatchString(rest) {
			return fmt.Sprintf("subject %q", clip(strings.TrimSpace(l[len("subject:"):]), 60))
		}
	}
	if w := mtaWordingRe.FindString(full); w != "" && smtpFailureRe.MatchString(full) {
		return fmt.Sprintf("%q and a permanent SMTP failure", clip(w, 40))
	}
	return ""
}

// classifyDaemonNotice decides mail from a mail system (MAILER-DAEMON, postmaster, a null
// Return-Path) that parsing did not take for a report.
func classifyDaemonNotice(m Mail) (Classification, bool) {
	local, _, _ := strings.Cut(m.From, "@")
	daemon := daemonSenderRe.MatchString(strings.TrimSpace(local))
	nullSender := strings.TrimSpace(m.HeaderValue("Return-Path")) == "<>"
	text := truncateUTF8(m.NewText, classifyTextLimit)
	mta := mtaWordingRe.FindAllString(text, 3)
	// Without a mail system's sender, two pieces of its wording are needed, and a
	// reply or forward ("Fwd: Undelivered Mail …" with a person's note above a pasted
	// bounce) is left to the weighing.
	systemSender := daemon || nullSender || m.From == ""
	if len(mta) > 0 && (systemSender || len(mta) > 1 && !replyPrefixRe.MatchString(m.Subject)) && smtpFailureRe.MatchString(text) {
		var q []string
		for _, w := range mta {
			q = append(q, fmt.Sprintf("%q", clip(w, 40)))
		}
		sender := "sender " + m.From
		if nullSender {
			sender = "Return-Path <>"
		}
		return Classification{Kind: KindBounce, Confidence: 0.9,
			Reason: fmt.Sprintf("bounce: mail system wording %s and a permanent SMTP failure in the text, no DSN [confidence 0.90; machine: %s, %s; person: none]", strings.Join(q, ", "), sender, strings.Join(q, ", "))}, true
	}
	if !daemon && !nullSender {
		return Classification{}, false
	}
	sender := "From " + m.From
	if !daemon {
		sender = "Return-Path <>"
	}
	if s := bounceSubjectRe.FindString(m.Subject); s != "" && !delaySubjectRe.MatchString(m.Subject) {
		return Classification{Kind: KindBounce, Confidence: 0.9,
			Reason: fmt.Sprintf("bounce: %s, bounce subject %q [confidence 0.90; machine: %s, bounce subject; person: none]", sender, m.Subject, sender)}, true
	}
	if daemon {
		return Classification{Kind: KindOther, Confidence: 0.9,
			Reason: fmt.Sprintf("other: mail system notice from %s, subject %q is no delivery failure [confidence 0.90; machine: %s; person: none]", m.From, m.Subject, sender)}, true
	}
	return Classification{}, false
}

// refusalRe is a mail system's statement that the message was not delivered ("Your
// message to support@… was blocked by the … Email Security Service"), and
// refusalSubjectRe a subject that announces a delivery notice.
var (
	refusalRe        = regexp.MustCompile(`(?i)\b(?:your |the |a )?(?:message|e-?mail|mail)(?: you sent)?(?: to \S+)? (?:was|has been|had been|could not be|couldn't be|cannot be|wasn't|was not) (?:blocked|rejected|refused|discarded|not delivered|delivered)\b(?: (?:by|because|due|as))?`)
	refusalSubjectRe = regexp.MustCompile(`(?i)deliver|blocked|rejected|refused|returned|not delivered|non[- ]?delivery`)
)

// classifyRefusal decides a gateway's or filter's notice that the inquiry was blocked or
// rejected, written without a DSN, a status code or a mail system's sender (security
// appliances, filtering services): a bounce, since nobody received the inquiry. It
// needs a delivery subject that is no reply, and the refusal said as such in the text.
func classifyRefusal(m Mail) (Classification, bool) {
	if m.Subject == "" || replyPrefixRe.MatchString(m.Subject) || !refusalSubjectRe.MatchString(m.Subject) {
		return Classification{}, false
	}
	text := truncateUTF8(m.NewText, classifyTextLimit)
	loc := refusalRe.FindStringIndex(text)
	if loc == nil {
		return Classification{}, false
	}
	said := strings.Join(strings.Fields(text[loc[0]:loc[1]]), " ")
	if strings.HasSuffix(strings.ToLower(strings.TrimRight(said, " ")), " delivered") && !strings.Contains(strings.ToLower(said), "not") && !strings.Contains(strings.ToLower(said), "n't") {
		return Classification{}, false // "was delivered": a success notice, for the weighing
	}
	return Classification{Kind: KindBounce, Confidence: 0.9,
		Reason: fmt.Sprintf("bounce: the text says %q under the delivery subject %q, no DSN [confidence 0.90; machine: refusal wording, delivery subject; person: none]", clip(said, 60), clip(m.Subject, 80))}, true
}

// receiptSubjectRe and receiptTextRe are a read or delivery receipt written as text (as
// Outlook words the ones it sends without a report part): "Read: <subject>" and "Your
// message … was read on …"; and Outlook's recall of a message it sent ("Recall: …",
// "Ann would like to recall the message"), a notice about mail too.
var (
	receiptSubjectRe = regexp.MustCompile(`(?i)^\s*(?:read|gelesen|lu|leído|lido|letto|gelezen|läst|прочитано|已读|已讀|delivered|zugestellt|remis|entregado|entregue|consegnato|bezorgd|已送达|已送達|recall|rückruf|rappel|recuperar|richiamo|terughalen)\s*[:：]`)
	receiptTextRe    = regexp.MustCompile(`(?i)\bwas read on\b|\bhas been delivered to\b|\bwurde (?:am .{0,80})?gelesen\b|would like to recall the message|möchte die nachricht .{0,80}zurückrufen|souhaite rappeler le message|desea recuperar el mensaje|vorrebbe richiamare il messaggio|wil het bericht .{0,80}terughalen|\bwurde .{0,40}zugestellt\b|\ba été lu\b|\ba été remis\b|\bfue leído\b|\bha sido entregado\b|已于.{0,30}(?:阅读|送达)|已於.{0,30}(?:閱讀|送達)`)
)

// classifyReceipt decides a read or delivery receipt, or a recall, sent as plain text: a
// notice about a message, never a response to ours.
func classifyReceipt(m Mail) (Classification, bool) {
	if !receiptSubjectRe.MatchString(m.Subject) {
		return Classification{}, false
	}
	said := receiptTextRe.FindString(truncateUTF8(m.NewText, classifyTextLimit))
	if said == "" {
		return Classification{}, false
	}
	return Classification{Kind: KindOther, Confidence: 0.9,
		Reason: fmt.Sprintf("other: a read or delivery receipt or a recall (subject %q, %q) [confidence 0.90; machine: receipt subject and wording; person: none]", clip(m.Subject, 80), said)}, true
}

// aggregateSubjectRe is the subject RFC 7489 (DMARC aggregate reports) and RFC 8460
// (SMTP TLS reports) prescribe: "Report Domain: example.com Submitter: google.com
// Report-ID: <…>".
var aggregateSubjectRe = regexp.MustCompile(`(?i)^\s*(?:\[[^]]*\]\s*)?report[ -]?domain:\s*\S+\s+submitter:\s*\S+`)

// classifyAggregateReport decides a DMARC or TLS aggregate report: statistics a receiving
// system mails about a domain, never a response to anyone's message.
func classifyAggregateReport(m Mail) (Classification, bool) {
	if !aggregateSubjectRe.MatchString(m.Subject) && !hasHeader(m, "TLS-Report-Domain") {
		return Classification{}, false
	}
	return Classification{Kind: KindOther, Confidence: 0.95,
		Reason: fmt.Sprintf("other: a DMARC or TLS aggregate report (subject %q) [confidence 0.95; machine: report subject of RFC 7489 or RFC 8460; person: none]", clip(m.Subject, 80))}, true
}

// classifyStructured decides a provider's structured notification: a JSON body of a
// bounce, complaint or delivery event (Amazon SES, SendGrid, Mailgun, Postmark styles).
func classifyStructured(m Mail) (Classification, bool) {
	body := strings.TrimSpace(truncateUTF8(m.NewText, classifyTextLimit))
	if body == "" || body[0] != '{' && body[0] != '[' {
		return Classification{}, false
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return Classification{}, false
	}
	f := map[string]string{}
	collectJSON(v, f, 0)
	event := ""
	for _, k := range []string{"notificationtype", "eventtype", "event", "recordtype", "type"} {
		if e := strings.ToLower(f[k]); e != "" {
			event = e
			break
		}
	}
	sev := strings.ToLower(f["bouncetype"] + f["severity"])
	detail := fmt.Sprintf("JSON notification, event %q", event)
	if sev != "" {
		detail += fmt.Sprintf(", severity %q", sev)
	}
	mk := func(k Kind, reason string) (Classification, bool) {
		return Classification{Kind: k, Confidence: 0.95,
			Reason: fmt.Sprintf("%s [confidence 0.95; machine: %s; person: none, structured data]", reason, detail)}, true
	}
	switch {
	case strings.Contains(event, "complaint"), strings.Contains(event, "spam"), strings.Contains(event, "abuse"):
		return mk(KindOther, "other: provider complaint notification")
	case strings.Contains(sev, "transient"), strings.Contains(sev, "temporary"), strings.Contains(event, "defer"), strings.Contains(event, "delay"):
		return mk(KindOther, "other: provider notification of a temporary failure, still being retried")
	case strings.Contains(event, "bounce"), strings.Contains(event, "drop"), strings.Contains(event, "fail"), strings.Contains(sev, "permanent"):
		return mk(KindBounce, "bounce: provider bounce notification")
	case event != "":
		return mk(KindOther, "other: provider event notification")
	}
	// JSON without a notification's event (a person may paste an API response).
	return Classification{}, false
}

// collectJSON gathers the first string value of each key (lower case) in v, depth first.
func collectJSON(v any, into map[string]string, depth int) {
	if depth > 8 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := slices.Sorted(maps.Keys(x))
		for _, k := range keys {
			if s, ok := x[k].(string); ok {
				if lk := strings.ToLower(k); into[lk] == "" {
					into[lk] = s
				}
			}
		}
		for _, k := range keys {
			collectJSON(x[k], into, depth+1)
		}
	case []any:
		for i, e := range x {
			if i >= 16 {
				break
			}
			collectJSON(e, into, depth+1)
		}
	}
}

// Evidence.

// signal is one piece of evidence and its weight.
type signal struct {
	name   string
	weight float64
}

// kindEvidence is what speaks for a program and for a person having written a mail.
type kindEvidence struct {
	mach, pers []signal
	// alt is the machine kind a "human" reading turns into when the machine side
	// outweighs the text.
	alt Kind
}

func (e *kindEvidence) machine(name string, w float64) { e.mach = append(e.mach, signal{name, w}) }
func (e *kindEvidence) person(name string, w float64)  { e.pers = append(e.pers, signal{name, w}) }

func total(ss []signal) float64 {
	var t float64
	for _, s := range ss {
		t += s.weight
	}
	return t
}

func listSignalsText(ss []signal) string {
	if len(ss) == 0 {
		return "none"
	}
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%s (+%g)", s.name, s.weight))
	}
	return strings.Join(out, ", ")
}

// decide turns the kind the analysis pointed to into the final kind and confidence.
func (e *kindEvidence) decide(kind Kind, why string) Classification {
	mw, pw := total(e.mach), total(e.pers)
	margin := mw - pw
	if kind == KindHuman {
		margin = pw - mw
		if margin <= 0 && e.alt != "" {
			why = fmt.Sprintf("%s: machine evidence (%g) outweighs person evidence (%g); %s", e.alt, mw, pw, why)
			kind, margin = e.alt, -margin
		}
	} else if margin < 0 && pw > 0 {
		// The person's side outweighs what pointed to a machine kind.
		why = fmt.Sprintf("human: person evidence (%g) outweighs machine evidence (%g); not %s", pw, mw, why)
		kind, margin = KindHuman, -margin
	}
	conf := min(1/(1+math.Exp(-margin)), reportConfidence)
	conf = math.Round(conf*100) / 100
	tail := fmt.Sprintf(" [confidence %.2f; machine: %s; person: %s]", conf, listSignalsText(e.mach), listSignalsText(e.pers))
	if conf < ReviewThreshold {
		return Classification{Kind: KindNeedsReview, Confidence: conf,
			Reason: fmt.Sprintf("needs_review: leaning %s, below the review threshold %.2f: %s%s", kind, ReviewThreshold, why, tail)}
	}
	return Classification{Kind: kind, Confidence: conf, Reason: why + tail}
}

// Headers.

var noReplyLocalRe = regexp.MustCompile(`(?i)no[-_.]?reply|do[-_.]?not[-_.]?reply|^(?:notifications?|notify|auto[-_.]?reply|autoresponder|automated|mailer|system)$`)

// machineryLocalRe matches the local parts that mail machinery sends from (RFC 2142's
// postmaster, MTAs' MAILER-DAEMON, mailing-list managers' owner and bounce addresses):
// no person answers from them, whatever the text says.
var machineryLocalRe = regexp.MustCompile(`(?i)^(?:mailer-daemon|postmaster|listserv|majordomo|mailman|owner-.+|.+-owner|.+-bounces?|bounces?(?:[-+].*)?)$`)

// autoSignals names the headers and sender that say a program sent m.
func autoSignals(m Mail) []string {
	var sig []string
	if v := m.HeaderValue("Auto-Submitted"); v != "" {
		kind, _, _ := strings.Cut(v, ";")
		if kind = strings.ToLower(strings.TrimSpace(kind)); kind != "no" {
			sig = append(sig, "Auto-Submitted: "+kind)
		}
	}
	switch p := strings.ToLower(strings.TrimSpace(m.HeaderValue("Precedence"))); p {
	case "bulk", "junk", "auto_reply", "auto-reply":
		sig = append(sig, "Precedence: "+p)
	}
	if hasHeader(m, "X-Auto-Response-Suppress") {
		sig = append(sig, "X-Auto-Response-Suppress: "+m.HeaderValue("X-Auto-Response-Suppress"))
	}
	if botNameRe.MatchString(m.FromName) {
		sig = append(sig, fmt.Sprintf("sender named as a bot %q", m.FromName))
	}
	if local, _, _ := strings.Cut(m.From, "@"); local != "" && machineryLocalRe.MatchString(local) {
		sig = append(sig, "mail-system sender "+m.From)
	} else if local != "" && noReplyLocalRe.MatchString(local) {
		sig = append(sig, "no-reply sender "+m.From)
	}
	return sig
}

// instructionCueRe is a person's cue that tells the reader what to do ("please try",
// "you can", "ください", "bitte"), which receipts do as well.
var instructionCueRe = regexp.MustCompile(`(?i)please|you (?:can|could|should|need|may|will)|could you|can you|ください|请|請|您可以|建议|建議|麻烦|麻煩|sie können|können sie|bitte|vous pouvez|pourriez|veuillez|puede|podría|por favor|recomiend|\bpode|\bpodem|può|potete|puoi|kunt|kun je`)

// botNameRe is a display name that says a program sends: GitHub's "github-actions[bot]",
// "dependabot[bot]", "Renovate (bot)".
var botNameRe = regexp.MustCompile(`(?i)[\[(]bot[\])]\s*$`)

// autoWeight is how much an automatic signal weighs: a sender's own statement
// (Auto-Submitted) more than a convention some desks put on every mail (Precedence);
// a mail system's own address most. (weigh adds to "auto-replied" when nothing in the
// text is a person's.)
func autoWeight(sig string) float64 {
	switch {
	case strings.HasPrefix(sig, "Auto-Submitted"):
		return 1
	case strings.HasPrefix(sig, "mail-system sender"):
		return 3
	case strings.HasPrefix(sig, "no-reply sender"):
		return 1.5
	case strings.HasPrefix(sig, "sender named as a bot"):
		return 3
	}
	return 0.5
}

// helpDeskHeaderRe matches the header names help desks put on their mail, agents'
// answers and automatic notices alike.
var helpDeskHeaderRe = regexp.MustCompile(`(?i)^(?:rt-ticket|rt-originator|x-rt-loop-prevention|x-rt-ticket|x-zendesk-.*|x-freshdesk-.*|x-jsd-.*|x-jira-fingerprint|x-helpscout-.*|x-otrs-.*|x-kayako-.*)$`)

// helpDeskSignals names the help-desk headers on m, sorted: they say a help desk sent
// it, which favours an acknowledgement over an absence notice, but an agent's answer
// carries them too.
func helpDeskSignals(m Mail) []string {
	var names []string
	for k := range m.Header {
		if helpDeskHeaderRe.MatchString(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	if len(names) > 2 {
		names = append(names[:2], fmt.Sprintf("%d more", len(names)-2))
	}
	if len(names) == 0 {
		return nil
	}
	return []string{"help-desk headers " + strings.Join(names, ", ")}
}

// botDeclRe is a mail's statement that an AI or virtual assistant wrote it, in the first
// person or about the answer itself.
var botDeclRe = regexp.MustCompile(`(?i)\bI(?:'m| am) (?:[\p{L}-]+, )?(?:(?:[\p{L}-]+'s|the|an?|your|our) )?(?:[\p{L}-]+ )?(?:AI|virtual|automated|digital|intelligent)(?:[- ](?:support|service|customer|help|chat))?[- ](?:agent|assistant|bot|helper)\b|\bI(?:'m| am) (?:an? )?(?:bot|chatbot|AI)\b|\b(?:this|the following) (?:answer|reply|response|message) (?:was|is|has been) (?:generated|written|drafted|created) (?:automatically )?(?:by|with|using) (?:an? )?(?:AI|artificial intelligence|our AI|a bot)\b|\b(?:AI|virtual) assistant here\b|\ban? (?:automated|automatic) (?:answer|reply|response) from (?:[\p{L}'’-]+ ){0,4}(?:AI|virtual|automated)[- ](?:support )?(?:assistant|agent|bot)\b|ich bin (?:der|die|ein|eine|ihr|ihre) (?:virtuelle|digitale|KI-)\s?(?:assistent|assistentin|agent)|je suis (?:l'|un |une |votre )?(?:assistant|agent) (?:virtuel|IA)|(?:em|tôi|mình) là trợ lý (?:ảo|ai)|trợ lý ảo|saya (?:adalah )?asisten virtual|soy (?:el |la |tu |su )?asistente virtual|sou (?:o |a |seu |sua )?assistente virtual|sono (?:l'|il |la |tuo |suo )?assistente virtuale|ik ben (?:de |je |uw )?(?:virtuele|digitale) assistent|jestem wirtualnym asystentem|я (?:виртуальный|ии-)ассистент|sanal asistanınız|私は(?:AI|バーチャル)アシスタント|(?:AI|バーチャル)アシスタントの|저는 (?:AI|가상) (?:상담원|어시스턴트|비서)|我是(?:智能|AI|人工智能|虚拟)(?:客服|助手|助理)`)

// courtesyRe matches ack wording that only thanks ("Thank you for your message",
// "Merci pour votre message", "感谢您的来信").
var courtesyRe = regexp.MustCompile(`(?i)^(?:many thanks|thanks|thank you|thank|terima kasih|cảm ơn|شكر|merci|danke|vielen dank|gracias|grazie|obrigad[oa]|спасибо|благодарим|bedankt|dank u|dank je|tack|tak|takk|kiitos|dziękuj|teşekkür|감사|感谢|感謝|谢谢|謝謝|(?:お問い合わせ|お問合せ)(?:いただき)?(?:まことに|誠に)?ありがとう)`)

// autoDeclRe matches ack wording in which a mail says it is automatic.
var autoDeclRe = regexp.MustCompile(`(?i)automat|automát|автомат|otomatik|automaattise|자동|otomatis|tự động|آلية|تلقائي|אוטומטי|อัตโนมัติ|स्वचालित|αυτόματ|auto-generated|自动|自動|自動送信|自動返信|automatisch|automatique|automática|automatica`)

// listSignals names the mailing-list headers on m.
func listSignals(m Mail) []string {
	var sig []string
	for _, h := range []string{"List-Id", "List-Unsubscribe"} {
		if hasHeader(m, h) {
			sig = append(sig, h)
		}
	}
	if strings.EqualFold(strings.TrimSpace(m.HeaderValue("Precedence")), "list") {
		sig = append(sig, "Precedence: list")
	}
	return sig
}

func hasHeader(m Mail, name string) bool {
	for k := range m.Header {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// Out of office.

// oooAnywhereRe and oooStartRe hold absence subjects in English, Chinese (simplified and
// traditional), German, French, Spanish, Dutch, Italian and Portuguese, with and without
// accents.
var (
	oooAnywhereRe = regexp.MustCompile(`(?i)out of (?:the )?office|absente? du bureau|hors du bureau|fuera de la oficina|fuori ufficio|automatic reply|balasan otomatis|trả lời tự động|رد تلقائي|תשובה אוטומטית|מחוץ למשרד|ตอบกลับอัตโนมัติ|स्वचालित उत्तर|αυτόματη απάντηση|εκτός γραφείου|auto[- ]?reply|autoreply|auto[- ]?response|vacation reply|自动回复|自動回覆|自動回复|自动答复|不在办公室|不在辦公室|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|respuesta autom[áa]tica|fuera de (?:la )?oficina|automatisch antwoord|risposta automatica|fuori sede|fuori ufficio|resposta autom[áa]tica|fora do escrit[óo]rio|automatiskt svar|automatisk svar|automatisk besked|autosvar|automaattinen vastaus|automatyczna odpowied[źz]|odpowied[źz] automatyczna|r[ăa]spuns automat|автоматический ответ|автоматична відповідь|otomatik yan[ıi]t|자동 응답|自動応答|poza biurem|automatick[áa] odpov[ěe][ďd]|automatikus v[áa]lasz|otomatik (?:yan[ıi]t|cevap)|ofis d[ıi]ş[ıi]nda|автоответ|автоматический ответ|вне офиса|자동 ?응답|부재 ?중|不在通知|自動応答`)
	oooStartRe    = regexp.MustCompile(`(?i)^(?:ooo\b|away from|on vacation|on leave|休假|外出|abwesend|absen(?:ce|t)\b|ausente|afwezig|niet aanwezig|assente|fr[åa]nvaro|frav[æa]r|frav[æa]rende|poissa|nieobecno[śs][ćc]|urlop|отсутств|отпуск|izinde|休暇|tilbake (?:mandag|tirsdag|onsdag|torsdag|fredag|den|\d)|tilbage (?:mandag|tirsdag|onsdag|torsdag|fredag|den|\d)|tillbaka (?:måndag|tisdag|onsdag|torsdag|fredag|den|\d)|urlaub|im urlaub|vacances|congés|vacaciones|férias|ferie|vakantie|semester|lomalla|tatil|休假中)`)
	// fwdPrefixRe is a forward's subject prefix in the languages of mail clients.
	fwdPrefixRe   = regexp.MustCompile(`(?i)^\s*(?:(?:re|aw|sv|antw)\s*:\s*)*(?:fw|fwd|wg|tr|rv|enc|doorst|vs|i|inoltro|转发|轉寄|転送)\s*[:：]`)
	replyPrefixRe = regexp.MustCompile(`(?i)^(?:\s*(?:[\[【][^\]】\n]{0,60}[\]】]\s*)*(?:re|aw|wg|fw|fwd|sv|vs|antw|rif|res|enc|rv|回复|回覆|答复|转发|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*)+`)
)

// departedPhrases say that a person has left for good, in the notice's third person:
// "Aisha Rahman is no longer with Vendor", "hat das Unternehmen verlassen", "已离职".
// Nobody writes that of themselves in an answer: it is an absence notice with or
// without automatic headers.
var departedPhrases = compilePhrases([]phrase{
	{re: `\b(?:is|are) no longer (?:with|at|employed (?:by|at|with)|working (?:at|for|with)|part of)\b|\bhas (?:since )?left (?:\p{Lu}|the (?:company|organi[sz]ation|team|business))|ist nicht mehr (?:bei|für|im unternehmen|in unserem unternehmen)|(?:ist|sind) nicht mehr (?:für uns )?tätig|hat (?:das unternehmen|unser unternehmen|die firma) verlassen|a quitté (?:l'entreprise|la société|\p{Lu})|ya no (?:trabaja|forma parte)|não (?:trabalha mais|faz mais parte)|já não (?:trabalha|faz parte)|non (?:lavora|fa) più (?:per|presso|parte)|(?:is|werkt) niet (?:meer|langer) (?:werkzaam )?(?:bij|in dienst)|(?:har slutat|arbetar inte längre) (?:på|hos)|nie (?:pracuje|jest) już (?:w|zatrudnion)|больше не работает|退職(?:いたしました|しました|致しました)|已(?:离职|離職)`},
})

// personalAbsence is wording of a person's own absence, which an acknowledgement from a
// help desk does not use.
var personalAbsence = slices.Concat(compilePhrases([]phrase{
	{re: `\bi(?:'m| am| will be|'ll be)(?: currently)? (?:out of (?:the )?office|away|on (?:annual |parental |sick )?(?:leave|vacation|holiday)|travell?ing)`},
	{re: `\bout of (?:the )?office (?:until|till|from|through)`},
	{re: `limited access to (?:my )?e-?mail`},
	{re: `\bi(?:'m| am) (?:out sick|off sick|sick today|off (?:today|this week|until)|away (?:today|this week|until))|\b(?:will|'ll) (?:reply|respond|get back to you|answer)(?: to you)? (?:when i(?:'m| am) back|on my return|tomorrow|next week|after my (?:leave|holiday|vacation))`},
	{re: `(?:up)?on my return|[àa] mon retour|dès mon retour|nach meiner rückkehr|a mi (?:regreso|vuelta)|al mio (?:rientro|ritorno)|no meu regresso|pour toute demande urgente|en cas d'urgence|in dringenden angelegenheiten`},
	{re: `przebywam (?:na urlopie|poza biurem|na zwolnieniu)|nie mam dostępu do (?:poczty|e-?maila)|jestem na urlopie`},
	// Gone for good: "I have left Vendor Inc.", "Ich bin nicht mehr bei …".
	{re: `ik ben niet (?:meer|langer) (?:werkzaam|in dienst) bij|jeg (?:er|arbejder) ikke længere (?:ansat )?(?:hos|i|ved)|jeg (?:jobber|er) ikke lenger (?:ansatt )?(?:hos|i|ved)|jag (?:arbetar|är) inte längre (?:anställd )?(?:på|hos|vid)|\bi (?:have|'ve) left (?:the company|the organi[sz]ation|\p{Lu})|\bi(?:'m| am) no longer (?:with|at|employed|working)\b|\bno longer (?:works?|working|employed) (?:at|for|with)\b|\bhas left (?:the company|the organi[sz]ation)\b|ich bin nicht mehr (?:bei|für|im unternehmen)|(?:ne fais|ne fait) plus partie|ya no (?:trabajo|forma parte|formo parte)`},
	{re: `我(?:目前|现在|現在)?(?:正在)?(?:休假|出差|不在办公室|不在辦公室)`},
	{re: `ich bin (?:bis|vom|derzeit|zurzeit|ab)`},
	{re: `je suis (?:actuellement )?(?:absente?|en (?:congé|congés|vacances|déplacement|arrêt maladie))`},
	// Mail read rarely or not at all meanwhile: "ne consulte pas mes e-mails", "lese meine
	// E-Mails nur unregelmäßig", "accès limité à ma messagerie".
	{re: `ne (?:consulte|lis|lirai|consulterai) pas (?:mes|ma) (?:e-?mails|courriels|messagerie|boîte)|(?:avec )?un accès limité à (?:ma messagerie|mes e-?mails|mes courriels)|lese (?:meine )?e-?mails (?:nur )?(?:unregelmäßig|nicht|eingeschränkt|sporadisch)|no (?:tengo|tendré) acceso (?:a mi|al) correo|con acceso limitado al correo|con accesso limitato (?:alla (?:posta|mail)|alle e-?mail)|non (?:leggo|leggerò) (?:la posta|le e-?mail)|met beperkte toegang tot (?:mijn )?e-?mail|lees (?:mijn )?e-?mail (?:niet|beperkt)|com acesso limitado ao e-?mail`},
	{re: `estoy (?:fuera|de vacaciones|ausente)`},
	{re: `sono (?:fuori|in ferie|assente)`},
	{re: `ik ben (?:[^.!?\n]{0,30}? )?(?:afwezig|met vakantie|niet aanwezig|op vakantie)`},
	// "Your mail will not be forwarded" belongs to absence notices in every language.
	{re: `(?:e-?mail|message|mail|nachricht|bericht|courriel|mensaje|messaggio|meddelande)s? (?:will not|won't|has not|have not|is not|wordt niet|wird nicht|ne sera pas|ne seront pas|no será|no se|non sarà|non verrà|kommer inte att|blir ikke) (?:be |been )?(?:forwarded|doorgestuurd|weitergeleitet|transférée?s?|reenviad[oa]s?|inoltrat[oa]|vidarebefordra[ts]?|videresendt)`},
	{re: `estou (?:fora|de férias|ausente)`},
	// Swedish, Norwegian and Danish, Finnish, Polish, Russian, Turkish, Korean.
	{re: `(?:har )?begrenset tilgang til e-?post|(?:har )?begrænset adgang til (?:e-?mail|mail)|(?:har )?begränsad tillgång till (?:e-?post|mejl)|jeg er på (?:kurs|ferie|reise|tjenestereise)|jag är på (?:kurs|tjänsteresa)|jeg er på (?:kursus|ferie|barsel)|jag är (?:[^.!?\n]{0,30}? )?(?:på semester|ledig|borta|tjänstledig|föräldraledig|inte på kontoret|frånvarande)|jeg er (?:på ferie|fraværende|bortreist|ikke på kontoret|på barselspermisjon|på barsel)|olen (?:lomalla|poissa)|jestem (?:na urlopie|poza biurem|nieobecn[ya])|я (?:в отпуске|нахожусь в отпуске|отсутствую|вне офиса)|(?:izindeyim|ofis dışındayım|tatildeyim)|휴가 중|휴가로|휴가중|부재 ?중입니다|자리를 비웠|복귀 (?:후|하는 대로)`},
	{re: `je serai (?:absent|de retour)|de retour le|bin (?:ich )?(?:ab dem|am) .{0,20}wieder (?:im büro|erreichbar)|volveré el|estaré (?:fuera|de vacaciones|ausente)`},
	{re: `(?:不在|休暇|出張)(?:のため|中)|(?:休暇|出張)を(?:いただいて|取って)おります|休暇中|不在に(?:して|いたして)おります|不在(?:です|となります|にします)|お休みを(?:いただいて|頂いて)おります`},
	// That mail waits meanwhile: "In my absence, contact …", "I'm not checking email"
	// (where to turn with anything urgent is in urgentPhrases).
	{re: `\bin my absence\b|\bwhile i(?:'m| am) (?:away|out|on leave)\b|\b(?:not|won't be|will not be) (?:checking|reading|monitoring|answering) (?:my )?e-?mails?\b|\bwith (?:no|limited|intermittent) access to (?:my )?e-?mail`},
	{re: `\bsaya sedang (?:cuti|berlibur|liburan|dinas|tidak berada di kantor|di luar kantor)|\bsedang cuti\b|tôi (?:đang )?(?:nghỉ phép|đi vắng|không có mặt|vắng mặt)|(?:أنا )?(?:خارج المكتب|في إجازة)|אני (?:מחוץ למשרד|בחופשה)|ไม่อยู่ที่สำนักงาน|ลาพักร้อน|कार्यालय से बाहर|छुट्टी पर|(?:είμαι|βρίσκομαι) (?:εκτός γραφείου|σε άδεια)`},
	{re: `我(?:将|將)于.{0,20}(?:返回|回来|回來)|休假中|请假中|請假中`},
	{re: `我.{0,24}(?:休假|出差|请假|請假|外出|不在办公室|不在辦公室)|期间(?:查看|回复|處理|处理)?(?:邮件|郵件)不便|期間(?:查看|回覆)?郵件不便`},
}), departedPhrases)

// oooSignals names what says m is an absence notice, automatic headers aside: headers
// of vacation programs, an absence subject, or personal absence wording in mail that an
// automatic header marks.
func oooSignals(m Mail, auto []string, personal []hit, nothingElse, answering bool) []string {
	var sig []string
	for _, h := range []string{"X-Autoreply", "X-Autorespond"} {
		if hasHeader(m, h) {
			sig = append(sig, h+" header")
		}
	}
	// Zimbra and Sieve's vacation write "Auto-Submitted: auto-replied (vacation)".
	if v := strings.ToLower(m.HeaderValue("Auto-Submitted")); strings.HasPrefix(v, "auto-replied") && vacationCommentRe.MatchString(v) {
		sig = append(sig, "Auto-Submitted names a vacation reply")
	}
	if s := oooSubject(m.Subject); s != "" {
		sig = append(sig, fmt.Sprintf("subject %q says %q", clip(m.Subject, 80), s))
	}
	switch {
	case !answering && slices.ContainsFunc(personal, func(h hit) bool { return matchesAny(h.text, departedPhrases) }):
		// "Mark is no longer with us, so I've taken over: set token_ttl to 3600" is a
		// colleague's answer.
		sig = append(sig, "says the person has left "+quoteMatches(personal))
	case len(personal) > 0 && (len(sig) > 0 || len(auto) > 0):
		sig = append(sig, "absence wording "+quoteMatches(personal))
	case len(personal) > 0 && nothingElse:
		// No header says so, but absence wording and where to turn meanwhile is all
		// the mail says: a notice set up without the headers (or typed by hand), not
		// an answer.
		sig = append(sig, "absence wording "+quoteMatches(personal)+" is all it says")
	}
	return sig
}

// vacationCommentRe finds the vacation program named in an Auto-Submitted header's
// comment.
var vacationCommentRe = regexp.MustCompile(`\((?:[^)]*[;\s])?(?:vacation|out of office|ooo)\)|\bvacation\b`)

// oooSubject returns the absence phrase in subject: an unambiguous one anywhere, a
// short or ambiguous one ("Absence", "Afwezig", "休假") only at the start, after any
// reply prefixes and brackets, so that "Re: Field absent in the API" is no absence notice.
func oooSubject(subject string) string {
	if s := oooAnywhereRe.FindString(subject); s != "" {
		return s
	}
	rest := replyPrefixRe.ReplaceAllString(subject, "")
	rest = strings.TrimLeft(rest, " [(【（")
	if loc := oooStartRe.FindStringIndex(rest); loc != nil && loc[0] == 0 {
		return rest[loc[0]:loc[1]]
	}
	return ""
}

// Phrases.

// phrase is one piece of wording; strong marks ack wording that says a request or
// ticket was received or created (as opposed to "this is an automated response", which
// an absence notice may say too).
type phrase struct {
	re     string
	strong bool
	// lazy holds the compiled regular expression, built by regexp on the first text
	// that passes the keys (mayMatch): most phrases are never compiled in a daemon that
	// classifies little, and their programs (megabytes for all the lists) are not kept
	// alive for every GC to walk. Shared by the copies of the phrase.
	lazy *lazyRegexp
	// keys are literals, case-folded (see foldCase), one of which every match contains
	// (see requiredLiterals); nil when none is known. A text holding none of them cannot
	// match, and the regular expression is not run on it.
	keys []string
}

// lazyRegexp is a regular expression compiled once, on first use, safely from any
// number of goroutines. A phrase's is compiled by phrase.compiled; one built by
// lazyMustCompile keeps its pattern and compiles it in MatchString.
type lazyRegexp struct {
	once    sync.Once
	re      *regexp.Regexp
	pattern string
}

// lazyMustCompile returns pattern as a lazyRegexp after checking its syntax, panicking
// on an error as regexp.MustCompile does; the program is built on the first match.
// It is for the few standalone patterns whose program is large (a repeated Unicode
// class) and which a daemon that has classified nothing yet does not need.
func lazyMustCompile(pattern string) *lazyRegexp {
	if _, err := syntax.Parse(pattern, syntax.Perl); err != nil {
		panic(fmt.Sprintf("probe: pattern %q: %v", pattern, err))
	}
	return &lazyRegexp{pattern: pattern}
}

// MatchString reports whether s contains a match of l, compiling l on the first call.
func (l *lazyRegexp) MatchString(s string) bool {
	l.once.Do(func() { l.re = regexp.MustCompile(l.pattern) })
	return l.re.MatchString(s)
}

// compiled returns p's case-insensitive regular expression, compiling it on the first
// call. Its syntax was checked when the package loaded (compilePhrases), and
// TestEveryPhraseCompiles compiles every phrase, so this does not fail at run time.
func (p phrase) compiled() *regexp.Regexp {
	p.lazy.once.Do(func() { p.lazy.re = regexp.MustCompile(`(?i)` + p.re) })
	return p.lazy.re
}

// hit is a phrase found in a text.
type hit struct {
	text   string
	strong bool
	at     int // byte offsets in the text searched
	end    int
}

// compilePhrases prepares each phrase when the package loads: it parses the pattern
// (case-insensitively), panicking on a syntax error as regexp.MustCompile did, and
// keeps the pattern's required literals (keys). The regular expression itself is
// compiled on first need (phrase.compiled).
func compilePhrases(ps []phrase) []phrase {
	for i := range ps {
		r, err := syntax.Parse(`(?i)`+ps[i].re, syntax.Perl)
		if err != nil {
			panic(fmt.Sprintf("probe: phrase %q: %v", ps[i].re, err))
		}
		ps[i].lazy = new(lazyRegexp)
		ps[i].keys = parsedLiterals(r)
	}
	return ps
}

// mayMatch reports whether p can match a text whose case-folded form (foldCase) is
// lower: false when the text holds none of p's keys.
func (p phrase) mayMatch(lower string) bool {
	if p.keys == nil {
		return true
	}
	for _, k := range p.keys {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// matchesAny reports whether any phrase of sets matches s. Each phrase is tried alone
// behind its keys: one alternation of all of them would run every branch over every
// position of s.
func matchesAny(s string, sets ...[]phrase) bool {
	lower := foldCase(s)
	for _, ps := range sets {
		for _, p := range ps {
			if p.mayMatch(lower) && p.compiled().MatchString(s) {
				return true
			}
		}
	}
	return false
}

// foldCase maps every rune of s to the least rune of its case-folding orbit, as (?i)
// compares them: "Σ", "σ" and the final "ς" become one rune, as do "K", "k" and the
// Kelvin sign, which lower-casing would not.
func foldCase(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}

// requiredLiterals returns, case-folded, literals one of which every match of the
// pattern re must contain, or nil when that cannot be told (a match may begin with a
// character class, a wildcard, or an optional piece with nothing required after it).
// The phrases are long alternations across languages; Go's regexp runs all their
// branches at every position of a text, so a text is first searched for these
// literals, which costs a fraction of that.
func requiredLiterals(re string) []string {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return nil
	}
	return parsedLiterals(r)
}

// parsedLiterals is requiredLiterals for a parsed pattern.
func parsedLiterals(r *syntax.Regexp) []string {
	lits, ok := literalsOf(r.Simplify())
	if !ok {
		return nil
	}
	for i, l := range lits {
		lits[i] = foldCase(l)
	}
	slices.Sort(lits)
	return slices.Compact(lits)
}

// literalsOf returns literals one of which every match of r begins with, after any
// empty-width assertions; ok is false when there are none.
func literalsOf(r *syntax.Regexp) (lits []string, ok bool) {
	switch r.Op {
	case syntax.OpLiteral:
		return []string{string(r.Rune)}, len(r.Rune) > 0
	case syntax.OpCapture, syntax.OpPlus:
		return literalsOf(r.Sub[0])
	case syntax.OpRepeat:
		if r.Min >= 1 {
			return literalsOf(r.Sub[0])
		}
		return nil, false
	case syntax.OpAlternate:
		for _, sub := range r.Sub {
			l, ok := literalsOf(sub)
			if !ok {
				return nil, false
			}
			lits = append(lits, l...)
		}
		return lits, true
	case syntax.OpConcat:
		return concatLiterals(r.Sub)
	}
	return nil, false
}

// concatLiterals is literalsOf for a concatenation: every match contains a match of
// each piece that is not optional, so of those pieces with literals the one whose
// shortest literal is longest decides ("e-?mail" is keyed by "mail", not "e"). Only
// when no such piece has literals does an optional one count, with its literals added
// to those of what follows it.
func concatLiterals(subs []*syntax.Regexp) ([]string, bool) {
	var best []string
	for _, sub := range subs {
		if emptyWidth(sub) || optional(sub) {
			continue
		}
		if l, ok := literalsOf(sub); ok && shortest(l) > shortest(best) {
			best = l
		}
	}
	if best != nil {
		return best, true
	}
	for i, sub := range subs {
		if !optional(sub) {
			continue
		}
		l, ok := literalsOf(sub.Sub[0])
		if !ok {
			continue // "\s*": what follows is required all the same
		}
		rest, ok := concatLiterals(subs[i+1:])
		if !ok {
			return nil, false
		}
		return append(l, rest...), true
	}
	return nil, false
}

// emptyWidth reports whether r matches no text: an anchor or a word boundary.
func emptyWidth(r *syntax.Regexp) bool {
	switch r.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary, syntax.OpEmptyMatch:
		return true
	}
	return false
}

// optional reports whether r may match nothing by repeating zero times.
func optional(r *syntax.Regexp) bool {
	return r.Op == syntax.OpQuest || r.Op == syntax.OpStar || r.Op == syntax.OpRepeat && r.Min == 0
}

// shortest is the length in bytes of the shortest of lits, 0 when there are none.
func shortest(lits []string) int {
	if len(lits) == 0 {
		return 0
	}
	n := len(lits[0])
	for _, l := range lits[1:] {
		n = min(n, len(l))
	}
	return n
}

// findPhrases returns the phrases of ps found in text, each once, in the order they
// appear in text.
func findPhrases(ps []phrase, text string) []hit {
	var hits []hit
	lower := foldCase(text)
	for _, p := range ps {
		if !p.mayMatch(lower) {
			continue
		}
		if loc := p.compiled().FindStringIndex(text); loc != nil && loc[1] > loc[0] {
			hits = append(hits, hit{text: strings.Join(strings.Fields(text[loc[0]:loc[1]]), " "), strong: p.strong, at: loc[0], end: loc[1]})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.at - b.at })
	// Two phrases over the same words ("Your request (4711) has been received" and
	// "request (4711) has been received") are one hit.
	var out []hit
	for _, h := range hits {
		if n := len(out); n > 0 && h.at < out[n-1].end {
			out[n-1].strong = out[n-1].strong || h.strong
			out[n-1].end = max(out[n-1].end, h.end)
			continue
		}
		out = append(out, h)
	}
	return out
}

// quoteMatches quotes the first two hits for a reason.
func quoteMatches(hs []hit) string {
	var q []string
	for i, h := range hs {
		if i == 2 {
			q = append(q, fmt.Sprintf("and %d more", len(hs)-2))
			break
		}
		q = append(q, fmt.Sprintf("%q", h.text))
	}
	return strings.Join(q, ", ")
}

// ackPhrases is the wording of acknowledgements in English and Chinese (simplified and
// traditional).
var ackPhrases = compilePhrases([]phrase{
	// What a desk says of its usual speed, and that nothing is needed meanwhile: "they
	// usually reply in under 2 hours", "You don't need to do anything else for now."
	{re: `\b(?:usually|typically|normally|generally) (?:reply|replies|respond|responds|get back|answer)(?: to you)? (?:in|within) (?:under |less than |about |around )?(?:a few|\d+|one|two|a couple of) (?:minutes?|hours?|business hours|working hours|days?|business days)\b|\byou (?:don't|do not) need to do anything (?:else )?(?:for now|right now|at this (?:time|point)|now)\b|\bno (?:further )?action is (?:needed|required) (?:from you|on your (?:side|part)|for now|at this time)`},
	{re: `\b(?:we|i)(?:'ve| have)? (?:successfully |now )?received your (?:support |service )?(?:request|e-?mail|message|ticket|inquiry|enquiry|case|query|submission)`, strong: true},
	{re: `\byour (?:message|request|e-?mail|ticket|inquiry|enquiry|case) is (?:now )?in (?:our|the) (?:support )?queue\b`, strong: true},
	// A message that says it arrived, and that this note is sent automatically: "Just a
	// quick note to let you know it landed safely in my inbox", "You're receiving this
	// quick note automatically".
	{re: `\b(?:landed|arrived) (?:safely )?in (?:my|our) inbox\b|\blet you know (?:that )?(?:your (?:message|e-?mail|request)|it) (?:has )?(?:arrived|landed|reached (?:us|me))`, strong: true},
	{re: `\breceiving this (?:[\w-]+ ){0,3}(?:note|message|e-?mail|reply) automatically|\b(?:this|the) (?:quick )?(?:note|message|e-?mail|reply) (?:is|was) sent automatically`},
	{re: `\byour (?:support |service )?(?:request|ticket|case|e-?mail|message|inquiry|enquiry|query)(?:\s*\(?\s*(?:#|no\.?|number)?\s*[\w-]+\s*\)?)? (?:has|have) been (?:received|created|logged|opened|submitted|registered|recorded)`, strong: true},
	{re: `\b(?:a |new )?(?:support )?(?:ticket|case|request)(?:\s*\(?\s*(?:#|no\.?|number)?\s*[\w-]+\s*\)?)? (?:has been|was|is) (?:created|opened|logged|received|submitted|registered)`, strong: true},
	// Any record a help desk keeps (incident, service request, work order), named
	// with its number or a few words ("A request for support has been created and
	// assigned #4821", "Incident INC0012345 has been opened on your behalf").
	{re: `\b(?:ticket|case|request|incident|issue|inquiry|enquiry|query|work order|service request)\b[^.!?\n]{0,40}? (?:has been|have been|was|is) (?:now |successfully )?(?:created|opened|logged|raised|received|submitted|registered|recorded)\b(?: (?:on your behalf|for you|and assigned))?`, strong: true},
	{re: `\bwe have (?:logged|registered|recorded) your`, strong: true},
	// A desk stating who filed the request and how: "Lin Wei raised this request via
	// Email" (Jira Service Management's first notification).
	{re: `\b(?:raised|created|submitted|opened|logged|filed) this (?:request|ticket|case) (?:via|through|from|on|using|by) (?:e-?mail|the (?:help|customer|support) (?:center|centre|portal)|the portal|portal|the web|web|phone|chat)\b`, strong: true},
	{re: `\b(?:we|i)(?:'ve| have)? (?:got|gotten) your (?:message|e-?mail|request|note|ticket|inquiry|enquiry)`, strong: true},
	{re: `\bthis is an? (?:automated|automatic|auto-generated) (?:response|reply|message|e-?mail|notification|acknowledge?ment|answer)`},
	{re: `\bwe(?:'ll| will| shall) (?:get back to|respond to|reply to|be in touch with|contact) you`},
	{re: `\bthank(?:s| you) for (?:contacting|reaching out to|writing to|your (?:support )?(?:request|inquiry|enquiry|e-?mail|message|mail))`},
	{re: `\b(?:a member of our (?:support |customer service |service )?team|(?:one of )?our (?:support )?(?:team|agents?|engineers?|representatives?|specialists?|staff)|an? (?:support )?(?:agent|engineer|representative|specialist|team member)) (?:will|shall) (?:be )?(?:respond|reply|contact|review|look|get|reach|be in touch|follow[- ]?up)`},
	// A promise about when someone else will answer ("The team typically replies in
	// under 2 hours", "Our usual response time is one business day") says that the
	// answer is still to come.
	{strong: true, re: `\b(?:the |our )?(?:team|we|agents?|staff|support)(?: members?)? (?:typically|usually|normally|generally|will typically|will usually) (?:replies|reply|responds?|answers?|gets? back|follow[- ]?ups?)\b|\b(?:typical|usual|average|expected|current) (?:reply|response|wait(?:ing)?) times?\b|\bwe(?:'ll| will) be back (?:online|in the office|tomorrow|on)|\byou(?:'ll| will) (?:get|receive) (?:a |our |the )?(?:replies|reply|response|answer|notification)s? (?:here|by e-?mail|in your inbox|to)`},
	{re: `\bis being (?:reviewed|processed|handled) by our`},
	{re: `\bthank(?:s| you) for your (?:patience|understanding)`},
	{re: `\byour (?:ticket|case|reference|request) (?:number|id|no\.?) is\b`, strong: true},
	{re: `\bwe (?:aim|strive|endeavou?r) to (?:respond|reply|answer)`},
	{re: `我们已(?:经)?收到|我們已(?:經)?收到`, strong: true},
	{re: `已收到(?:您|你)的`, strong: true},
	{re: `工单已(?:创建|建立|受理|生成|提交)|工單已(?:建立|創建|受理|生成|提交)`, strong: true},
	{re: `已为您(?:创建|生成)工单|已為您(?:建立|創建)工單`, strong: true},
	{re: `自动回复|自動回覆|自動回复`},
	{re: `我们(?:会|将)尽快|我們(?:會|將)盡快`},
	{re: `感谢您的来信|感謝您的來信|感谢您联系|感謝您聯繫|感谢您的咨询|感謝您的諮詢`},
	{re: `此(?:邮件|郵件)(?:为|為)系统自动(?:发送|發送)|系统自动发送|系統自動發送`},
	{re: `请勿直接回复|請勿直接回覆|请勿回复|請勿回覆`},
	{re: `\b(?:will|shall|'ll) (?:respond|reply|answer|get back)(?: to you)? (?:within|in|as soon|shortly|promptly)|\bwithin (?:one|two|\d+|a|the next) (?:business |working )?(?:days?|hours?)\b`},
	{re: `automatically generated in response to (?:the creation|the receipt|your (?:request|message|e-?mail|inquiry))|in response to the creation of a (?:trouble )?ticket|your ticket has been assigned an? (?:id|number)`, strong: true},
	{re: `\bthank(?:s| you)(?: so much| very much)? for (?:getting in touch|reaching out)\b|\bthank(?:s| you) for (?:the|your) (?:question|note|detailed (?:question|description))`},
	// German, French, Spanish, Japanese.
	// The request may be named with its number or title in between: "Ihre Anfrage
	// (Frage zur Datenhaltung) wurde unter der Nummer Ticket#31004 … aufgenommen",
	// "Sua solicitação (4471) foi recebida".
	{re: `wir haben ihre (?:anfrage|nachricht|e-?mail|mail) (?:erhalten|empfangen)|ihre (?:anfrage|nachricht|e-?mail|mail|meldung)\b[^.!?\n]{0,80}? (?:ist|wurde) (?:[^.!?\n]{0,80}? )?(?:eingegangen|angekommen|erfasst|registriert|aufgenommen|angelegt|eröffnet|erstellt)`, strong: true},
	{re: `nous avons (?:bien )?reçu votre (?:demande|message|e-?mail|courriel)|nous accusons (?:bonne )?réception de votre|votre demande\b[^.!?\n]{0,60}? a (?:bien )?été (?:reçue|enregistrée|créée)`, strong: true},
	{re: `hemos recibido (?:su|tu) (?:solicitud|mensaje|correo|consulta)|(?:su|tu) (?:solicitud|consulta)\b[^.!?\n]{0,60}? (?:ha sido|fue) (?:recibida|registrada|creada)`, strong: true},
	{re: `(?:お問い合わせ|お問合せ|ご依頼)(?:[（(][^）)]{0,30}[）)])?(?:を|は)?(?:受け付けました|受付いたしました|受け付けいたしました|承りました|受け付けております|受け付けて(?:お|い)ります|受付しております)`, strong: true},
	// Korean, Portuguese, Turkish, Russian, Polish, Italian, Dutch.
	{re: `(?:문의|요청|티켓|접수)(?:가|이|를)?\s*(?:정상적으로\s*)?접수(?:되었습니다|됐습니다|완료)|접수\s*완료|접수완료`, strong: true},
	{re: `recebemos (?:a sua|sua|o seu|seu) (?:solicitação|mensagem|pedido|e-?mail|chamado)|(?:sua|a sua) solicitação\b[^.!?\n]{0,60}? foi (?:recebida|registrada|registada|aberta|criada)`, strong: true},
	{re: `talebiniz(?:i)? (?:alınmıştır|alındı|aldık|oluşturuldu)|mesajınız(?:ı)? (?:aldık|alınmıştır)`, strong: true},
	{re: `мы получили ваш[еау]? (?:запрос|обращение|письмо|сообщение|заявку)|ваш[еа]? (?:запрос|обращение|заявка) (?:зарегистрирован[оа]?|принят[оа]?|создан[оа]?)`, strong: true},
	{re: `otrzymaliśmy (?:twoje|twoją|państwa|pana|pani) (?:zgłoszenie|wiadomość|zapytanie)|zgłoszenie zostało (?:zarejestrowane|przyjęte|utworzone)`, strong: true},
	{re: `abbiamo ricevuto la (?:sua|tua) (?:richiesta|e-?mail|segnalazione)|la (?:sua|tua) richiesta\b[^.!?\n]{0,60}? è stata (?:ricevuta|registrata|presa in carico|creata)`, strong: true},
	{re: `we hebben uw (?:vraag|verzoek|e-?mail|bericht|melding) ontvangen|uw (?:vraag|verzoek|melding) is (?:ontvangen|geregistreerd)`, strong: true},
	// Receipts in Romanian, Czech, Slovak, Hungarian, Danish, Norwegian, Swedish,
	// Finnish, Ukrainian.
	{re: `solicitarea (?:dumneavoastră|ta) a fost (?:înregistrată|primită|preluată)|am primit (?:solicitarea|mesajul|cererea) (?:dumneavoastră|ta)|(?:jsme )?(?:váš|vaši|tvůj) (?:požadavek|dotaz|e-?mail|zprávu) (?:přijali|obdrželi|zaevidovali)|(?:váš|vaše) (?:požadavek|dotaz) (?:byl|byla) (?:přijat|zaevidován|zaregistrován)|automatick\p{L}* potvrzení\p{L}*|(?:prijali|dostali) sme (?:vašu|vašu) (?:požiadavku|správu)|(?:megkaptuk|beérkezett) (?:az )?(?:ön )?(?:kérését|megkeresését|üzenetét|kérés)|vi har (?:modtaget|mottatt|mottaget) (?:din|jeres|deres) (?:henvendelse|e-?mail|e-?post|besked|melding|forespørgsel|forespørsel)|vi har tagit emot (?:ditt|din|ert) (?:ärende|meddelande|e-?post|mejl|förfrågan)|olemme vastaanottaneet (?:viestisi|pyyntösi|yhteydenottosi|tukipyyntösi)|ми отримали ваш[еу]? (?:запит|звернення|лист)|ваше звернення (?:зареєстровано|прийнято)`, strong: true},
	// "Votre e-mail avec l'objet « … » a bien été reçu par notre service", in the
	// passive, with the subject quoted between.
	{re: `(?:votre|ton) (?:e-?mail|message|courriel|demande)\b[^.!?\n]{0,140}? a (?:bien )?été (?:reçue?|enregistrée?|prise? en compte)|(?:su|tu) (?:mensaje|correo|solicitud|consulta)\b[^.!?\n]{0,140}? (?:ha sido|fue) (?:recibid[oa]|registrad[oa])|(?:la sua|il suo|la tua|il tuo) (?:e-?mail|messaggio|richiesta)\b[^.!?\n]{0,140}? è stat[oa] (?:ricevut[oa]|registrat[oa])|ihre (?:nachricht|e-?mail|anfrage)\b[^.!?\n]{0,140}? (?:ist|wurde) (?:bei uns )?(?:eingegangen|erhalten|registriert)|bestätigen wir,? dass wir ihre (?:nachricht|anfrage|e-?mail) erhalten`, strong: true},
	// Indonesian and Malay, Vietnamese, Arabic.
	{re: `\b(?:permintaan|pertanyaan|pesan|email|e-mel|tiket|laporan|aduan) anda (?:telah |sudah )?(?:kami )?(?:terima|diterima)\b|\bkami (?:telah |sudah )?(?:menerima|terima) (?:permintaan|pertanyaan|pesan|email|e-mel|aduan)|\btiket\b[^.!?\n]{0,30}? (?:telah|sudah) (?:dibuat|dibuka|didaftarkan)|đã (?:nhận được|tiếp nhận) (?:yêu cầu|email|thư|tin nhắn|câu hỏi)|yêu cầu (?:của (?:bạn|quý khách) )?đã được (?:tiếp nhận|ghi nhận|tạo)|(?:تم|لقد تم) (?:استلام|تسجيل|إنشاء) (?:طلبك|رسالتك|تذكرتك|استفسارك)|استلمنا (?:طلبك|رسالتك)`, strong: true},
	// Hebrew, Thai, Hindi, Greek: receipts only (the classifier reads no person's cue in
	// them; see readsLanguage).
	{re: `פנייתך (?:התקבלה|נרשמה)|קיבלנו את (?:פנייתך|הודעתך|בקשתך)|ได้รับ(?:คำขอ|อีเมล|ข้อความ)ของ(?:ท่าน|คุณ)แล้ว|आपका (?:अनुरोध|संदेश) प्राप्त (?:हो गया है|हुआ)|हमें आपका (?:अनुरोध|संदेश) प्राप्त हुआ|λάβαμε το (?:αίτημά|μήνυμά) σας|το αίτημά σας (?:έχει )?(?:καταχωρηθεί|ληφθεί|παραληφθεί)`, strong: true},
	{re: `vă mulțumim (?:că ne-ați contactat|pentru mesaj)|děkujeme za (?:váš|vaši) (?:dotaz|zprávu|e-?mail)|köszönjük (?:megkeresését|üzenetét)|tak for (?:din|jeres) (?:henvendelse|e-?mail|besked)|takk for (?:e-?posten|henvendelsen|meldingen) din|tack för (?:ditt|din) (?:mejl|e-?post|meddelande)|vielen dank für ihre (?:anfrage|nachricht|e-?mail)|danke für ihre (?:anfrage|nachricht)|merci (?:pour|de) votre (?:message|demande|e-?mail|courriel)|gracias por (?:su|tu) (?:mensaje|consulta|correo|solicitud)|gracias por contactar(?:nos)?|(?:お問い合わせ|お問合せ)(?:いただき)?(?:まことに|誠に)?ありがとうございます`},
	// "This message was generated automatically" in more languages: a mail saying it
	// is automatic (weighed as such by autoDeclRe).
	{re: `(?:messaggio|e-?mail|mail) (?:è stat[oa] )?(?:generat[oa]|inviat[oa]) automaticamente|messaggio automatico|(?:nachricht|e-?mail|mail) (?:wurde )?automatisch (?:generiert|erstellt|versendet|verschickt|versandt)|automatisch (?:generierte|erstellte|versendete) (?:e-?mail|nachricht)|(?:message|courriel|e-?mail) (?:a été )?(?:généré|envoyé)e? automatiquement|(?:mensaje|correo) (?:fue |ha sido )?(?:generado|enviado) automáticamente|(?:mensagem|e-?mail) (?:foi )?(?:gerad[ao]|enviad[ao]) automaticamente|mensagem automática|(?:bericht|e-?mail) (?:is )?automatisch (?:gegenereerd|verzonden|verstuurd|aangemaakt)|automatisch (?:gegenereerd|verzonden|verstuurd) bericht|wiadomość (?:została )?(?:wygenerowana|wysłana) automatycznie|automatycznie wygenerowan|(?:сообщение|письмо|уведомление) (?:было )?(?:сгенерировано|отправлено|создано) автоматически|автоматическ(?:ое|ий) (?:сообщение|уведомление|ответ)|otomatik olarak (?:oluşturul|gönderil)|otomatik (?:bir )?(?:mesaj|e-?posta|yanıt)|automatiskt (?:genererat|skickat|meddelande)|automatisk (?:generert|genereret|sendt|besked|melding)|automaattisesti (?:luotu|lähetetty)|자동(?:으로)? (?:발송|생성)(?:된|되었)|자동 발신|\b(?:email|e-mel|pesan) ini (?:dikirim|dibuat|dihasilkan) secara (?:otomatis|automatik)|\bpesan otomatis\b|(?:email|thư|tin nhắn) (?:này )?(?:là )?(?:email |thư )?tự động|được gửi tự động|رسالة (?:آلية|تلقائية)|رد (?:آلي|تلقائي)|הודעה אוטומטית|(?:แจ้ง|ข้อความ|อีเมล)[^\n]{0,20}อัตโนมัติ|स्वचालित संदेश|αυτόματο μήνυμα|αυτόματη απάντηση`},
	{re: `спасибо за (?:ваше )?(?:обращение|письмо|сообщение)|благодарим (?:вас )?за обращение|obrigad[oa] (?:por|pelo) (?:seu |o seu )?(?:contato|contacto|e-?mail|mensagem)|grazie per (?:averci contattato|la (?:sua|tua) (?:richiesta|e-?mail|segnalazione))|bedankt voor (?:uw|je) (?:bericht|e-?mail|vraag|verzoek)|tack för (?:ditt|din) (?:meddelande|mejl|e-?post|förfrågan)|tak for (?:din|jeres) (?:henvendelse|besked|e-?mail)|takk for (?:din|henvendelsen)|kiitos (?:viestistäsi|yhteydenotostasi)|dziękujemy za (?:kontakt|wiadomość|zgłoszenie)|bizimle iletişime geçtiğiniz için teşekkür|\bterima kasih (?:telah|sudah|atas) (?:menghubungi|email|pesan|pertanyaan)|cảm ơn (?:bạn|quý khách|anh|chị) đã liên hệ|شكرا(?:ً)? (?:لتواصلك|لتواصلكم|على تواصلك|لاتصالك|على رسالتك)`},
	{re: `dies ist eine automatische|ceci est une réponse automatique|ceci est un (?:message|courriel|e-?mail) automatique|este es un mensaje automático|このメールは(?:自動送信|自動返信|送信専用)|自動送信|自動返信`},
	{re: `wir (?:werden|melden) uns (?:so schnell wie möglich|schnellstmöglich|in kürze|umgehend)|nous vous répondrons (?:dans les plus brefs délais|rapidement|sous)|le responderemos (?:lo antes posible|a la brevedad|en breve)|担当者より(?:改めて)?(?:ご連絡|回答)`},
})

// reminderPhrases say that a help desk waits for us, or will close the request if we
// do not answer: a reminder, part of noticePhrases. Under an automatic header with no
// cue of a person answering, such a mail is a reminder however long it is.
var reminderPhrases = compilePhrases([]phrase{
	// Issue trackers' stale bots: "This issue has been automatically marked as stale …
	// It will be closed in 7 days if no further activity occurs."
	{re: `\b(?:automatically )?marked as stale\b|\bwill be closed (?:in \d+ days )?if no (?:further )?activity\b`},
	// A reminder that the desk waits for us, or will close the request.
	{re: `\bwaiting to hear (?:back )?from you\b|\bstill waiting (?:on|for) (?:you|your)\b|\b(?:waiting|awaiting|wait) (?:for )?your (?:reply|response|feedback|answer|confirmation)|will be (?:closed|resolved|solved) automatically|if we (?:don't|do not) hear (?:back )?from you`},
	// Waiting for us, in more languages.
	{re: `nous n'avons (?:pas encore|toujours pas) reçu de réponse|nous n'avons pas reçu de réponse de votre part|sans nouvelles de votre part|nous attendons votre réponse|sera automatiquement (?:fermée?|clôturée?)|wir haben (?:noch )?keine (?:antwort|rückmeldung) von ihnen|(?:wir )?warten auf ihre (?:antwort|rückmeldung)|wird automatisch geschlossen|no hemos recibido (?:su|tu) respuesta|(?:estamos )?esperando (?:su|tu) respuesta|esperamos (?:su|tu) respuesta|si no tenemos noticias (?:suyas|tuyas)|la cerraremos automáticamente|se cerrará automáticamente`},
	{re: `non abbiamo (?:ancora )?ricevuto (?:una |alcuna )?risposta|in attesa della (?:sua|tua) risposta|(?:verrà|sarà) chius[oa] automaticamente|não recebemos (?:a sua |sua )?resposta|aguardando (?:a sua |sua )?resposta|será fechad[oa] automaticamente|(?:we )?hebben (?:nog )?geen reactie van (?:u|je) ontvangen|wachten op (?:uw|je) reactie|(?:sluiten wij|sluiten we|wordt) (?:de|uw|je) (?:melding|aanvraag|ticket|verzoek) automatisch(?: gesloten)?|automatisch gesloten|nie otrzymaliśmy (?:od (?:ciebie|pana|pani|państwa) )?odpowiedzi|zostanie automatycznie zamknięte|oczekujemy na (?:twoją|pana|pani|państwa) odpowiedź|мы не получили (?:от вас )?ответ|ожидаем (?:вашего )?ответа|будет автоматически закрыт|yanıtınızı bekliyoruz|otomatik olarak kapatılacaktır|vi har inte fått (?:något )?svar|väntar på (?:ditt|ert) svar|stängs automatiskt|(?:自動的に|自動で)クローズ(?:されます|いたします)|ご返信がない場合|답변이 없(?:을 경우|으면)|자동으로 (?:종료|닫힙|완료)|(?:将|將)(?:会)?自动(?:关闭|關閉)|尚未收到您的回复|等待您的回复`},
})

// noticePhrases are a help desk's status notices: a ticket resolved, solved or closed.
// Such a notice is machine text (often under the agent's name) and not a response.
var noticePhrases = slices.Concat(compilePhrases([]phrase{
	{re: `\b(?:request|ticket|case|issue|incident)(?:\s*\(?\s*(?:#|no\.?|number)?\s*[\w-]*\d[\w-]*\s*\)?)?(?:\s*(?:"[^"\n]{0,80}"|\([^)\n]{0,80}\)|«[^»\n]{0,80}»|“[^”\n]{0,80}”))? (?:has been|was|is now|is) (?:\w+ly )?(?:marked (?:as )?)?(?:resolved|solved|closed)`},
	{re: `se ha (?:marcado como )?(?:resuelt[oa]|cerrad[oa])|marcad[oa] como (?:resuelt[oa]|cerrad[oa]|resolvid[oa]|fechad[oa])|foi (?:resolvid[oa]|fechad[oa])|(?:est|a été) marquée? comme (?:résolue?|fermée?)|als (?:gelöst|geschlossen) markiert|è stat[oa] (?:risolt[oa]|chius[oa])|(?:segnalat[oa]|contrassegnat[oa]) come risolt[oa]`},
	// A case escalated: bookkeeping of the desk, however it words the escalation's
	// own receipt ("Your escalation request has been logged").
	{re: `\b(?:request|ticket|case|incident|sr|service request)\b[^.!?\n]{0,40}? (?:has been|was) escalated\b|\bescalation (?:request )?has been (?:logged|received|raised|registered)`},
	// An update whose content the mail does not carry ("sign in to view the update").
	{re: `\b(?:content|details|text) of the (?:update|reply|response|comment) (?:is|are) not included|\b(?:sign|log) ?in to [^.!?\n]{0,40}?(?:view|see|read) (?:the )?(?:latest )?(?:update|reply|response|comment)s?\b`},
	// A mailing list holding the inquiry for its moderator (Mailman, Google Groups,
	// Sympa): the mail never reached anyone yet.
	{re: `\b(?:held|being held|is being held) (?:for|until)(?: the)? (?:list )?moderator|awaits? moderator(?:'s)? approval|(?:requires|pending|needs) (?:the )?moderator(?:'s)? approval|waiting for (?:moderator )?approval by the (?:list )?moderator`},
	{re: `according to our records,? your (?:request|ticket|case) has been (?:resolved|closed|solved)`},
	{re: `\bwe(?:'ve| have)? (?:marked|set|moved) (?:this|your|the) (?:conversation|ticket|request|case|issue)(?: \S+)? (?:as |to )?(?:closed|resolved|solved)`},
	{re: `status (?:has )?changed (?:from \S+ )?to (?:resolved|solved|closed)`},
	// Any change of a request's status ("The status of your request VND-9917 changed
	// from In progress to Waiting for customer") is a notice, whatever the states.
	{re: `\bstatus of (?:your|the|this) (?:request|ticket|case|incident|issue)\b[^.!?\n]{0,40}? (?:has )?(?:changed|been (?:changed|updated|set))|\b(?:request|ticket|case|incident)\b[^.!?\n]{0,40}? (?:has been |was )?(?:moved|set) to (?:status )?["']?(?:waiting|pending|on hold|in progress|open)`},
	{re: `\[(?:resolved|solved|closed)\]`},
	// "Your request status changed to Waiting for customer", "ステータスが「解決済み」に変更
	// されました", "Статус обращения изменён": the state a record was moved to.
	{re: `\bstatus tiket (?:anda )?[^.!?\n]{0,80}?telah diubah|\btiket\b[^.!?\n]{0,80}? telah (?:diselesaikan|ditutup)|trạng thái (?:yêu cầu|phiếu)[^.!?\n]{0,60}? đã (?:được )?(?:thay đổi|cập nhật)|\b(?:request|ticket|case|issue|incident)(?:'s)? status (?:has )?(?:been )?(?:changed|updated|set|moved) to\b|ステータス(?:が|は)[^。\n]{0,30}?(?:に)?(?:変更|更新)されました|状态(?:已)?(?:更改|变更|更新)为|狀態(?:已)?(?:變更|更新)為|상태가[^.\n]{0,30}?(?:변경|업데이트)되었습니다|статус (?:вашего )?(?:обращения|заявки|запроса)[^.!?\n]{0,30}? (?:изменён|изменен|обновлён|обновлен)|status (?:van )?(?:uw|je) (?:melding|aanvraag|ticket|verzoek|zaak)\b[^.!?\n]{0,80}? is gewijzigd|lo stato della (?:sua|tua) (?:richiesta|segnalazione) è (?:cambiato|stato aggiornato)|o status d[ao] (?:sua|seu) (?:solicitação|chamado|ticket) (?:mudou|foi alterado|foi atualizado)|el estado de (?:su|tu) (?:solicitud|caso|ticket) (?:ha cambiado|cambió)|le statut de votre (?:demande|ticket|dossier) (?:a changé|a été modifié)|der status ihrer (?:anfrage|meldung|ticket) (?:wurde|hat sich) (?:geändert|aktualisiert)`},
	// A record merged into another, however worded: RT's "Ticket 90213 … merged into
	// ticket 90188".
	{re: `\bmerged into (?:ticket|request|case|issue|#)`},
	// A help desk's notice of a change on a record: RT's "automatically generated in
	// response to a change on your ticket".
	{re: `\bin response to (?:a|the) change (?:on|to|of) (?:your|the|this) (?:ticket|request|case)`},
	// A record handed to someone: "Your ticket #40771 has been assigned to Tom Akers".
	{re: `\b(?:ticket|request|case|incident|issue)\b[^.!?\n]{0,40}? (?:has been|was|is now|have been) (?:re)?assigned to\b`},
	// A request merged into another: bookkeeping of the desk, no answer.
	{re: `\b(?:request|ticket|case|issue|incident)\b[^.!?\n]{0,40}? (?:has been|was|have been) merged (?:into|with)|zusammengeführt|a été fusionnée?`},
	{re: `工单已(?:关闭|解决|完成)|工單已(?:關閉|解決|完成)|问题已解决并关闭`},
	{re: `wurde (?:als )?(?:gelöst|geschlossen)|a été (?:résolue?|fermée?|clôturée?)|ha sido (?:resuelt[oa]|cerrad[oa])|(?:クローズ|解決済み)`},
}), reminderPhrases)

// updatePhrases say that someone changed a record: "Maria updated your request
// #48213", "Your ticket 4711 has been updated", "Maria Lopez changed the status to
// Waiting for customer", in the languages help desks write
// notices in. Help desks put the same line above an agent's comment, so it weighs
// nothing: only a mail with no new text of weight beside it is a change notice (what
// was changed is elsewhere).
var updatePhrases = compilePhrases([]phrase{
	{re: `\b(?:changed|set|moved) the status(?: of (?:your|the|this) (?:request|ticket|case|incident|issue))? to\b|hat den status (?:ihrer (?:anfrage|meldung) )?(?:auf|in|zu) [^.!?\n]{1,40}? (?:geändert|gesetzt)|a (?:changé|modifié|passé) le statut|(?:cambió|ha cambiado) el estado|(?:alterou|mudou) o status|ha (?:cambiato|modificato) lo stato|heeft de status (?:gewijzigd|veranderd)|\b(?:updated|modified|changed) (?:your|the|this) (?:request|ticket|case|incident|issue)\b|\b(?:request|ticket|case|incident)\b[^.!?\n]{0,40}? (?:has been|was|have been) (?:updated|modified)\b|hat ihre (?:anfrage|meldung|ticket) [^.!?\n]{0,20}?(?:aktualisiert|geändert)|ihre (?:anfrage|meldung)[^.!?\n]{0,20}? wurde (?:aktualisiert|geändert)|a (?:mis à jour|modifié) votre (?:demande|ticket|dossier)|votre (?:demande|ticket|dossier)[^.!?\n]{0,20}? a été (?:mise? à jour|modifiée?)|(?:ha actualizado|actualizó) (?:su|tu) (?:solicitud|caso|ticket)|(?:su|tu) (?:solicitud|caso|ticket)[^.!?\n]{0,20}? (?:ha sido|fue) actualizad[oa]|atualizou (?:a )?(?:sua|seu) (?:solicitação|chamado|ticket)|(?:sua|seu) (?:solicitação|chamado|ticket)[^.!?\n]{0,20}? foi atualizad[oa]|ha aggiornato (?:la )?(?:tua|sua) (?:richiesta|segnalazione)|(?:tua|sua) (?:richiesta|segnalazione)[^.!?\n]{0,20}? è stata aggiornata|heeft (?:uw|je) (?:verzoek|aanvraag|ticket|melding) bijgewerkt|(?:uw|je) (?:verzoek|aanvraag|ticket|melding)[^.!?\n]{0,20}? is bijgewerkt|(?:工单|工單|请求|請求)[^。\n]{0,20}?已(?:更新|被更新)|(?:リクエスト|チケット|お問い合わせ)[^。\n]{0,20}?(?:が|は)更新されました`},
})

// teamAwayPhrases say that a team or an office, not a person, is away: closed for a
// holiday, offline outside its hours.
var teamAwayPhrases = compilePhrases([]phrase{
	{re: `\b(?:our|the) (?:office|offices|support(?: team)?|team|help ?desk|service desk|customer (?:service|support|care)(?: team)?|company) (?:is|are|will be) (?:currently )?(?:closed|away|offline|out of (?:the )?office)\b|\bwe(?:'re| are| will be) (?:currently )?(?:closed|offline)\b|\bclosed for the (?:holidays?|day|weekend|break)\b`},
	// "You've reached us outside of our customer care hours": the team's hours, not a
	// person's absence.
	{re: `\boutside (?:of )?our (?:normal |regular |usual )?(?:customer care|customer service|customer support|support|business|office|opening|working) hours\b|\byou(?:'ve| have) (?:reached|contacted) us outside (?:of )?(?:our )?(?:normal |regular )?(?:business |office |opening |working )?hours\b`},
	{re: `(?:il nostro|la nostra) (?:servizio|ufficio|assistenza|supporto|team|centro)[^!?\n]{0,60}? (?:resterà|rimarrà|sarà|è) chius[oa]|(?:nuestro|nuestra) (?:servicio|oficina|equipo|soporte|departamento)[^!?\n]{0,60}? (?:permanecerá|estará|está) cerrad[oa]|notre (?:service|bureau|équipe|support)[^!?\n]{0,60}? (?:sera|est|restera) fermée?|(?:nosso|nossa) (?:equipe|escritório|suporte|atendimento)[^!?\n]{0,60}? (?:estará|ficará) fechad[oa]|onze (?:klantenservice|helpdesk|servicedesk|afdeling|kantoor)[^!?\n]{0,60}? (?:is|blijft) gesloten`},
	{re: `unser (?:büro|support(?:-?team)?|team|kundenservice|kundendienst|service-?team) ist [^!?\n]{0,120}?(?:geschlossen|nicht besetzt|nicht erreichbar)|営業時間外|営業時間終了|休業期間|非工作时间|非營業時間|unser (?:büro|support|team) ist (?:vom .{0,30})?geschlossen|nos bureaux (?:sont|seront) fermés|nuestras oficinas (?:están|estarán) cerradas|i nostri uffici (?:sono|saranno) chiusi`},
})

// urgentPhrases say where to turn with anything urgent ("For anything urgent please
// write to …", "緊急の場合は…"): what absence notices and a team's closure notices add,
// template wording, but no person's absence (a desk's "outside our hours" notice says
// it too).
var urgentPhrases = compilePhrases([]phrase{
	{re: `\b(?:for|in case of|in|with) (?:anything |any |an )?(?:urgent|pressing|immediate|time[- ]sensitive)(?: matters?| issues?| requests?| questions?| cases?| enquiries| inquiries| needs?| support)?,? (?:please )?(?:contact|write to|e-?mail|call|reach(?: out to)?|get in touch with|send)`},
	{re: `(?:henvendelser|saker|spørsmål|henvendelse) som haster|i hastesaker|ved hastesaker|(?:i )?akutte (?:sager|tilfælde)|in dringenden fällen|(?:pour toute|en cas d')urgence|pour toute (?:question|demande) urgente|급한 (?:용무|일|문의)|긴급한? (?:용무|문의|경우)|para (?:asuntos|temas|casos) urgentes|en caso de urgencia|per (?:urgenze|questioni urgenti)|in caso di urgenza|voor dringende (?:zaken|vragen)|em caso de urgência|para assuntos urgentes|i brådskande ärenden|w pilnych sprawach|по срочным вопросам|acil durumlarda|(?:お)?急ぎの(?:ご用件|場合|方)|緊急の(?:ご用件|場合)|如有急事|紧急事务|緊急事務|\buntuk (?:hal|keperluan|urusan) (?:yang )?mendesak|trường hợp khẩn cấp|(?:للأمور|في الحالات) العاجلة`},
})

// redirectPhrases say where to write instead: in an absence notice, that is all it
// adds (see analyzeNewText).
var redirectPhrases = compilePhrases([]phrase{
	{re: `\bfor (?:\w+ ){0,3}(?:questions|matters|issues|requests|enquiries|inquiries|support|help|topics|orders|renewals|quotes)\b,? (?:please )?(?:write to|contact|e-?mail|reach(?: out to)?|get in touch with|send|call)\b|\bplease (?:write to|contact|e-?mail|reach out to|get in touch with) \S+@|\b(?:my colleagues?|the team) at \S+@|\bplease (?:re-?send|forward|re-?direct) (?:your|the|this) (?:question|message|e-?mail|request|inquiry|enquiry) to\b|\b(?:questions|requests|enquiries|inquiries|issues|matters|queries)\b[^.!?\n]{0,30}? (?:should )?go to \S+@|\b(?:please )?(?:direct|send|forward) (?:your |any )?(?:questions|requests|enquiries|inquiries|queries) to\b|\S+@\S+,? where [^.!?\n]{1,40}? (?:will|can) (?:help|assist)`},
	{re: `wenden sie sich (?:bitte )?an|schreiben sie (?:bitte )?an|veuillez (?:contacter|écrire à)|por favor,? (?:contacte|escriba a)|si prega di (?:contattare|scrivere a)|neem (?:dan )?contact op met`},
})

// unsubscribeRe is a way out of a mailing: an unsubscribe link or preferences page.
var unsubscribeRe = regexp.MustCompile(`(?i)\bunsubscribe\b|manage[- ](?:your )?(?:e-?mail )?preferences|abmelden|se désabonner|désinscri|darse de baja|cancelar (?:a )?inscrição|disiscriviti|uitschrijven`)

// salesPhrases are the wording of a sales sequence's mail, which a CRM sends in a
// representative's name after a form or an inquiry: "Would you be open to a quick
// 15-minute call?", "grab a time on my calendar". With an unsubscribe line, such mail is
// a campaign's, whoever signs it.
var salesPhrases = compilePhrases([]phrase{
	{re: `\b(?:quick|brief|short) (?:\d+|fifteen|twenty|thirty)[- ]min(?:ute)? (?:call|chat|meeting|demo)\b|\bgrab (?:a )?time\b|\b(?:on|from) my calendar\b|\bif you(?:'re| are) not the right person\b|\bpoint me (?:in|to) the right (?:direction|person)\b|\b(?:teams|companies|businesses) like yours\b|\bwould you be open to\b`},
})

// notificationPhrases say why the recipient gets an automatic notification ("You are
// receiving this email because you made a purchase", "Diese E-Mail wurde an … gesendet",
// "manage email notifications"), or that it gathers activity the recipient missed.
var notificationPhrases = compilePhrases([]phrase{
	{re: `\byou(?:'re| are) receiving this (?:e-?mail|message|notification)\b|você está recebendo este e-?mail|(?:vous )?recevez (?:cet|ce) (?:e-?mail|message|courriel) (?:car|parce)|sie erhalten diese (?:e-?mail|nachricht|benachrichtigung)|recibes este (?:correo|mensaje)|(?:usted )?recibe este (?:correo|mensaje)|ricevi questa e-?mail|diese e-?mail wurde an \S+ gesendet|this (?:e-?mail|message) was sent to \S+@|(?:e-?mail-)?benachrichtigungen verwalten|manage (?:your )?(?:e-?mail )?notifications`},
	{re: `\b(?:visit|view) (?:the )?topic\b|\bor reply to this email to respond\b|\bto unsubscribe from these (?:e-?mails|notifications)\b|\byou(?:'re| are) receiving this because\b`},
	{re: `\byou(?:'ve| have) missed (?:activity|messages|\d+ (?:messages|notifications))|\bunread (?:messages|notifications) in\b|sie haben aktivitäten [^.!?\n]{0,60}?verpasst|\d+ ungelesene nachrichten|vous avez manqué des (?:activités|messages)|tiene actividad sin leer`},
})

// promoPhrases are the wording of marketing mail: invitations, offers, launches.
var promoPhrases = compilePhrases([]phrase{
	{re: `\byou(?:'re| are) invited\b|\bsave your (?:seat|spot)\b|\bregister (?:now|today|here|for free)\b|\breserve your (?:seat|spot)\b|\bjoin (?:us|our [\w ]{0,20}team) (?:for|on|at|live)\b|\bwebinar\b|\blive demo\b`},
	{re: `\b(?:limited[- ]time|special|exclusive|early[- ]bird) (?:offer|deal|discount|pricing)\b|\b\d{1,2}% off\b|\bdon't miss (?:out|it)\b|\bupgrade (?:now|today)\b|\bwhat's new in\b|\bnew features?\b.{0,40}\b(?:launch|released|here)\b|\bnewsletter\b`},
	{re: `jetzt (?:anmelden|registrieren)|sichern sie sich|inscrivez-vous|réservez votre place|regístrese|reserve su lugar|iscriviti|立即报名|立即注册|限时优惠|お申し込みはこちら`},
})

// routedPhrases say that our message was routed elsewhere by a mail rule: "Your
// message … to sales@… has been forwarded to support@…". Such a notice is no response,
// unless it also cites the record the request was filed under ("…forwarded to our
// support queue (ref. SUP-44120)"), which makes it an acknowledgement. A person who
// forwards a mail says so in the first person.
var routedPhrases = compilePhrases([]phrase{
	{re: `\b(?:your )?(?:message|e-?mail|mail|request)\b(?:[^.!?\n]|\.\S){0,100}? (?:has been|was|is being|have been) (?:automatically )?(?:forwarded|redirected|routed|transferred) to\b|(?:nachricht|e-?mail) wurde (?:automatisch )?(?:an \S+ )?weitergeleitet|message a été (?:automatiquement )?(?:transféré|redirigé)|mensaje (?:ha sido|fue) (?:reenviado|redirigido)`},
})

// subjectAckPhrases are the short forms of ack wording that help desks put in subjects
// ("Request received", "Ticket #4711 created"); in running text they would also match a
// person's "the ticket opened yesterday".
var subjectAckPhrases = compilePhrases([]phrase{
	{re: `\b(?:request|ticket|case|inquiry|enquiry)\s+(?:#?\s*[\w-]*\d[\w-]*\s+)?(?:received|created|opened|logged|submitted)\b`, strong: true},
	{re: `^\s*(?:[\[【][^\]】]{0,40}[\]】]\s*)*(?:received|request received|ticket received|new ticket)\s*[:：-]`, strong: true},
	{re: `\bwe(?:'ve| have)? (?:got|received) your (?:message|e-?mail|request|note)\b`, strong: true},
})

// surveyPhrases mark satisfaction surveys, which follow a reply and are not one.
var surveyPhrases = compilePhrases([]phrase{
	{re: `how did (?:i|we|[\p{L}-]+) do (?:helping|with|on)\b|how would you rate (?:our|the) (?:reply|response|support|answer|service)|how did i do\b|(?:love|like) to know how (?:i|we) did|how satisfied (?:were|are) you|\bvery satisfied\s*\|\s*(?:satisfied|neutral)|we(?:'d| would) like to hear about your experience|how did we do|tell us how we did|how we did\b|tell us about your experience|(?:spare|take) a (?:moment|minute|second) to (?:tell|let) us`},
	{re: `rate (?:our|the|your) (?:support|service|experience|interaction|conversation)`},
	// Rating the support as a whole; a rating of this one reply ("How would you rate
	// my reply?", "Was this reply helpful?") is a footer under an agent's answer, and
	// template wording (templatePhrases).
	{re: `how (?:would|do) you rate (?:the|our|your) (?:support|service|experience|interaction|conversation|help|agent)`},
	{re: `(?:customer )?satisfaction survey|csat survey`},
	{re: `take (?:a|our) (?:short |quick |brief )?survey`},
	{re: `(?:cómo|como) (?:calificar[íi]a|valorar[íi]a|evaluar[íi]a)|(?:buena|mala),? (?:no )?estoy satisfech|nos encantar[íi]a conocer su opini[óo]n|bonne,? je suis satisfait|mauvaise,? je ne suis pas satisfait|gut,? ich bin zufrieden|schlecht,? ich bin (?:nicht|un)zufrieden|wie bewerten sie|come valuter(?:esti|ebbe)|buon[oa],? sono soddisfatt|como (?:você )?avaliaria|boa,? estou satisfeit|goed,? ik ben tevreden`},
	{re: `hvordan vil du vurdere|hur (?:skulle|vill) du (?:betygsätta|bedöma)|hvordan vil du (?:bedømme|rangere)|jak (?:byste|bys) (?:ohodnotil|hodnotil)|cum (?:ați|ai) evalua|miten arvioisit|wie würden sie (?:den|unseren) support bewerten|comment évalueriez-vous|hoe beoordeelt u|wie zufrieden (?:waren|sind) sie|bewerten sie (?:uns|unseren|den)|zufriedenheitsumfrage|(?:comment )?évaluez(?:-vous)? (?:notre|le) (?:support|service)|enquête de satisfaction|qué tan satisfecho|califique (?:nuestro|el) (?:soporte|servicio)|encuesta de satisfacción`},
	{re: `满意度调查|滿意度調查|满意度评价|滿意度評價|服务评价|服務評價|请对本次服务(?:进行)?评价|請對本次服務(?:進行)?評價`},
})

// verifyPhrases mark address verification and account confirmation mails.
var verifyPhrases = compilePhrases([]phrase{
	{re: `verify your (?:e-?mail|address|account)`},
	{re: `confirm your (?:e-?mail )?(?:address|e-?mail|account|subscription)|confirm (?:that )?(?:this is|it's|it is) (?:really )?your e-?mail(?: address)?|verify (?:that )?(?:this is|it's|it is) your e-?mail`},
	{re: `verification code|activate your account`},
	{re: `reset (?:the |your )?password|password reset|choose a new password|sign-in attempt|new sign-in|login attempt`},
	// Challenge-response spam filters ask the sender to prove they are a person.
	{re: `(?:list of )?approved senders|senders i have approved|(?:confirm|prove|verify) (?:that )?you(?:'re| are) (?:a )?(?:human|real person)|challenge[- ]response|only accepts (?:mail|e-?mail|messages) from (?:verified|approved|known) senders|(?:confirme|comprove) que (?:você )?é (?:um humano|uma pessoa|humano)|(?:só|somente|apenas) aceita mensagens de remetentes (?:verificados|aprovados)|solo acepta (?:mensajes|correos) de remitentes (?:verificados|aprobados)|n'accepte que les (?:messages|courriels) (?:des|d')(?: )?expéditeurs (?:vérifiés|approuvés)|nimmt nur (?:nachrichten|e-?mails) von (?:verifizierten|bestätigten) absendern an|(?:bestätigen|beweisen) sie,? dass sie ein mensch sind|confirmez que vous (?:êtes|etes) (?:un )?humain|confirme que (?:usted )?es (?:un )?humano`},
	{re: `验证码|驗證碼|验证(?:您的)?(?:邮箱|邮件地址|电子邮件|账户|账号)|驗證(?:您的)?(?:郵箱|郵件地址|電子郵件|帳戶|帳號)|(?:邮箱|郵箱)(?:验证|驗證)|完成(?:验证|驗證)|确认您的邮箱|確認您的郵箱|激活(?:您的)?账户|啟用(?:您的)?帳戶`},
})

// unreadPhrases say that the inquiry reached no one: a mailbox nobody monitors (the
// mail is to go through a portal instead), or a security gateway holding the message.
var unreadPhrases = compilePhrases([]phrase{
	{re: `\b(?:this|the|our) (?:mailbox|e-?mail address|address|inbox|account)(?: \([^)\n]{0,80}\))? (?:is|isn't|is not|'s) (?:not |no longer |not being |never )?(?:monitored|in use|read|checked|attended|staffed)|\b(?:your (?:message|e-?mail|reply)|it) (?:hasn't|has not|won't|will not|didn't|did not) (?:reach|reached|be (?:seen|read) by) (?:anyone|anybody|a person|a human|our team|a member of our team)\b|\b(?:no one|nobody|no-one) (?:monitors|reads|checks|will (?:read|see)) (?:this|these|replies|your)|\b(?:e-?mails?|messages?) (?:sent )?to this (?:address|mailbox) (?:are|is|will) not (?:be )?(?:read|monitored|answered|processed)|\bno longer (?:monitored|accepts? (?:e-?mail|requests)|in use)\b`},
	{re: `transmis aux modérateurs|en attente de (?:modération|validation par (?:un|les) modérateurs?)|an die moderatoren (?:weitergeleitet|gesendet)|wartet auf (?:die )?freigabe|pendiente de moderación|enviado a los moderadores|aguardando (?:a )?moderação|in attesa di moderazione|wacht op (?:goedkeuring|moderatie)`},
	{re: `\b(?:awaiting|pending|held for|waiting for) moderation\b|\bawaits? moderator(?:'s)? approval|\bheld (?:for|until) (?:the )?(?:list )?moderator|\b(?:message|e-?mail) you sent\b[^.!?\n]{0,60}? (?:has been|was|is being|is) (?:held|quarantined|queued for review)|\bheld for (?:review|inspection) by\b|\bquarantined by\b|\bin quarantine\b`},
	{re: `dieses postfach wird nicht (?:überwacht|gelesen)|cette (?:adresse|boîte)(?: e-?mail| aux lettres| de messagerie)?(?: \([^)\n]{0,80}\))? n'est pas (?:surveillée|consultée|lue|relevée)|votre message n'a pas été (?:lu|transmis|enregistré)|aucune (?:demande|requête|ticket) n'a été créée?|\bno (?:ticket|request|case) (?:has been|was|will be) (?:created|opened)|este (?:buzón|correo) no (?:es|está) (?:monitoreado|supervisado|atendido)|此邮箱(?:不|无人)(?:受|被)?(?:监控|查看|回复)|此郵箱(?:不|無人)(?:受|被)?(?:監控|查看|回覆)`},
	// Send-only addresses: "발신 전용", "送信専用", "send-only address".
	{re: `발신 ?전용|送信専用(?:の)?(?:アドレス|メールアドレス)|仅用于发送|僅用於發送|发信专用|\b(?:send|outgoing|outbound)[- ]only (?:e-?mail )?(?:address|mailbox)\b|\breplies to this (?:address|e-?mail|message) (?:are|will) not (?:be )?(?:read|monitored|received|answered)`},
	{re: `(?:διεύθυνση|θυρίδα)[^.!?\n]{0,60}? δεν (?:παρακολουθείται|ελέγχεται)|δεν διαβάζονται|כתובת זו אינה (?:מנוטרת|נקראת)|(?:هذا|هذه) (?:البريد|العنوان)[^.!?\n]{0,40}? (?:غير مراقب|لا تتم مراقبته)|alamat (?:email )?ini tidak (?:dipantau|dibaca)|địa chỉ (?:email )?này không được (?:theo dõi|kiểm tra)|(?:tato|tahle) (?:adresa|schránka) (?:není|nejsou) (?:monitorována|sledována|čtena)|ez az (?:e-?mail-?cím|cím) nincs (?:figyelve|felügyelve)|această adresă nu este (?:monitorizată|verificată)|(?:takip|kontrol) edilmemektedir|izlenmemektedir|okunmayacak(?:tır)?|deze (?:mailbox|e-?mailbox|e-?mailadres|postbus) wordt niet (?:gelezen|gecontroleerd|bewaakt)|questa (?:casella|e-?mail|indirizzo) non (?:è|viene) (?:monitorat|controllat|lett)|esta (?:caixa(?: de (?:correio|e-?mail))?|conta|endereço) não é (?:monitorad|lid|verificad)|ta skrzynka nie jest (?:monitorowana|sprawdzana)|(?:этот|данный) (?:адрес|почтовый ящик) не (?:обслуживается|проверяется|отслеживается)|(?:письма|сообщения),? (?:отправленные )?на (?:этот|данный) адрес,? не (?:читаются|обрабатываются|рассматриваются)|den här (?:brevlådan|adressen) (?:bevakas|övervakas|läses) inte|수신(?:이)? (?:되지 않|불가)|회신(?:하셔도|을 하셔도) (?:확인|답변)(?:이|할 수) (?:없|어렵)|このアドレス(?:は|へ)[^。\n]{0,20}?(?:受信|返信)(?:できません|を受け付けておりません|されても確認できません)`},
})

// templatePhrases are the help-desk furniture around a message: a sentence holding one
// is not new text.
var templatePhrases = compilePhrases([]phrase{
	{re: `reply (?:above|below) this line|type your reply above`},
	{re: `(?:do not|don't|please do not) (?:reply|respond|change the subject)`},
	{re: `non rispondere|(?:preghiamo|prega) di non rispondere|bitte (?:antworten sie nicht|nicht (?:auf diese|direkt) (?:e-?mail|nachricht) antworten)|antworten sie (?:bitte )?nicht auf|(?:merci de|veuillez|prière de|nous vous remercions de) ne pas (?:y )?répondre|ne (?:pas )?répondez pas|no (?:responda|respondas|conteste)(?: a)? (?:este|esta)|(?:por favor,? )?no (?:responda|respondas)\b|(?:por favor,? )?não (?:responda|respondas)|(?:gelieve|graag) niet (?:te )?(?:antwoorden|reageren|beantwoorden)|niet (?:te )?(?:antwoorden|reageren) op (?:deze|dit)|beantwoord (?:deze|dit) (?:e-?mail|bericht) niet|reageer niet op|prosimy (?:o )?nie odpowiada|nie odpowiadaj|не отвечайте|lütfen (?:bu (?:e-?postayı|mesajı) )?(?:yanıtlamayınız|yanıtlamayın|cevaplamayınız|cevap vermeyiniz)|svara inte på|(?:vennligst |venligst )?ikke (?:svar|besvar) (?:på )?(?:denne|dette)|älä vastaa|회신하지 (?:마|말아)|답장하지 (?:마|말아)|返信(?:しないで|はご遠慮|不要)|\b(?:mohon|harap) (?:untuk )?(?:tidak|jangan) membalas|\bjangan membalas|vui lòng không (?:trả lời|phản hồi)|xin đừng trả lời|(?:يرجى|الرجاء) عدم الرد|(?:נא|אנא) לא להשיב|אין להשיב|(?:กรุณา|โปรด)อย่าตอบกลับ|उत्तर न दें|(?:μην απαντήσετε|παρακαλούμε μην απαντάτε)`},
	{re: `to add (?:additional |further )?(?:comments|information|details)|para (?:adicionar|añadir|agregar) (?:mais |más )?(?:comentários|comentarios|informações|información)|pour ajouter (?:des )?(?:commentaires|informations)|um (?:weitere )?(?:kommentare|informationen) hinzuzufügen|per aggiungere (?:commenti|informazioni)|om (?:extra )?(?:opmerkingen|informatie) toe te voegen`},
	{re: `(?:view|track|check|update|see|follow)(?: and update| the status of| the progress of)? (?:your|this|the) (?:ticket|request|case|sr|service request|incident)`},
	{re: `puede (?:ver|consultar) el estado de su (?:solicitud|caso|ticket)|vous pouvez (?:suivre|consulter) (?:l'état de )?votre (?:demande|ticket|dossier)|sie können den (?:status|stand) ihrer (?:anfrage|meldung)|pode acompanhar (?:o status d[ao] )?sua (?:solicitação|chamado)|conserve el número de caso|conservez (?:le|ce) numéro|(?:merci de|veuillez) conserver (?:le|ce) numéro|(?:den )?(?:status|stand) ihre[rs]? (?:tickets?|anfrage|meldung|vorgangs)\b[^.!?\n]{0,40}?(?:einsehen|verfolgen|abrufen)|le statut de votre (?:ticket|demande|dossier)\b[^.!?\n]{0,40}?(?:consulter|suivre)`},
	{re: `(?:our|the) (?:support|business|office|opening|service) hours (?:are|is)|(?:服务|服務|工作)时间(?:为|是)|(?:服務|工作)時間(?:為|是)`},
	{re: `help ?cent(?:er|re)|centro de (?:ayuda|ajuda)|centre d'aide|hilfe-? ?(?:center|bereich)|centro (?:assistenza|di supporto)|helpcentrum|knowledge ?base|\bfaqs?\b|(?:support|customer|service|self[- ]service) portal|community forum`},
	// How to refer to the record or follow it: instructions of a desk, not of a person.
	{re: `\b(?:use|quote|include|mention|reference) (?:this|the|your) (?:id|number|reference|ticket number|case number|request id|ticket id)\b|\bfor (?:further|future|all) (?:communications?|correspondence)\b|\b(?:follow|track|view|check|monitor) (?:its|the|your) (?:progress|status)\b`},
	{re: `in the meantime`},
	// How to reopen or add to a closed record: "simply reply to this email and the
	// ticket will reopen".
	{re: `\b(?:simply |just )?reply to this (?:e-?mail|message|notification) (?:and|to) (?:the |your |we will |we'll )?(?:re-?open|update|add|continue)|\b(?:ticket|request|case|conversation) will (?:be )?(?:automatically )?re-?open(?:ed)?\b|\bre-?open (?:it|the conversation)\b`},
	{re: `para volver a abrir(?:la|lo)|pour (?:la|le) rouvrir|um (?:sie|es|ihn) wieder zu öffnen|para reabri(?:-la|-lo|r)|per riaprir(?:la|lo)|il vous suffit de répondre à cet e-?mail|basta con responder a este correo`},
	{re: `reopen (?:the|this|your) (?:ticket|request|case)|we hope (?:we were able|this|that)|if you have any (?:further |other |more )?(?:questions|concerns)`},
	// An attribution above a copy of a message: "Lin Wei wrote on 29 Nov 2026:".
	{re: `\b(?:wrote|schrieb|a écrit|escribió|scrisse|schreef|skrev) (?:on|am|le|el|il|op|den) [^\n]{2,80}[:：]\s*$`},
	{re: `no need to reply|include the string|subject line of all future correspondence|you may reply to this message`},
	{re: `unsubscribe|manage (?:your )?(?:e-?mail )?preferences`},
	{re: `this (?:e-?mail|message|notification) (?:was|is|has been) (?:sent|generated)`},
	{re: `powered by|turn off .{0,30}notifications|notification settings|this is shared with|sent you this (?:message|e-?mail)|\bview (?:request|ticket|case)\b`},
	{re: `confidential|intended (?:only )?for the (?:named )?(?:recipient|addressee)`},
	{re: `has been (?:updated|assigned|closed|resolved|solved|escalated|merged)|status (?:has )?changed`},
	{re: `\blog ?in to|sign ?in to|click (?:here|the|one|below|on)|\bbutton\b`},
	{re: `if you did not|ignore this (?:e-?mail|message)|link (?:will )?expires?`},
	{re: `please (?:allow|wait|be patient|note that (?:our|this))`},
	// Rating links: under one reply ("Please rate my response: Awesome | Just okay |
	// Not good") as under a survey, which its own wording makes one.
	{re: `\b(?:awesome|great|good)\s*\|\s*(?:just )?(?:okay|ok|average|neutral)\b|(?:please )?rate my (?:reply|response|answer)|war diese antwort hilfreich|cette réponse vous a-t-elle été utile|¿le resultó útil esta respuesta|how (?:would|do) you rate (?:my|this|our) (?:reply|response|answer|e-?mail|message)|was this (?:reply|response|answer|e-?mail) helpful|rate this (?:reply|response|answer)|(?:satisfied|great)\s*\|?\s*(?:unsatisfied|okay|ok)\s*\|?\s*(?:not good)?$`},
	{re: `\byour feedback\b|we(?:'d| would) love to hear|\b(?:good|bad|great|okay|poor),? i'?m (?:satisfied|unsatisfied|dissatisfied|happy|unhappy)\b`},
	{re: `(?:view|see|access|review|find) (?:all )?(?:the )?(?:details|status|progress|history) of (?:the|your|this) (?:ticket|incident|case|request)|by following the link|(?:the|this) link (?:below|above)|take me to (?:the|my|your) (?:ticket|incident|case|request)`},
	{re: `^\s*(?:ticket|case|request|reference|ref)\b.{0,20}?(?:#|\bid\b|number|no\.?)\s*[:：]?\s*[\w-]+\s*$`},
	// A bare tracking reference on its own line, as ServiceNow ends every notification
	// ("Ref:MSG0012345"): the desk's thread marker, not a statement about filing.
	{re: `^\s*(?:ref|reference|tracking(?: id| number)?|msg(?: id)?)\s*[:：#]\s*[\w.:@-]+\s*$`},
	{re: `^\s*(?:status|priority|subject|requester|assignee|group|created|updated|type|category|ticket|case)\s*[:：]`},
	{re: `^\s*(?:工单|工單)(?:号|號|编号|編號)?\s*[:：#]\s*[\w-]+\s*$|^\s*(?:状态|狀態|优先级|優先級|主题|主旨)\s*[:：]`},
	{re: `查看工单|查看工單|工单状态|工單狀態|帮助中心|幫助中心|点击|點擊|如非本人操作|退订|退訂|本邮件|本郵件|请耐心等待|請耐心等候|請耐心等待`},
})

// humanCues are signs of a person answering rather than a template acknowledging.
var humanCues = compilePhrases([]phrase{
	// A help desk relaying a named person's words: "A new comment was added to your
	// request by Sarah Kim", "Dana replied:".
	{re: `\b(?:comment|reply|response|answer|message|update|note)s? (?:was |were |has been |have been )?(?:added|posted|written|sent|made)\b.{0,60}\bby (?-i:\p{Lu})|\b(?:replied|commented|responded|answered|wrote)\s*[:：]`},
	{re: `[?？]`},
	{re: `(?:^|[^\p{L}'])(?:i|i'm|i've|i'll|i'd|my|me)(?:[^\p{L}']|$)`},
	{re: `\bplease (?:try|run|check|send|provide|confirm|share|attach|upgrade|update|restart|install|set|use|see|re-?try|re-?run|re-?send|reload|refresh|log ?in)\b`},
	// A completion reported in a word, as people do: "Done - please retry.", "Fixed!".
	{re: `(?:^\s*|[.!?]\s+)(?:done|fixed|sorted|all set|all done|completed)\s*(?:[.!,:;—–-]|$)`},
	{re: `(?:^\s*|[.!?]\s+)¡?(?:c'est fait|c'est réglé|erledigt|ist erledigt|hecho|listo|ya está|feito|pronto|resolvido|fatto|risolto|klaar|opgelost|gjort|klart|zrobione|gotowe|готово|tamamdır|halloldu)\s*(?:[.!,:;—–-]|$)|(?:^|[。！\s])(?:完了しました|対応しました|已完成|已处理|已處理|搞定了|已经(?:修复|处理好|處理好)|처리(?:했|되었)습니다|완료(?:했|되었)습니다)`},
	{re: `\byou (?:can|could|should|need to|may want to|will need to)\b|\bcould you\b|\bcan you\b`},
	{re: `\bwe (?:recommend|suggest|checked|investigated|found|tested|reproduced|confirmed|fixed|released|support|offer|provide)\b`},
	// Work done on the problem, reported by those who did it: "Our engineers found a
	// stuck worker and restarted it".
	{re: `\bya (?:hemos |he )?(?:cambiado|cambiamos|actualizado|actualizamos|corregido|corregimos|activado|activamos|reembolsado|reembolsamos|aplicado|aplicamos|enviado|enviamos)\b|\b(?:nous avons|j'ai) (?:déjà )?(?:corrigé|modifié|changé|activé|remboursé|prolongé|mis à jour|résolu|renvoyé)|\b(?:wir haben|ich habe) (?:[\p{L}-]+ ){0,4}(?:geändert|aktualisiert|behoben|korrigiert|storniert|erstattet|verlängert|freigeschaltet)\b|\bjá (?:alteramos|corrigimos|atualizamos|reembolsamos|aplicamos|enviamos)\b`},
	{re: `\b(?:we|i|our (?:engineers?|team|developers?|ops(?: team)?|staff|admins?)|the (?:team|engineers?))(?:'ve| have| had)?(?: (?:now|just|already|then|quickly|also))? (?:found|fixed|restarted|renewed|deployed|rolled back|reproduced|patched|increased|cleared|migrated|replaced|identified|traced|resolved|raised|lowered|enabled|disabled|turned (?:on|off)|switched|applied|upgraded|extended|refunded|credited|unlocked|unblocked|whitelisted|allowlisted|re-?enabled|re-?ran|re-?run|re-?sent|re-?generated|re-?exported|re-?imported|reset|rebuilt|reindexed|re-?indexed|corrected|adjusted|removed|added|attached|set up|configured|activated|enabled it|extended)\b`},
	{re: `\bwe(?:'ve| have)? (?:escalated|reproduced|checked|looked at|looked into|investigated)\b|\b(?:confirmed|reproduced)[,.]`},
	// Work done in the first person singular, and instructions, in Portuguese,
	// Spanish, Italian and Dutch: "Corrigi o modelo; pode gerar o arquivo novamente."
	{re: `(?:^|[^\p{L}])(?:corrigi|atualizei|alterei|resolvi|ajustei|reiniciei|apliquei|enviei|reembolsei|ativei|liberei|verifiquei|corregí|actualicé|cambié|reinicié|apliqué|envié|revisé|activé|reembolsé|solucioné|arreglé)(?:$|[^\p{L}])|\bho (?:già )?(?:corretto|aggiornato|modificato|risolto|riavviato|applicato|inviato|attivato|rimborsato|verificato)\b|\b(?:ik heb|we hebben|wij hebben) (?:[\p{L}-]+ ){0,4}(?:aangepast|opgelost|hersteld|bijgewerkt|gecorrigeerd|verlengd|geactiveerd|terugbetaald|gecontroleerd)\b|\b(?:pode|podem) (?:gerar|tentar|testar|baixar|exportar|acessar|usar|verificar)\b|\bpor favor,? (?:tente|verifique|envie|teste|atualize)\b|\b(?:può|potete|puoi) (?:riprovare|provare|scaricare|esportare|verificare|usare)\b|\b(?:kunt u|kun je|u kunt|je kunt) (?:het )?(?:opnieuw|nogmaals|proberen|controleren|downloaden|exporteren|gebruiken)\b`},
	{re: `请(?:重试|再试|稍后再试|检查|确认|升级|尝试)|請(?:重試|再試|檢查|確認|升級|嘗試)|我们(?:发现|查到|已经(?:修复|处理|清理|重启))|我們(?:發現|查到|已經(?:修復|處理|清理|重啟))`},
	{re: `\bthe (?:issue|problem|error|bug|fix|root cause|workaround|answer|solution) (?:is|was|has|will)\b`},
	{re: `我(?:[^们們]|$)`},
	{re: `请您|請您|建议|建議|您可以|麻烦您|麻煩您|请尝试|請嘗試|请提供|請提供|请升级|請升級|请检查|請檢查`},
	{re: `\b(?:ich|sie können|können sie|bitte (?:versuchen|prüfen|senden|installieren|aktualisieren))\b|\b(?:je|j'ai|vous pouvez|pourriez-vous|veuillez (?:essayer|vérifier|envoyer|installer))\b|\b(?:puede|podría|le recomiendo|te recomiendo|por favor (?:pruebe|revise|envíe|instale|actualice))\b`},
	{re: `(?:^|[\s.!?。])(?:yes|no|yep|nope|ja|nein|oui|non|sí|是的|对的|不是|可以的|はい|いいえ)(?:[,!，、]|\s+[-–—:]\s)`},
	{re: `私|ご確認ください|お試しください|ください|いただけますか|でしょうか`},
})

// New text.

// newText is what is left of a mail's new text once help-desk furniture is taken out.
type newText struct {
	own    string // the lines before any signature or copy of the request
	text   string // own without greetings, closings and furniture
	chars  int    // runes, whitespace collapsed
	weight int    // letters, a CJK character counting cjkWeight
	cues   []hit
	// furniture counts the sentences of template wording taken out, form fields
	// ("Status: New", "Severity: 3") included.
	furniture int
	// bookkeeping holds the sentences taken out because they only keep the books of a
	// request: one citing the record's number ("Thank you for submitting Case
	// 00451234"), or one promising that someone will answer later ("An engineer will
	// be assigned shortly"). They say "acknowledgement" whatever the wording: strong
	// for a record number, courtesy-weak for a promise alone, which people write too
	// ("We will follow up shortly with the root cause").
	bookkeeping []hit
	// unread says the new text is in a language whose wording the classifier does
	// not know (Hebrew, Thai, Hindi, Greek…): no ack, absence or cue wording can be
	// found in it, so its length says little about who wrote it (see readsLanguage).
	unread bool
	// receiptOnly says the mail is a receipt or a team's closure under an automatic
	// header with no cue of a person answering (see weigh): its length is weak evidence.
	receiptOnly bool
	// formOnly says the mail is a verification, a survey or a notice that nobody reads
	// it, under an automatic header, with no cue of a person answering: its length is
	// weak evidence of a person, as a receipt's is.
	formOnly bool
	// echoed counts the sentences taken out because they repeat our inquiry: a help
	// desk's copy of the request in its acknowledgement, not the sender's words.
	echoed int
	// signature is the first line below a closing or signature delimiter ("Tom Becker",
	// "Acme Support Team"), "" when there is none.
	signature string
}

// personEvidence adds what nt says of a person to ev; bare says the mail carries no
// automatic signal, help-desk header or ack wording at all.
func (nt newText) personEvidence(ev *kindEvidence, bare bool) {
	switch {
	case nt.unread && nt.weight >= cueWeight:
		// A long text in a language we cannot read is some evidence of a person,
		// no more than a short one we can.
		ev.person(fmt.Sprintf("%d chars of new text in a language the classifier does not read", nt.chars), 1.5)
	case nt.receiptOnly && nt.weight >= cueWeight:
		ev.person(fmt.Sprintf("%d chars of new text around a receipt, none of it answering", nt.chars), 1.5)
	case nt.formOnly && nt.weight >= cueWeight:
		ev.person(fmt.Sprintf("%d chars of new text around a verification, survey or not-read notice, none of it answering", nt.chars), 1.5)
	case nt.weight >= humanWeight:
		ev.person(fmt.Sprintf("%d chars of new text", nt.chars), 3)
	case nt.weight >= cueWeight:
		ev.person(fmt.Sprintf("%d chars of new text", nt.chars), 1.5)
	case nt.weight > 0:
		ev.person(fmt.Sprintf("%d chars of new text", nt.chars), 0.5)
	}
	if nt.weight > 0 {
		seen := map[string]bool{}
		n := 0
		for _, c := range nt.cues {
			name := cueName(c)
			if seen[name] || n == 2 {
				continue
			}
			seen[name] = true
			n++
			ev.person("cue "+name, 1)
		}
	}
	if nt.signature != "" {
		if personNameRe.MatchString(nt.signature) && !teamNameRe.MatchString(nt.signature) {
			ev.person(fmt.Sprintf("signed by a person %q", clip(nt.signature, 40)), 1)
		} else if teamNameRe.MatchString(nt.signature) {
			ev.machine(fmt.Sprintf("signed by a team %q", clip(nt.signature, 40)), 0.5)
		}
	}
	if bare && nt.weight > 0 {
		ev.person("no automatic signal", 1)
	}
}

var (
	// personNameRe is a name as signed: one to four capitalised words, or two to five
	// CJK characters (with an optional space), optionally followed by a role or company
	// after a comma, dash, bar or parenthesis.
	personNameRe = regexp.MustCompile(`^(?:\p{Lu}[\p{L}'.-]*(?:\s+\p{Lu}[\p{L}'.-]*){0,3}|[\p{Han}\p{Katakana}\p{Hiragana}]{1,5}\s?[\p{Han}\p{Katakana}\p{Hiragana}]{0,5})\s*(?:[,|(（–—-].*)?$`)
	// teamNameRe is a signature of a team or system rather than a person.
	teamNameRe = regexp.MustCompile(`(?i)\b(?:team|support|service|services|desk|helpdesk|help desk|customer|care|system|department|center|centre|kundenservice|kundendienst|klantenservice|klantenteam|servicedesk|equipo|servicio|soporte|suporte|atendimento|assistenza|supporto|servizio|kundtjänst|kundeservice|asiakaspalvelu|obsługa|destek|hizmetleri)\b|(?:^|[^\p{L}])(?:équipes?|zespół|служба|поддержк\p{L}*|müşteri)(?:$|[^\p{L}])|团队|團隊|客服|客户服务|客戶服務|支持部|中心|サポート|チーム|センター|窓口|고객센터|고객지원|지원팀`)
)

// readWords are frequent function words of the Latin-script languages whose wording
// the classifier knows: those DetectLanguage counts, and Polish, Turkish, Swedish,
// Norwegian, Danish, Finnish, Indonesian and Malay, and Vietnamese, and words the
// Romance and Germanic languages share (which do not tell them apart, but say that the
// text is one of them).
var readWords = func() map[string]bool {
	m := map[string]bool{}
	for _, ws := range stopwords {
		for _, w := range ws {
			m[w] = true
		}
	}
	for _, w := range strings.Fields(`jest nie się na że do dla oraz pan pani dzień dobry pozdrawiam proszę już
		bir ve bu için ile merhaba teşekkür lütfen olarak saygılarımla
		och att det är som för med inte vi hej tack hälsningar
		og er ikke til hei takk tak hilsen med venlig vennlig
		ja on ei se kiitos hei terveisin
		dan yang untuk dengan kami anda tidak ini terima kasih silakan salam saya
		và của là không chúng tôi bạn cảm ơn vui lòng được đã này xin chào
		de la le el en es un una que para por con del los las se no si sí il lo e o a da do em
		na é um uma pode como mas mais foi está estamos seu sua nos und die ist zu im
		is it we on in at as an or if was has not from all by it's we've i'm i've there here`) {
		m[w] = true
	}
	return m
}()

// readsLanguage reports whether text is in a language whose wording (receipts,
// absences, cues of a person) the classifier knows. Scripts decide first (Han, kana,
// Hangul, Cyrillic, Arabic are read; Greek, Thai, Hebrew, Devanagari and others are
// not); Latin-script text needs two of readWords. Text too short to tell is read:
// its length decides nothing anyway.
func readsLanguage(text string) bool {
	switch DetectLanguage(text) {
	case "el", "th":
		return false
	case "":
	default:
		return true
	}
	var letters, latin, hits int
	for _, f := range strings.Fields(text) {
		w := strings.ToLower(strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) }))
		if readWords[w] {
			hits++
		}
		for _, r := range f {
			if unicode.IsLetter(r) {
				letters++
				if unicode.Is(unicode.Latin, r) {
					latin++
				}
			}
		}
	}
	if letters < cueWeight {
		return true
	}
	return 2*latin > letters && hits >= 2
}

// signedByPerson reports whether the new text ends with a person's name as signature.
func (nt newText) signedByPerson() bool {
	return nt.signature != "" && personNameRe.MatchString(nt.signature) && !teamNameRe.MatchString(nt.signature)
}

// substantial reports whether the new text is a person's, and names the cue it relied
// on ("" when its length alone decided).
func (nt newText) substantial(hasAck bool) (bool, string) {
	switch {
	case nt.unread && len(nt.cues) == 0:
		return false, ""
	case nt.weight >= humanWeight:
		return true, ""
	case nt.weight >= cueWeight && len(nt.cues) > 0:
		return true, "with " + cueName(nt.cues[0])
	case nt.weight >= cueWeight && !hasAck:
		return true, ""
	}
	return false, ""
}

func cueName(h hit) string {
	if h.text == "?" || h.text == "？" {
		return "a question"
	}
	return fmt.Sprintf("%q", strings.Trim(h.text, " ,.;:!'\"()"))
}

var (
	// cutRe starts what is not the sender's own text: a signature, a copy of the request.
	cutRe = regexp.MustCompile(`(?i)^(?:--\s*|-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht|message d'origine|原始邮件|原始郵件|转发邮件|轉寄郵件)\s*-{2,}|on .{4,200} wrote:|在.{2,100}(?:写道|寫道)[:：]?|sent from my .*|发自我的.*|從我的.*傳送)$`)
	// headerBlockRe and headerNextRe find a quoted "From: … / Sent: …" block.
	separatorRe     = regexp.MustCompile(`^[-_=*]{4,}$`)
	headerBlockRe   = regexp.MustCompile(`(?i)^(?:from|von|de|da|van|发件人|發件人|寄件者|寄件人)\s*[:：]`)
	headerNextRe    = regexp.MustCompile(`(?i)^(?:sent|date|to|subject|gesendet|envoyé|enviado|inviato|verzonden|发送时间|發送時間|日期|收件人|主题|主旨)\s*[:：]`)
	inlineClosingRe = regexp.MustCompile(`(?i)^(?:thanks|thank you|cheers|best|regards|best regards|kind regards|gruß|grüße|saludos|merci|cordialement|atentamente|谢谢|謝謝)\s*[,，]\s*(\p{Lu}[\p{L}'.-]*(?:\s+\p{Lu}[\p{L}'.-]*){0,2}|[\p{Han}]{1,4})\s*$`)
	closingRe       = regexp.MustCompile(`(?i)^(?:(?:best|kind|warm|warmest|with kind|many)\s+(?:regards|wishes|thanks)|regards|thanks(?: again)?|thank you|many thanks|cheers|sincerely(?: yours)?|yours(?: sincerely| truly| faithfully)?|best|br|mit freundlichen grüßen|viele grüße|cordialement|saludos(?: cordiales)?|cordiali saluti|met vriendelijke groet(?:en)?|atenciosamente|此致|敬礼|敬禮|谢谢|謝謝|祝好|顺祝商祺|順祝商祺|顺颂商祺|順頌商祺|(?:何卒)?よろしくお願い(?:いた|致)?します|以上(?:、)?よろしくお願いします|freundliche grüße|beste grüße|bien à vous|un saludo|atentamente|saludos cordiales)[\s,.!。！，]*$`)
	greetingRe      = regexp.MustCompile(`(?i)^(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|hallo|bonjour|hola|ciao)\b[^,，:：!！\n]{0,40}(?:[,，:：!！]|$)|olá(?:[^\p{L}][^,，:：!！\n]{0,40})?(?:[,，:：!！]|$)|(?:您好|你好|尊敬的[^，,：:！!]{0,12})(?:[，,：:！!]|$)|(?:いつも|大変)お世話になっております[。、]?|[^\s、。]{1,20}様[、。]?$|sehr geehrte[rs]?\b[^,\n]{0,40}(?:,|$)|guten tag\b[^,\n]{0,30}(?:,|$)|estimad[oa]s?\b[^,:\n]{0,40}(?:[,:]|$))\s*`)
	sentenceEndRe   = regexp.MustCompile(`[.!?](?:\s+|$)|[。！？；]+`)
	noCountRe       = regexp.MustCompile(`https?://\S+|www\.\S+|\S+@\S+\.\S+`)
)

// analyzeNewText takes help-desk furniture out of text and weighs what is left. subject
// helps to tell what a separator line divides.
func analyzeNewText(text, subject string, ours echo) newText {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var kept, own []string
	content := false
	// para is the paragraph being built: hard-wrapped lines are joined so that a
	// sentence broken across lines is judged whole, while short lines ("Status: Open")
	// stay on their own.
	para, last := "", ""
	furniture := 0
	var bookkeeping []hit
	var fields []string
	echoed := 0
	flush := func() {
		for _, s := range splitSentences(para) {
			content = true
			if ours.repeats(s) {
				echoed++
				continue
			}
			if isTemplate(s) {
				furniture++
				kept = append(kept, answerBeside(s)...)
				continue
			}
			if book := bookkeepingOf(s, subject); book != "" {
				bookkeeping = append(bookkeeping, hit{text: s, strong: book == "record"})
				continue
			}
			if isStatusNotice(s) {
				furniture++
				kept = append(kept, answerBeside(s)...)
				continue
			}
			switch {
			case isFormField(s):
				fields = append(fields, s)
			case isAck(s):
				// An acknowledgement or courtesy opener is taken out phrase by phrase,
				// not with its whole sentence: "感谢您的来信，我们支持7x24小时服务" and
				// "Thanks for reaching out, yes we cover weekends" keep their answer.
				if rest := withoutAckClauses(s); rest != "" {
					kept = append(kept, rest)
				}
			default:
				kept = append(kept, s)
			}
		}
		para, last = "", ""
	}
	signatureAt := func(i int) string {
		for j := i; j < len(lines) && j < i+3; j++ {
			if l := strings.TrimSpace(lines[j]); l != "" && !closingRe.MatchString(l) && l != "--" {
				return l
			}
		}
		return ""
	}
	sig := ""
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, ">") {
			flush()
			continue
		}
		if cutRe.MatchString(line) || isHeaderBlock(lines, i) {
			if strings.HasPrefix(line, "--") && !separatorRe.MatchString(line) {
				sig = signatureAt(i + 1)
			}
			break
		}
		// Below a separator, a help desk's acknowledgement or survey carries a copy of
		// the conversation (our request, the agent's earlier answer), while an update
		// notice carries the agent's new comment.
		if separatorRe.MatchString(line) {
			if isNotice(subject + "\n" + strings.Join(own, "\n")) {
				break
			}
			flush()
			continue
		}
		if (content || para != "") && closingRe.MatchString(line) {
			sig = signatureAt(i + 1)
			break
		}
		if (content || para != "") && inlineClosingRe.MatchString(line) {
			// "Thanks, Tom" or "Best, Dana" on one line.
			sig = strings.TrimSpace(inlineClosingRe.FindStringSubmatch(line)[1])
			break
		}
		own = append(own, line)
		if para == "" {
			// "尊敬的客户，您好！" is two greetings in a row.
			for range 2 {
				if loc := greetingRe.FindStringIndex(line); loc != nil && loc[0] == 0 && loc[1] > 0 {
					line = strings.TrimSpace(line[loc[1]:])
				}
			}
			if line == "" || closingRe.MatchString(line) {
				continue
			}
		}
		if para != "" && isWrapped(last) {
			para += " " + line
		} else {
			flush()
			para = line
		}
		last = line
	}
	flush()
	// Where to turn instead ("For support questions please write to support@…") is part
	// of an absence notice when the mail says the sender is away or gone; elsewhere it
	// is a person's redirect, and stays.
	if len(kept) > 0 && matchesAny(strings.Join(own, " "), personalAbsence) {
		rest := kept[:0:0]
		for _, k := range kept {
			if matchesAny(k, redirectPhrases) {
				furniture++
				continue
			}
			rest = append(rest, k)
		}
		kept = rest
	}
	// Two or more fields make a form a program filled in; one is a person's "Note: …".
	if len(fields) >= 2 {
		furniture += len(fields)
	} else {
		kept = append(kept, fields...)
	}
	if sig != "" && ours.hasLine(sig) {
		// Our own closing ("Thanks,\nLin") in the desk's copy of the request.
		sig = ""
	}
	nt := newText{own: strings.Join(own, "\n"), text: strings.Join(kept, " "), furniture: furniture, signature: sig, bookkeeping: bookkeeping, echoed: echoed}
	counted := noCountRe.ReplaceAllString(nt.text, " ")
	nt.chars = len([]rune(strings.Join(strings.Fields(nt.text), " ")))
	for _, r := range counted {
		switch {
		case isCJK(r):
			nt.weight += cjkWeight
		case unicode.IsLetter(r):
			nt.weight++
		}
	}
	nt.cues = findPhrases(humanCues, counted)
	nt.unread = !readsLanguage(counted)
	return nt
}

// wrapWidth is the length from which a line that does not end a sentence is taken to
// be hard-wrapped, continuing on the next line.
const wrapWidth = 40

// isWrapped reports whether line looks hard-wrapped.
func isWrapped(line string) bool {
	r := []rune(line)
	return len(r) >= wrapWidth && !strings.ContainsRune(".!?。！？:：", r[len(r)-1])
}

// isHeaderBlock reports whether lines[i] starts a quoted "From: … Sent: …" block.
func isHeaderBlock(lines []string, i int) bool {
	if !headerBlockRe.MatchString(strings.TrimSpace(lines[i])) {
		return false
	}
	for j := i + 1; j < len(lines) && j <= i+4; j++ {
		if headerNextRe.MatchString(strings.TrimSpace(lines[j])) {
			return true
		}
	}
	return false
}

// splitSentences splits a line after ". ", "! ", "? " and CJK sentence ends.
func splitSentences(line string) []string {
	var out []string
	pending := "" // a piece ending in an abbreviation ("ref.", "No."), joined to the next
	for {
		loc := sentenceEndRe.FindStringIndex(line)
		if loc == nil {
			break
		}
		s := strings.TrimSpace(line[:loc[1]])
		line = line[loc[1]:]
		if s == "" {
			continue
		}
		if pending != "" {
			s, pending = pending+" "+s, ""
		}
		if abbrevEndRe.MatchString(s) && strings.TrimSpace(line) != "" {
			pending = s
			continue
		}
		out = append(out, s)
	}
	if pending != "" {
		line = pending + " " + line
	}
	if s := strings.TrimSpace(line); s != "" {
		out = append(out, s)
	}
	return out
}

// abbrevEndRe matches a piece that ends in an abbreviation rather than a sentence:
// "(ref. SUP-44120)" and "ticket no. 4411" are one sentence with their number.
var abbrevEndRe = regexp.MustCompile(`(?i)(?:^|[\s(])(?:ref|refs|no|nr|nos|num|approx|ca|e\.g|i\.e|etc|vs|mr|mrs|ms|dr|st|tel|fig|inc|ltd|co|z\.b|bzw|usw|réf|n°)\.$`)

// isNotice reports whether text holds the wording of a help desk's acknowledgement,
// survey or verification mail.
func isNotice(text string) bool {
	return matchesAny(text, ackPhrases, subjectAckPhrases, surveyPhrases, verifyPhrases)
}

// isTemplate reports whether sentence s is help-desk template, survey, verification,
// absence or not-read wording rather than something a person wrote for this mail.
func isTemplate(s string) bool {
	return matchesAny(s, templatePhrases, surveyPhrases, verifyPhrases, personalAbsence, unreadPhrases, urgentPhrases)
}

// Bookkeeping sentences and form fields.
//
// Acknowledgements are worded in endless ways and languages, but what they do is
// narrow: they cite the number the request was filed under, and they promise an answer
// later. Those two acts are recognised by their parts rather than by whole phrases: a
// record number (one the subject repeats, or one named as a ticket, case, request…),
// or a sentence holding a future, an answering verb and a vague time ("will get back
// to you shortly", "wird sich in Kürze melden"). A sentence with a person's cue (first
// person, a question, an instruction) is never bookkeeping: "I looked at case 4411"
// is an answer.
var (
	// recordIDRe is a reference a help desk files a request under: "#55012",
	// "VND-4412", "INC0012345", "00451234".
	recordIDRe = regexp.MustCompile(`#\s?\d{3,}\b|\b[A-Z][A-Z0-9]{1,9}-\d{2,}\b|\b\d{3,}-[A-Z0-9]{2,}\b|\b[A-Z]{2,5}\d{5,}\b|\b\d{5,}\b`)
	// recordNounRe names the record ("ticket", "Anfrage", "工单"…) just before a number.
	recordNounRe = regexp.MustCompile(`(?i)(?:\b(?:ticket|case|request|incident|reference|ref|query|inquiry|enquiry|conversation|thread|anfrage|vorgang|fall|nummer|ticketnummer|demande|dossier|référence|numéro|caso|solicitud|número|chamado|richiesta|pratica|sak|sag|melding)\b|(?:^|[^\p{L}])ärende(?:nummer)?|工单|工單|编号|編號|受付番号|問い合わせ番号|お問い合わせ番号|접수\s*번호|문의\s*번호|티켓\s*번호|요청\s*번호|номер (?:обращения|заявки|запроса)|numer zgłoszenia|talep numaranız|numero (?:di )?(?:ticket|richiesta|pratica))[\s:：#.-]{0,3}(?:(?:no\.?|nr\.?|number|id|nummer|numéro|número)[\s:：#.-]{0,3})?(?:\p{L}+[\s:：]{1,2}){0,2}$`)
	// futureRe, answerVerbRe and vagueTimeRe are the three parts of a promise.
	futureRe = regexp.MustCompile(`(?i)드리겠습니다|드릴 예정|겠습니다|\b(?:responderemos|entraremos|retornaremos|dönecektir|odpowiemy|skontaktujemy|risponderemo|contatteremo|will|shall|may take|can take|might take|could take|wird|werden|sera|seront|va|vont|serán|verranno|zal|zullen|kommer att|vil|vill)\b|'ll\b|(?:将|將|会|會)|` +
		// Words that begin or end with a non-ASCII letter, where \b (ASCII) never holds,
		// and the future of any Italian, Spanish or Portuguese verb by its ending
		// ("contatterà", "responderá", "retornará", "responderão").
		`(?:^|[^\p{L}])(?:yapacaktır|yapacağız|ответим|ответит|ответят|свяжемся|свяжется|свяжутся|рассмотрит|рассмотрим|рассмотрят|обработает|обработаем|будет|будут|återkommer|återkopplar|sẽ|سوف|سيقوم|سيتم|سنقوم)(?:$|[^\p{L}])|\bakan\b|\b(?:kümmert|kümmern|neemt|nemen|komen (?:wij|we) (?:bij (?:u|je) )?terug|vender tilbage|kommer tilbake|vi svarer|vi besvarer|vi svarar|vi kontaktar)\b|\p{L}{2,}(?:rà|ranno|rá|rán|rão)(?:$|[^\p{L}])|\b(?:répondr|recontacter|contacter|reviendr|rappeller|traiter)(?:a|ont|ons)\b`)
	answerVerbRe = regexp.MustCompile(`(?i)답변|연락|회신|\b(?:en contacto|em contato|in contatto)\b|(?:^|[^\p{L}])(?:dönüş|ответ|свяж|återkomm|phản hồi|liên hệ|trả lời|بالرد|الرد|بالتواصل|التواصل)|\b(?:menghubungi|membalas|merespons|menanggapi)\b|\b(?:respond\w*|entraremos em contato|retorn\w*|odpowi\w*|skontakt\w*|rispond\w*|contatt\w*|get(?:ting)? back|repl(?:y|ies)|respond|answer|contact|reach out|be in touch|follow[- ]?up|assign(?:ed)?|review(?:ed)?|look(?:ed)? into|handle[ds]?|melden|antworten|beantworten|kontaktieren|bearbeite[tn]|zugewiesen|répondr\w*|recontacter|contacter|traitée?s?|respond\w*|contactar\w*|atender\w*|rispond\w*|contatt\w*|antwoord\w*|contact opnemen|kontakta\w*|kümmer\w*|svara\w*|besvar\w*)\b|回复|回覆|答复|联系|聯繫|联络|處理|处理|ご連絡|回答`)
	vagueTimeRe  = regexp.MustCompile(`(?i)빠른 시일 내|최대한 빨리|곧|영업일|\b(?:em até \d+ (?:dias?|horas?)(?: úteis| útil)?|o mais (?:rápido|breve) possível|em breve|en kısa sürede|kısa süre içinde|wkrótce|jak najszybciej|w ciągu \d+|al più presto|(?:il|al) prima possibile|quanto prima|entro \d+|up to \d+ (?:business |working )?(?:hours?|days?)|\d+ (?:business |working )?(?:hours?|days?)|shortly|soon|as soon as (?:possible|we can|they can|someone can|one of us can)|asap|promptly|in due course|within (?:\d+|one|two|three|a|the next)|next (?:business|working) day|in kürze|bald(?:igst|möglichst)?|schnellstmöglich|umgehend|zeitnah|dans les (?:plus )?brefs délais|rapidement|sous \d+|en breve|lo antes posible|a la brevedad|pronto|al più presto|a breve|zo snel mogelijk|spoedig|så snart som möjligt|snarast|snart|hurtigst muligt|snarest)\b|(?:^|[^\p{L}])(?:в ближайшее время|как можно скорее|в течение \d+|sớm nhất|sớm|trong vòng \d+|في أقرب وقت|قريبا|قريباً|خلال \d+)|\b(?:innerhalb von \d+|in der regel innerhalb|dans les meilleurs délais|au plus vite|segera|secepatnya|sesegera mungkin|dalam \d+ (?:jam|hari)|en un plazo de(?: \d+)?|dentro de \d+|no prazo de \d+|entro \d+ ore)\b|尽快|盡快|稍后|稍後|尽早|儘早|改めて|追って|折り返し`)
	// filingRe is the filing of a record: created, logged, received, its number given
	// or to be quoted.
	filingRe = regexp.MustCompile(`(?i)\b(?:creat(?:ed|ing)|open(?:ed|ing)|logg(?:ed|ing)|rais(?:ed|ing)|register(?:ed|ing)|record(?:ed|ing)|submit(?:ted|ting)|receiv(?:ed|ing)|assign(?:ed|ing)|fil(?:ed|ing)|reference|ref|(?:number|id|no\.?) is|waiting|awaiting|pending|remind(?:er|ing)?|clos(?:ed|ing)|resolv(?:ed|ing)|solved|merged|updated|changed|status|includ(?:e|ing)|quot(?:e|ing)|mention(?:ing)?|use this|for (?:further|future|all) (?:communications?|correspondence|replies)|under (?:the )?(?:number|reference|id))\b|erfasst|registriert|eingegangen|angelegt|aufgenommen|eröffnet|enregistr|créé|registrad|recebid|abert[oa]|registrerad|geregistreerd|aangemaakt|zarejestrowan|utworzon|зарегистрирован|принят|создан|alın|oluşturul|접수|受付|受理|创建|建立|生成|提交|已收到`)
	// formFieldRe is a line of a filled-in form: a short label, a colon, a short value.
	formFieldRe = lazyMustCompile(`^\p{Lu}[\p{L}\p{N} /&'()-]{0,30}[:：]\s*\S[^.!?。！？]{0,60}$`)
)

// bookkeepingOf says whether s only cites the record a request was filed under
// ("record") or promises a later answer ("promise"), or neither (""); see above.
// subject is the mail's subject, whose numbers are the record's.
func bookkeepingOf(s, subject string) string {
	if findPhrases(humanCues, withoutTitles(s)) != nil {
		return ""
	}
	// A record is cited as bookkeeping when the sentence is about filing it ("created",
	// "your case number is", "please quote"); "Case 4411 is now with our storage
	// engineers" or "工单 #4411 已转给研发团队" report work on it, which a person does.
	if filingRe.MatchString(s) {
		for _, loc := range recordIDRe.FindAllStringIndex(s, -1) {
			id := strings.TrimLeft(s[loc[0]:loc[1]], "# ")
			if strings.Contains(subject, id) || recordNounRe.MatchString(s[:loc[0]]) {
				return "record"
			}
		}
	}
	if futureRe.MatchString(s) && answerVerbRe.MatchString(s) && vagueTimeRe.MatchString(s) {
		return "promise"
	}
	return ""
}

// echo is our inquiry's text, normalised (lower case, letters and digits only) for
// recognising its sentences when a help desk repeats them, and its lines so normalised
// (a short one, like the name we sign with, is recognised only whole).
type echo struct {
	text  string
	lines map[string]bool
}

// echoMin is the fewest letters and digits a sentence needs to be recognised as ours:
// "Hello," or "Thanks!" belong to everyone.
const echoMin = 16

// newEcho normalises the inquiry's text.
func newEcho(inquiry string) echo {
	e := echo{text: echoKey(inquiry), lines: map[string]bool{}}
	for _, l := range strings.Split(inquiry, "\n") {
		if k := echoKey(l); k != "" {
			e.lines[k] = true
		}
	}
	return e
}

// hasLine reports whether line is a whole line of our inquiry.
func (e echo) hasLine(line string) bool { return e.lines[echoKey(line)] }

// echoKey keeps the letters and digits of s, lower case.
func echoKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// repeats reports whether sentence s is a sentence of our inquiry (whatever the
// spacing, wrapping or punctuation the help desk gave it).
func (e echo) repeats(s string) bool {
	if e.text == "" {
		return false
	}
	k := echoKey(s)
	return len([]rune(k)) >= echoMin && strings.Contains(e.text, k)
}

// isFormField reports whether s is one field of a form ("Priority: 3 - Moderate")
// without a person's cue.
func isFormField(s string) bool {
	return formFieldRe.MatchString(s) && findPhrases(humanCues, s) == nil
}

// answerBeside returns the clauses of s, a sentence of template, absence or status
// wording, that are a person's answer sharing the sentence ("I'm on leave this week,
// but quickly: yes, EU data stays in Frankfurt", "Your ticket has been resolved: I
// restarted the worker"), or nothing. They must be most of the sentence and show a
// person answering (see answersInClauses): the clauses a notice adds to its own
// wording ("If you feel the issue has not been resolved, you can reopen the ticket")
// do not.
func answerBeside(s string) []string {
	rest := withoutAckClauses(s)
	if rest == "" || isTemplate(rest) || !answersInClauses(rest) || 2*letters(rest) < letters(s) {
		return nil
	}
	return []string{rest}
}

// letters counts the letters of s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// answeringCue reports whether cues hold one of a person answering: anything but a
// question mark or a possessive "my" or "me", which notices carry too ("Questions?
// Just reply", "contact my colleague Mia"), and, unless firstPerson counts, the first
// person alone, which an agent's templated introduction carries ("I'm Sam and I'll be
// looking after your request").
func answeringCue(cues []hit, firstPerson bool) bool {
	for _, c := range cues {
		// "I’m" as "I'm": the typographic apostrophe is the one most mail clients type.
		switch strings.ToLower(strings.Trim(strings.ReplaceAll(c.text, "’", "'"), " ,.;:!'\"()")) {
		case "?", "？", "my", "me":
			continue
		case "i", "i'm", "i've", "i'll", "i'd", "ich", "je", "j'ai", "私", "我":
			if !firstPerson {
				continue
			}
		}
		return true
	}
	return false
}

// besideHit returns the rest of the sentence of text that holds h, without h.
func besideHit(text string, h hit) string {
	start := strings.LastIndexAny(text[:h.at], ".!?。！？\n") + 1
	end := len(text)
	if i := strings.IndexAny(text[h.end:], ".!?。！？\n"); i >= 0 {
		end = h.end + i
	}
	return text[start:h.at] + " " + text[h.end:end]
}

// answersBeyondInstructions reports whether text holds a cue of a person answering
// other than an instruction ("You can reply to this email", "please click the link"):
// a yes or no, work reported done, a finding. Each cue is looked for on its own.
func answersBeyondInstructions(text string) bool {
	lower := foldCase(text)
	for _, p := range humanCues {
		if !p.mayMatch(lower) {
			continue
		}
		if c := p.compiled().FindString(text); c != "" && answeringCue([]hit{{text: c}}, false) && !instructionCueRe.MatchString(c) {
			return true
		}
	}
	return false
}

// answersBeside reports whether rest holds a cue of a person answering, each cue
// looked for on its own (findPhrases keeps the first of overlapping hits, and "I've"
// would hide "I've refunded"); the first person alone is none.
func answersBeside(rest string) bool {
	lower := foldCase(rest)
	for _, p := range humanCues {
		if !p.mayMatch(lower) {
			continue
		}
		if m := p.compiled().FindString(rest); m != "" && answeringCue([]hit{{text: m}}, false) {
			return true
		}
	}
	return false
}

// answersInClauses reports whether rest, the clauses left of a template or notice
// sentence, shows a person answering (answeringCue, the first person counting).
func answersInClauses(rest string) bool {
	return answeringCue(findPhrases(humanCues, rest), true)
}

// titleRe is a title in quotation marks, as a desk names the request in its notices
// ("request #48213 "Can I export audit logs as CSV?""), or one a sentence split at its
// question mark left open ("l'objet « Sauvegarde : chiffrement ?").
var titleRe = regexp.MustCompile(`"[^"\n]{1,120}"|“[^”\n]{1,120}”|«[^»\n]{1,120}»|„[^“”\n]{1,120}[“”]|「[^」\n]{1,120}」|『[^』\n]{1,120}』|(?:«|“|„|「|『)[^»”“」』\n]{1,120}[?？]\s*$`)

// withoutTitles returns s without its quoted titles: the words of our subject that a
// notice quotes ("Can I …?") are no cue of the notice's sender.
func withoutTitles(s string) string { return titleRe.ReplaceAllString(s, " ") }

// isStatusNotice reports whether s is a help desk's status notice ("We've marked this
// conversation as closed", "Your request status changed to Resolved") without a cue of a
// person: "Your ticket is resolved: I restarted the worker" reports work and stays.
func isStatusNotice(s string) bool {
	return isNoticeWording(s) && findPhrases(humanCues, withoutTitles(s)) == nil
}

// isAck reports whether s holds acknowledgement or courtesy wording.
func isAck(s string) bool { return matchesAny(s, ackPhrases) }

// isNoticeWording reports whether s holds a status notice's or a routing notice's
// wording, whatever else it holds.
func isNoticeWording(s string) bool {
	return matchesAny(s, noticePhrases, routedPhrases, updatePhrases)
}

// clauseRe splits a sentence into clauses: after commas, semicolons and colons (CJK
// forms included) and around dashes.
var clauseRe = regexp.MustCompile(`[,，、;；:：]\s*|\s+[-–—]+\s+|\s+(?:and|but|und|et|y|pero|aber|mais)\s+`)

// withoutAckClauses returns sentence s without its clauses that hold acknowledgement,
// courtesy or template wording, or "" when nothing of weight is left. A short remnant
// of the acknowledgement ("and", "we") is not kept.
func withoutAckClauses(s string) string {
	var kept []string
	prev := 0
	for _, loc := range append(clauseRe.FindAllStringIndex(s, -1), []int{len(s), len(s)}) {
		c := strings.TrimSpace(s[prev:loc[0]])
		prev = loc[1]
		if c == "" || isAck(c) || isTemplate(c) || isNoticeWording(c) {
			continue
		}
		kept = append(kept, c)
	}
	out := strings.Join(kept, ", ")
	w := 0
	for _, r := range out {
		switch {
		case isCJK(r):
			w += cjkWeight
		case unicode.IsLetter(r):
			w++
		}
	}
	if w < 12 {
		return ""
	}
	return out
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
