package probe

import (
	"regexp"
	"sync"
	"testing"
)

// compiledAtInit is how many phrases had their regular expression compiled when the
// package (and this file's variables, after the phrase lists they depend on) finished
// initialising: none should be.
var compiledAtInit, totalPhrases = countCompiled()

// countCompiled returns how many phrases of every list have been compiled, and how many
// phrases there are.
func countCompiled() (compiled, total int) {
	for _, ps := range allPhraseSets() {
		for _, p := range ps {
			total++
			if p.lazy.re != nil {
				compiled++
			}
		}
	}
	return compiled, total
}

// TestEveryPhraseCompiles compiles every phrase and lazily compiled pattern, so a bad
// one fails here rather than on the first text that reaches it in a running daemon
// (the syntax is checked when the package loads, but not the whole compilation).
func TestEveryPhraseCompiles(t *testing.T) {
	n := 0
	for name, ps := range allPhraseSets() {
		for i, p := range ps {
			if _, err := regexp.Compile(`(?i)` + p.re); err != nil {
				t.Errorf("%s[%d] %q: %v", name, i, p.re, err)
			}
			n++
		}
	}
	for _, l := range []*lazyRegexp{formFieldRe} {
		if _, err := regexp.Compile(l.pattern); err != nil {
			t.Errorf("%q: %v", l.pattern, err)
		}
	}
	if n < 100 {
		t.Errorf("only %d phrases found; allPhraseSets misses lists", n)
	}
}

// TestPhrasesCompileOnFirstUse checks that loading the package compiles no phrase, and
// that classifying a person's short answer compiles only the phrases whose keys the text
// holds (the others, and those without keys, as needed), from several goroutines at once
// (run with -race).
func TestPhrasesCompileOnFirstUse(t *testing.T) {
	if c, total := compiledAtInit, totalPhrases; c != 0 {
		t.Fatalf("%d of %d phrases compiled when the package loaded, want none", c, total)
	}
	before, _ := countCompiled()
	m := Mail{From: "dana@acme.example", Subject: "Re: outage", NewText: "Hi Lin,\n\nWe moved your ingest to a healthy node; new streams should start again. Could you confirm?\n\nDana"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { Classify(m, nil) })
	}
	wg.Wait()
	c, total := countCompiled()
	if before > 0 {
		// Another test compiled phrases first (TestPhraseKeysNeverHideAMatch runs
		// every one): only the check at load time above tells anything.
		return
	}
	t.Logf("after classifying one short answer: %d of %d phrases compiled", c, total)
	if c == 0 || c >= total {
		t.Errorf("%d of %d phrases compiled after one classification; want some, not all", c, total)
	}
}
