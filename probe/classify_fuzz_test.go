package probe

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The tags DetectLanguage documents, and a rule as a vendor's configuration writes one.
var (
	detectedLanguages = []string{"zh", "ja", "ko", "ru", "el", "ar", "th", "en", "de", "fr", "es", "it", "nl", "pt"}
	agentSubject      = regexp.MustCompile(`(?i)^re:`)
)

// FuzzClassify runs Classify and DetectLanguage on arbitrary header values and text,
// which come straight from a vendor's mail: nothing may panic, every classification has
// a known kind and a reason, and the language is "" or a tag DetectLanguage documents.
func FuzzClassify(f *testing.F) {
	f.Add("Re: Streams failing", "support@acme.example", "auto-replied", "Thank you, we have received your request.", "")
	f.Add("自动回复：已收到", "noreply@lotus.example", "", "您好，我们已收到您的邮件，工单号 #4711。", "bulk")
	f.Add("Undelivered Mail Returned to Sender", "mailer-daemon@acme.example", "", "550 5.1.1 user unknown", "")
	f.Add("Out of Office", "dana@acme.example", "auto-generated", "I am out of the office until Monday.\n> quoted", "")
	f.Add("", "", "", "", "")
	f.Add("\x00\xff", "\xfe", "\r\n", strings.Repeat("> ", 1000), "\x00")
	f.Add("Event", "no-reply@provider.example", "", `[{"event":"bounce","email":"a@b.example"}]`, "")
	f.Add("Re: x", "tom@acme.example", "", "感谢您的来信，"+strings.Repeat("，", 500)+"我们支持。", "")
	f.Fuzz(func(t *testing.T, subject, from, autoSubmitted, text, precedence string) {
		m := Mail{Subject: subject, From: from, NewText: text, FullText: text,
			Header: map[string][]string{"Auto-Submitted": {autoSubmitted}, "Precedence": {precedence}, "X-Autoreply": {autoSubmitted}}}
		for _, rules := range [][]Rule{nil, {{Name: "agents", From: "@acme.example", Subject: agentSubject, Kind: KindHuman}}} {
			c := Classify(m, rules)
			if !slices.Contains(Kinds, c.Kind) || c.Reason == "" {
				t.Fatalf("Classify(subject %q, text %q) = %+v, want a known kind and a reason", subject, text, c)
			}
			if c.Confidence < 0 || c.Confidence > 1 || (c.Kind == KindNeedsReview) != (c.Confidence < ReviewThreshold) {
				t.Fatalf("Classify(subject %q, text %q) = %+v, want a confidence in [0,1], below ReviewThreshold exactly for needs_review", subject, text, c)
			}
		}
		if utf8.ValidString(text) {
			if lang := DetectLanguage(text); lang != "" && !slices.Contains(detectedLanguages, lang) {
				t.Fatalf("DetectLanguage(%q) = %q, not a documented tag", text, lang)
			}
		}
	})
}
