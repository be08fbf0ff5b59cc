package mailbox

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NewText returns the part of a message's text that its sender wrote for this message,
// dropping what it quotes or carries along from the thread. text is decoded plain text
// (HTML already converted, blockquotes as "> " lines); the result is trimmed, with
// trailing spaces removed from each line and runs of blank lines squeezed to one. It is
// never longer than text. The rules, in order:
//
//  1. A help-desk marker ("##- Please type your reply above this line -##",
//     "-- Reply above this line --", "请在此行以上回复", …) splits the text. If anything
//     but quotes and blank lines stands above the marker, that is the new text. If the
//     marker is at the top (Zendesk puts it first and the newest comment right below),
//     the text below is cut into blocks at separator lines (10 or more '-', '_', '=' or
//     '*') and the first non-empty block is the new text; when that block is only the
//     help desk's "Your request (123) has been updated" notice, the block after it (the
//     newest comment) is kept with it. A "has been received" notice stays alone, because
//     the block after it is the customer's own message.
//  2. The text is cut at the first line that starts the thread history: an attribution
//     ("On Fri, 5 Jan 2024 at 10:31, Ann <ann@example.com> wrote:", also wrapped over up
//     to three lines; "在 2024年1月5日 10:31，张三 写道：", "… 於 … 寫道：", "Am … schrieb …:",
//     "Le … a écrit :", "El … escribió:", "Op … schreef …:"; a bare "Ann wrote:" only
//     when quoted lines follow), a separator ("-----Original Message-----",
//     "-----原始邮件-----", "---------- Forwarded message ---------", "Begin forwarded
//     message:", the copy in a qmail or Exim bounce), an Outlook header block ("From: …"
//     with "Sent: …" or "Date: …" on it or within the next four lines; "发件人:" with
//     "发送时间:"; "Von:", "De :" …), or a line of 20 or more '_' followed by such a
//     "From:" line. Exception: when nothing stands above an attribution and unquoted
//     text follows the quoted lines under it, the reply was written below or between
//     the quotes; then only the attribution is dropped.
//  3. Lines starting with '>' are dropped.
//  4. The text is cut at a signature separator ("-- " or "--" alone on a line).
func NewText(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	lines = afterMarker(lines)
	lines = beforeHistory(lines)
	kept := lines[:0:0]
	for _, l := range lines {
		if isQuoteLine(l) {
			continue
		}
		if isSignatureSeparator(l) {
			break
		}
		kept = append(kept, l)
	}
	return tidyLines(kept)
}

// tidyLines joins lines, removing trailing white space from each, squeezing runs of blank
// lines to one and trimming the result.
func tidyLines(lines []string) string {
	var b strings.Builder
	blank := 0
	started := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0\u3000")
		if strings.TrimSpace(l) == "" {
			blank++
			continue
		}
		if started {
			b.WriteByte('\n')
			if blank > 0 {
				b.WriteByte('\n')
			}
		}
		blank = 0
		started = true
		b.WriteString(l)
	}
	return strings.TrimSpace(b.String())
}

func hasLetterOrDigit(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func isQuoteLine(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

func isSignatureSeparator(l string) bool {
	return l == "-- " || strings.TrimRight(l, " \t") == "--"
}

func isBlankOrQuote(lines []string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) != "" && !isQuoteLine(l) {
			return false
		}
	}
	return true
}

// maxHeaderLine bounds the lines the attribution and separator patterns look at: the real
// ones are short, and it keeps the regular expressions from crawling over long lines.
const maxHeaderLine = 400

var (
	markerEN = regexp.MustCompile(`(?i)(reply|respond|write|type)\b.*\babove (this|the) line|above this line.*\b(reply|respond)`)
	markerZH = regexp.MustCompile(`(此行|此线|此線|本行|该行|該行)(以上|上方)`)
	// markerFramed is Zendesk's marker line whatever its language.
	markerFramed = regexp.MustCompile(`^\s*##-\s.{4,120}\s-##\s*$`)
	// markerOther is "above this line" in German, French, Spanish, Portuguese, Italian,
	// Dutch, Swedish, Danish, Norwegian, Polish, Russian, Turkish, Japanese and Korean.
	markerOther = regexp.MustCompile(`(?i)(?:über|oberhalb) dieser (?:zeile|linie)|au-dessus de cette ligne|(?:por )?encima de esta línea|acima desta linha|sopra questa (?:riga|linea)|boven deze (?:regel|lijn)|ovanför (?:denna|den här) (?:rad|linje)|over denne linje|powyżej tej linii|выше этой (?:строки|линии)|bu satırın üst|この行より上|이 줄 위`)

	// separatorLine separates comments in help-desk notifications.
	separatorLine = regexp.MustCompile(`^\s*(?:[-_=*]\s*){10,}$`)

	updatedNotice = regexp.MustCompile(`(?i)has been updated|has a new (comment|reply|response)|se ha actualizado|(?:リクエスト|チケット|お問い合わせ)[^。\n]{0,20}?更新されました|업데이트되었습니다|wurde aktualisiert|a été mise? à jour|ha sido actualizad[oa]|foi atualizad[oa]|è stat[oa] aggiornat[oa]|is bijgewerkt|har uppdaterats|została zaktualizowana|был[оа]? обновлен[оа]?|已更新|已被更新|有新的?回复|有新的?回覆`)
)

func isMarker(l string) bool {
	if len(l) > maxHeaderLine {
		return false
	}
	if strings.Contains(strings.ToLower(l), "above") && markerEN.MatchString(l) {
		return true
	}
	// Zendesk frames its marker "##- … -##" in every language it speaks; other desks
	// say "above this line" in the requester's language.
	if markerFramed.MatchString(l) || len(l) <= 160 && markerOther.MatchString(l) {
		return true
	}
	return strings.ContainsAny(l, "此本该該") && markerZH.MatchString(l)
}

// endsWithColon reports whether s ends with a colon, as every attribution does; it
// spares most lines the regular expressions.
func endsWithColon(s string) bool {
	return strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：")
}

// afterMarker applies rule 1 of NewText.
func afterMarker(lines []string) []string {
	at := -1
	for i, l := range lines {
		if isMarker(l) {
			at = i
			break
		}
	}
	if at < 0 {
		return lines
	}
	// A marker often comes with a rule drawn above it ("—-—-—-—"); a rule alone above
	// the marker is not text written above it (Jira Service Management puts the rule
	// and the marker first, the newest comment below).
	above := lines[:at]
	for len(above) > 0 && !hasLetterOrDigit(above[len(above)-1]) {
		above = above[:len(above)-1]
	}
	if !isBlankOrQuote(above) {
		return above
	}
	var blocks [][]string
	cur := []string{}
	for _, l := range lines[at+1:] {
		if separatorLine.MatchString(l) || isMarker(l) {
			blocks = append(blocks, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, l)
	}
	blocks = append(blocks, cur)
	for i, b := range blocks {
		if isBlankOrQuote(b) {
			continue
		}
		if updatedNotice.MatchString(strings.Join(b, " ")) {
			for _, next := range blocks[i+1:] {
				if !isBlankOrQuote(next) {
					out := append(append(b[:len(b):len(b)], ""), next...)
					return out
				}
			}
		}
		return b
	}
	return nil
}

var (
	attributionStart = regexp.MustCompile(`^(?:On|Am|Le|El|Op|Il|Em|W dniu)\s|^在|[于於]`)
	attributionFull  = regexp.MustCompile(`(?i)^on\s.*\bwrote\s*:$|` +
		`^在.*[写寫]道\s*[:：]$|[于於].*[写寫]道\s*[:：]$|` +
		`^Am\s.*\bschrieb\b.*:$|` +
		`^Le\s.*\sa\s+écrit\s*:$|` +
		`^El\s.*\sescribió\s*:$|` +
		`^Op\s.*\sschreef\b.*:$|` +
		`^Il\s.*\sha scritto\s*:$|` +
		`^Em\s.*\sescreveu\s*:$`)
	// attributionLoose is an attribution without a date ("Ann wrote:", "张三写道：");
	// trusted only above quoted lines.
	attributionLoose = regexp.MustCompile(`(?i)\bwrote\s*:$|[写寫]道\s*[:：]$|\bschrieb\s*:$|a écrit\s*:$|escribió\s*:$`)

	// recapHeading is a help desk's heading above its copy of the conversation, in a
	// survey, a reminder or a status notice ("Here's a reminder of what your request
	// was about:", "Conversation history:", "Your original request:", "Previous
	// comment from Priyanka Das (Dec 7, 2026 07:33):", "-------- Last reply from Tom
	// --------"): the lines below were written before this message.
	recapHeading     = regexp.MustCompile(`(?i)^\s*(?:[-=_*—–]{2,}\s*)?(?:here(?:'s| is) a reminder of what (?:your|this) (?:request|ticket|case|conversation|question) was about|(?:(?:the|your) )?(?:ticket|request|case|conversation|message) (?:history|thread|transcript)|(?:previous|earlier|recent) (?:messages|correspondence|comments|conversation)|(?:your|the) original (?:request|message|question|ticket)(?: (?:from|by) [^:：\n]{1,60}?)?(?: \([^)\n]{0,40}\))?|original (?:request|message|question) (?:from|by) [^:：\n]{1,60}?(?: \([^)\n]{0,40}\))?|(?:a )?(?:copy|summary) of your (?:request|message|ticket|question)|ihre ursprüngliche (?:anfrage|nachricht)|verlauf(?: der anfrage)?|votre (?:demande|message) (?:initial(?:e)?|d'origine)|historique de la (?:demande|conversation)|(?:su|tu) (?:solicitud|mensaje) original|historial de la (?:solicitud|conversación)|(?:原始|您的)?(?:工单|工單)?(?:对话|對話)?(?:历史|歷史)(?:记录|記錄)?|her er en påmindelse om[^:：\n]{0,60}|här är en påminnelse om[^:：\n]{0,60}|her er en påminnelse om[^:：\n]{0,60}|hier is een herinnering[^:：\n]{0,60}|hier ist eine erinnerung[^:：\n]{0,60}|voici un rappel[^:：\n]{0,60}|aquí tiene un recordatorio[^:：\n]{0,60}|ecco un promemoria[^:：\n]{0,60}|(?:previous|earlier|prior|last) (?:reply|replies|comment|comments|response|message|update|answer)(?: (?:from|by) [^:：\n]{1,60}?)?(?: \([^)\n]{0,40}\))?|(?:vorherige|letzte|frühere) (?:antwort|nachricht|kommentar)(?: von [^:：\n]{1,60}?)?|(?:dernière|précédente) (?:réponse|message|commentaire)(?: de [^:：\n]{1,60}?)?|(?:última|anterior|respuesta anterior|comentario anterior)(?: (?:respuesta|resposta|comentario|comentário|mensaje|mensagem))?(?: de [^:：\n]{1,60}?)?|(?:ultima|precedente) (?:risposta|messaggio|commento)(?: di [^:：\n]{1,60}?)?)(?:\s*[:：]|\s*[-=_*—–]{2,})\s*$`)
	historySeparator = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|原始邮件|原始郵件|原邮件|原郵件|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|转发邮件|轉寄郵件)\s*-{2,}\s*$|(?i)^\s*begin forwarded message\s*:\s*$|(?i)^\s*-*\s*(below this line is a copy of the message|this is a copy of the message, including all the headers)\.?\s*-*\s*$`)

	fromField = regexp.MustCompile(`(?i)^\s*\*?\s*(from|von|de|da|van|发件人|寄件者|發件人)\s*\*?\s*[:：]`)
	sentField = regexp.MustCompile(`(?i)^\s*\*?\s*(sent|date|gesendet|datum|envoyé|enviado|fecha|inviato|data|verzonden|发送时间|發送時間|日期|时间|時間|寄件日期|发送日期)\s*\*?\s*[:：]`)

	// sentInline is a "Sent:" on the "From:" line itself, where a converter lost the
	// line breaks.
	sentInline = regexp.MustCompile(`(?i)\s\*?(sent|date|gesendet|envoyé|enviado|发送时间|發送時間|寄件日期)\s*\*?\s*[:：]`)

	underscoreLine = regexp.MustCompile(`^\s*_{20,}\s*$`)
)

// beforeHistory applies rule 2 of NewText.
func beforeHistory(lines []string) []string {
	for i := range lines {
		n := historyStart(lines, i)
		if n == 0 {
			continue
		}
		if isAttribution(lines, i) && isBlankOrQuote(lines[:i]) {
			if rest, ok := belowQuotes(lines[i+n:]); ok {
				return rest
			}
		}
		return lines[:i]
	}
	return lines
}

// belowQuotes returns lines without their quotes when a reply was written below or
// between quoted lines: quoted lines come first and unquoted text follows them.
func belowQuotes(lines []string) ([]string, bool) {
	sawQuote := false
	for i, l := range lines {
		switch {
		case strings.TrimSpace(l) == "":
		case isQuoteLine(l):
			sawQuote = true
		case !sawQuote:
			return nil, false
		default:
			out := []string{}
			for _, l := range lines[i:] {
				if !isQuoteLine(l) {
					out = append(out, l)
				}
			}
			return beforeHistory(out), true
		}
	}
	return nil, false
}

// historyStart reports how many lines starting at lines[i] open the thread history, or 0.
func historyStart(lines []string, i int) int {
	l := lines[i]
	if len(l) > maxHeaderLine || strings.TrimSpace(l) == "" {
		return 0
	}
	if n := attributionLines(lines, i); n > 0 {
		return n
	}
	if historySeparator.MatchString(l) || recapHeading.MatchString(l) {
		return 1
	}
	if fromField.MatchString(l) && (sentInline.MatchString(l) || sentFollows(lines, i)) {
		return 1
	}
	if underscoreLine.MatchString(l) {
		if j := nextNonBlank(lines, i+1); j >= 0 && fromField.MatchString(lines[j]) {
			return 1
		}
	}
	return 0
}

func isAttribution(lines []string, i int) bool {
	return attributionLines(lines, i) > 0
}

// attributionLines reports how many lines (1 to 3) starting at lines[i] make an
// attribution, or 0.
func attributionLines(lines []string, i int) int {
	first := strings.TrimSpace(lines[i])
	if attributionStart.MatchString(first) {
		joined := first
		for k := 0; k < 3 && i+k < len(lines); k++ {
			if k > 0 {
				next := strings.TrimSpace(lines[i+k])
				if next == "" || len(next) > maxHeaderLine || isQuoteLine(next) {
					break
				}
				joined = joinWrapped(joined, next)
			}
			if endsWithColon(joined) && attributionFull.MatchString(joined) {
				return k + 1
			}
		}
	}
	if endsWithColon(first) && attributionLoose.MatchString(first) && utf8.RuneCountInString(first) <= 200 {
		if j := nextNonBlank(lines, i+1); j >= 0 && isQuoteLine(lines[j]) {
			return 1
		}
	}
	return 0
}

// joinWrapped joins a line wrapped by the sender's client with its continuation: with a
// space, unless both sides of the break are CJK text.
func joinWrapped(a, b string) string {
	r1, _ := utf8.DecodeLastRuneInString(a)
	r2, _ := utf8.DecodeRuneInString(b)
	if r1 >= 0x2e80 && r2 >= 0x2e80 {
		return a + b
	}
	return a + " " + b
}

func sentFollows(lines []string, i int) bool {
	for k := i + 1; k < len(lines) && k <= i+4; k++ {
		if len(lines[k]) <= maxHeaderLine && sentField.MatchString(lines[k]) {
			return true
		}
	}
	return false
}

func nextNonBlank(lines []string, from int) int {
	for j := from; j < len(lines); j++ {
		if strings.TrimSpace(lines[j]) != "" {
			return j
		}
	}
	return -1
}
