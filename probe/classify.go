package probe

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Telling automatic mail from a person's reply
//
// Classify decides in this order, and the first decision wins:
//
//  1. Rules from the configuration, first match wins: `rule "name"`.
//  2. bounce: a delivery status notification that reports a failure (Report set, action
//     "failed" or absent), or mail from MAILER-DAEMON / postmaster / a null Return-Path
//     with a bounce subject ("Undelivered Mail Returned to Sender", "Undeliverable:",
//     "退信", …). A DSN whose action is "delayed", "delivered", "relayed" or "expanded"
//     is other: the inquiry may still arrive, so it must not count as bounced.
//  3. out_of_office: X-Autoreply / X-Autorespond, a localised absence subject
//     ("Automatic reply", "Abwesenheitsnotiz", "自动回复", …), or personal absence
//     wording ("I am out of the office", "我正在休假") together with an automatic header
//     (Auto-Submitted: auto-replied and the like). Content wins over these signals: a
//     mail that says a request or ticket was received or created, without personal
//     absence wording, is a help desk's acknowledgement under an "Automatic reply"
//     subject and goes on to the steps below.
//  4. Survey and verification mails ("how did we do", "rate our support", "满意度调查",
//     "verify your email", "验证码", "邮箱验证") are other, unless their new text weighs
//     humanWeight or more (a reply with a survey footer). A bare "验证" is not enough: an
//     engineer writes it ("we verified") as often as a sign-up form.
//  5. Newsletters (List-Id, List-Unsubscribe or Precedence: list on a mail that is not a
//     reply: no In-Reply-To or References) are other, unless they carry ack wording.
//  6. human: substantial new text, whatever the headers say (some help desks mark every
//     agent reply Auto-Submitted or Precedence: bulk).
//  7. auto_ack: ack wording ("we have received your request", "ticket has been created",
//     "我们已收到", …) with no substantial new text beyond it.
//  8. auto_ack: automatic signals (Auto-Submitted other than "no", Precedence bulk, junk
//     or auto_reply, X-Auto-Response-Suppress, a no-reply sender) and new text too
//     light for step 6 (ticket status notices, "Status: Open").
//  9. human: any new text on a mail with no automatic signal ("Yes, 24x7. Tom").
//  10. other: nothing to go on (no new text, no signal).
//
// "New text" is Mail.NewText with what a help desk adds around a message taken out:
// anything after a signature delimiter ("-- "), a closing line ("Best regards,", "此致")
// once some content came before it, or a separator that starts a copy of the request
// ("-----Original Message-----", "On … wrote:", a From:/Sent: block, or a line of dashes
// below ack, survey or verification wording: an update notice's dashes are followed by
// the agent's new comment, which counts);
// greetings ("Dear Lin,", "您好，"); and every sentence that holds ack wording or
// help-desk template wording (ticket links, "reply above this line", business hours,
// "Status: Open", survey and verification phrases). URLs and e-mail addresses do not
// count, nor do digits (ticket numbers, phone numbers, dates).
//
// What is left is weighed in letters, a CJK character counting as three (a Chinese
// sentence of about 27 characters carries what an English sentence of about 80 letters
// does). It is substantial (step 6) when it weighs at least humanWeight (150: two or three
// sentences), or at least cueWeight (30: a short sentence) and either shows a cue of a
// person answering (a question mark, "I"/"I'm"/"my", "我" but not "我们", "you can",
// "please try", "could you", "建议", "请您", …) or the mail has no ack wording at all.
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

// Classification is what a mail is, and why.
type Classification struct {
	Kind Kind
	// Reason names the signals that decided, for the record beside the figure:
	// `auto_ack: Auto-Submitted: auto-replied; ack wording "we have received your
	// request"; no new text beyond the acknowledgement`.
	Reason string
}

// The thresholds for new text, in weight (letters, a CJK character counting as 3).
const (
	humanWeight = 150 // substantial whatever else the mail says
	cueWeight   = 30  // enough with a cue of a person answering, or without ack wording
	cjkWeight   = 3
)

// classifyTextLimit bounds the new text Classify reads; see Classify.
const classifyTextLimit = 16 << 10

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
// (first match wins). It is a pure function of its arguments, so a stored mail
// reclassifies to the same result.
func Classify(m Mail, rules []Rule) Classification {
	for _, r := range rules {
		if r.matches(m) {
			return Classification{Kind: r.Kind, Reason: ruleReason(r)}
		}
	}
	if c, ok := classifyBounce(m); ok {
		return c
	}

	// Wording is looked for in the subject and the sender's own text: not in a
	// signature, nor in a copy of the request below it. Only the first
	// classifyTextLimit bytes are read: acknowledgements and answers say what they are
	// at the top, and the phrase search would otherwise take seconds on a 250 KB mail,
	// holding up every message behind it.
	nt := analyzeNewText(truncateUTF8(m.NewText, classifyTextLimit), m.Subject)
	subjectAndText := m.Subject + "\n" + nt.own
	acks := slices.Concat(findPhrases(subjectAckPhrases, m.Subject), findPhrases(ackPhrases, subjectAndText))
	strongAck := false
	for _, a := range acks {
		strongAck = strongAck || a.strong
	}
	auto := autoSignals(m)

	// Out of office, unless the content is a help desk's acknowledgement.
	personal := findPhrases(personalAbsence, nt.own)
	ooo := oooSignals(m, auto, personal)
	if len(ooo) > 0 && (!strongAck || len(personal) > 0) {
		return Classification{Kind: KindOutOfOffice, Reason: "out_of_office: " + strings.Join(slices.Concat(ooo, auto), "; ")}
	}

	if other := findPhrases(surveyPhrases, subjectAndText); len(other) > 0 && nt.weight < humanWeight {
		return Classification{Kind: KindOther, Reason: "other: survey " + quoteMatches(other) + newTextNote(nt)}
	}
	if other := findPhrases(verifyPhrases, subjectAndText); len(other) > 0 && nt.weight < humanWeight {
		return Classification{Kind: KindOther, Reason: "other: verification " + quoteMatches(other) + newTextNote(nt)}
	}
	list := listSignals(m)
	newsletter := len(list) > 0 && len(m.InReplyTo) == 0 && len(m.References) == 0
	if newsletter && len(acks) == 0 {
		return Classification{Kind: KindOther, Reason: "other: newsletter (" + strings.Join(list, ", ") + ", not a reply)"}
	}

	if substantial, why := nt.substantial(len(acks) > 0); substantial && !newsletter {
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
		return Classification{Kind: KindHuman, Reason: reason}
	}
	if len(acks) > 0 {
		sig := slices.Clone(auto)
		if len(ooo) > 0 {
			sig = append(sig, strings.Join(ooo, ", ")+", but the content is an acknowledgement")
		}
		sig = append(sig, "ack wording "+quoteMatches(acks))
		return Classification{Kind: KindAutoAck, Reason: "auto_ack: " + strings.Join(sig, "; ") + "; " + ackRemainder(nt)}
	}
	if len(auto) > 0 {
		return Classification{Kind: KindAutoAck, Reason: "auto_ack: " + strings.Join(auto, "; ") + "; " + autoRemainder(nt)}
	}
	if nt.weight > 0 {
		return Classification{Kind: KindHuman, Reason: fmt.Sprintf("human: %d chars of new text, no automatic signal", nt.chars)}
	}
	return Classification{Kind: KindOther, Reason: "other: no new text and no signal of a person, an acknowledgement or an automatic sender"}
}

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

// Bounces.

var (
	daemonSenderRe  = regexp.MustCompile(`(?i)^(?:mailer[-_]?daemon|mail[-_]?daemon|postmaster|mail[-_]?delivery[-_]?(?:system|subsystem)?)$`)
	bounceSubjectRe = regexp.MustCompile(`(?i)undeliver|returned to sender|returned mail|delivery status notification \((?:failure|delay)|delivery (?:has )?failed|delivery failure|failure notice|mail delivery (?:failed|failure|system)|could not be delivered|non[- ]?delivery|not delivered|mail system error|退信|投递失败|投遞失敗|无法投递|無法投遞|未能送达|unzustellbar|nicht zustellbar|non remis|échec de la remise|no se puede entregar|no entregado|onbestelbaar|non recapitabile|não entregue`)
	delaySubjectRe  = regexp.MustCompile(`(?i)delay|still being retried|warning: could not send|延迟|延遲|verzögert|retardé`)
)

func classifyBounce(m Mail) (Classification, bool) {
	if r := m.Report; r != nil {
		var parts []string
		action := r.Action
		if action == "" {
			action = "unknown"
		}
		parts = append(parts, "action "+action)
		if r.Status != "" {
			parts = append(parts, "status "+r.Status)
		}
		if r.Diagnostic != "" {
			parts = append(parts, fmt.Sprintf("%q", clip(r.Diagnostic, 120)))
		}
		switch r.Action {
		case "delayed", "delivered", "relayed", "expanded":
			return Classification{Kind: KindOther, Reason: "other: delivery status notification, " + strings.Join(parts, ", ") + ": not a failure"}, true
		}
		return Classification{Kind: KindBounce, Reason: "bounce: delivery status notification, " + strings.Join(parts, ", ")}, true
	}
	local, _, _ := strings.Cut(m.From, "@")
	daemon := daemonSenderRe.MatchString(strings.TrimSpace(local))
	nullSender := strings.TrimSpace(m.HeaderValue("Return-Path")) == "<>"
	if !daemon && !nullSender {
		return Classification{}, false
	}
	sender := "From " + m.From
	if !daemon {
		sender = "Return-Path <>"
	}
	if s := bounceSubjectRe.FindString(m.Subject); s != "" && !delaySubjectRe.MatchString(m.Subject) {
		return Classification{Kind: KindBounce, Reason: fmt.Sprintf("bounce: %s, bounce subject %q", sender, m.Subject)}, true
	}
	if daemon {
		return Classification{Kind: KindOther, Reason: fmt.Sprintf("other: mail system notice from %s, subject %q is no delivery failure", m.From, m.Subject)}, true
	}
	return Classification{}, false
}

// Headers.

var noReplyLocalRe = regexp.MustCompile(`(?i)no[-_.]?reply|do[-_.]?not[-_.]?reply|^(?:notifications?|notify|auto[-_.]?reply|autoresponder|automated|mailer|system)$`)

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
	if local, _, _ := strings.Cut(m.From, "@"); local != "" && noReplyLocalRe.MatchString(local) {
		sig = append(sig, "no-reply sender "+m.From)
	}
	return sig
}

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
	oooAnywhereRe = regexp.MustCompile(`(?i)out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|vacation reply|自动回复|自動回覆|自動回复|自动答复|不在办公室|不在辦公室|abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|respuesta autom[áa]tica|fuera de (?:la )?oficina|automatisch antwoord|risposta automatica|fuori sede|fuori ufficio|resposta autom[áa]tica|fora do escrit[óo]rio`)
	oooStartRe    = regexp.MustCompile(`(?i)^(?:ooo\b|away from|on vacation|on leave|休假|外出|abwesend|absen(?:ce|t)\b|ausente|afwezig|niet aanwezig|assente)`)
	replyPrefixRe = regexp.MustCompile(`(?i)^(?:\s*(?:re|aw|wg|fw|fwd|sv|vs|antw|rif|res|enc|回复|回覆|答复|转发|轉寄)\s*(?:\[\d+\])?\s*[:：]\s*)+`)
)

// personalAbsence is wording of a person's own absence, which an acknowledgement from a
// help desk does not use.
var personalAbsence = compilePhrases([]phrase{
	{re: `\bi(?:'m| am| will be|'ll be)(?: currently)? (?:out of (?:the )?office|away|on (?:annual |parental |sick )?(?:leave|vacation|holiday)|travell?ing)`},
	{re: `\bout of (?:the )?office (?:until|till|from|through)`},
	{re: `limited access to (?:my )?e-?mail`},
	{re: `(?:up)?on my return`},
	{re: `我(?:目前|现在|現在)?(?:正在)?(?:休假|出差|不在办公室|不在辦公室)`},
	{re: `ich bin (?:bis|vom|derzeit|zurzeit|ab)`},
	{re: `je suis (?:actuellement )?absent`},
	{re: `estoy (?:fuera|de vacaciones|ausente)`},
	{re: `sono (?:fuori|in ferie|assente)`},
	{re: `ik ben (?:afwezig|met vakantie|niet aanwezig)`},
	{re: `estou (?:fora|de férias|ausente)`},
})

// oooSignals names what says m is an absence notice, automatic headers aside: headers
// of vacation programs, an absence subject, or personal absence wording in mail that an
// automatic header marks.
func oooSignals(m Mail, auto []string, personal []hit) []string {
	var sig []string
	for _, h := range []string{"X-Autoreply", "X-Autorespond"} {
		if hasHeader(m, h) {
			sig = append(sig, h+" header")
		}
	}
	if s := oooSubject(m.Subject); s != "" {
		sig = append(sig, fmt.Sprintf("subject %q says %q", clip(m.Subject, 80), s))
	}
	if len(personal) > 0 && (len(sig) > 0 || len(auto) > 0) {
		sig = append(sig, "absence wording "+quoteMatches(personal))
	}
	return sig
}

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
	cre    *regexp.Regexp
}

// hit is a phrase found in a text.
type hit struct {
	text   string
	strong bool
	at     int // byte offsets in the text searched
	end    int
}

// compilePhrases compiles each phrase case-insensitively, once, when the package loads.
func compilePhrases(ps []phrase) []phrase {
	for i := range ps {
		ps[i].cre = regexp.MustCompile(`(?i)` + ps[i].re)
	}
	return ps
}

// findPhrases returns the phrases of ps found in text, each once, in the order they
// appear in text.
func findPhrases(ps []phrase, text string) []hit {
	var hits []hit
	for _, p := range ps {
		if loc := p.cre.FindStringIndex(text); loc != nil && loc[1] > loc[0] {
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
	{re: `\bwe(?:'ve| have)? (?:successfully |now )?received your (?:support |service )?(?:request|e-?mail|message|ticket|inquiry|enquiry|case|query|submission)`, strong: true},
	{re: `\byour (?:support |service )?(?:request|ticket|case|e-?mail|message|inquiry|enquiry|query)(?:\s*\(?\s*(?:#|no\.?|number)?\s*[\w-]+\s*\)?)? (?:has|have) been (?:received|created|logged|opened|submitted|registered|recorded)`, strong: true},
	{re: `\b(?:a |new )?(?:support )?(?:ticket|case|request)(?:\s*\(?\s*(?:#|no\.?|number)?\s*[\w-]+\s*\)?)? (?:has been|was|is) (?:created|opened|logged|received|submitted|registered)`, strong: true},
	{re: `\bwe have (?:logged|registered|recorded) your`, strong: true},
	{re: `\bthis is an? (?:automated|automatic|auto-generated) (?:response|reply|message|e-?mail|notification|acknowledge?ment)`},
	{re: `\bwe(?:'ll| will| shall) (?:get back to|respond to|reply to|be in touch with|contact) you`},
	{re: `\bthank(?:s| you) for (?:contacting|reaching out to|writing to|your (?:support )?(?:request|inquiry|enquiry|e-?mail|message|mail))`},
	{re: `\b(?:a member of our (?:support |customer service |service )?team|(?:one of )?our (?:support )?(?:team|agents?|engineers?|representatives?|specialists?|staff)|an? (?:support )?(?:agent|engineer|representative|specialist|team member)) (?:will|shall) (?:be )?(?:respond|reply|contact|review|look|get|reach|be in touch)`},
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
})

// subjectAckPhrases are the short forms of ack wording that help desks put in subjects
// ("Request received", "Ticket #4711 created"); in running text they would also match a
// person's "the ticket opened yesterday".
var subjectAckPhrases = compilePhrases([]phrase{
	{re: `\b(?:request|ticket|case|inquiry|enquiry)\s+(?:#?\s*[\w-]*\d[\w-]*\s+)?(?:received|created|opened|logged|submitted)\b`, strong: true},
})

// surveyPhrases mark satisfaction surveys, which follow a reply and are not one.
var surveyPhrases = compilePhrases([]phrase{
	{re: `how did we do`},
	{re: `rate (?:our|the|your) (?:support|service|experience|interaction|conversation)`},
	{re: `how (?:would|do) you rate`},
	{re: `(?:customer )?satisfaction survey|csat survey`},
	{re: `take (?:a|our) (?:short |quick |brief )?survey`},
	{re: `满意度调查|滿意度調查|满意度评价|滿意度評價|服务评价|服務評價|请对本次服务(?:进行)?评价|請對本次服務(?:進行)?評價`},
})

// verifyPhrases mark address verification and account confirmation mails.
var verifyPhrases = compilePhrases([]phrase{
	{re: `verify your (?:e-?mail|address|account)`},
	{re: `confirm your (?:e-?mail )?(?:address|e-?mail|account|subscription)`},
	{re: `verification code|activate your account`},
	{re: `验证码|驗證碼|验证(?:您的)?(?:邮箱|邮件地址|电子邮件|账户|账号)|驗證(?:您的)?(?:郵箱|郵件地址|電子郵件|帳戶|帳號)|(?:邮箱|郵箱)(?:验证|驗證)|完成(?:验证|驗證)|确认您的邮箱|確認您的郵箱|激活(?:您的)?账户|啟用(?:您的)?帳戶`},
})

// templatePhrases are the help-desk furniture around a message: a sentence holding one
// is not new text.
var templatePhrases = compilePhrases([]phrase{
	{re: `reply (?:above|below) this line|type your reply above`},
	{re: `(?:do not|don't|please do not) (?:reply|respond|change the subject)`},
	{re: `to add (?:additional |further )?(?:comments|information|details)`},
	{re: `(?:view|track|check|update|see|follow)(?: and update| the status of| the progress of)? (?:your|this|the) (?:ticket|request|case)`},
	{re: `(?:our|the) (?:support|business|office|opening|service) hours (?:are|is)|(?:服务|服務|工作)时间(?:为|是)|(?:服務|工作)時間(?:為|是)`},
	{re: `help ?cent(?:er|re)|knowledge ?base|\bfaqs?\b|support portal|community forum`},
	{re: `in the meantime`},
	{re: `unsubscribe|manage (?:your )?(?:e-?mail )?preferences`},
	{re: `this (?:e-?mail|message|notification) (?:was|is|has been) (?:sent|generated)`},
	{re: `powered by|turn off .{0,30}notifications|notification settings|this is shared with|sent you this (?:message|e-?mail)|\bview (?:request|ticket|case)\b`},
	{re: `confidential|intended (?:only )?for the (?:named )?(?:recipient|addressee)`},
	{re: `has been (?:updated|assigned|closed|resolved|solved|escalated|merged)|status (?:has )?changed`},
	{re: `\blog ?in to|sign ?in to|click (?:here|the|one|below|on)|\bbutton\b`},
	{re: `if you did not|ignore this (?:e-?mail|message)|link (?:will )?expires?`},
	{re: `please (?:allow|wait|be patient|note that (?:our|this))`},
	{re: `\byour feedback\b|we(?:'d| would) love to hear`},
	{re: `^\s*(?:ticket|case|request|reference|ref)\b.{0,20}?(?:#|\bid\b|number|no\.?)\s*[:：]?\s*[\w-]+\s*$`},
	{re: `^\s*(?:status|priority|subject|requester|assignee|group|created|updated|type|category|ticket|case)\s*[:：]`},
	{re: `^\s*(?:工单|工單)(?:号|號|编号|編號)?\s*[:：#]|^\s*(?:状态|狀態|优先级|優先級|主题|主旨)\s*[:：]`},
	{re: `查看工单|查看工單|工单状态|工單狀態|帮助中心|幫助中心|点击|點擊|如非本人操作|退订|退訂|本邮件|本郵件|请耐心等待|請耐心等候|請耐心等待`},
})

// humanCues are signs of a person answering rather than a template acknowledging.
var humanCues = compilePhrases([]phrase{
	{re: `[?？]`},
	{re: `(?:^|[^\p{L}'])(?:i|i'm|i've|i'll|i'd|my|me)(?:[^\p{L}']|$)`},
	{re: `\bplease (?:try|run|check|send|provide|confirm|share|attach|upgrade|update|restart|install|set|use|see)\b`},
	{re: `\byou (?:can|could|should|need to|may want to|will need to)\b|\bcould you\b|\bcan you\b`},
	{re: `\bwe (?:recommend|suggest|checked|investigated|found|tested|reproduced|confirmed|fixed|released|support|offer|provide)\b`},
	{re: `\bthe (?:issue|problem|error|bug|fix|root cause|workaround|answer|solution) (?:is|was|has|will)\b`},
	{re: `我(?:[^们們]|$)`},
	{re: `请您|請您|建议|建議|您可以|麻烦您|麻煩您|请尝试|請嘗試|请提供|請提供|请升级|請升級|请检查|請檢查`},
})

// New text.

// newText is what is left of a mail's new text once help-desk furniture is taken out.
type newText struct {
	own    string // the lines before any signature or copy of the request
	text   string // own without greetings, closings and furniture
	chars  int    // runes, whitespace collapsed
	weight int    // letters, a CJK character counting cjkWeight
	cues   []hit
}

// substantial reports whether the new text is a person's, and names the cue it relied
// on ("" when its length alone decided).
func (nt newText) substantial(hasAck bool) (bool, string) {
	switch {
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
	separatorRe   = regexp.MustCompile(`^[-_=*]{4,}$`)
	headerBlockRe = regexp.MustCompile(`(?i)^(?:from|von|de|da|van|发件人|發件人|寄件者|寄件人)\s*[:：]`)
	headerNextRe  = regexp.MustCompile(`(?i)^(?:sent|date|to|subject|gesendet|envoyé|enviado|inviato|verzonden|发送时间|發送時間|日期|收件人|主题|主旨)\s*[:：]`)
	closingRe     = regexp.MustCompile(`(?i)^(?:(?:best|kind|warm|warmest|with kind|many)\s+(?:regards|wishes|thanks)|regards|thanks(?: again)?|thank you|many thanks|cheers|sincerely(?: yours)?|yours(?: sincerely| truly| faithfully)?|best|br|mit freundlichen grüßen|viele grüße|cordialement|saludos(?: cordiales)?|cordiali saluti|met vriendelijke groet(?:en)?|atenciosamente|此致|敬礼|敬禮|谢谢|謝謝|祝好|顺祝商祺|順祝商祺|顺颂商祺|順頌商祺)[\s,.!。！，]*$`)
	greetingRe    = regexp.MustCompile(`(?i)^(?:(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|hallo|bonjour|hola|ciao|olá)\b[^,，:：!！\n]{0,40}(?:[,，:：!！]|$)|(?:您好|你好|尊敬的[^，,：:！!]{0,12})(?:[，,：:！!]|$))\s*`)
	sentenceEndRe = regexp.MustCompile(`[.!?](?:\s+|$)|[。！？；]+`)
	noCountRe     = regexp.MustCompile(`https?://\S+|www\.\S+|\S+@\S+\.\S+`)
)

// analyzeNewText takes help-desk furniture out of text and weighs what is left. subject
// helps to tell what a separator line divides.
func analyzeNewText(text, subject string) newText {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var kept, own []string
	content := false
	// para is the paragraph being built: hard-wrapped lines are joined so that a
	// sentence broken across lines is judged whole, while short lines ("Status: Open")
	// stay on their own.
	para, last := "", ""
	flush := func() {
		for _, s := range splitSentences(para) {
			content = true
			if !isFurniture(s) {
				kept = append(kept, s)
			}
		}
		para, last = "", ""
	}
	for i, raw := range lines {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, ">") {
			flush()
			continue
		}
		if cutRe.MatchString(line) || isHeaderBlock(lines, i) {
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
	nt := newText{own: strings.Join(own, "\n"), text: strings.Join(kept, " ")}
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
	for {
		loc := sentenceEndRe.FindStringIndex(line)
		if loc == nil {
			break
		}
		if s := strings.TrimSpace(line[:loc[1]]); s != "" {
			out = append(out, s)
		}
		line = line[loc[1]:]
	}
	if s := strings.TrimSpace(line); s != "" {
		out = append(out, s)
	}
	return out
}

// isNotice reports whether text holds the wording of a help desk's acknowledgement,
// survey or verification mail.
func isNotice(text string) bool {
	for _, ps := range [][]phrase{ackPhrases, subjectAckPhrases, surveyPhrases, verifyPhrases} {
		for _, p := range ps {
			if p.cre.MatchString(text) {
				return true
			}
		}
	}
	return false
}

// isFurniture reports whether sentence s is acknowledgement, template, survey or
// verification wording rather than something a person wrote for this mail.
func isFurniture(s string) bool {
	for _, ps := range [][]phrase{ackPhrases, templatePhrases, surveyPhrases, verifyPhrases} {
		for _, p := range ps {
			if p.cre.MatchString(s) {
				return true
			}
		}
	}
	return false
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
