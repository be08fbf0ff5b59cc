package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds Parse arbitrary bytes, seeded with the messages in testdata/mail. Parse
// must not fail inside (a recovered panic comes back wrapping errInternal), every string
// it returns must be valid UTF-8, the text must respect the cap, and NewText, being cut
// from the text, must not be longer than FullText and (unless the text was truncated)
// hold no line FullText lacks.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "mail", "*.eml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, max := range []int{0, 64} {
			m, err := Parse(raw, ParseOptions{MaxText: max})
			if errors.Is(err, errInternal) {
				t.Fatalf("Parse(MaxText %d): %v", max, err)
			}
			if err != nil && !errors.Is(err, ErrNoHeader) {
				t.Fatalf("Parse(MaxText %d) error = %v, want nil or ErrNoHeader", max, err)
			}
			if m.Size != len(raw) {
				t.Errorf("Size = %d, want %d", m.Size, len(raw))
			}
			checkMailUTF8(t, m)
			if len(m.NewText) > len(m.FullText) {
				t.Errorf("len(NewText) = %d > len(FullText) = %d\nNewText: %q\nFullText: %q",
					len(m.NewText), len(m.FullText), m.NewText, m.FullText)
			}
			if !m.Truncated {
				for _, l := range strings.Split(m.NewText, "\n") {
					if !strings.Contains(m.FullText, l) {
						t.Errorf("NewText line %q is not in FullText %q", l, m.FullText)
					}
				}
			}
			limit := max
			if limit == 0 {
				limit = DefaultMaxText
			}
			if len(m.FullText) > limit {
				t.Errorf("MaxText %d: len(FullText) = %d", max, len(m.FullText))
			}
		}
	})
}
