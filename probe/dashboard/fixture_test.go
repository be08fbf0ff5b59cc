package dashboard

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/store"
)

// fixtureNow is the instant the fixture's figures are computed at: Wednesday
// 2 December 2026, 12:00 UTC.
var fixtureNow = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

// hostile is vendor-controlled text that would run script if it reached a page
// unescaped.
const (
	hostileSubject = `<script>alert(1)</script> Re: login`
	hostileFrom    = `"<img src=x onerror=alert(1)>" <agent@acme.example>`
	chineseText    = "您好，我们的工程师已经处理了您的问题。"
)

// fixture holds the probe IDs of mustFixture's store.
type fixture struct {
	db                                   *store.DB
	met, breached, pastTarget, review    string
	betaAcked                            string
	metReply, reviewReply, unmatchedAcme string
}

func rawMail(from, subject, body string) []byte {
	return []byte("From: " + from + "\r\nTo: probe@buyer.example\r\nSubject: " + subject +
		"\r\nMessage-ID: <x@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

// mustFixture fills a store with two vendors: acme (Asia/Shanghai, P1 within 1 h on
// the calendar) with a probe answered in time, one answered late at night, one past
// its target without an answer and one whose only reply waits for review; beta
// (Europe/Berlin, P2 within 4 business hours) with one acknowledged probe. The store
// is checked and closed at cleanup.
func mustFixture(t *testing.T) fixture {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "probes.db"), store.Options{Now: func() time.Time { return fixtureNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Check(); err != nil {
			t.Errorf("Check() = %v", err)
		}
		db.Close()
	})
	acme := probe.Terms{Hours: probe.HoursSpec{Zone: "Asia/Shanghai", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"},
		SLA: &probe.SLATarget{FirstResponse: time.Hour, Clock: probe.Calendar}, Deadline: 72 * time.Hour}
	beta := probe.Terms{Hours: probe.HoursSpec{Zone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "17:00"},
		SLA: &probe.SLATarget{FirstResponse: 4 * time.Hour, Clock: probe.Business}, Deadline: 72 * time.Hour}
	var f fixture
	f.db = db
	n := 0
	mk := func(vendor, script string, prio probe.Priority, lang string, terms probe.Terms, sent time.Time) string {
		t.Helper()
		n++
		p, err := db.CreateProbe(probe.Probe{Vendor: vendor, Script: script, Priority: prio, Language: lang, Terms: terms,
			From: "li.wei@buyer.example", To: []string{"support@" + vendor + ".example"}, Subject: fmt.Sprintf("Question %d about login", n),
			MessageID: fmt.Sprintf("m%d@buyer.example", n), Token: fmt.Sprintf("tok%d", n),
			CreatedAt: sent.Add(-time.Minute), ScheduledAt: sent.Add(-time.Minute), SentAt: sent, State: probe.StateSent})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	reply := func(id string, at time.Time, kind probe.Kind, conf float64, from, subject, body string) string {
		t.Helper()
		n++
		r, err := db.AddReply(probe.Reply{ProbeID: id, MessageID: fmt.Sprintf("r%d@vendor.example", n), ReceivedAt: at, DetectedAt: at,
			From: from, Subject: subject, Kind: kind, Confidence: conf, Reason: "fixture: " + string(kind), MatchedBy: probe.RungMessageID},
			rawMail("agent@acme.example", "Re: question", body))
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	tue := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.met = mk("acme", "login-zh", probe.P1, "zh", acme, tue.Add(2*time.Hour)) // 10:00 in Shanghai
	f.metReply = reply(f.met, tue.Add(2*time.Hour+30*time.Minute), probe.KindHuman, 0.95, hostileFrom, hostileSubject, chineseText)
	f.breached = mk("acme", "login-en", probe.P1, "en", acme, tue.Add(15*time.Hour)) // 23:00 in Shanghai
	reply(f.breached, tue.Add(18*time.Hour), probe.KindHuman, 0.9, "agent@acme.example", "Re: login", "We fixed it.")
	f.pastTarget = mk("acme", "login-en", probe.P1, "en", acme, fixtureNow.Add(-3*time.Hour))
	f.review = mk("acme", "billing-en", probe.P1, "en", acme, fixtureNow.Add(-20*time.Hour))
	f.reviewReply = reply(f.review, fixtureNow.Add(-19*time.Hour), probe.KindNeedsReview, 0.4, hostileFrom, hostileSubject, "Thanks, noted. "+chineseText)
	f.betaAcked = mk("beta", "login-en", probe.P2, "en", beta, tue.Add(9*time.Hour))
	reply(f.betaAcked, tue.Add(9*time.Hour+time.Minute), probe.KindAutoAck, 0.99, "noreply@beta.example", "Ticket #123 created", "We received your request.")
	u, err := db.AddUnmatched(store.Unmatched{MessageID: "u1@acme.example", ReceivedAt: fixtureNow.Add(-time.Hour), DetectedAt: fixtureNow.Add(-time.Hour),
		From: hostileFrom, Subject: hostileSubject, Kind: probe.KindHuman, Why: "no evidence", Vendor: "acme"}, rawMail(hostileFrom, "x", "body"))
	if err != nil {
		t.Fatal(err)
	}
	f.unmatchedAcme = u.ID
	if _, err := db.AddUnmatched(store.Unmatched{MessageID: "u2@else.example", ReceivedAt: fixtureNow.Add(-2 * time.Hour), DetectedAt: fixtureNow.Add(-2 * time.Hour),
		From: "news@else.example", Subject: "Newsletter", Kind: probe.KindOther, Why: "no evidence"}, rawMail("news@else.example", "x", "body")); err != nil {
		t.Fatal(err)
	}
	return f
}

func mustHandler(t *testing.T, db Store) *Handler {
	t.Helper()
	return New(db, Options{Now: func() time.Time { return fixtureNow }})
}

// hasCJK reports whether s holds a Han character.
func hasCJK(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff })
}
