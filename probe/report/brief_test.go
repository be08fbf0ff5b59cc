package report

import (
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"supportprobe/probe"
	"supportprobe/store/storetest"
)

// TestBrief builds the seeded report in full and brief and checks that every figure a
// brief report holds is the full report's, and that it leaves out what Options.Brief
// says it does.
func TestBrief(t *testing.T) {
	cur, prev, opts := seed(t)
	// One person's answer waits for review, so Review has something to count.
	for i, p := range cur {
		if len(p.Replies) > 0 {
			cur[i].Replies = slices.Clone(p.Replies)
			cur[i].Replies[0].Override = &probe.Override{Kind: probe.KindNeedsReview}
			break
		}
	}
	full, err := Build(cur, prev, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Brief = true
	brief, err := Build(cur, prev, opts)
	if err != nil {
		t.Fatal(err)
	}
	if full.Review.Replies == 0 || len(full.Breaches) == 0 || len(full.Vendors) < 2 {
		t.Fatalf("the seeded report has %d replies for review, %d breaches, %d vendors: it no longer exercises Brief", full.Review.Replies, len(full.Breaches), len(full.Vendors))
	}
	if len(brief.Probes) != 0 {
		t.Errorf("brief report has %d probe rows, want none", len(brief.Probes))
	}
	if brief.Review.AnsweredIfPerson != nil {
		t.Errorf("brief report has AnsweredIfPerson = %d, want nil", *brief.Review.AnsweredIfPerson)
	}
	// What Brief leaves out, cut from the full report, must leave the two equal.
	want := full
	want.Probes = brief.Probes
	want.Review.AnsweredIfPerson = nil
	want.Vendors = append([]Vendor(nil), full.Vendors...)
	for i, v := range want.Vendors {
		var hours []Breakdown
		for _, b := range v.Breakdowns {
			if b.By == ByHours {
				hours = append(hours, b)
			}
		}
		if len(hours) != 1 {
			t.Fatalf("vendor %s has %d breakdowns by hours, want 1", v.Name, len(hours))
		}
		v.Breakdowns, v.Latencies, v.Heatmap = hours, []Bar{}, []Cell{}
		v.ReplyLanguage, v.LanguageMismatches, v.Followups = LanguageFit{}, []LanguageMismatch{}, FollowupFigures{}
		want.Vendors[i] = v
	}
	got, err := json.Marshal(brief)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(wantJSON) {
		t.Errorf("brief report differs from the full one's figures:\n%s\nwant\n%s", got, wantJSON)
	}
}

// TestBuildParallel builds a report over enough probes to be measured on several
// goroutines and checks it is the one a single goroutine builds, and that a probe whose
// terms cannot be read fails the report with the same error either way.
func TestBuildParallel(t *testing.T) {
	g := storetest.NewGenerator(3, 7)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var ps []probe.Probe
	for i := range 1500 {
		rec := g.Record("P"+strconv.Itoa(i+1), start.Add(time.Duration(i)*3*time.Minute))
		for _, r := range rec.Replies {
			rec.Probe.Replies = append(rec.Probe.Replies, r.Reply)
		}
		ps = append(ps, rec.Probe)
	}
	opts := Options{Since: start, Until: start.Add(7 * 24 * time.Hour), Now: start.Add(8 * 24 * time.Hour)}
	build := func(procs int, ps []probe.Probe) (string, error) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		r, err := Build(ps, nil, opts)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(r)
		return string(b), err
	}
	one, err := build(1, ps)
	if err != nil {
		t.Fatal(err)
	}
	four, err := build(4, ps)
	if err != nil {
		t.Fatal(err)
	}
	if one != four {
		t.Errorf("report built on 4 goroutines differs from the one built on 1")
	}
	bad := slices.Clone(ps)
	bad[1100].Terms.Hours.Zone = "Mars/Olympus"
	bad[1400].Terms.Hours.Zone = "Venus/Maxwell"
	_, err1 := build(1, bad)
	_, err4 := build(4, bad)
	if err1 == nil || err4 == nil || err1.Error() != err4.Error() {
		t.Errorf("bad terms: error on 1 goroutine %v, on 4 %v; want the same error", err1, err4)
	}
}

// TestReviewAnsweredIfPerson checks AnsweredIfPerson, which measures again only the
// probes with a waiting reply, against probe.Compute over every probe with every
// waiting reply taken as a person's answer.
func TestReviewAnsweredIfPerson(t *testing.T) {
	g := storetest.NewGenerator(5, 4)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	var ps, alt []probe.Probe
	waiting := 0
	for i := range 600 {
		rec := g.Record("P"+strconv.Itoa(i+1), start.Add(time.Duration(i)*15*time.Minute))
		p := rec.Probe
		for _, r := range rec.Replies {
			p.Replies = append(p.Replies, r.Reply)
		}
		// Every fifth probe's replies wait for review (an ack, an answer, or both).
		a := p
		if i%5 == 0 && len(p.Replies) > 0 {
			p.Replies, a.Replies = slices.Clone(p.Replies), slices.Clone(p.Replies)
			for j := range p.Replies {
				p.Replies[j].Override = &probe.Override{Kind: probe.KindNeedsReview}
				a.Replies[j].Override = &probe.Override{Kind: probe.KindHuman}
				waiting++
			}
		}
		ps, alt = append(ps, p), append(alt, a)
	}
	now := start.Add(8 * 24 * time.Hour)
	r, err := Build(ps, nil, Options{Since: start, Until: start.Add(7 * 24 * time.Hour), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	f, err := probe.Compute(alt, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Review.Replies != waiting || r.Review.AnsweredIfPerson == nil || *r.Review.AnsweredIfPerson != f.Answered {
		t.Errorf("Review = %d replies, answered if a person's %v; want %d replies, %d answered", r.Review.Replies, r.Review.AnsweredIfPerson, waiting, f.Answered)
	}
	if f.Answered == r.Totals.Answered {
		t.Errorf("taking the waiting replies as a person's answers changes nothing (%d answered): the test proves nothing", f.Answered)
	}
}
