package report

import (
	"encoding/json"
	"slices"
	"testing"

	"supportprobe/probe"
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
