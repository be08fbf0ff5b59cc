package probe

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// tokenAlphabet is Crockford's base32 without the letters people misread (I, L, O, U):
// a token survives being read aloud, retyped, or quoted by a help desk in any case.
const tokenAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// TokenLength is the length of a probe token: 32^6 ≈ 10^9 values, so a random token
// found in a vendor's mail is ours and no other probe's.
const TokenLength = 6

// NewToken returns a random probe token.
func NewToken() string {
	b := make([]byte, TokenLength)
	rand.Read(b) // crypto/rand.Read never fails on Linux
	for i := range b {
		b[i] = tokenAlphabet[int(b[i])%len(tokenAlphabet)]
	}
	return string(b)
}

// IsToken reports whether s has the form of a probe token (case-insensitive).
func IsToken(s string) bool {
	if len(s) != TokenLength {
		return false
	}
	for _, c := range strings.ToUpper(s) {
		if !strings.ContainsRune(tokenAlphabet, c) {
			return false
		}
	}
	return true
}

// messageIDMAC returns the HMAC that ties a Message-ID to its probe, hex, 16 digits.
func messageIDMAC(key []byte, probeID, token string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(probeID) + "." + strings.ToUpper(token)))
	return hex.EncodeToString(m.Sum(nil))[:16]
}

// NewMessageID returns our Message-ID for a probe, without angle brackets:
// "<utc-time>.<probe id>.<token>.<hmac>@<domain>". The HMAC, keyed with a secret kept in
// the database, lets VerifyMessageID tell our IDs from look-alikes in a reply's
// references.
func NewMessageID(key []byte, probeID, token, domain string, t time.Time) string {
	return fmt.Sprintf("%s.%s.%s.%s@%s", t.UTC().Format("20060102T150405"), strings.ToLower(probeID),
		strings.ToLower(token), messageIDMAC(key, probeID, token), domain)
}

// VerifyMessageID reports whether id (brackets and case tolerated) is a Message-ID made
// by NewMessageID with key, and returns the probe ID and token it names.
func VerifyMessageID(key []byte, id string) (probeID, token string, ok bool) {
	id = strings.TrimSpace(id)
	id = strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
	local, _, found := strings.Cut(id, "@")
	if !found {
		return "", "", false
	}
	parts := strings.Split(local, ".")
	if len(parts) != 4 {
		return "", "", false
	}
	probeID, token = strings.ToUpper(parts[1]), strings.ToUpper(parts[2])
	want := messageIDMAC(key, probeID, token)
	if !hmac.Equal([]byte(strings.ToLower(parts[3])), []byte(want)) {
		return "", "", false
	}
	return probeID, token, true
}

// PlusAddress returns addr with "+token" added to its local part.
func PlusAddress(addr, token string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	return local + "+" + token + "@" + domain
}

// Composition is everything Compose needs besides the probe.
type Composition struct {
	// From is the configured person.
	From mail.Address
	// PlusAddressing sets Reply-To to From's address plus the token.
	PlusAddressing bool
	// Key is the database's Message-ID secret.
	Key []byte
	// Now is the send time: it fills {{.LocalTime}} and the Date header.
	Now time.Time
}

// Compose renders script for probe p (which must have its ID and Token) to vendor v.
// When the script's body does not quote the token itself ({{.Token}}), a footer line
// "Ref: TOKEN" is appended: a reference code at the end of the body survives quoting and
// ticket systems that rewrite subjects.
func Compose(p Probe, s Script, v Vendor, c Composition) (Inquiry, error) {
	if p.ID == "" || p.Token == "" {
		return Inquiry{}, fmt.Errorf("compose probe for vendor %s: the probe has no ID or token yet", v.Name)
	}
	subject, body, err := s.Render(Fields{Vendor: v.Name, Token: p.Token, LocalTime: c.Now.In(v.Hours.Location())})
	if err != nil {
		return Inquiry{}, fmt.Errorf("probe %s: script %s: %w", p.ID, s.ID, err)
	}
	body = strings.TrimRight(body, "\n") + "\n"
	if !strings.Contains(body, p.Token) {
		body += "\nRef: " + p.Token + "\n"
	}
	_, domain, _ := strings.Cut(c.From.Address, "@")
	in := Inquiry{
		From:      c.From.String(),
		To:        v.To,
		Subject:   subject,
		Body:      body,
		MessageID: NewMessageID(c.Key, p.ID, p.Token, domain, c.Now),
		Date:      c.Now,
	}
	if c.PlusAddressing {
		in.ReplyTo = (&mail.Address{Name: c.From.Name, Address: PlusAddress(c.From.Address, p.Token)}).String()
	}
	return in, nil
}
