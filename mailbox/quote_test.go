package mailbox

import "testing"

func TestNewText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Hello,\n\nall good.\n", "Hello,\n\nall good."},
		{"crlf and blank lines", "a\r\n\r\n\r\n\r\nb  \r\n", "a\n\nb"},
		{"quotes only", "> a\n> b\n", ""},
		{"quoted lines dropped", "answer\n> question\nmore", "answer\nmore"},
		{"indented quote", "answer\n  > question", "answer"},

		// Attributions.
		{"gmail", "Yes.\n\nOn Fri, Jan 5, 2024 at 10:31 AM Ann <ann@x.example> wrote:\n> q\n", "Yes."},
		{"gmail wrapped", "Yes.\n\nOn Fri, Jan 5, 2024 at 10:31 AM Ann Example <\nann@x.example> wrote:\n\n> q\n", "Yes."},
		{"wrapped over three lines", "Yes.\nOn Fri, Jan 5, 2024 at 10:31 AM\nAnn Example <ann@x.example>\nwrote:\nold text without quote marks", "Yes."},
		{"thunderbird", "Yes.\n\nOn 1/5/24 10:31 AM, Ann wrote:\nold", "Yes."},
		{"history without quote marks is cut", "Yes.\nOn Friday Ann wrote:\nold text", "Yes."},
		{"bare wrote above quotes", "Yes.\nAnn Example wrote:\n> q", "Yes."},
		{"bare wrote in prose kept", "Here is what you wrote:\nthe key fails", "Here is what you wrote:\nthe key fails"},
		{"on ... without wrote kept", "On Monday we deploy.\nThanks", "On Monday we deploy.\nThanks"},
		{"german", "Ja.\n\nAm 05.01.2024 um 10:31 schrieb Ann <ann@x.example>:\n> q", "Ja."},
		{"french", "Oui.\n\nLe ven. 5 janv. 2024 à 10:31, Ann <ann@x.example> a écrit :\n> q", "Oui."},
		{"spanish", "Sí.\n\nEl vie, 5 ene 2024 a las 10:31, Ann (<ann@x.example>) escribió:\n> q", "Sí."},
		{"chinese", "好的。\n\n在 2024年1月5日，10:31，张三 <z@x.example> 写道：\n> 问题", "好的。"},
		{"chinese wrapped", "好的。\n\n在 2024年1月5日 10:31，张三 <z@x.example>\n写道：\n> 问题", "好的。"},
		{"chinese gmail", "好的。\n\n张三 <z@x.example> 于2024年1月5日周五 10:31写道：\n\n> 问题", "好的。"},
		{"chinese half-width colon", "好的。\n在 2024-01-05 10:31, 张三 写道:\n> 问题", "好的。"},
		{"traditional", "好的。\n\n王先生 於 2024年1月5日 上午10:03 寫道：\n> 問題", "好的。"},

		// Outlook and friends.
		{"original message", "Done.\n\n-----Original Message-----\nFrom: Ann\nSent: Friday\n\nq", "Done."},
		{"from sent block", "Done.\n\nFrom: Ann <ann@x.example>\nSent: Friday, January 5, 2024 10:31 AM\nTo: Support\nSubject: q\n\nq", "Done."},
		{"bold from sent block", "Done.\n\n*From:* Ann <ann@x.example>\n*Sent:* Friday, January 5, 2024 10:31 AM\n", "Done."},
		{"from date block", "Done.\n\nFrom: Ann <ann@x.example>\nSubject: q\nDate: January 5, 2024\n", "Done."},
		{"underscores", "Done.\n\n________________________________\nFrom: Ann <ann@x.example>\nSent: Friday\n", "Done."},
		{"underscores without from kept", "Done.\n________________________________\nfooter", "Done.\n________________________________\nfooter"},
		{"from sent on one line", "Done.\nFrom: Ann <ann@x.example> Sent: Friday, January 5, 2024 To: Support\nq", "Done."},
		{"from alone kept", "Done.\nFrom: our side, all is fine.\nBye", "Done.\nFrom: our side, all is fine.\nBye"},
		{"chinese original", "已处理。\n\n-----原始邮件-----\n发件人: Ann\n发送时间: 2024年1月5日 10:31\n", "已处理。"},
		{"chinese outlook block", "已处理。\n\n发件人: Ann <ann@x.example>\n发送时间: 2024年1月5日 10:31\n收件人: support\n主题: q\n", "已处理。"},
		{"chinese fullwidth block", "已处理。\n发件人：Ann\n发送时间：2024年1月5日\n", "已处理。"},
		{"qq original", "已处理。\n\n------------------ 原始邮件 ------------------\n发件人: Ann\n", "已处理。"},
		{"traditional outlook", "已處理。\n\n寄件者: Ann\n寄件日期: 2024年1月5日\n", "已處理。"},
		{"german outlook", "Erledigt.\n\nVon: Ann\nGesendet: Freitag, 5. Januar 2024 10:31\n", "Erledigt."},
		{"french outlook", "Fait.\n\nDe : Ann\nEnvoyé : vendredi 5 janvier 2024 10:31\n", "Fait."},
		{"forwarded", "FYI\n\n---------- Forwarded message ---------\nFrom: Ann\n", "FYI"},
		{"apple forward", "FYI\n\nBegin forwarded message:\n\nFrom: Ann\n", "FYI"},

		// Help-desk markers.
		{"marker, reply above", "Thanks, fixed.\n\n##- Please type your reply above this line -##\n\nold thread", "Thanks, fixed."},
		{"jira marker", "Fixed.\n—-—-—-—\nReply above this line.\n\nold", "Fixed."},
		{"Zendesk marker in Portuguese", "##- Digite sua resposta acima desta linha -##\n\nSua solicitação (4471) foi atualizada.\n\n----------------------------------------------\n\nRafael: corrigi o modelo.\n\n----------------------------------------------\n\nLin: a exportação falha.", "Sua solicitação (4471) foi atualizada.\n\nRafael: corrigi o modelo."},
		{"German marker with text above", "Erledigt, bitte erneut versuchen.\n\n-- Bitte oberhalb dieser Zeile antworten --\n\nalter Verlauf", "Erledigt, bitte erneut versuchen."},
		{"survey recap heading", "How would you rate the support you received?\n\nHere's a reminder of what your ticket was about:\n\nLin Wei\nHello, does the Team plan include SSO?", "How would you rate the support you received?"},
		{"conversation history heading", "Could you tell us how we did?\n\nConversation history:\n\nTom: the limit is 600 per minute.", "Could you tell us how we did?"},
		{"history words inside a sentence stay", "The conversation history is kept for 400 days: export it from Settings.", "The conversation history is kept for 400 days: export it from Settings."},
		{"jira marker first, rule above it", "——-—\nReply above this line.\n\nMark Chen commented:\n\nRetries are on now.", "Mark Chen commented:\n\nRetries are on now."},
		{"marker first, rules and blank lines above it", "\n-----\n\n====\n## Reply above this line ##\nDone, Ann", "Done, Ann"},
		{"dash marker", "Fixed.\n-- Reply above this line --\nold", "Fixed."},
		{"chinese marker", "已修复。\n\n## 请在此行以上回复 ##\n\n历史", "已修复。"},
		{"chinese marker above", "已修复。\n请在此行上方回复\n历史", "已修复。"},
		{"marker, reply above with quotes", "> quoted\n\nFixed.\n##- Please type your reply above this line -##\nold", "Fixed."},
		{"zendesk updated",
			"##- Please type your reply above this line -##\n\nYour request (1) has been updated. To add additional comments, reply to this email.\n" +
				"----------------------------------------------\n\nJane\n\nHi, fixed.\n\n----------------------------------------------\n\nPat\n\nold question",
			"Your request (1) has been updated. To add additional comments, reply to this email.\n\nJane\n\nHi, fixed."},
		{"zendesk received",
			"##- Please type your reply above this line -##\n\nYour request (1) has been received.\n\n----------------------------------------------\n\nPat\n\nold question",
			"Your request (1) has been received."},
		{"zendesk without notice",
			"##- Please type your reply above this line -##\n\nJane\n\nHi, fixed.\n\n----------------------------------------------\n\nPat\n\nold question",
			"Jane\n\nHi, fixed."},
		{"zendesk chinese updated",
			"##- 请在此行以上回复 -##\n\n您的工单 (1) 已更新。\n==========\n张工\n已修复。\n==========\n旧问题",
			"您的工单 (1) 已更新。\n\n张工\n已修复。"},
		{"marker at top, nothing after", "##- Please type your reply above this line -##\n", ""},
		{"marker at top, no separator", "##- Please type your reply above this line -##\nHi, fixed.\n> old", "Hi, fixed."},

		// Signatures.
		{"signature", "Fixed.\n-- \nJane\nAcme", "Fixed."},
		{"signature without space", "Fixed.\n--\nJane", "Fixed."},
		{"double dash in text kept", "Fixed -- finally.\n--- not a signature", "Fixed -- finally.\n--- not a signature"},

		// Bottom posting.
		{"inline reply",
			"On Fri, Jan 5, 2024, Ann wrote:\n> Does it work?\nYes.\n> And the key?\nRotated.\n\n-- \nJane",
			"Yes.\nRotated."},
		{"top post keeps above only",
			"Yes.\nOn Fri, Jan 5, 2024, Ann wrote:\n> Does it work?\nfooter after quote",
			"Yes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewText(tt.in); got != tt.want {
				t.Errorf("NewText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
