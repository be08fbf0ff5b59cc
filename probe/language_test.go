package probe

import "testing"

func TestDetectLanguage(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"english", "Hi Lin, thanks for reaching out. We have restarted the service and the dashboard should load again. Regards, Dana", "en"},
		{"chinese simplified", "您好，我们已经收到您的问题，工程师正在排查数据库连接故障，请稍候。", "zh"},
		{"chinese traditional", "您好，我們已經收到您的問題，工程師正在排查資料庫連線故障，請稍候。", "zh"},
		{"japanese with kana", "お問い合わせありがとうございます。担当者が確認しておりますので、しばらくお待ちください。", "ja"},
		{"japanese mostly kanji", "東京本社技術部担当者確認済です。明日再連絡いたします。", "ja"},
		{"korean", "안녕하세요. 문의해 주셔서 감사합니다. 담당자가 확인 후 연락드리겠습니다.", "ko"},
		{"german", "Hallo Herr Lin, vielen Dank für Ihre Anfrage. Wir haben das Problem geprüft und es ist nicht mehr reproduzierbar. Mit freundlichen Grüßen", "de"},
		{"french", "Bonjour, merci pour votre message. Nous avons vérifié le problème et il est résolu. Cordialement, le support", "fr"},
		{"spanish", "Hola, gracias por su mensaje. Hemos revisado el problema y los servicios funcionan de nuevo. Saludos cordiales", "es"},
		{"italian", "Buongiorno, grazie per la segnalazione. Abbiamo verificato il problema e non si ripresenta. Cordiali saluti", "it"},
		{"dutch", "Hallo, bedankt voor uw bericht. Wij hebben het probleem opgelost en de dienst is weer beschikbaar. Met vriendelijke groet", "nl"},
		{"portuguese", "Olá, obrigado pelo contato. Você já pode acessar o painel, o problema não ocorre mais. Atenciosamente", "pt"},
		{"russian", "Здравствуйте, спасибо за обращение. Мы проверили проблему и уже исправили её.", "ru"},
		{"english quoting chinese", "Hi Lin, the error you quoted (数据库连接失败) means the database refused the connection. Please restart the agent and send us the log if it happens again.", "en"},
		{"chinese with english product names", "您好，关于 Microsoft Azure SQL Database 的连接问题，我们已经重启了 Gateway 服务，请您再试一次。", "zh"},
		{"links do not count", "谢谢，已处理 https://status.example.com/incidents/very-long-english-looking-path support@example.com", ""},
		{"too short latin", "Thanks, will do.", ""},
		{"too short chinese", "收到，谢谢", ""},
		{"latin without a winner", "Lorem ipsum dolor sit amet consectetur adipiscing elit", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectLanguage(tt.text); got != tt.want {
				t.Errorf("DetectLanguage(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestStopwordsDistinct keeps the stopword lists honest: a word in two lists would be
// evidence for neither.
func TestStopwordsDistinct(t *testing.T) {
	seen := map[string]string{}
	for lang, words := range stopwords {
		for _, w := range words {
			if other, ok := seen[w]; ok && other != lang {
				t.Errorf("stopword %q is listed for both %s and %s", w, other, lang)
			}
			seen[w] = lang
		}
	}
}

func TestLanguageMatches(t *testing.T) {
	tests := []struct {
		asked, got string
		want       bool
	}{
		{"en", "en", true},
		{"EN-us", "en", true},
		{"zh-CN", "zh", true},
		{"zh-TW", "zh", true},
		{"zh-Hant", "zh", true},
		{"zh_HK", "zh", true},
		{"zh", "en", false},
		{"ja", "zh", false},
		{"de", "", false}, // unknown: not a match, and callers do not count it as a mismatch
		{"", "en", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got := LanguageMatches(tt.asked, tt.got); got != tt.want {
			t.Errorf("LanguageMatches(%q, %q) = %v, want %v", tt.asked, tt.got, got, tt.want)
		}
	}
}
