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

// MaxFollowupIndex bounds the follow-up numbers IsOurMessageID tries: a probe's
// follow-ups are numbered from 1 and a script has a handful.
const MaxFollowupIndex = 64

// NewMessageID returns our Message-ID for a probe, without angle brackets, shaped like
// the random UUID at the sender's domain that Thunderbird writes
// ("3f0c9a52-6d1e-4b7a-9c2e-8a41f0d3b6e5@example.com"), so nothing in it gives the
// probe away. It is an HMAC of the probe's ID, keyed with a secret kept in the
// database: opaque to the vendor, deterministic for us (a retried send keeps its
// Message-ID), and checkable by IsOurMessageID.
func NewMessageID(key []byte, probeID, domain string) string {
	return messageID(key, probeID, 0) + "@" + domain
}

// NewFollowupMessageID returns the Message-ID of p's n-th follow-up (n from 1): like
// NewMessageID, and as opaque, but different for each follow-up.
func NewFollowupMessageID(key []byte, probeID, domain string, n int) string {
	return messageID(key, probeID, n) + "@" + domain
}

// messageID is the UUID-shaped local part for probe probeID's follow-up n (0 for the
// inquiry): 16 bytes of HMAC-SHA256 with a version-4 UUID's version and variant bits.
func messageID(key []byte, probeID string, n int) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "supportprobe message-id\x00%s\x00%d", strings.ToUpper(probeID), n)
	b := m.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// IsOurMessageID reports whether id (brackets and case tolerated) is a Message-ID we
// made with key for probe probeID: its inquiry's or one of its follow-ups'. IDs in the
// form of earlier versions ("<time>.<probe>.<token>.<hmac>@domain") are recognised too,
// so replies to probes sent before the change still match on rung 1.
func IsOurMessageID(key []byte, id, probeID string) bool {
	id = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">"))
	local, _, found := strings.Cut(id, "@")
	if !found || len(key) == 0 || probeID == "" {
		return false
	}
	if len(local) == 36 {
		for n := 0; n <= MaxFollowupIndex; n++ {
			if hmac.Equal([]byte(local), []byte(messageID(key, probeID, n))) {
				return true
			}
		}
		return false
	}
	p, _, ok := verifyLegacyMessageID(key, local)
	return ok && strings.EqualFold(p, probeID)
}

// verifyLegacyMessageID checks the local part of a Message-ID of the form earlier
// versions wrote, "<utc-time>[-f<n>].<probe id>.<token>.<hmac>", and returns the probe
// ID and token it names.
func verifyLegacyMessageID(key []byte, local string) (probeID, token string, ok bool) {
	parts := strings.Split(local, ".")
	if len(parts) != 4 {
		return "", "", false
	}
	probeID, token = strings.ToUpper(parts[1]), strings.ToUpper(parts[2])
	m := hmac.New(sha256.New, key)
	m.Write([]byte(strings.ToLower(probeID) + "." + token))
	want := hex.EncodeToString(m.Sum(nil))[:16]
	if !hmac.Equal([]byte(parts[3]), []byte(want)) {
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
		MessageID: NewMessageID(c.Key, p.ID, domain),
		Date:      c.Now,
	}
	if c.PlusAddressing {
		in.ReplyTo = (&mail.Address{Name: c.From.Name, Address: PlusAddress(c.From.Address, p.Token)}).String()
	}
	return in, nil
}
