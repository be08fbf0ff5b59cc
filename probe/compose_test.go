package probe

import (
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestMessageIDRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	at := time.Date(2026, 11, 29, 11, 0, 3, 0, time.UTC)
	id := NewMessageID(key, "P17", "K7Q2MX", "example.com", at)
	if want := "20261129T110003.p17.k7q2mx."; !strings.HasPrefix(id, want) || !strings.HasSuffix(id, "@example.com") {
		t.Fatalf("NewMessageID = %q, want %q…@example.com", id, want)
	}
	tests := []struct {
		name   string
		id     string
		key    []byte
		wantOK bool
	}{
		{"as made", id, key, true},
		{"brackets and upper case", "<" + strings.ToUpper(id) + ">", key, true},
		{"other key", id, []byte("another key"), false},
		{"tampered probe id", strings.Replace(id, ".p17.", ".p18.", 1), key, false},
		{"tampered token", strings.Replace(id, ".k7q2mx.", ".k7q2my.", 1), key, false},
		{"not ours", "CAF=abc123@mail.gmail.com", key, false},
		{"no domain", "a.b.c.d", key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probeID, token, ok := VerifyMessageID(tt.key, tt.id)
			if ok != tt.wantOK {
				t.Fatalf("VerifyMessageID(%q) ok = %v, want %v", tt.id, ok, tt.wantOK)
			}
			if ok && (probeID != "P17" || token != "K7Q2MX") {
				t.Errorf("VerifyMessageID = %q, %q; want P17, K7Q2MX", probeID, token)
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
	if _, _, ok := VerifyMessageID(c.Key, in.MessageID); !ok {
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
