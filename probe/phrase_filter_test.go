package probe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// allPhraseSets are the phrase lists the classifier searches.
func allPhraseSets() map[string][]phrase {
	return map[string][]phrase{
		"ack": ackPhrases, "subjectAck": subjectAckPhrases, "template": templatePhrases,
		"notice": noticePhrases, "routed": routedPhrases, "promo": promoPhrases,
		"survey": surveyPhrases, "verify": verifyPhrases, "unread": unreadPhrases,
		"absence": personalAbsence, "urgent": urgentPhrases, "redirect": redirectPhrases,
		"teamAway": teamAwayPhrases, "cues": humanCues, "update": updatePhrases,
		"notification": notificationPhrases, "sales": salesPhrases,
	}
}

// TestPhraseKeysNeverHideAMatch checks the literal filter in front of every phrase
// (requiredLiterals, mayMatch): on every message of the corpus, whole (and line by line
// for anchored patterns), in its own case and upper-cased, a phrase whose pattern matches must never
// have been skipped for lacking its keys. A key wrongly required would silently turn
// a phrase off for some texts. Under the race detector an eighth of the corpus is
// checked; `go test ./probe` checks all of it.
func TestPhraseKeysNeverHideAMatch(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "corpus", "*", "*.eml"))
	if err != nil || len(files) < 100 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	var texts []string
	for i, f := range files {
		if raceDetector && i%8 != 0 {
			continue // an eighth under the race detector, which makes this check 10× slower
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		texts = append(texts, s, strings.ToUpper(s))
	}
	// Folding that lower-casing gets wrong: the final sigma, the Kelvin sign.
	texts = append(texts, "ΕΊΜΑΙ ΕΚΤΌΣ ΓΡΑΦΕΊΟΥ", "είμαι εκτός γραφείου", "\u212Aindly note: your ticket has been created")
	keyed, matched := 0, 0
	for name, ps := range allPhraseSets() {
		for i, p := range ps {
			if p.keys != nil {
				keyed++
			}
			for _, text := range texts {
				pieces := []string{text}
				if strings.ContainsAny(p.re, "^$") {
					// Anchored patterns match single lines, as sentences are tried.
					pieces = append(pieces, strings.Split(text, "\n")...)
				}
				for _, piece := range pieces {
					if !p.compiled().MatchString(piece) {
						continue
					}
					matched++
					if !p.mayMatch(foldCase(piece)) {
						t.Fatalf("%s[%d] %.60q matches %.80q but its keys %q say it cannot", name, i, p.re, piece, p.keys)
					}
				}
			}
		}
	}
	if keyed < 100 || matched == 0 {
		t.Errorf("%d phrases have keys and %d matches were checked; the filter or the test is not working", keyed, matched)
	}
}

// TestRequiredLiterals pins what the literal extraction finds on patterns of each shape.
func TestRequiredLiterals(t *testing.T) {
	for _, tc := range []struct {
		re   string
		want []string // nil: no keys (always run)
	}{
		{`(?i)\bwe have received your (?:request|e-?mail)`, []string{"we have received your "}},
		{`(?i)ticket (?:created|opened)|case (?:logged)`, []string{"case logged", "ticket "}},
		{`(?i)(?:dear )?customer`, []string{"customer"}},
		// The longest required literal keys the phrase, not the first.
		{`(?i)(?:messaggio|e-?mail|mail) automatico`, []string{" automatico"}},
		{`(?i)e-?mail`, []string{"mail"}},
		// With nothing required but an optional piece, it joins what follows.
		{`(?i)(?:dear )?\w+`, nil},
		// A piece without literals is passed over: a match still contains what follows.
		{`(?i)[a-z]+ has been closed`, []string{" has been closed"}},
		{`(?i)\p{L}{2,}rá`, []string{"rá"}},
		{`(?i)(?:^|[^\p{L}])(?:corrigi|resolvi)(?:$|[^\p{L}])`, []string{"corrigi", "resolvi"}},
		{`(?i)^\s*status:`, []string{"status:"}},
		// Nothing required: an alternation one of whose branches has no literal.
		{`(?i)[?？]|\d+`, nil},
	} {
		got := requiredLiterals(tc.re)
		if strings.Join(got, "|") != strings.Join(foldAll(tc.want), "|") {
			t.Errorf("requiredLiterals(%q) = %q, want %q", tc.re, got, foldAll(tc.want))
		}
	}
}

func foldAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, foldCase(s))
	}
	return out
}
