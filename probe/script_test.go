package probe_test

import (
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"supportprobe/probe"
)

func mustScript(t *testing.T, subject, body string, vars map[string]string) probe.Script {
	t.Helper()
	s, err := probe.NewScript("invoice-question", "en", probe.P3, subject, body, vars)
	if err != nil {
		t.Fatalf("NewScript(%q, %q) = %v", subject, body, err)
	}
	return s
}

func TestScriptRender(t *testing.T) {
	sh := mustLoc(t, "Asia/Shanghai")
	fields := probe.Fields{Vendor: "Acme Cloud", Token: "K7Q2", LocalTime: time.Date(2026, 6, 2, 3, 0, 0, 0, sh)}
	tests := []struct {
		name               string
		subject, body      string
		vars               map[string]string
		wantSubj, wantBody string
	}{
		{"plain text", "Invoice question", "Hello,\nwhere is my invoice?\n", nil,
			"Invoice question", "Hello,\nwhere is my invoice?\n"},
		{"vars", "Question about {{.Product}}", "Our plan is {{.Plan}}.", map[string]string{"Product": "object storage", "Plan": "Team"},
			"Question about object storage", "Our plan is Team."},
		// 2026-06-02 03:00 in Shanghai is a Tuesday.
		{"built-ins", "[{{.Token}}] {{.Vendor}}", "Sent {{.LocalTime.Format \"Mon 2006-01-02 15:04\"}}, ref {{.Token}}", nil,
			"[K7Q2] Acme Cloud", "Sent Tue 2026-06-02 03:00, ref K7Q2"},
		{"field in a taken branch", "{{if eq .Vendor \"Acme Cloud\"}}Hi Acme{{else}}Hi{{end}}", "{{with .LocalTime}}{{.Year}}{{end}}", nil,
			"Hi Acme", "2026"},
		{"root from inside with", "x", "{{with .LocalTime}}{{$.Product}} {{.Hour}}h{{end}}", map[string]string{"Product": "CDN"},
			"x", "CDN 3h"},
		// The subject is trimmed (it becomes a header); the body is not.
		{"subject trimmed, body kept", "  Invoice {{.Token}}\n", "\n  body  \n", nil,
			"Invoice K7Q2", "\n  body  \n"},
		{"Chinese subject", "关于{{.产品}}发票的问题 [{{.Token}}]", "您好，{{.Vendor}}：\n请问发票何时开具？\n", map[string]string{"产品": "云服务器"},
			"关于云服务器发票的问题 [K7Q2]", "您好，Acme Cloud：\n请问发票何时开具？\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustScript(t, tt.subject, tt.body, tt.vars)
			subj, body, err := s.Render(fields)
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}
			if subj != tt.wantSubj || !utf8.ValidString(subj) {
				t.Errorf("Render() subject = %q, want %q", subj, tt.wantSubj)
			}
			if body != tt.wantBody {
				t.Errorf("Render() body = %q, want %q", body, tt.wantBody)
			}
			if gotS, gotB := s.Source(); gotS != tt.subject || gotB != tt.body {
				t.Errorf("Source() = %q, %q, want %q, %q", gotS, gotB, tt.subject, tt.body)
			}
		})
	}
}

func TestScriptKeepsItsVars(t *testing.T) {
	vars := map[string]string{"Product": "CDN"}
	s := mustScript(t, "About {{.Product}}", "", vars)
	vars["Product"] = "changed"
	subj, _, err := s.Render(probe.Fields{Vendor: "v", Token: "T"})
	if err != nil || subj != "About CDN" {
		t.Errorf("Render() = %q, %v, want %q, nil", subj, err, "About CDN")
	}
	if want := map[string]string{"Product": "CDN"}; !maps.Equal(s.Vars, want) {
		t.Errorf("Vars = %v, want %v", s.Vars, want)
	}
	if s.ID != "invoice-question" || s.Language != "en" || s.Priority != probe.P3 {
		t.Errorf("NewScript() = %q %q %q, want invoice-question en P3", s.ID, s.Language, s.Priority)
	}
}

func TestNewScriptErrors(t *testing.T) {
	tests := []struct {
		name          string
		subject, body string
		vars          map[string]string
		want          []string // substrings of the error
	}{
		{"unknown field in subject", "About {{.Prodcut}}", "body", map[string]string{"Product": "CDN"}, []string{"subject", "Prodcut"}},
		{"unknown field in body", "subject", "Dear {{.Name}}", nil, []string{"body", "Name"}},
		{"field of a built-in", "subject", "{{.LocalTime.Nope}}", nil, []string{"body", "Nope"}},
		// The sample values never take this branch; the field must still be known.
		{"unknown field in a branch not taken", "{{if eq .Vendor \"nobody\"}}{{.Nope}}{{end}}", "body", nil, []string{"subject", "Nope"}},
		{"unknown field in an else", "subject", "{{if .Vendor}}hi{{else}}{{.Missing}}{{end}}", nil, []string{"body", "Missing"}},
		{"unknown root field inside with", "subject", "{{with .Vendor}}{{if eq . \"nobody\"}}{{$.Ghost}}{{end}}{{end}}", nil, []string{"body", "Ghost"}},
		{"unknown field in a with pipeline", "subject", "{{if eq .Vendor \"nobody\"}}{{with .Ticket}}{{.}}{{end}}{{end}}", nil, []string{"body", "Ticket"}},
		{"field names are case-sensitive", "{{.token}}", "body", nil, []string{"subject", "token"}},
		{"parse error in subject", "{{.Vendor", "body", nil, []string{"subject"}},
		{"parse error in body", "subject", "{{if .Vendor}}no end", nil, []string{"body"}},
		{"redefines Vendor", "s", "b", map[string]string{"Vendor": "x"}, []string{"vars", `"Vendor"`, "built-in"}},
		{"redefines Token", "s", "b", map[string]string{"Token": "x"}, []string{"vars", `"Token"`, "built-in"}},
		{"redefines LocalTime", "s", "b", map[string]string{"LocalTime": "x"}, []string{"vars", `"LocalTime"`, "built-in"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := probe.NewScript("s1", "en", probe.P2, tt.subject, tt.body, tt.vars)
			if err == nil {
				t.Fatalf("NewScript(%q, %q) = nil error, want one containing %q", tt.subject, tt.body, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("NewScript(%q, %q) = %q, want it to contain %q", tt.subject, tt.body, err, w)
				}
			}
		})
	}
}
