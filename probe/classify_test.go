package probe_test

import (
	"regexp"
	"strings"
	"testing"

	"supportprobe/probe"
)

// hdr builds a Mail.Header from name, value pairs.
func hdr(kv ...string) map[string][]string {
	h := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = append(h[kv[i]], kv[i+1])
	}
	return h
}

const (
	zendeskAck = `##- Please type your reply above this line -##

Your request (4711) has been received and is being reviewed by our support staff.

To add additional comments, reply to this email.

----------------------------------------------

Lin Wei, Jun 1, 2026, 03:00 CET

Hello, do you offer 24x7 support for P1 incidents, including weekends and public
holidays? We are evaluating Acme Storage for a production cluster and need to know who
answers at night, and how quickly. Thanks, Lin`

	zendeskUpdate = `Your request (4711) has been updated. To add additional comments, reply to this email.

----------------------------------------------

Tom Becker (Acme Support)

Jun 1, 2026, 04:12 CET

Yes, P1 is covered 24x7. The duty engineer calls back within 30 minutes.`

	englishAck = `Dear Lin Wei,

Thank you for contacting Acme Support. We have received your request and a ticket (#4711) has been created. A member of our team will respond within 1 business day.

You can view your ticket at https://support.acme.com/t/4711.
Our support hours are Monday to Friday, 9:00-18:00 CET.

Best regards,
Acme Support Team
+1 555 0100 | support@acme.com`

	chineseAck = `尊敬的客户，您好！

我们已收到您的邮件，工单已创建，工单号：20240601。我们会尽快回复您。

此邮件为系统自动发送，请勿直接回复。

此致
敬礼
某某科技客服中心`

	traditionalAck = `您好：

我們已收到您的來信，工單已受理。我們會盡快回覆。
此郵件為系統自動發送，請勿直接回覆。

客服中心`

	freshdeskAck = `Dear Lin,

We would like to acknowledge that we have received your request and a ticket has been
created with Ticket ID - 4711. A support representative will be reviewing your request
and will send you a personal response (usually within 24 hours).

To view the status of the ticket or add comments, please visit
https://acme.freshdesk.com/helpdesk/tickets/4711

Thank you for your patience.

Sincerely,
Acme Support Team`

	jiraAck = `Hi Lin,

We've received your request and will get back to you soon.

View request · Turn off this request's notifications

This is shared with Lin Wei.

Help center, powered by Jira Service Management, sent you this message.`

	jiraComment = `Tom Becker commented:

The fix is in 7.2.1, please upgrade the controller first.

View request · Turn off this request's notifications

Help center, powered by Jira Service Management, sent you this message.`

	agentAnswer = `Hi Lin,

Our P1 coverage is 24x7, including weekends and public holidays. A duty engineer is
paged for every P1 ticket and calls back within 30 minutes; for P2 the target is four
business hours. You can also reach the duty engineer by phone at any hour.

Best regards,
Tom Becker
Acme Support`

	thanksThenAnswer = `Thank you for contacting us.

I checked your contract: the 24x7 option applies to P1 only. If you open a P1 at night,
the on-call engineer answers within an hour. Do you want me to add the night line to
your account?

Kind regards,
Tom`

	chineseAnswer = `您好，

关于您咨询的P1支持：我们提供7x24小时服务，P1工单一小时内会有工程师响应，节假日同样有值班工程师。您可以随时拨打400热线。

张工
技术支持部`

	zendeskSurvey = `Hello Lin,

We'd love to hear what you think of our customer service. Please take a moment to
answer one simple question by clicking either link below:

How would you rate the support you received?

Good, I'm satisfied
Bad, I'm unsatisfied

----------------------------------------------

Tom Becker (Acme Support), Jun 1, 2026, 04:12 CET

Our P1 coverage is 24x7, including weekends and public holidays. A duty engineer is
paged for every P1 ticket and calls back within 30 minutes.`

	newsletter = `Acme Storage 7.2 is here! Faster rebuilds, a new dashboard and tiered snapshots
make your cluster easier to run than ever. Join our webinar on June 10 to see the new
features live, and read the release notes for the full list of improvements and fixes.
Upgrade today from the customer portal.`
)

func TestClassify(t *testing.T) {
	agentsRule := probe.Rule{From: "@acme.com", Subject: regexp.MustCompile(`^\[Acme Agent\]`), Kind: probe.KindHuman, Name: "acme agents"}
	tests := []struct {
		name       string
		mail       probe.Mail
		rules      []probe.Rule
		want       probe.Kind
		wantReason []string // substrings of Reason
	}{
		// Rules.
		{
			name:  "rule overrides the heuristics",
			mail:  probe.Mail{From: "desk@eu.acme.com", Subject: "[Acme Agent] Re: coverage", NewText: englishAck, Header: hdr("Auto-Submitted", "auto-generated")},
			rules: []probe.Rule{agentsRule},
			want:  probe.KindHuman, wantReason: []string{`rule "acme agents"`, "from @acme.com"},
		},
		{
			name: "first matching rule wins",
			mail: probe.Mail{From: "desk@acme.com", Subject: "[Acme Agent] x"},
			rules: []probe.Rule{
				{From: "desk@acme.com", Kind: probe.KindOther, Name: "desk is noise"},
				agentsRule,
			},
			want: probe.KindOther, wantReason: []string{`rule "desk is noise"`},
		},
		{
			name:  "a rule for another sender does not apply",
			mail:  probe.Mail{From: "desk@acme.com.evil.org", Subject: "[Acme Agent] x", NewText: englishAck},
			rules: []probe.Rule{agentsRule},
			want:  probe.KindAutoAck,
		},

		// Bounces.
		{
			name: "DSN",
			mail: probe.Mail{From: "mailer-daemon@mx.example.com", Subject: "Undelivered Mail Returned to Sender",
				Report: &probe.DeliveryReport{Action: "failed", Status: "5.1.1", Diagnostic: "550 5.1.1 <support@acme.com>: user unknown"}},
			want: probe.KindBounce, wantReason: []string{"bounce: delivery status notification", "action failed", "status 5.1.1", "user unknown"},
		},
		{
			name: "DSN of a delay is not a bounce",
			mail: probe.Mail{From: "mailer-daemon@mx.example.com", Subject: "Delayed Mail (still being retried)",
				Report: &probe.DeliveryReport{Action: "delayed", Status: "4.4.1"}},
			want: probe.KindOther, wantReason: []string{"action delayed", "not a failure"},
		},
		{
			name: "MAILER-DAEMON with a bounce subject, no report",
			mail: probe.Mail{From: "MAILER-DAEMON@mx.acme.com", Subject: "Undelivered Mail Returned to Sender", NewText: "I'm sorry to have to inform you..."},
			want: probe.KindBounce, wantReason: []string{"bounce: From MAILER-DAEMON@mx.acme.com", "bounce subject"},
		},
		{
			name: "postmaster Undeliverable",
			mail: probe.Mail{From: "postmaster@acme.onmicrosoft.com", Subject: "Undeliverable: Night coverage question"},
			want: probe.KindBounce,
		},
		{
			name: "Chinese bounce",
			mail: probe.Mail{From: "postmaster@partner.cn", Subject: "系统退信"},
			want: probe.KindBounce,
		},
		{
			name: "null Return-Path with a bounce subject",
			mail: probe.Mail{From: "mail@relay.example.net", Subject: "Delivery Status Notification (Failure)", Header: hdr("Return-Path", "<>")},
			want: probe.KindBounce, wantReason: []string{"Return-Path <>"},
		},
		{
			name: "MAILER-DAEMON delay warning is other",
			mail: probe.Mail{From: "mailer-daemon@mx.example.com", Subject: "Warning: message delayed"},
			want: probe.KindOther, wantReason: []string{"mail system notice"},
		},
		// OpenSMTPD's subjects: "failed" (6.x) or "error" is a bounce, "delayed" is not.
		{
			name: "OpenSMTPD failed subject, no report",
			mail: probe.Mail{From: "MAILER-DAEMON@mx.vendor.example", Subject: "Delivery status notification: failed", NewText: "Hi!"},
			want: probe.KindBounce, wantReason: []string{"bounce subject"},
		},
		{
			name: "OpenSMTPD error subject, no report",
			mail: probe.Mail{From: "MAILER-DAEMON@mx.vendor.example", Subject: "Delivery status notification: error", NewText: "Hi!"},
			want: probe.KindBounce, wantReason: []string{"bounce subject"},
		},
		{
			name: "OpenSMTPD delayed subject, no report",
			mail: probe.Mail{From: "MAILER-DAEMON@mx.vendor.example", Subject: "Delivery status notification: delayed", NewText: "Hi!"},
			want: probe.KindOther,
		},
		{
			name: "OpenSMTPD wording and a 550 under an empty report",
			mail: probe.Mail{From: "MAILER-DAEMON@mx.vendor.example", Subject: "Notification",
				NewText: "Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\nAn error has occurred while attempting to deliver a message for\nthe following list of recipients:\n\nsupport@vendor.example: 550 Invalid recipient: <support@vendor.example>\n",
				Report:  &probe.DeliveryReport{OriginalMessageID: "inquiry@customer.example"}},
			want: probe.KindBounce, wantReason: []string{"mail system wording", "permanent SMTP failure"},
		},
		{
			name: "an empty report from MAILER-DAEMON without failure wording stays other",
			mail: probe.Mail{From: "MAILER-DAEMON@mx.vendor.example", Subject: "Notification", NewText: "Your message was relayed.",
				Report: &probe.DeliveryReport{OriginalMessageID: "inquiry@customer.example"}},
			want: probe.KindOther, wantReason: []string{"states no failure"},
		},

		// Out of office.
		{
			name: "Exchange automatic reply in English",
			mail: probe.Mail{From: "tom.becker@acme.com", Subject: "Automatic reply: Night coverage question",
				Header:  hdr("Auto-Submitted", "auto-replied", "X-Auto-Response-Suppress", "All"),
				NewText: "I am out of the office until Monday 8 June with limited access to email. For urgent matters please contact support@acme.com."},
			want: probe.KindOutOfOffice, wantReason: []string{"out_of_office:", `says "Automatic reply"`, "Auto-Submitted: auto-replied", "absence wording"},
		},
		{
			name: "German Abwesenheitsnotiz",
			mail: probe.Mail{From: "m.mueller@acme.de", Subject: "Abwesenheitsnotiz: Frage zum Support", NewText: "Ich bin bis 10.06. nicht im Büro."},
			want: probe.KindOutOfOffice, wantReason: []string{`says "Abwesenheitsnotiz"`},
		},
		{
			name: "German Automatische Antwort",
			mail: probe.Mail{From: "m.mueller@acme.de", Subject: "Automatische Antwort: Frage"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "French Réponse automatique",
			mail: probe.Mail{From: "j.dupont@acme.fr", Subject: "Réponse automatique : Question", NewText: "Je suis absent jusqu'au 10 juin."},
			want: probe.KindOutOfOffice,
		},
		{
			name: "French Absence at the start",
			mail: probe.Mail{From: "j.dupont@acme.fr", Subject: "Absence du bureau"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Spanish Respuesta automática",
			mail: probe.Mail{From: "j.garcia@acme.es", Subject: "Respuesta automática: Pregunta"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Spanish Fuera de la oficina",
			mail: probe.Mail{From: "j.garcia@acme.es", Subject: "Fuera de la oficina"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Dutch Afwezig",
			mail: probe.Mail{From: "j.jansen@acme.nl", Subject: "Afwezig: vraag over support"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Dutch Automatisch antwoord",
			mail: probe.Mail{From: "j.jansen@acme.nl", Subject: "Automatisch antwoord: vraag"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Italian Risposta automatica",
			mail: probe.Mail{From: "m.rossi@acme.it", Subject: "Risposta automatica: domanda"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Italian Fuori sede",
			mail: probe.Mail{From: "m.rossi@acme.it", Subject: "Fuori sede"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Portuguese Resposta automática",
			mail: probe.Mail{From: "j.silva@acme.pt", Subject: "Resposta automática: pergunta"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "Chinese 自动回复 with personal absence",
			mail: probe.Mail{From: "zhang@partner.cn", Subject: "自动回复：咨询", NewText: "您好，我正在休假，6月10日返回，紧急事项请联系李工。"},
			want: probe.KindOutOfOffice, wantReason: []string{`says "自动回复"`},
		},
		{
			name: "Traditional Chinese 自動回覆",
			mail: probe.Mail{From: "chen@partner.tw", Subject: "自動回覆: 詢問"},
			want: probe.KindOutOfOffice,
		},
		{
			name: "X-Autoreply header",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Night coverage", Header: hdr("X-Autoreply", "yes"), NewText: "Thanks for your mail. I'm away until Friday."},
			want: probe.KindOutOfOffice, wantReason: []string{"X-Autoreply header"},
		},
		{
			name: "RFC 3834 auto-replied with absence wording",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Night coverage", Header: hdr("Auto-Submitted", "auto-replied"),
				NewText: "I will be out of the office from 1 to 12 June. I will respond on my return."},
			want: probe.KindOutOfOffice, wantReason: []string{"absence wording", "Auto-Submitted: auto-replied"},
		},
		{
			name: "help desk's Automatic reply acknowledging a ticket is auto_ack",
			mail: probe.Mail{From: "support@acme.com", Subject: "Automatic reply: Night coverage question",
				Header:  hdr("Auto-Submitted", "auto-replied"),
				NewText: "Thank you for your email. We have received your request and a ticket has been created (#4711). We will get back to you within one business day."},
			want: probe.KindAutoAck, wantReason: []string{"auto_ack:", `"Automatic reply"`, `"Thank you for your email"`, "no new text beyond the acknowledgement"},
		},
		{
			name: "absent in a reply's subject is no absence notice",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Field absent in the API response", NewText: "That field was removed in 7.1; use capacity_bytes instead."},
			want: probe.KindHuman,
		},

		// Acknowledgements.
		{
			name: "Zendesk ack with the request copied below a separator",
			mail: probe.Mail{From: "support@acme.zendesk.com", Subject: "[Acme] Re: Night coverage", NewText: zendeskAck,
				Header: hdr("Auto-Submitted", "auto-replied")},
			want: probe.KindAutoAck, wantReason: []string{`auto_ack: Auto-Submitted: auto-replied; ack wording "Your request (4711) has been received"`, "no new text beyond the acknowledgement"},
		},
		{
			name: "Zendesk update notice with the agent's comment below the dashes",
			mail: probe.Mail{From: "support@acme.zendesk.com", Subject: "[Acme] Re: Night coverage", NewText: zendeskUpdate,
				Header: hdr("Auto-Submitted", "auto-generated")},
			want: probe.KindHuman, wantReason: []string{"despite Auto-Submitted: auto-generated"},
		},
		{
			name: "English ack with ticket number and signature, no headers",
			mail: probe.Mail{From: "support@acme.com", Subject: "[Ticket #4711] Night coverage", NewText: englishAck},
			want: probe.KindAutoAck, wantReason: []string{`"We have received your request"`, "no new text beyond the acknowledgement"},
		},
		{
			name: "English ack subject only",
			mail: probe.Mail{From: "support@acme.com", Subject: "Request received: Night coverage [#4711]"},
			want: probe.KindAutoAck, wantReason: []string{`"Request received"`},
		},
		{
			name: "ack with a short leftover sentence",
			mail: probe.Mail{From: "support@acme.com", NewText: "We have received your ticket. Our team is reviewing it."},
			want: probe.KindAutoAck, wantReason: []string{"only", "chars of new text beyond the acknowledgement"},
		},
		{
			name: "Chinese ack",
			mail: probe.Mail{From: "kefu@partner.cn", Subject: "回复：咨询", NewText: chineseAck},
			want: probe.KindAutoAck, wantReason: []string{"我们已收到", "no new text beyond the acknowledgement"},
		},
		{
			name: "Traditional Chinese ack",
			mail: probe.Mail{From: "kefu@partner.tw", Subject: "回覆：詢問", NewText: traditionalAck, Header: hdr("Auto-Submitted", "auto-generated")},
			want: probe.KindAutoAck, wantReason: []string{"我們已收到"},
		},
		{
			name: "Chinese 自动回复 in the ack sense",
			mail: probe.Mail{From: "kefu@partner.cn", Subject: "自动回复：您的工单已创建", NewText: "您好！已收到您的问题，工单已受理，我们将尽快处理。"},
			want: probe.KindAutoAck,
		},
		{
			name: "Freshdesk ack, hard-wrapped",
			mail: probe.Mail{From: "support@acme.freshdesk.com", Subject: "Ticket Received - Night coverage", NewText: freshdeskAck},
			want: probe.KindAutoAck, wantReason: []string{"we have received your request"},
		},
		{
			name: "Jira Service Management ack",
			mail: probe.Mail{From: "jira@acme.atlassian.net", Subject: "SUP-12 Night coverage", NewText: jiraAck, Header: hdr("Auto-Submitted", "auto-generated")},
			want: probe.KindAutoAck, wantReason: []string{"We've received your request"},
		},
		{
			name: "Jira Service Management comment by an agent",
			mail: probe.Mail{From: "jira@acme.atlassian.net", Subject: "SUP-12 Night coverage", NewText: jiraComment, Header: hdr("Auto-Submitted", "auto-generated")},
			want: probe.KindHuman, wantReason: []string{"despite Auto-Submitted: auto-generated"},
		},
		{
			name: "ack above an Outlook copy of the request",
			mail: probe.Mail{From: "support@acme.com", Subject: "RE: Night coverage",
				NewText: "We have received your email and will respond within one business day.\n\nFrom: Lin Wei <lin.wei@example.com>\nSent: Monday, June 1, 2026 3:00 AM\nTo: support@acme.com\nSubject: Night coverage\n\nHello, do you offer 24x7 support for P1 incidents, including weekends and public holidays? We are evaluating your product for production."},
			want: probe.KindAutoAck, wantReason: []string{"no new text beyond the acknowledgement"},
		},
		{
			name: "ticket opened in running text is not ack wording",
			mail: probe.Mail{From: "tom@acme.com", Header: hdr("Auto-Submitted", "auto-generated"), NewText: "The ticket opened yesterday is solved by release 7.2.1."},
			want: probe.KindHuman,
		},
		{
			name: "automatic signals and no new text",
			mail: probe.Mail{From: "noreply@acme.com", Subject: "[#4711] Night coverage", Header: hdr("Precedence", "bulk"),
				NewText: "Ticket #4711\nStatus: Open\nPriority: Normal"},
			want: probe.KindAutoAck, wantReason: []string{"auto_ack: Precedence: bulk; no-reply sender noreply@acme.com; no new human text"},
		},

		// People.
		{
			name: "human despite Auto-Submitted",
			mail: probe.Mail{From: "support@acme.zendesk.com", Subject: "[Acme] Re: Night coverage", NewText: agentAnswer,
				Header: hdr("Auto-Submitted", "auto-generated")},
			want: probe.KindHuman, wantReason: []string{"human: ", "chars of new text despite Auto-Submitted: auto-generated"},
		},
		{
			name: "human despite Precedence bulk and a no-reply sender",
			mail: probe.Mail{From: "no-reply@acme.com", Subject: "Re: Night coverage", NewText: agentAnswer, Header: hdr("Precedence", "bulk")},
			want: probe.KindHuman, wantReason: []string{"despite Precedence: bulk, no-reply sender no-reply@acme.com"},
		},
		{
			name: "agent reply that starts with Thank you for contacting us",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Night coverage", NewText: thanksThenAnswer, Header: hdr("Auto-Submitted", "auto-generated")},
			want: probe.KindHuman, wantReason: []string{"beyond ack wording \"Thank you for contacting\""},
		},
		{
			name: "short question after ack wording",
			mail: probe.Mail{From: "tom@acme.com", NewText: "Thank you for contacting Acme. Could you send us the output of acmectl status?"},
			want: probe.KindHuman, wantReason: []string{`with "Could you"`},
		},
		{
			name: "human Chinese",
			mail: probe.Mail{From: "zhang@partner.cn", Subject: "回复：咨询", NewText: chineseAnswer},
			want: probe.KindHuman,
		},
		{
			name: "human Chinese after ack wording despite Precedence bulk",
			mail: probe.Mail{From: "kefu@partner.cn", Header: hdr("Precedence", "bulk"),
				NewText: "感谢您的来信。关于夜间支持，值班工程师会在一小时内电话联系，请您保持电话畅通。"},
			want: probe.KindHuman, wantReason: []string{"感谢您的来信", "despite Precedence: bulk"},
		},
		{
			name: "human reply above a signature and an unstripped quote",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Night coverage",
				NewText: "Yes, we cover P1 around the clock.\n-- \nTom Becker | Acme\n\nOn Mon, Jun 1, 2026 at 3:00 AM Lin Wei wrote:\nWe have received your request"},
			want: probe.KindHuman, wantReason: []string{"34 chars of new text, no automatic signal"},
		},
		{
			name: "short reply with no signals",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Night coverage", NewText: "Yes, 24x7.\n\nTom"},
			want: probe.KindHuman, wantReason: []string{"no automatic signal"},
		},
		{
			name: "short reply from a desk marking everything bulk",
			mail: probe.Mail{From: "tom@acme.com", Header: hdr("Precedence", "bulk"), NewText: "Yes, P1 is covered around the clock, holidays included."},
			want: probe.KindHuman, wantReason: []string{"despite Precedence: bulk"},
		},
		{
			name: "reply through a mailing list",
			mail: probe.Mail{From: "tom@acme.com", InReplyTo: []string{"x@example.com"}, Header: hdr("List-Id", "<support.acme.com>", "List-Unsubscribe", "<mailto:u@acme.com>"), NewText: agentAnswer},
			want: probe.KindHuman,
		},

		// Other.
		{
			name: "satisfaction survey after a reply",
			mail: probe.Mail{From: "support@acme.zendesk.com", Subject: "How did we do? Rate your support experience",
				Header: hdr("Auto-Submitted", "auto-generated"), NewText: zendeskSurvey},
			want: probe.KindOther, wantReason: []string{"other: survey", `"How did we do"`},
		},
		{
			name: "Chinese survey",
			mail: probe.Mail{From: "noreply@partner.cn", Subject: "满意度调查", NewText: "您好，请对本次服务进行评价，点击下方链接。"},
			want: probe.KindOther, wantReason: []string{"other: survey"},
		},
		{
			name: "newsletter",
			mail: probe.Mail{From: "news@acme.com", Subject: "Acme Storage 7.2 is here", NewText: newsletter,
				Header: hdr("List-Unsubscribe", "<https://acme.com/u>", "List-Id", "<news.acme.com>", "Precedence", "bulk")},
			want: probe.KindOther, wantReason: []string{"other: newsletter (List-Id, List-Unsubscribe, not a reply)"},
		},
		{
			name: "verification mail",
			mail: probe.Mail{From: "no-reply@portal.acme.com", Subject: "Please verify your email address",
				NewText: "Welcome to the Acme support portal! Click the button below to verify your email address. This link expires in 24 hours. If you did not sign up, ignore this email."},
			want: probe.KindOther, wantReason: []string{"other: verification", "verify your email"},
		},
		{
			name: "Chinese verification",
			mail: probe.Mail{From: "noreply@partner.cn", Subject: "邮箱验证", NewText: "您的验证码是 482913，10分钟内有效。"},
			want: probe.KindOther, wantReason: []string{"other: verification"},
		},
		{
			name: "empty mail",
			mail: probe.Mail{From: "tom@acme.com", Subject: "Re: Night coverage"},
			want: probe.KindOther, wantReason: []string{"no new text"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := probe.Classify(tt.mail, tt.rules)
			t.Logf("%s", got.Reason)
			if got.Kind != tt.want {
				t.Errorf("Classify() = %s (%s), want %s", got.Kind, got.Reason, tt.want)
			}
			if got.Reason == "" {
				t.Error("Classify() gave no reason")
			}
			for _, want := range tt.wantReason {
				if !strings.Contains(got.Reason, want) {
					t.Errorf("Classify().Reason = %q, want it to contain %q", got.Reason, want)
				}
			}
		})
	}
}
