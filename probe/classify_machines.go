package probe

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Machine mail of programs that are neither mail servers nor help desks, found by running
// them (mailbox/mailworld's RealOptions.Programs): mailing-list managers answering a post
// (mlmmj, Mailman, Sympa, ezmlm, Majordomo, LISTSERV, Google Groups) and autoresponders
// that wrap their reply in a delivery status notification (maildrop's mailbot -M).

// listManagerLocalRe matches the local parts a mailing-list manager sends its notices from:
// the list's owner, request and bounce addresses in each manager's own spelling (mlmmj's
// "list+owner" and "list+bounces-help", Mailman's "list-owner" and "list-bounces", Google
// Groups' "list+owners", ezmlm's "list-return-…", Majordomo's "owner-list", Sympa's
// "list-request") and the managers' own addresses.
//
// "-request", "-admin" and "-help" are also what help desks call their own addresses
// ("it-help@"), from which people answer: those senders need listNamedRe too.
var (
	listManagerLocalRe = regexp.MustCompile(`(?i)^(?:.+[-+](?:owners?|request|admin|bounces?(?:[-+].*)?|return(?:[-+].*)?|help)|owner-.+|mailman|majordomo|listserv|sympa|listmaster|ezmlm|mlmmj)$`)
	deskLikeLocalRe    = regexp.MustCompile(`(?i)[-+](?:request|admin|help)$`)
)

// listNamedRe names a mailing list unmistakably: as a mailing list, by a list manager's
// name, or as a list followed by its address ("la liste support@…").
var listNamedRe = regexp.MustCompile(`(?i)mailing[- ]?list|mailingliste|liste de diffusion|lista de correo|邮件列表|郵件列表|メーリングリスト|\b(?:mlmmj|mailman|sympa|ezmlm|majordomo|listserv)\b|\b(?:list|liste|lista)\s+<?[\w.+-]+@`)

// listWordRe names a mailing list, in the languages list managers ship their texts in.
var listWordRe = regexp.MustCompile(`(?i)mailing[- ]?list|\bthe list\b|\blist (?:moderator|owner|administrator|subscriber)|\bgroup moderator|mailingliste|\bder liste\b|\bdie liste\b|liste de diffusion|\bla liste\b|lista de correo|\bla lista\b|lista de discussão|邮件列表|郵件列表|列表|メーリングリスト|\bmlmmj\b|\bmailman\b|\bsympa\b|\bezmlm\b|\bmajordomo\b|\blistserv\b`)

// listHeldRe is a list manager saying a post waits for a moderator: neither delivered
// nor refused yet, and read by no one who answers.
var listHeldRe = regexp.MustCompile(`(?i)await(?:s|ing)? (?:release|moderation|approval|moderator)|(?:is|are|being) held (?:for|until)|held for (?:moderation|approval|review)|moderators? (?:are|is|will be) (?:being )?asked to (?:review|approve)|requires? (?:moderator |the moderator's )?approval|pending (?:moderation|approval)|wartet auf (?:freigabe|moderation)|muss (?:erst )?(?:von einem moderator )?freigegeben|zur moderation|en attente (?:de modération|d'approbation|de validation)|doit être (?:approuvé|validé) par|pendiente de (?:moderación|aprobación)|aguardando (?:moderação|aprovação)|版主审核|版主審核|等待审核|等待審核|待审核|待審核|等待发布|等待發佈|承認待ち|モデレーター(?:の)?承認`)

// listDeniedRe is a list manager saying it refused a post: not a subscriber, too large,
// an access rule, a moderator's rejection.
var listDeniedRe = regexp.MustCompile(`(?i)\bdenied\b|was unable to\s+be\s+delivered to the list|(?:has been|was) (?:rejected|refused|discarded)|not (?:a )?(?:list )?(?:subscriber|member)|not (?:authori[sz]ed|allowed|permitted) to (?:post|send)|(?:do not|don't) have permission to post|only (?:list )?(?:members|subscribers) (?:can|may) post|non-?member|exceeded the maximum allowed message size|abgewiesen|abgelehnt|nicht über die\s+liste verteilt|nicht zugestellt|refusé|rejeté|n'a pas pu être (?:distribué|diffusé)|rechazad[oa]|denegad[oa]|recusad[ao]|无法投递到列表|無法投遞到列表|被回绝|被回絕|拒绝|拒絕|配信できませんでした|拒否`)

// classifyListNotice decides a mailing-list manager's notice about our post: sent from a
// list manager's address, naming a list, and saying the post waits
// for a moderator (other: nobody has read it, nor refused it) or was refused (a bounce:
// the list will not deliver it). Such notices carry no DSN, no Auto-Submitted and often
// not even a null Return-Path (mlmmj sends them from "list+owner"), so without this their
// template text read as a person's.
func classifyListNotice(m Mail) (Classification, bool) {
	// From, not Return-Path: a person's answer posted through a list has the list's
	// bounce address as its Return-Path.
	sender := m.From
	local, _, ok := strings.Cut(sender, "@")
	if !ok || !listManagerLocalRe.MatchString(strings.TrimSpace(local)) || replyPrefixRe.MatchString(m.Subject) {
		return Classification{}, false
	}
	text := m.Subject + "\n" + truncateUTF8(m.NewText, classifyTextLimit)
	list := listWordRe.FindString(text)
	if list == "" || deskLikeLocalRe.MatchString(strings.TrimSpace(local)) && !listNamedRe.MatchString(text) {
		return Classification{}, false
	}
	tail := func(said string) string {
		return fmt.Sprintf(" [confidence 0.90; machine: list manager's sender %s, names %q, says %q; person: none]", sender, list, said)
	}
	if said := listHeldRe.FindString(text); said != "" {
		return Classification{Kind: KindOther, Confidence: 0.9,
			Reason: fmt.Sprintf("other: a mailing list holds the post for a moderator (%q): not read, not refused", said) + tail(said)}, true
	}
	if said := listDeniedRe.FindString(text); said != "" {
		return Classification{Kind: KindBounce, Confidence: 0.9,
			Reason: fmt.Sprintf("bounce: a mailing list refused the post (%q)", said) + tail(said)}, true
	}
	return Classification{}, false
}

// classifyReplyReport decides a delivery status notification that is an autoresponder's
// reply: a success report (Action delivered or relayed) that answers our mail (a "Re:"
// subject, or RFC 3834's auto-replied) from an address that is no mail system's, as
// maildrop's mailbot -M sends its autoreplies, the reply's text in the report's first
// part. Its text is weighed as any reply's; only an acknowledgement or an absence notice
// (by their wording, not by the automatic headers alone) is taken; anything else stays
// the success report classifyReport makes of it.
func classifyReplyReport(m Mail) (Classification, bool) {
	r := m.Report
	if r == nil || r.ReportType != "delivery-status" || r.Action != "delivered" && r.Action != "relayed" {
		return Classification{}, false
	}
	local, _, _ := strings.Cut(m.From, "@")
	local = strings.TrimSpace(local)
	if local == "" || daemonSenderRe.MatchString(local) || machineryLocalRe.MatchString(local) {
		return Classification{}, false
	}
	autoReplied := strings.HasPrefix(strings.ToLower(strings.TrimSpace(m.HeaderValue("Auto-Submitted"))), "auto-replied")
	if !replyPrefixRe.MatchString(m.Subject) && !autoReplied {
		return Classification{}, false
	}
	kind, why, ev := weigh(m)
	// An acknowledgement must say so in its words: the automatic headers alone do not
	// tell an autoreply from a plain delivery report.
	said := kind == KindOutOfOffice || kind == KindAutoAck && slices.ContainsFunc(ev.mach, func(s signal) bool {
		return strings.HasPrefix(s.name, "ack wording") || strings.HasPrefix(s.name, "says it is automatic")
	})
	if !said {
		return Classification{}, false
	}
	ev.machine(fmt.Sprintf("an autoreply in a delivery status notification (action %s) from %s", r.Action, m.From), 1)
	c := ev.decide(kind, why+"; sent as a delivery status notification by an autoresponder")
	if c.Kind != kind {
		return Classification{}, false
	}
	return c, true
}

// deskChangeSubjectRe is a help desk's subject announcing that a ticket's status or owner
// changed: RT's stock "Status Changed to: open", "Ticket assigned", "Ihre Anfrage wurde
// übernommen", GLPI's "Attribution d'un technicien".
var deskChangeSubjectRe = regexp.MustCompile(`(?i)\bstatus (?:has )?(?:changed|updated|set) to\b|\bstatus change\b|\b(?:has been |was )?(?:re)?assigned\b|\btaken\b|\bowner (?:changed|set)\b|zugewiesen|übernommen|statusänderung|status geändert|(?:attribuée?|assignée?)\b|attribution (?:d'un|à un|au|du) (?:technicien|groupe|ticket)|\bassign(?:ment)? to (?:a )?(?:technician|group)\b|changement de statut|\basignad[oa]\b|cambio de estado|已分配|已指派|已受理人|状态已(?:更改|变更|更新)|狀態已(?:變更|更新)`)

// deskInstructionRe is the one cue of a person a desk's notice carries too: telling the
// requester what they can do ("You can follow it at https://…"). A question, the first
// person or work reported done still stop the notice rule.
var deskInstructionRe = regexp.MustCompile(`(?i)^(?:you (?:can|could|may)|sie können|vous pouvez|puede|您可以)$`)

// classifyDeskChangeNotice decides a help desk's notice that one of our tickets changed
// status or owner (RT's "Status Changed to: open" with a link and "This transaction
// appears to have no content", a queue's "assigned to Dana Li"): mail from a help desk
// (its headers, or RFC 3834 and Precedence marks), under a subject that states the
// change and is no reply, whose text carries nothing of a person but an instruction. It is other: the
// desk keeps its books, nobody has answered, and it acknowledges nothing new.
func classifyDeskChangeNotice(m Mail) (Classification, bool) {
	if replyPrefixRe.MatchString(m.Subject) {
		return Classification{}, false
	}
	said := deskChangeSubjectRe.FindString(m.Subject)
	desk := slices.Concat(helpDeskSignals(m), autoSignals(m))
	if said == "" || len(desk) == 0 {
		return Classification{}, false
	}
	nt := analyzeNewText(truncateUTF8(m.NewText, classifyTextLimit), m.Subject, newEcho(m.Inquiry))
	// "Request received: assigned ticket #4711" is an acknowledgement that numbers the
	// request: receipt wording leaves it to the weighing.
	if slices.ContainsFunc(findPhrases(ackPhrases, m.Subject+"\n"+nt.own), func(h hit) bool { return h.strong }) {
		return Classification{}, false
	}
	if nt.weight >= humanWeight || slices.ContainsFunc(nt.cues, func(h hit) bool { return !deskInstructionRe.MatchString(h.text) }) {
		return Classification{}, false
	}
	return Classification{Kind: KindOther, Confidence: 0.9,
		Reason: fmt.Sprintf("other: a help desk's notice that the ticket's status or owner changed (subject %q), no answer [confidence 0.90; machine: %s, change subject %q, %d chars of new text and no cue of a person; person: none]",
			clip(m.Subject, 80), strings.Join(desk, ", "), said, nt.chars)}, true
}
