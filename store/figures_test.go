package store_test

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/probe/report"
	"supportprobe/store"
	"supportprobe/store/storetest"
)

// figuresProjection returns p as Filter.FiguresOnly decodes it: the fields it documents
// as left zero are zeroed.
func figuresProjection(p probe.Probe) probe.Probe {
	p.Token, p.From, p.To, p.Subject, p.MessageID = "", "", nil, "", ""
	p.DataEndAt, p.FailReason = time.Time{}, ""
	p.Terms.Script = nil
	if p.Followups != nil {
		fs := make([]probe.Followup, len(p.Followups))
		for i, f := range p.Followups {
			f.MessageID, f.InReplyTo, f.Subject, f.Reason = "", "", "", ""
			fs[i] = f
		}
		p.Followups = fs
	}
	if p.Replies != nil {
		rs := make([]probe.Reply, len(p.Replies))
		for i, r := range p.Replies {
			r.MessageID, r.Folder, r.UID, r.HeaderDate, r.DetectedAt = "", "", 0, time.Time{}, time.Time{}
			r.Reason, r.Confidence, r.MatchedBy, r.MatchDetail, r.Learned = "", 0, "", "", nil
			if r.Override != nil {
				r.Override = &probe.Override{Kind: r.Override.Kind}
			}
			if r.Auth != nil {
				a := *r.Auth
				a.AuthenticationResults = ""
				r.Auth = &a
			}
			rs[i] = r
		}
		p.Replies = rs
	}
	return p
}

// TestFiguresOnly writes a realistic history through the public API (acknowledgements,
// answers, follow-ups, failed and unknown probes, DKIM results, script terms, manual
// corrections), then reads it back both ways: every probe FiguresOnly decodes equals the
// full decode with the fields it leaves out zeroed, and the report built from either is
// the same, byte for byte in its JSON, with and without a vendor filter, and again once
// every record is in the older JSON encoding.
func TestFiguresOnly(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g := storetest.NewGenerator(7, 4)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const n = 400
	var replyIDs []string
	for i := range n {
		rec := g.Record("P"+strconv.Itoa(i+1), start.Add(time.Duration(i)*25*time.Minute))
		if i%7 == 0 {
			rec.Probe.Terms.Script = &probe.ScriptTerms{Followups: []probe.StoredFollowup{{Kind: probe.FollowupReminder, After: 24 * time.Hour, Body: "any news?"}},
				Vars: map[string]string{"product": "cloud", "plan": "gold"}}
		}
		if i%5 == 0 {
			rec.Probe.Terms.Hours.Holidays = append([]string{"2026-11-0" + strconv.Itoa(2+i%4)}, rec.Probe.Terms.Hours.Holidays...)
		}
		for j := range rec.Replies {
			r := &rec.Replies[j].Reply
			switch (i + j) % 4 {
			case 0:
				r.Auth = &probe.Auth{CheckedAt: r.DetectedAt, Signatures: []probe.Signature{{Domain: "vendor.example", Selector: "s1",
					Result: probe.DKIMPass, Aligned: true}, {Domain: "relay.example", Selector: "k", Result: probe.DKIMFail, Reason: "body hash did not verify"}},
					VendorDomains: []string{"vendor.example"}, AuthenticationResults: "mx; dkim=pass", Attempts: 1}
			case 1:
				r.Auth = &probe.Auth{CheckedAt: r.DetectedAt}
			}
			r.Confidence = 0.75
		}
		if err := storetest.Write(db, rec); err != nil {
			t.Fatal(err)
		}
		p, err := db.Probe(rec.Probe.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Replies {
			replyIDs = append(replyIDs, r.ID)
		}
	}
	for i, id := range replyIDs {
		kinds := []probe.Kind{probe.KindHuman, probe.KindAutoAck, probe.KindNeedsReview, probe.KindBounce}
		if i%9 != 0 {
			continue
		}
		if _, err := db.SetOverride(id, probe.Override{Kind: kinds[i%len(kinds)], Note: "checked by hand", At: start.AddDate(0, 0, 30), By: "lin"}); err != nil {
			t.Fatal(err)
		}
	}

	since, until := start.Add(24*time.Hour), start.Add(5*24*time.Hour)
	now := start.Add(8 * 24 * time.Hour)
	compare := func(stage string) {
		t.Helper()
		for _, f := range []store.Filter{{}, {Since: since, Until: until}, {Vendor: "vendor02", Since: since, Until: until}} {
			full, err := db.Probes(f)
			if err != nil {
				t.Fatal(err)
			}
			ff := f
			ff.FiguresOnly = true
			figs, err := db.Probes(ff)
			if err != nil {
				t.Fatal(err)
			}
			if len(full) != len(figs) || len(full) == 0 {
				t.Fatalf("%s, %+v: %d probes in full, %d figures only", stage, f, len(full), len(figs))
			}
			for i := range full {
				if want, got := figuresProjection(full[i]), figuresProjection(figs[i]); !reflect.DeepEqual(want, got) {
					t.Fatalf("%s, %+v: probe %s decoded figures only\n%+v\nwant\n%+v", stage, f, full[i].ID, got, want)
				}
			}
			if f.Since.IsZero() {
				continue
			}
			prevF, prevFF := f, ff
			prevF.Since, prevF.Until = since.Add(-until.Sub(since)), since
			prevFF.Since, prevFF.Until = prevF.Since, prevF.Until
			prevFull, err := db.Probes(prevF)
			if err != nil {
				t.Fatal(err)
			}
			prevFigs, err := db.Probes(prevFF)
			if err != nil {
				t.Fatal(err)
			}
			for _, brief := range []bool{false, true} {
				opts := report.Options{Since: since, Until: until, PrevSince: prevF.Since, Now: now, Brief: brief}
				a, err := report.Build(full, prevFull, opts)
				if err != nil {
					t.Fatal(err)
				}
				b, err := report.Build(figs, prevFigs, opts)
				if err != nil {
					t.Fatal(err)
				}
				var ja, jb bytes.Buffer
				if err := a.WriteJSON(&ja); err != nil {
					t.Fatal(err)
				}
				if err := b.WriteJSON(&jb); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
					t.Fatalf("%s, %+v, brief %v: the report from figures-only probes differs from the full one", stage, f, brief)
				}
				if len(a.Breaches) == 0 || a.Review.Replies == 0 {
					t.Fatalf("%s, %+v: %d breaches, %d replies to review: the history does not exercise the report", stage, f, len(a.Breaches), a.Review.Replies)
				}
			}
		}
	}
	compare("binary records")
	if err := db.RewriteAsJSON(); err != nil {
		t.Fatal(err)
	}
	compare("JSON records")
}
