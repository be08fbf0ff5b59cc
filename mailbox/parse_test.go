package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"supportprobe/probe"
)

// probeID is the Message-ID of the inquiry the test messages answer.
const probeID = "20240105100312.K7F3Q9@probe.example"

func mustParseFile(t *testing.T, name string, opts ParseOptions) probe.Mail {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(raw, opts)
	if err != nil {
		t.Fatalf("Parse(%s) error = %v", name, err)
	}
	if m.Size != len(raw) {
		t.Errorf("Size = %d, want %d", m.Size, len(raw))
	}
	return m
}

// TestParse checks every file in testdata/mail against a table of expectations. Fields
// left empty in a case are not checked, except Report, which must be nil unless given.
func TestParse(t *testing.T) {
	tests := []struct {
		file        string
		messageID   string
		inReplyTo   []string
		references  []string
		from        string
		fromName    string
		to          []string
		cc          []string
		deliveredTo []string
		subject     string
		date        string // RFC 3339; "zero" for the zero time
		header      map[string]string
		newText     string
		fullHas     []string // FullText contains each
		fullHasNot  []string
		report      *probe.DeliveryReport
	}{
		{
			file:        "gmail_reply.eml",
			messageID:   "CAF=abc123+def@mail.gmail.com",
			inReplyTo:   []string{probeID},
			references:  []string{probeID},
			from:        "jane.doe@acme.example",
			fromName:    "Jane Doe",
			to:          []string{"pat+k7f3q9@probe.example"},
			cc:          []string{"support@acme.example"},
			deliveredTo: []string{"pat+k7f3q9@probe.example"},
			subject:     "Re: API key stopped working",
			date:        "2024-01-05T11:41:00+01:00",
			header:      map[string]string{"Return-Path": "<jane.doe@acme.example>", "Content-Type": `multipart/alternative; boundary="000000000000d1b2c3"`},
			newText: "Hi Pat,\n\nThanks for reaching out. We have reset the API key for your account; please\n" +
				"try again and let us know.\n\nBest regards,\nJane Doe",
			fullHas:    []string{"> our API key stopped working last night (token PRB-K7F3Q9).", "-- \nJane Doe | Acme Support"},
			fullHasNot: []string{"<div", "gmail_quote"},
		},
		{
			file:       "outlook_reply.eml",
			messageID:  "DM6PR11MB1234ABCD@DM6PR11MB1234.namprd11.prod.outlook.com",
			inReplyTo:  []string{probeID},
			from:       "support@acme.example",
			fromName:   "Support, Acme",
			subject:    "RE: [EXTERNAL] API key stopped working",
			date:       "2024-01-05T10:05:00Z",
			header:     map[string]string{"X-Ms-Exchange-Inbox-Rules-Loop": "support@acme.example", "X-Mailer": "Microsoft Outlook 16.0", "X-Ms-Has-Attach": ""},
			newText:    "Hello Pat,\n\nI have escalated this to our engineering team; expect an update within 2 hours.\n\nKind regards,\nSam",
			fullHas:    []string{"Sent: Friday, January 5, 2024 10:03 AM", "token PRB-K7F3Q9"},
			fullHasNot: []string{"2 ho=", "\r"},
		},
		{
			file:       "chinese_reply.eml",
			messageID:  "tencent_abc123@qq.example",
			inReplyTo:  []string{probeID},
			from:       "li.gong@vendor.example.cn",
			fromName:   "李工",
			subject:    "回复：API 密钥无法使用",
			date:       "2024-01-05T18:20:00+08:00",
			newText:    "您好，\n\n我们已经收到您的问题，工程师正在处理，预计两小时内给您答复。\n\n李工",
			fullHas:    []string{"写道：", "令牌 PRB-K7F3Q9"},
			fullHasNot: []string{"\r"},
		},
		{
			file:       "html_only.eml",
			messageID:  "html-only-1@acme.example",
			subject:    "Re: API key stopped working",
			newText:    "Dear customer,\n\nYour issue & the API key are fixed — see KB 42.\n\n- Key rotated\n- Cache cleared\n\nRegards,\nAcme Support",
			fullHas:    []string{"On Fri, 5 Jan 2024, Pat wrote:", "> Our key (token PRB-K7F3Q9) fails.", "> > nested quote"},
			fullHasNot: []string{"alert", "color: red", "Ticket", "&nbsp;", "<p>"},
		},
		{
			file:     "gbk_as_gb2312.eml",
			from:     "wangkun@vendor.example.cn",
			fromName: "王堃",
			subject:  "回复：朱镕与王堃的工单",
			newText:  "您好：\n\n工单已由朱镕处理完毕。\n\n王堃",
		},
		{
			file:    "big5.eml",
			subject: "回覆：金鑰問題",
			newText: "您好，\n\n關於您的問題，我們已經修正。\n\n陳小姐",
			fullHas: []string{"王先生 於 2024年1月5日 上午10:03 寫道：", "> 我們的金鑰無法使用。"},
		},
		{
			file:     "iso2022jp.eml",
			fromName: "サポート",
			subject:  "お問い合わせの受付",
			date:     "2024-01-05T19:00:00+09:00",
			newText:  "お問い合わせありがとうございます。\n担当者より折り返しご連絡いたします。",
		},
		{
			file:        "split_words.eml",
			messageID:   "vendor-77@helpdesk.vendor.example",
			inReplyTo:   []string{probeID},
			references:  []string{probeID, "vendor-70@helpdesk.vendor.example", "vendor-71@helpdesk.vendor.example"},
			from:        "helpdesk@vendor.example",
			fromName:    "Helpdesk 工",
			to:          []string{"pat+k7f3q9@probe.example", "ops@vendor.example"},
			deliveredTo: []string{"pat+k7f3q9@probe.example", "pat@probe.example"},
			subject:     "工单已更新：令牌 PRB-K7F3Q9镕堃",
			date:        "2024-01-05T10:31:00+08:00",
			newText:     "Your ticket was updated.",
		},
		{
			file:       "dsn_postfix.eml",
			messageID:  "4T9Nx25Lp3z1B@mx.probe.example",
			from:       "mailer-daemon@mx.probe.example",
			fromName:   "Mail Delivery System",
			subject:    "Undelivered Mail Returned to Sender",
			date:       "2024-01-05T10:03:15Z",
			header:     map[string]string{"Auto-Submitted": "auto-replied", "Return-Path": "<>"},
			fullHas:    []string{"Action: failed", "Subject: API key stopped working", "token PRB-K7F3Q9", "Recipient address rejected"},
			fullHasNot: []string{"\r", "MIME-encapsulated"},
			report: &probe.DeliveryReport{
				ReportType:        "delivery-status",
				Actions:           []string{"failed"},
				OriginalMessageID: probeID,
				Action:            "failed",
				Status:            "5.1.1",
				Diagnostic:        "550 5.1.1 <support@vendor.example>: Recipient address rejected: User unknown in virtual mailbox table",
			},
		},
		{
			file:    "qmail_bounce.eml",
			from:    "mailer-daemon@mail.vendor.example",
			subject: "failure notice",
			date:    "2024-01-05T10:04:00Z",
			newText: "Hi. This is the qmail-send program at mail.vendor.example.\n" +
				"I'm afraid I wasn't able to deliver your message to the following addresses.\n" +
				"This is a permanent error; I've given up. Sorry it didn't work out.\n\n" +
				"<support@vendor.example>:\nSorry, no mailbox here by that name. (#5.1.1)",
			fullHas: []string{"token PRB-K7F3Q9"},
			report: &probe.DeliveryReport{
				GaveUp:            true,
				OriginalMessageID: probeID,
				Action:            "failed",
				Status:            "5.1.1",
				Diagnostic:        "Sorry, no mailbox here by that name. (#5.1.1)",
			},
		},
		{
			file:       "zendesk_update.eml",
			messageID:  "ABCDEF1234_65980c2b@zendesk.example",
			inReplyTo:  []string{"ABCDEF1233_65980000@zendesk.example"},
			references: []string{probeID, "ABCDEF1233_65980000@zendesk.example"},
			fromName:   "Jane (Acme Support)",
			header: map[string]string{"X-Zendesk-From-Account-Id": "1a2b3c", "Auto-Submitted": "auto-generated",
				"X-Auto-Response-Suppress": "All", "Precedence": "bulk"},
			newText: "Your request (12345) has been updated. To add additional comments, reply to this email.\n\n" +
				"Jane (Acme Support)\n\nJan 5, 2024, 10:31 UTC\n\nHi Pat, the key has been rotated. Please try again.",
			fullHas:    []string{"##- Please type your reply above this line -##", "token PRB-K7F3Q9"},
			fullHasNot: []string{"HTML version"},
		},
		{
			file:       "zendesk_ack.eml",
			references: []string{probeID},
			subject:    "[Acme] Request received: API key stopped working",
			newText:    "Your request (12345) has been received and is being reviewed by our support staff.\n\nTo add additional comments, reply to this email.",
			fullHas:    []string{"token PRB-K7F3Q9"},
		},
		{
			file:     "autoreply.eml",
			from:     "zhangsan@vendor.example.cn",
			fromName: "张三",
			subject:  "自动回复: API key stopped working",
			header: map[string]string{"Auto-Submitted": "auto-replied", "X-Autoreply": "yes",
				"Precedence": "auto_reply", "X-Auto-Response-Suppress": "All"},
			newText: "我正在休假，1月8日返回。紧急事务请联系 support@vendor.example.cn。\nI am out of office until January 8.",
		},
		{
			file:       "broken.eml",
			messageID:  "broken-1@vendor.example",
			from:       "ops@vendor.example",
			subject:    "工单 PRB-K7F3Q9",
			date:       "zero",
			header:     map[string]string{"Received": "from x by y"},
			newText:    "Hello, the fix is deployed.\n\nsecond part \uFFFD end",
			fullHasNot: []string{"PDF"},
		},
		{
			file:       "outlook_zh_html.eml",
			inReplyTo:  []string{probeID},
			from:       "support@vendor.example.cn",
			fromName:   "技术支持",
			subject:    "答复: API key stopped working",
			newText:    "您好，\n问题已修复，请重试。朱镕",
			fullHas:    []string{"发送时间: 2024年1月5日 10:03", "token PRB-K7F3Q9"},
			fullHasNot: []string{"ATTACHMENT TEXT", "E1E1E1"},
		},
	}

	files, err := filepath.Glob(filepath.Join("testdata", "mail", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in TestParse", f)
		}
	}

	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".eml"), func(t *testing.T) {
			m := mustParseFile(t, tt.file, ParseOptions{})
			checkString := func(name, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			checkList := func(name string, got, want []string) {
				t.Helper()
				if want != nil && !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			checkString("MessageID", m.MessageID, tt.messageID)
			checkList("InReplyTo", m.InReplyTo, tt.inReplyTo)
			checkList("References", m.References, tt.references)
			checkString("From", m.From, tt.from)
			checkString("FromName", m.FromName, tt.fromName)
			checkList("To", m.To, tt.to)
			checkList("Cc", m.Cc, tt.cc)
			checkList("DeliveredTo", m.DeliveredTo, tt.deliveredTo)
			checkString("Subject", m.Subject, tt.subject)
			checkString("NewText", m.NewText, tt.newText)
			switch tt.date {
			case "":
			case "zero":
				if !m.HeaderDate.IsZero() {
					t.Errorf("HeaderDate = %v, want zero", m.HeaderDate)
				}
			default:
				want, err := time.Parse(time.RFC3339, tt.date)
				if err != nil {
					t.Fatal(err)
				}
				if !m.HeaderDate.Equal(want) {
					t.Errorf("HeaderDate = %v, want %v", m.HeaderDate, want)
				}
				if _, off := m.HeaderDate.Zone(); func() int { _, o := want.Zone(); return o }() != off {
					t.Errorf("HeaderDate zone offset = %d, want that of %s", off, tt.date)
				}
			}
			for k, want := range tt.header {
				got, ok := m.Header[k]
				if !ok || len(got) == 0 || got[0] != want {
					t.Errorf("Header[%q] = %q, want [%q]", k, got, want)
				}
			}
			for _, s := range tt.fullHas {
				if !strings.Contains(m.FullText, s) {
					t.Errorf("FullText = %q, want it to contain %q", m.FullText, s)
				}
			}
			for _, s := range tt.fullHasNot {
				if strings.Contains(m.FullText, s) {
					t.Errorf("FullText = %q, want no %q", m.FullText, s)
				}
			}
			if !reflect.DeepEqual(m.Report, tt.report) {
				t.Errorf("Report = %+v, want %+v", m.Report, tt.report)
			}
			if !m.ReceivedAt.IsZero() {
				t.Errorf("ReceivedAt = %v, want zero (the watcher sets it)", m.ReceivedAt)
			}
			if m.Truncated {
				t.Error("Truncated = true, want false")
			}
			checkMailUTF8(t, m)
		})
	}
}

// checkMailUTF8 fails unless every string in m is valid UTF-8.
func checkMailUTF8(t testing.TB, m probe.Mail) {
	t.Helper()
	strs := []string{m.MessageID, m.From, m.FromName, m.Subject, m.NewText, m.FullText}
	strs = append(strs, m.InReplyTo...)
	strs = append(strs, m.References...)
	strs = append(strs, m.To...)
	strs = append(strs, m.Cc...)
	strs = append(strs, m.DeliveredTo...)
	for k, vs := range m.Header {
		strs = append(strs, k)
		strs = append(strs, vs...)
	}
	if r := m.Report; r != nil {
		strs = append(strs, r.OriginalMessageID, r.Action, r.Status, r.Diagnostic)
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8 in %q", s)
		}
	}
}

func TestParseTruncates(t *testing.T) {
	for _, max := range []int{1, 10, 11, 12, 13, 100} {
		m := mustParseFile(t, "chinese_reply.eml", ParseOptions{MaxText: max})
		if !m.Truncated {
			t.Errorf("MaxText %d: Truncated = false, want true", max)
		}
		if len(m.FullText) > max || len(m.NewText) > max {
			t.Errorf("MaxText %d: len(FullText) = %d, len(NewText) = %d, want <= %d", max, len(m.FullText), len(m.NewText), max)
		}
		if !utf8.ValidString(m.FullText) || !utf8.ValidString(m.NewText) {
			t.Errorf("MaxText %d: FullText = %q, NewText = %q, want valid UTF-8", max, m.FullText, m.NewText)
		}
		if !strings.HasPrefix("您好，\n\n我们已经收到您的问题", m.FullText) && !strings.HasPrefix(m.FullText, "您好，\n\n我们已经收到您的问题") {
			t.Errorf("MaxText %d: FullText = %q, want a prefix of the text", max, m.FullText)
		}
	}
	m := mustParseFile(t, "chinese_reply.eml", ParseOptions{})
	if m.Truncated {
		t.Error("default MaxText: Truncated = true, want false")
	}
}

func TestParseNoHeader(t *testing.T) {
	for _, raw := range []string{"", "\r\n", "just some text\nand more\n", "\n\nSubject-less body"} {
		m, err := Parse([]byte(raw), ParseOptions{})
		if !errors.Is(err, ErrNoHeader) {
			t.Errorf("Parse(%q) error = %v, want ErrNoHeader", raw, err)
		}
		if m.Size != len(raw) {
			t.Errorf("Parse(%q).Size = %d, want %d", raw, m.Size, len(raw))
		}
	}
	m, _ := Parse([]byte("just some text\nand more\n"), ParseOptions{})
	if m.FullText != "just some text\nand more" {
		t.Errorf("FullText = %q, want the text read as a body", m.FullText)
	}
}

func TestParseMessageIDs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<a@x>", []string{"a@x"}},
		{"<a@x> <b@y>", []string{"a@x", "b@y"}},
		{"<a@x>,<b@y>, <c@z>", []string{"a@x", "b@y", "c@z"}},
		{"<a@x><b@y>", []string{"a@x", "b@y"}},
		{"a@x, b@y", []string{"a@x", "b@y"}},
		{"a@x b@y <a@x>", []string{"a@x", "b@y"}},
		{"<a@x> (Pat's message of Fri, 5 Jan 2024)", []string{"a@x"}},
		{`Your message of "Fri, 5 Jan 2024" <a@x>`, []string{"a@x"}},
		{"<a@x\r\n y.example>", []string{"a@xy.example"}},
		{"<a@x", []string{"a@x"}},
		{"<<a@x>>", []string{"a@x"}},
		{"<no-at-sign>", []string{"no-at-sign"}},
		{"<a(1)@x>", []string{"a(1)@x"}},
		{"(comment <not@this>) <a@x>", []string{"a@x"}},
		{"<>", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := parseMessageIDs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseMessageIDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Ann <Ann@Example.COM>, bob@example.com", []string{"ann@example.com", "bob@example.com"}},
		{`"Doe, Jane" <jane@x.example>`, []string{"jane@x.example"}},
		{"undisclosed-recipients:;", nil},
		{"Team: a@x.example, b@x.example;", []string{"a@x.example", "b@x.example"}},
		{`=?utf-8?B?5byg5LiJ?= <z@x.example>`, []string{"z@x.example"}},
		{`broken <<a@x.example>>, "unclosed <b@x.example>, c@x.example.`, []string{"a@x.example", "b@x.example", "c@x.example"}},
		{"a@x.example; a@x.example", []string{"a@x.example"}},
	}
	for _, tt := range tests {
		if got := parseAddresses([][]byte{[]byte(tt.in)}, ""); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseAddresses(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Jane Doe <jane@x>", "Jane Doe"},
		{`"Doe, Jane" <jane@x>`, "Doe, Jane"},
		{`"Jane \"JD\" Doe" <jane@x>`, `Jane "JD" Doe`},
		{"jane@x (Jane Doe)", "Jane Doe"},
		{"jane@x", ""},
		{"<jane@x>", ""},
		{"=?utf-8?B?5byg?= =?utf-8?B?5LiJ?= <z@x>", "张三"},
		{`"=?gb2312?B?zfW2/g==?=" <w@x>`, "王二"},
		{"Ann <a@x>, Bob <b@x>", "Ann"},
	}
	for _, tt := range tests {
		if got := displayName(tt.in); got != tt.want {
			t.Errorf("displayName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeHeaderText(t *testing.T) {
	tests := []struct {
		name, in, fallback, want string
	}{
		{"plain", "Hello world", "", "Hello world"},
		{"one word", "=?utf-8?q?caf=C3=A9?=", "", "café"},
		{"space between words dropped", "=?utf-8?q?a?= =?utf-8?q?b?=", "", "ab"},
		{"space to text kept", "=?utf-8?q?a?= b =?utf-8?q?c?=", "", "a b c"},
		// "测" is E6 B5 8B: split after its first byte.
		{"utf-8 split in a char", "=?UTF-8?B?5g==?= =?utf-8?B?tYs=?=", "", "测"},
		{"utf-8 split, b then q", "=?utf-8?B?5rU=?= =?utf-8?Q?=8B?=", "", "测"},
		// "镕" is E9 46 in GBK, outside GB2312.
		{"gbk split as gb2312", "=?gb2312?B?6Q==?==?gb2312?B?Rg==?=", "", "镕"},
		{"charset change", "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "", "éé"},
		{"language suffix", "=?utf-8*en?q?hi?=", "", "hi"},
		{"inside quotes", `"=?utf-8?q?Ann?=" x`, "", `"Ann" x`},
		{"no space before", "Re:=?utf-8?q?hi?=", "", "Re:hi"},
		{"unknown charset kept", "=?x-unknown-cs?q?abc?=", "", "abc"},
		{"unknown charset bad bytes", "=?x-unknown-cs?q?a=FFb?=", "", "a\uFFFDb"},
		{"malformed word left alone", "=?utf-8?x?abc?=", "", "=?utf-8?x?abc?="},
		{"bad base64 tolerated", "=?utf-8?b?aGk?=", "", "hi"},
		{"raw utf-8", "回复：你好", "", "回复：你好"},
		{"raw gbk with fallback", "\xc4\xe3\xba\xc3", "gbk", "你好"},
		{"raw bytes without fallback", "a\xffb", "", "a\uFFFDb"},
		{"control characters", "a\tb\x00c", "", "a b c"},
		{"big5", "=?big5?B?pl7C0A==?=", "", "回覆"},
		{"koi8-r", "=?koi8-r?B?8NLJ18XU?=", "", "Привет"},
		{"windows-1251", "=?windows-1251?B?z/Do4uXy?=", "", "Привет"},
		{"iso-8859-2", "=?iso-8859-2?q?=B1?=", "", "ą"},
		{"euc-kr", "=?euc-kr?B?vsiz58fPvLy/5A==?=", "", "안녕하세요"},
		{"shift_jis", "=?shift_jis?B?g1SDfIFbg2c=?=", "", "サポート"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeHeaderText([]byte(tt.in), tt.fallback); got != tt.want {
				t.Errorf("decodeHeaderText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Fri, 5 Jan 2024 10:31:00 +0800", "2024-01-05T10:31:00+08:00"},
		{"Fri, 05 Jan 2024 10:31:00 +0800 (CST)", "2024-01-05T10:31:00+08:00"},
		{"5 Jan 2024 10:31 +0800", "2024-01-05T10:31:00+08:00"},
		{"Fri,  5 Jan 2024 10:31:00 GMT", "2024-01-05T10:31:00Z"},
		{"Fri, 5 Jan 2024 10:31:00 EST", "2024-01-05T10:31:00-05:00"},
		{"Friday, January 5, 2024 10:31:00 +0800", "2024-01-05T10:31:00+08:00"},
		{"Fri, 5 Jan 2024 10:31:00 +08:00", "2024-01-05T10:31:00+08:00"},
		{"Fri, 5 Jan 2024 10:31:00 GMT+0800", "2024-01-05T10:31:00+08:00"},
		{"Fri, 5 Jan 2024 10:31:00 +0800 CST", "2024-01-05T10:31:00+08:00"},
		{"Fri, 5 Jan 24 10:31:00 +0800", "2024-01-05T10:31:00+08:00"},
		{"Fri Jan  5 10:31:00 2024", "2024-01-05T10:31:00Z"},
		{"2024-01-05 10:31:00 +0800", "2024-01-05T10:31:00+08:00"},
		{"2024-01-05T10:31:00+08:00", "2024-01-05T10:31:00+08:00"},
		{"Fri, 5 Jan 2024 10:31:00", "2024-01-05T10:31:00Z"},
		{"Fri, 5 Jan 2024 10:31:00 +800", "2024-01-05T10:31:00+08:00"},
		{"sometime last week", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := parseDate(tt.in)
		if tt.want == "" {
			if !got.IsZero() {
				t.Errorf("parseDate(%q) = %v, want zero", tt.in, got)
			}
			continue
		}
		want, err := time.Parse(time.RFC3339, tt.want)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, want %v", tt.in, got, want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"br", "a<br>b<br/><br />c", "a\nb\n\nc"},
		{"whitespace collapses", "<div>  a \n  b  </div>", "a b"},
		{"entities", "&lt;x&gt; &amp; &#20320;&#x597D; &nbsp;&copy;", "<x> & 你好 ©"},
		{"script and style", "<style>p{}</style><script>if (a<b) x()</script>ok", "ok"},
		{"script without end", "ok<script>x", "ok"},
		{"comment", "a<!-- <p>hidden</p> -->b", "ab"},
		{"doctype", "<!DOCTYPE html><html><body>x</body></html>", "x"},
		{"blockquote", "<p>new</p><blockquote><p>old</p><blockquote>older</blockquote></blockquote><p>after</p>", "new\n\n> old\n\n> > older\n\nafter"},
		{"blockquote br", "<blockquote>a<br>b</blockquote>", "> a\n> b"},
		{"list", "<ul><li>a</li><li>b</li></ul>", "- a\n- b"},
		{"table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"pre", "<pre>a  b\n  c</pre>", "a  b\n  c"},
		{"attribute with >", `<a title="x>y" href="z">link</a>`, "link"},
		{"stray <", "a < b", "a < b"},
		{"invisible", "a\u200bb&zwnj;c", "abc"},
		{"unclosed tag", "a<div", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.TrimSpace(htmlToText(tt.in)); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name, body, boundary string
		want                 []string
	}{
		{"normal", "pre\r\n--b\r\nA\r\n--b\r\nB\r\n--b--\r\nepilogue", "b", []string{"A", "B"}},
		{"no closing", "--b\nA\n--b\nB\n", "b", []string{"A", "B\n"}},
		{"longer boundary is not a delimiter", "--b\nA\n--bc\n--b--", "b", []string{"A\n--bc"}},
		{"trailing space", "--b  \nA\n--b--  \n", "b", []string{"A"}},
		{"guessed", "--guess\nA\n--guess--\n", "", []string{"A"}},
		{"none", "no parts here", "b", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range splitMultipart([]byte(tt.body), tt.boundary) {
			got = append(got, string(p))
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: splitMultipart = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestDecodeTransferEncodings(t *testing.T) {
	b64 := []struct{ in, want string }{
		{"aGVsbG8=", "hello"},
		{"aGVs\r\nbG8=\r\n", "hello"},
		{"aGVsbG8", "hello"},
		{"aGVsbG8=aGk=", "hellohi"},
		{"aGV*sbG8=", "hello"},
		{"", ""},
		{"a", ""},
	}
	for _, tt := range b64 {
		if got := string(decodeBase64([]byte(tt.in))); got != tt.want {
			t.Errorf("decodeBase64(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	qp := []struct{ in, want string }{
		{"caf=C3=A9\r\n", "café\n"},
		{"soft=\r\nbreak", "softbreak"},
		{"bad =ZZ escape=", "bad =ZZ escape"},
		{"trailing   \nx", "trailing\nx"},
		{"lower =c3=a9", "lower é"},
	}
	for _, tt := range qp {
		if got := string(decodeQuotedPrintable([]byte(tt.in))); got != tt.want {
			t.Errorf("decodeQuotedPrintable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnflow(t *testing.T) {
	in := "On Fri, Ann \nwrote:\n> quoted \n> more\n\nplain\n-- \nsig"
	want := "On Fri, Ann wrote:\n> quoted more\n\nplain\n-- \nsig"
	if got := unflow(in, false); got != want {
		t.Errorf("unflow(%q) = %q, want %q", in, got, want)
	}
	if got, want := unflow("a \nb", true), "ab"; got != want {
		t.Errorf("unflow with DelSp = %q, want %q", got, want)
	}
}

// TestParsePathological runs Parse on inputs built to make a careless parser take
// quadratic time or memory. Each must finish quickly; the bound is loose so that a slow
// machine does not fail it, while quadratic work on inputs this size takes minutes.
func TestParsePathological(t *testing.T) {
	const n = 256 << 10
	rep := func(s string) string { return strings.Repeat(s, n/len(s)) }
	tests := []struct{ name, raw string }{
		{"brackets", "Message-ID: " + rep("<a ") + "\n\nx"},
		{"open brackets", "References: " + rep("<") + "\n\nx"},
		{"comments", "References: " + rep("(") + "\n\nx"},
		{"encoded words", "Subject: " + rep("=?utf-8?b?5rWL?= ") + "\n\nx"},
		{"broken encoded words", "Subject: " + rep("=?utf-8?") + "\n\nx"},
		{"addresses", "To: " + rep("a@b, <c@d> ") + "\n\nx"},
		{"folded header", "Subject: x\n" + rep(" y\n") + "\nx"},
		{"many fields", rep("X-A: b\n") + "\nx"},
		{"junk header lines", rep("junk\nX-A: b\n") + "\nx"},
		{"nested multipart", "Content-Type: multipart/mixed; boundary=b\n\n" + rep("--b\nContent-Type: multipart/mixed; boundary=b\n\n")},
		{"many parts", "Content-Type: multipart/mixed; boundary=b\n\n" + rep("--b\n\nx\n")},
		{"nested blockquotes", "Content-Type: text/html\n\n" + rep("<blockquote>x<br>")},
		{"unclosed quotes in tags", "Content-Type: text/html\n\n" + rep(`<a x="`)},
		{"unclosed scripts", "Content-Type: text/html\n\n" + rep("<script>")},
		{"tags", "Content-Type: text/html\n\n" + rep("<p><li><br><td>")},
		{"flowed", "Content-Type: text/plain; format=flowed; delsp=yes\n\n" + rep("ab \n")},
		{"attributions", "\n" + rep("On x wrote:\n> q\n\n")},
		{"quotes and blanks", "Subject: x\n\n" + rep("x wrote:\n\n\n")},
		{"markers", "Subject: x\n\n" + rep("reply above this line\n")},
		{"separators", "Subject: x\n\n##- Please type your reply above this line -##\n" + rep("----------\n")},
		{"from blocks", "Subject: x\n\n" + rep("From: a\n")},
		{"long line", "Subject: x\n\n" + rep("On a b c ")},
		{"base64", "Content-Transfer-Encoding: base64\n\n" + rep("====")},
		{"quoted-printable", "Content-Transfer-Encoding: quoted-printable\n\n" + rep("=\n")},
		{"bounce", "From: MAILER-DAEMON@x\n\n" + rep("Message-ID:\n")},
		{"delivery status", "Content-Type: message/delivery-status\n\n" + rep("Action: failed\n\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			m, _ := Parse([]byte(tt.raw), ParseOptions{})
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("Parse took %v", d)
			}
			if len(m.FullText) > DefaultMaxText {
				t.Errorf("len(FullText) = %d, want <= %d", len(m.FullText), DefaultMaxText)
			}
		})
	}
}
