// Package storetest makes realistic supportprobe histories for benchmarks: probes as the
// daemon stores them (terms, Message-ID, token, subject), the raw inquiry as go-mail
// renders it, and the raw acknowledgement and agent reply as an IMAP server hands them
// over (Received and DKIM-Signature headers, text and HTML alternatives, the inquiry
// quoted), with the index entries the inbound path adds (thread IDs, ticket keys).
//
// A Generator is deterministic for its seed, so two runs build the same file. Write
// stores records through the store's public API, one operation per transaction, exactly
// as the daemon does; bulk fills inside the store package use the same records.
package storetest

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
)

// Reply is one inbound mail of a Record: the reply as matched, its raw bytes, and the
// vendor's ticket key the matcher learned from it ("" when none).
type Reply struct {
	Reply  probe.Reply
	Raw    []byte
	Ticket string
}

// Record is one probe with everything the daemon stores about it. Inquiry is nil for a
// probe that failed before SMTP accepted it. Followups holds the raw follow-ups, in the
// order of Probe.Followups.
type Record struct {
	Probe     probe.Probe
	Inquiry   []byte
	Followups [][]byte
	Replies   []Reply
}

// Vendor is one synthetic vendor: its name, support address and terms.
type Vendor struct {
	Name   string
	Domain string
	Zone   string
	Terms  map[probe.Priority]probe.Terms
}

// Generator makes Records. It is not safe for concurrent use; make one per goroutine
// with distinct seeds.
type Generator struct {
	Vendors []Vendor
	rng     *rand.Rand
	key     []byte
}

var zones = []string{
	"Asia/Shanghai", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
	"Asia/Tokyo", "Europe/London", "Asia/Singapore", "Australia/Sydney",
}

// NewGenerator returns a generator of histories over n vendors ("vendor01" …), seeded
// with seed.
func NewGenerator(seed uint64, n int) *Generator {
	g := &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), key: []byte("storetest message-id key, 32 B!")}
	for i := range n {
		zone := zones[i%len(zones)]
		hours := probe.HoursSpec{Zone: zone, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00",
			Holidays: []string{"2026-01-01", "2026-05-01", "2026-10-01", "2026-12-25", "2027-01-01", "2027-05-01"}}
		if i%4 == 0 {
			hours = probe.HoursSpec{Zone: zone} // 24x7
		}
		terms := map[probe.Priority]probe.Terms{}
		for j, p := range probe.Priorities {
			t := probe.Terms{Hours: hours, Deadline: 72 * time.Hour}
			clock := probe.Calendar
			if j >= 2 {
				clock = probe.Business
			}
			t.SLA = &probe.SLATarget{FirstResponse: time.Duration(1<<j) * time.Hour, Clock: clock}
			terms[p] = t
		}
		g.Vendors = append(g.Vendors, Vendor{
			Name: fmt.Sprintf("vendor%02d", i+1), Domain: fmt.Sprintf("vendor%02d.example", i+1),
			Zone: zone, Terms: terms,
		})
	}
	return g
}

const tokenAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func (g *Generator) token() string {
	var b [probe.TokenLength]byte
	for i := range b {
		b[i] = tokenAlphabet[g.rng.IntN(len(tokenAlphabet))]
	}
	return string(b[:])
}

func (g *Generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *Generator) b64(n int) string {
	b := make([]byte, n*3/4+3)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return base64.StdEncoding.EncodeToString(b)[:n]
}

func pick[T any](g *Generator, xs []T) T { return xs[g.rng.IntN(len(xs))] }

type script struct {
	id, lang string
	prio     probe.Priority
	subjects []string
	lines    []string
}

var scripts = []script{
	{"p1-outage", "en", probe.P1, []string{"Production ingest down since %s", "Urgent: streams failing at %s", "Outage: cannot publish since %s"}, []string{
		"Our production ingest stopped accepting streams a few minutes ago and every publish attempt now fails with a timeout.",
		"We have not changed anything on our side since yesterday's deployment, which ran cleanly for twelve hours.",
		"The dashboard still shows the cluster as healthy, but the API returns 503 for about a third of the requests.",
		"This affects roughly four hundred customers in our region, so we would appreciate a call back as soon as possible.",
		"I have attached nothing yet; tell me which logs you need and I will send them right away.",
		"Our account ID is on file; the affected region is the one closest to Frankfurt.",
		"Could you confirm whether there is a known incident, and if so, whether there is an estimate for recovery?",
		"We tried restarting our edge nodes and rotating the credentials, which did not change anything.",
	}},
	{"p3-billing", "en", probe.P3, []string{"Question about last month's invoice", "Invoice %s: duplicate line item?", "Billing question before renewal"}, []string{
		"I am looking at our invoice for last month and see the storage line item twice, once at the old rate and once at the new one.",
		"Could you explain how the proration works when a plan changes in the middle of a billing period?",
		"We are planning to renew for another year and would like to understand the committed-use discount first.",
		"Our finance team needs the invoice addressed to the new legal entity; is that something you can reissue?",
		"There is no rush on this, but an answer before the end of the month would help us close our books.",
		"If it is easier, I am happy to jump on a short call any afternoon this week.",
	}},
	{"p2-zh-latency", "zh", probe.P2, []string{"上海节点延迟异常 %s", "推流延迟突然升高（%s）", "关于华东区域延迟的问题"}, []string{
		"您好，我们从今天早上开始发现上海节点的推流延迟明显升高，平均从两秒升到了八秒左右。",
		"我们这边没有做任何配置变更，客户端版本也和上周一样。",
		"请问你们是否有已知的网络问题？如果需要日志，请告诉我具体需要哪些。",
		"这个问题影响了我们的直播业务，希望能尽快得到回复，谢谢。",
		"我们的账号信息已经在工单系统里，联系人是我本人。",
	}},
	{"p4-howto", "en", probe.P4, []string{"How do I rotate API keys without downtime?", "Question about webhook retries", "Best practice for multi-region setup"}, []string{
		"We would like to rotate our API keys every ninety days without interrupting the running integrations.",
		"Is it possible to have two keys active at the same time during the changeover, and for how long?",
		"The documentation mentions a grace period but does not say whether it applies to webhook signatures as well.",
		"We are a small team, so a short pointer to the right page of the documentation would already help a lot.",
		"Thanks in advance, and have a good day.",
	}},
}

var names = []string{"Lin Wei", "Zhang Min", "Anna Keller", "Tom Brooks", "Sara Novak", "Kenji Ito"}
var agents = []string{"Dana", "Marco", "Priya", "Li Na", "Jonas", "Aiko", "Sam"}

// qp encodes s as quoted-printable with soft breaks at 76 columns, as go-mail does.
func qp(s string) string {
	var b strings.Builder
	col := 0
	put := func(t string) {
		if col+len(t) > 75 {
			b.WriteString("=\r\n")
			col = 0
		}
		b.WriteString(t)
		col += len(t)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			b.WriteString("\r\n")
			col = 0
		case c == '=' || c >= 0x80 || (c < 0x20 && c != '\t'):
			put(fmt.Sprintf("=%02X", c))
		default:
			put(string(c))
		}
	}
	return b.String()
}

func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(s) {
		if col > 0 && col+1+len(w) > width {
			b.WriteByte('\n')
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}

// body draws 4–6 of the script's lines, in order, into paragraphs, the way a script's
// template with a few alternatives renders.
func (g *Generator) body(s script, name, token string, local time.Time) string {
	var b strings.Builder
	if s.lang == "zh" {
		b.WriteString("您好，\n\n")
	} else {
		b.WriteString("Hello,\n\n")
	}
	n := 4 + g.rng.IntN(3)
	start := g.rng.IntN(len(s.lines))
	for i := range n {
		line := s.lines[(start+i)%len(s.lines)]
		if s.lang == "zh" {
			b.WriteString(line + "\n")
		} else {
			b.WriteString(wrap(line, 72) + "\n\n")
		}
	}
	fmt.Fprintf(&b, "\n(local time here: %s)\n\n%s\n\nRef: %s\n", local.Format("Mon 2 Jan 15:04 MST"), strings.Fields(name)[0], token)
	return b.String()
}

func (g *Generator) received(domain string, at time.Time) string {
	var b strings.Builder
	hops := 2 + g.rng.IntN(2)
	for h := range hops {
		t := at.Add(-time.Duration(hops-h) * time.Duration(200+g.rng.IntN(800)) * time.Millisecond)
		fmt.Fprintf(&b, "Received: from mail-%s.%s (mail-%s.%s [10.%d.%d.%d])\r\n\tby mx%d.example.com (Postfix) with ESMTPS id %s\r\n\tfor <lin.wei@example.com>; %s\r\n",
			g.hex(6), domain, g.hex(6), domain, g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256), h+1,
			strings.ToUpper(g.hex(10)), t.Format(time.RFC1123Z))
	}
	fmt.Fprintf(&b, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=hd2026;\r\n\th=from:to:subject:date:message-id:in-reply-to:references:mime-version;\r\n\tbh=%s;\r\n\tb=%s\r\n\t %s\r\n\t %s\r\n\t %s\r\n\t %s\r\n",
		domain, g.b64(44), g.b64(72), g.b64(72), g.b64(72), g.b64(72), g.b64(56))
	return b.String()
}

func html(text, pixel string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{font-family:Arial,sans-serif;font-size:14px;color:#222}blockquote{border-left:2px solid #ccc;margin:0;padding-left:8px;color:#666}</style></head><body>")
	for _, p := range strings.Split(text, "\n\n") {
		b.WriteString("<p style=\"margin:0 0 12px 0\">" + strings.ReplaceAll(p, "\n", "<br>") + "</p>")
	}
	if pixel != "" {
		b.WriteString("<img src=\"" + pixel + "\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">")
	}
	b.WriteString("</body></html>")
	return b.String()
}

func quote(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// Record returns probe id ("P17", the ID the store will assign it) of a vendor drawn at
// random, created at createdAt, with its raw copies and replies: about 80% are answered by a person (most after an
// acknowledgement), 10% only acknowledged, 6% never answered, 2% failed at SMTP and 2%
// interrupted mid-send; 3% carry a sent reminder.
func (g *Generator) Record(id string, createdAt time.Time) Record {
	v := pick(g, g.Vendors)
	s := pick(g, scripts)
	name := pick(g, names)
	token := g.token()
	from := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"
	createdAt = createdAt.UTC()
	sentAt := createdAt.Add(time.Duration(300+g.rng.IntN(900)) * time.Millisecond)
	loc, _ := probe.LoadZone(v.Zone)
	subject := pick(g, s.subjects)
	if strings.Contains(subject, "%s") {
		subject = fmt.Sprintf(subject, sentAt.In(loc).Format("15:04"))
	}
	p := probe.Probe{
		ID: id, Token: token, Vendor: v.Name, Script: s.id, Priority: s.prio, Language: s.lang,
		From: fmt.Sprintf("%q <%s>", name, from), To: []string{"support@" + v.Domain},
		Subject: subject, CreatedAt: createdAt, ScheduledAt: createdAt.Truncate(time.Minute),
		State: probe.StateSent, SentAt: sentAt, ClockSkew: time.Duration(g.rng.IntN(2000)-1000) * time.Millisecond,
		SkewMeasured: true, Terms: v.Terms[s.prio],
	}
	p.MessageID = probe.NewMessageID(g.key, id, "example.com")
	body := g.body(s, name, token, sentAt.In(loc))
	rec := Record{Probe: p}

	fate := g.rng.IntN(100)
	switch {
	case fate < 2:
		rec.Probe.State, rec.Probe.SentAt = probe.StateFailed, time.Time{}
		rec.Probe.FailReason = "554 5.7.1 <support@" + v.Domain + ">: Relay access denied"
		return rec
	case fate < 4:
		rec.Probe.State = probe.StateUnknown
		rec.Probe.FailReason = "interrupted during SMTP; no copy in the sent folder"
	}
	rec.Inquiry = []byte(g.inquiry(p, body, from, name, loc))

	ackAt := sentAt.Add(time.Duration(5+g.rng.IntN(120)) * time.Second)
	humanAt := sentAt.Add(time.Duration(10+g.rng.IntN(48*60)) * time.Minute)
	ticket := fmt.Sprintf("%d", 100000+g.rng.IntN(900000))
	var ackID string
	if fate >= 4 && fate < 84+10 && fate%10 != 0 { // ack for most answered and the ack-only
		ackID = fmt.Sprintf("%s.%s.%s@helpdesk.%s", v.Name, ticket, g.hex(12), v.Domain)
		rec.Replies = append(rec.Replies, Reply{Ticket: ticket, Raw: []byte(g.ack(v, p, ackID, ticket, from, ackAt)), Reply: probe.Reply{
			MessageID: ackID, Folder: "INBOX", UID: uint32(g.rng.Uint32() >> 8), ReceivedAt: ackAt.Truncate(time.Second),
			HeaderDate: ackAt.Truncate(time.Second), DetectedAt: ackAt.Add(600 * time.Millisecond), From: "support@" + v.Domain,
			Subject: "[#" + ticket + "] " + subject, Kind: probe.KindAutoAck, Reason: "Auto-Submitted: auto-replied; ack phrase \"we have received your request\"",
			MatchedBy: probe.RungMessageID, MatchDetail: "In-Reply-To <" + p.MessageID + ">", Language: "en", ProbeID: id,
		}})
	}
	if fate >= 4 && fate < 84 {
		agent := pick(g, agents)
		hid := fmt.Sprintf("%s.%s.%s@helpdesk.%s", v.Name, ticket, g.hex(12), v.Domain)
		rung, detail := probe.RungThread, "References <"+ackID+">"
		if ackID == "" {
			rung, detail = probe.RungMessageID, "In-Reply-To <"+p.MessageID+">"
		}
		rec.Replies = append(rec.Replies, Reply{Ticket: ticket, Raw: []byte(g.human(v, p, hid, ackID, ticket, from, agent, body, humanAt)), Reply: probe.Reply{
			MessageID: hid, Folder: "INBOX", UID: uint32(g.rng.Uint32() >> 8), ReceivedAt: humanAt.Truncate(time.Second),
			HeaderDate: humanAt.Truncate(time.Second), DetectedAt: humanAt.Add(700 * time.Millisecond),
			From: strings.ToLower(strings.ReplaceAll(agent, " ", ".")) + "@" + v.Domain, Subject: "Re: [#" + ticket + "] " + subject,
			Kind: probe.KindHuman, Reason: "new text of 412 characters; no ack phrase; Auto-Submitted absent", MatchedBy: rung, ProbeID: id,
			MatchDetail: detail, Language: s.lang,
		}})
	}
	if g.rng.IntN(100) < 3 && rec.Probe.State == probe.StateSent {
		fAt := sentAt.Add(24 * time.Hour)
		fid := probe.NewFollowupMessageID(g.key, id, "example.com", 1)
		rec.Probe.Followups = []probe.Followup{{Index: 0, Kind: probe.FollowupReminder, State: probe.StateSent, DueAt: fAt,
			SentAt: fAt.Add(time.Second), MessageID: fid, InReplyTo: p.MessageID, Subject: "Re: " + subject}}
		rec.Followups = [][]byte{[]byte(g.inquiry(probe.Probe{MessageID: fid, Subject: "Re: " + subject, To: p.To, SentAt: fAt},
			"Hello,\n\njust following up on the message below: is there any news?\n\n"+strings.Fields(name)[0]+"\n\nRef: "+token+"\n\n"+quote(body), from, name, loc))}
	}
	return rec
}

func (g *Generator) inquiry(p probe.Probe, body, from, name string, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Date: %s\r\nMIME-Version: 1.0\r\nMessage-ID: <%s>\r\nSubject: %s\r\nFrom: %q <%s>\r\nTo: <%s>\r\nReply-To: %q <%s>\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n",
		p.SentAt.In(loc).Format(time.RFC1123Z), p.MessageID, subjectHeader(p.Subject), name, from, p.To[0], name,
		strings.Replace(from, "@", "+"+strings.ToLower(p.Token)+"@", 1))
	b.WriteString(qp(body))
	return b.String()
}

func subjectHeader(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "=?UTF-8?b?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
		}
	}
	return s
}

const boundary = "----=_Part_"

func (g *Generator) multipart(b *strings.Builder, text, domain string) {
	bd := boundary + g.hex(16)
	pixel := "https://t." + domain + "/o/" + g.b64(40)
	fmt.Fprintf(b, "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", bd)
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", bd, qp(text))
	fmt.Fprintf(b, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n--%s--\r\n", bd, qp(html(text, pixel)), bd)
}

func (g *Generator) ack(v Vendor, p probe.Probe, id, ticket, to string, at time.Time) string {
	var b strings.Builder
	b.WriteString("Return-Path: <support@" + v.Domain + ">\r\nDelivered-To: " + to + "\r\n")
	b.WriteString(g.received(v.Domain, at))
	fmt.Fprintf(&b, "From: %s Support <support@%s>\r\nTo: %s\r\nSubject: [#%s] %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\nAuto-Submitted: auto-replied\r\nX-Autoreply: yes\r\nX-Helpdesk-Ticket: %s\r\n",
		v.Name, v.Domain, to, ticket, subjectHeader(p.Subject), at.Format(time.RFC1123Z), id, p.MessageID, p.MessageID, ticket)
	text := fmt.Sprintf("Dear customer,\n\nThank you for contacting %s Support. We have received your request and created ticket #%s.\nOur team will get back to you as soon as possible; for urgent production issues, please call the number in your contract.\n\nYou can add information to this ticket by replying to this email. Please keep the ticket number in the subject line.\nView your ticket: https://support.%s/tickets/%s?auth=%s\n\nKind regards,\n%s Support\n\nThis is an automated message. Ticket #%s", v.Name, ticket, v.Domain, ticket, g.b64(24), v.Name, ticket)
	g.multipart(&b, text, v.Domain)
	return b.String()
}

// answerParts are the pieces an agent's answer is made of: what they found, what they
// did, what comes next and what they ask, each with specifics drawn at random, so that
// no two answers are the same text (as a person's answers are not).
var answerParts = [][]string{{
	"thanks for reaching out. I have looked into this with our operations team.",
	"thank you for the detailed report, it made this much quicker to track down.",
	"sorry for the trouble, and thanks for your patience while we investigated.",
	"I picked up your ticket this morning and went through the logs for your account.",
	"my colleague from the night shift handed this over to me with her notes.",
	"good question, and one we get fairly often.",
}, {
	"We found a misconfigured node (%[1]s) in the pool that serves your account; it returned errors on %[2]d%% of requests since %[3]s UTC.",
	"The behaviour comes from release %[4]s, which we rolled out to your region at %[3]s UTC; it changed the default timeout from %[5]d to %[6]d seconds.",
	"Two keys can be active at the same time; the old one stays valid for %[5]d hours after you create the new one, and webhook signatures follow the same rule.",
	"Your invoice shows the storage line twice because the plan change on the %[7]dth was prorated at both rates; the credit of %[8]d.%02[2]d EUR will appear on the next one.",
	"The latency you see comes from a congested link between %[1]s and our upstream; traffic has been moved to a second path, and p95 is back under %[6]d ms.",
	"Our records show %[9]d failed publish attempts from your account between %[3]s and %[10]s UTC, all rejected by the rate limiter at %[6]d requests per second.",
	"You can rotate keys without downtime as described in https://docs.%[11]s/kb/%[12]d; the grace period is configurable up to %[5]d hours.",
}, {
	"We took the node out of rotation and the error rate is back to normal.",
	"A fix is scheduled for the maintenance window on %[13]s; I will update this ticket when it is deployed.",
	"I have raised the limit for your account to %[14]d requests per second for the next %[5]d days.",
	"Engineering opened incident INC-%[12]d to follow up, and a post-mortem will be shared within %[5]d business days.",
	"I have asked our billing team to reissue the invoice to the new entity; expect it within %[7]d days.",
	"Nothing needs to change on your side.",
}, {
	"Could you confirm on your side?",
	"Could you send us the request IDs of a few failed calls, if you still see any?",
	"Please let me know if the problem comes back, and include the time and your region.",
	"If you prefer a call, reply with two time slots that suit you.",
	"Could you run the diagnostics from https://status.%[11]s/diag?t=%[15]s and attach the output?",
}}

// answer is an agent's answer: one piece of each kind of answerParts (two findings now and
// then), or a Chinese answer for a Chinese inquiry.
func (g *Generator) answer(lang string, v Vendor, ticket string) string {
	if lang == "zh" {
		zh := []string{"您好，感谢您的耐心等待。", "我们已经定位到华东区域一台边缘节点（%[1]s）的问题，并已将其下线。", "目前延迟已经恢复正常，平均为%[2]d毫秒。",
			"这个问题与%[3]s版本有关，修复将在本周内上线。", "如果还有问题，请直接回复此邮件，并附上发生的时间。", "工单号 %[4]s 会保持打开状态%[5]d天。"}
		return fmt.Sprintf(zh[0]+zh[1]+zh[2+g.rng.IntN(2)]+zh[4+g.rng.IntN(2)], "edge-sha-"+g.hex(4), 40+g.rng.IntN(400),
			fmt.Sprintf("%d.%d.%d", 1+g.rng.IntN(9), g.rng.IntN(30), g.rng.IntN(20)), ticket, 3+g.rng.IntN(5))
	}
	at := time.Date(2026, time.Month(1+g.rng.IntN(12)), 1+g.rng.IntN(28), g.rng.IntN(24), g.rng.IntN(60), 0, 0, time.UTC)
	args := []any{
		fmt.Sprintf("edge-%s-%02d", pick(g, []string{"fra", "ams", "sha", "nyc", "sfo", "sin", "tok"}), g.rng.IntN(64)), // 1 node
		1 + g.rng.IntN(60), at.Format("15:04"), // 2 percent, 3 time
		fmt.Sprintf("%d.%d.%d", 1+g.rng.IntN(9), g.rng.IntN(30), g.rng.IntN(20)), // 4 release
		2 + g.rng.IntN(70), 10 + g.rng.IntN(990), 2 + g.rng.IntN(26), 10 + g.rng.IntN(4000), // 5–8
		20 + g.rng.IntN(5000), at.Add(time.Duration(5+g.rng.IntN(300)) * time.Minute).Format("15:04"), // 9, 10
		v.Domain, 10000 + g.rng.IntN(90000), at.AddDate(0, 0, 1+g.rng.IntN(14)).Format("Monday 2 January"), // 11–13
		100 + g.rng.IntN(5000), g.b64(16), // 14, 15
	}
	var parts []string
	for i, ps := range answerParts {
		parts = append(parts, fmt.Sprintf(pick(g, ps), args...))
		if i == 1 && g.rng.IntN(3) == 0 {
			parts = append(parts, fmt.Sprintf(pick(g, ps), args...))
		}
	}
	for i, part := range parts { // drop the %!(EXTRA …) Sprintf adds for unused arguments
		if j := strings.Index(part, "%!(EXTRA"); j >= 0 {
			parts[i] = part[:j]
		}
	}
	return strings.Join(parts, " ")
}

// signature is an agent's signature block: team, phone, sometimes a survey link.
func (g *Generator) signature(v Vendor) string {
	sig := fmt.Sprintf("%s %s\n+%d %d %04d %04d", v.Name, pick(g, []string{"Support Engineering", "Customer Success", "Technical Support", "Support Team, EMEA", "Support Team, APAC"}),
		1+g.rng.IntN(90), 10+g.rng.IntN(90), g.rng.IntN(10000), g.rng.IntN(10000))
	if g.rng.IntN(2) == 0 {
		sig += fmt.Sprintf("\nHow did we do? https://survey.%s/r/%s", v.Domain, g.b64(22))
	}
	return sig
}

func (g *Generator) human(v Vendor, p probe.Probe, id, ackID, ticket, to, agent, inquiryBody string, at time.Time) string {
	var b strings.Builder
	b.WriteString("Return-Path: <support@" + v.Domain + ">\r\nDelivered-To: " + to + "\r\n")
	b.WriteString(g.received(v.Domain, at))
	refs := "<" + p.MessageID + ">"
	if ackID != "" {
		refs += " <" + ackID + ">"
	}
	fmt.Fprintf(&b, "From: %s <%s@%s>\r\nTo: %s\r\nSubject: Re: [#%s] %s\r\nDate: %s\r\nMessage-ID: <%s>\r\nIn-Reply-To: <%s>\r\nReferences: %s\r\nX-Helpdesk-Ticket: %s\r\n",
		agent, strings.ToLower(strings.ReplaceAll(agent, " ", ".")), v.Domain, to, ticket, subjectHeader(p.Subject), at.Format(time.RFC1123Z), id, p.MessageID, refs, ticket)
	text := fmt.Sprintf("%s %s,\n\n%s\n\n%s\n%s\n%s\n\n-- \nTicket #%s | Reply above this line to update the ticket\nView it online: https://support.%s/tickets/%s?auth=%s\n\nOn %s, %s wrote:\n%s",
		pick(g, []string{"Hi", "Hello", "Dear", "Hi there"}), strings.Fields(p.From)[0][1:], wrap(g.answer(p.Language, v, ticket), 72),
		pick(g, []string{"Best regards,", "Kind regards,", "Thanks,", "Cheers,", "Regards,"}), agent, g.signature(v),
		ticket, v.Domain, ticket, g.b64(24), p.SentAt.Format("Mon, 2 Jan 2006 15:04"), to, quote(inquiryBody))
	g.multipart(&b, text, v.Domain)
	return b.String()
}

// Write stores rec the way the daemon does, one operation per transaction: the probe
// (its Message-ID set at creation), the raw inquiry and follow-ups, then each reply
// with its raw bytes, its Message-ID added to the thread and its ticket key learned.
// Records must be written to a fresh database in the order of their IDs, so the store
// assigns each the ID it was made for; a mismatch is an error.
func Write(db *store.DB, rec Record) error {
	created := rec.Probe
	created.MessageID, created.Followups = "", nil // set after composing, as the daemon does
	p, err := db.CreateProbe(created)
	if err != nil {
		return err
	}
	if p.ID != rec.Probe.ID {
		return fmt.Errorf("storetest: the store assigned %s to the record made for %s; write records to a fresh database in ID order", p.ID, rec.Probe.ID)
	}
	if _, err := db.UpdateProbe(p.ID, func(q *probe.Probe) error {
		q.MessageID, q.Followups = rec.Probe.MessageID, rec.Probe.Followups
		return nil
	}); err != nil {
		return err
	}
	if rec.Inquiry != nil {
		if err := db.PutInquiryRaw(p.ID, rec.Inquiry); err != nil {
			return err
		}
	}
	for i, f := range rec.Followups {
		if err := db.PutInquiryRaw(fmt.Sprintf("%s/followup/%d", p.ID, i), f); err != nil {
			return err
		}
	}
	for _, r := range rec.Replies {
		if _, err := db.AddReply(r.Reply, r.Raw); err != nil {
			return err
		}
		if _, err := db.AddThreadIDs(p.ID, r.Reply.MessageID); err != nil {
			return err
		}
		if r.Ticket != "" {
			if _, err := db.AddTicketKey(rec.Probe.Vendor, r.Ticket, p.ID); err != nil {
				return err
			}
		}
	}
	return nil
}
