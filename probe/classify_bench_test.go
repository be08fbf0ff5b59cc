package probe

import (
	"strings"
	"testing"
)

// BenchmarkClassifyLarge classifies a mail with 240 KB of new text. Classify reads only
// the first 2 KiB of it; before that bound one such mail took about 1.5 s here and held
// up every message behind it. Compare with BenchmarkClassifyTypical:
//
//	go test -run '^$' -bench Classify ./probe/
func BenchmarkClassifyLarge(b *testing.B) {
	m := Mail{From: "dana@acme.example", Subject: "Re: outage",
		NewText: strings.Repeat("hello world this is a line of text that goes on\n", 5000)}
	for range b.N {
		Classify(m, nil)
	}
}

// BenchmarkClassifyTypical classifies an agent's answer of a few lines.
func BenchmarkClassifyTypical(b *testing.B) {
	m := Mail{From: "dana@acme.example", Subject: "Re: outage", NewText: "Hi Lin,\n\nWe moved your ingest to a healthy node; new streams should start again. Could you confirm?\n\nDana"}
	for range b.N {
		Classify(m, nil)
	}
}

// BenchmarkClassifyFirst is BenchmarkClassifyTypical's mail classified by a process
// that has classified nothing before: the phrases its text reaches are compiled on the
// way (phrase.compiled), which the package no longer does when it loads. Each
// iteration forgets every compiled phrase first (outside the timing).
func BenchmarkClassifyFirst(b *testing.B) {
	m := Mail{From: "dana@acme.example", Subject: "Re: outage", NewText: "Hi Lin,\n\nWe moved your ingest to a healthy node; new streams should start again. Could you confirm?\n\nDana"}
	for range b.N {
		b.StopTimer()
		for _, ps := range allPhraseSets() {
			for _, p := range ps {
				*p.lazy = lazyRegexp{}
			}
		}
		*formFieldRe = lazyRegexp{pattern: formFieldRe.pattern}
		b.StartTimer()
		Classify(m, nil)
	}
}
