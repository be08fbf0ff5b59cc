package probe_test

import (
	"strings"
	"testing"

	"supportprobe/mailbox"
	"supportprobe/probe"
)

// TestClassifyGuards keeps people's answers human next to the machine wording that
// later rules learned (the corpus holds the machine side): a future-tense promise in a
// Romance or Slavic language, thanks in more languages, status-notice wording, absence
// wording beside an answer, and a help desk's recap heading that is not at the top;
// and receipts that carry notice wording stay acknowledgements.
func TestClassifyGuards(t *testing.T) {
	tests := []struct {
		name, subject, body string
		want                probe.Kind
		header              string // extra header lines, each ending in \r\n
	}{
		{"absent but answers", "Re: Data residency",
			"Hi Lin, I'm on leave this week, but quickly: yes, EU data stays in Frankfurt, backups included.\n\nHannah",
			probe.KindHuman, ""},
		{"status notice beside work done", "Re: Export stuck",
			"Your ticket has been resolved: I restarted the export worker and re-ran your job at 10:05 UTC.\n\nTom",
			probe.KindHuman, ""},
		{"Spanish answer with a promise", "Re: Error al exportar",
			"Hola Lin,\n\nel error ya está corregido en producción. Mañana le enviaré el informe completo con la causa.\n\nMarta",
			probe.KindHuman, ""},
		{"Russian answer with a future", "Re: Не работает экспорт",
			"Здравствуйте!\n\nМы нашли причину: файл был больше 2 ГБ. Я увеличил лимит, экспорт будет работать сразу. Проверьте, пожалуйста.\n\nИван",
			probe.KindHuman, ""},
		{"Dutch thanks then an answer", "Re: Export werkt niet",
			"Bedankt voor uw bericht. De export is hersteld; de oorzaak was een verlopen certificaat. Probeer het gerust opnieuw.\n\nSanne",
			probe.KindHuman, ""},
		{"Swedish thanks then an answer", "Re: Exporten fungerar inte",
			"Tack för ditt meddelande! Jag har startat om exporten och den är klar nu, filen ligger i din mapp.\n\nErik",
			probe.KindHuman, ""},
		{"Italian answer with a future", "Re: Fatturazione annuale",
			"Buongiorno Lin, sì: dal prossimo mese la fatturazione sarà annuale e le ho già applicato lo sconto del 15%.\n\nGiulia",
			probe.KindHuman, ""},
		{"history heading words inside an answer", "Re: Audit log",
			"Hi Lin,\n\nThe conversation history you asked about is kept for 400 days; you can export it from Settings > Audit.\n\nSam",
			probe.KindHuman, ""},
		{"a person forwarding says so", "Re: Duplicate charge",
			"Hi Lin, I've forwarded your request to our billing team; they will refund the duplicate charge today.\n\nMia",
			probe.KindHuman, ""},
		{"team-signed answer reporting work done", "Re: [#7731] API rate limit",
			"Hi Lin,\n\nThe bulk endpoint allows 600 requests per minute. We've raised your workspace to 2,000 until 21 December.\n\nRegards,\nVendor Support Team",
			probe.KindHuman, ""},
		{"an answer that mentions a webinar, in a new thread", "SSO on the Team plan",
			"Hi Lin, yes: SSO is included in Team. I'll walk you through the setup in our webinar on Tuesday, or we can book a live demo.\n\nDiego",
			probe.KindHuman, ""},
		{"a person raising the issue internally", "Re: Export fails",
			"Hi Lin, I've raised this issue with our engineering team; they found the bug and are deploying the fix tonight.\n\nPriya",
			probe.KindHuman, ""},
		{"a person's redirect without absence wording", "Re: Invoice for March",
			"Hi Lin, invoices are handled by our billing team: for billing questions please write to billing@vendor.example and they will sort it out today.\n\nMia",
			probe.KindHuman, ""},
		{"a one-word completion", "Re: Production API key revoked",
			"Done - please retry.\n\nMarcus",
			probe.KindHuman, ""},
		{"a forwarded bounce under a note that answers", "Fwd: Undelivered Mail Returned to Sender",
			"Hi Lin, billing@ was retired last month, sorry: please write to invoices@vendor.example, I've told them to expect you.\n\nNadia\n\n---------- Forwarded message ---------\nFrom: Mail Delivery System <MAILER-DAEMON@mx.vendor.example>\nSubject: Undelivered Mail Returned to Sender\n\n<billing@vendor.example>: 550 5.1.1 User unknown",
			probe.KindHuman, ""},
		{"a forwarded bounce under a note that answers nothing", "Fwd: Undelivered Mail Returned to Sender",
			"FYI.\n\nNadia\n\n---------- Forwarded message ---------\nFrom: Mail Delivery System <MAILER-DAEMON@mx.vendor.example>\nSubject: Undelivered Mail Returned to Sender\n\n<billing@vendor.example>: 550 5.1.1 User unknown",
			probe.KindBounce, ""},
		{"a receipt with an answer under an automatic header", "Re: [#4471] Export limit",
			"We have received your request. We've raised the export limit to 10 GB; please retry the export now.\n\nTom",
			probe.KindHuman, "Auto-Submitted: auto-generated\r\n"},
		{"a person escalating", "Re: Export fails",
			"Hi Lin, I've escalated your case to our engineering team: they reproduced the bug and the fix ships tomorrow.\n\nPriya",
			probe.KindHuman, "Auto-Submitted: auto-generated\r\n"},
		// And the other way: a receipt that also names the assignee stays an
		// acknowledgement, not an assignment notice.
		{"receipt naming the assignee", "Request received [#40771]",
			"Hello,\n\nWe have received your request #40771 and it has been assigned to Tom Akers, who will reply shortly.\n\nVendor Support",
			probe.KindAutoAck, ""},
		{"German receipt with the title between", "Ihre Anfrage [Ticket#31005]",
			"Ihre Anfrage (Export schlägt fehl) wurde unter der Nummer Ticket#31005 aufgenommen.\n\nIhr Vendor Support",
			probe.KindAutoAck, ""},
		// A language the classifier has no wording for (Czech, Hungarian): a person's
		// answer without automatic headers stays human; with them, its length no
		// longer outweighs the headers, and it waits for a person at worst.
		{"Czech answer, no automatic headers", "Re: Export selhal",
			"Dobrý den, problém byl v certifikátu exportního serveru, který vypršel. Vyměnil jsem ho a export teď funguje. Zkuste to prosím znovu.\n\nPetr",
			probe.KindHuman, ""},
		{"Hungarian acknowledgement under automatic headers", "Jegy 40771",
			"Köszönjük megkeresését. Kérését rögzítettük rendszerünkben, kollégánk hamarosan felveszi Önnel a kapcsolatot.\n\nÜgyfélszolgálat",
			probe.KindNeedsReview, "Auto-Submitted: auto-replied\r\nX-Freshdesk-Ticket-Id: 40771\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := "From: Agent <agent@vendor.example>\r\nTo: lin.wei@example.com\r\nSubject: " + tc.subject +
				"\r\nMessage-ID: <g@vendor.example>\r\nDate: Mon, 7 Dec 2026 05:00:00 +0000\r\n" + tc.header + "Content-Type: text/plain; charset=utf-8\r\n\r\n" +
				strings.ReplaceAll(tc.body, "\n", "\r\n") + "\r\n"
			m, err := mailbox.Parse([]byte(raw), mailbox.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := probe.Classify(m, nil)
			if c.Kind != tc.want {
				t.Errorf("got %s (%.2f), want %s: %s", c.Kind, c.Confidence, tc.want, c.Reason)
			}
		})
	}
}
