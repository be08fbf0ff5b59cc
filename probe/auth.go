package probe

import (
	"fmt"
	"strings"
	"time"
)

// DKIMResult is the outcome of checking one DKIM signature, in the words of RFC 8601.
type DKIMResult string

// The DKIM results a reply can carry.
const (
	// DKIMPass: the signature verified against the key published in DNS when checked.
	DKIMPass DKIMResult = "pass"
	// DKIMFail: the signature did not verify (the body or a signed header changed in
	// transit, or the signature does not match the key).
	DKIMFail DKIMResult = "fail"
	// DKIMNone: the reply carries no DKIM signature.
	DKIMNone DKIMResult = "none"
	// DKIMTempError: the key could not be fetched for a reason that may pass (a DNS
	// timeout or server failure); the check is retried later.
	DKIMTempError DKIMResult = "temperror"
	// DKIMPermError: the signature cannot be checked at all (malformed, no key
	// published, unsupported algorithm).
	DKIMPermError DKIMResult = "permerror"
)

// Auth is what was known about a reply's authenticity when it was checked: the result of
// each DKIM signature, whether a passing one was made by the vendor's own domain, and
// the receiving server's Authentication-Results header. It is checked at receipt
// because DKIM keys are rotated and withdrawn: a signature that verifies today may have
// no key to verify against next year.
type Auth struct {
	// CheckedAt is when the signatures were last checked, on our clock.
	CheckedAt time.Time `json:"checked_at"`
	// Signatures holds one entry per DKIM-Signature header, top to bottom; empty when
	// the reply is unsigned.
	Signatures []Signature `json:"signatures"`
	// VendorDomains are the domains alignment was judged against: the vendor's
	// configured domains and the domains of its support addresses.
	VendorDomains []string `json:"vendor_domains,omitempty"`
	// AuthenticationResults is the topmost Authentication-Results header, the one our
	// receiving server adds, unfolded and as written; "" when there is none. Lower
	// ones may have been written by anyone on the way and are not kept.
	AuthenticationResults string `json:"authentication_results,omitempty"`
	// Attempts counts the checks made; more than one when a lookup failed
	// temporarily and the background pass retried it.
	Attempts int `json:"attempts"`
}

// Signature is the check of one DKIM signature.
type Signature struct {
	// Domain and Selector are the signature's d= and s= tags: the key was looked up at
	// Selector._domainkey.Domain.
	Domain   string     `json:"domain"`
	Selector string     `json:"selector"`
	Result   DKIMResult `json:"result"`
	// Reason says why a signature did not pass, as the verifier put it.
	Reason string `json:"reason,omitempty"`
	// Aligned is true when Domain is one of the vendor's domains or a parent or
	// subdomain of one (relaxed alignment, as DMARC's without the public suffix list).
	Aligned bool `json:"aligned"`
}

// Aligned reports whether domain is, or is a parent or subdomain of, one of the
// vendor's domains, ignoring case and a trailing dot. A bare top-level domain aligns
// with nothing.
func Aligned(domain string, vendorDomains []string) bool {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	if d == "" || !strings.Contains(d, ".") {
		return false
	}
	for _, v := range vendorDomains {
		v = strings.ToLower(strings.TrimSuffix(v, "."))
		if v == "" || !strings.Contains(v, ".") {
			continue
		}
		if d == v || strings.HasSuffix(d, "."+v) || strings.HasSuffix(v, "."+d) {
			return true
		}
	}
	return false
}

// Result is the reply's overall DKIM result: pass when any signature passed, else
// temperror when any is waiting for a retry, else fail, else permerror, else none.
func (a *Auth) Result() DKIMResult {
	if a == nil {
		return ""
	}
	for _, want := range []DKIMResult{DKIMPass, DKIMTempError, DKIMFail, DKIMPermError} {
		for _, s := range a.Signatures {
			if s.Result == want {
				return want
			}
		}
	}
	return DKIMNone
}

// NeedsRetry reports whether some signature's key lookup failed temporarily, so the
// check should be made again.
func (a *Auth) NeedsRetry() bool { return a != nil && a.Result() == DKIMTempError }

// VendorSigned reports whether a signature by one of the vendor's domains passed: the
// strongest evidence that the vendor sent the reply.
func (a *Auth) VendorSigned() bool {
	if a == nil {
		return false
	}
	for _, s := range a.Signatures {
		if s.Result == DKIMPass && s.Aligned {
			return true
		}
	}
	return false
}

// Summary says the result in one line: "DKIM pass, d=acme.example",
// "DKIM pass, d=desk.example (not the vendor's domain)", "DKIM fail, d=acme.example: body
// hash did not verify", "DKIM none (unsigned)", "DKIM temperror, d=acme.example: …;
// retried later", or "DKIM not checked" for a reply recorded before checks were made.
func (a *Auth) Summary() string {
	if a == nil {
		return "DKIM not checked"
	}
	r := a.Result()
	if r == DKIMNone {
		return "DKIM none (unsigned)"
	}
	// The signature shown is the best of those with the overall result: aligned first.
	var best *Signature
	for i := range a.Signatures {
		s := &a.Signatures[i]
		if s.Result == r && (best == nil || s.Aligned && !best.Aligned) {
			best = s
		}
	}
	out := fmt.Sprintf("DKIM %s, d=%s", r, best.Domain)
	if !best.Aligned {
		out += " (not the vendor's domain)"
	}
	if best.Reason != "" {
		out += ": " + best.Reason
	}
	if r == DKIMTempError {
		out += "; retried later"
	}
	if n := len(a.Signatures); n > 1 {
		out += fmt.Sprintf(" [%d signatures]", n)
	}
	return out
}
