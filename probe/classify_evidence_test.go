package probe_test

import (
	"strings"
	"testing"

	"supportprobe/probe"
)

// TestClassifyReportsByAction checks that a machine report is decided by what it says it
// is, the DSN's Action before its status code, and never as a person's reply.
func TestClassifyReportsByAction(t *testing.T) {
	dsn := func(action, status string) *probe.DeliveryReport {
		return &probe.DeliveryReport{ReportType: "delivery-status", Action: action, Actions: []string{action}, Status: status}
	}
	tests := []struct {
		name   string
		report *probe.DeliveryReport
		want   probe.Kind
		reason string
	}{
		{"failed with a permanent status", dsn("failed", "5.1.1"), probe.KindBounce, "reports a failure"},
		{"failed with a temporary status: the server gave up", dsn("failed", "4.4.1"), probe.KindBounce, "status 4.4.1"},
		{"delayed with a temporary status", dsn("delayed", "4.4.1"), probe.KindOther, "delayed"},
		{"delayed with a permanent-looking status", dsn("delayed", "5.2.0"), probe.KindOther, "delayed"},
		{"verification report", dsn("deliverable", "2.0.0"), probe.KindOther, "verification"},
		{"verification report of an address that would fail", dsn("undeliverable", "5.1.1"), probe.KindOther, "verification"},
		{"relayed", dsn("relayed", "2.0.0"), probe.KindOther, "not a failure"},
		{"delivered", dsn("delivered", "2.0.0"), probe.KindOther, "not a failure"},
		{"legacy bounce without a DSN that gave up on a 4.x.x", &probe.DeliveryReport{Status: "4.4.1", GaveUp: true}, probe.KindBounce, "gave up"},
		{"legacy notice with a 4.x.x and no give-up", &probe.DeliveryReport{Status: "4.4.1"}, probe.KindOther, "not a failure yet"},
		{"ARF abuse report", &probe.DeliveryReport{ReportType: "feedback-report", Feedback: "abuse"}, probe.KindOther, "RFC 5965"},
		{"read receipt", &probe.DeliveryReport{ReportType: "disposition-notification", Feedback: "manual-action/MDN-sent-manually; displayed"}, probe.KindOther, "RFC 8098"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A report with a person's-looking text is still a report.
			m := probe.Mail{From: "mailer-daemon@mx.example", Subject: "Notification", Report: tt.report,
				NewText: "I looked at your message and I think you should call me. Could you?"}
			got := probe.Classify(m, nil)
			if got.Kind != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("Classify() = %s (%s), want %s with %q", got.Kind, got.Reason, tt.want, tt.reason)
			}
			if got.Confidence < probe.ReviewThreshold || got.Confidence > 1 {
				t.Errorf("confidence %v, want a decided report in [%.2f,1]", got.Confidence, probe.ReviewThreshold)
			}
		})
	}
}

// TestClassifyStructured checks providers' JSON notifications, and that JSON a person
// pasted into an answer is not one.
func TestClassifyStructured(t *testing.T) {
	tests := []struct {
		name, text string
		want       probe.Kind
	}{
		{"SES permanent bounce", `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent"}}`, probe.KindBounce},
		{"SES transient bounce", `{"notificationType":"Bounce","bounce":{"bounceType":"Transient"}}`, probe.KindOther},
		{"SES complaint", `{"notificationType":"Complaint","complaint":{"complaintFeedbackType":"abuse"}}`, probe.KindOther},
		{"SendGrid dropped", `[{"email":"a@b.example","event":"dropped","reason":"Bounced Address"}]`, probe.KindBounce},
		{"SendGrid deferred", `[{"email":"a@b.example","event":"deferred"}]`, probe.KindOther},
		{"Mailgun permanent failure", `{"event-data":{"event":"failed","severity":"permanent"}}`, probe.KindBounce},
	}
	for _, tt := range tests {
		got := probe.Classify(probe.Mail{From: "no-reply@provider.example", NewText: tt.text}, nil)
		if got.Kind != tt.want || !strings.Contains(got.Reason, "JSON notification") {
			t.Errorf("%s: Classify() = %s (%s), want %s from the JSON", tt.name, got.Kind, got.Reason, tt.want)
		}
	}
	pasted := probe.Classify(probe.Mail{From: "tom@vendor.example", Subject: "Re: API",
		NewText: `{"status": "ok", "version": "7.2", "nodes": 3}`}, nil)
	if strings.Contains(pasted.Reason, "JSON notification") {
		t.Errorf("JSON without a notification's event read as one: %s", pasted.Reason)
	}
}

// TestClassifyCourtesyPhraseLevel checks that a courtesy opener is taken out phrase by
// phrase: an answer joined to it by a comma, in one sentence, stays a person's answer,
// while an acknowledgement made only of such wording stays an acknowledgement.
func TestClassifyCourtesyPhraseLevel(t *testing.T) {
	human := []string{
		"感谢您的来信，我们的P1事件支持7x24小时服务，周末也有工程师值班。",
		"感謝您的來信，週末同樣提供支援，請直接撥打合約上的緊急電話。",
		"Thanks for reaching out, yes, weekends are covered for P1.",
		"Thank you for contacting us - P1 is covered around the clock, just call the hotline.",
		"Vielen Dank für Ihre Anfrage, ja, P1-Störungen betreuen wir rund um die Uhr.",
		"Gracias por su mensaje, sí, los incidentes P1 se atienden las 24 horas.",
	}
	for _, text := range human {
		got := probe.Classify(probe.Mail{From: "agent@vendor.example", Subject: "Re: Night coverage", NewText: text}, nil)
		if got.Kind != probe.KindHuman {
			t.Errorf("%q: Classify() = %s (%s), want human", text, got.Kind, got.Reason)
		}
	}
	acks := []string{
		"感谢您的来信，我们已收到您的邮件，我们会尽快回复您。",
		"Thank you for contacting us, we have received your request and will respond within one business day.",
	}
	for _, text := range acks {
		got := probe.Classify(probe.Mail{From: "support@vendor.example", Subject: "Re: Night coverage", NewText: text,
			Header: map[string][]string{"Auto-Submitted": {"auto-replied"}}}, nil)
		if got.Kind != probe.KindAutoAck {
			t.Errorf("%q: Classify() = %s (%s), want auto_ack", text, got.Kind, got.Reason)
		}
	}
}

// TestClassifyHelpDeskAutoReply checks that a help desk's ticket-created auto-reply under
// an absence-style subject is an acknowledgement, while a person's vacation notice with
// the same subject is an absence.
func TestClassifyHelpDeskAutoReply(t *testing.T) {
	desk := probe.Classify(probe.Mail{From: "help@vendor.example", Subject: "Automatic reply: [Ticket#2026] Night coverage",
		NewText: "Dear customer, this is an automatic reply. Your ticket number is 2026. We will get back to you as soon as possible.",
		Header:  map[string][]string{"Auto-Submitted": {"auto-replied"}, "X-Otrs-Loop": {"yes"}}}, nil)
	if desk.Kind != probe.KindAutoAck {
		t.Errorf("help desk auto-reply: %s (%s), want auto_ack", desk.Kind, desk.Reason)
	}
	rt := probe.Classify(probe.Mail{From: "support@vendor.example", Subject: "[vendor.example #42] AutoReply: Night coverage",
		NewText: "Greetings,\n\nThis message has been automatically generated in response to the creation of a trouble ticket regarding the subject above.",
		Header:  map[string][]string{"Rt-Ticket": {"vendor.example #42"}, "Precedence": {"bulk"}}}, nil)
	if rt.Kind != probe.KindAutoAck {
		t.Errorf("RT AutoReply: %s (%s), want auto_ack", rt.Kind, rt.Reason)
	}
	away := probe.Classify(probe.Mail{From: "tom@vendor.example", Subject: "Automatic reply: Night coverage",
		NewText: "I am out of the office until 15 June with limited access to email.",
		Header:  map[string][]string{"Auto-Submitted": {"auto-replied"}}}, nil)
	if away.Kind != probe.KindOutOfOffice {
		t.Errorf("vacation notice: %s (%s), want out_of_office", away.Kind, away.Reason)
	}
}

// TestClassifySelfDeclaredAutomatic checks the acknowledgement that says it is automated
// and carries a paragraph of knowledge-base and hotline text: no person wrote it.
func TestClassifySelfDeclaredAutomatic(t *testing.T) {
	text := "This is an automated message confirming that we have your email. No agent has read it yet.\n\n" +
		"While you wait, many questions are answered in our knowledge base, where you will find installation guides, licensing information, " +
		"release notes and troubleshooting articles for every product we sell. Customers with a premium contract can call our hotline " +
		"around the clock; standard customers can call between 9:00 and 17:00 on working days. Please have your customer number ready."
	got := probe.Classify(probe.Mail{From: "support@vendor.example", Subject: "Re: Night coverage", NewText: text,
		Header: map[string][]string{"Auto-Submitted": {"auto-replied"}}}, nil)
	if got.Kind != probe.KindAutoAck {
		t.Errorf("Classify() = %s (%s), want auto_ack", got.Kind, got.Reason)
	}
}

// TestClassifyConfidence checks the confidence: 1 for a rule, high for clear cases, and
// needs_review with the leaning kind and both sides' evidence when the sides are close.
func TestClassifyConfidence(t *testing.T) {
	rule := probe.Classify(probe.Mail{From: "x@acme.example"}, []probe.Rule{{From: "@acme.example", Kind: probe.KindAutoAck, Name: "acme"}})
	if rule.Confidence != 1 || rule.Kind != probe.KindAutoAck {
		t.Errorf("rule: %s at %v, want auto_ack at 1", rule.Kind, rule.Confidence)
	}
	clear := probe.Classify(probe.Mail{From: "tom@vendor.example", Subject: "Re: Night coverage",
		NewText: "Hi Lin,\n\nYes, P1 is covered 24x7. Could you send me your contract number so I can check the escalation contacts?\n\nBest regards,\nTom Becker"}, nil)
	if clear.Kind != probe.KindHuman || clear.Confidence < 0.9 || !strings.Contains(clear.Reason, `signed by a person "Tom Becker"`) {
		t.Errorf("clear answer: %s at %v (%s), want human at >= 0.9 with the signature as evidence", clear.Kind, clear.Confidence, clear.Reason)
	}
	// An automatic header and an absence subject against a short instruction: close.
	// (With "auto-replied", RFC 3834's mark of a response a program wrote, the machine
	// side wins: out_of_office at 0.73.)
	unsure := probe.Classify(probe.Mail{From: "tom@vendor.example", Subject: "Automatic reply: Night coverage",
		NewText: "Please send the contract number for the weekend check.",
		Header:  map[string][]string{"Auto-Submitted": {"auto-generated"}}}, nil)
	if unsure.Kind != probe.KindNeedsReview || unsure.Confidence >= probe.ReviewThreshold {
		t.Fatalf("close call: %s at %v (%s), want needs_review below %.2f", unsure.Kind, unsure.Confidence, unsure.Reason, probe.ReviewThreshold)
	}
	for _, want := range []string{"needs_review: leaning", "machine: Auto-Submitted", "person:", `cue "Please send"`} {
		if !strings.Contains(unsure.Reason, want) {
			t.Errorf("needs_review reason %q lacks %q", unsure.Reason, want)
		}
	}
}

// TestClassifyBookkeepingKeepsAnswers checks the sentences taken out as bookkeeping (a
// record number, a promise of a later answer) against answers that cite a bug or a case
// number or promise a follow-up beside real content: those stay human.
func TestClassifyBookkeepingKeepsAnswers(t *testing.T) {
	answers := []struct{ subject, text string }{
		{"Re: Export stuck", "The fix for BUG-1234 ships in 4.3 on Thursday. Until then, restart the export worker after each failed run."},
		{"Re: Export stuck [Case 0098123]", "I checked case 0098123: the bucket policy denies PutObject to our export role. Add the role to the policy and retry."},
		{"Re: Export stuck", "Our engineers found a stuck worker on the EU export queue and restarted it. We will follow up shortly with the root cause."},
		{"Re: Export stuck", "Priority: high\nCause: an expired certificate on the gateway, renewed at 02:31 UTC; exports resume on their own."},
		{"Re: [#4411] Export stuck", "We've escalated ticket #4411 to our engineering team and will update you within 24 hours."},
		{"Re: Export stuck [Case 00451234]", "Case 00451234 is now with our storage engineers; they are checking the export worker logs."},
		{"回复: Export stuck", "您好，工单 #4411 已转给研发团队处理，我们发现是导出节点磁盘满了，已经清理，请重试。"},
	}
	for _, a := range answers {
		got := probe.Classify(probe.Mail{From: "agent@vendor.example", Subject: a.subject, NewText: a.text}, nil)
		if got.Kind != probe.KindHuman {
			t.Errorf("Classify(%q) = %s at %.2f (%s), want human", a.text, got.Kind, got.Confidence, got.Reason)
		}
	}
	acks := []struct{ subject, text string }{
		{"Case 00451234: Export stuck", "Thank you for submitting Case 00451234. Our Technical Support team has been notified and an engineer will be assigned shortly."},
		{"Re: Export stuck", "We got your email and created ticket #55012. Someone from our team will get back to you shortly."},
		{"Ihre Anfrage [VND-4412]", "Ihre Anfrage wurde unter der Nummer VND-4412 erfasst. Ein Mitarbeiter wird sich in Kürze bei Ihnen melden."},
	}
	for _, a := range acks {
		got := probe.Classify(probe.Mail{From: "support@vendor.example", Subject: a.subject, NewText: a.text}, nil)
		if got.Kind != probe.KindAutoAck {
			t.Errorf("Classify(%q) = %s at %.2f (%s), want auto_ack", a.text, got.Kind, got.Confidence, got.Reason)
		}
	}
}

// TestClassifyEchoOfInquiry: a help desk that pastes our request, unquoted, under a
// one-line acknowledgement has not answered; without the inquiry to compare with, the
// same mail reads as a person's long reply. A person who repeats one of our questions
// before answering it still answers.
func TestClassifyEchoOfInquiry(t *testing.T) {
	inquiry := "Hello,\n\nour nightly export to S3 has been stuck at 95% since 02:10 UTC. The job log shows\nrepeated \"upload part timed out\" errors for the last part. We changed nothing on\nour side. Could you check whether the export workers in eu-west are healthy?\n\nThanks,\nLin\n"
	desk := "Thanks for getting in touch with Acme.\n\nLin Wei wrote on 29 Nov 2026:\n\nOur nightly export to S3 has been stuck at 95% since 02:10 UTC. The job log shows repeated \"upload part timed out\" errors for the last part. We changed nothing on our side. Could you check whether the export workers in eu-west are healthy?\n\nThanks, Lin"
	m := probe.Mail{From: "support@acme.example", Subject: "Re: Nightly export stuck", NewText: desk}
	if got := probe.Classify(m, nil); got.Kind != probe.KindHuman {
		t.Fatalf("without the inquiry: %s (%s); this test wants the case where our words alone look like an answer", got.Kind, got.Reason)
	}
	m.Inquiry = inquiry
	if got := probe.Classify(m, nil); got.Kind == probe.KindHuman || !strings.Contains(got.Reason, "repeats 4 sentences of our inquiry") {
		t.Errorf("with the inquiry: %s (%s), want no human and the echo named", got.Kind, got.Reason)
	}
	answer := probe.Mail{From: "dana@acme.example", Subject: "Re: Nightly export stuck", Inquiry: inquiry,
		NewText: "Could you check whether the export workers in eu-west are healthy?\n\nThey were not: one worker had a full disk. We cleared it and your export finished at 03:02 UTC.\n\nDana"}
	if got := probe.Classify(answer, nil); got.Kind != probe.KindHuman {
		t.Errorf("answer repeating our question: %s (%s), want human", got.Kind, got.Reason)
	}
}

// TestClassifyRefusal: a security gateway's notice that the inquiry was blocked is a
// bounce without a DSN or a status code; a person who mentions a blocked message in a
// reply, or a notice that mail was delivered, is not.
func TestClassifyRefusal(t *testing.T) {
	tests := []struct {
		subject, text string
		want          probe.Kind
	}{
		{"Message Delivery Notification: Blocked", "Your message to support@vendor.example was blocked by the Email Security Service because it matched a content policy.", probe.KindBounce},
		{"Rejected: Export to S3 stuck", "The e-mail you sent to support@vendor.example was rejected due to the recipient's attachment policy.", probe.KindBounce},
		{"Re: Export to S3 stuck", "Sorry, your message was blocked by our spam filter. I checked the export: the bucket policy denies our role; add it and retry.", probe.KindHuman},
	}
	for _, tt := range tests {
		got := probe.Classify(probe.Mail{From: "notices@gateway.vendor.example", Subject: tt.subject, NewText: tt.text}, nil)
		if got.Kind != tt.want {
			t.Errorf("Classify(%q) = %s (%s), want %s", tt.subject, got.Kind, got.Reason, tt.want)
		}
	}
}

// TestClassifyAIAssistant: an answer that says an AI or virtual assistant wrote it is a
// program's, however substantial; a person who mentions the desk's assistant answers.
func TestClassifyAIAssistant(t *testing.T) {
	bot := probe.Classify(probe.Mail{From: "support@vendor.example", Subject: "Re: Export stuck",
		NewText: "Hi Lin, I'm Fin, Vendor's AI agent. I can help with that! Exports can stall when the bucket policy does not allow our export role. You can check the policy under Settings > Storage."}, nil)
	if bot.Kind != probe.KindAutoAck {
		t.Errorf("AI agent: %s (%s), want auto_ack", bot.Kind, bot.Reason)
	}
	person := probe.Classify(probe.Mail{From: "tom@vendor.example", Subject: "Re: Export stuck",
		NewText: "Hi Lin, I'm the on-call engineer. Our AI assistant misread your ticket, sorry. The export worker was stuck; I restarted it and your export finished.\n\nTom"}, nil)
	if person.Kind != probe.KindHuman {
		t.Errorf("engineer mentioning the assistant: %s (%s), want human", person.Kind, person.Reason)
	}
}
