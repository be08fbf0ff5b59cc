package probe

import (
	"strings"
	"unicode"
)

// Reply language: whether a vendor answers in the language it was asked in.
//
// DetectLanguage is deliberately small and dependency-free: it decides by the share of
// letters in each Unicode script, and for Latin-script text by counting a few
// unambiguous function words. That is enough for the question asked here (did a
// Chinese inquiry get a Chinese answer, a German one a German answer), not a general
// language identifier; anything it cannot tell is "" (unknown), never a guess.

// minLetters is the least weight of letters DetectLanguage decides on; shorter text
// ("Thanks!", "收到") is unknown.
const minLetters = 20

// cjkLetters is how many Latin letters one Han, kana or Hangul rune counts as when
// scripts compete: a CJK rune carries about a word's worth of text, a Latin letter a
// fraction of one, so counting runes one for one would let a few English product
// names outvote a Chinese sentence.
const cjkLetters = 2

// kanaShare is the share of kana among Han and kana runes from which CJK text is
// Japanese: Japanese prose is a third or more kana, while Chinese text has none beyond
// an odd borrowed の.
const kanaShare = 0.1

// stopwords are frequent function words of each language that are rare in the others
// listed; words common to several (de, la, e, a, en, in, il, es, ...) are left out, so
// a hit is evidence for one language.
var stopwords = map[string][]string{
	"en": {"the", "and", "you", "your", "are", "will", "have", "this", "that", "with", "for", "please", "thank", "thanks", "of", "to", "our", "be", "can", "regards", "hello", "hi"},
	"de": {"der", "das", "und", "nicht", "ist", "sie", "ihr", "ihre", "ihnen", "wir", "ich", "mit", "für", "bitte", "danke", "ein", "eine", "auf", "zu", "den", "dem", "sind", "haben", "grüße", "gerne", "hallo"},
	"fr": {"le", "les", "et", "vous", "votre", "nous", "est", "pour", "avec", "une", "des", "du", "pas", "merci", "bonjour", "cordialement", "sont", "ce", "cette", "je", "sur", "dans", "au"},
	"es": {"el", "los", "las", "y", "usted", "ustedes", "su", "sus", "por", "gracias", "hola", "saludos", "atentamente", "muy", "estamos", "nuestro", "favor", "este", "pero", "cuando"},
	"it": {"gli", "non", "per", "sono", "della", "delle", "nel", "alla", "grazie", "buongiorno", "cordiali", "saluti", "lei", "suo", "siamo", "abbiamo", "questo", "che", "anche", "ho"},
	"nl": {"het", "een", "niet", "u", "uw", "wij", "zijn", "voor", "bedankt", "dank", "groet", "groeten", "van", "dat", "ook", "hebben", "graag", "ik"},
	"pt": {"você", "vocês", "não", "obrigado", "obrigada", "olá", "atenciosamente", "com", "uma", "os", "seu", "nós", "são", "pelo", "pela", "também", "isso", "muito"},
}

// stopwordLang maps each stopword to its language.
var stopwordLang = func() map[string]string {
	m := map[string]string{}
	for lang, words := range stopwords {
		for _, w := range words {
			m[w] = lang
		}
	}
	return m
}()

// DetectLanguage returns the language of text as a lowercase ISO 639-1 code, or ""
// when it cannot tell (too little text, or Latin-script text with no clear winner).
//
// Letters are counted by script, URLs and e-mail addresses left out; Han, kana and
// Hangul runes count cjkLetters times. The script with the largest weighted share wins,
// which resolves mixed text: an English answer quoting a Chinese error message is
// English, a Chinese answer naming English products is Chinese. Han with kanaShare or
// more kana is "ja", otherwise "zh"; Hangul is "ko", Cyrillic "ru", Greek "el", Arabic
// "ar", Thai "th". Latin text is told apart among en, de, fr, es, it, nl and pt by
// counting stopwords; a tie or fewer than two hits is "".
func DetectLanguage(text string) string {
	var han, kana, hangul, latin, cyrillic, greek, arabic, thai int
	var words []string // the Latin-script text, for stopwords
	for _, field := range strings.Fields(text) {
		if strings.Contains(field, "://") || strings.Contains(field, "@") || strings.HasPrefix(strings.ToLower(field), "www.") {
			continue
		}
		for _, r := range field {
			switch {
			case unicode.Is(unicode.Han, r):
				han++
			case unicode.Is(unicode.Hiragana, r), unicode.Is(unicode.Katakana, r):
				kana++
			case unicode.Is(unicode.Hangul, r):
				hangul++
			case !unicode.IsLetter(r):
			case unicode.Is(unicode.Latin, r):
				latin++
			case unicode.Is(unicode.Cyrillic, r):
				cyrillic++
			case unicode.Is(unicode.Greek, r):
				greek++
			case unicode.Is(unicode.Arabic, r):
				arabic++
			case unicode.Is(unicode.Thai, r):
				thai++
			}
		}
		words = append(words, field)
	}
	cjk := han + kana
	scores := []struct {
		lang  string
		score int
	}{
		// Order breaks ties: the first listed wins.
		{"zh", cjkLetters * cjk}, {"ko", cjkLetters * hangul}, {"latin", latin},
		{"ru", cyrillic}, {"el", greek}, {"ar", arabic}, {"th", thai},
	}
	best, total := 0, 0
	for i, s := range scores {
		total += s.score
		if s.score > scores[best].score {
			best = i
		}
	}
	if total < minLetters {
		return ""
	}
	switch lang := scores[best].lang; lang {
	case "zh":
		if float64(kana) >= kanaShare*float64(cjk) {
			return "ja"
		}
		return "zh"
	case "latin":
		return latinLanguage(words)
	default:
		return lang
	}
}

// latinLanguage picks the language with the most stopword hits among words, or ""
// when fewer than two words hit or two languages tie.
func latinLanguage(words []string) string {
	hits := map[string]int{}
	for _, w := range words {
		w = strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }))
		if lang, ok := stopwordLang[w]; ok {
			hits[lang]++
		}
	}
	best, n, tie := "", 0, false
	for lang, c := range hits {
		switch {
		case c > n:
			best, n, tie = lang, c, false
		case c == n:
			tie = true
		}
	}
	if n < 2 || tie {
		return ""
	}
	return best
}

// BaseLanguage returns the primary subtag of a language tag, lowercased: "zh-CN",
// "zh_TW" and "zh-Hant" are all "zh", "EN-us" is "en".
func BaseLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// LanguageMatches reports whether a reply detected as got answers an inquiry asked in
// the language tagged asked, comparing primary subtags case-insensitively. An unknown
// language on either side ("") is not a match, but neither is it a mismatch: callers
// show it as unknown and leave it out of both counts.
func LanguageMatches(asked, got string) bool {
	a, g := BaseLanguage(asked), BaseLanguage(got)
	return a != "" && g != "" && a == g
}
