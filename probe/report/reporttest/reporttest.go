// Package reporttest makes weeks of probes for the report and summary tests, in
// memory and fast: a 100,000-probe week in about a second, where
// store/storetest, which also renders every raw mail for the store, takes a minute.
// The probes are what the store hands report.Build: terms, replies with their kind,
// times and DKIM checks; no raw mail.
package reporttest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"supportprobe/probe"
)

var zones = []string{
	"Asia/Shanghai", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
	"Asia/Tokyo", "Europe/London", "Asia/Singapore", "Australia/Sydney",
}

var scripts = []struct {
	id, lang string
	prio     probe.Priority
}{
	{"p1-outage", "en", probe.P1}, {"p2-zh-latency", "zh", probe.P2}, {"p3-billing", "en", probe.P3}, {"p4-howto", "en", probe.P4},
}

// Week returns n probes created from start, evenly spread over seven days, over
// vendors vendors ("vendor01" …), deterministic for seed. Their IDs are prefix
// followed by 1 to n. Every fourth vendor is 24x7, the others work Monday to Friday
// 09:00–18:00 in their zone; SLA targets are 1h, 2h (calendar), 4h and 8h (business)
// for P1 to P4, deadlines 72h. About 2% failed at SMTP, 6% got no reply, 10% only an
// acknowledgement, the rest a person's answer 10 minutes to 48 hours after sending;
// vendor06 also answers slower in the second half of the week. Replies carry a DKIM
// check: mostly a pass by the vendor's domain, some unsigned, a few failed or signed by
// a help-desk domain. Probes sent before now are measured as of now by the caller.
func Week(seed uint64, prefix string, n, vendors int, start time.Time) []probe.Probe {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	type vendor struct {
		name, domain string
		terms        map[probe.Priority]probe.Terms
	}
	vs := make([]vendor, vendors)
	for i := range vs {
		zone := zones[i%len(zones)]
		hours := probe.HoursSpec{Zone: zone, Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"}
		if i%4 == 0 {
			hours = probe.HoursSpec{Zone: zone}
		}
		vs[i] = vendor{name: fmt.Sprintf("vendor%02d", i+1), domain: fmt.Sprintf("vendor%02d.example", i+1), terms: map[probe.Priority]probe.Terms{}}
		for j, pr := range probe.Priorities {
			clock := probe.Calendar
			if j >= 2 {
				clock = probe.Business
			}
			vs[i].terms[pr] = probe.Terms{Hours: hours, Deadline: 72 * time.Hour,
				SLA: &probe.SLATarget{FirstResponse: time.Duration(1<<j) * time.Hour, Clock: clock}}
		}
	}
	step := 7 * 24 * time.Hour / time.Duration(max(n, 1))
	out := make([]probe.Probe, 0, n)
	for k := range n {
		v := vs[rng.IntN(len(vs))]
		s := scripts[rng.IntN(len(scripts))]
		id := fmt.Sprintf("%s%d", prefix, k+1)
		sentAt := start.Add(time.Duration(k) * step).UTC()
		p := probe.Probe{
			ID: id, Token: fmt.Sprintf("T%08d", k+1), Vendor: v.name, Script: s.id, Priority: s.prio, Language: s.lang,
			From: "Lin Wei <lin.wei@example.com>", To: []string{"support@" + v.domain},
			Subject: "Question " + id, MessageID: id + "@probe.example",
			CreatedAt: sentAt.Add(-time.Second), ScheduledAt: sentAt.Truncate(time.Minute), SentAt: sentAt,
			State: probe.StateSent, Terms: v.terms[s.prio],
		}
		fate := rng.IntN(100)
		if fate < 2 {
			p.State, p.SentAt, p.FailReason = probe.StateFailed, time.Time{}, "554 5.7.1 relay access denied"
			out = append(out, p)
			continue
		}
		reply := func(kind probe.Kind, at time.Time, from, subject string, auth *probe.Auth) {
			i := len(p.Replies) + 1
			p.Replies = append(p.Replies, probe.Reply{
				ID: fmt.Sprintf("%s-r%d", id, i), ProbeID: id, MessageID: fmt.Sprintf("%s.%d@helpdesk.%s", id, i, v.domain),
				Kind: kind, ReceivedAt: at.Truncate(time.Second), DetectedAt: at.Add(time.Second), HeaderDate: at.Truncate(time.Second),
				From: from, Subject: subject, MatchedBy: probe.RungMessageID, Language: s.lang, Auth: auth,
			})
		}
		if fate >= 8 {
			at := sentAt.Add(time.Duration(5+rng.IntN(120)) * time.Second)
			reply(probe.KindAutoAck, at, "support@"+v.domain, "[#"+id+"] We received your request", auth(rng, v.domain, at))
		}
		if fate >= 18 {
			wait := time.Duration(10+rng.IntN(48*60)) * time.Minute
			if v.name == "vendor06" && k > n/2 {
				wait *= 2
			}
			at := sentAt.Add(wait)
			reply(probe.KindHuman, at, "Dana <dana@"+v.domain+">", "Re: [#"+id+"] Question "+id, auth(rng, v.domain, at))
		}
		out = append(out, p)
	}
	return out
}

// auth draws a reply's DKIM check: 80% a pass by the vendor's domain, 10% unsigned, 5%
// a body altered in transit, 5% a pass by a help-desk domain that is not the vendor's.
func auth(rng *rand.Rand, domain string, at time.Time) *probe.Auth {
	a := &probe.Auth{CheckedAt: at.Add(2 * time.Second), Attempts: 1, VendorDomains: []string{domain}}
	switch d := rng.IntN(100); {
	case d < 80:
		a.Signatures = []probe.Signature{{Domain: domain, Selector: "s1", Result: probe.DKIMPass, Aligned: true}}
	case d < 90:
	case d < 95:
		a.Signatures = []probe.Signature{{Domain: domain, Selector: "s1", Result: probe.DKIMFail, Reason: "body hash did not verify", Aligned: true}}
	default:
		a.Signatures = []probe.Signature{{Domain: "helpdesk-saas.example", Selector: "hd", Result: probe.DKIMPass}}
	}
	return a
}
