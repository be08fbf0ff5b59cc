package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"
)

// uuidShape is the Message-ID local part Thunderbird writes: a random (version 4) UUID.
var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@example\.com$`)

func TestMessageIDOpaqueAndOurs(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	id := NewMessageID(key, "P17", "example.com")
	if !uuidShape.MatchString(id) {
		t.Fatalf("NewMessageID = %q, want a version-4 UUID at the domain, as Thunderbird writes", id)
	}
	if strings.Contains(strings.ToLower(id), "p17") || strings.Contains(strings.ToLower(id), "k7q2mx") {
		t.Errorf("NewMessageID = %q names the probe or its token", id)
	}
	if again := NewMessageID(key, "P17", "example.com"); again != id {
		t.Errorf("NewMessageID is not deterministic: %q, then %q", id, again)
	}
	f1, f2 := NewFollowupMessageID(key, "P17", "example.com", 1), NewFollowupMessageID(key, "P17", "example.com", 2)
	if f1 == id || f1 == f2 || !uuidShape.MatchString(f1) || !uuidShape.MatchString(f2) {
		t.Errorf("follow-up IDs %q, %q (inquiry %q): want distinct UUIDs", f1, f2, id)
	}
	legacy := "20261129t110003.p17.k7q2mx." + func() string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("p17.K7Q2MX"))
		return hex.EncodeToString(m.Sum(nil))[:16]
	}() + "@example.com"
	tests := []struct {
		name, id, probe string
		key             []byte
		want            bool
	}{
		{"inquiry", id, "P17", key, true},
		{"follow-up", f2, "P17", key, true},
		{"brackets and upper case", "<" + strings.ToUpper(id) + ">", "p17", key, true},
		{"another probe's", NewMessageID(key, "P18", "example.com"), "P17", key, false},
		{"other key", id, "P17", []byte("another key"), false},
		{"other probe claimed", id, "P18", key, false},
		{"last follow-up tried", NewFollowupMessageID(key, "P17", "example.com", MaxFollowupIndex), "P17", key, true},
		{"beyond", NewFollowupMessageID(key, "P17", "example.com", MaxFollowupIndex+1), "P17", key, false},
		{"earlier versions' form", legacy, "P17", key, true},
		{"earlier form, tampered", strings.Replace(legacy, ".k7q2mx.", ".k7q2my.", 1), "P17", key, false},
		{"earlier form, other probe", legacy, "P18", key, false},
		{"not ours", "CAF=abc123@mail.gmail.com", "P17", key, false},
		{"no domain", "a.b.c.d", "P17", key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsOurMessageID(tt.key, tt.id, tt.probe); got != tt.want {
				t.Errorf("IsOurMessageID(%q, %s) = %v, want %v", tt.id, tt.probe, got, tt.want)
			}
		})
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewToken()
		if !IsToken(tok) || strings.ContainsAny(tok, "ILOU") {
			t.Fatalf("NewToken() = %q, not a token", tok)
		}
		seen[tok] = true
	}
	if len(seen) < 990 {
		t.Errorf("1000 tokens held only %d distinct values", len(seen))
	}
	for _, s := range []string{"", "K7Q2M", "K7Q2MXX", "K7Q2MI", "k7q2mx"} {
		if got, want := IsToken(s), s == "k7q2mx"; got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCompose(t *testing.T) {
	s, err := NewScript("outage-zh", "zh", P1, "{{.Region}} 的直播流中断", "您好 {{.Vendor}}，\n当地时间 {{.LocalTime.Format \"15:04\"}} 起无法推流。\n", map[string]string{"Region": "华东"})
	if err != nil {
		t.Fatal(err)
	}
	v := Vendor{Name: "lotus-ops", To: []string{"support@lotus.example"},
		Hours: MustBusinessHours(HoursSpec{Zone: "Asia/Shanghai"})}
	c := Composition{From: mail.Address{Name: "Lin Wei", Address: "lin.wei@example.com"}, PlusAddressing: true,
		Key: []byte("k"), Now: time.Date(2026, 11, 29, 19, 2, 0, 0, time.UTC)}
	in, err := Compose(Probe{ID: "P3", Token: "K7Q2MX"}, s, v, c)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"subject", in.Subject, "华东 的直播流中断"},
		{"reply-to", in.ReplyTo, `"Lin Wei" <lin.wei+K7Q2MX@example.com>`},
		{"from", in.From, `"Lin Wei" <lin.wei@example.com>`},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.name, ck.got, ck.want)
		}
	}
	if !strings.Contains(in.Body, "03:02 起") {
		t.Errorf("body does not use the vendor's local time (03:02 in Shanghai):\n%s", in.Body)
	}
	if !strings.HasSuffix(in.Body, "起无法推流。\n\nRef: K7Q2MX\n") {
		t.Errorf("body lacks the footer with the reference code:\n%s", in.Body)
	}
	quoting, _ := NewScript("quotes", "en", P1, "s", "Thanks,\nLin\n(our ref {{.Token}})", nil)
	if in, _ := Compose(Probe{ID: "P3", Token: "K7Q2MX"}, quoting, v, c); strings.Count(in.Body, "K7Q2MX") != 1 {
		t.Errorf("a body that quotes the token got a second one:\n%s", in.Body)
	}
	if !IsOurMessageID(c.Key, in.MessageID, "P3") {
		t.Errorf("MessageID %q does not verify", in.MessageID)
	}
	c.PlusAddressing = false
	if in, _ := Compose(Probe{ID: "P3", Token: "K7Q2MX"}, s, v, c); in.ReplyTo != "" {
		t.Errorf("ReplyTo without plus addressing = %q, want none", in.ReplyTo)
	}
	if _, err := Compose(Probe{}, s, v, c); err == nil {
		t.Error("Compose(probe without ID) succeeded")
	}
}
