package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"supportprobe/mailbox/mailworld"
	"supportprobe/mailbox/mailworld/mailworldtest"
)

type followupProbe struct {
	ID                     string   `json:"id"`
	Token                  string   `json:"token"`
	MessageID              string   `json:"message_id"`
	Status                 string   `json:"status"`
	SentAt                 string   `json:"sent_at"`
	ResponseLatencySeconds *float64 `json:"response_latency_seconds"`
	NeededReminder         bool     `json:"needed_reminder"`
	Followups              []struct {
		Kind                       string   `json:"kind"`
		State                      string   `json:"state"`
		SentAt                     *string  `json:"sent_at"`
		MessageID                  *string  `json:"message_id"`
		InReplyTo                  *string  `json:"in_reply_to"`
		NextResponseAt             *string  `json:"next_response_at"`
		NextResponseLatencySeconds *float64 `json:"next_response_latency_seconds"`
	} `json:"followups"`
}

// waitFollowups polls history --format json until cond holds for probe id.
func waitFollowups(t *testing.T, cfgPath, id, what string, cond func(followupProbe) bool) followupProbe {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []followupProbe
	for {
		code, stdout, stderr := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
		if code != exitOK {
			t.Fatalf("history: exit %d, %s", code, stderr)
		}
		last = nil
		if err := json.Unmarshal([]byte(stdout), &last); err != nil {
			t.Fatal(err)
		}
		for _, p := range last {
			if p.ID == id && cond(p) {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("probe %s: %s did not happen within 20 s; history: %+v", id, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// withFollowups adds an after_response (2 s) and an if_unanswered (3 s) follow-up to
// the world configuration's script.
func withFollowups(t *testing.T, cfgPath string) {
	t.Helper()
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), `vars: {Region: 华东}}`,
		`vars: {Region: 华东}, followups: [{after_response: 2s, body: "还是不行，新的推流依然失败。"}, {if_unanswered: 3s, body: "请问有进展吗？"}]}`, 1)
	if s == string(b) {
		t.Fatal("world configuration changed: cannot add follow-ups")
	}
	if err := os.WriteFile(cfgPath, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// agentReply is a person's answer from the vendor, in reply to parent.
func agentReply(t *testing.T, w mailworld.World, token, id, parent, text string) {
	t.Helper()
	vendorSend(t, w, "lin.wei@example.com", fmt.Sprintf(`From: Dana Li <dana@acme.example>
To: Lin Wei <lin.wei@example.com>
Subject: Re: [#4711] %[4]s
Message-ID: <%[1]s-%[5]s@helpdesk.acme.example>
In-Reply-To: <%[2]s>
References: <%[2]s>
Date: %[3]s
Content-Type: text/plain; charset=utf-8

Hi Lin,

%[6]s

Dana
`, id, parent, time.Now().Format(time.RFC1123Z), subjectZh, token, text))
}

func sendProbe(t *testing.T, cfgPath string) followupProbe {
	t.Helper()
	code, stdout, stderr := invoke(t, time.Now(), "send", "--config", cfgPath, "--vendor", "acme-cloud")
	if code != exitOK {
		t.Fatalf("send: exit %d, %s", code, stderr)
	}
	return waitFollowups(t, cfgPath, strings.TrimSpace(stdout), "sent", func(p followupProbe) bool { return p.Status == "sent" })
}

// neededReminder finds show's "Needed a reminder" line saying true, whatever the width
// of the label column.
var neededReminder = regexp.MustCompile(`(?m)^\s*Needed a reminder\s+true$`)

func near(got *float64, want, tol float64) bool { return got != nil && math.Abs(*got-want) <= tol }

// TestFollowupsEndToEnd, in the real mail world: one vendor needs a reminder (sent
// 3 s after the inquiry, nobody having answered), answers 1 s after it, and the
// first-response latency still counts from the inquiry; another answers at 1 s, gets
// the scripted "that did not help" 2 s later, and answers again 1.5 s after that,
// citing only the follow-up.
func TestFollowupsEndToEnd(t *testing.T) {
	run := func(t *testing.T, w mailworld.World) {
		cfgPath, stateDir := mustWorldConfig(t, w)
		withFollowups(t, cfgPath)
		startDaemon(t, cfgPath, stateDir, "--no-schedules")

		t.Run("needs a reminder", func(t *testing.T) {
			p := sendProbe(t, cfgPath)
			p = waitFollowups(t, cfgPath, p.ID, "reminder sent", func(p followupProbe) bool {
				return len(p.Followups) > 0 && p.Followups[0].State == "sent"
			})
			f := p.Followups[0]
			sent, _ := time.Parse(time.RFC3339Nano, p.SentAt)
			remAt, _ := time.Parse(time.RFC3339Nano, *f.SentAt)
			if f.Kind != "reminder" || !p.NeededReminder || remAt.Sub(sent) < 3*time.Second || remAt.Sub(sent) > 5*time.Second {
				t.Fatalf("follow-up = %+v at +%s, needed_reminder %v; want a reminder 3-5 s after the inquiry", f, remAt.Sub(sent), p.NeededReminder)
			}
			if f.InReplyTo == nil || *f.InReplyTo != p.MessageID {
				t.Errorf("reminder in reply to %v, want our inquiry %s", f.InReplyTo, p.MessageID)
			}
			time.Sleep(time.Until(remAt.Add(time.Second)))
			answered := time.Now()
			agentReply(t, w, p.Token, "agent", *f.MessageID, "Sorry for the delay: we restarted the ingest node in East China.")
			p = waitFollowups(t, cfgPath, p.ID, "answer after the reminder", func(p followupProbe) bool {
				return p.Status == "answered" && p.Followups[0].NextResponseAt != nil
			})
			want := answered.Sub(sent).Seconds() // ≈4 s
			if !near(p.Followups[0].NextResponseLatencySeconds, 1, 1) {
				t.Errorf("next response after the reminder = %v s, want ≈1", deref(p.Followups[0].NextResponseLatencySeconds))
			}
			if !near(p.ResponseLatencySeconds, want, 1) {
				t.Errorf("first response latency = %v s, want ≈%.1f from the inquiry, not from the reminder", deref(p.ResponseLatencySeconds), want)
			}
			code, stdout, _ := invoke(t, time.Now(), "show", "--config", cfgPath, p.ID)
			if code != exitOK || !strings.Contains(stdout, "follow-up  reminder  sent") || !neededReminder.MatchString(stdout) {
				t.Errorf("show: exit %d:\n%s", code, stdout)
			}
		})

		t.Run("second answer after the follow-up", func(t *testing.T) {
			p := sendProbe(t, cfgPath)
			sent, _ := time.Parse(time.RFC3339Nano, p.SentAt)
			time.Sleep(time.Until(sent.Add(time.Second)))
			agentReply(t, w, p.Token, "first", p.MessageID, "We moved your streams to a healthy node; please try again.")
			p = waitFollowups(t, cfgPath, p.ID, "after_response follow-up sent", func(p followupProbe) bool {
				return p.Status == "answered" && len(p.Followups) > 0 && p.Followups[0].State == "sent"
			})
			f := p.Followups[0]
			if f.Kind != "after_response" || p.NeededReminder {
				t.Fatalf("follow-ups = %+v, needed_reminder %v; want after_response only", p.Followups, p.NeededReminder)
			}
			if f.InReplyTo == nil || !strings.HasPrefix(*f.InReplyTo, "first-") {
				t.Errorf("follow-up in reply to %v, want the vendor's answer", f.InReplyTo)
			}
			fAt, _ := time.Parse(time.RFC3339Nano, *f.SentAt)
			time.Sleep(time.Until(fAt.Add(1500 * time.Millisecond)))
			agentReply(t, w, p.Token, "second", *f.MessageID, "Found it: a second node was misconfigured too. Fixed now.")
			p = waitFollowups(t, cfgPath, p.ID, "second answer", func(p followupProbe) bool { return p.Followups[0].NextResponseAt != nil })
			if !near(p.Followups[0].NextResponseLatencySeconds, 1.5, 1) {
				t.Errorf("next response latency = %v s, want ≈1.5", deref(p.Followups[0].NextResponseLatencySeconds))
			}
			if !near(p.ResponseLatencySeconds, 1, 1) {
				t.Errorf("first response latency = %v s, want ≈1 (unchanged by the follow-up)", deref(p.ResponseLatencySeconds))
			}
			if len(p.Followups) != 1 {
				t.Errorf("follow-ups = %+v, want exactly one (no reminder: answered within 3 s)", p.Followups)
			}
		})

		t.Run("answered in another language, and the evidence of it all", func(t *testing.T) {
			// Both vendors answered the Chinese inquiry in English: listed as mismatches.
			_, stdout, _ := invoke(t, time.Now(), "history", "--config", cfgPath, "--format", "json")
			var hist []struct {
				ID            string  `json:"id"`
				ReplyLanguage *string `json:"reply_language"`
				LanguageMatch *bool   `json:"language_match"`
				Followups     []struct {
					SentAt *string `json:"sent_at"`
				} `json:"followups"`
			}
			if err := json.Unmarshal([]byte(stdout), &hist); err != nil {
				t.Fatal(err)
			}
			sentFollowups := 0
			for _, h := range hist {
				for _, f := range h.Followups {
					if f.SentAt != nil {
						sentFollowups++
					}
				}
				if h.ReplyLanguage == nil || *h.ReplyLanguage != "en" || h.LanguageMatch == nil || *h.LanguageMatch {
					t.Errorf("%s: reply_language %v, language_match %v; want en, false (asked in zh)", h.ID, h.ReplyLanguage, h.LanguageMatch)
				}
			}
			code, stdout, stderr := invoke(t, time.Now(), "report", "--config", cfgPath, "--since", time.Now().Add(-time.Hour).Format(time.RFC3339),
				"--until", time.Now().Add(time.Hour).Format(time.RFC3339))
			if code != exitOK || !strings.Contains(stdout, "answered in the language asked: 0 of 2") {
				t.Errorf("report: exit %d, %s\n%s", code, stderr, stdout)
			}
			zipPath := filepath.Join(t.TempDir(), "evidence.zip")
			code, _, stderr = invoke(t, time.Now(), "export", "--config", cfgPath, "--vendor", "acme-cloud",
				"--since", time.Now().Add(-time.Hour).Format(time.RFC3339), "--until", time.Now().Add(time.Hour).Format(time.RFC3339), "--out", zipPath)
			if code != exitOK {
				t.Fatalf("export: exit %d, %s", code, stderr)
			}
			if code, stdout, stderr := invoke(t, time.Now(), "export", "--verify", zipPath); code != exitOK {
				t.Fatalf("export --verify: exit %d, %s%s", code, stdout, stderr)
			}
			zr, err := zip.OpenReader(zipPath)
			if err != nil {
				t.Fatal(err)
			}
			defer zr.Close()
			emls, followups := 0, 0
			for _, f := range zr.File {
				if strings.Contains(f.Name, "/followup-") {
					followups++
				}
				if !strings.HasSuffix(f.Name, ".eml") {
					continue
				}
				rc, _ := f.Open()
				m, err := gomail.CreateReader(rc)
				if err != nil {
					t.Errorf("%s does not parse: %v", f.Name, err)
				} else if id, _ := m.Header.MessageID(); id == "" {
					t.Errorf("%s has no Message-ID", f.Name)
				}
				rc.Close()
				emls++
			}
			// 2 inquiries, 3 answers, and every follow-up as sent.
			if emls < 5+sentFollowups || followups != sentFollowups || sentFollowups < 2 {
				t.Errorf("export holds %d .eml files (%d follow-ups); history shows %d follow-ups sent", emls, followups, sentFollowups)
			}
		})
	}
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Memory(t, linUser, supportUser))
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		run(t, mailworldtest.Real(t, linUser, supportUser))
	})
}
